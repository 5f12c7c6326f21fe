use super::repo;
use crate::actor::{Actor, Forbidden};
use crate::orders::OrderError;
use crate::orders::access::visible;
use crate::orders::repo::{NewEvent, OrderRow, insert_event};
use crate::state::AppState;
use domain::api::comments::{CommentView, CreateCommentRequest, ListCommentsQuery};
use domain::api::orders::EventChannel;
use domain::{CommentId, FieldErrors, OrderId, Page, PageLimit, Permission, Role, UserId};
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum CommentError {
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    #[error("order not found")]
    NotFound,
    #[error("{0}")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for CommentError {
    fn from(error: sqlx::Error) -> Self {
        Self::Internal(error.into())
    }
}

impl From<OrderError> for CommentError {
    fn from(error: OrderError) -> Self {
        match error {
            OrderError::Forbidden(forbidden) => Self::Forbidden(forbidden),
            OrderError::NotFound => Self::NotFound,
            other => Self::Internal(other.into()),
        }
    }
}

/// The order, if the actor may write on it: a person of the organization who sees the order,
/// not a manager (managers read only).
pub(crate) async fn writable(state: &AppState, actor: &Actor, id: OrderId) -> Result<(UserId, OrderRow), OrderError> {
    actor.require(Permission::ReadOrders)?;
    let user = match actor {
        Actor::User(user) if user.role != Role::Manager => user.user_id,
        _ => return Err(Forbidden.into()),
    };
    Ok((user, visible(state, actor, id).await?))
}

pub async fn list(
    state: &AppState,
    actor: &Actor,
    order: OrderId,
    query: &ListCommentsQuery,
) -> Result<Page<CommentView>, CommentError> {
    actor.require(Permission::ReadOrders)?;
    visible(state, actor, order).await?;
    let limit = PageLimit::new(query.limit);
    let rows = repo::select(&state.db, actor.org_id(), order, None, query.cursor.map(|c| c.0), limit.probe()).await?;
    Ok(Page::from_probe(rows, limit, |comment| comment.id.0))
}

pub async fn create(
    state: &AppState,
    actor: &Actor,
    order: OrderId,
    request: &CreateCommentRequest,
    channel: EventChannel,
) -> Result<CommentView, CommentError> {
    let (author, row) = writable(state, actor, order).await?;
    let comment = request.parse().map_err(CommentError::Invalid)?;
    let id = CommentId::new_v7();
    let mut tx = state.db.begin().await?;
    repo::insert(&mut tx, actor.org_id(), order, id, author, &comment).await?;
    let event = NewEvent {
        org: actor.org_id(),
        order,
        technician: row.technician_id,
        kind: "comment",
        actor: Some(author),
        channel,
        payload: json!({ "comment_id": id, "visibility": comment.visibility }),
    };
    insert_event(&mut tx, &event).await?;
    let view = repo::select(&mut *tx, actor.org_id(), order, Some(id), None, 1).await?.pop();
    tx.commit().await?;
    view.ok_or(CommentError::NotFound)
}
