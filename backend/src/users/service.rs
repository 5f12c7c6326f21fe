use super::repo::{self, UserFilter};
use crate::actor::{Actor, Forbidden, UserActor};
use crate::auth::repo::{ResetPurpose, revoke_user_sessions};
use crate::auth::service::password_link_mail;
use crate::cache::Cached;
use crate::mail::Mail;
use crate::state::AppState;
use crate::{audit, db, orgs, technicians};
use domain::api::users::{CreateUserRequest, ListUsersQuery, NewUser, UpdateMeRequest, UpdateUserRequest, UserView};
use domain::{FieldErrors, Page, PageLimit, Permission, Role, UserId, UserStatus};
use serde_json::json;
use sqlx::PgConnection;

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    #[error("user not found")]
    NotFound,
    #[error("an account with this email already exists")]
    EmailTaken,
    #[error("the organization must keep at least one active admin")]
    LastAdmin,
    #[error("{0}")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for UserError {
    fn from(error: sqlx::Error) -> Self {
        if db::is_unique_violation(&error, "users_email_key") {
            return Self::EmailTaken;
        }
        Self::Internal(error.into())
    }
}

pub async fn me(state: &AppState, actor: &UserActor) -> Result<UserView, UserError> {
    repo::find(&state.db, actor.org_id, actor.user_id).await?.ok_or(UserError::NotFound)
}

pub async fn update_me(state: &AppState, actor: &UserActor, request: &UpdateMeRequest) -> Result<UserView, UserError> {
    let changes = request.parse().map_err(UserError::Invalid)?;
    let mut tx = state.db.begin().await?;
    repo::update(&mut tx, actor.org_id, actor.user_id, &changes, None).await?;
    let view = repo::find(&mut *tx, actor.org_id, actor.user_id).await?.ok_or(UserError::NotFound)?;
    tx.commit().await?;
    user_changed(state, &view, None).await;
    Ok(view)
}

pub async fn list(state: &AppState, actor: &Actor, query: &ListUsersQuery) -> Result<Page<UserView>, UserError> {
    actor.require(Permission::ReadUsers)?;
    let limit = PageLimit::new(query.limit);
    let prefix = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let filter = UserFilter {
        id: None,
        role: query.role,
        status: query.status,
        prefix,
        after: query.cursor.map(|c| c.0),
        limit: limit.probe(),
    };
    let rows = repo::select(&state.db, actor.org_id(), &filter).await?;
    Ok(Page::from_probe(rows, limit, |user| user.id.0))
}

pub async fn get(state: &AppState, actor: &Actor, id: UserId) -> Result<UserView, UserError> {
    actor.require(Permission::ReadUsers)?;
    repo::find(&state.db, actor.org_id(), id).await?.ok_or(UserError::NotFound)
}

/// Checks the role before the body, so a caller without the right learns nothing from validation.
pub async fn create(state: &AppState, actor: &Actor, request: &CreateUserRequest) -> Result<UserView, UserError> {
    actor.require(Permission::ManageUsers)?;
    let user = request.parse().map_err(UserError::Invalid)?;
    let password_hash = match &user.password {
        Some(password) => Some(state.passwords.hash(password).await?),
        None => None,
    };
    let mut tx = state.db.begin().await?;
    let (id, invitation) = create_in(state, &mut tx, actor, &user, password_hash.as_deref()).await?;
    if user.role == Role::Technician {
        technicians::repo::ensure_profile(&mut tx, actor.org_id(), id).await?;
    }
    let view = repo::find(&mut *tx, actor.org_id(), id).await?.ok_or(UserError::NotFound)?;
    tx.commit().await?;
    user_changed(state, &view, None).await;
    if let Some(mail) = invitation {
        state.mailer.send_in_background(mail);
    }
    Ok(view)
}

