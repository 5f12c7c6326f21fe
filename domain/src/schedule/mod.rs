//! Scheduling: working hours on the real timeline, free slots for new jobs, distances between sites.
//!
//! Pure functions over plain values, so the backend and the browser compute the same answers.

mod geo;
mod interval;
mod local_time;
// Public so that its documentation, the rules of the slot search, is published with the crate.
pub mod slots;
mod working_time;

pub use geo::haversine_km;
pub use interval::{Interval, subtract};
pub use local_time::local_day;
pub use slots::{Slot, SlotQuery, TechnicianCalendar, find_slots};
