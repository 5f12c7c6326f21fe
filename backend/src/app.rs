//! Where the application is assembled: the shared state from the settings, and the router from
//! every area's routes. Nothing imports this module but the entry points (`cli`, tests), so it may
//! name every area without closing an import circle.

use crate::auth::passwords::PasswordHasher;
use crate::auth::tokens::TokenKeys;
use crate::cache::Cache;
use crate::config::Settings;
use crate::error::AppError;
use crate::http::{limits, metrics, openapi, ops};
use crate::mail::Mailer;
use crate::rate_limit::RateLimiter;
use crate::redis_guard::GuardedRedis;
use crate::secrets::SecretBox;
use crate::state::AppState;
use crate::webhooks::client::WebhookClient;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request, header};
use axum::routing::get;
use domain::ErrorCode;
use sqlx::PgPool;
use std::sync::Arc;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

impl AppState {
    /// Connects to PostgreSQL and prepares the Redis pool (connections open lazily, so a Redis
    /// outage degrades rate limiting and caching instead of stopping the API).
    pub async fn connect(settings: Settings) -> anyhow::Result<Self> {
        let db = crate::db::connect(&settings).await?;
        Self::with_pool(settings, db)
    }

    pub fn with_pool(settings: Settings, db: PgPool) -> anyhow::Result<Self> {
        // The webhook client's TLS needs the process-wide provider.
        crate::install_crypto_provider();
        let redis = crate::redis_guard::redis_pool(&settings)?;
        // One circuit breaker for the limiter and the cache: both learn of an outage at once.
        let guarded = GuardedRedis::new(redis.clone());
        let settings = Arc::new(settings);
        let sessions = crate::auth::sessions::LiveSessions::default();
        Ok(Self {
            tokens: Arc::new(TokenKeys::new(&settings)),
            passwords: PasswordHasher::new(settings.password_hash_concurrency)?,
            mailer: Mailer::from_settings(&settings)?,
            limiter: RateLimiter::new(guarded.clone(), &settings.redis_key_prefix),
            cache: Cache::new(guarded, &settings.redis_key_prefix),
            storage: crate::storage::open(&settings)?,
            telegram: crate::telegram::TelegramSender::new(&settings, redis.clone())?,
            secrets: SecretBox::new(&settings.secrets_key()?),
            webhooks: WebhookClient::new(settings.webhooks_allow_private_networks)?,
            push: crate::push::PushClient::new(&settings)?,
            after_decline: Arc::new(crate::offers::service::Redispatch),
            redis,
            db,
            settings,
            metrics: None,
            events: crate::events::EventHub::new(sessions.clone()),
            sessions,
        })
    }
}

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
        .merge(crate::notifications::unsubscribe_page::router())
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
