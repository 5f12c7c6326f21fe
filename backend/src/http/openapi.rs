//! The OpenAPI document: what the route annotations say, completed with the answers every route
//! shares (the error contract, the rate limit, authentication), so that a generated client learns
//! every status a route can give.

use domain::api::notifications::DeliveryStatus;
use domain::api::scheduling::SchedulePeriod;
use domain::{ErrorBody, ErrorCode, FieldErrors};
use utoipa::OpenApi;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};

#[derive(OpenApi)]
#[openapi(
    info(title = "Fieldflow API", description = "Field-service management: organizations, people, orders, dispatch."),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Sign-in, sessions and passwords"),
        (name = "me", description = "The signed-in user"),
        (name = "org", description = "The caller's organization"),
        (name = "users", description = "People of the organization (admin; dispatchers read)"),
        (name = "technicians", description = "Technicians and their dispatch profiles (admin; dispatchers read)"),
        (name = "service-types", description = "Workflow templates, with YAML export and import (admin; all read)"),
        (name = "customers", description = "Customers and their sites (admin, dispatcher; managers read)"),
        (name = "orders", description = "Work orders and their lifecycle (technicians: their own orders)"),
        (name = "events", description = "Live order events (Server-Sent Events)"),
        (name = "notifications", description = "The caller's in-app notifications"),
        (name = "push", description = "Web push: the server's VAPID key and the caller's subscribed browsers"),
        (name = "webhooks", description = "Outgoing webhooks: signed order events to the organization's endpoints (admin)"),
        (name = "dashboard", description = "Organization-wide order counters (admin, dispatcher, manager)"),
        (name = "operations", description = "Long operations: order exports, customer imports, broadcasts to technicians, with live progress and cancel"),
    ),
    // Schemas that only query parameters name, which utoipa does not collect by itself.
    components(schemas(ErrorBody, ErrorCode, FieldErrors, SchedulePeriod, DeliveryStatus))
)]
#[derive(Debug)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}

/// Adds to each operation the error answers that its shape implies and its annotation does not
/// already describe: the extractors', the authentication's and the rate limit's.
pub fn add_shared_answers(document: &mut utoipa::openapi::OpenApi) {
    for (path, item) in document.paths.paths.iter_mut() {
        let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
        for operation in operations.into_iter().flatten() {
            add_answers(path, operation);
        }
    }
}

fn add_answers(path: &str, operation: &mut Operation) {
    let has_parameters = operation.parameters.as_ref().is_some_and(|parameters| !parameters.is_empty());
    let has_body = operation.request_body.is_some();
    let secured = operation.security.as_ref().is_some_and(|security| !security.is_empty());
    let answers = [
        (
            has_parameters || has_body,
            "400",
            "`bad_request` or `malformed_json`: a parameter or the body cannot be read",
        ),
        (secured, "401", "`unauthorized`, `invalid_token`, `token_expired` or `session_revoked`"),
        (secured, "403", "`forbidden`: the caller's role may not do this"),
        (path.contains('{'), "404", "`not_found`: no such resource in the caller's organization"),
        (has_body, "413", "`payload_too_large`: the body is larger than the route accepts"),
        (has_body, "415", "`unsupported_media_type`: the body is not of a type the route accepts"),
        (has_parameters || has_body, "422", "`validation_failed`: the fields are named in `details`"),
        (true, "429", "`rate_limited`, with `Retry-After`"),
    ];
    for (applies, status, description) in answers {
        if applies {
            operation.responses.responses.entry(status.to_owned()).or_insert_with(|| error_answer(description));
        }
    }
}

fn error_answer(description: &str) -> RefOr<Response> {
    let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build();
    RefOr::T(ResponseBuilder::new().description(description).content("application/json", content).build())
}
