//! Health, readiness and metrics endpoints for load balancers and Prometheus.

use crate::error::AppError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use domain::ErrorCode;
use serde_json::json;
use std::time::Duration;

/// The process is up. Says nothing about its dependencies.
pub async fn healthz() -> impl IntoResponse {
    axum::Json(json!({ "status": "ok" }))
}

/// Ready to serve: PostgreSQL and Redis both answer within two seconds; 503 otherwise.
pub async fn readyz(State(state): State<AppState>) -> Result<impl IntoResponse, AppError> {
    let timeout = Duration::from_secs(2);
    let postgres = tokio::time::timeout(timeout, crate::db::ping(&state.db)).await;
    let postgres_ok = matches!(postgres, Ok(Ok(_)));
    let redis = tokio::time::timeout(timeout, async {
        let mut conn = state.redis.get().await?;
        let pong: String = redis::cmd("PING").query_async(&mut conn).await?;
        anyhow::Ok(pong)
    })
    .await;
    let redis_ok = matches!(redis, Ok(Ok(_)));
    let report = json!({
        "postgres": if postgres_ok { "ok" } else { "unreachable" },
        "redis": if redis_ok { "ok" } else { "unreachable" },
    });
    if postgres_ok && redis_ok {
        Ok(axum::Json(json!({ "status": "ready", "checks": report })))
    } else {
        Err(AppError::new(ErrorCode::ServiceUnavailable, "a dependency is unreachable").with_details(report))
    }
}

/// Prometheus text format. Pool gauges are sampled at scrape time.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let idle = state.db.num_idle();
    let size = state.db.size() as usize;
    metrics::gauge!("db_pool_connections", "state" => "idle").set(idle as f64);
    metrics::gauge!("db_pool_connections", "state" => "in_use").set(size.saturating_sub(idle) as f64);
    metrics::gauge!("db_pool_max_connections").set(f64::from(state.settings.database_max_connections));
    // Each queue's work as PostgreSQL owes it: what is not done yet and how long the oldest has
    // waited (Redis itself reports `job_queue_waiting`, and workers count `jobs_total`).
    use crate::notifications::service::{delivery_backlog, outbox_backlog};
    let backlogs = [("announce", outbox_backlog(&state).await), ("deliver", delivery_backlog(&state).await)];
    for (queue, backlog) in backlogs {
        match backlog {
            Ok((waiting, oldest_seconds)) => {
                metrics::gauge!("job_backlog", "queue" => queue).set(waiting as f64);
                metrics::gauge!("job_oldest_age_seconds", "queue" => queue).set(oldest_seconds);
            }
            Err(error) => tracing::warn!(%error, queue, "reading a job backlog for /metrics failed"),
        }
    }
    let body = state.metrics.as_ref().map(|handle| handle.render()).unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}
