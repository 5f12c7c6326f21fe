use super::service;
use crate::actor::Actor;
use crate::error::AppError;
use crate::http::extract::{Channel, Json, Path, Query};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::api::orders::OrderView;
use domain::api::scheduling::{
    BookingRequest, CalendarFeedView, CreateHolidayRequest, CreateTimeOffRequest, HolidayQuery, HolidayView,
    MyScheduleQuery, SchedulePage, ScheduleQuery, SlotSearchQuery, SlotView, SuggestionsView, TimeOffQuery,
    TimeOffView, UpdateHolidayRequest, UpdateTimeOffRequest,
};
use domain::{ErrorBody, HolidayId, OrderId, Page, TimeOffId, UserId};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_time_off, create_time_off))
        .routes(routes!(update_time_off, delete_time_off))
        .routes(routes!(list_holidays, create_holiday))
        .routes(routes!(update_holiday, delete_holiday))
        .routes(routes!(get_schedule))
        .routes(routes!(get_my_schedule))
        .routes(routes!(find_slots))
        .routes(routes!(order_suggestions))
        .routes(routes!(book_order))
        .routes(routes!(rotate_calendar_feed, revoke_calendar_feed))
        .routes(routes!(order_calendar_file))
}

/// The public iCalendar feeds; the secret in the path is the only credential.
pub fn public_router() -> axum::Router<AppState> {
    axum::Router::new().route("/calendar/{file}", axum::routing::get(calendar_feed))
}

async fn calendar_feed(State(state): State<AppState>, Path(file): Path<String>) -> Result<Response, AppError> {
    Ok(ics(super::feed::feed(&state, &file).await?))
}

fn ics(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/calendar; charset=utf-8")], body).into_response()
}

/// A new secret feed URL for the technician (they themselves or a dispatcher); the old one stops working.
#[utoipa::path(post, path = "/technicians/{id}/calendar-feed", tag = "scheduling", security(("bearer" = [])),
    params(("id" = UserId, Path)), responses((status = 200, body = CalendarFeedView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn rotate_calendar_feed(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<UserId>,
) -> Result<axum::Json<CalendarFeedView>, AppError> {
    Ok(axum::Json(super::feed::rotate(&state, &actor, id).await?))
}

#[utoipa::path(delete, path = "/technicians/{id}/calendar-feed", tag = "scheduling", security(("bearer" = [])),
    params(("id" = UserId, Path)), responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn revoke_calendar_feed(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<UserId>,
) -> Result<StatusCode, AppError> {
    super::feed::revoke(&state, &actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The order's booking as an iCalendar file.
#[utoipa::path(get, path = "/orders/{id}/calendar.ics", tag = "scheduling", security(("bearer" = [])),
    params(("id" = OrderId, Path)), responses((status = 200, content_type = "text/calendar", body = String), (status = 404, body = ErrorBody)))]
async fn order_calendar_file(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<OrderId>,
) -> Result<Response, AppError> {
    Ok(ics(super::feed::order_ics(&state, &actor, id).await?))
}

/// A technician's time off overlapping a range (default: a year back, two ahead), keyset-paged.
#[utoipa::path(get, path = "/technicians/{id}/time-off", tag = "scheduling", security(("bearer" = [])),
    params(("id" = UserId, Path), TimeOffQuery), responses((status = 200, body = Page<TimeOffView>), (status = 404, body = ErrorBody)))]
async fn list_time_off(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<UserId>,
    Query(query): Query<TimeOffQuery>,
) -> Result<axum::Json<Page<TimeOffView>>, AppError> {
    Ok(axum::Json(service::list_time_off(&state, &actor, id, &query).await?))
}

