//! Every integration test of the backend in one binary (one link of the whole backend instead of one
//! per area): a module per area, the harness in `support`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod attachments;
mod attachments_s3;
mod auth;
mod cache;
mod checklists;
mod cli;
mod customers;
mod deliveries;
mod dispatch;
mod events;
mod http_contract;
mod isolation;
mod job_failures;
mod notifications;
mod operations;
mod order_lists;
mod orders;
mod people;
mod periodic;
mod push;
mod rate_limits;
mod scheduling;
mod service_types;
mod telegram;
mod tracking;
mod webhooks;
