//! Starting, reading and cancelling long operations, and downloading what an export made.
//!
//! Who sees what: an operation belongs to the organization and to the user who started it.
//! Admins (`ReadAllOperations`) see, cancel and download every operation of the organization;
//! everyone else only their own. Starting one takes the permission of its kind: `ExportOrders`
//! (admins, dispatchers, managers), `ManageCustomers` for imports and `BroadcastToTechnicians`
//! for broadcasts (admins, dispatchers), so technicians start none. A file is downloaded only
//! by who may see the operation and still holds `ExportOrders`.

use super::repo::{self, NewOperation, OperationFilter};
use super::{broadcast, export, import};
use crate::actor::{Actor, Forbidden, UserActor};
use crate::attachments::service::Download;
use crate::auth::AuthError;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use domain::api::operations::{
    BroadcastRequest, ExportOrdersRequest, ListOperationsQuery, OperationKind, OperationStatus, OperationView,
};
use domain::{FieldError, FieldErrors, OperationId, Page, PageLimit, Permission, UserId};
use object_store::ObjectStoreExt;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum OperationError {
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    #[error("operation not found")]
    NotFound,
    #[error("the operation has already finished: {0}")]
    Finished(OperationStatus),
    #[error("{0}")]
    FileGone(&'static str),
    #[error("{0}")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for OperationError {
    fn from(error: sqlx::Error) -> Self {
        Self::Internal(error.into())
    }
}

impl From<object_store::Error> for OperationError {
    fn from(error: object_store::Error) -> Self {
        Self::Internal(error.into())
    }
}

/// Whose operations the user sees: all of the organization's (`None`) or their own.
fn visible_to(user: &UserActor) -> Option<UserId> {
    if Actor::User(*user).require(Permission::ReadAllOperations).is_ok() { None } else { Some(user.user_id) }
}

/// Records a queued operation; the relay's next round hands it to the operations queue.
async fn start(
    state: &AppState,
    user: &UserActor,
    id: OperationId,
    kind: OperationKind,
    params: serde_json::Value,
    total: Option<i64>,
) -> Result<OperationView, OperationError> {
    let mut tx = state.db.begin().await?;
    let operation = NewOperation { id, org: user.org_id, kind, created_by: user.user_id, params: &params, total };
    repo::insert(&mut tx, &operation).await?;
    crate::audit::record(
        &mut tx,
        &Actor::User(*user),
        "operation.started",
        ("operation", id.0),
        json!({ "kind": kind }),
    )
    .await?;
    let view = repo::find(&mut *tx, user.org_id, id, None).await?.ok_or(OperationError::NotFound)?;
    tx.commit().await?;
    Ok(view)
}

/// Exports the orders matching the filter as CSV.
pub async fn export_orders(
    state: &AppState,
    user: &UserActor,
    request: &ExportOrdersRequest,
) -> Result<OperationView, OperationError> {
    Actor::User(*user).require(Permission::ExportOrders)?;
    let params = serde_json::to_value(request).map_err(anyhow::Error::from)?;
    Box::pin(start(state, user, OperationId::new_v7(), OperationKind::ExportOrders, params, None)).await
}

/// Imports customers from a CSV file, checked whole before anything is kept.
pub async fn import_customers(
    state: &AppState,
    user: &UserActor,
    file: &[u8],
) -> Result<OperationView, OperationError> {
    Actor::User(*user).require(Permission::ManageCustomers)?;
    let parsed = import::read(file).map_err(OperationError::Invalid)?;
    let id = OperationId::new_v7();
    let key = import::upload_key(user.org_id, id);
    state.storage.put(&key, file.to_vec().into()).await?;
    let rows = i64::try_from(parsed.rows()).unwrap_or(i64::MAX);
    let params = json!({ "bytes": file.len(), "rows": rows });
    let started = Box::pin(start(state, user, id, OperationKind::ImportCustomers, params, Some(rows))).await;
    if started.is_err()
        && let Err(error) = state.storage.delete(&key).await
    {
        tracing::warn!(%error, key = %key, "removing the upload of an import that did not start failed");
    }
    started
}

/// Sends a text to technicians (all active ones, those named, or those serving a zone), in-app and
/// on the channels each chose. Naming anyone who is not a technician of the organization is refused.
pub async fn broadcast(
    state: &AppState,
    user: &UserActor,
    request: &BroadcastRequest,
) -> Result<OperationView, OperationError> {
    Actor::User(*user).require(Permission::BroadcastToTechnicians)?;
    let broadcast = request.parse().map_err(OperationError::Invalid)?;
    if let Some(ids) = &broadcast.technician_ids {
        let strangers = repo::not_technicians(&state.db, user.org_id, ids).await?;
        if let Some(first) = strangers.first() {
            let message = format!("{first} is not a technician of the organization");
            let error = FieldError::new("unknown_technician", message);
            return Err(OperationError::Invalid(FieldErrors::single("technician_ids", error)));
        }
    }
    let audience = broadcast::audience(user.org_id, &broadcast);
    let total = repo::audience_size(&state.db, audience).await?;
    let params = serde_json::to_value(&broadcast).map_err(anyhow::Error::from)?;
    Box::pin(start(state, user, OperationId::new_v7(), OperationKind::Broadcast, params, Some(total))).await
}

/// The operations the user sees, newest first.
pub async fn list(
    state: &AppState,
    user: &UserActor,
    query: &ListOperationsQuery,
) -> Result<Page<OperationView>, OperationError> {
    let limit = PageLimit::new(query.limit);
    let filter = OperationFilter {
        id: None,
        created_by: visible_to(user),
        kind: query.kind,
        status: query.status,
        before: query.cursor.map(|cursor| cursor.0),
        limit: limit.probe(),
    };
    let rows = repo::select(&state.db, user.org_id, &filter).await?;
    Ok(Page::from_probe(rows, limit, |operation| operation.id.0))
}

pub async fn get(state: &AppState, user: &UserActor, id: OperationId) -> Result<OperationView, OperationError> {
    repo::find(&state.db, user.org_id, id, visible_to(user)).await?.ok_or(OperationError::NotFound)
}

/// Asks the operation to stop. One that has not started stops at once; a running one before its
/// next chunk (what its chunks did stays done). A finished one: 409.
pub async fn cancel(state: &AppState, user: &UserActor, id: OperationId) -> Result<OperationView, OperationError> {
    let scope = visible_to(user);
    let Some(status) = repo::request_cancel(&state.db, user.org_id, id, scope).await? else {
        let operation = repo::find(&state.db, user.org_id, id, scope).await?.ok_or(OperationError::NotFound)?;
        return Err(OperationError::Finished(operation.status));
    };
    let operation = get(state, user, id).await?;
    if status == OperationStatus::Cancelled && operation.kind == OperationKind::ImportCustomers {
        // It never started, so no worker will tidy up after it.
        import::forget_upload(state, user.org_id, id).await;
    }
    Ok(operation)
}

/// The file an export made, while it is kept.
pub async fn file(state: &AppState, user: &UserActor, id: OperationId) -> Result<Download, OperationError> {
    Actor::User(*user).require(Permission::ExportOrders)?;
    let operation = get(state, user, id).await?;
    if operation.kind != OperationKind::ExportOrders {
        return Err(OperationError::FileGone("this operation makes no file"));
    }
    let file = &operation.result["file"];
    let expires_at = serde_json::from_value::<DateTime<Utc>>(file["expires_at"].clone()).ok();
    if operation.status != OperationStatus::Succeeded {
        return Err(OperationError::FileGone("the export has not made its file"));
    }
    if expires_at.is_none_or(|at| at <= Utc::now()) || file.get("deleted_at").is_some() {
        return Err(OperationError::FileGone("the export's file has expired"));
    }
    let object = match state.storage.get(&export::file_key(user.org_id, id)).await {
        Ok(object) => object,
        Err(object_store::Error::NotFound { .. }) => return Err(OperationError::FileGone("the export's file is gone")),
        Err(error) => return Err(error.into()),
    };
    let file_name = file["name"].as_str().unwrap_or("orders.csv").to_owned();
    Ok(Download {
        file_name,
        content_type: "text/csv; charset=utf-8".into(),
        size: object.meta.size,
        body: object.into_stream(),
    })
}

/// Deletes the files of exports that expired (the periodic clean-up calls it); answers how many.
pub async fn delete_expired_files(state: &AppState) -> anyhow::Result<usize> {
    let expired = repo::expired_files(&state.db, 100).await?;
    for &(org, id) in &expired {
        match state.storage.delete(&export::file_key(org, id)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => repo::file_deleted(&state.db, id).await?,
            Err(error) => return Err(error.into()),
        }
    }
    Ok(expired.len())
}
