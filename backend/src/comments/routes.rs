use super::service;
use crate::actor::Actor;
use crate::error::AppError;
use crate::http::extract::{Channel, Json, Path, Query};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use domain::api::comments::{CommentView, CreateCommentRequest, ListCommentsQuery};
use domain::{ErrorBody, OrderId, Page};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_comments, create_comment))
}

/// The order's comments, oldest first, keyset-paged.
#[utoipa::path(get, path = "/orders/{id}/comments", tag = "orders", security(("bearer" = [])),
    params(("id" = OrderId, Path), ListCommentsQuery),
    responses((status = 200, body = Page<CommentView>), (status = 404, body = ErrorBody)))]
async fn list_comments(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<OrderId>,
    Query(query): Query<ListCommentsQuery>,
) -> Result<axum::Json<Page<CommentView>>, AppError> {
    Ok(axum::Json(service::list(&state, &actor, id, &query).await?))
}

/// Comments on the order; `customer` comments will also show on the tracking page. Managers read only.
#[utoipa::path(post, path = "/orders/{id}/comments", tag = "orders", security(("bearer" = [])),
    params(("id" = OrderId, Path)), request_body = CreateCommentRequest,
    responses((status = 201, body = CommentView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn create_comment(
    State(state): State<AppState>,
    actor: Actor,
    channel: Channel,
    Path(id): Path<OrderId>,
    Json(body): Json<CreateCommentRequest>,
) -> Result<(StatusCode, axum::Json<CommentView>), AppError> {
    Ok((StatusCode::CREATED, axum::Json(service::create(&state, &actor, id, &body, channel.0).await?)))
}

/// How this area's errors answer over HTTP.
impl From<super::CommentError> for AppError {
    fn from(error: super::CommentError) -> Self {
        use super::CommentError as E;
        match error {
            E::Forbidden(_) => Self::forbidden(),
            E::NotFound => Self::not_found("order"),
            E::Invalid(errors) => Self::validation(errors),
            E::Internal(_) => Self::internal(error),
        }
    }
}
