//! The work on an order: its checklist, the proof `complete` needs, and the work report.

use super::OrderError;
use super::access::{lock_for_work, role_of, visible};
use super::repo::{self, NewEvent, OrderRow};
use super::work_repo::{self, StoredReport};
use crate::actor::{Actor, Forbidden};
use crate::state::AppState;
use chrono::Utc;
use domain::api::Money;
use domain::api::orders::{
    ChecklistItemState, ChecklistItemView, ChecklistView, EventChannel, OrderActionRequest, ReportPartView,
    UpdateChecklistItemRequest, WorkReportView, format_quantity,
};
use domain::orders::OrderStatus;
use domain::orders::report::{ChecklistProof, Evidence, missing_proof, totals};
use domain::{FieldError, FieldErrors, OrderId, Permission, Role};
use serde_json::json;
use sqlx::PgConnection;

pub async fn checklist(state: &AppState, actor: &Actor, id: OrderId) -> Result<ChecklistView, OrderError> {
    actor.require(Permission::ReadOrders)?;
    visible(state, actor, id).await?;
    Ok(ChecklistView { items: work_repo::checklist(&state.db, actor.org_id(), id).await? })
}

/// Whether the actor may tick items of the order now: the assigned technician while the work is
/// under way, dispatchers and admins until the order is final.
fn may_change_checklist(actor: &Actor, order: &OrderRow) -> bool {
    use OrderStatus as S;
    match role_of(actor) {
        Some(Role::Technician) => {
            matches!(order.status, S::Accepted | S::EnRoute | S::InProgress | S::OnHold)
        }
        Some(Role::Dispatcher | Role::Admin) => !order.status.is_terminal(),
        Some(Role::Manager) | None => false,
    }
}

pub async fn update_checklist_item(
    state: &AppState,
    actor: &Actor,
    id: OrderId,
    item_id: &str,
    request: &UpdateChecklistItemRequest,
    channel: EventChannel,
) -> Result<ChecklistItemView, OrderError> {
    // The order's row lock orders checklist changes against `complete`, which reads the checklist.
    let (mut tx, order) = lock_for_work(state, actor, id).await?;
    let change = request.parse().map_err(OrderError::Invalid)?;
    if !may_change_checklist(actor, &order) {
        return Err(Forbidden.into());
    }
    let item = work_repo::update_checklist_item(&mut tx, actor.org_id(), id, item_id, &change, actor.user_id())
        .await?
        .ok_or(OrderError::NotFound)?;
    let event = NewEvent {
        org: actor.org_id(),
        order: id,
        technician: order.technician_id,
        kind: "checklist",
        actor: actor.user_id(),
        channel,
        payload: json!({ "item_id": item.item_id, "state": item.state, "note": item.note }),
    };
    repo::insert_event(&mut tx, &event).await?;
    tx.commit().await?;
    Ok(item)
}

/// Checks everything `complete` needs and stores the report, inside the action's transaction;
/// answers the report's totals for the event. Refuses with every missing piece named at once.
pub(super) async fn prove_and_store(
    conn: &mut PgConnection,
    actor: &Actor,
    order: &OrderRow,
    request: &OrderActionRequest,
) -> Result<serde_json::Value, OrderError> {
    let org = actor.org_id();
    let (report, mut errors) = match request.report.as_ref().map(|report| report.parse()) {
        Some(Ok(report)) => (Some(report), FieldErrors::default()),
        Some(Err(errors)) => (None, errors),
        None => (None, FieldErrors::default()),
    };
    let items = work_repo::checklist(&mut *conn, org, order.id).await?;
    let counts = work_repo::proof_counts(&mut *conn, org, order.id).await?.ok_or(OrderError::NotFound)?;
    let checklist: Vec<ChecklistProof<'_>> = items
        .iter()
        .map(|item| ChecklistProof {
            item_id: &item.item_id,
            required: item.required,
            settled: match item.state {
                ChecklistItemState::Done => true,
                ChecklistItemState::NotApplicable => item.note.as_deref().is_some_and(|note| !note.trim().is_empty()),
                ChecklistItemState::Pending => false,
            },
        })
        .collect();
    let missing = missing_proof(&Evidence {
        checklist: &checklist,
        photos_before: (counts.photos_before, i64::from(counts.required_photos_before)),
        photos_after: (counts.photos_after, i64::from(counts.required_photos_after)),
        // A report that fails validation is reported by its fields, not as missing.
        has_report: request.report.is_some(),
    });
    for (field, field_errors) in missing.fields {
        for error in field_errors {
            errors.add(&field, error);
        }
    }
    if let Some(signature) = report.as_ref().and_then(|report| report.signature_attachment_id)
        && !work_repo::is_signature_of(&mut *conn, org, order.id, signature).await?
    {
        errors.add(
            "report.signature_attachment_id",
            FieldError::new("unknown_signature", "no such signature attached to this order"),
        );
    }
    let report = match report {
        Some(report) if errors.is_empty() => report,
        _ => return Err(OrderError::Invalid(errors)),
    };
    let parts: Vec<(i64, i64)> =
        report.parts.iter().map(|part| (part.quantity_thousandths, part.unit_price_minor)).collect();
    let totals = totals(&parts, report.labour_minutes, counts.hourly_rate_minor).ok_or_else(|| {
        OrderError::Invalid(FieldErrors::single("report", FieldError::new("too_large", "the totals are too large")))
    })?;
    let stored =
        StoredReport { order: order.id, report: &report, totals: &totals, by: actor.user_id(), at: Utc::now() };
    work_repo::store_reports(conn, org, &order.currency, &[stored]).await?;
    Ok(json!({
        "parts_total_minor": totals.parts_minor, "labour_total_minor": totals.labour_minor,
        "total_minor": totals.total_minor, "currency": order.currency,
    }))
}

pub async fn report(state: &AppState, actor: &Actor, id: OrderId) -> Result<WorkReportView, OrderError> {
    actor.require(Permission::ReadOrders)?;
    let order = visible(state, actor, id).await?;
    let row = work_repo::report(&state.db, actor.org_id(), id).await?.ok_or(OrderError::NoWorkReport(order.status))?;
    let parts = work_repo::report_parts(&state.db, actor.org_id(), id).await?;
    let money = |amount_minor| Money { amount_minor, currency: row.currency.clone() };
    Ok(WorkReportView {
        order_id: id,
        summary: row.summary.clone(),
        labour_minutes: row.labour_minutes,
        parts: parts
            .into_iter()
            .map(|part| ReportPartView {
                name: part.name,
                quantity: format_quantity(part.quantity_thousandths),
                unit_price: money(part.unit_price_minor),
                line_total: money(part.line_total_minor),
            })
            .collect(),
        parts_total: money(row.parts_total_minor),
        labour_total: money(row.labour_total_minor),
        total: money(row.total_minor),
        signature_attachment_id: row.signature_attachment_id,
        submitted_by: row.submitted_by,
        submitted_at: row.submitted_at,
    })
}
