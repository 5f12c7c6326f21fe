use domain::api::comments::{CommentView, CommentVisibility, NewComment};
use domain::{CommentId, OrderId, OrgId, UserId};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// One order's comments, oldest first, after the keyset `after`.
pub async fn select(
    db: impl PgExecutor<'_>,
    org: OrgId,
    order: OrderId,
    id: Option<CommentId>,
    after: Option<Uuid>,
    limit: i64,
) -> sqlx::Result<Vec<CommentView>> {
    sqlx::query_as!(
        CommentView,
        r#"SELECT id AS "id: CommentId", author_id AS "author_id: UserId", body,
                  visibility AS "visibility: CommentVisibility", created_at
           FROM order_comments
           WHERE org_id = $1 AND order_id = $2
             AND ($3::uuid IS NULL OR id = $3)
             AND ($4::uuid IS NULL OR id > $4)
           ORDER BY id
           LIMIT $5"#,
        org.0,
        order.0,
        id.map(|id| id.0),
        after,
        limit,
    )
    .fetch_all(db)
    .await
}

pub async fn insert(
    conn: &mut PgConnection,
    org: OrgId,
    order: OrderId,
    id: CommentId,
    author: UserId,
    comment: &NewComment,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO order_comments (id, org_id, order_id, author_id, body, visibility)
         VALUES ($1, $2, $3, $4, $5, $6)",
        id.0,
        org.0,
        order.0,
        author.0,
        comment.body,
        comment.visibility as CommentVisibility,
    )
    .execute(conn)
    .await?;
    Ok(())
}
