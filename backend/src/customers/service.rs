use super::repo::{self, CustomerFilter, Search};
use crate::actor::{Actor, Forbidden};
use crate::audit;
use crate::state::AppState;
use domain::api::customers::{
    CreateCustomerRequest, CreateSiteRequest, CreatedCustomer, CustomerView, ListCustomersQuery, MAX_SITES, SiteView,
    UpdateCustomerRequest, UpdateSiteRequest,
};
use domain::{CustomerId, FieldErrors, Page, PageLimit, Permission, SiteId};
use serde_json::json;

/// How many look-alikes the duplicate-phone hint names at most.
const PHONE_MATCHES: i64 = 10;

#[derive(Debug, thiserror::Error)]
pub enum CustomerError {
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    #[error("customer not found")]
    NotFound,
    #[error("site not found")]
    SiteNotFound,
    #[error("a customer has at most {MAX_SITES} sites")]
    SiteLimitReached,
    #[error("{0}")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for CustomerError {
    fn from(error: sqlx::Error) -> Self {
        Self::Internal(error.into())
    }
}

/// Customers in creation order; archived ones only on request; `q` searches names, phones and
/// addresses.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    query: &ListCustomersQuery,
) -> Result<Page<CustomerView>, CustomerError> {
    actor.require(Permission::ReadCustomers)?;
    let limit = PageLimit::new(query.limit);
    let after = query.cursor.map(|c| c.0);
    let mut conn = state.db.acquire().await?;
    let hits = match query.q.as_deref().and_then(Search::new) {
        Some(search) => {
            Some(repo::search(&mut conn, actor.org_id(), &search, query.include_archived, after, limit.probe()).await?)
        }
        None => None,
    };
    let filter = CustomerFilter {
        id: None,
        include_archived: query.include_archived,
        ids: hits.as_deref(),
        after,
        limit: limit.probe(),
    };
    let rows = repo::select(&mut conn, actor.org_id(), &filter).await?;
    Ok(Page::from_probe(rows, limit, |customer| customer.id.0))
}

/// A customer by id, archived or not.
pub async fn get(state: &AppState, actor: &Actor, id: CustomerId) -> Result<CustomerView, CustomerError> {
    actor.require(Permission::ReadCustomers)?;
    let mut conn = state.db.acquire().await?;
    repo::find(&mut conn, actor.org_id(), id).await?.ok_or(CustomerError::NotFound)
}

/// Creates a customer with their sites, and names the active customers who already have one of
/// the phone numbers: a hint at a duplicate, never a refusal (a family or a company shares numbers).
pub async fn create(
    state: &AppState,
    actor: &Actor,
    request: &CreateCustomerRequest,
) -> Result<CreatedCustomer, CustomerError> {
    actor.require(Permission::ManageCustomers)?;
    let customer = request.parse().map_err(CustomerError::Invalid)?;
    let org = actor.org_id();
    let mut tx = state.db.begin().await?;
    let id = repo::insert_with_sites(&mut tx, org, &customer).await?;
    let phone_matches = if customer.phones.is_empty() {
        Vec::new()
    } else {
        repo::phone_matches(&mut tx, org, &customer.phones, id, PHONE_MATCHES).await?
    };
    audit::record(
        &mut tx,
        actor,
        "customer.created",
        ("customer", id.0),
        json!({ "sites": customer.sites.len(), "phone_matches": phone_matches.len() }),
    )
    .await?;
    let view = repo::find(&mut tx, org, id).await?.ok_or(CustomerError::NotFound)?;
    tx.commit().await?;
    Ok(CreatedCustomer { customer: view, phone_matches })
}

pub async fn update(
    state: &AppState,
    actor: &Actor,
    id: CustomerId,
    request: &UpdateCustomerRequest,
) -> Result<CustomerView, CustomerError> {
    actor.require(Permission::ManageCustomers)?;
    let changes = request.parse().map_err(CustomerError::Invalid)?;
    let mut tx = state.db.begin().await?;
    if !repo::update(&mut tx, actor.org_id(), id, &changes).await? {
        return Err(CustomerError::NotFound);
    }
    audit::record(&mut tx, actor, "customer.updated", ("customer", id.0), json!({})).await?;
    let view = repo::find(&mut tx, actor.org_id(), id).await?.ok_or(CustomerError::NotFound)?;
    tx.commit().await?;
    Ok(view)
}

