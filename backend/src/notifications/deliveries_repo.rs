//! SQL of the deliveries: the record of every message owed to someone on Telegram, by email or to a
//! webhook, which the deliver jobs work through and admins read as the delivery log.

use super::worded::Worded;
use crate::jobs::queues::Due;
use chrono::{DateTime, Utc};
use domain::api::notifications::{DeliveryStatus, DeliveryView};
use domain::notifications::Channel;
use domain::{Locale, OrderId, OrgId, UserId};
use sqlx::PgExecutor;
use std::time::Duration;
use uuid::Uuid;

/// A message the announce job decided to send.
#[derive(Debug, Clone)]
pub struct Planned {
    pub channel: Channel,
    pub to: Addressee,
    pub locale: Locale,
    /// Now, or the end of the recipient's quiet hours.
    pub due: DateTime<Utc>,
    /// The message as its sender worded it; `None` for an order event, worded at send time.
    pub worded: Option<Worded>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Addressee {
    User(UserId),
    /// A customer's address, lower-cased.
    Email(String),
    Webhook(Uuid),
}

impl Addressee {
    /// The recipient part of the idempotency key (source, channel, recipient).
    fn key(&self) -> String {
        match self {
            Addressee::User(id) => id.0.to_string(),
            Addressee::Email(email) => email.clone(),
            Addressee::Webhook(id) => id.to_string(),
        }
    }
}

/// What an event's deliveries are keyed by: an event is told to each recipient once per channel.
pub fn event_source(event_id: i64) -> String {
    format!("event:{event_id}")
}

/// What planned deliveries tell: an order event, or messages worded already, under one `source`.
#[derive(Debug, Clone, Copy)]
pub struct Told<'a> {
    pub source: &'a str,
    pub event_id: Option<i64>,
    pub kind: &'a str,
}

