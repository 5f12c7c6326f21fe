//! SQL of the outbox, the in-app inbox, recipients and their preferences, and message templates.

use super::worded::WordedFor;
use chrono::{DateTime, NaiveTime, Utc};
use domain::api::notifications::NotificationView;
use domain::notifications::Channel;
use domain::{Locale, NotificationId, OrderId, OrgId, UserId};
use sqlx::{PgConnection, PgExecutor};
use std::time::Duration;
use uuid::Uuid;

/// An outbox row taken to the announce queue.
#[derive(Debug, Clone, Copy)]
pub struct Relayed {
    pub event_id: i64,
    pub recorded_at: DateTime<Utc>,
}

/// Takes up to `limit` outbox rows not yet relayed, or relayed more than `grace` ago without their
/// announce job finishing (Redis lost the job, or its worker died), and marks them relayed now. The
/// caller's transaction commits only once the events are in the queue; rows another relay holds are
/// skipped, not waited for. A row leaves the outbox when its announce job is done.
pub async fn take_outbox(conn: &mut PgConnection, grace: Duration, limit: i64) -> sqlx::Result<Vec<Relayed>> {
    sqlx::query_as!(
        Relayed,
        "UPDATE outbox SET relayed_at = now()
         WHERE id IN (SELECT id FROM outbox
                      WHERE relayed_at IS NULL OR relayed_at < now() - make_interval(secs => $1)
                      ORDER BY relayed_at NULLS FIRST, id LIMIT $2 FOR UPDATE SKIP LOCKED)
         RETURNING event_id, created_at AS recorded_at",
        grace.as_secs_f64(),
        limit,
    )
    .fetch_all(conn)
    .await
}

/// How many events are not yet announced, and the age in seconds of the oldest.
pub async fn outbox_backlog(db: impl PgExecutor<'_>) -> sqlx::Result<(i64, f64)> {
    let row = sqlx::query!(
        r#"SELECT count(*) AS "waiting!", COALESCE(EXTRACT(epoch FROM now() - min(created_at))::float8, 0) AS "oldest!"
           FROM outbox"#
    )
    .fetch_one(db)
    .await?;
    Ok((row.waiting, row.oldest))
}

