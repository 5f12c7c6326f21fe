//! SQL of the browsers people subscribed to web push.

use domain::api::push::{MAX_SUBSCRIPTIONS_PER_USER, NewPushSubscription, PushSubscriptionView};
use domain::{OrgId, PushSubscriptionId, UserId};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// A subscription as sending needs it.
#[derive(Debug, Clone)]
pub struct Browser {
    pub id: PushSubscriptionId,
    pub endpoint: String,
    pub p256dh: Vec<u8>,
    pub auth: Vec<u8>,
}

/// Stores a subscription, or refreshes the keys of the same endpoint, takes the endpoint from any
/// other person who subscribed it, and forgets the user's browsers heard from least recently
/// beyond the cap. Answers the stored row's id, and whether it is new (`xmax` is 0 for a row this
/// statement inserted, not updated).
pub async fn upsert(
    conn: &mut PgConnection,
    org: OrgId,
    user: UserId,
    subscription: &NewPushSubscription,
    user_agent: Option<&str>,
) -> sqlx::Result<(PushSubscriptionId, bool)> {
    // One subscribe at a time per person, so the cap holds when two browsers subscribe at once.
    sqlx::query!("SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE", user.0).fetch_optional(&mut *conn).await?;
    // An endpoint is one browser: whoever signed in on it before no longer hears through it.
    sqlx::query!(
        "DELETE FROM push_subscriptions WHERE endpoint = $1 AND user_id <> $2",
        subscription.endpoint.as_str(),
        user.0
    )
    .execute(&mut *conn)
    .await?;
    let stored = sqlx::query!(
        r#"INSERT INTO push_subscriptions (id, org_id, user_id, endpoint, p256dh, auth, user_agent)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (user_id, endpoint) DO UPDATE
               SET p256dh = EXCLUDED.p256dh, auth = EXCLUDED.auth, user_agent = EXCLUDED.user_agent
           RETURNING id AS "id: PushSubscriptionId", (xmax = 0) AS "created!""#,
        PushSubscriptionId::new_v7().0,
        org.0,
        user.0,
        subscription.endpoint.as_str(),
        subscription.p256dh,
        subscription.auth,
        user_agent,
    )
    .fetch_one(&mut *conn)
    .await?;
    let id = stored.id;
    sqlx::query!(
        "DELETE FROM push_subscriptions
         WHERE user_id = $1 AND id <> $2
           AND id NOT IN (SELECT id FROM push_subscriptions WHERE user_id = $1 AND id <> $2
                          ORDER BY greatest(last_success_at, created_at) DESC, id DESC LIMIT $3)",
        user.0,
        id.0,
        i64::try_from(MAX_SUBSCRIPTIONS_PER_USER - 1).unwrap_or(0),
    )
    .execute(&mut *conn)
    .await?;
    Ok((id, stored.created))
}

pub async fn find(
    db: impl PgExecutor<'_>,
    user: UserId,
    id: PushSubscriptionId,
) -> sqlx::Result<Option<PushSubscriptionView>> {
    sqlx::query_as!(
        PushSubscriptionView,
        r#"SELECT id AS "id: PushSubscriptionId", endpoint, user_agent, created_at, last_success_at
           FROM push_subscriptions WHERE user_id = $1 AND id = $2"#,
        user.0,
        id.0,
    )
    .fetch_optional(db)
    .await
}

/// A user's browsers, oldest first, after the cursor.
pub async fn list(
    db: impl PgExecutor<'_>,
    user: UserId,
    after: Option<Uuid>,
    limit: i64,
) -> sqlx::Result<Vec<PushSubscriptionView>> {
    sqlx::query_as!(
        PushSubscriptionView,
        r#"SELECT id AS "id: PushSubscriptionId", endpoint, user_agent, created_at, last_success_at
           FROM push_subscriptions WHERE user_id = $1 AND ($2::uuid IS NULL OR id > $2)
           ORDER BY id LIMIT $3"#,
        user.0,
        after,
        limit,
    )
    .fetch_all(db)
    .await
}

/// Deletes one of the user's subscriptions; false when the user has no such subscription.
pub async fn delete(db: impl PgExecutor<'_>, user: UserId, id: PushSubscriptionId) -> sqlx::Result<bool> {
    let done =
        sqlx::query!("DELETE FROM push_subscriptions WHERE user_id = $1 AND id = $2", user.0, id.0).execute(db).await?;
    Ok(done.rows_affected() > 0)
}

/// Where a message to the user goes: every browser they subscribed.
pub async fn browsers_of(db: impl PgExecutor<'_>, user: UserId) -> sqlx::Result<Vec<Browser>> {
    sqlx::query_as!(
        Browser,
        r#"SELECT id AS "id: PushSubscriptionId", endpoint, p256dh, auth
           FROM push_subscriptions WHERE user_id = $1 ORDER BY id"#,
        user.0
    )
    .fetch_all(db)
    .await
}

/// The push service said the browser is gone (404, 410): it is not sent to again.
pub async fn forget(db: impl PgExecutor<'_>, id: PushSubscriptionId) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM push_subscriptions WHERE id = $1", id.0).execute(db).await?;
    Ok(())
}

pub async fn accepted(db: impl PgExecutor<'_>, id: PushSubscriptionId) -> sqlx::Result<()> {
    sqlx::query!("UPDATE push_subscriptions SET last_success_at = now() WHERE id = $1", id.0).execute(db).await?;
    Ok(())
}
