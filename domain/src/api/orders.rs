use super::{Money, patch};
use crate::orders::report::parse_quantity;
use crate::orders::{OrderAction, OrderStatus};
use crate::{
    Address, AttachmentId, CustomerId, CustomerName, FieldError, FieldErrors, OrderId, Phone, Priority, ServiceTypeId,
    SiteId, UserId, Validator,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where an order came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(type_name = "order_source", rename_all = "snake_case"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OrderSource {
    Web,
    Bot,
    Api,
    Recurring,
}

/// Through which door a change came: recorded on every history event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(type_name = "event_channel", rename_all = "snake_case"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EventChannel {
    Web,
    Bot,
    Api,
    System,
}

/// How the order stands against its SLA due time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SlaState {
    /// No target, or finished in time.
    OnTrack,
    /// Less than a fifth of the target time is left.
    AtRisk,
    Breached,
}

/// When each milestone of the lifecycle was last reached.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Milestones {
    pub assigned_at: Option<DateTime<Utc>>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub en_route_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderView {
    pub id: OrderId,
    /// Unique per organization and year, like `2026-000123`.
    pub number: String,
    pub customer_id: CustomerId,
    pub site_id: SiteId,
    pub service_type_id: ServiceTypeId,
    pub title: String,
    pub description: String,
    pub priority: Priority,
    pub status: OrderStatus,
    pub technician_id: Option<UserId>,
    pub scheduled_start: Option<DateTime<Utc>>,
    pub scheduled_end: Option<DateTime<Utc>>,
    /// Booked outside working hours or inside time off by a dispatcher's decision.
    pub schedule_forced: bool,
    pub sla_due_at: Option<DateTime<Utc>>,
    pub sla: SlaState,
    pub estimated_duration_minutes: Option<i32>,
    pub estimated_cost: Option<Money>,
    pub source: OrderSource,
    pub approval_required: bool,
    /// Name it in `PATCH` as `version`: an edit of an older version is refused with 409.
    pub version: i32,
    pub milestones: Milestones,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// What the caller may do to this order now.
    pub allowed_actions: Vec<OrderAction>,
    /// The customer's tracking page (no sign-in; shows number, status, window and technician's first name).
    pub tracking_url: String,
    /// Whom to call and where to go: for the assigned technician and for those who read customers;
    /// absent for anyone else (a technician reading an offered job, say).
    pub contact: Option<OrderContact>,
}

/// What the job needs of the customer and the site, and nothing more: no email, notes or other sites.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderContact {
    pub customer_name: CustomerName,
    /// E.164, the customer's first number first.
    pub phones: Vec<Phone>,
    /// The address of the order's site.
    pub address: Address,
}

/// `POST /orders`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateOrderRequest {
    pub customer_id: CustomerId,
    pub site_id: SiteId,
    pub service_type_id: ServiceTypeId,
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub priority: Option<Priority>,
    pub scheduled_start: Option<DateTime<Utc>>,
    pub scheduled_end: Option<DateTime<Utc>>,
    /// Defaults to the service type's price.
    pub estimated_cost_minor: Option<i64>,
}

/// A validated new order; defaults from the service type are the service's business.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOrder {
    pub customer_id: CustomerId,
    pub site_id: SiteId,
    pub service_type_id: ServiceTypeId,
    pub title: String,
    pub description: String,
    pub priority: Priority,
    pub window: Option<(DateTime<Utc>, DateTime<Utc>)>,
    pub estimated_cost_minor: Option<i64>,
}

fn check_title(v: &mut Validator, raw: &str) -> Option<String> {
    let title = raw.trim();
    let length = title.chars().count();
    v.check(
        "title",
        if (1..=200).contains(&length) {
            Ok(title.to_owned())
        } else {
            Err(FieldError::new("invalid_length", "must have 1 to 200 characters"))
        },
    )
}

fn check_description(v: &mut Validator, raw: &str) -> Option<String> {
    v.check(
        "description",
        if raw.chars().count() <= 5000 {
            Ok(raw.trim().to_owned())
        } else {
            Err(FieldError::new("too_long", "must have at most 5000 characters"))
        },
    )
}

fn check_cost(v: &mut Validator, cost: Option<i64>) -> Option<Option<i64>> {
    match cost {
        Some(minor) if !(0..=10_000_000_000).contains(&minor) => {
            v.add("estimated_cost_minor", FieldError::new("out_of_range", "must be between 0 and 10000000000"));
            None
        }
        other => Some(other),
    }
}