/// An order event as the announce job and the webhook deliveries need it.
#[derive(Debug)]
pub struct AnnouncedEvent {
    pub org_id: OrgId,
    pub order_id: OrderId,
    pub order_number: String,
    pub kind: String,
    pub technician_id: Option<UserId>,
    pub actor_user_id: Option<UserId>,
    pub payload: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

pub async fn event(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<AnnouncedEvent>> {
    sqlx::query_as!(
        AnnouncedEvent,
        r#"SELECT e.org_id AS "org_id: OrgId", e.order_id AS "order_id: OrderId", o.number AS order_number, e.kind,
                  e.technician_id AS "technician_id: UserId", e.actor_user_id AS "actor_user_id: UserId", e.payload,
                  e.created_at
           FROM order_events e JOIN orders o ON o.org_id = e.org_id AND o.id = e.order_id
           WHERE e.id = $1"#,
        id,
    )
    .fetch_optional(db)
    .await
}

/// Who is to be told: the active people of the event's organization in its audience, never its actor.
#[derive(Debug)]
pub struct RecipientQuery<'a> {
    pub org: OrgId,
    pub kind: &'a str,
    pub actor: Option<UserId>,
    pub office: bool,
    pub technician: Option<UserId>,
    pub offered: &'a [Uuid],
    /// People named by whoever sends (a broadcast's technicians, a summary's office), whatever their role.
    pub named: &'a [Uuid],
}

/// A person to tell, with where and when they want to hear about this kind of event.
#[derive(Debug, Clone)]
pub struct Recipient {
    pub id: UserId,
    pub locale: String,
    pub time_zone: String,
    pub telegram_user_id: Option<i64>,
    pub quiet_hours_start: Option<NaiveTime>,
    pub quiet_hours_end: Option<NaiveTime>,
    pub in_app: bool,
    pub telegram: bool,
    pub email: bool,
    /// Wants this kind by web push and has subscribed a browser.
    pub push: bool,
}

pub async fn recipients(db: impl PgExecutor<'_>, query: &RecipientQuery<'_>) -> sqlx::Result<Vec<Recipient>> {
    sqlx::query_as!(
        Recipient,
        r#"SELECT u.id AS "id: UserId", u.locale, u.time_zone, u.telegram_user_id, u.quiet_hours_start,
                  u.quiet_hours_end,
                  COALESCE(bool_or(p.enabled) FILTER (WHERE p.channel = 'in_app'), $7) AS "in_app!",
                  COALESCE(bool_or(p.enabled) FILTER (WHERE p.channel = 'telegram'), $8) AS "telegram!",
                  COALESCE(bool_or(p.enabled) FILTER (WHERE p.channel = 'email'), $9) AS "email!",
                  COALESCE(bool_or(p.enabled) FILTER (WHERE p.channel = 'push'), $11)
                      AND EXISTS (SELECT 1 FROM push_subscriptions s WHERE s.user_id = u.id) AS "push!"
           FROM users u LEFT JOIN notification_preferences p ON p.user_id = u.id AND p.kind = $6
           WHERE u.org_id = $1 AND u.status = 'active' AND u.id IS DISTINCT FROM $2
             AND (($3 AND u.role IN ('admin', 'dispatcher'))
                  OR (u.role = 'technician' AND (u.id = $4 OR u.id = ANY($5))) OR u.id = ANY($10))
           GROUP BY u.id
           ORDER BY u.id"#,
        query.org.0,
        query.actor.map(|id| id.0),
        query.office,
        query.technician.map(|id| id.0),
        query.offered,
        query.kind,
        Channel::InApp.on_by_default(),
        Channel::Telegram.on_by_default(),
        Channel::Email.on_by_default(),
        query.named,
        Channel::Push.on_by_default(),
    )
    .fetch_all(db)
    .await
}

/// The address of the event's customer and the organization's language, unless the customer has no
/// email or unsubscribed from this kind.
pub async fn customer_address(db: impl PgExecutor<'_>, event_id: i64) -> sqlx::Result<Option<(String, String)>> {
    let row = sqlx::query!(
        r#"SELECT c.email AS "email!", org.locale
           FROM order_events e
           JOIN orders o ON o.org_id = e.org_id AND o.id = e.order_id
           JOIN customers c ON c.org_id = o.org_id AND c.id = o.customer_id
           JOIN organizations org ON org.id = e.org_id
           WHERE e.id = $1 AND c.email IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM email_unsubscribes x WHERE x.org_id = e.org_id AND x.email = c.email
                                                                AND x.kind = e.kind)"#,
        event_id
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|row| (row.email, row.locale)))
}

/// Where a user is reached at send time, and whether they still want this kind on this channel.
#[derive(Debug, Clone)]
pub struct UserAddress {
    pub email: String,
    pub time_zone: String,
    pub telegram_user_id: Option<i64>,
    pub active: bool,
    pub wants: bool,
}

pub async fn user_address(
    db: impl PgExecutor<'_>,
    user: UserId,
    kind: &str,
    channel: Channel,
) -> sqlx::Result<Option<UserAddress>> {
    sqlx::query_as!(
        UserAddress,
        r#"SELECT u.email, u.time_zone, u.telegram_user_id, u.status = 'active' AS "active!",
                  COALESCE((SELECT enabled FROM notification_preferences p
                            WHERE p.user_id = u.id AND p.kind = $2 AND p.channel = $3), $4) AS "wants!"
           FROM users u WHERE u.id = $1"#,
        user.0,
        kind,
        channel.as_str(),
        channel.on_by_default(),
    )
    .fetch_optional(db)
    .await
}

