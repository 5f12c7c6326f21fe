//! The HTTP adapter: one router with the API under `/api/v1`, operations endpoints, the OpenAPI
//! document, and the built frontend; every error in the JSON shape of `crate::error`.

pub mod extract;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod ops;

use crate::error::AppError;
use crate::state::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request, header};
use axum::routing::get;
use domain::ErrorCode;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(crate::auth::routes::router())
        .merge(crate::users::routes::router())
        .merge(crate::orgs::routes::router())
        .merge(crate::technicians::routes::router())
        .merge(crate::service_types::routes::router())
        .merge(crate::customers::routes::router())
        .merge(crate::orders::routes::router())
        .merge(crate::events::routes::router())
        .merge(crate::comments::routes::router())
        .merge(crate::attachments::routes::router())
        .merge(crate::scheduling::routes::router())
        .merge(crate::offers::routes::router())
        .merge(crate::recurring::routes::router())
        .merge(crate::notifications::routes::router())
        .merge(crate::push::routes::router())
        .merge(crate::webhooks::routes::router())
        .merge(crate::dashboard::routes::router())
        .merge(crate::operations::routes::router())
}

/// The API's routes and the OpenAPI document that describes them.
fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (routes, mut document) =
        OpenApiRouter::with_openapi(openapi::ApiDoc::openapi()).nest("/api/v1", api_routes()).split_for_parts();
    openapi::add_shared_answers(&mut document);
    (routes, document)
}

pub fn router(state: AppState) -> Router {
    let (api, document) = api();
    let frontend_index = state.settings.static_dir.join("index.html");
    let frontend = ServeDir::new(&state.settings.static_dir).fallback(ServeFile::new(frontend_index));
    let has_frontend = state.settings.static_dir.join("index.html").exists();
    let max_body = state.settings.max_json_body_bytes;
    let api = api.layer(axum::middleware::from_fn_with_state(state.clone(), limits::limit_api));
    let public = crate::tracking::routes::router()
        .merge(crate::scheduling::routes::public_router())
        .merge(crate::notifications::unsubscribe::router())
        .layer(axum::middleware::from_fn_with_state(state.clone(), limits::limit_public));

    let mut router = Router::new()
        .merge(api)
        .merge(SwaggerUi::new("/api/docs").url("/api/openapi.json", document))
        .merge(public)
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/api/{*rest}", axum::routing::any(not_found))
        .method_not_allowed_fallback(method_not_allowed);
    router = if has_frontend { router.fallback_service(frontend) } else { router.fallback(not_found) };

    router
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(CatchPanicLayer::custom(|_panic: Box<dyn std::any::Any + Send>| {
            axum::response::IntoResponse::into_response(AppError::new(ErrorCode::Internal, "internal error"))
        }))
        .layer(SetSensitiveRequestHeadersLayer::new([header::AUTHORIZATION, header::COOKIE]))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
            let request_id = request.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!(
                "request",
                request_id = %request_id,
                method = %request.method(),
                path = %request.uri().path(),
                user_id = tracing::field::Empty,
            )
        }))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
}

async fn not_found() -> AppError {
    AppError::new(ErrorCode::NotFound, "no such route")
}

async fn method_not_allowed() -> AppError {
    AppError::new(ErrorCode::MethodNotAllowed, "this route does not accept this method")
}

/// Serves until SIGTERM or Ctrl-C, then stops accepting and lets in-flight requests finish.
pub async fn serve(state: AppState) -> anyhow::Result<()> {
    let listen = state.settings.listen;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen} (FIELDFLOW_LISTEN): {e}"))?;
    tracing::info!(address = %listener.local_addr()?, "serving");
    let events = state.events.clone();
    axum::serve(listener, router(state).into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            // Event streams never finish by themselves; end them so the shutdown can complete.
            events.stop();
        })
        .await?;
    tracing::info!("stopped");
    Ok(())
}

/// SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}
