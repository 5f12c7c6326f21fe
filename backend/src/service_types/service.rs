use super::document;
use super::repo::{self, ServiceTypeFilter, Upserted};
use crate::actor::{Actor, Forbidden};
use crate::cache::{CacheKey, Cached};
use crate::state::AppState;
use crate::{audit, db};
use domain::api::service_types::{
    ImportSummary, ListServiceTypesQuery, ServiceTypeSpec, ServiceTypeView, UpdateServiceTypeRequest,
};
use domain::{FieldError, FieldErrors, OrgId, Page, PageLimit, Permission, ServiceTypeId, Tag, Validator};
use serde_json::json;
use sqlx::PgExecutor;
use std::collections::HashSet;

#[derive(Debug, thiserror::Error)]
pub enum ServiceTypeError {
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    #[error("service type not found")]
    NotFound,
    #[error("another service type of the organization has this code")]
    CodeTaken,
    #[error("{0}")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for ServiceTypeError {
    fn from(error: sqlx::Error) -> Self {
        if db::is_unique_violation(&error, "service_types_code_key") {
            return Self::CodeTaken;
        }
        Self::Internal(error.into())
    }
}

pub async fn list(
    state: &AppState,
    actor: &Actor,
    query: &ListServiceTypesQuery,
) -> Result<Page<ServiceTypeView>, ServiceTypeError> {
    actor.require(Permission::ReadServiceTypes)?;
    let limit = PageLimit::new(query.limit);
    let filter = ServiceTypeFilter {
        id: None,
        include_archived: query.include_archived.unwrap_or(false),
        after: query.cursor.map(|c| c.0),
        limit: limit.probe(),
    };
    let params = json!({ "include_archived": filter.include_archived, "after": filter.after, "limit": filter.limit });
    let key = CacheKey::new(Cached::ServiceTypes, actor.org_id(), &params);
    state
        .cache
        .get_or_load(&key, || async {
            let rows = repo::select(&state.db, actor.org_id(), &filter).await?;
            Ok(Page::from_probe(rows, limit, |row| row.id.0))
        })
        .await
}

pub async fn get(state: &AppState, actor: &Actor, id: ServiceTypeId) -> Result<ServiceTypeView, ServiceTypeError> {
    actor.require(Permission::ReadServiceTypes)?;
    repo::find(&state.db, actor.org_id(), id).await?.ok_or(ServiceTypeError::NotFound)
}

pub async fn create(
    state: &AppState,
    actor: &Actor,
    spec: &ServiceTypeSpec,
) -> Result<ServiceTypeView, ServiceTypeError> {
    actor.require(Permission::ManageServiceTypes)?;
    let parsed = spec.parse();
    let unknown =
        unknown_skills(&state.db, actor.org_id(), [("required_skills".to_owned(), &spec.required_skills)]).await?;
    let template = all_valid(parsed, unknown)?;
    let id = ServiceTypeId::new_v7();
    let mut tx = state.db.begin().await?;
    repo::insert(&mut tx, actor.org_id(), id, &template).await?;
    audit::record(&mut tx, actor, "service_type.created", ("service_type", id.0), json!({ "code": template.code }))
        .await?;
    let view = repo::find(&mut *tx, actor.org_id(), id).await?.ok_or(ServiceTypeError::NotFound)?;
    tx.commit().await?;
    state.cache.invalidate(actor.org_id(), &[Cached::ServiceTypes]).await;
    Ok(view)
}

pub async fn update(
    state: &AppState,
    actor: &Actor,
    id: ServiceTypeId,
    request: &UpdateServiceTypeRequest,
) -> Result<ServiceTypeView, ServiceTypeError> {
    actor.require(Permission::ManageServiceTypes)?;
    let parsed = request.parse();
    let skills = request.required_skills.iter().map(|skills| ("required_skills".to_owned(), skills));
    let unknown = unknown_skills(&state.db, actor.org_id(), skills).await?;
    let changes = all_valid(parsed, unknown)?;
    let mut tx = state.db.begin().await?;
    if !repo::lock(&mut tx, actor.org_id(), id).await? {
        return Err(ServiceTypeError::NotFound);
    }
    let before = repo::find(&mut *tx, actor.org_id(), id).await?.ok_or(ServiceTypeError::NotFound)?;
    let template = changes.apply(before.template());
    if repo::update(&mut tx, actor.org_id(), id, &template).await? {
        audit::record(&mut tx, actor, "service_type.updated", ("service_type", id.0), json!({ "code": template.code }))
            .await?;
    }
    let view = repo::find(&mut *tx, actor.org_id(), id).await?.ok_or(ServiceTypeError::NotFound)?;
    tx.commit().await?;
    state.cache.invalidate(actor.org_id(), &[Cached::ServiceTypes]).await;
    Ok(view)
}

/// Archived service types are no longer offered for new orders; the orders that used one keep it.
pub async fn archive(state: &AppState, actor: &Actor, id: ServiceTypeId) -> Result<ServiceTypeView, ServiceTypeError> {
    actor.require(Permission::ManageServiceTypes)?;
    let mut tx = state.db.begin().await?;
    if repo::archive(&mut tx, actor.org_id(), id).await? {
        audit::record(&mut tx, actor, "service_type.archived", ("service_type", id.0), json!({})).await?;
    }
    let view = repo::find(&mut *tx, actor.org_id(), id).await?.ok_or(ServiceTypeError::NotFound)?;
    tx.commit().await?;
    state.cache.invalidate(actor.org_id(), &[Cached::ServiceTypes]).await;
    Ok(view)
}

