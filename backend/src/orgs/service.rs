use super::repo;
use crate::actor::{Actor, Forbidden};
use crate::cache::{CacheKey, Cached};
use crate::state::AppState;
use crate::{audit, db};
use domain::api::org::{OrgView, UpdateOrgRequest};
use domain::{Currency, FieldErrors, Locale, OrgId, OrgName, Permission, TimeZone};
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum OrgError {
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    #[error("organization not found")]
    NotFound,
    #[error("another organization already has this name")]
    NameTaken,
    #[error("{0}")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for OrgError {
    fn from(error: sqlx::Error) -> Self {
        if db::is_unique_violation(&error, "organizations_name_key") {
            return Self::NameTaken;
        }
        Self::Internal(error.into())
    }
}

/// The caller's organization, from the cache. The reads of settings inside transactions
/// (`scheduling::board::settings`, order creation) stay on PostgreSQL: they run while holding row
/// locks, where a Redis round trip would only lengthen the lock, and must see their snapshot.
pub async fn get(state: &AppState, actor: &Actor) -> Result<OrgView, OrgError> {
    actor.require(Permission::ReadOrganization)?;
    let key = CacheKey::new(Cached::OrgSettings, actor.org_id(), &serde_json::Value::Null);
    state
        .cache
        .get_or_load(&key, || async { repo::find(&state.db, actor.org_id()).await?.ok_or(OrgError::NotFound) })
        .await
}

pub async fn update(state: &AppState, actor: &Actor, request: &UpdateOrgRequest) -> Result<OrgView, OrgError> {
    actor.require(Permission::ManageOrganization)?;
    let changes = request.parse().map_err(OrgError::Invalid)?;
    let mut tx = state.db.begin().await?;
    repo::update(&mut tx, actor.org_id(), &changes).await?;
    let details = json!({
        "name": changes.name, "time_zone": changes.time_zone, "locale": changes.locale, "currency": changes.currency,
    });
    audit::record(&mut tx, actor, "org.updated", ("organization", actor.org_id().0), details).await?;
    let view = repo::find(&mut *tx, actor.org_id()).await?.ok_or(OrgError::NotFound)?;
    tx.commit().await?;
    // Technicians and service types show the currency; the counters count days in the time zone.
    state.cache.invalidate(actor.org_id(), &Cached::ALL).await;
    Ok(view)
}

/// The organization of this name (case-insensitive), for the command line, which names
/// organizations instead of acting within a signed-in user's.
pub async fn find_by_name(state: &AppState, name: &OrgName) -> Result<OrgId, OrgError> {
    repo::find_by_name(&state.db, name).await?.ok_or(OrgError::NotFound)
}

/// What a new organization starts with when only its name is known.
#[derive(Debug, Clone)]
pub struct NewOrg {
    pub name: OrgName,
    pub time_zone: TimeZone,
    pub locale: Locale,
    pub currency: Currency,
}

/// Finds the organization by name or creates it: for the command line and the seed, which act as
/// the system before any user exists.
pub async fn find_or_create(state: &AppState, org: &NewOrg) -> Result<OrgId, OrgError> {
    let mut tx = state.db.begin().await?;
    let id =
        repo::insert_if_absent(&mut tx, OrgId::new_v7(), &org.name, &org.time_zone, org.locale, &org.currency).await?;
    tx.commit().await?;
    Ok(id)
}
