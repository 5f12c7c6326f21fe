use super::service;
use crate::actor::Actor;
use crate::error::AppError;
use crate::http::extract::{Json, Path, Query};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use domain::ErrorCode;
use domain::api::customers::{
    CreateCustomerRequest, CreateSiteRequest, CreatedCustomer, CustomerView, ListCustomersQuery, SiteView,
    UpdateCustomerRequest, UpdateSiteRequest,
};
use domain::{CustomerId, ErrorBody, Page, SiteId};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_customers, create_customer))
        .routes(routes!(get_customer, update_customer))
        .routes(routes!(archive_customer))
        .routes(routes!(restore_customer))
        .routes(routes!(add_site))
        .routes(routes!(update_site))
        .routes(routes!(archive_site))
}

/// Customers of the organization, oldest first, keyset-paged; `q` searches names, phone numbers
/// and site addresses. Archived customers only with `include_archived=true`.
#[utoipa::path(get, path = "/customers", tag = "customers", security(("bearer" = [])), params(ListCustomersQuery),
    responses((status = 200, body = Page<CustomerView>), (status = 403, body = ErrorBody)))]
async fn list_customers(
    State(state): State<AppState>,
    actor: Actor,
    Query(query): Query<ListCustomersQuery>,
) -> Result<axum::Json<Page<CustomerView>>, AppError> {
    Ok(axum::Json(service::list(&state, &actor, &query).await?))
}

/// Creates a customer, optionally with sites. `phone_matches` names active customers who already
/// have one of the phone numbers.
#[utoipa::path(post, path = "/customers", tag = "customers", security(("bearer" = [])), request_body = CreateCustomerRequest,
    responses((status = 201, body = CreatedCustomer), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_customer(
    State(state): State<AppState>,
    actor: Actor,
    Json(body): Json<CreateCustomerRequest>,
) -> Result<(StatusCode, axum::Json<CreatedCustomer>), AppError> {
    Ok((StatusCode::CREATED, axum::Json(service::create(&state, &actor, &body).await?)))
}

/// A customer with all their sites; archived customers too.
#[utoipa::path(get, path = "/customers/{id}", tag = "customers", security(("bearer" = [])), params(("id" = CustomerId, Path)),
    responses((status = 200, body = CustomerView), (status = 404, body = ErrorBody)))]
async fn get_customer(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<CustomerId>,
) -> Result<axum::Json<CustomerView>, AppError> {
    Ok(axum::Json(service::get(&state, &actor, id).await?))
}

/// Changes a customer's details; absent fields stay, `null` clears.
#[utoipa::path(patch, path = "/customers/{id}", tag = "customers", security(("bearer" = [])), params(("id" = CustomerId, Path)),
    request_body = UpdateCustomerRequest,
    responses((status = 200, body = CustomerView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_customer(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<CustomerId>,
    Json(body): Json<UpdateCustomerRequest>,
) -> Result<axum::Json<CustomerView>, AppError> {
    Ok(axum::Json(service::update(&state, &actor, id, &body).await?))
}

/// Archives a customer: gone from lists and searches, still readable by id.
#[utoipa::path(post, path = "/customers/{id}/archive", tag = "customers", security(("bearer" = [])), params(("id" = CustomerId, Path)),
    responses((status = 200, body = CustomerView), (status = 404, body = ErrorBody)))]
async fn archive_customer(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<CustomerId>,
) -> Result<axum::Json<CustomerView>, AppError> {
    Ok(axum::Json(service::set_archived(&state, &actor, id, true).await?))
}

#[utoipa::path(post, path = "/customers/{id}/restore", tag = "customers", security(("bearer" = [])), params(("id" = CustomerId, Path)),
    responses((status = 200, body = CustomerView), (status = 404, body = ErrorBody)))]
async fn restore_customer(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<CustomerId>,
) -> Result<axum::Json<CustomerView>, AppError> {
    Ok(axum::Json(service::set_archived(&state, &actor, id, false).await?))
}

/// Adds a site to a customer.
#[utoipa::path(post, path = "/customers/{id}/sites", tag = "customers", security(("bearer" = [])), params(("id" = CustomerId, Path)),
    request_body = CreateSiteRequest,
    responses((status = 201, body = SiteView), (status = 404, body = ErrorBody),
        (status = 409, description = "`site_limit_reached`", body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_site(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<CustomerId>,
    Json(body): Json<CreateSiteRequest>,
) -> Result<(StatusCode, axum::Json<SiteView>), AppError> {
    Ok((StatusCode::CREATED, axum::Json(service::add_site(&state, &actor, id, &body).await?)))
}

/// Changes a site; absent fields stay, `null` clears; coordinates change together.
#[utoipa::path(patch, path = "/customers/{id}/sites/{site_id}", tag = "customers", security(("bearer" = [])),
    params(("id" = CustomerId, Path), ("site_id" = SiteId, Path)), request_body = UpdateSiteRequest,
    responses((status = 200, body = SiteView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_site(
    State(state): State<AppState>,
    actor: Actor,
    Path((id, site_id)): Path<(CustomerId, SiteId)>,
    Json(body): Json<UpdateSiteRequest>,
) -> Result<axum::Json<SiteView>, AppError> {
    Ok(axum::Json(service::update_site(&state, &actor, id, site_id, &body).await?))
}

/// Archives a site: it stays on the customer's card, marked, and no longer matches searches.
#[utoipa::path(post, path = "/customers/{id}/sites/{site_id}/archive", tag = "customers", security(("bearer" = [])),
    params(("id" = CustomerId, Path), ("site_id" = SiteId, Path)),
    responses((status = 200, body = SiteView), (status = 404, body = ErrorBody)))]
async fn archive_site(
    State(state): State<AppState>,
    actor: Actor,
    Path((id, site_id)): Path<(CustomerId, SiteId)>,
) -> Result<axum::Json<SiteView>, AppError> {
    Ok(axum::Json(service::archive_site(&state, &actor, id, site_id).await?))
}

/// How this area's errors answer over HTTP.
impl From<super::CustomerError> for AppError {
    fn from(error: super::CustomerError) -> Self {
        use super::CustomerError as E;
        match error {
            E::Forbidden(_) => Self::forbidden(),
            E::NotFound => Self::not_found("customer"),
            E::SiteNotFound => Self::not_found("site"),
            E::SiteLimitReached => Self::new(ErrorCode::SiteLimitReached, error.to_string()),
            E::Invalid(errors) => Self::validation(errors),
            E::Internal(_) => Self::internal(error),
        }
    }
}