/// Both ends or neither, the end after the start.
fn check_window(
    v: &mut Validator,
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
) -> Option<Option<(DateTime<Utc>, DateTime<Utc>)>> {
    match (start, end) {
        (None, None) => Some(None),
        (Some(start), Some(end)) if end > start => Some(Some((start, end))),
        (Some(_), Some(_)) => {
            v.add("scheduled_end", FieldError::new("before_start", "must be after scheduled_start"));
            None
        }
        (Some(_), None) => {
            v.add("scheduled_end", FieldError::new("required", "is required with scheduled_start"));
            None
        }
        (None, Some(_)) => {
            v.add("scheduled_start", FieldError::new("required", "is required with scheduled_end"));
            None
        }
    }
}

impl CreateOrderRequest {
    pub fn parse(&self) -> Result<NewOrder, FieldErrors> {
        let mut v = Validator::default();
        let title = check_title(&mut v, &self.title);
        let description = check_description(&mut v, &self.description);
        let window = check_window(&mut v, self.scheduled_start, self.scheduled_end);
        let cost = check_cost(&mut v, self.estimated_cost_minor);
        v.finish(|| {
            Some(NewOrder {
                customer_id: self.customer_id,
                site_id: self.site_id,
                service_type_id: self.service_type_id,
                title: title?,
                description: description?,
                priority: self.priority.unwrap_or(Priority::Normal),
                window: window?,
                estimated_cost_minor: cost?,
            })
        })
    }
}

/// `PATCH /orders/{id}`: absent fields stay; `version` is the version the edit is based on.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateOrderRequest {
    pub version: i32,
    pub title: Option<String>,
    pub description: Option<String>,
    pub priority: Option<Priority>,
    /// Both ends together; `null` for both clears the window.
    #[serde(default, deserialize_with = "patch")]
    pub scheduled_start: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "patch")]
    pub scheduled_end: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "patch")]
    pub estimated_cost_minor: Option<Option<i64>>,
    /// Keep a new window of an assigned order even outside the technician's working hours or in
    /// their time off; the booking is flagged.
    #[serde(default)]
    pub force: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrderChanges {
    pub title: Option<String>,
    pub description: Option<String>,
    pub priority: Option<Priority>,
    /// `Some(None)` clears the window.
    pub window: Option<Option<(DateTime<Utc>, DateTime<Utc>)>>,
    pub estimated_cost_minor: Option<Option<i64>>,
}

impl UpdateOrderRequest {
    pub fn parse(&self) -> Result<OrderChanges, FieldErrors> {
        let mut v = Validator::default();
        let title = match &self.title {
            None => Some(None),
            Some(raw) => check_title(&mut v, raw).map(Some),
        };
        let description = match &self.description {
            None => Some(None),
            Some(raw) => check_description(&mut v, raw).map(Some),
        };
        let window = match (self.scheduled_start, self.scheduled_end) {
            (None, None) => Some(None),
            (Some(start), Some(end)) => check_window(&mut v, start, end).map(Some),
            _ => {
                v.add(
                    "scheduled_start",
                    FieldError::new("both_ends", "change scheduled_start and scheduled_end together"),
                );
                None
            }
        };
        let cost = match self.estimated_cost_minor {
            None => Some(None),
            Some(cost) => check_cost(&mut v, cost).map(Some),
        };
        v.finish(|| {
            Some(OrderChanges {
                title: title?,
                description: description?,
                priority: self.priority,
                window: window?,
                estimated_cost_minor: cost?,
            })
        })
    }
}

/// The body of `POST /orders/{id}/actions/{action}`; what each action needs is checked by the service.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OrderActionRequest {
    /// decline, hold, cancel: why.
    pub reason: Option<String>,
    /// reject: what to rework.
    pub comment: Option<String>,
    /// assign, reassign: to whom.
    pub technician_id: Option<UserId>,
    /// assign: pick the best-ranked eligible technician instead of `technician_id`, and book their
    /// first free slot when the order has no window yet.
    #[serde(default)]
    pub auto: bool,
    /// assign, reassign: book the order's window even outside the technician's working hours or in
    /// their time off; the booking is flagged.
    #[serde(default)]
    pub force: bool,
    /// complete: the work report (required then; ignored by other actions).
    pub report: Option<WorkReportRequest>,
}

/// One entry of an order's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderEventView {
    pub id: i64,
    pub kind: String,
    pub actor_user_id: Option<UserId>,
    pub channel: EventChannel,
    pub payload: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// Query of `GET /orders/{id}/history`: oldest first, after the given event id.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    pub after: Option<i64>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<u32>,
}

/// A page of an order's timeline; pass `next_after` as `after` for the next page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryPage {
    pub items: Vec<OrderEventView>,
    pub next_after: Option<i64>,
}

