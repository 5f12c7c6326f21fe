//! Orders: the lifecycle state machine shared by the backend, the bot and the web.

mod lifecycle;
pub mod report;
mod status;

pub use lifecycle::{OrderState, Performer, Refusal, Transition, TransitionError, allowed_actions, transition};
pub use status::{OrderAction, OrderStatus};
