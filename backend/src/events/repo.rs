use domain::api::events::OrderStreamEvent;
use domain::api::orders::EventChannel;
use domain::{OrderId, OrgId, UserId};
use sqlx::PgExecutor;

/// Where a reader stands in an organization's stream. Events are read in the order of their
/// transactions' ids, then of their own ids: a transaction's id is fixed at its first write, so an
/// event committed late by an early transaction still sorts before what the reader read after it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Position {
    pub xid: i64,
    pub id: i64,
}

/// One scanned row of the stream; `visible` says whether the reader may receive it.
#[derive(Debug)]
pub struct StreamRow {
    pub event: OrderStreamEvent,
    pub position: Position,
    pub visible: bool,
}

/// A read of the stream: the rows that may be passed, and whether it stopped at rows committed
/// while an earlier transaction still runs (read them again once it has ended).
#[derive(Debug)]
pub struct Read {
    pub rows: Vec<StreamRow>,
    pub held_back: bool,
}

/// The organization's next (at most `limit`) events after `after` whose place in the stream is
/// final: every transaction that could still write an event before them has ended. Each is marked
/// visible or not for a reader limited to `technician` (the order was theirs after the event, or a
/// decline or reassignment took it from them); scanning invisible rows lets the reader move past them.
pub async fn after(
    db: impl PgExecutor<'_>,
    org: OrgId,
    after: Position,
    technician: Option<UserId>,
    limit: i64,
) -> sqlx::Result<Read> {
    let rows = sqlx::query!(
        r#"SELECT id, (xid::text)::bigint AS "xid!", order_id AS "order_id: OrderId", kind,
                  actor_user_id AS "actor_user_id: UserId", channel AS "channel: EventChannel", payload, created_at,
                  COALESCE($4::uuid IS NULL OR technician_id = $4
                           OR payload ->> 'previous_technician_id' = $4::text, false) AS "visible!",
                  xid < pg_snapshot_xmin(pg_current_snapshot()) AS "ended!"
           FROM order_events
           WHERE org_id = $1 AND (xid, id) > ($2::bigint::text::xid8, $3)
           ORDER BY xid, id
           LIMIT $5"#,
        org.0,
        after.xid,
        after.id,
        technician.map(|id| id.0),
        limit,
    )
    .fetch_all(db)
    .await?;
    let held_back = rows.iter().any(|r| !r.ended);
    let rows = rows
        .into_iter()
        .take_while(|r| r.ended)
        .map(|r| StreamRow {
            event: OrderStreamEvent {
                id: r.id,
                order_id: r.order_id,
                kind: r.kind,
                actor_user_id: r.actor_user_id,
                channel: r.channel,
                payload: r.payload,
                created_at: r.created_at,
            },
            position: Position { xid: r.xid, id: r.id },
            visible: r.visible,
        })
        .collect();
    Ok(Read { rows, held_back })
}

/// The place of one of the organization's events in its stream, to resume after it.
pub async fn position_of(db: impl PgExecutor<'_>, org: OrgId, id: i64) -> sqlx::Result<Option<Position>> {
    let xid = sqlx::query_scalar!(
        r#"SELECT (xid::text)::bigint AS "xid!" FROM order_events WHERE org_id = $1 AND id = $2"#,
        org.0,
        id
    )
    .fetch_optional(db)
    .await?;
    Ok(xid.map(|xid| Position { xid, id }))
}

/// At most this many events committed before a stream opened are skipped by it: more means one
/// transaction has run for very long, and the rest are sent as new rather than held in memory.
const COMMITTED_AT_OPEN: i64 = 10_000;

/// Now, for a stream without a starting point: the oldest running transaction, and the events
/// already committed at or after it (which the stream must not send as new).
#[derive(Debug)]
pub struct Now {
    pub position: Position,
    pub committed: Vec<i64>,
}

pub async fn now(db: impl PgExecutor<'_>, org: OrgId) -> sqlx::Result<Now> {
    let row = sqlx::query!(
        r#"WITH now AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin)
           SELECT (xmin::text)::bigint AS "xmin!",
                  ARRAY(SELECT id FROM order_events WHERE org_id = $1 AND xid >= now.xmin LIMIT $2) AS "committed!"
           FROM now"#,
        org.0,
        COMMITTED_AT_OPEN,
    )
    .fetch_one(db)
    .await?;
    Ok(Now { position: Position { xid: row.xmin, id: 0 }, committed: row.committed })
}
