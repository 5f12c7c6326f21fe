//! `GET /orders`: filters, sort orders and the composite keyset cursor that pages through them.

use super::orders::OrderView;
use crate::orders::OrderStatus;
use crate::paging::cut_probe;
use crate::{CustomerId, PageLimit, Priority, ServiceTypeId, UserId};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

/// Query of `GET /orders`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct ListOrdersQuery {
    /// Orders in any of these statuses: repeat the parameter (`status=new&status=assigned`) or
    /// separate them with commas (`status=new,assigned`). None: every status.
    #[serde(default, deserialize_with = "super::one_or_many", skip_serializing_if = "Vec::is_empty")]
    pub status: Vec<OrderStatus>,
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
    /// Matches the number, title or description, or the customer: a part of their name, or of a
    /// phone number in any notation (`9991234`, `+7 999 123-45-67`) when it holds at least 4 digits.
    pub q: Option<String>,
    /// Also count the orders the filters match (in `total`); exact up to a cap, about 10,000.
    pub with_total: Option<bool>,
    /// Order of the list; `newest` when absent.
    pub sort: Option<OrderSort>,
    /// `next_cursor` of the previous page, with the same `sort`.
    pub cursor: Option<OrderCursor>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<u32>,
}

/// How `GET /orders` orders its list. Ties are broken by creation, so every order has one place.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OrderSort {
    /// Most recently created first.
    #[default]
    Newest,
    /// First created first.
    Oldest,
    /// Earliest scheduled start first; unscheduled orders last.
    Scheduled,
    /// Latest scheduled start first; unscheduled orders last.
    ScheduledDesc,
    /// Earliest SLA due time first; orders without one last.
    Due,
    /// Most urgent first, newest first within a priority.
    Priority,
}

impl OrderSort {
    pub const ALL: [OrderSort; 6] = [
        OrderSort::Newest,
        OrderSort::Oldest,
        OrderSort::Scheduled,
        OrderSort::ScheduledDesc,
        OrderSort::Due,
        OrderSort::Priority,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderSort::Newest => "newest",
            OrderSort::Oldest => "oldest",
            OrderSort::Scheduled => "scheduled",
            OrderSort::ScheduledDesc => "scheduled_desc",
            OrderSort::Due => "due",
            OrderSort::Priority => "priority",
        }
    }

    /// The sort key of an order under this sort, as its cursor records it.
    pub fn key_of(self, order: &OrderView) -> SortKey {
        match self {
            OrderSort::Newest | OrderSort::Oldest => SortKey::None,
            OrderSort::Scheduled | OrderSort::ScheduledDesc => SortKey::At(order.scheduled_start),
            OrderSort::Due => SortKey::At(order.sla_due_at),
            OrderSort::Priority => SortKey::Priority(order.priority),
        }
    }
}

/// The value an order is sorted by. `At(None)` is an unscheduled order or one without a due time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// The sort is by creation only; the id is the whole key.
    None,
    At(Option<DateTime<Utc>>),
    Priority(Priority),
}

/// Where the next page of a sorted order list starts: the sort, the last order's key and its id.
/// Clients pass it back unchanged; it is text so it survives a query string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrderCursor {
    pub sort: OrderSort,
    pub key: SortKey,
    pub id: Uuid,
}

/// In the API description the cursor is the opaque string it is on the wire.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for OrderCursor {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        String::schema()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for OrderCursor {}

/// A page of `GET /orders`. `next_cursor` is absent on the last page; `total` is there when
/// `with_total=true` asked for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderPage {
    pub items: Vec<OrderView>,
    pub next_cursor: Option<OrderCursor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<OrderTotal>,
}

impl OrderPage {
    /// Cuts a result fetched with [`PageLimit::probe`] rows to the page and sets the cursor.
    pub fn from_probe(mut items: Vec<OrderView>, limit: PageLimit, sort: OrderSort) -> Self {
        let next_cursor =
            cut_probe(&mut items, limit).map(|last| OrderCursor { sort, key: sort.key_of(last), id: last.id.0 });
        Self { items, next_cursor, total: None }
    }
}

/// How many orders the filters match, on every page alike (the cursor aside). Counting stops at a
/// cap: past it `count` is the cap and `exact` is false, so "more than `count`".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderTotal {
    pub count: u64,
    pub exact: bool,
}

impl OrderTotal {
    /// The total from a count that stopped after `cap + 1` orders.
    pub fn up_to(counted: u64, cap: u64) -> Self {
        Self { count: counted.min(cap), exact: counted <= cap }
    }
}

/// Separates the cursor's parts; it appears in neither timestamps, sort names nor ids.
const SEPARATOR: char = '~';
/// The key of an order that has no time to sort by.
const NO_TIME: &str = "none";

impl fmt::Display for OrderCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = match self.key {
            SortKey::None => String::new(),
            // Microseconds: the database's precision, so the key compares equal to the stored value.
            SortKey::At(Some(at)) => at.to_rfc3339_opts(SecondsFormat::Micros, true),
            SortKey::At(None) => NO_TIME.to_owned(),
            SortKey::Priority(priority) => priority.as_str().to_owned(),
        };
        write!(f, "{}{SEPARATOR}{key}{SEPARATOR}{}", self.sort.as_str(), self.id)
    }
}

