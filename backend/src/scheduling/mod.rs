//! Scheduling and dispatch: bookings that never overlap, working hours, time off and holidays,
//! the calendar, free-slot search and ranked suggestions.

pub mod board;
pub mod feed;
pub mod repo;
pub mod routes;
pub mod service;
pub mod suggest;

pub use service::ScheduleError;