/// How far one checklist item of an order is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(type_name = "checklist_item_state", rename_all = "snake_case"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChecklistItemState {
    Pending,
    Done,
    /// Needs a note saying why.
    NotApplicable,
}

/// One item of an order's checklist, copied from the service type when the order was created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChecklistItemView {
    pub item_id: String,
    pub position: i32,
    pub label: String,
    pub required: bool,
    pub state: ChecklistItemState,
    pub note: Option<String>,
    pub updated_by: Option<UserId>,
    pub updated_at: DateTime<Utc>,
}

/// `GET /orders/{id}/checklist`: every item in template order (a checklist has at most 100).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChecklistView {
    pub items: Vec<ChecklistItemView>,
}

/// `PATCH /orders/{id}/checklist/{item_id}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateChecklistItemRequest {
    pub state: ChecklistItemState,
    /// Required, non-empty, for `not_applicable`; at most 1000 characters.
    pub note: Option<String>,
}

/// A validated checklist change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecklistItemChange {
    pub state: ChecklistItemState,
    pub note: Option<String>,
}

pub const MAX_NOTE_CHARS: usize = 1000;

impl UpdateChecklistItemRequest {
    pub fn parse(&self) -> Result<ChecklistItemChange, FieldErrors> {
        let mut v = Validator::default();
        let note = self.note.as_deref().map(str::trim).filter(|note| !note.is_empty());
        let note = match note {
            Some(text) if text.chars().count() > MAX_NOTE_CHARS => {
                Err(FieldError::new("too_long", format!("must have at most {MAX_NOTE_CHARS} characters")))
            }
            None if self.state == ChecklistItemState::NotApplicable => {
                Err(FieldError::new("required", "say why the item does not apply"))
            }
            other => Ok(other.map(str::to_owned)),
        };
        let note = v.check("note", note);
        v.finish(|| Some(ChecklistItemChange { state: self.state, note: note? }))
    }
}

/// The work report sent with `complete`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WorkReportRequest {
    /// What was done, 1 to 5000 characters.
    pub summary: String,
    /// At most 100 lines.
    #[serde(default)]
    pub parts: Vec<ReportPartRequest>,
    /// 0 to 10080 (a week); charged at the assigned technician's hourly rate.
    pub labour_minutes: i64,
    /// A `signature` attachment of this order.
    pub signature_attachment_id: Option<AttachmentId>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReportPartRequest {
    pub name: String,
    /// Positive, at most 3 decimals, at most 1000000.
    #[cfg_attr(feature = "openapi", schema(value_type = f64))]
    pub quantity: serde_json::Number,
    /// Minor units of the organization's currency.
    pub unit_price_minor: i64,
}

/// A validated work report; totals are computed by `crate::orders::report`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkReport {
    pub summary: String,
    pub parts: Vec<ReportPart>,
    pub labour_minutes: u32,
    pub signature_attachment_id: Option<AttachmentId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportPart {
    pub name: String,
    pub quantity_thousandths: i64,
    pub unit_price_minor: i64,
}

pub const MAX_REPORT_PARTS: usize = 100;
pub const MAX_SUMMARY_CHARS: usize = 5000;
pub const MAX_LABOUR_MINUTES: i64 = 7 * 24 * 60;
pub const MAX_UNIT_PRICE_MINOR: i64 = 100_000_000_000;

impl WorkReportRequest {
    /// Field paths are those of the action body: `report.summary`, `report.parts[1].quantity`.
    pub fn parse(&self) -> Result<WorkReport, FieldErrors> {
        let mut v = Validator::default();
        let summary = self.summary.trim();
        let summary = v.check(
            "report.summary",
            if (1..=MAX_SUMMARY_CHARS).contains(&summary.chars().count()) {
                Ok(summary.to_owned())
            } else {
                Err(FieldError::new("invalid_length", format!("must have 1 to {MAX_SUMMARY_CHARS} characters")))
            },
        );
        let labour_minutes = v.check(
            "report.labour_minutes",
            u32::try_from(self.labour_minutes)
                .ok()
                .filter(|&minutes| i64::from(minutes) <= MAX_LABOUR_MINUTES)
                .ok_or_else(|| FieldError::new("out_of_range", format!("must be 0 to {MAX_LABOUR_MINUTES}"))),
        );
        let parts = if self.parts.len() > MAX_REPORT_PARTS {
            v.add("report.parts", FieldError::new("too_many", format!("at most {MAX_REPORT_PARTS} lines")));
            None
        } else {
            let parsed: Vec<Option<ReportPart>> =
                self.parts.iter().enumerate().map(|(index, part)| part.parse(&mut v, index)).collect();
            parsed.into_iter().collect::<Option<Vec<_>>>()
        };
        v.finish(|| {
            Some(WorkReport {
                summary: summary?,
                parts: parts?,
                labour_minutes: labour_minutes?,
                signature_attachment_id: self.signature_attachment_id,
            })
        })
    }
}

