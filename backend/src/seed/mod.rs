//! Demo data from `seeds/`, loaded through the same services and validation as the API, so the
//! seed can never hold what the product would refuse.

use crate::actor::Actor;
use crate::auth::repo::find_login_account;
use crate::orgs::service::NewOrg;
use crate::service_types::{ServiceTypeError, document};
use crate::state::AppState;
use crate::{customers, orgs, service_types, technicians, users};
use anyhow::Context;
use domain::api::PasswordInput;
use domain::api::customers::CreateCustomerRequest;
use domain::api::service_types::ImportSummary;
use domain::api::technicians::CreateTechnicianRequest;
use domain::api::users::CreateUserRequest;
use domain::{Currency, Email, Locale, OrgName, TimeZone};
use serde::Deserialize;

/// `seeds/demo.yaml`, built in so the binary can seed wherever it runs.
pub const DEMO: &str = include_str!("../../../seeds/demo.yaml");

/// `seeds/service-types.yaml`: the demo organization's service types, in the export format.
pub const DEMO_SERVICE_TYPES: &str = include_str!("../../../seeds/service-types.yaml");

/// `seeds/customers.yaml`: the demo's customers and their sites in Moscow and Saint Petersburg.
pub const DEMO_CUSTOMERS: &str = include_str!("../../../seeds/customers.yaml");

/// How many finished orders the demo's history has, over how many days.
const DEMO_ORDERS: usize = 300;
const DEMO_ORDER_DAYS: i64 = 90;

mod history;
mod orders;
mod repo;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomersSeed {
    customers: Vec<CreateCustomerRequest>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoSeed {
    organization: SeedOrg,
    /// Every demo account gets this password.
    password: String,
    users: Vec<CreateUserRequest>,
    technicians: Vec<CreateTechnicianRequest>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedOrg {
    name: OrgName,
    time_zone: TimeZone,
    locale: Locale,
    currency: Currency,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct SeedReport {
    pub created: usize,
    pub skipped: usize,
    pub service_types: ImportSummary,
    pub customers: usize,
    pub orders: usize,
}

/// Creates what is missing and leaves what exists untouched, so running it twice changes nothing.
pub async fn load_demo(state: &AppState, source: &str) -> anyhow::Result<SeedReport> {
    let seed: DemoSeed = serde_yaml_ng::from_str(source).context("the demo seed file is not valid")?;
    let org = NewOrg {
        name: seed.organization.name,
        time_zone: seed.organization.time_zone,
        locale: seed.organization.locale,
        currency: seed.organization.currency,
    };
    let org_id = orgs::service::find_or_create(state, &org).await?;
    let actor = Actor::System { org_id };
    let password = Some(PasswordInput(seed.password));
    let mut report = SeedReport::default();

    for mut request in seed.users {
        if exists(state, &request.email).await? {
            report.skipped += 1;
            continue;
        }
        request.password.clone_from(&password);
        users::service::create(state, &actor, &request)
            .await
            .map_err(|e| anyhow::anyhow!("user {}: {e}", request.email))?;
        report.created += 1;
    }
    for mut request in seed.technicians {
        if exists(state, &request.email).await? {
            report.skipped += 1;
            continue;
        }
        request.password.clone_from(&password);
        technicians::service::create(state, &actor, &request)
            .await
            .map_err(|e| anyhow::anyhow!("technician {}: {e}", request.email))?;
        report.created += 1;
    }
    // After the technicians, whose skills the templates require. An import of what is already
    // there changes nothing.
    report.service_types =
        service_types::service::import(state, &actor, DEMO_SERVICE_TYPES.as_bytes()).await.map_err(|e| match e {
            ServiceTypeError::Invalid(errors) => {
                anyhow::anyhow!("seeds/service-types.yaml: {}", document::lines(&errors).join("; "))
            }
            other => anyhow::anyhow!("seeds/service-types.yaml: {other}"),
        })?;
    // Customers and past orders come as a whole: present already means loaded already.
    let (has_customers, has_orders) = repo::present(&state.db, org_id).await?;
    if !has_customers {
        let seed: CustomersSeed =
            serde_yaml_ng::from_str(DEMO_CUSTOMERS).context("seeds/customers.yaml is not valid")?;
        for request in &seed.customers {
            customers::service::create(state, &actor, request)
                .await
                .map_err(|e| anyhow::anyhow!("seeds/customers.yaml, {}: {e}", request.name))?;
            report.customers += 1;
        }
    }
    if !has_orders {
        let span = chrono::Duration::days(DEMO_ORDER_DAYS);
        report.orders = orders::write_history(state, org_id, DEMO_ORDERS, span, 2026).await?
            + orders::write_current_work(state, org_id, 2026).await?;
    }
    Ok(report)
}

/// Loads the demo, then adds `count` finished orders spread over two years: data for benchmarks.
pub async fn load_bench(state: &AppState, count: usize) -> anyhow::Result<usize> {
    load_demo(state, DEMO).await?;
    let name = OrgName::parse("Demo Service").map_err(|e| anyhow::anyhow!(e.message))?;
    let org = orgs::service::find_by_name(state, &name).await?;
    let seed = u64::try_from(chrono::Utc::now().timestamp_micros()).unwrap_or_default();
    orders::write_history(state, org, count, chrono::Duration::days(730), seed).await
}

async fn exists(state: &AppState, email: &str) -> anyhow::Result<bool> {
    let email = Email::parse(email).map_err(|e| anyhow::anyhow!("{email}: {}", e.message))?;
    Ok(find_login_account(&state.db, &email).await?.is_some())
}
