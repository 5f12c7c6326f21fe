use super::service;
use crate::actor::Actor;
use crate::error::AppError;
use crate::http::extract::{Channel, Json, Path, Query};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use domain::ErrorCode;
use domain::api::order_list::{ListOrdersQuery, OrderPage};
use domain::api::orders::{
    CreateOrderRequest, HistoryPage, HistoryQuery, OrderActionRequest, OrderSource, OrderView, UpdateOrderRequest,
};
use domain::orders::OrderAction;
use domain::{ErrorBody, OrderId};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_orders, create_order))
        .routes(routes!(get_order, update_order))
        .routes(routes!(act_on_order))
        .routes(routes!(order_history))
        .routes(routes!(order_checklist))
        .routes(routes!(update_checklist_item))
        .routes(routes!(order_report))
}

/// Orders the caller may see (a technician: their own), sorted by `sort` (newest first by default),
/// keyset-paged.
#[utoipa::path(get, path = "/orders", tag = "orders", security(("bearer" = [])), params(ListOrdersQuery),
    responses((status = 200, body = OrderPage), (status = 401, body = ErrorBody)))]
async fn list_orders(
    State(state): State<AppState>,
    actor: Actor,
    Query(query): Query<ListOrdersQuery>,
) -> Result<axum::Json<OrderPage>, AppError> {
    Ok(axum::Json(service::list(&state, &actor, &query).await?))
}

/// Creates an order with the next number of the organization's year.
#[utoipa::path(post, path = "/orders", tag = "orders", security(("bearer" = [])), request_body = CreateOrderRequest,
    responses((status = 201, body = OrderView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_order(
    State(state): State<AppState>,
    actor: Actor,
    channel: Channel,
    Json(body): Json<CreateOrderRequest>,
) -> Result<(StatusCode, axum::Json<OrderView>), AppError> {
    let source = if channel.0 == domain::api::orders::EventChannel::Web { OrderSource::Web } else { OrderSource::Api };
    Ok((StatusCode::CREATED, axum::Json(service::create(&state, &actor, &body, source, channel.0).await?)))
}

#[utoipa::path(get, path = "/orders/{id}", tag = "orders", security(("bearer" = [])), params(("id" = OrderId, Path)),
    responses((status = 200, body = OrderView), (status = 404, body = ErrorBody)))]
async fn get_order(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<OrderId>,
) -> Result<axum::Json<OrderView>, AppError> {
    Ok(axum::Json(service::get(&state, &actor, id).await?))
}

/// Edits fields of the version named in the body; 409 `version_conflict` when the order changed since.
#[utoipa::path(patch, path = "/orders/{id}", tag = "orders", security(("bearer" = [])), params(("id" = OrderId, Path)),
    request_body = UpdateOrderRequest,
    responses((status = 200, body = OrderView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn update_order(
    State(state): State<AppState>,
    actor: Actor,
    channel: Channel,
    Path(id): Path<OrderId>,
    Json(body): Json<UpdateOrderRequest>,
) -> Result<axum::Json<OrderView>, AppError> {
    Ok(axum::Json(service::update(&state, &actor, id, &body, channel.0).await?))
}

/// Takes a lifecycle action: assign, accept, decline, depart, start, hold, resume, complete, approve,
/// reject, cancel or reassign. A refused action answers 409 `order_invalid_transition` with the
/// current status and the actions allowed to the caller.
#[utoipa::path(post, path = "/orders/{id}/actions/{action}", tag = "orders", security(("bearer" = [])),
    params(("id" = OrderId, Path), ("action" = OrderAction, Path)), request_body = OrderActionRequest,
    responses((status = 200, body = OrderView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn act_on_order(
    State(state): State<AppState>,
    actor: Actor,
    channel: Channel,
    Path((id, action)): Path<(OrderId, OrderAction)>,
    Json(body): Json<OrderActionRequest>,
) -> Result<axum::Json<OrderView>, AppError> {
    Ok(axum::Json(service::act(&state, &actor, id, action, &body, channel.0).await?))
}

/// The order's timeline: every change with its actor, channel and time, oldest first.
#[utoipa::path(get, path = "/orders/{id}/history", tag = "orders", security(("bearer" = [])),
    params(("id" = OrderId, Path), HistoryQuery), responses((status = 200, body = HistoryPage), (status = 404, body = ErrorBody)))]
async fn order_history(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<OrderId>,
    Query(query): Query<HistoryQuery>,
) -> Result<axum::Json<HistoryPage>, AppError> {
    Ok(axum::Json(service::history(&state, &actor, id, &query).await?))
}

/// The order's checklist, copied from its service type when the order was created.
#[utoipa::path(get, path = "/orders/{id}/checklist", tag = "orders", security(("bearer" = [])),
    params(("id" = OrderId, Path)),
    responses((status = 200, body = domain::api::orders::ChecklistView), (status = 404, body = ErrorBody)))]
