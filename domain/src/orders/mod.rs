//! Orders: the lifecycle state machine shared by the backend, the bot and the web.

mod event_kinds;
mod lifecycle;
pub mod report;
pub mod sla;
mod status;

pub use event_kinds::{OTHER_EVENT_KINDS, event_kinds, is_event_kind};
pub use lifecycle::{OrderState, Performer, Refusal, Transition, TransitionError, allowed_actions, transition};
pub use status::{OrderAction, OrderStatus};
