use super::media::{self, HEAD_BYTES, Media, PhotoFacts};
use super::repo::{self, AttachmentRow, InsertAttachment};
use crate::actor::{Actor, Forbidden};
use crate::comments::service::writable;
use crate::orders::OrderError;
use crate::orders::access::visible;
use crate::orders::repo::{NewEvent, insert_event};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::Multipart;
use axum::extract::multipart::{Field, MultipartError};
use axum::http::StatusCode;
use domain::api::attachments::{AttachmentKind, AttachmentView, ListAttachmentsQuery};
use domain::api::orders::EventChannel;
use domain::{AttachmentId, FieldError, FieldErrors, OrderId, Page, PageLimit, Permission};
use futures_util::stream::BoxStream;
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// The size of the parts written to the store while the upload streams in.
const WRITE_CHUNK_BYTES: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum AttachmentError {
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Invalid(FieldErrors),
    #[error("the file is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("only JPEG, PNG, WebP, HEIC and PDF files are accepted")]
    UnsupportedType,
    #[error("malformed multipart body: {0}")]
    Malformed(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for AttachmentError {
    fn from(error: sqlx::Error) -> Self {
        Self::Internal(error.into())
    }
}

impl From<object_store::Error> for AttachmentError {
    fn from(error: object_store::Error) -> Self {
        Self::Internal(error.into())
    }
}

impl From<OrderError> for AttachmentError {
    fn from(error: OrderError) -> Self {
        match error {
            OrderError::Forbidden(forbidden) => Self::Forbidden(forbidden),
            OrderError::NotFound => Self::NotFound,
            other => Self::Internal(other.into()),
        }
    }
}

fn invalid(code: &str, message: &str) -> AttachmentError {
    AttachmentError::Invalid(FieldErrors::single("file", FieldError::new(code, message)))
}

/// The body limit of the route cuts a body off with 413; everything else is a malformed body.
fn read_error(error: MultipartError, limit: u64) -> AttachmentError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AttachmentError::TooLarge { limit }
    } else {
        AttachmentError::Malformed(error.body_text())
    }
}

/// The client's file name reduced to its last path segment, without control characters.
fn clean_name(raw: Option<&str>) -> String {
    let base = raw.unwrap_or_default().rsplit(['/', '\\']).next().unwrap_or_default();
    let name: String = base.chars().filter(|c| !c.is_control()).take(255).collect();
    let name = name.trim();
    if name.is_empty() { "upload".to_owned() } else { name.to_owned() }
}

pub async fn list(
    state: &AppState,
    actor: &Actor,
    order: OrderId,
    query: &ListAttachmentsQuery,
) -> Result<Page<AttachmentView>, AttachmentError> {
    actor.require(Permission::ReadOrders)?;
    visible(state, actor, order).await?;
    let limit = PageLimit::new(query.limit);
    let rows =
        repo::select(&state.db, actor.org_id(), order, None, query.kind, query.cursor.map(|c| c.0), limit.probe())
            .await?;
    let page = Page::from_probe(rows, limit, |row| row.id.0);
    Ok(Page { items: page.items.into_iter().map(AttachmentRow::into_view).collect(), next_cursor: page.next_cursor })
}

/// Streams the `file` part into the store while hashing and counting it; the stored object only
/// appears when the whole file was accepted, so a refused upload leaves nothing behind.
pub async fn upload(
    state: &AppState,
    actor: &Actor,
    order_id: OrderId,
    kind: AttachmentKind,
    mut multipart: Multipart,
    channel: EventChannel,
) -> Result<AttachmentView, AttachmentError> {
    let (uploader, order) = writable(state, actor, order_id).await?;
    let limit = state.settings.max_upload_bytes;
    let mut field = match multipart.next_field().await.map_err(|e| read_error(e, limit))? {
        Some(field) if field.name() == Some("file") => field,
        Some(_) => return Err(invalid("unexpected_part", "send one multipart part, named `file`")),
        None => return Err(invalid("required", "send the file as a multipart part named `file`")),
    };
    let file_name = clean_name(field.file_name());

    let mut head = Vec::new();
    while head.len() < HEAD_BYTES {
        match field.chunk().await.map_err(|e| read_error(e, limit))? {
            Some(chunk) => head.extend_from_slice(&chunk),
            None => break,
        }
    }
    if head.is_empty() {
        return Err(invalid("empty", "the file is empty"));
    }
    if head.len() as u64 > limit {
        return Err(AttachmentError::TooLarge { limit });
    }
    let media = media::detect(&head).ok_or(AttachmentError::UnsupportedType)?;

    let store = &state.storage;
    let id = AttachmentId::new_v7();
    let key = StorePath::from(format!("orgs/{}/orders/{}/{}", actor.org_id(), order_id, id));
    let mut writer = WriteMultipart::new_with_chunk_size(store.put_multipart(&key).await?, WRITE_CHUNK_BYTES);
    let mut hasher = Sha256::new();
    let copied = copy(&mut field, head, &mut writer, &mut hasher, limit).await;
    let size = match copied {
        Ok(size) => size,
        Err(error) => {
            if let Err(abort) = writer.abort().await {
                tracing::warn!(error = %abort, "aborting a refused upload failed");
            }
            return Err(error);
        }
    };
    writer.finish().await?;
    let sha256 = hasher.finalize();

    let stored = finish(store, &key, media).await;
    let facts = match stored {
        Ok(facts) => facts,
        Err(error) => {
            remove(store, &[key]).await;
            return Err(error);
        }
    };
    let thumbnail_key = facts.as_ref().and_then(|(_, thumb)| thumb.clone());
    let facts = facts.map(|(facts, _)| facts).unwrap_or_default();
    let row = InsertAttachment {
        id,
        org: actor.org_id(),
        order: order_id,
        kind,
        file_name: &file_name,
        content_type: media.content_type,
        size_bytes: i64::try_from(size).map_err(anyhow::Error::from)?,
        sha256: &sha256,
        storage_key: key.as_ref(),
        thumbnail_key: thumbnail_key.as_ref().map(AsRef::as_ref),
        taken_at: facts.taken_at,
        latitude: facts.latitude,
        longitude: facts.longitude,
        uploaded_by: uploader,
    };
    let event = NewEvent {
        org: actor.org_id(),
        order: order_id,
        technician: order.technician_id,
        kind: "attachment",
        actor: Some(uploader),
        channel,
        payload: json!({ "attachment_id": id, "kind": kind, "file_name": file_name, "size_bytes": size }),
    };
    let saved = async {
        let mut tx = state.db.begin().await?;
        repo::insert(&mut tx, &row).await?;
        insert_event(&mut tx, &event).await?;
        let saved = repo::find(&mut *tx, actor.org_id(), order_id, id).await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(saved)
    }
    .await;
    match saved {
        Ok(Some(saved)) => Ok(saved.into_view()),
        Ok(None) => Err(AttachmentError::NotFound),
        Err(error) => {
            remove(store, &[Some(key), thumbnail_key].into_iter().flatten().collect::<Vec<_>>()).await;
            Err(error.into())
        }
    }
}

