//! Technicians: users with the technician role and their dispatch profile (skills, zones, rate,
//! capacity, working hours, calendar colour).

pub mod repo;
pub mod routes;
pub mod service;
