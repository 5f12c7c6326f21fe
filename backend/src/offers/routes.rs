use super::service;
use crate::actor::Actor;
use crate::error::AppError;
use crate::http::extract::{Channel, Json, Path, Query};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use domain::api::orders::OrderView;
use domain::api::scheduling::{CreateOffersRequest, OfferView, OffersQuery};
use domain::{ErrorBody, OfferId, OrderId, Page};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_order_offers, create_offers))
        .routes(routes!(list_my_offers))
        .routes(routes!(accept_offer))
        .routes(routes!(decline_offer))
}

/// Offers a new order to its best candidates (the organization's `offer_fanout`, or `count`) or to
/// the technicians named; the first to accept gets it.
#[utoipa::path(post, path = "/orders/{id}/offers", tag = "offers", security(("bearer" = [])),
    params(("id" = OrderId, Path)), request_body = CreateOffersRequest,
    responses((status = 201, body = Vec<OfferView>), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn create_offers(
    State(state): State<AppState>,
    actor: Actor,
    channel: Channel,
    Path(id): Path<OrderId>,
    Json(body): Json<CreateOffersRequest>,
) -> Result<(StatusCode, axum::Json<Vec<OfferView>>), AppError> {
    Ok((StatusCode::CREATED, axum::Json(service::create(&state, &actor, id, &body, channel.0).await?)))
}

#[utoipa::path(get, path = "/orders/{id}/offers", tag = "offers", security(("bearer" = [])),
    params(("id" = OrderId, Path), OffersQuery), responses((status = 200, body = Page<OfferView>), (status = 404, body = ErrorBody)))]
async fn list_order_offers(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<OrderId>,
    Query(query): Query<OffersQuery>,
) -> Result<axum::Json<Page<OfferView>>, AppError> {
    Ok(axum::Json(service::of_order(&state, &actor, id, &query).await?))
}

/// The signed-in technician's offers, newest first.
#[utoipa::path(get, path = "/me/offers", tag = "offers", security(("bearer" = [])), params(OffersQuery),
    responses((status = 200, body = Page<OfferView>), (status = 403, body = ErrorBody)))]
async fn list_my_offers(
    State(state): State<AppState>,
    actor: Actor,
    Query(query): Query<OffersQuery>,
) -> Result<axum::Json<Page<OfferView>>, AppError> {
    Ok(axum::Json(service::mine(&state, &actor, &query).await?))
}

/// Takes the job: 200 with the order, now assigned to the caller and accepted; 409 `offer_closed`
/// when someone else was first or the offer expired.
#[utoipa::path(post, path = "/offers/{id}/accept", tag = "offers", security(("bearer" = [])),
    params(("id" = OfferId, Path)), responses((status = 200, body = OrderView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn accept_offer(
    State(state): State<AppState>,
    actor: Actor,
    channel: Channel,
    Path(id): Path<OfferId>,
) -> Result<axum::Json<OrderView>, AppError> {
    Ok(axum::Json(service::accept(&state, &actor, id, channel.0).await?))
}

#[utoipa::path(post, path = "/offers/{id}/decline", tag = "offers", security(("bearer" = [])),
    params(("id" = OfferId, Path)), responses((status = 200, body = OfferView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn decline_offer(
    State(state): State<AppState>,
    actor: Actor,
    channel: Channel,
    Path(id): Path<OfferId>,
) -> Result<axum::Json<OfferView>, AppError> {
    Ok(axum::Json(service::decline(&state, &actor, id, channel.0).await?))
}