/// Writes the already read head and the rest of the part, refusing it past `limit` bytes.
async fn copy(
    field: &mut Field<'_>,
    head: Vec<u8>,
    writer: &mut WriteMultipart,
    hasher: &mut Sha256,
    limit: u64,
) -> Result<u64, AttachmentError> {
    let mut size = head.len() as u64;
    hasher.update(&head);
    writer.put(Bytes::from(head));
    while let Some(chunk) = field.chunk().await.map_err(|e| read_error(e, limit))? {
        size += chunk.len() as u64;
        if size > limit {
            return Err(AttachmentError::TooLarge { limit });
        }
        hasher.update(&chunk);
        writer.wait_for_capacity(2).await?;
        writer.put(chunk);
    }
    Ok(size)
}

/// For photos: reads the stored file back, takes EXIF and makes the thumbnail, stored next to the
/// original. Returns the facts and the thumbnail's key.
async fn finish(
    store: &Arc<dyn ObjectStore>,
    key: &StorePath,
    media: Media,
) -> Result<Option<(PhotoFacts, Option<StorePath>)>, AttachmentError> {
    if !media.photo {
        return Ok(None);
    }
    let bytes = store.get(key).await?.bytes().await?;
    let mut facts =
        tokio::task::spawn_blocking(move || media::examine(&bytes, media)).await.map_err(anyhow::Error::from)?;
    let thumbnail_key = match facts.thumbnail.take() {
        Some(jpeg) => {
            let thumbnail_key = StorePath::from(format!("{key}.thumbnail.jpg"));
            store.put(&thumbnail_key, jpeg.into()).await?;
            Some(thumbnail_key)
        }
        None => None,
    };
    Ok(Some((facts, thumbnail_key)))
}

/// Best effort: what cannot be removed is logged, the request's own error matters more.
async fn remove(store: &Arc<dyn ObjectStore>, keys: &[StorePath]) {
    for key in keys {
        if let Err(error) = store.delete(key).await {
            tracing::warn!(key = %key, error = %error, "removing an unsaved upload failed");
        }
    }
}

/// A stored file on its way to the client.
pub struct Download {
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
    pub body: BoxStream<'static, object_store::Result<Bytes>>,
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download").field("file_name", &self.file_name).finish_non_exhaustive()
    }
}

/// The original file, or its thumbnail (404 when it has none).
pub async fn download(
    state: &AppState,
    actor: &Actor,
    order: OrderId,
    id: AttachmentId,
    thumbnail: bool,
) -> Result<Download, AttachmentError> {
    actor.require(Permission::ReadOrders)?;
    visible(state, actor, order).await?;
    let row = repo::find(&state.db, actor.org_id(), order, id).await?.ok_or(AttachmentError::NotFound)?;
    let (key, content_type, file_name) = if thumbnail {
        let key = row.thumbnail_key.ok_or(AttachmentError::NotFound)?;
        let stem = row.file_name.rsplit_once('.').map_or(row.file_name.as_str(), |(stem, _)| stem);
        (key, "image/jpeg".to_owned(), format!("{stem}.thumbnail.jpg"))
    } else {
        (row.storage_key, row.content_type, row.file_name)
    };
    let object = state.storage.get(&StorePath::from(key)).await?;
    Ok(Download { file_name, content_type, size: object.meta.size, body: object.into_stream() })
}
