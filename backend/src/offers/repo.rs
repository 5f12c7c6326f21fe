use chrono::{DateTime, Utc};
use domain::api::scheduling::{OfferStatus, OfferView};
use domain::{OfferId, OrderId, OrgId, UserId};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// Offers the order to these technicians; one who already had an offer for it is not asked again.
pub async fn insert(
    conn: &mut PgConnection,
    org: OrgId,
    order: OrderId,
    technicians: &[Uuid],
    expires_at: DateTime<Utc>,
) -> sqlx::Result<Vec<OfferId>> {
    let ids: Vec<Uuid> = technicians.iter().map(|_| OfferId::new_v7().0).collect();
    sqlx::query_scalar!(
        r#"INSERT INTO order_offers (id, org_id, order_id, technician_id, expires_at)
           SELECT id, $1, $2, technician_id, $5 FROM unnest($3::uuid[], $4::uuid[]) AS t (id, technician_id)
           ON CONFLICT (order_id, technician_id) DO NOTHING
           RETURNING id AS "id: OfferId""#,
        org.0,
        order.0,
        &ids,
        technicians,
        expires_at,
    )
    .fetch_all(conn)
    .await
}

/// Which offers to read: one technician's, one order's, or by id.
#[derive(Debug, Default)]
pub struct OfferFilter {
    pub id: Option<OfferId>,
    pub technician: Option<UserId>,
    pub order: Option<OrderId>,
    pub status: Option<OfferStatus>,
    /// Keyset, newest first.
    pub before: Option<Uuid>,
    pub limit: i64,
}

pub async fn select(db: impl PgExecutor<'_>, org: OrgId, filter: &OfferFilter) -> sqlx::Result<Vec<OfferView>> {
    sqlx::query_as!(
        OfferView,
        r#"SELECT f.id AS "id: OfferId", f.order_id AS "order_id: OrderId", o.number AS order_number,
                  o.title AS order_title, f.technician_id AS "technician_id: UserId", f.status AS "status: OfferStatus",
                  f.created_at, f.expires_at, f.answered_at
           FROM order_offers f JOIN orders o ON o.org_id = f.org_id AND o.id = f.order_id
           WHERE f.org_id = $1
             AND ($2::uuid IS NULL OR f.id = $2)
             AND ($3::uuid IS NULL OR f.technician_id = $3)
             AND ($4::uuid IS NULL OR f.order_id = $4)
             AND ($5::offer_status IS NULL OR f.status = $5)
             AND ($6::uuid IS NULL OR f.id < $6)
           ORDER BY f.id DESC
           LIMIT $7"#,
        org.0,
        filter.id.map(|id| id.0),
        filter.technician.map(|id| id.0),
        filter.order.map(|id| id.0),
        filter.status as Option<OfferStatus>,
        filter.before,
        filter.limit,
    )
    .fetch_all(db)
    .await
}

/// Everyone the order has been offered to, whatever they answered.
pub async fn offered_to(conn: &mut PgConnection, order: OrderId) -> sqlx::Result<Vec<UserId>> {
    sqlx::query_scalar!(
        r#"SELECT technician_id AS "technician_id: UserId" FROM order_offers WHERE order_id = $1"#,
        order.0
    )
    .fetch_all(conn)
    .await
}

/// Answers a pending offer; false when it was no longer pending.
pub async fn answer(conn: &mut PgConnection, id: OfferId, status: OfferStatus) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE order_offers SET status = $2, answered_at = now() WHERE id = $1 AND status = 'pending'",
        id.0,
        status as OfferStatus,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Withdraws every other pending offer of the order.
pub async fn withdraw_others(conn: &mut PgConnection, order: OrderId, except: Option<OfferId>) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE order_offers SET status = 'withdrawn', answered_at = now()
         WHERE order_id = $1 AND status = 'pending' AND id IS DISTINCT FROM $2",
        order.0,
        except.map(|id| id.0),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records that the technician turned the order down, so auto-dispatch does not offer it to them again.
pub async fn record_decline(
    conn: &mut PgConnection,
    org: OrgId,
    order: OrderId,
    technician: UserId,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO order_offers (id, org_id, order_id, technician_id, status, expires_at, answered_at)
         VALUES ($1, $2, $3, $4, 'declined', now(), now())
         ON CONFLICT (order_id, technician_id) DO UPDATE SET status = 'declined', answered_at = now()",
        OfferId::new_v7().0,
        org.0,
        order.0,
        technician.0,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Expires every pending offer past its time; answers each order left with no open offer and no
/// taker, with its organization, once.
pub async fn expire_due(conn: &mut PgConnection, now: DateTime<Utc>) -> sqlx::Result<Vec<(OrgId, OrderId)>> {
    let rows = sqlx::query!(
        r#"WITH expired AS (
               UPDATE order_offers SET status = 'expired', answered_at = $1
               WHERE status = 'pending' AND expires_at <= $1
               RETURNING org_id, order_id
           )
           SELECT DISTINCT e.org_id AS "org_id!: OrgId", e.order_id AS "order_id!: OrderId" FROM expired e
           WHERE NOT EXISTS (SELECT 1 FROM order_offers f WHERE f.order_id = e.order_id
                             AND (f.status = 'accepted' OR (f.status = 'pending' AND f.expires_at > $1)))"#,
        now,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.org_id, r.order_id)).collect())
}