/// Archives (hides from lists and searches) or restores a customer. Doing it twice is harmless.
pub async fn set_archived(
    state: &AppState,
    actor: &Actor,
    id: CustomerId,
    archived: bool,
) -> Result<CustomerView, CustomerError> {
    actor.require(Permission::ManageCustomers)?;
    let mut tx = state.db.begin().await?;
    if repo::set_archived(&mut tx, actor.org_id(), id, archived).await? {
        let action = if archived { "customer.archived" } else { "customer.restored" };
        audit::record(&mut tx, actor, action, ("customer", id.0), json!({})).await?;
    }
    let view = repo::find(&mut tx, actor.org_id(), id).await?.ok_or(CustomerError::NotFound)?;
    tx.commit().await?;
    Ok(view)
}

pub async fn add_site(
    state: &AppState,
    actor: &Actor,
    customer: CustomerId,
    request: &CreateSiteRequest,
) -> Result<SiteView, CustomerError> {
    actor.require(Permission::ManageCustomers)?;
    let site = request.parse().map_err(CustomerError::Invalid)?;
    let org = actor.org_id();
    let mut tx = state.db.begin().await?;
    let count = repo::lock_and_count_sites(&mut tx, org, customer).await?.ok_or(CustomerError::NotFound)?;
    if usize::try_from(count).unwrap_or(usize::MAX) >= MAX_SITES {
        return Err(CustomerError::SiteLimitReached);
    }
    let id = SiteId::new_v7();
    repo::insert_site(&mut tx, org, customer, id, &site).await?;
    audit::record(&mut tx, actor, "customer.site_added", ("customer_site", id.0), json!({ "customer": customer }))
        .await?;
    let view = repo::find_site(&mut tx, org, customer, id).await?.ok_or(CustomerError::SiteNotFound)?;
    tx.commit().await?;
    Ok(view)
}

pub async fn update_site(
    state: &AppState,
    actor: &Actor,
    customer: CustomerId,
    id: SiteId,
    request: &UpdateSiteRequest,
) -> Result<SiteView, CustomerError> {
    actor.require(Permission::ManageCustomers)?;
    let changes = request.parse().map_err(CustomerError::Invalid)?;
    let org = actor.org_id();
    let mut tx = state.db.begin().await?;
    if !repo::update_site(&mut tx, org, customer, id, &changes).await? {
        return Err(site_or_customer_missing(&mut tx, actor, customer).await);
    }
    audit::record(&mut tx, actor, "customer.site_updated", ("customer_site", id.0), json!({ "customer": customer }))
        .await?;
    let view = repo::find_site(&mut tx, org, customer, id).await?.ok_or(CustomerError::SiteNotFound)?;
    tx.commit().await?;
    Ok(view)
}

/// Archives a site: it stays on the customer's card, marked, and stops matching searches.
pub async fn archive_site(
    state: &AppState,
    actor: &Actor,
    customer: CustomerId,
    id: SiteId,
) -> Result<SiteView, CustomerError> {
    actor.require(Permission::ManageCustomers)?;
    let org = actor.org_id();
    let mut tx = state.db.begin().await?;
    if repo::archive_site(&mut tx, org, customer, id).await? {
        audit::record(
            &mut tx,
            actor,
            "customer.site_archived",
            ("customer_site", id.0),
            json!({ "customer": customer }),
        )
        .await?;
    }
    let view = match repo::find_site(&mut tx, org, customer, id).await? {
        Some(view) => view,
        None => return Err(site_or_customer_missing(&mut tx, actor, customer).await),
    };
    tx.commit().await?;
    Ok(view)
}

/// Tells which of the two is missing, so a client can say "customer not found" or "site not found".
async fn site_or_customer_missing(conn: &mut sqlx::PgConnection, actor: &Actor, customer: CustomerId) -> CustomerError {
    match repo::find(conn, actor.org_id(), customer).await {
        Ok(Some(_)) => CustomerError::SiteNotFound,
        Ok(None) => CustomerError::NotFound,
        Err(error) => error.into(),
    }
}
