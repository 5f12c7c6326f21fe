//! The HTTP adapter's parts: extractors, API limits, request metrics, the OpenAPI document and the
//! operations endpoints. `crate::app` assembles them with every area's routes into the router.

pub mod extract;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod ops;
