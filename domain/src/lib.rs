//! Fieldflow's shared domain: the types the backend, the bot and the WASM frontend agree on.
//!
//! Nothing here touches a database or a runtime; the optional `sqlx` and `openapi` features only add
//! derives so the backend can store and document these types without wrapping them again.

pub mod api;
mod error;
mod ids;
pub mod notifications;
pub mod orders;
mod paging;
mod permissions;
mod priority;
mod role;
pub mod schedule;
#[cfg(feature = "sqlx")]
mod sqlx_text;
mod validation;
mod values;
mod working_hours;

pub use error::{ErrorBody, ErrorCode, ErrorDetail};
pub use ids::{
    AttachmentId, CommentId, HolidayId, NotificationId, OfferId, OperationId, PushSubscriptionId, RecurringPlanId,
    TimeOffId,
};
pub use ids::{CustomerId, OrderId, OrgId, ServiceTypeId, SessionId, SiteId, UserId, WebhookEndpointId};
pub use paging::{Cursor, Page, PageLimit};
pub use permissions::Permission;
pub use priority::Priority;
pub use role::{Role, UserStatus};
pub use validation::{FieldError, FieldErrors, Validator};
pub use values::{
    Address, CalendarColor, Currency, CustomerName, Email, Locale, NewPassword, OrgName, PersonName, Phone, Tag, TaxId,
    TimeZone, WebhookUrl,
};
pub use values::{Label, Slug};
pub use working_hours::{Shift, WorkingHours};
