//! The object store holding uploaded files: a local directory (`FIELDFLOW_STORAGE_DIR`).

use crate::config::Settings;
use anyhow::Context;
use object_store::ObjectStore;
use object_store::local::LocalFileSystem;
use std::sync::Arc;

/// Opens the store, creating its directory on first use (so commands that never store files
/// leave no directory behind).
pub fn open(settings: &Settings) -> anyhow::Result<Arc<dyn ObjectStore>> {
    let dir = &settings.storage_dir;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating the storage directory {} (FIELDFLOW_STORAGE_DIR)", dir.display()))?;
    let store = LocalFileSystem::new_with_prefix(dir)
        .with_context(|| format!("opening the storage directory {} (FIELDFLOW_STORAGE_DIR)", dir.display()))?;
    Ok(Arc::new(store))
}