async fn order_checklist(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<OrderId>,
) -> Result<axum::Json<domain::api::orders::ChecklistView>, AppError> {
    Ok(axum::Json(super::work::checklist(&state, &actor, id).await?))
}

/// Marks one checklist item done, not applicable (with a note) or pending again: the assigned
/// technician while the work is under way, dispatchers and admins until the order is final.
#[utoipa::path(patch, path = "/orders/{id}/checklist/{item_id}", tag = "orders", security(("bearer" = [])),
    params(("id" = OrderId, Path), ("item_id" = String, Path)),
    request_body = domain::api::orders::UpdateChecklistItemRequest,
    responses((status = 200, body = domain::api::orders::ChecklistItemView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_checklist_item(
    State(state): State<AppState>,
    actor: Actor,
    channel: Channel,
    Path((id, item_id)): Path<(OrderId, String)>,
    Json(body): Json<domain::api::orders::UpdateChecklistItemRequest>,
) -> Result<axum::Json<domain::api::orders::ChecklistItemView>, AppError> {
    Ok(axum::Json(super::work::update_checklist_item(&state, &actor, id, &item_id, &body, channel.0).await?))
}

/// The work report of the order's latest `complete`, with its totals; 409 `no_work_report` (with
/// the order's `current_status`) while the order has none, as before it is first completed.
#[utoipa::path(get, path = "/orders/{id}/report", tag = "orders", security(("bearer" = [])),
    params(("id" = OrderId, Path)),
    responses((status = 200, body = domain::api::orders::WorkReportView), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
async fn order_report(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<OrderId>,
) -> Result<axum::Json<domain::api::orders::WorkReportView>, AppError> {
    Ok(axum::Json(super::work::report(&state, &actor, id).await?))
}

/// How this area's errors answer over HTTP.
impl From<super::OrderError> for AppError {
    fn from(error: super::OrderError) -> Self {
        use super::OrderError as E;
        match error {
            E::Forbidden(_) => Self::forbidden(),
            E::NotFound => Self::not_found("order"),
            E::Invalid(errors) => Self::validation(errors),
            E::StaleVersion { current, .. } => Self::new(ErrorCode::VersionConflict, error.to_string())
                .with_details(serde_json::json!({ "current_version": current })),
            E::InvalidTransition(refused) => Self::new(ErrorCode::OrderInvalidTransition, refused.to_string())
                .with_details(
                    serde_json::json!({ "current_status": refused.current, "allowed_actions": refused.allowed }),
                ),
            E::Conflict { order_id, ref number, start, end } => {
                Self::new(ErrorCode::BookingConflict, error.to_string()).with_details(serde_json::json!({
                    "conflicting_order": { "id": order_id, "number": number, "start": start, "end": end }
                }))
            }
            E::Unavailable(ref reasons) => Self::new(ErrorCode::TechnicianUnavailable, error.to_string())
                .with_details(serde_json::json!({ "reasons": reasons })),
            E::OfferClosed(status) => Self::new(ErrorCode::OfferClosed, error.to_string())
                .with_details(serde_json::json!({ "status": status })),
            E::NoCandidate => Self::new(ErrorCode::NoCandidate, error.to_string()),
            E::NoWorkReport(status) => Self::new(ErrorCode::NoWorkReport, error.to_string())
                .with_details(serde_json::json!({ "current_status": status })),
            E::Internal(_) => Self::internal(error),
        }
    }
}
