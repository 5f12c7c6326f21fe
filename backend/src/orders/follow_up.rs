//! What other areas do inside an order action's transaction, without orders knowing them: orders
//! call the hook, the area that cares implements it, and `crate::app` plugs it in. So the
//! dependency runs one way (offers → orders).

use super::OrderError;
use super::repo::OrderRow;
use domain::{OrgId, UserId};
use futures_util::future::BoxFuture;
use sqlx::PgConnection;

/// Runs when the assigned technician declines an order, in the decline's transaction.
pub trait AfterDecline: Send + Sync {
    fn after_decline<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        org: OrgId,
        order: &'a OrderRow,
        technician: UserId,
    ) -> BoxFuture<'a, Result<(), OrderError>>;
}
