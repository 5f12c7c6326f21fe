//! The test harness: a real PostgreSQL database per test (`#[sqlx::test]`), the real Redis with a
//! key prefix of its own, an SMTP sink, and the router called in-process.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod files;
pub mod push;
pub mod redis_proxy;
pub mod shop;
pub mod smtp;
pub mod telegram;

use axum::Router;
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use domain::api::PasswordInput;
use domain::api::auth::TokenPair;
use domain::api::technicians::CreateTechnicianRequest;
use domain::api::users::CreateUserRequest;
use domain::{Currency, Locale, OrgId, OrgName, Role, TimeZone, UserId};
use fieldflow::actor::Actor;
use fieldflow::config::Settings;
use fieldflow::orgs::service::NewOrg;
use fieldflow::state::AppState;
use fieldflow::{orgs, technicians, users};
use http_body_util::BodyExt;
use serde_json::Value;
use smtp::SmtpSink;
use sqlx::PgPool;
use std::net::SocketAddr;
use tower::ServiceExt;

/// The password every user made by the harness has.
pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestApp {
    pub state: AppState,
    pub router: Router,
    pub smtp: SmtpSink,
}

/// What a test got back: status, headers and the body parsed as JSON (`Null` when empty).
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl TestResponse {
    /// The `error.code` of an error body.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("<no error code>")
    }
}

/// Settings for tests: a Redis key prefix of their own, the SMTP sink, client IPs from
/// `X-Forwarded-For` so tests can play several clients.
pub fn test_settings(smtp: &SmtpSink) -> Settings {
    Settings { smtp_url: format!("smtp://{}", smtp.addr).into(), trust_proxy_headers: true, ..redis_settings() }
}

/// The URL of the fresh database `#[sqlx::test]` made for this test, for a child process.
pub fn database_url(db: &PgPool) -> String {
    let server = std::env::var("DATABASE_URL").unwrap();
    let (base, _) = server.rsplit_once('/').unwrap();
    format!("{base}/{}", db.connect_options().get_database().unwrap())
}

/// The defaults with the test Redis (`FIELDFLOW_REDIS_URL` if set) and a key prefix of their own.
pub fn redis_settings() -> Settings {
    let defaults = Settings::default();
    Settings {
        redis_key_prefix: format!("fieldflow-test:{}:", uuid::Uuid::new_v4()),
        redis_url: std::env::var("FIELDFLOW_REDIS_URL").map_or(defaults.redis_url.clone(), Into::into),
        ..defaults
    }
}

impl TestApp {
    pub async fn new(db: PgPool) -> Self {
        Self::with_settings(db, |_| {}).await
    }

    pub async fn with_settings(db: PgPool, adjust: impl FnOnce(&mut Settings)) -> Self {
        let smtp = SmtpSink::start().await;
        let mut settings = test_settings(&smtp);
        adjust(&mut settings);
        let mut state = AppState::with_pool(settings, db).unwrap();
        state.metrics = Some(fieldflow::http::metrics::recorder().unwrap());
        let router =
            fieldflow::app::router(state.clone()).layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
        Self { state, router, smtp }
    }

    pub async fn with_org(&self, name: &str) -> OrgId {
        let org = NewOrg {
            name: OrgName::parse(name).unwrap(),
            time_zone: TimeZone::parse("Europe/Moscow").unwrap(),
            locale: Locale::Ru,
            currency: Currency::parse("RUB").unwrap(),
        };
        orgs::service::find_or_create(&self.state, &org).await.unwrap()
    }

    /// A user with [`PASSWORD`], created as the system would.
    pub async fn with_user(&self, org: OrgId, role: Role, email: &str) -> UserId {
        let request = CreateUserRequest {
            email: email.into(),
            full_name: format!("User {email}"),
            role,
            phone: None,
            locale: None,
            time_zone: None,
            password: Some(PasswordInput(PASSWORD.into())),
        };
        users::service::create(&self.state, &Actor::System { org_id: org }, &request).await.unwrap().id
    }

    pub async fn with_technician(&self, org: OrgId, email: &str, skills: &[&str], zones: &[&str]) -> UserId {
        let request: CreateTechnicianRequest = serde_json::from_value(serde_json::json!({
            "email": email, "full_name": format!("Tech {email}"), "password": PASSWORD,
            "skills": skills, "zones": zones,
        }))
        .unwrap();
        technicians::service::create(&self.state, &Actor::System { org_id: org }, &request).await.unwrap().user.id
    }

    /// Signs in through the API and returns the token pair.
    pub async fn login_as(&self, email: &str) -> TokenPair {
        let response =
            self.post("/api/v1/auth/login", None, serde_json::json!({ "email": email, "password": PASSWORD })).await;
        assert_eq!(response.status, StatusCode::OK, "login of {email} failed: {:?}", response.body);
        serde_json::from_value(response.body).unwrap()
    }

    pub async fn token_for(&self, email: &str) -> String {
        self.login_as(email).await.access_token
    }

    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        TestResponse { status, headers, body }
    }

    pub async fn request(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> TestResponse {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let request = match body {
            Some(json) => builder
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(serde_json::to_vec(&json).unwrap()))
                .unwrap(),
            None => builder.body(Body::empty()).unwrap(),
        };
        self.send(request).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> TestResponse {
        self.request(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> TestResponse {
        self.request(Method::POST, path, token, Some(body)).await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> TestResponse {
        self.request(Method::PUT, path, token, Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> TestResponse {
        self.request(Method::DELETE, path, token, None).await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> TestResponse {
        self.request(Method::PATCH, path, token, Some(body)).await
    }
}

/// The ids of a page's items (users, or technicians by their user id).
pub fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("a page of items")
        .iter()
        .map(|item| item.get("user").unwrap_or(item)["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The token of the reset or invitation link in an email.
pub fn reset_token(mail: &str) -> String {
    let start = mail.find("token=").expect("a link with a token") + "token=".len();
    mail[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
}
