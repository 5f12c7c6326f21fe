//! Request limits: every route under `/api/v1` counts against its client IP and, when it carries a
//! valid access token, against its user; the public pages (tracking, calendar feeds) against their
//! client IP. One fixed window per minute each. The routes that guess passwords or send email
//! count every hit in Redis at once (one round trip for all their windows), exact across
//! processes; every other request is counted in the process and sent to Redis in batches
//! ([`Counting::Batched`]), so it costs no Redis round trip once its windows are known.
//! Health, readiness, metrics, the OpenAPI document and the frontend's files are not limited: probes
//! and scrapers call them from a few addresses on a schedule, and none of them reads the database
//! per request beyond `/readyz`'s ping.

use super::extract::bearer_token;
use crate::auth::ClientInfo;
use crate::error::AppError;
use crate::rate_limit::{Counting, Limit, Usage};
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::Duration;

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);
const LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
const REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
const RESET: HeaderName = HeaderName::from_static("ratelimit-reset");

fn per_ip(state: &AppState) -> Limit {
    Limit { name: "api:ip", max: state.settings.api_rate_limits.per_ip_per_minute, window: MINUTE }
}

/// The tighter per-IP window of a route that guesses passwords or sends email, counted besides the
/// API's, so its `RateLimit-*` headers describe the window that refuses it first.
fn route_limit(state: &AppState, path: &str) -> Option<Limit> {
    let limits = state.settings.rate_limits;
    match path {
        "/api/v1/auth/login" => Some(Limit { name: "login:ip", max: limits.login_per_ip_per_minute, window: MINUTE }),
        "/api/v1/auth/password/forgot" | "/api/v1/auth/password/reset" => {
            Some(Limit { name: "password:ip", max: limits.password_per_ip_per_hour, window: HOUR })
        }
        _ => None,
    }
}

/// Whom a request counts against besides its IP: the user of a valid access token. The token is
/// only verified (signature, expiry), not looked up; a revoked session still counts against its
/// user, which is who sent it. An API key, once there are any, becomes another kind of principal
/// with a limit of its own; a request with no or an invalid token counts against its IP only.
fn principal(state: &AppState, headers: &HeaderMap) -> Option<String> {
    let claims = state.tokens.verify_access(bearer_token(headers)?).ok()?;
    Some(claims.sub.to_string())
}

/// Limits per user and per client IP, for the API, and the sign-in routes' own.
pub async fn limit_api(State(state): State<AppState>, client: ClientInfo, request: Request, next: Next) -> Response {
    let per_user = Limit { name: "api:user", max: state.settings.api_rate_limits.per_user_per_minute, window: MINUTE };
    let user = principal(&state, request.headers());
    let mut hits = vec![(per_ip(&state), client.ip.as_str())];
    let counting = match route_limit(&state, request.uri().path()) {
        Some(limit) => {
            hits.push((limit, client.ip.as_str()));
            Counting::EveryHit
        }
        None => Counting::Batched,
    };
    if let Some(user) = &user {
        hits.push((per_user, user.as_str()));
    }
    enforce(&state, &hits, counting, request, next).await
}

/// The per-IP limit alone, for public pages; it shares its window with the API's.
pub async fn limit_public(State(state): State<AppState>, client: ClientInfo, request: Request, next: Next) -> Response {
    enforce(&state, &[(per_ip(&state), client.ip.as_str())], Counting::Batched, request, next).await
}

/// Counts the hits; refuses with 429 when any window is over, naming the latest time to retry.
/// Either way the response says where the tightest window stands (`RateLimit-*` headers).
/// Without Redis everything passes, without headers.
async fn enforce(
    state: &AppState,
    hits: &[(Limit, &str)],
    counting: Counting,
    request: Request,
    next: Next,
) -> Response {
    let Some(usages) = state.limiter.count_hits(hits, counting).await else {
        return next.run(request).await;
    };
    let mut retry_after = None;
    for ((limit, _), usage) in hits.iter().zip(&usages) {
        if let Some(limited) = usage.refused() {
            metrics::counter!("api_requests_limited_total", "limit" => limit.name).increment(1);
            retry_after = retry_after.max(Some(limited.retry_after));
        }
    }
    let mut response = match retry_after {
        Some(seconds) => AppError::rate_limited(seconds).into_response(),
        None => next.run(request).await,
    };
    if let Some(tightest) = usages.iter().min_by_key(|usage| (usage.remaining(), std::cmp::Reverse(usage.resets_in))) {
        describe(response.headers_mut(), tightest);
    }
    response
}

fn describe(headers: &mut HeaderMap, usage: &Usage) {
    headers.insert(LIMIT, HeaderValue::from(usage.max));
    headers.insert(REMAINING, HeaderValue::from(usage.remaining()));
    headers.insert(RESET, HeaderValue::from(usage.resets_in));
}
