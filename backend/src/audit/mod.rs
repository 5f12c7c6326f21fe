//! The audit log: who changed what, written in the transaction of the change.

pub mod repo;

use crate::actor::Actor;
use domain::{OrgId, UserId};

pub use repo::record;

/// Who an audit entry is attributed to: an organization and, unless the system acted, a user.
#[derive(Debug, Clone, Copy)]
pub struct By {
    pub org_id: OrgId,
    pub user_id: Option<UserId>,
}

impl From<&Actor> for By {
    fn from(actor: &Actor) -> Self {
        Self { org_id: actor.org_id(), user_id: actor.user_id() }
    }
}
