use super::page;
use super::service::{self, TrackingError};
use crate::state::AppState;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

pub fn router() -> Router<AppState> {
    Router::new().route("/t/{token}", get(tracking_page))
}

async fn tracking_page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let (status, html) = match service::track(&state, &token).await {
        Ok(order) => (StatusCode::OK, page::render(&order)),
        Err(TrackingError::NotFound) => (StatusCode::NOT_FOUND, page::not_found()),
        Err(error @ TrackingError::Internal(_)) => {
            tracing::error!(error = format!("{error:#}"), "tracking page failed");
            (StatusCode::INTERNAL_SERVER_ERROR, page::unavailable())
        }
    };
    let headers = [
        // The page is live and its URL is a secret: keep it out of caches, search engines and referrers.
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (HeaderName::from_static("x-robots-tag"), HeaderValue::from_static("noindex")),
        (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
        (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'")),
    ];
    (status, headers, Html(html)).into_response()
}
