use chrono::{DateTime, Utc};
use domain::{Email, Locale, OrgId, Role, SessionId, UserId, UserStatus};
use sqlx::{PgConnection, PgExecutor};

#[derive(Debug)]
pub struct LoginAccount {
    pub id: UserId,
    pub org_id: OrgId,
    pub status: UserStatus,
    pub password_hash: Option<String>,
    pub locale: Locale,
}

pub async fn find_login_account(db: impl PgExecutor<'_>, email: &Email) -> sqlx::Result<Option<LoginAccount>> {
    sqlx::query_as!(
        LoginAccount,
        r#"SELECT id AS "id: UserId", org_id AS "org_id: OrgId", status AS "status: UserStatus", password_hash,
                  locale AS "locale: Locale"
           FROM users WHERE email = $1"#,
        email.as_str(),
    )
    .fetch_optional(db)
    .await
}

pub async fn password_hash_of(db: impl PgExecutor<'_>, user: UserId) -> sqlx::Result<Option<String>> {
    Ok(sqlx::query_scalar!("SELECT password_hash FROM users WHERE id = $1", user.0).fetch_optional(db).await?.flatten())
}

pub async fn set_password(conn: &mut PgConnection, user: UserId, hash: &str) -> sqlx::Result<()> {
    sqlx::query!("UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1", user.0, hash)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn create_session(
    conn: &mut PgConnection,
    session: SessionId,
    user: UserId,
    expires_at: DateTime<Utc>,
    user_agent: Option<&str>,
    ip: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO sessions (id, user_id, expires_at, user_agent, ip) VALUES ($1, $2, $3, $4, $5)",
        session.0,
        user.0,
        expires_at,
        user_agent,
        ip,
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn insert_refresh_token(conn: &mut PgConnection, hash: &[u8], session: SessionId) -> sqlx::Result<()> {
    sqlx::query!("INSERT INTO refresh_tokens (token_hash, session_id) VALUES ($1, $2)", hash, session.0)
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(Debug)]
pub struct PresentedRefreshToken {
    pub session_id: SessionId,
    pub user_id: UserId,
    pub org_id: OrgId,
    pub spent: bool,
    /// Not revoked and within its absolute lifetime.
    pub session_live: bool,
    pub user_active: bool,
}

/// Finds a refresh token and locks it, so two concurrent refreshes with one token are serialized
/// and the second sees it spent.
pub async fn lock_refresh_token(conn: &mut PgConnection, hash: &[u8]) -> sqlx::Result<Option<PresentedRefreshToken>> {
    sqlx::query_as!(
        PresentedRefreshToken,
        r#"SELECT s.id AS "session_id: SessionId", u.id AS "user_id: UserId", u.org_id AS "org_id: OrgId",
                  t.spent_at IS NOT NULL AS "spent!",
                  (s.revoked_at IS NULL AND s.expires_at > now()) AS "session_live!",
                  u.status = 'active' AS "user_active!"
           FROM refresh_tokens t
           JOIN sessions s ON s.id = t.session_id
           JOIN users u ON u.id = s.user_id
           WHERE t.token_hash = $1
           FOR UPDATE OF t"#,
        hash,
    )
    .fetch_optional(conn)
    .await
}

pub async fn spend_refresh_token(conn: &mut PgConnection, hash: &[u8]) -> sqlx::Result<()> {
    sqlx::query!("UPDATE refresh_tokens SET spent_at = now() WHERE token_hash = $1", hash).execute(&mut *conn).await?;
    Ok(())
}

pub async fn touch_session(conn: &mut PgConnection, session: SessionId) -> sqlx::Result<()> {
    sqlx::query!("UPDATE sessions SET last_seen_at = now() WHERE id = $1", session.0).execute(conn).await?;
    Ok(())
}

pub async fn revoke_session(conn: impl PgExecutor<'_>, session: SessionId, reason: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE sessions SET revoked_at = now(), revoked_reason = $2 WHERE id = $1 AND revoked_at IS NULL",
        session.0,
        reason,
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn revoke_user_sessions(conn: &mut PgConnection, user: UserId, reason: &str) -> sqlx::Result<u64> {
    let done = sqlx::query!(
        "UPDATE sessions SET revoked_at = now(), revoked_reason = $2 WHERE user_id = $1 AND revoked_at IS NULL",
        user.0,
        reason,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// The organization and current role behind a session, if the session is live and the user active.
/// A live session's organization, role and expiry.
#[derive(Debug)]
pub struct LiveSession {
    pub org_id: OrgId,
    pub role: Role,
    pub expires_at: DateTime<Utc>,
}

pub async fn live_session(
    db: impl PgExecutor<'_>,
    session: SessionId,
    user: UserId,
) -> sqlx::Result<Option<LiveSession>> {
    sqlx::query_as!(
        LiveSession,
        r#"SELECT u.org_id AS "org_id: OrgId", u.role AS "role: Role", s.expires_at
           FROM sessions s JOIN users u ON u.id = s.user_id
           WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL AND s.expires_at > now()
             AND u.status = 'active'"#,
        session.0,
        user.0,
    )
    .fetch_optional(db)
    .await
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetPurpose {
    Reset,
    Invite,
}

impl ResetPurpose {
    fn as_str(self) -> &'static str {
        match self {
            ResetPurpose::Reset => "reset",
            ResetPurpose::Invite => "invite",
        }
    }
}

pub async fn insert_reset_token(
    conn: impl PgExecutor<'_>,
    hash: &[u8],
    user: UserId,
    purpose: ResetPurpose,
    expires_at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO password_reset_tokens (token_hash, user_id, purpose, expires_at) VALUES ($1, $2, $3, $4)",
        hash,
        user.0,
        purpose.as_str(),
        expires_at,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Spends a reset token atomically: only one caller can ever get its user back.
pub async fn take_reset_token(conn: &mut PgConnection, hash: &[u8]) -> sqlx::Result<Option<(UserId, OrgId)>> {
    let row = sqlx::query!(
        r#"UPDATE password_reset_tokens t SET used_at = now()
           FROM users u
           WHERE t.token_hash = $1 AND t.used_at IS NULL AND t.expires_at > now()
             AND u.id = t.user_id AND u.status = 'active'
           RETURNING u.id AS "user_id: UserId", u.org_id AS "org_id: OrgId""#,
        hash,
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| (r.user_id, r.org_id)))
}

/// Deletes up to `limit` sessions that expired or were revoked before `now` (their refresh tokens
/// go with them); answers how many.
pub async fn delete_ended_sessions(db: impl PgExecutor<'_>, now: DateTime<Utc>, limit: i64) -> sqlx::Result<u64> {
    sqlx::query!(
        "DELETE FROM sessions WHERE id IN (
             SELECT id FROM sessions WHERE expires_at < $1 OR revoked_at < $1 LIMIT $2)",
        now,
        limit,
    )
    .execute(db)
    .await
    .map(|done| done.rows_affected())
}

/// Deletes up to `limit` password-reset links that were used or expired by `now`.
pub async fn delete_spent_reset_links(db: impl PgExecutor<'_>, now: DateTime<Utc>, limit: i64) -> sqlx::Result<u64> {
    sqlx::query!(
        "DELETE FROM password_reset_tokens WHERE token_hash IN (
             SELECT token_hash FROM password_reset_tokens WHERE used_at IS NOT NULL OR expires_at < $1 LIMIT $2)",
        now,
        limit,
    )
    .execute(db)
    .await
    .map(|done| done.rows_affected())
}
