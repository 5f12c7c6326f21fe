use super::repo::{self, TechnicianFilter};
use crate::actor::Actor;
use crate::audit;
use crate::cache::{CacheKey, Cached};
use crate::state::AppState;
use crate::users::{UserError, service::create_in};
use domain::api::technicians::{
    CreateTechnicianRequest, ListTechniciansQuery, TechnicianView, UpdateTechnicianRequest,
};
use domain::{Page, PageLimit, Permission, Tag, UserId};
use serde_json::json;

pub async fn list(
    state: &AppState,
    actor: &Actor,
    query: &ListTechniciansQuery,
) -> Result<Page<TechnicianView>, UserError> {
    actor.require(Permission::ReadTechnicians)?;
    let limit = PageLimit::new(query.limit);
    // A filter tag that cannot exist matches nobody; normalizing keeps `HVAC` equal to `hvac`.
    let skill = query.skill.as_deref().map(|s| Tag::parse(s).map_or_else(|_| s.to_owned(), |t| t.to_string()));
    let zone = query.zone.as_deref().map(|z| Tag::parse(z).map_or_else(|_| z.to_owned(), |t| t.to_string()));
    let filter = TechnicianFilter {
        id: None,
        status: query.status,
        skill: skill.as_deref(),
        zone: zone.as_deref(),
        after: query.cursor.map(|c| c.0),
        limit: limit.probe(),
    };
    let params = json!({ "status": filter.status, "skill": filter.skill, "zone": filter.zone,
                         "after": filter.after, "limit": filter.limit });
    let key = CacheKey::new(Cached::Technicians, actor.org_id(), &params);
    state
        .cache
        .get_or_load(&key, || async {
            let rows = repo::select(&state.db, actor.org_id(), &filter).await?;
            Ok(Page::from_probe(rows, limit, |t| t.user.id.0))
        })
        .await
}

pub async fn get(state: &AppState, actor: &Actor, id: UserId) -> Result<TechnicianView, UserError> {
    actor.require(Permission::ReadTechnicians)?;
    repo::find(&state.db, actor.org_id(), id).await?.ok_or(UserError::NotFound)
}

/// Creates the technician's account and profile in one transaction.
pub async fn create(
    state: &AppState,
    actor: &Actor,
    request: &CreateTechnicianRequest,
) -> Result<TechnicianView, UserError> {
    actor.require(Permission::ManageTechnicians)?;
    let (user, profile) = request.parse().map_err(UserError::Invalid)?;
    let password_hash = match &user.password {
        Some(password) => Some(state.passwords.hash(password).await?),
        None => None,
    };
    let mut tx = state.db.begin().await?;
    let (id, invitation) = create_in(state, &mut tx, actor, &user, password_hash.as_deref()).await?;
    repo::upsert_profile(&mut tx, actor.org_id(), id, &profile).await?;
    let view = repo::find(&mut *tx, actor.org_id(), id).await?.ok_or(UserError::NotFound)?;
    tx.commit().await?;
    state.cache.invalidate(actor.org_id(), &[Cached::Technicians]).await;
    if let Some(mail) = invitation {
        state.mailer.send_in_background(mail);
    }
    Ok(view)
}

pub async fn update(
    state: &AppState,
    actor: &Actor,
    id: UserId,
    request: &UpdateTechnicianRequest,
) -> Result<TechnicianView, UserError> {
    actor.require(Permission::ManageTechnicians)?;
    let changes = request.parse().map_err(UserError::Invalid)?;
    let mut tx = state.db.begin().await?;
    repo::find(&mut *tx, actor.org_id(), id).await?.ok_or(UserError::NotFound)?;
    repo::update_profile(&mut tx, actor.org_id(), id, &changes).await?;
    audit::record(&mut tx, actor, "technician.updated", ("user", id.0), json!({})).await?;
    let view = repo::find(&mut *tx, actor.org_id(), id).await?.ok_or(UserError::NotFound)?;
    tx.commit().await?;
    state.cache.invalidate(actor.org_id(), &[Cached::Technicians]).await;
    Ok(view)
}
