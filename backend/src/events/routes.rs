use super::service::{self, StartAt};
use crate::error::AppError;
use crate::http::extract::{Query, bearer_token};
use crate::state::AppState;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use domain::ErrorBody;
use domain::api::events::{EventStreamQuery, OrderStreamEvent};
use futures_util::{Stream, StreamExt};
use std::time::Duration;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(event_stream))
}

/// Live order events as Server-Sent Events: `id:` is the event id, `event:` its kind, `data:` the
/// JSON below. Everyone sees the organization's events, a technician those of their own orders.
/// Reconnect with `Last-Event-ID` (or `?after=`) to receive first what was missed. A comment is
/// sent every 15 s; the stream ends when the session does. `EventSource` cannot send headers, so
/// the access token may come as `?access_token=` instead.
#[utoipa::path(get, path = "/events", tag = "events", security(("bearer" = [])),
    params(EventStreamQuery, ("Last-Event-ID" = Option<String>, Header, description = "Resume after this event id")),
    responses((status = 200, content_type = "text/event-stream", body = OrderStreamEvent),
        (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn event_stream(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<EventStreamQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, axum::Error>>>, AppError> {
    let token = bearer_token(&headers).or(query.access_token.as_deref());
    let start = StartAt {
        last_event_id: headers.get("last-event-id").and_then(|value| value.to_str().ok()),
        after: query.after,
    };
    let events = service::open(&state, token, &start).await?;
    let events = events.map(|event| Event::default().id(event.id.to_string()).event(&event.kind).json_data(&event));
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// How this area's errors answer over HTTP.
impl From<super::EventStreamError> for AppError {
    fn from(error: super::EventStreamError) -> Self {
        use super::EventStreamError as E;
        match error {
            E::Auth(error) => error.into(),
            E::Forbidden(_) => Self::forbidden(),
            E::Invalid(errors) => Self::validation(errors),
            E::Internal(_) => Self::internal(error),
        }
    }
}