#[utoipa::path(post, path = "/technicians/{id}/time-off", tag = "scheduling", security(("bearer" = [])),
    params(("id" = UserId, Path)), request_body = CreateTimeOffRequest,
    responses((status = 201, body = TimeOffView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_time_off(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<UserId>,
    Json(body): Json<CreateTimeOffRequest>,
) -> Result<(StatusCode, axum::Json<TimeOffView>), AppError> {
    Ok((StatusCode::CREATED, axum::Json(service::create_time_off(&state, &actor, id, &body).await?)))
}

/// Moves, resizes or re-labels a time-off period.
#[utoipa::path(patch, path = "/time-off/{id}", tag = "scheduling", security(("bearer" = [])),
    params(("id" = TimeOffId, Path)), request_body = UpdateTimeOffRequest,
    responses((status = 200, body = TimeOffView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_time_off(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<TimeOffId>,
    Json(body): Json<UpdateTimeOffRequest>,
) -> Result<axum::Json<TimeOffView>, AppError> {
    Ok(axum::Json(service::update_time_off(&state, &actor, id, &body).await?))
}

#[utoipa::path(delete, path = "/time-off/{id}", tag = "scheduling", security(("bearer" = [])),
    params(("id" = TimeOffId, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
async fn delete_time_off(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<TimeOffId>,
) -> Result<StatusCode, AppError> {
    service::delete_time_off(&state, &actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The organization's holidays of one year, in date order.
#[utoipa::path(get, path = "/holidays", tag = "scheduling", security(("bearer" = [])), params(HolidayQuery),
    responses((status = 200, body = Vec<HolidayView>)))]
async fn list_holidays(
    State(state): State<AppState>,
    actor: Actor,
    Query(query): Query<HolidayQuery>,
) -> Result<axum::Json<Vec<HolidayView>>, AppError> {
    Ok(axum::Json(service::list_holidays(&state, &actor, &query).await?))
}

#[utoipa::path(post, path = "/holidays", tag = "scheduling", security(("bearer" = [])), request_body = CreateHolidayRequest,
    responses((status = 201, body = HolidayView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_holiday(
    State(state): State<AppState>,
    actor: Actor,
    Json(body): Json<CreateHolidayRequest>,
) -> Result<(StatusCode, axum::Json<HolidayView>), AppError> {
    Ok((StatusCode::CREATED, axum::Json(service::create_holiday(&state, &actor, &body).await?)))
}

/// Moves a holiday to another day or renames it.
#[utoipa::path(patch, path = "/holidays/{id}", tag = "scheduling", security(("bearer" = [])),
    params(("id" = HolidayId, Path)), request_body = UpdateHolidayRequest,
    responses((status = 200, body = HolidayView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_holiday(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<HolidayId>,
    Json(body): Json<UpdateHolidayRequest>,
) -> Result<axum::Json<HolidayView>, AppError> {
    Ok(axum::Json(service::update_holiday(&state, &actor, id, &body).await?))
}

#[utoipa::path(delete, path = "/holidays/{id}", tag = "scheduling", security(("bearer" = [])),
    params(("id" = HolidayId, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
async fn delete_holiday(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<HolidayId>,
) -> Result<StatusCode, AppError> {
    service::delete_holiday(&state, &actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The calendar of a range (at most 42 days): per technician, working hours as instants, time off
/// and bookings. A technician gets only their own lane.
#[utoipa::path(get, path = "/schedule", tag = "scheduling", security(("bearer" = [])), params(ScheduleQuery),
    responses((status = 200, body = SchedulePage), (status = 422, body = ErrorBody)))]
async fn get_schedule(
    State(state): State<AppState>,
    actor: Actor,
    Query(query): Query<ScheduleQuery>,
) -> Result<axum::Json<SchedulePage>, AppError> {
    Ok(axum::Json(service::schedule(&state, &actor, &query).await?))
}

/// The signed-in technician's schedule for today or this week, in their time zone.
#[utoipa::path(get, path = "/me/schedule", tag = "scheduling", security(("bearer" = [])), params(MyScheduleQuery),
    responses((status = 200, body = SchedulePage), (status = 403, body = ErrorBody)))]
async fn get_my_schedule(
    State(state): State<AppState>,
    actor: Actor,
    Query(query): Query<MyScheduleQuery>,
) -> Result<axum::Json<SchedulePage>, AppError> {
    Ok(axum::Json(service::my_schedule(&state, &actor, &query).await?))
}

/// Free slots for a job of a given length, skills and zone, ranked: earliest first, then the
/// technician with fewer jobs that day.
#[utoipa::path(get, path = "/schedule/slots", tag = "scheduling", security(("bearer" = [])), params(SlotSearchQuery),
    responses((status = 200, body = Vec<SlotView>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn find_slots(
    State(state): State<AppState>,
    actor: Actor,
    Query(query): Query<SlotSearchQuery>,
) -> Result<axum::Json<Vec<SlotView>>, AppError> {
    Ok(axum::Json(service::slots(&state, &actor, &query).await?))
}

/// Technicians ranked for the order, with the reason each passed or failed every check.
#[utoipa::path(get, path = "/orders/{id}/suggestions", tag = "scheduling", security(("bearer" = [])),
    params(("id" = OrderId, Path)), responses((status = 200, body = SuggestionsView), (status = 404, body = ErrorBody)))]
async fn order_suggestions(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<OrderId>,
) -> Result<axum::Json<SuggestionsView>, AppError> {
    Ok(axum::Json(service::suggestions(&state, &actor, id).await?))
}

/// Books the order: sets its window and technician (move, resize or hand over). 409
/// `booking_conflict` names the order already booked then; 409 `technician_unavailable` says why
/// the technician does not work then, unless `force` is set.
#[utoipa::path(put, path = "/orders/{id}/booking", tag = "scheduling", security(("bearer" = [])),
    params(("id" = OrderId, Path)), request_body = BookingRequest,
    responses((status = 200, body = OrderView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn book_order(
    State(state): State<AppState>,
    actor: Actor,
    channel: Channel,
    Path(id): Path<OrderId>,
    Json(body): Json<BookingRequest>,
) -> Result<axum::Json<OrderView>, AppError> {
    Ok(axum::Json(crate::orders::booking::book(&state, &actor, id, &body, channel.0).await?))
}

/// How this area's errors answer over HTTP.
impl From<super::ScheduleError> for AppError {
    fn from(error: super::ScheduleError) -> Self {
        use super::ScheduleError as E;
        match error {
            E::Forbidden(_) => Self::forbidden(),
            E::NotFound(what) => Self::not_found(what),
            E::Invalid(errors) => Self::validation(errors),
            E::Internal(_) => Self::internal(error),
        }
    }
}