/// The organization's service types that are not archived, as a YAML document that
/// [`import`] takes back unchanged.
pub async fn export(state: &AppState, actor: &Actor) -> Result<String, ServiceTypeError> {
    actor.require(Permission::ReadServiceTypes)?;
    let limit = PageLimit::new(Some(u32::from(PageLimit::MAX)));
    let mut specs = Vec::new();
    let mut after = None;
    loop {
        let filter = ServiceTypeFilter { id: None, include_archived: false, after, limit: limit.probe() };
        let page = Page::from_probe(repo::select(&state.db, actor.org_id(), &filter).await?, limit, |row| row.id.0);
        specs.extend(page.items.iter().map(|view| ServiceTypeSpec::from(&view.template())));
        match page.next_cursor {
            Some(cursor) => after = Some(cursor.0),
            None => break,
        }
    }
    document::write(specs).map_err(|error| ServiceTypeError::Internal(error.into()))
}

/// Imports a YAML document: each template is created, or updated when its code exists. The
/// document is checked whole first, every problem reported with its path in the document, and
/// nothing is written unless all of it is valid. Templates absent from the document stay.
/// `seeds/starter-service-types.yaml`: what a new organization starts with.
const STARTER_SET: &str = include_str!("../../../seeds/starter-service-types.yaml");

/// Gives an organization that has no service type at all (archived ones count) the starter set,
/// so that its first order can be created at once; answers how many were created.
pub async fn ensure_starter_set(state: &AppState, actor: &Actor) -> Result<u32, ServiceTypeError> {
    let any = ServiceTypeFilter { id: None, include_archived: true, after: None, limit: 1 };
    if !repo::select(&state.db, actor.org_id(), &any).await?.is_empty() {
        return Ok(0);
    }
    Ok(import(state, actor, STARTER_SET.as_bytes()).await?.created)
}

pub async fn import(state: &AppState, actor: &Actor, source: &[u8]) -> Result<ImportSummary, ServiceTypeError> {
    actor.require(Permission::ManageServiceTypes)?;
    let reading = document::read(source);
    let mut errors = reading.errors.clone();
    let mut templates = Vec::with_capacity(reading.specs.len());
    for (index, spec) in &reading.specs {
        let mut v = Validator::default();
        let template = spec.parse_at(&mut v, &format!("service_types[{index}]."));
        match v.finish(|| template) {
            Ok(template) => templates.push(template),
            Err(found) => {
                for (path, list) in found.fields.into_iter().filter(|(path, _)| !reading.is_broken(path)) {
                    list.into_iter().for_each(|error| errors.add(&path, error));
                }
            }
        }
    }
    let skills = reading
        .specs
        .iter()
        .map(|(index, spec)| (format!("service_types[{index}].required_skills"), &spec.required_skills));
    let unknown = unknown_skills(&state.db, actor.org_id(), skills).await?;
    all_valid(Ok(()), merged(errors, unknown))?;

    let mut summary = ImportSummary::default();
    let mut changed = Vec::new();
    let mut tx = state.db.begin().await?;
    for template in &templates {
        match repo::upsert(&mut tx, actor.org_id(), ServiceTypeId::new_v7(), template).await? {
            Upserted::Created => summary.created += 1,
            Upserted::Updated => summary.updated += 1,
            Upserted::Unchanged => {
                summary.unchanged += 1;
                continue;
            }
        }
        changed.push(template.code.clone());
    }
    if !changed.is_empty() {
        let details = json!({ "created": summary.created, "updated": summary.updated, "codes": changed });
        audit::record(&mut tx, actor, "service_types.imported", ("organization", actor.org_id().0), details).await?;
    }
    tx.commit().await?;
    if !changed.is_empty() {
        state.cache.invalidate(actor.org_id(), &[Cached::ServiceTypes]).await;
    }
    Ok(summary)
}

/// A required skill is known when some technician of the organization has it; each unknown one is
/// reported at `{path}[index]`. Entries that are not skills at all are left to parsing to report.
async fn unknown_skills<'a>(
    db: impl PgExecutor<'_>,
    org: OrgId,
    lists: impl IntoIterator<Item = (String, &'a Vec<String>)>,
) -> Result<FieldErrors, ServiceTypeError> {
    let mut wanted: Vec<(String, Tag)> = Vec::new();
    for (path, list) in lists {
        for (index, raw) in list.iter().enumerate() {
            if let Ok(skill) = Tag::parse(raw) {
                wanted.push((format!("{path}[{index}]"), skill));
            }
        }
    }
    let mut errors = FieldErrors::default();
    if wanted.is_empty() {
        return Ok(errors);
    }
    let mut distinct: Vec<String> = wanted.iter().map(|(_, skill)| skill.to_string()).collect();
    distinct.sort();
    distinct.dedup();
    let known: HashSet<String> = repo::known_skills(db, org, &distinct).await?.into_iter().collect();
    for (path, skill) in wanted.into_iter().filter(|(_, skill)| !known.contains(skill.as_str())) {
        let message = format!("unknown skill \"{skill}\": no technician of the organization has it");
        errors.add(&path, FieldError::new("unknown_skill", message));
    }
    Ok(errors)
}

fn merged(mut errors: FieldErrors, more: FieldErrors) -> FieldErrors {
    for (path, list) in more.fields {
        list.into_iter().for_each(|error| errors.add(&path, error));
    }
    errors
}

/// The parsed value when neither parsing nor the checks against the database found a problem;
/// otherwise every problem of both.
fn all_valid<T>(parsed: Result<T, FieldErrors>, more: FieldErrors) -> Result<T, ServiceTypeError> {
    match parsed {
        Ok(value) if more.is_empty() => Ok(value),
        Ok(_) => Err(ServiceTypeError::Invalid(more)),
        Err(errors) => Err(ServiceTypeError::Invalid(merged(errors, more))),
    }
}
