use domain::{OrgId, Permission, Role, SessionId, UserId};

/// Who is acting. Every service call takes one and decides from it what may be seen and done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in user, as checked against their live session for this request.
    User(UserActor),
    /// The system itself (command line, seed, jobs), acting within one organization.
    System { org_id: OrgId },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserActor {
    pub user_id: UserId,
    pub org_id: OrgId,
    pub role: Role,
    pub session_id: SessionId,
}

impl Actor {
    pub fn org_id(&self) -> OrgId {
        match self {
            Actor::User(user) => user.org_id,
            Actor::System { org_id } => *org_id,
        }
    }

    pub fn user_id(&self) -> Option<UserId> {
        match self {
            Actor::User(user) => Some(user.user_id),
            Actor::System { .. } => None,
        }
    }

    /// Refuses with 403 when the actor's role lacks the permission; the system may do anything.
    pub fn require(&self, permission: Permission) -> Result<(), Forbidden> {
        match self {
            Actor::User(user) if !user.role.permits(permission) => Err(Forbidden),
            _ => Ok(()),
        }
    }
}

/// The actor's role may not do this (403). Objects outside the actor's reach are "not found" instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("your role may not do this")]
pub struct Forbidden;
