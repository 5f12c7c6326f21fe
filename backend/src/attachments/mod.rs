//! Files attached to orders: streamed into the object store while hashed and counted, typed by
//! their first bytes, photos thumbnailed and their EXIF time and place kept. Whoever may see the
//! order may download; everyone but managers may upload.

pub mod media;
pub mod repo;
pub mod routes;
pub mod service;

pub use service::AttachmentError;
