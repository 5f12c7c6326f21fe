//! `Shop`: an organization with people, one customer with a site and one service type, shared by
//! the tests of orders and of what hangs on orders.

use super::TestApp;
use axum::http::StatusCode;
use domain::Role;
use fieldflow::config::Settings;
use serde_json::{Value, json};
use sqlx::PgPool;

/// An organization with people, one customer with a site and one service type.
pub struct Shop {
    pub app: TestApp,
    pub admin: String,
    pub dispatcher: String,
    pub manager: String,
    pub tech_a: String,
    pub tech_a_id: String,
    pub tech_b: String,
    pub tech_b_id: String,
    pub customer_id: String,
    pub site_id: String,
    pub service_type_id: String,
}

impl Shop {
    pub async fn open(db: PgPool, approval_required: bool) -> Self {
        Self::open_with(db, approval_required, |_| {}).await
    }

    /// Like `open`, with settings adjusted first.
    pub async fn open_with(db: PgPool, approval_required: bool, adjust: impl FnOnce(&mut Settings)) -> Self {
        let app = TestApp::with_settings(db, adjust).await;
        let org = app.with_org("Acme Repairs").await;
        app.with_user(org, Role::Admin, "admin@acme.test").await;
        app.with_user(org, Role::Dispatcher, "disp@acme.test").await;
        app.with_user(org, Role::Manager, "boss@acme.test").await;
        let tech_a_id = app.with_technician(org, "a@acme.test", &["washing_machines"], &["north"]).await.to_string();
        let tech_b_id = app.with_technician(org, "b@acme.test", &["washing_machines"], &["south"]).await.to_string();
        let admin = app.token_for("admin@acme.test").await;
        let customer = app
            .post(
                "/api/v1/customers",
                Some(&admin),
                json!({ "kind": "person", "name": "Maria Ivanova", "phones": ["+7 916 555-01-01"],
                        "sites": [{ "address": "Moscow, Tverskaya 1, apt 5" }] }),
            )
            .await;
        assert_eq!(customer.status, StatusCode::CREATED, "{:?}", customer.body);
        let service_type = app
            .post(
                "/api/v1/service-types",
                Some(&admin),
                json!({ "code": "washer", "name": "Washing machine repair", "default_duration_minutes": 90,
                        "default_price_minor": 350000, "required_skills": ["washing_machines"],
                        "approval_required": approval_required, "sla_minutes": { "normal": 60, "urgent": 30 } }),
            )
            .await;
        assert_eq!(service_type.status, StatusCode::CREATED, "{:?}", service_type.body);
        Self {
            dispatcher: app.token_for("disp@acme.test").await,
            manager: app.token_for("boss@acme.test").await,
            tech_a: app.token_for("a@acme.test").await,
            tech_b: app.token_for("b@acme.test").await,
            customer_id: customer.body["customer"]["id"].as_str().unwrap().to_owned(),
            site_id: customer.body["customer"]["sites"][0]["id"].as_str().unwrap().to_owned(),
            service_type_id: service_type.body["id"].as_str().unwrap().to_owned(),
            admin,
            tech_a_id,
            tech_b_id,
            app,
        }
    }

    pub async fn new_order(&self, title: &str) -> Value {
        let response = self
            .app
            .post(
                "/api/v1/orders",
                Some(&self.dispatcher),
                json!({ "customer_id": self.customer_id, "site_id": self.site_id,
                        "service_type_id": self.service_type_id, "title": title }),
            )
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{:?}", response.body);
        response.body
    }

    pub async fn act(&self, token: &str, order: &Value, action: &str, body: Value) -> super::TestResponse {
        let path = format!("/api/v1/orders/{}/actions/{action}", order["id"].as_str().unwrap());
        self.app.post(&path, Some(token), body).await
    }

    pub async fn act_ok(&self, token: &str, order: &Value, action: &str, body: Value) -> Value {
        let response = self.act(token, order, action, body).await;
        assert_eq!(response.status, StatusCode::OK, "{action}: {:?}", response.body);
        response.body
    }
}
