use super::service;
use crate::actor::Actor;
use crate::error::AppError;
use crate::state::AppState;
use axum::extract::State;
use domain::ErrorBody;
use domain::api::dashboard::DashboardCounters;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(dashboard_counters))
}

/// The organization's orders per status, scheduled today, unassigned and overdue (admin,
/// dispatcher, manager). Counted at most 10 s ago: the counters are cached that long.
#[utoipa::path(get, path = "/dashboard/counters", tag = "dashboard", security(("bearer" = [])),
    responses((status = 200, body = DashboardCounters), (status = 403, body = ErrorBody)))]
async fn dashboard_counters(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<axum::Json<DashboardCounters>, AppError> {
    Ok(axum::Json(service::counters(&state, &actor).await?))
}

/// How this area's errors answer over HTTP.
impl From<super::DashboardError> for AppError {
    fn from(error: super::DashboardError) -> Self {
        use super::DashboardError as E;
        match error {
            E::Forbidden(_) => Self::forbidden(),
            E::Internal(_) => Self::internal(error),
        }
    }
}
