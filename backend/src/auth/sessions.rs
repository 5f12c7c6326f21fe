//! Live sessions remembered in this process, so that a request with a valid access token costs
//! no PostgreSQL round trip to learn that its session still stands.
//!
//! PostgreSQL notifies every process (channel `sessions`, from triggers) when a session is revoked
//! or a user's role, status or organization changes, and the process's one listener
//! (`events::EventHub`) makes this cache forget that user. The process that makes such a change
//! forgets at once as well, without waiting for its own notification. Nothing is remembered while
//! the listener is not listening, and everything is forgotten whenever it may have missed a
//! notification.
//!
//! A reader that loaded a session from PostgreSQL just before a revocation committed could store it
//! just after the revocation was applied here; a generation counter closes that race: the reader
//! notes the generation before its read and stores only if no forgetting happened since.

use chrono::{DateTime, Utc};
use domain::{OrgId, Role, SessionId, UserId};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// How long an entry is trusted without a notification, as a safety net for a change that no
/// trigger sees.
const TRUSTED_FOR: chrono::Duration = chrono::Duration::seconds(60);
/// Entries at most; a full cache starts over rather than track what is least used.
const CAPACITY: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Entry {
    user: UserId,
    org: OrgId,
    role: Role,
    until: DateTime<Utc>,
}

#[derive(Debug, Default)]
struct Inner {
    entries: RwLock<HashMap<SessionId, Entry>>,
    generation: AtomicU64,
    listening: AtomicBool,
}

/// The cache; clones share it.
#[derive(Debug, Clone, Default)]
pub struct LiveSessions(Arc<Inner>);

/// The generation a reader noted before reading PostgreSQL.
#[derive(Debug, Clone, Copy)]
pub struct Generation(u64);

impl LiveSessions {
    /// The organization and role of a remembered live session of `user`.
    pub fn get(&self, session: SessionId, user: UserId) -> Option<(OrgId, Role)> {
        let entries = self.0.entries.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = entries.get(&session)?;
        (entry.user == user && entry.until > Utc::now()).then_some((entry.org, entry.role))
    }

    pub fn generation(&self) -> Generation {
        Generation(self.0.generation.load(Ordering::SeqCst))
    }

    /// Remembers a session read from PostgreSQL as live, unless something was forgotten since
    /// `read_at` or the listener is not listening.
    pub fn remember(
        &self,
        read_at: Generation,
        session: SessionId,
        user: UserId,
        access: (OrgId, Role),
        expires_at: DateTime<Utc>,
    ) {
        if !self.0.listening.load(Ordering::SeqCst) {
            return;
        }
        let mut entries = self.0.entries.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Checked under the lock that forgetting takes too, so no forgetting slips in between.
        if self.0.generation.load(Ordering::SeqCst) != read_at.0 {
            return;
        }
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        let (org, role) = access;
        entries.insert(session, Entry { user, org, role, until: expires_at.min(Utc::now() + TRUSTED_FOR) });
    }

    /// Forgets every session of `user`.
    pub fn forget_user(&self, user: UserId) {
        let mut entries = self.0.entries.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.0.generation.fetch_add(1, Ordering::SeqCst);
        entries.retain(|_, entry| entry.user != user);
    }

    /// Forgets everything; with `listening` false, remembers nothing until told otherwise.
    pub fn forget_all(&self, listening: bool) {
        let mut entries = self.0.entries.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.0.generation.fetch_add(1, Ordering::SeqCst);
        self.0.listening.store(listening, Ordering::SeqCst);
        entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> (SessionId, UserId, OrgId) {
        (SessionId::new_v7(), UserId::new_v7(), OrgId::new_v7())
    }

    #[test]
    fn nothing_is_remembered_until_the_listener_listens() {
        let cache = LiveSessions::default();
        let (session, user, org) = ids();
        let later = Utc::now() + chrono::Duration::hours(1);
        cache.remember(cache.generation(), session, user, (org, Role::Admin), later);
        assert_eq!(cache.get(session, user), None);
        cache.forget_all(true);
        cache.remember(cache.generation(), session, user, (org, Role::Admin), later);
        assert_eq!(cache.get(session, user), Some((org, Role::Admin)));
        assert_eq!(cache.get(session, UserId::new_v7()), None, "another user's token with this session id");
    }

    #[test]
    fn a_read_from_before_a_forgetting_is_not_stored() {
        let cache = LiveSessions::default();
        cache.forget_all(true);
        let (session, user, org) = ids();
        let read_at = cache.generation();
        cache.forget_user(UserId::new_v7());
        cache.remember(read_at, session, user, (org, Role::Admin), Utc::now() + chrono::Duration::hours(1));
        assert_eq!(cache.get(session, user), None);
    }

    #[test]
    fn forgetting_a_user_forgets_only_their_sessions_and_expired_ones_are_not_answered() {
        let cache = LiveSessions::default();
        cache.forget_all(true);
        let (session, user, org) = ids();
        let (other_session, other, _) = ids();
        let later = Utc::now() + chrono::Duration::hours(1);
        cache.remember(cache.generation(), session, user, (org, Role::Admin), later);
        cache.remember(cache.generation(), other_session, other, (org, Role::Technician), later);
        cache.forget_user(user);
        assert_eq!(cache.get(session, user), None);
        assert_eq!(cache.get(other_session, other), Some((org, Role::Technician)));
        let (expired, someone, _) = ids();
        cache.remember(
            cache.generation(),
            expired,
            someone,
            (org, Role::Admin),
            Utc::now() - chrono::Duration::seconds(1),
        );
        assert_eq!(cache.get(expired, someone), None);
    }
}