/// A cursor that is not one this server handed out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a cursor of this list: pass `next_cursor` back unchanged")]
pub struct BadCursor;

impl FromStr for OrderCursor {
    type Err = BadCursor;

    fn from_str(text: &str) -> Result<Self, BadCursor> {
        let mut parts = text.split(SEPARATOR);
        let (Some(sort), Some(key), Some(id), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(BadCursor);
        };
        let sort = OrderSort::ALL.into_iter().find(|s| s.as_str() == sort).ok_or(BadCursor)?;
        let key = match sort {
            OrderSort::Newest | OrderSort::Oldest if key.is_empty() => SortKey::None,
            OrderSort::Newest | OrderSort::Oldest => return Err(BadCursor),
            OrderSort::Scheduled | OrderSort::ScheduledDesc | OrderSort::Due if key == NO_TIME => SortKey::At(None),
            OrderSort::Scheduled | OrderSort::ScheduledDesc | OrderSort::Due => {
                let at = DateTime::parse_from_rfc3339(key).map_err(|_| BadCursor)?;
                SortKey::At(Some(at.with_timezone(&Utc)))
            }
            OrderSort::Priority => {
                SortKey::Priority(Priority::ALL.into_iter().find(|p| p.as_str() == key).ok_or(BadCursor)?)
            }
        };
        let id = Uuid::parse_str(id).map_err(|_| BadCursor)?;
        Ok(Self { sort, key, id })
    }
}

impl TryFrom<String> for OrderCursor {
    type Error = BadCursor;

    fn try_from(text: String) -> Result<Self, BadCursor> {
        text.parse()
    }
}

impl From<OrderCursor> for String {
    fn from(cursor: OrderCursor) -> Self {
        cursor.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key_strategy(sort: OrderSort) -> BoxedStrategy<SortKey> {
        match sort {
            OrderSort::Newest | OrderSort::Oldest => Just(SortKey::None).boxed(),
            OrderSort::Scheduled | OrderSort::ScheduledDesc | OrderSort::Due => {
                proptest::option::of(0i64..4_102_444_800_000_000)
                    .prop_map(|micros| SortKey::At(micros.and_then(DateTime::from_timestamp_micros)))
                    .boxed()
            }
            OrderSort::Priority => proptest::sample::select(Priority::ALL.to_vec()).prop_map(SortKey::Priority).boxed(),
        }
    }

    fn cursor_strategy() -> impl Strategy<Value = OrderCursor> {
        proptest::sample::select(OrderSort::ALL.to_vec()).prop_flat_map(|sort| {
            (key_strategy(sort), any::<u128>()).prop_map(move |(key, id)| OrderCursor {
                sort,
                key,
                id: Uuid::from_u128(id),
            })
        })
    }

    proptest! {
        #[test]
        fn every_cursor_survives_text_and_json(cursor in cursor_strategy()) {
            prop_assert_eq!(cursor.to_string().parse::<OrderCursor>(), Ok(cursor));
            let json = serde_json::to_string(&cursor).unwrap();
            prop_assert_eq!(serde_json::from_str::<OrderCursor>(&json).unwrap(), cursor);
        }
    }

    #[test]
    fn foreign_or_edited_cursors_are_refused() {
        let id = Uuid::now_v7();
        for text in [
            String::new(),
            id.to_string(),
            format!("newest~2026-01-01T00:00:00Z~{id}"),
            format!("scheduled~~{id}"),
            format!("scheduled~yesterday~{id}"),
            format!("priority~extreme~{id}"),
            format!("sideways~~{id}"),
            format!("newest~~{id}~more"),
            "newest~~not-an-id".to_owned(),
        ] {
            assert_eq!(text.parse::<OrderCursor>(), Err(BadCursor), "{text}");
        }
    }

    #[test]
    fn a_count_past_the_cap_is_the_cap_and_not_exact() {
        assert_eq!(OrderTotal::up_to(0, 3), OrderTotal { count: 0, exact: true });
        assert_eq!(OrderTotal::up_to(3, 3), OrderTotal { count: 3, exact: true });
        assert_eq!(OrderTotal::up_to(4, 3), OrderTotal { count: 3, exact: false });
    }

    #[test]
    fn statuses_come_repeated_comma_separated_or_both() {
        use OrderStatus::{Assigned, Completed, New};
        let parse = |json: serde_json::Value| serde_json::from_value::<ListOrdersQuery>(json).map(|q| q.status);
        assert_eq!(parse(serde_json::json!({})).unwrap(), vec![]);
        assert_eq!(parse(serde_json::json!({ "status": "new" })).unwrap(), vec![New]);
        assert_eq!(parse(serde_json::json!({ "status": "new, assigned," })).unwrap(), vec![New, Assigned]);
        assert_eq!(
            parse(serde_json::json!({ "status": ["new", "assigned,completed"] })).unwrap(),
            vec![New, Assigned, Completed]
        );
        let unknown = parse(serde_json::json!({ "status": "new,lost" })).unwrap_err().to_string();
        assert!(unknown.contains("unknown variant `lost`"), "{unknown}");
    }

    #[test]
    fn sort_names_are_the_serde_names() {
        for sort in OrderSort::ALL {
            assert_eq!(serde_json::to_value(sort).unwrap(), sort.as_str());
        }
    }
}
