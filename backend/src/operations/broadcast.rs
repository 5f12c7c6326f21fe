//! `broadcast`: a text to technicians, in-app and on the channels each chose. Each chunk tells the
//! next technicians of the audience, in id order, through `notifications::worded` with the source
//! `broadcast:{operation id}`: messages are planned once per (source, channel, technician), so a
//! chunk done again (its worker died before its checkpoint) sends nothing twice. Cancelling
//! withdraws what is not sent yet.

use super::repo::{self, Audience, Locked, Progress};
use super::runner::Chunk;
use crate::jobs::queues::DeliverQueue;
use crate::notifications::worded::{self, Worded, WordedFor};
use crate::state::AppState;
use anyhow::Context;
use domain::api::operations::Broadcast;
use domain::{Locale, OperationId, OrgId, PageLimit, UserId};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

/// The kind of the messages, for preferences and templates.
const KIND: &str = "broadcast";

/// Who the broadcast is for.
pub(super) fn audience(org: OrgId, broadcast: &Broadcast) -> Audience<'_> {
    Audience {
        org,
        technicians: broadcast.technician_ids.as_deref(),
        zone: broadcast.zone.as_ref().map(|zone| zone.as_str()),
    }
}

/// What the messages of a broadcast are planned under.
fn source(id: OperationId) -> String {
    format!("broadcast:{id}")
}

/// Where the next chunk starts: after this technician.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Checkpoint {
    after: Option<UserId>,
}

pub(super) async fn chunk(state: &AppState, queue: &mut DeliverQueue, operation: &Locked) -> anyhow::Result<Chunk> {
    let Ok(broadcast) = serde_json::from_value::<Broadcast>(operation.params.clone()) else {
        return Ok(Chunk::Failed("the broadcast's message is unreadable".into()));
    };
    let checkpoint: Checkpoint = match &operation.checkpoint {
        Some(value) => serde_json::from_value(value.clone()).context("the broadcast's checkpoint")?,
        None => Checkpoint::default(),
    };
    let limit = PageLimit::new(Some(state.settings.operation_chunk_rows));
    let mut people =
        repo::audience(&state.db, audience(operation.org_id, &broadcast), checkpoint.after, limit.probe()).await?;
    let more = people.len() > limit.get();
    people.truncate(limit.get());
    let message = Worded { subject: broadcast.subject, body: broadcast.body, link: broadcast.link };
    let to: Vec<WordedFor> = people
        .iter()
        .map(|(user, locale)| WordedFor {
            user: *user,
            locale: Locale::parse(locale).unwrap_or(Locale::En),
            message: message.clone(),
        })
        .collect();
    if !to.is_empty() {
        worded::send_worded(state, queue, operation.org_id, &source(operation.id), KIND, &to).await?;
    }
    let progress = Progress {
        checkpoint: serde_json::to_value(Checkpoint {
            after: people.last().map(|(user, _)| *user).or(checkpoint.after),
        })?,
        done: i64::try_from(to.len()).unwrap_or(i64::MAX),
        ..Progress::default()
    };
    Ok(if more { Chunk::More(progress) } else { Chunk::Last(progress) })
}

/// Takes back the messages of a cancelled broadcast that are not sent yet, in the transaction
/// that cancels it.
pub(super) async fn withdraw(conn: &mut PgConnection, operation: &Locked) -> anyhow::Result<()> {
    let withdrawn = worded::withdraw(conn, operation.org_id, &source(operation.id)).await?;
    tracing::info!(operation = %operation.id, withdrawn, "broadcast cancelled; unsent messages withdrawn");
    Ok(())
}
