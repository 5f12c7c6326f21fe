use super::emails;
use super::repo::{self, ResetPurpose};
use super::tokens::{self, ACCESS_TOKEN_TTL, SESSION_TTL, TokenError};
use crate::actor::{Actor, UserActor};
use crate::audit;
use crate::mail::Mail;
use crate::rate_limit::{Limit, Limited};
use crate::state::AppState;
use chrono::{Duration, Utc};
use domain::api::auth::TokenPair;
use domain::{Email, FieldErrors, Locale, NewPassword, OrgId, SessionId, UserId, Validator};
use serde_json::json;
use sqlx::PgConnection;

pub const RESET_TOKEN_TTL: Duration = Duration::hours(1);
pub const INVITE_TOKEN_TTL: Duration = Duration::days(7);

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Wrong email, wrong password and disabled account all look like this, on purpose.
    #[error("email or password is wrong")]
    InvalidCredentials,
    #[error("no bearer token was presented")]
    MissingToken,
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error("this session has ended; sign in again")]
    SessionRevoked,
    #[error("the refresh token is unknown or expired")]
    RefreshTokenInvalid,
    #[error("the refresh token was already used; the session has been ended for safety")]
    RefreshTokenReused,
    #[error("the reset link is unknown, used or expired")]
    ResetTokenInvalid,
    #[error("the current password is wrong")]
    CurrentPasswordWrong,
    #[error("too many attempts; retry in {} seconds", .0.retry_after)]
    RateLimited(Limited),
    #[error("{0}")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for AuthError {
    fn from(error: sqlx::Error) -> Self {
        Self::Internal(error.into())
    }
}

impl From<Limited> for AuthError {
    fn from(limited: Limited) -> Self {
        Self::RateLimited(limited)
    }
}

/// Where a request came from, for rate limits and the session list.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    pub ip: String,
    pub user_agent: Option<String>,
}

// Each of these routes also has a per-IP window, which `http::limits` counts before they run.

/// Failed sign-ins per account: a person who types their password right is never locked out.
fn login_failures_limit(state: &AppState) -> Limit {
    let max = state.settings.rate_limits.login_failures_per_account;
    Limit { name: "login:failures", max, window: std::time::Duration::from_secs(15 * 60) }
}

/// Reset emails per account.
fn password_limit(state: &AppState) -> Limit {
    let max = state.settings.rate_limits.password_per_account_per_hour;
    Limit { name: "password:account", max, window: std::time::Duration::from_secs(3600) }
}

pub async fn login(state: &AppState, email: &str, password: &str, client: &ClientInfo) -> Result<TokenPair, AuthError> {
    let per_account = login_failures_limit(state);
    let account_key = email.trim().to_lowercase();
    state.limiter.check(per_account, &account_key).await?;

    let account = match Email::parse(email) {
        Ok(email) => repo::find_login_account(&state.db, &email).await?,
        Err(_) => None,
    };
    // Always run one argon2 verification, so the answer takes as long whether or not the account exists.
    let hash = account.as_ref().and_then(|a| a.password_hash.as_deref());
    let password_ok = state.passwords.verify(password, hash).await?;
    let account = match account {
        Some(account) if password_ok && account.status == domain::UserStatus::Active => account,
        _ => {
            let _ = state.limiter.hit(per_account, &account_key).await;
            return Err(AuthError::InvalidCredentials);
        }
    };

    let mut tx = state.db.begin().await?;
    let pair = start_session(state, &mut tx, account.id, account.org_id, client).await?;
    let by = audit::By { org_id: account.org_id, user_id: Some(account.id) };
    audit::record(&mut tx, by, "auth.login", ("user", account.id.0), json!({ "ip": client.ip })).await?;
    tx.commit().await?;
    Ok(pair)
}

/// Opens a session and issues its first token pair.
async fn start_session(
    state: &AppState,
    conn: &mut PgConnection,
    user: UserId,
    org: OrgId,
    client: &ClientInfo,
) -> Result<TokenPair, AuthError> {
    let session = SessionId::new_v7();
    repo::create_session(conn, session, user, Utc::now() + SESSION_TTL, client.user_agent.as_deref(), &client.ip)
        .await?;
    issue_pair(state, conn, user, org, session).await
}

async fn issue_pair(
    state: &AppState,
    conn: &mut PgConnection,
    user: UserId,
    org: OrgId,
    session: SessionId,
) -> Result<TokenPair, AuthError> {
    let (refresh_token, hash) = tokens::new_opaque_token();
    repo::insert_refresh_token(conn, &hash, session).await?;
    Ok(TokenPair {
        access_token: state.tokens.issue_access(user, org, session)?,
        refresh_token,
        token_type: "Bearer".into(),
        expires_in: u64::try_from(ACCESS_TOKEN_TTL.num_seconds()).unwrap_or(900),
    })
}

/// Rotates a refresh token. Presenting a spent one means it was stolen or replayed: the whole
/// session ends, for the thief and the owner alike.
pub async fn refresh(state: &AppState, refresh_token: &str) -> Result<TokenPair, AuthError> {
    let hash = tokens::hash_opaque_token(refresh_token);
    let mut tx = state.db.begin().await?;
    let Some(presented) = repo::lock_refresh_token(&mut tx, &hash).await? else {
        return Err(AuthError::RefreshTokenInvalid);
    };
    if presented.spent {
        repo::revoke_session(&mut *tx, presented.session_id, "refresh_token_reused").await?;
        tx.commit().await?;
        state.sessions.forget_user(presented.user_id);
        tracing::warn!(session = %presented.session_id, user = %presented.user_id, "refresh token reuse; session revoked");
        return Err(AuthError::RefreshTokenReused);
    }
    if !presented.session_live || !presented.user_active {
        return Err(AuthError::SessionRevoked);
    }
    repo::spend_refresh_token(&mut tx, &hash).await?;
    repo::touch_session(&mut tx, presented.session_id).await?;
    let pair = issue_pair(state, &mut tx, presented.user_id, presented.org_id, presented.session_id).await?;
    tx.commit().await?;
    Ok(pair)
}