impl ReportPartRequest {
    fn parse(&self, v: &mut Validator, index: usize) -> Option<ReportPart> {
        let prefix = format!("report.parts[{index}]");
        let name = self.name.trim();
        let name = v.check(
            &format!("{prefix}.name"),
            if (1..=200).contains(&name.chars().count()) {
                Ok(name.to_owned())
            } else {
                Err(FieldError::new("invalid_length", "must have 1 to 200 characters"))
            },
        );
        let quantity = v.check(&format!("{prefix}.quantity"), parse_quantity(&self.quantity.to_string()));
        let price = v.check(
            &format!("{prefix}.unit_price_minor"),
            if (0..=MAX_UNIT_PRICE_MINOR).contains(&self.unit_price_minor) {
                Ok(self.unit_price_minor)
            } else {
                Err(FieldError::new("out_of_range", format!("must be 0 to {MAX_UNIT_PRICE_MINOR}")))
            },
        );
        Some(ReportPart { name: name?, quantity_thousandths: quantity?, unit_price_minor: price? })
    }
}

/// One part line of a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportPartView {
    pub name: String,
    /// Exact decimal text, such as `1.5`.
    pub quantity: String,
    pub unit_price: Money,
    /// Quantity × unit price, rounded half up to minor units.
    pub line_total: Money,
}

/// `GET /orders/{id}/report`: the report of the latest `complete`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkReportView {
    pub order_id: OrderId,
    pub summary: String,
    pub labour_minutes: i32,
    pub parts: Vec<ReportPartView>,
    pub parts_total: Money,
    /// Labour minutes at the technician's hourly rate, rounded half up.
    pub labour_total: Money,
    pub total: Money,
    pub signature_attachment_id: Option<AttachmentId>,
    pub submitted_by: Option<UserId>,
    pub submitted_at: DateTime<Utc>,
}

/// Thousandths as exact decimal text without trailing zeros: 1500 → `1.5`, 2000 → `2`.
pub fn format_quantity(thousandths: i64) -> String {
    let (whole, fraction) = (thousandths / 1000, thousandths % 1000);
    if fraction == 0 { whole.to_string() } else { format!("{whole}.{fraction:03}").trim_end_matches('0').to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_report_names_every_bad_field_with_its_path() {
        let request: WorkReportRequest = serde_json::from_value(json!({
            "summary": " ", "labour_minutes": -1,
            "parts": [{ "name": "Seal", "quantity": 1, "unit_price_minor": 100 },
                      { "name": "", "quantity": 0.0001, "unit_price_minor": -5 }]
        }))
        .unwrap();
        let fields: Vec<String> = request.parse().unwrap_err().fields.into_keys().collect();
        assert_eq!(
            fields,
            [
                "report.labour_minutes",
                "report.parts[1].name",
                "report.parts[1].quantity",
                "report.parts[1].unit_price_minor",
                "report.summary"
            ]
        );
        let good: WorkReportRequest = serde_json::from_value(json!({
            "summary": "Replaced the seal", "labour_minutes": 45,
            "parts": [{ "name": "Seal", "quantity": 1.5, "unit_price_minor": 123456 }]
        }))
        .unwrap();
        assert_eq!(good.parse().unwrap().parts[0].quantity_thousandths, 1500);
    }

    #[test]
    fn not_applicable_needs_a_note() {
        let parse =
            |state, note: Option<&str>| UpdateChecklistItemRequest { state, note: note.map(str::to_owned) }.parse();
        let refused = parse(ChecklistItemState::NotApplicable, Some("  ")).unwrap_err();
        assert_eq!(refused.fields["note"][0].code, "required");
        assert_eq!(
            parse(ChecklistItemState::NotApplicable, Some(" no drain ")).unwrap().note.as_deref(),
            Some("no drain")
        );
        assert_eq!(parse(ChecklistItemState::Done, None).unwrap().note, None);
    }

    #[test]
    fn quantities_print_exactly() {
        assert_eq!(format_quantity(1500), "1.5");
        assert_eq!(format_quantity(2000), "2");
        assert_eq!(format_quantity(1), "0.001");
        assert_eq!(format_quantity(12_340), "12.34");
    }
}