/// Inserts a user of the actor's organization (locale and time zone default to the organization's)
/// and, without a password, prepares the invitation email to send after commit.
/// Shared by the users and technicians services; the caller has checked the permission.
pub(crate) async fn create_in(
    state: &AppState,
    conn: &mut PgConnection,
    actor: &Actor,
    user: &NewUser,
    password_hash: Option<&str>,
) -> Result<(UserId, Option<Mail>), UserError> {
    let org = orgs::repo::find(&mut *conn, actor.org_id()).await?.ok_or(UserError::NotFound)?;
    let id = UserId::new_v7();
    let time_zone = user.time_zone.clone().unwrap_or(org.time_zone);
    let locale = user.locale.unwrap_or(org.locale);
    repo::insert(conn, id, org.id, user, locale, &time_zone, password_hash).await?;
    let invitation = match password_hash {
        Some(_) => None,
        None => Some(password_link_mail(state, &mut *conn, id, &user.email, locale, ResetPurpose::Invite).await?),
    };
    audit::record(conn, actor, "user.created", ("user", id.0), json!({ "email": user.email, "role": user.role }))
        .await?;
    Ok((id, invitation))
}

pub async fn update(
    state: &AppState,
    actor: &Actor,
    id: UserId,
    request: &UpdateUserRequest,
) -> Result<UserView, UserError> {
    actor.require(Permission::ManageUsers)?;
    let (changes, role) = request.parse().map_err(UserError::Invalid)?;
    let mut tx = state.db.begin().await?;
    let before = repo::find(&mut *tx, actor.org_id(), id).await?.ok_or(UserError::NotFound)?;
    let role = role.filter(|role| *role != before.role);
    if role.is_some() && before.role == Role::Admin {
        keep_an_admin(&mut tx, actor, id).await?;
    }
    repo::update(&mut tx, actor.org_id(), id, &changes, role).await?;
    if role == Some(Role::Technician) {
        technicians::repo::ensure_profile(&mut tx, actor.org_id(), id).await?;
    }
    if let Some(role) = role {
        audit::record(&mut tx, actor, "user.role_changed", ("user", id.0), json!({ "from": before.role, "to": role }))
            .await?;
    }
    audit::record(&mut tx, actor, "user.updated", ("user", id.0), json!({})).await?;
    let view = repo::find(&mut *tx, actor.org_id(), id).await?.ok_or(UserError::NotFound)?;
    tx.commit().await?;
    user_changed(state, &view, Some(before.role)).await;
    Ok(view)
}

/// Disables or enables a user. Disabling ends all their sessions at once.
pub async fn set_status(
    state: &AppState,
    actor: &Actor,
    id: UserId,
    status: UserStatus,
) -> Result<UserView, UserError> {
    actor.require(Permission::ManageUsers)?;
    let mut tx = state.db.begin().await?;
    let before = repo::find(&mut *tx, actor.org_id(), id).await?.ok_or(UserError::NotFound)?;
    if status == UserStatus::Disabled && before.role == Role::Admin && before.status == UserStatus::Active {
        keep_an_admin(&mut tx, actor, id).await?;
    }
    repo::set_status(&mut tx, actor.org_id(), id, status).await?;
    let (action, ended) = match status {
        UserStatus::Disabled => ("user.disabled", revoke_user_sessions(&mut tx, id, "user_disabled").await?),
        UserStatus::Active => ("user.enabled", 0),
    };
    audit::record(&mut tx, actor, action, ("user", id.0), json!({ "sessions_ended": ended })).await?;
    let view = repo::find(&mut *tx, actor.org_id(), id).await?.ok_or(UserError::NotFound)?;
    tx.commit().await?;
    user_changed(state, &view, None).await;
    Ok(view)
}

/// After a committed change of a user: this process forgets their sessions at once (the other
/// processes do when PostgreSQL's notification reaches them), so a new role or a disabled account
/// applies to the very next request; and when they are, or were until now, a technician, the
/// technician list, which shows their account too, is invalidated.
async fn user_changed(state: &AppState, user: &UserView, role_before: Option<Role>) {
    state.sessions.forget_user(user.id);
    if user.role == Role::Technician || role_before == Some(Role::Technician) {
        state.cache.invalidate(user.org_id, &[Cached::Technicians]).await;
    }
}

/// Refuses a change that would take away the organization's last active admin.
async fn keep_an_admin(conn: &mut PgConnection, actor: &Actor, leaving: UserId) -> Result<(), UserError> {
    let admins = repo::lock_active_admins(conn, actor.org_id()).await?;
    if admins.iter().all(|admin| *admin == leaving) {
        return Err(UserError::LastAdmin);
    }
    Ok(())
}
