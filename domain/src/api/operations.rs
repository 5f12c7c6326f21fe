//! Long operations (`/api/v1/operations`): exports, imports and broadcasts that run as background
//! jobs, report their progress live and stay in the organization's history.

use super::order_list::{ListOrdersQuery, OrderSort};
use crate::orders::OrderStatus;
use crate::{
    Cursor, CustomerId, FieldError, FieldErrors, OperationId, Priority, ServiceTypeId, Tag, UserId, Validator,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// What an operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OperationKind {
    /// A text to technicians, in-app and on their channels.
    Broadcast,
    /// Orders matching a filter, as a CSV file.
    ExportOrders,
    /// Customers from an uploaded CSV file.
    ImportCustomers,
}

/// Where an operation is. `succeeded`, `failed` and `cancelled` are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OperationStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl OperationKind {
    pub const ALL: [OperationKind; 3] =
        [OperationKind::Broadcast, OperationKind::ExportOrders, OperationKind::ImportCustomers];

    pub fn as_str(self) -> &'static str {
        match self {
            OperationKind::Broadcast => "broadcast",
            OperationKind::ExportOrders => "export_orders",
            OperationKind::ImportCustomers => "import_customers",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == raw)
            .ok_or_else(|| FieldError::new("invalid", "must be broadcast, export_orders or import_customers"))
    }
}

impl OperationStatus {
    pub const ALL: [OperationStatus; 5] = [
        OperationStatus::Queued,
        OperationStatus::Running,
        OperationStatus::Succeeded,
        OperationStatus::Failed,
        OperationStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OperationStatus::Queued => "queued",
            OperationStatus::Running => "running",
            OperationStatus::Succeeded => "succeeded",
            OperationStatus::Failed => "failed",
            OperationStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == raw)
            .ok_or_else(|| FieldError::new("invalid", "must be queued, running, succeeded, failed or cancelled"))
    }

    /// Nothing happens to the operation any more.
    pub fn is_final(self) -> bool {
        matches!(self, OperationStatus::Succeeded | OperationStatus::Failed | OperationStatus::Cancelled)
    }
}

impl fmt::Display for OperationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for OperationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(feature = "sqlx")]
crate::sqlx_text::text_column!(OperationKind);
#[cfg(feature = "sqlx")]
crate::sqlx_text::text_column!(OperationStatus);

/// An operation as its owner (and the organization's admins) see it; also the `data:` of each
/// event of `GET /operations/{id}/events`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OperationView {
    pub id: OperationId,
    pub kind: OperationKind,
    pub status: OperationStatus,
    pub created_by: UserId,
    /// What was asked, as validated: the export's filter, the import's file name, the message.
    pub params: serde_json::Value,
    /// Items to work through, once known.
    pub total: Option<i64>,
    /// Items done (orders written, customers created, technicians told).
    pub done: i64,
    /// Items refused (import rows with errors).
    pub failed: i64,
    /// What came of it: `file` of an export (name, size, `expires_at`), `errors` of an import.
    pub result: serde_json::Value,
    /// Why it failed.
    pub error: Option<String>,
    /// Set once someone asked to cancel; it stops before its next chunk.
    pub cancel_requested_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// `GET /operations`: newest first.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct ListOperationsQuery {
    pub kind: Option<OperationKind>,
    pub status: Option<OperationStatus>,
    pub cursor: Option<Cursor>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<u32>,
}

/// Query of `GET /operations/{id}/events`.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct OperationStreamQuery {
    /// The access token, for `EventSource` clients that cannot send an `Authorization` header.
    pub access_token: Option<String>,
}

/// `POST /operations/exports/orders`: the filters of `GET /orders`, every matching order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ExportOrdersRequest {
    pub status: Option<OrderStatus>,
    pub technician_id: Option<UserId>,
    pub customer_id: Option<CustomerId>,
    pub service_type_id: Option<ServiceTypeId>,
    pub priority: Option<Priority>,
    /// Scheduled to start at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Scheduled to start before this time.
    pub to: Option<DateTime<Utc>>,
    /// Only open orders past their SLA due time.
    pub overdue: Option<bool>,
    /// Matches as `q` of `GET /orders` does: the number, title, description or customer.
    pub q: Option<String>,
    /// Order of the rows; `oldest` when absent.
    pub sort: Option<OrderSort>,
}

impl ExportOrdersRequest {
    /// The list query of one page of the export.
    pub fn page(&self, cursor: Option<super::order_list::OrderCursor>, limit: u32) -> ListOrdersQuery {
        ListOrdersQuery {
            status: self.status.into_iter().collect(),
            technician_id: self.technician_id,
            customer_id: self.customer_id,
            service_type_id: self.service_type_id,
            priority: self.priority,
            from: self.from,
            to: self.to,
            overdue: self.overdue,
            q: self.q.clone(),
            with_total: None,
            sort: Some(self.sort.unwrap_or(OrderSort::Oldest)),
            cursor,
            limit: Some(limit),
        }
    }
}