/// Whether a customer's address unsubscribed from this kind.
pub async fn customer_unsubscribed(db: impl PgExecutor<'_>, org: OrgId, email: &str, kind: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM email_unsubscribes WHERE org_id = $1 AND email = $2 AND kind = $3) AS "x!""#,
        org.0,
        email,
        kind,
    )
    .fetch_one(db)
    .await
}

/// Turns one kind off for one address: a user's email preference, or a customer's unsubscribe.
pub async fn unsubscribe(
    db: impl PgExecutor<'_>,
    org: OrgId,
    user: Option<UserId>,
    email: Option<&str>,
    kind: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "WITH staff AS (
             INSERT INTO notification_preferences (user_id, org_id, kind, channel, enabled)
             SELECT $2, $1, $4, 'email', false WHERE $2::uuid IS NOT NULL
             ON CONFLICT (user_id, kind, channel) DO UPDATE SET enabled = false
         )
         INSERT INTO email_unsubscribes (org_id, email, kind)
         SELECT $1, $3, $4 WHERE $3::text IS NOT NULL
         ON CONFLICT DO NOTHING",
        org.0,
        user.map(|u| u.0),
        email,
        kind,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The facts a message about an event states, before they are worded.
#[derive(Debug, Clone)]
pub struct EventFacts {
    pub org: String,
    pub org_time_zone: String,
    pub order_id: OrderId,
    pub order_number: String,
    pub order_title: String,
    pub status: String,
    pub scheduled_start: Option<DateTime<Utc>>,
    pub scheduled_end: Option<DateTime<Utc>>,
    pub tracking_token: String,
    pub technician: Option<String>,
    pub actor: Option<String>,
    pub customer: String,
    pub reason: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

pub async fn event_facts(db: impl PgExecutor<'_>, event_id: i64) -> sqlx::Result<Option<EventFacts>> {
    sqlx::query_as!(
        EventFacts,
        r#"SELECT org.name AS org, org.time_zone AS org_time_zone, o.id AS "order_id: OrderId", o.number AS order_number, o.title AS order_title,
                  o.status::text AS "status!", o.scheduled_start, o.scheduled_end, o.tracking_token,
                  t.full_name AS "technician?", a.full_name AS "actor?", c.name AS customer,
                  e.payload->>'reason' AS reason, e.created_at AS recorded_at
           FROM order_events e
           JOIN organizations org ON org.id = e.org_id
           JOIN orders o ON o.org_id = e.org_id AND o.id = e.order_id
           JOIN customers c ON c.org_id = o.org_id AND c.id = o.customer_id
           LEFT JOIN users t ON t.id = e.technician_id
           LEFT JOIN users a ON a.id = e.actor_user_id
           WHERE e.id = $1"#,
        event_id
    )
    .fetch_optional(db)
    .await
}

/// An organization's own templates of one kind, in every language it wrote.
pub async fn custom_templates(db: impl PgExecutor<'_>, org: OrgId, kind: &str) -> sqlx::Result<Vec<CustomTemplate>> {
    sqlx::query_as!(
        CustomTemplate,
        "SELECT kind, locale, subject, body FROM notification_templates WHERE org_id = $1 AND kind = $2",
        org.0,
        kind
    )
    .fetch_all(db)
    .await
}

/// Every template the organization wrote.
pub async fn all_custom_templates(db: impl PgExecutor<'_>, org: OrgId) -> sqlx::Result<Vec<CustomTemplate>> {
    sqlx::query_as!(
        CustomTemplate,
        "SELECT kind, locale, subject, body FROM notification_templates WHERE org_id = $1 ORDER BY kind, locale",
        org.0
    )
    .fetch_all(db)
    .await
}

#[derive(Debug, Clone)]
pub struct CustomTemplate {
    pub kind: String,
    pub locale: String,
    pub subject: String,
    pub body: String,
}

pub async fn put_template(db: impl PgExecutor<'_>, org: OrgId, template: &CustomTemplate) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO notification_templates (org_id, kind, locale, subject, body) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (org_id, kind, locale) DO UPDATE SET subject = $4, body = $5, updated_at = now()",
        org.0,
        template.kind,
        template.locale,
        template.subject,
        template.body,
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn delete_template(db: impl PgExecutor<'_>, org: OrgId, kind: &str, locale: &str) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "DELETE FROM notification_templates WHERE org_id = $1 AND kind = $2 AND locale = $3",
        org.0,
        kind,
        locale
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// A person's stored choices (kinds and channels without a row follow the defaults).
pub async fn preferences(db: impl PgExecutor<'_>, user: UserId) -> sqlx::Result<Vec<(String, String, bool)>> {
    let rows = sqlx::query!("SELECT kind, channel, enabled FROM notification_preferences WHERE user_id = $1", user.0)
        .fetch_all(db)
        .await?;
    Ok(rows.into_iter().map(|row| (row.kind, row.channel, row.enabled)).collect())
}

pub async fn quiet_hours(
    db: impl PgExecutor<'_>,
    user: UserId,
) -> sqlx::Result<(Option<NaiveTime>, Option<NaiveTime>)> {
    let row = sqlx::query!("SELECT quiet_hours_start, quiet_hours_end FROM users WHERE id = $1", user.0)
        .fetch_one(db)
        .await?;
    Ok((row.quiet_hours_start, row.quiet_hours_end))
}

pub async fn set_quiet_hours(
    db: impl PgExecutor<'_>,
    user: UserId,
    hours: Option<(NaiveTime, NaiveTime)>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE users SET quiet_hours_start = $2, quiet_hours_end = $3, updated_at = now() WHERE id = $1",
        user.0,
        hours.map(|h| h.0),
        hours.map(|h| h.1),
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn set_preferences(
    db: impl PgExecutor<'_>,
    org: OrgId,
    user: UserId,
    kinds: &[&str],
    channels: &[&str],
    enabled: &[bool],
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO notification_preferences (user_id, org_id, kind, channel, enabled)
         SELECT $1, $2, p.kind, p.channel, p.enabled FROM UNNEST($3::text[], $4::text[], $5::bool[]) AS p(kind, channel, enabled)
         ON CONFLICT (user_id, kind, channel) DO UPDATE SET enabled = EXCLUDED.enabled",
        user.0,
        org.0,
        kinds as &[&str],
        channels as &[&str],
        enabled,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The announce job of this event is done: its outbox row goes.
pub async fn finish_outbox(db: impl PgExecutor<'_>, event_id: i64) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM outbox WHERE event_id = $1", event_id).execute(db).await?;
    Ok(())
}

/// Puts the event in each recipient's inbox once, however often the job runs.
pub async fn store_in_app(db: impl PgExecutor<'_>, org: OrgId, event: i64, users: &[UserId]) -> sqlx::Result<u64> {
    let ids: Vec<Uuid> = users.iter().map(|_| Uuid::now_v7()).collect();
    let users: Vec<Uuid> = users.iter().map(|user| user.0).collect();
    let done = sqlx::query!(
        "INSERT INTO notifications (id, org_id, user_id, event_id)
         SELECT id, $1, user_id, $2 FROM UNNEST($3::uuid[], $4::uuid[]) AS u(id, user_id)
         ON CONFLICT (event_id, user_id) DO NOTHING",
        org.0,
        event,
        &ids,
        &users,
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// Puts a worded message in its readers' inboxes, once per (source, reader).
pub async fn store_worded_in_app(
    db: impl PgExecutor<'_>,
    org: OrgId,
    source: &str,
    kind: &str,
    to: &[&WordedFor],
) -> sqlx::Result<u64> {
    let ids: Vec<Uuid> = to.iter().map(|_| Uuid::now_v7()).collect();
    let users: Vec<Uuid> = to.iter().map(|w| w.user.0).collect();
    let subjects: Vec<&str> = to.iter().map(|w| w.message.subject.as_str()).collect();
    let bodies: Vec<&str> = to.iter().map(|w| w.message.body.as_str()).collect();
    let links: Vec<Option<&str>> = to.iter().map(|w| w.message.link.as_deref()).collect();
    let done = sqlx::query!(
        "INSERT INTO notifications (id, org_id, user_id, source, kind, subject, body, link)
         SELECT id, $1, user_id, $2, $3, subject, body, link
         FROM UNNEST($4::uuid[], $5::uuid[], $6::text[], $7::text[], $8::text[]) AS u(id, user_id, subject, body, link)
         ON CONFLICT (source, user_id) DO NOTHING",
        org.0,
        source,
        kind,
        &ids,
        &users,
        &subjects as &[&str],
        &bodies as &[&str],
        &links as &[Option<&str>],
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// A user's inbox, newest first, before the cursor.
pub async fn inbox(
    db: impl PgExecutor<'_>,
    user: UserId,
    unread_only: bool,
    before: Option<Uuid>,
    limit: i64,
) -> sqlx::Result<Vec<NotificationView>> {
    sqlx::query_as!(
        NotificationView,
        r#"SELECT n.id AS "id: NotificationId", COALESCE(e.kind, n.kind) AS "kind!",
                  e.order_id AS "order_id?: OrderId", o.number AS "order_number?", o.title AS "order_title?",
                  e.actor_user_id AS "actor_user_id: UserId", n.subject, n.body, n.link, n.created_at, n.read_at
           FROM notifications n
           LEFT JOIN order_events e ON e.id = n.event_id
           LEFT JOIN orders o ON o.org_id = e.org_id AND o.id = e.order_id
           WHERE n.user_id = $1 AND (NOT $2 OR n.read_at IS NULL) AND ($3::uuid IS NULL OR n.id < $3)
           ORDER BY n.id DESC
           LIMIT $4"#,
        user.0,
        unread_only,
        before,
        limit,
    )
    .fetch_all(db)
    .await
}

pub async fn unread_count(db: impl PgExecutor<'_>, user: UserId) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM notifications WHERE user_id = $1 AND read_at IS NULL"#,
        user.0
    )
    .fetch_one(db)
    .await
}

/// Marks one of the user's notifications read; false when the user has no such notification.
pub async fn mark_read(db: impl PgExecutor<'_>, user: UserId, id: NotificationId) -> sqlx::Result<bool> {
    let found = sqlx::query_scalar!(
        "UPDATE notifications SET read_at = COALESCE(read_at, now()) WHERE id = $1 AND user_id = $2 RETURNING id",
        id.0,
        user.0,
    )
    .fetch_optional(db)
    .await?;
    Ok(found.is_some())
}

/// Marks all of the user's notifications read; answers how many were unread.
pub async fn mark_all_read(db: impl PgExecutor<'_>, user: UserId) -> sqlx::Result<u64> {
    let done = sqlx::query!("UPDATE notifications SET read_at = now() WHERE user_id = $1 AND read_at IS NULL", user.0)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

/// The id of the order's latest event, if the order is the organization's and has one.
pub async fn latest_event_of_order(db: impl PgExecutor<'_>, org: OrgId, order: OrderId) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar!("SELECT max(id) FROM order_events WHERE org_id = $1 AND order_id = $2", org.0, order.0)
        .fetch_one(db)
        .await
}

/// What an email delivery's unsubscribe link turns off: the organization, address and kind.
#[derive(Debug)]
pub struct EmailSubscription {
    pub org: OrgId,
    pub user: Option<UserId>,
    pub email: Option<String>,
    pub kind: String,
    pub locale: Locale,
}

pub async fn email_subscription(db: impl PgExecutor<'_>, delivery: Uuid) -> sqlx::Result<Option<EmailSubscription>> {
    let row = sqlx::query!(
        r#"SELECT org_id AS "org_id: OrgId", user_id AS "user_id: UserId", email, kind, locale
           FROM deliveries WHERE id = $1 AND channel = 'email'"#,
        delivery
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|row| EmailSubscription {
        org: row.org_id,
        user: row.user_id,
        email: row.email,
        kind: row.kind,
        locale: Locale::parse(&row.locale).unwrap_or(Locale::En),
    }))
}
