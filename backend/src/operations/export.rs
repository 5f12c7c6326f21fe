//! `export_orders`: the orders a filter of `GET /orders` matches, as a CSV file in storage.
//! Each chunk reads one page with the list's own query and stores its lines as a part in the
//! chunk's transaction; the last chunk joins the parts into the file.

use super::csv::write_record;
use super::repo::{self, Locked, Progress};
use super::runner::Chunk;
use crate::actor::Actor;
use crate::orders::OrderError;
use crate::orders::repo as orders_repo;
use crate::orders::service::ListPlan;
use crate::state::AppState;
use anyhow::Context;
use axum::body::Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use domain::api::operations::ExportOrdersRequest;
use domain::api::order_list::{OrderCursor, OrderPage};
use domain::api::orders::OrderView;
use domain::{OperationId, OrgId, PageLimit};
use object_store::path::Path as StorePath;
use object_store::{ObjectStoreExt, WriteMultipart};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::PgConnection;

/// How long an export's file can be downloaded; then it is deleted.
pub const FILE_TTL: chrono::Duration = chrono::Duration::days(7);

const COLUMNS: [&str; 18] = [
    "id",
    "number",
    "status",
    "priority",
    "title",
    "description",
    "customer_id",
    "site_id",
    "service_type_id",
    "technician_id",
    "scheduled_start",
    "scheduled_end",
    "sla_due_at",
    "estimated_duration_minutes",
    "estimated_cost_minor",
    "currency",
    "created_at",
    "completed_at",
];

/// Where the export's file is stored; derived, so it is never taken from anyone's input.
pub fn file_key(org: OrgId, id: OperationId) -> StorePath {
    StorePath::from(format!("orgs/{org}/operations/{id}/orders.csv"))
}

/// Where the next chunk starts: after `cursor` (none: at the beginning), as part `parts`.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Checkpoint {
    cursor: Option<OrderCursor>,
    parts: i32,
    bytes: i64,
}

pub(super) async fn chunk(state: &AppState, tx: &mut PgConnection, operation: &Locked) -> anyhow::Result<Chunk> {
    let Ok(request) = serde_json::from_value::<ExportOrdersRequest>(operation.params.clone()) else {
        return Ok(Chunk::Failed("the export's filter is unreadable".into()));
    };
    let checkpoint: Checkpoint = match &operation.checkpoint {
        Some(value) => serde_json::from_value(value.clone()).context("the export's checkpoint")?,
        None => Checkpoint::default(),
    };
    // The creator may not be a technician (they cannot start operations), so the list is unscoped.
    let actor = Actor::System { org_id: operation.org_id };
    let limit = PageLimit::new(Some(state.settings.operation_chunk_rows));
    let query = request.page(checkpoint.cursor, state.settings.operation_chunk_rows);
    let plan = match ListPlan::new(state, &actor, &query).await {
        Ok(Some(plan)) => plan,
        Ok(None) => return Ok(Chunk::Failed("the filter matches nothing this export may read".into())),
        Err(OrderError::Invalid(errors)) => return Ok(Chunk::Failed(format!("the filter is invalid: {errors}"))),
        Err(error) => return Err(anyhow::anyhow!(error)),
    };
    let total = match checkpoint.cursor {
        None => Some(orders_repo::count(&mut *tx, operation.org_id, &plan.filter(&query, 0), None).await?),
        Some(_) => None,
    };
    let rows = orders_repo::select(&mut *tx, operation.org_id, &plan.filter(&query, limit.probe())).await?;
    let views = rows.into_iter().map(|row| crate::orders::access::view(state, &actor, row)).collect();
    let page = OrderPage::from_probe(views, limit, plan.sort);

    let mut body = String::new();
    if checkpoint.parts == 0 {
        write_record(&mut body, COLUMNS);
    }
    for order in &page.items {
        let cells = cells(order);
        write_record(&mut body, cells.iter().map(String::as_str));
    }
    repo::insert_part(tx, operation.id, checkpoint.parts, body.as_bytes()).await?;
    let next = Checkpoint {
        cursor: page.next_cursor,
        parts: checkpoint.parts + 1,
        bytes: checkpoint.bytes + i64::try_from(body.len()).unwrap_or(i64::MAX),
    };
    let mut progress = Progress {
        checkpoint: serde_json::to_value(&next)?,
        done: i64::try_from(page.items.len()).unwrap_or(i64::MAX),
        total,
        ..Progress::default()
    };
    if next.cursor.is_some() {
        return Ok(Chunk::More(progress));
    }
    write_file(state, tx, operation, next.parts).await?;
    let rows = operation.done + progress.done;
    let expires_at = Utc::now() + FILE_TTL;
    let name = format!("orders-{}.csv", operation.id.0.simple());
    progress.result = Some(json!({
        "file": { "name": name, "content_type": "text/csv", "bytes": next.bytes, "rows": rows, "expires_at": expires_at }
    }));
    Ok(Chunk::Last(progress))
}

/// Joins the parts (this chunk's too, uncommitted yet: it reads them in the transaction) into the
/// file. Should the transaction fail after this, the next try writes the same file again.
async fn write_file(state: &AppState, tx: &mut PgConnection, operation: &Locked, parts: i32) -> anyhow::Result<()> {
    let key = file_key(operation.org_id, operation.id);
    let mut writer = WriteMultipart::new(state.storage.put_multipart(&key).await?);
    for seq in 0..parts {
        let Some(part) = repo::part(&mut *tx, operation.id, seq).await? else {
            writer.abort().await?;
            anyhow::bail!("part {seq} of export {} is missing", operation.id);
        };
        writer.wait_for_capacity(2).await?;
        writer.put(Bytes::from(part));
    }
    writer.finish().await?;
    Ok(())
}

fn time(at: Option<DateTime<Utc>>) -> String {
    at.map(|at| at.to_rfc3339_opts(SecondsFormat::Secs, true)).unwrap_or_default()
}

fn cells(order: &OrderView) -> Vec<String> {
    vec![
        order.id.to_string(),
        order.number.clone(),
        order.status.as_str().to_owned(),
        order.priority.as_str().to_owned(),
        order.title.clone(),
        order.description.clone(),
        order.customer_id.to_string(),
        order.site_id.to_string(),
        order.service_type_id.to_string(),
        order.technician_id.map(|id| id.to_string()).unwrap_or_default(),
        time(order.scheduled_start),
        time(order.scheduled_end),
        time(order.sla_due_at),
        order.estimated_duration_minutes.map(|m| m.to_string()).unwrap_or_default(),
        order.estimated_cost.as_ref().map(|cost| cost.amount_minor.to_string()).unwrap_or_default(),
        order.estimated_cost.as_ref().map(|cost| cost.currency.to_string()).unwrap_or_default(),
        time(Some(order.created_at)),
        time(order.milestones.completed_at),
    ]
}