/// Stores the planned deliveries of one source that do not exist yet; a repeated plan adds none.
pub async fn plan(db: impl PgExecutor<'_>, org: OrgId, told: Told<'_>, planned: &[Planned]) -> sqlx::Result<u64> {
    let ids: Vec<Uuid> = planned.iter().map(|_| Uuid::now_v7()).collect();
    let channels: Vec<&str> = planned.iter().map(|p| p.channel.as_str()).collect();
    let users: Vec<Option<Uuid>> =
        planned.iter().map(|p| if let Addressee::User(id) = &p.to { Some(id.0) } else { None }).collect();
    let emails: Vec<Option<String>> =
        planned.iter().map(|p| if let Addressee::Email(e) = &p.to { Some(e.clone()) } else { None }).collect();
    let webhooks: Vec<Option<Uuid>> =
        planned.iter().map(|p| if let Addressee::Webhook(id) = &p.to { Some(*id) } else { None }).collect();
    let recipients: Vec<String> = planned.iter().map(|p| p.to.key()).collect();
    let locales: Vec<&str> = planned.iter().map(|p| p.locale.as_str()).collect();
    let due: Vec<DateTime<Utc>> = planned.iter().map(|p| p.due).collect();
    let subjects: Vec<Option<&str>> = planned.iter().map(|p| p.worded.as_ref().map(|w| w.subject.as_str())).collect();
    let bodies: Vec<Option<&str>> = planned.iter().map(|p| p.worded.as_ref().map(|w| w.body.as_str())).collect();
    let links: Vec<Option<&str>> = planned.iter().map(|p| p.worded.as_ref().and_then(|w| w.link.as_deref())).collect();
    let done = sqlx::query!(
        "INSERT INTO deliveries (id, org_id, source, event_id, kind, channel, user_id, email, webhook_id, recipient,
                                 locale, next_attempt_at, subject, body, link)
         SELECT d.id, $1, $2, $3, $4, d.channel, d.user_id, d.email, d.webhook_id, d.recipient, d.locale, d.due,
                d.subject, d.body, d.link
         FROM UNNEST($5::uuid[], $6::text[], $7::uuid[], $8::text[], $9::uuid[], $10::text[], $11::text[],
                     $12::timestamptz[], $13::text[], $14::text[], $15::text[])
              AS d(id, channel, user_id, email, webhook_id, recipient, locale, due, subject, body, link)
         ON CONFLICT (source, channel, recipient) DO NOTHING",
        org.0,
        told.source,
        told.event_id,
        told.kind,
        &ids,
        &channels as &[&str],
        &users as &[Option<Uuid>],
        &emails as &[Option<String>],
        &webhooks as &[Option<Uuid>],
        &recipients,
        &locales as &[&str],
        &due,
        &subjects as &[Option<&str>],
        &bodies as &[Option<&str>],
        &links as &[Option<&str>],
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// The pending deliveries of a source that no worker holds, to hand to the queue (again, if the
/// planning job repeats).
pub async fn pending_of_source(db: impl PgExecutor<'_>, source: &str) -> sqlx::Result<Vec<Due>> {
    sqlx::query_as!(
        Due,
        r#"SELECT id, next_attempt_at AS at FROM deliveries
           WHERE source = $1 AND status = 'pending' AND (leased_until IS NULL OR leased_until < now())
           ORDER BY id"#,
        source
    )
    .fetch_all(db)
    .await
}

/// Takes back what of a source is not sent yet and no worker holds (a cancelled broadcast).
pub async fn withdraw(db: impl PgExecutor<'_>, org: OrgId, source: &str) -> sqlx::Result<u64> {
    let done = sqlx::query!(
        "UPDATE deliveries SET status = 'skipped', last_error = 'withdrawn by its sender', updated_at = now()
         WHERE org_id = $1 AND source = $2 AND status = 'pending' AND (leased_until IS NULL OR leased_until < now())",
        org.0,
        source,
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// Pending deliveries whose job should have run more than `grace` ago and that no worker holds:
/// their job was lost (Redis restarted) or its worker died. Pushes their due time to now, so they
/// are handed over once per `grace`.
pub async fn take_overdue(db: impl PgExecutor<'_>, grace: Duration, limit: i64) -> sqlx::Result<Vec<Due>> {
    sqlx::query_as!(
        Due,
        r#"UPDATE deliveries SET next_attempt_at = now()
           WHERE id IN (SELECT id FROM deliveries
                        WHERE status = 'pending' AND next_attempt_at < now() - make_interval(secs => $1)
                          AND (leased_until IS NULL OR leased_until < now())
                        ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED)
           RETURNING id, next_attempt_at AS at"#,
        grace.as_secs_f64(),
        limit,
    )
    .fetch_all(db)
    .await
}

/// A delivery a worker holds while it sends.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: Uuid,
    pub org_id: OrgId,
    pub event_id: Option<i64>,
    pub kind: String,
    pub channel: String,
    pub user_id: Option<UserId>,
    pub email: Option<String>,
    pub webhook_id: Option<Uuid>,
    pub locale: String,
    /// Counting this one.
    pub attempts: i32,
    pub subject: Option<String>,
    pub body: Option<String>,
    pub link: Option<String>,
}

/// Takes every due, pending delivery of a source that no worker holds for `lease`, counting the
/// attempt as [`claim`] does: the announce job sends an event's messages itself, in one claim.
pub async fn claim_due_of_source(db: &sqlx::PgPool, source: &str, lease: Duration) -> sqlx::Result<Vec<Claimed>> {
    sqlx::query_as!(
        Claimed,
        r#"UPDATE deliveries SET leased_until = now() + make_interval(secs => $2), attempts = attempts + 1,
                                 updated_at = now()
           WHERE source = $1 AND status = 'pending' AND next_attempt_at <= now() + interval '1 second'
             AND (leased_until IS NULL OR leased_until < now())
           RETURNING id, org_id AS "org_id: OrgId", event_id, kind, channel, user_id AS "user_id: UserId", email,
                     webhook_id, locale, attempts, subject, body, link"#,
        source,
        lease.as_secs_f64(),
    )
    .fetch_all(db)
    .await
}

/// Why a delivery could not be claimed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unclaimed {
    /// Sent, dead, skipped or unknown: nothing to do.
    Finished,
    /// Not due until then (the job ran early).
    NotYet(DateTime<Utc>),
    /// Another worker holds it; if that worker dies, the sweep hands it over.
    Held,
}

/// Takes a due, pending delivery for `lease` and counts the attempt. Counting at the claim means
/// a message that crashes its worker still runs out of attempts.
pub async fn claim(db: &sqlx::PgPool, id: Uuid, lease: Duration) -> sqlx::Result<Result<Claimed, Unclaimed>> {
    let claimed = sqlx::query_as!(
        Claimed,
        r#"UPDATE deliveries SET leased_until = now() + make_interval(secs => $2), attempts = attempts + 1,
                                 updated_at = now()
           WHERE id = $1 AND status = 'pending' AND next_attempt_at <= now() + interval '1 second'
             AND (leased_until IS NULL OR leased_until < now())
           RETURNING id, org_id AS "org_id: OrgId", event_id, kind, channel, user_id AS "user_id: UserId", email,
                     webhook_id, locale, attempts, subject, body, link"#,
        id,
        lease.as_secs_f64(),
    )
    .fetch_optional(db)
    .await?;
    if let Some(claimed) = claimed {
        return Ok(Ok(claimed));
    }
    let state = sqlx::query!(
        r#"SELECT status, next_attempt_at, leased_until > now() AS "held!" FROM deliveries WHERE id = $1"#,
        id
    )
    .fetch_optional(db)
    .await?;
    Ok(Err(match state {
        Some(row) if row.status == "pending" && row.held => Unclaimed::Held,
        Some(row) if row.status == "pending" => Unclaimed::NotYet(row.next_attempt_at),
        _ => Unclaimed::Finished,
    }))
}

/// Ends a claimed delivery: `sent`, `dead` or `skipped`, with the error that ended it if any.
pub async fn finish(
    db: impl PgExecutor<'_>,
    id: Uuid,
    status: DeliveryStatus,
    error: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE deliveries SET status = $2, last_error = COALESCE($3, last_error), leased_until = NULL,
                               updated_at = now(), sent_at = CASE WHEN $2 = 'sent' THEN now() END
         WHERE id = $1",
        id,
        status.as_str(),
        error,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Records a failed attempt and when to try again.
pub async fn retry_at(db: impl PgExecutor<'_>, id: Uuid, error: &str, at: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE deliveries SET last_error = $2, next_attempt_at = $3, leased_until = NULL, updated_at = now()
         WHERE id = $1",
        id,
        error,
        at,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The organization's delivery log, newest first.
pub async fn log(
    db: impl PgExecutor<'_>,
    org: OrgId,
    status: Option<DeliveryStatus>,
    channel: Option<Channel>,
    order: Option<OrderId>,
    before: Option<Uuid>,
    limit: i64,
) -> sqlx::Result<Vec<DeliveryView>> {
    sqlx::query_as!(
        DeliveryView,
        r#"SELECT d.id, d.kind, d.channel, e.order_id AS "order_id: OrderId", d.user_id AS "user_id: UserId", d.email,
                  d.webhook_id, d.status, d.attempts, d.last_error, d.next_attempt_at, d.created_at, d.sent_at
           FROM deliveries d LEFT JOIN order_events e ON e.id = d.event_id
           WHERE d.org_id = $1 AND ($2::text IS NULL OR d.status = $2) AND ($3::text IS NULL OR d.channel = $3)
             AND ($4::uuid IS NULL OR e.order_id = $4) AND ($5::uuid IS NULL OR d.id < $5)
           ORDER BY d.id DESC
           LIMIT $6"#,
        org.0,
        status.map(DeliveryStatus::as_str),
        channel.map(Channel::as_str),
        order.map(|o| o.0),
        before,
        limit,
    )
    .fetch_all(db)
    .await
}

/// Gives a dead delivery a fresh set of attempts, dated as overdue by `grace` so the relay's next
/// sweep hands it to the queue; false when the organization has no such dead delivery.
pub async fn redrive(db: impl PgExecutor<'_>, org: OrgId, id: Uuid, grace: Duration) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE deliveries SET status = 'pending', attempts = 0, leased_until = NULL, updated_at = now(),
                               next_attempt_at = now() - make_interval(secs => $3::float8 + 1)
         WHERE id = $1 AND org_id = $2 AND status = 'dead'",
        id,
        org.0,
        grace.as_secs_f64(),
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Pending deliveries that are due, and the age in seconds of the oldest: the deliver queue's lag.
pub async fn backlog(db: impl PgExecutor<'_>) -> sqlx::Result<(i64, f64)> {
    let row = sqlx::query!(
        r#"SELECT count(*) AS "waiting!",
                  COALESCE(EXTRACT(epoch FROM now() - min(next_attempt_at))::float8, 0) AS "oldest!"
           FROM deliveries WHERE status = 'pending' AND next_attempt_at <= now()"#
    )
    .fetch_one(db)
    .await?;
    Ok((row.waiting, row.oldest))
}

/// Deletes up to `limit` deliveries that finished (sent, skipped or dead) before `before`.
pub async fn delete_finished(db: impl PgExecutor<'_>, before: DateTime<Utc>, limit: i64) -> sqlx::Result<u64> {
    sqlx::query!(
        "DELETE FROM deliveries WHERE id IN (
             SELECT id FROM deliveries WHERE status <> 'pending' AND updated_at < $1 LIMIT $2)",
        before,
        limit,
    )
    .execute(db)
    .await
    .map(|done| done.rows_affected())
}
