//! Long operations (exports, imports, broadcasts) as background jobs. PostgreSQL is the record: the
//! `operations` row holds the parameters, progress, checkpoint, lease and outcome, so the history
//! survives restarts. Redis only carries `Operate` jobs (the `operations` queue); the relay's
//! sweep hands a queued operation over the first time and again whenever its job was lost or its
//! worker died (`repo::take_stranded`). Work is done in chunks that commit with their checkpoint
//! (`runner`), progress streams over Server-Sent Events (`stream`), and cancelling is honoured
//! between chunks.

mod broadcast;
pub mod csv;
pub mod export;
pub mod import;
pub mod repo;
pub mod routes;
pub mod runner;
pub mod service;
pub mod stream;

pub use service::OperationError;