pub async fn logout(state: &AppState, actor: &UserActor) -> Result<(), AuthError> {
    repo::revoke_session(&state.db, actor.session_id, "logout").await?;
    state.sessions.forget_user(actor.user_id);
    Ok(())
}

/// Turns a bearer token into the acting user, checked against the live session on every request:
/// a logout, a password change or a disabled account stops the token at once, and a role change
/// takes effect at once. The check is answered from `sessions::LiveSessions` when it can.
pub async fn authenticate(state: &AppState, bearer: &str) -> Result<UserActor, AuthError> {
    let claims = state.tokens.verify_access(bearer)?;
    let actor = |(org_id, role)| UserActor { user_id: claims.sub, org_id, role, session_id: claims.sid };
    if let Some(access) = state.sessions.get(claims.sid, claims.sub) {
        return Ok(actor(access));
    }
    // The listener that keeps the cache true starts with the first request that could use it.
    state.events.start(&state.db);
    let read_at = state.sessions.generation();
    let live = repo::live_session(&state.db, claims.sid, claims.sub).await?.ok_or(AuthError::SessionRevoked)?;
    let access = (live.org_id, live.role);
    state.sessions.remember(read_at, claims.sid, claims.sub, access, live.expires_at);
    Ok(actor(access))
}

/// Emails a one-time reset link when an active account has this email. The caller learns nothing:
/// the answer and its timing are the same either way (the email is sent in the background).
pub async fn forgot_password(state: &AppState, email: &str) -> Result<(), AuthError> {
    let Ok(email) = Email::parse(email) else { return Ok(()) };
    state.limiter.hit(password_limit(state), email.as_str()).await?;
    let Some(account) = repo::find_login_account(&state.db, &email).await? else { return Ok(()) };
    if account.status != domain::UserStatus::Active {
        return Ok(());
    }
    let mail = password_link_mail(state, &state.db, account.id, &email, account.locale, ResetPurpose::Reset).await?;
    state.mailer.send_in_background(mail);
    Ok(())
}

/// Stores a one-time token for a reset or an invitation and writes the email carrying its link, in
/// the reader's language.
/// The caller sends the email once its transaction has committed, so no link points at nothing.
pub async fn password_link_mail(
    state: &AppState,
    conn: impl sqlx::PgExecutor<'_>,
    user: UserId,
    email: &Email,
    locale: Locale,
    purpose: ResetPurpose,
) -> Result<Mail, sqlx::Error> {
    let (token, hash) = tokens::new_opaque_token();
    let ttl = match purpose {
        ResetPurpose::Reset => RESET_TOKEN_TTL,
        ResetPurpose::Invite => INVITE_TOKEN_TTL,
    };
    repo::insert_reset_token(conn, &hash, user, purpose, Utc::now() + ttl).await?;
    let link = format!("{}/reset-password?token={token}", state.settings.public_base());
    Ok(emails::password_link(email, purpose, locale, &link))
}

/// Sets a new password from a reset or invitation link and ends every session of the account.
pub async fn reset_password(
    state: &AppState,
    token: &str,
    new_password: &str,
    client: &ClientInfo,
) -> Result<(), AuthError> {
    let mut v = Validator::default();
    let password = v.check("new_password", NewPassword::parse(new_password));
    let password = v.finish(|| password).map_err(AuthError::Invalid)?;
    let hash = state.passwords.hash(&password).await?;

    let mut tx = state.db.begin().await?;
    let (user, org) = repo::take_reset_token(&mut tx, &tokens::hash_opaque_token(token))
        .await?
        .ok_or(AuthError::ResetTokenInvalid)?;
    repo::set_password(&mut tx, user, &hash).await?;
    let ended = repo::revoke_user_sessions(&mut tx, user, "password_reset").await?;
    let by = audit::By { org_id: org, user_id: Some(user) };
    audit::record(
        &mut tx,
        by,
        "auth.password_reset",
        ("user", user.0),
        json!({ "sessions_ended": ended, "ip": client.ip }),
    )
    .await?;
    tx.commit().await?;
    state.sessions.forget_user(user);
    Ok(())
}

/// Changes the caller's password, ends all their sessions (stolen ones included) and starts a
/// fresh one for this device.
pub async fn change_password(
    state: &AppState,
    actor: &UserActor,
    current: &str,
    new_password: &str,
    client: &ClientInfo,
) -> Result<TokenPair, AuthError> {
    let mut v = Validator::default();
    let password = v.check("new_password", NewPassword::parse(new_password));
    let password = v.finish(|| password).map_err(AuthError::Invalid)?;
    let stored = repo::password_hash_of(&state.db, actor.user_id).await?;
    if !state.passwords.verify(current, stored.as_deref()).await? {
        return Err(AuthError::CurrentPasswordWrong);
    }
    let hash = state.passwords.hash(&password).await?;

    let mut tx = state.db.begin().await?;
    repo::set_password(&mut tx, actor.user_id, &hash).await?;
    let ended = repo::revoke_user_sessions(&mut tx, actor.user_id, "password_changed").await?;
    let pair = start_session(state, &mut tx, actor.user_id, actor.org_id, client).await?;
    audit::record(
        &mut tx,
        &Actor::User(*actor),
        "auth.password_changed",
        ("user", actor.user_id.0),
        json!({ "sessions_ended": ended }),
    )
    .await?;
    tx.commit().await?;
    state.sessions.forget_user(actor.user_id);
    Ok(pair)
}