/// The longest subject of a broadcast, in characters.
pub const MAX_BROADCAST_SUBJECT: usize = 200;
/// The longest text of a broadcast, in characters (a Telegram message holds 4,096).
pub const MAX_BROADCAST_BODY: usize = 3_000;
/// At most this many technicians named in one broadcast.
pub const MAX_BROADCAST_TECHNICIANS: usize = 1_000;

/// `POST /operations/broadcasts`: a text to every active technician, or to those named, or to
/// those serving a zone (both given: the named ones who serve it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BroadcastRequest {
    pub subject: String,
    pub body: String,
    /// A link the message carries (an absolute `https://` or `http://` URL).
    pub link: Option<String>,
    pub technician_ids: Option<Vec<UserId>>,
    pub zone: Option<String>,
}

/// A validated broadcast; stored as the operation's `params`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Broadcast {
    pub subject: String,
    pub body: String,
    pub link: Option<String>,
    pub technician_ids: Option<Vec<UserId>>,
    pub zone: Option<Tag>,
}

fn text(raw: &str, max: usize, what: &str) -> Result<String, FieldError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(FieldError::new("required", format!("{what} must not be empty")));
    }
    if value.chars().count() > max {
        return Err(FieldError::new("too_long", format!("{what} must have at most {max} characters")));
    }
    // Line breaks and tabs are text; other control characters are not.
    if value.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(FieldError::new("invalid_characters", format!("{what} must not contain control characters")));
    }
    Ok(value.to_owned())
}

fn link(raw: &str) -> Result<String, FieldError> {
    let refuse = || FieldError::new("invalid_url", "must be an absolute http or https URL");
    let url = url::Url::parse(raw.trim()).map_err(|_| refuse())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() || raw.len() > 2_000 {
        return Err(refuse());
    }
    Ok(url.to_string())
}

impl BroadcastRequest {
    pub fn parse(&self) -> Result<Broadcast, FieldErrors> {
        let mut v = Validator::default();
        let subject = v.check("subject", text(&self.subject, MAX_BROADCAST_SUBJECT, "the subject"));
        let body = v.check("body", text(&self.body, MAX_BROADCAST_BODY, "the text"));
        let link = v.check_opt("link", self.link.as_deref().map(link));
        let zone = v.check_opt("zone", self.zone.as_deref().map(Tag::parse));
        let technician_ids = match &self.technician_ids {
            Some(ids) if ids.is_empty() => {
                v.add("technician_ids", FieldError::new("required", "name at least one technician, or leave it out"));
                None
            }
            Some(ids) if ids.len() > MAX_BROADCAST_TECHNICIANS => {
                let message = format!("at most {MAX_BROADCAST_TECHNICIANS} technicians");
                v.add("technician_ids", FieldError::new("too_many", message));
                None
            }
            Some(ids) => {
                let mut ids = ids.clone();
                ids.sort();
                ids.dedup();
                Some(Some(ids))
            }
            None => Some(None),
        };
        v.finish(|| {
            Some(Broadcast {
                subject: subject?,
                body: body?,
                link: link?,
                technician_ids: technician_ids?,
                zone: zone?,
            })
        })
    }
}

/// At most this many row errors are kept of an import; `failed` still counts them all.
pub const MAX_ROW_ERRORS: usize = 100;

/// One refused field of one row of an imported file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RowError {
    /// The line of the file, counting the header as line 1.
    pub row: u64,
    /// The column (`name`, `phones`, `email`, …), or `row` for the row as a whole.
    pub field: String,
    pub code: String,
    pub message: String,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_statuses_read_back_what_they_write() {
        for kind in OperationKind::ALL {
            assert_eq!(OperationKind::parse(kind.as_str()).unwrap(), kind);
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
        for status in OperationStatus::ALL {
            assert_eq!(OperationStatus::parse(status.as_str()).unwrap(), status);
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
        assert!(OperationStatus::Cancelled.is_final() && !OperationStatus::Running.is_final());
    }

    #[test]
    fn a_broadcast_needs_words_and_sane_recipients() {
        let ok = BroadcastRequest { subject: " Storm ".into(), body: "Stay safe\ntoday".into(), ..Default::default() };
        let parsed = ok.parse().unwrap();
        assert_eq!(parsed.subject, "Storm");
        assert_eq!(parsed.technician_ids, None);
        let bad = BroadcastRequest {
            subject: String::new(),
            body: "x".repeat(MAX_BROADCAST_BODY + 1),
            link: Some("javascript:alert(1)".into()),
            technician_ids: Some(Vec::new()),
            zone: Some("two words".into()),
        };
        let errors = bad.parse().unwrap_err();
        for field in ["subject", "body", "link", "technician_ids", "zone"] {
            assert!(errors.fields.contains_key(field), "{field}: {errors:?}");
        }
    }
}
