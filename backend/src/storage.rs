//! The object store holding uploaded files: a local directory (`FIELDFLOW_STORAGE_DIR`) or an S3
//! bucket (`FIELDFLOW_STORAGE_BACKEND=s3`, `FIELDFLOW_S3_*`). Opened once, at start.

use crate::config::{Settings, StorageBackend};
use anyhow::Context;
use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as StorePath;
use object_store::prefix::PrefixStore;
use secrecy::ExposeSecret;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// Called once, by `AppState::with_pool`; the store is shared from there.
pub fn open(settings: &Settings) -> anyhow::Result<Arc<dyn ObjectStore>> {
    match settings.storage_backend {
        StorageBackend::Local => local(&settings.storage_dir),
        StorageBackend::S3 => s3(settings),
    }
}

/// The directory as a prefix of a store rooted at `/`, not `LocalFileSystem::new_with_prefix`
/// (which needs the directory to exist): the first upload creates it, so commands that never
/// store files leave no directory behind and the server starts where it cannot write it yet.
fn local(dir: &Path) -> anyhow::Result<Arc<dyn ObjectStore>> {
    let context = || format!("the storage directory {} (FIELDFLOW_STORAGE_DIR)", dir.display());
    // A directory that may not exist cannot be canonicalized, so `..` is resolved by hand.
    let mut root = PathBuf::new();
    for part in std::path::absolute(dir).with_context(context)?.components() {
        if part == Component::ParentDir {
            root.pop();
        } else {
            root.push(part);
        }
    }
    let prefix = StorePath::from_absolute_path(&root).with_context(context)?;
    Ok(Arc::new(PrefixStore::new(LocalFileSystem::new(), prefix)))
}

fn s3(settings: &Settings) -> anyhow::Result<Arc<dyn ObjectStore>> {
    // The S3 client's reqwest client is built below, and needs it.
    crate::install_crypto_provider();
    let endpoint = &settings.s3_endpoint;
    let mut builder = AmazonS3Builder::new()
        .with_bucket_name(&settings.s3_bucket)
        .with_region(&settings.s3_region)
        .with_access_key_id(settings.s3_access_key_id.expose_secret())
        .with_secret_access_key(settings.s3_secret_access_key.expose_secret())
        .with_virtual_hosted_style_request(settings.s3_virtual_hosted_style);
    if !endpoint.is_empty() {
        builder = builder.with_endpoint(endpoint).with_allow_http(endpoint.starts_with("http://"));
    }
    let store = builder.build().context("opening the S3 bucket (FIELDFLOW_S3_*)")?;
    Ok(Arc::new(store))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use object_store::ObjectStoreExt;

    #[tokio::test]
    async fn the_local_directory_appears_with_the_first_file() {
        let base = std::env::temp_dir().join(format!("fieldflow-storage-{}", uuid::Uuid::now_v7()));
        let store = local(&base.join("missing/../uploads")).unwrap();
        assert!(!base.exists(), "opening creates nothing");
        store.put(&StorePath::from("orgs/a/file"), b"bytes".to_vec().into()).await.unwrap();
        assert_eq!(std::fs::read(base.join("uploads/orgs/a/file")).unwrap(), b"bytes");
        assert!(!base.join("missing").exists());
        std::fs::remove_dir_all(base).unwrap();
    }
}
