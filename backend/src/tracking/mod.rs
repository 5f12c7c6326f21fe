//! The customer's tracking page, `GET /t/{token}`: no sign-in, the unguessable token of one order,
//! and only what a customer needs (organization, number, status, window, technician's first name).

pub mod page;
pub mod repo;
pub mod routes;
pub mod service;
