//! Recurring plans of maintenance contracts: an RRULE at a customer's site generates orders a
//! configurable number of days ahead, never twice for one occurrence.

pub mod repo;
pub mod routes;
pub mod rule;
pub mod service;
