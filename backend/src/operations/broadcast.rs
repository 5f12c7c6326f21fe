//! `broadcast`: a text to technicians, in-app and on the channels each chose. Each chunk tells the
//! next technicians of the audience, in id order; the messages are planned per (source, channel,
//! technician) with the source `broadcast:{operation id}`, so a chunk done again sends nothing
//! twice. Cancelling withdraws what is not sent yet.

use super::repo::{Audience, Locked};
use super::runner::Chunk;
use crate::notifications::queues::DeliverQueue;
use crate::state::AppState;
use domain::OrgId;
use domain::api::operations::Broadcast;

/// Who the broadcast is for.
pub(super) fn audience(org: OrgId, broadcast: &Broadcast) -> Audience<'_> {
    Audience {
        org,
        technicians: broadcast.technician_ids.as_deref(),
        zone: broadcast.zone.as_ref().map(|zone| zone.as_str()),
    }
}

pub(super) async fn chunk(_state: &AppState, _queue: &mut DeliverQueue, _operation: &Locked) -> anyhow::Result<Chunk> {
    Ok(Chunk::Failed("broadcasts are not available yet".into()))
}

pub(super) async fn withdraw(_state: &AppState, _operation: &Locked) -> anyhow::Result<()> {
    Ok(())
}
