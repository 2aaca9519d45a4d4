//! Where a built image goes. Each destination is one implementation of [`Publisher`], in its
//! own file: an OCI image layout, a `docker load`-able archive, or a local engine. Every one
//! reads blobs from the cache verified, and writes atomically: a failed publish leaves no
//! half-written output behind.

mod docker_archive;
mod engine;
mod oci_layout;

use std::path::PathBuf;

pub use docker_archive::{is_docker_archive, DockerArchive};
pub use engine::{Engine, EngineLoad};
pub use oci_layout::{parse_index, OciLayout};

use crate::cache::{Cache, CacheError};
use crate::image::Image;

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("writing {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error("{engine} is not available: {reason}\n  fix: {fix}")]
    EngineMissing {
        engine: String,
        reason: String,
        fix: String,
    },
    #[error("`{command}` failed ({status}): {output}")]
    EngineFailed {
        command: String,
        status: String,
        output: String,
    },
    #[error("layer {digest} in the cache does not decompress to its diff ID {diff_id}; it was removed, run the build again")]
    LayerMismatch { digest: String, diff_id: String },
    #[error("bad output {spec:?}\n  fix: use oci:DIR or docker-archive:FILE")]
    BadTarget { spec: String },
    #[error("{path} {why}\n  fix: {fix}")]
    Refused {
        path: PathBuf,
        why: String,
        fix: String,
    },
}

/// What a publisher needs to know about the image beyond its blobs.
pub struct PublishRequest<'a> {
    pub cache: &'a Cache,
    pub image: &'a Image,
    /// The reference to tag it with, e.g. `gin-api:latest`.
    pub tag: &'a crate::reference::Reference,
    /// Seconds since the epoch, for file times inside archives.
    pub created: u64,
}

pub trait Publisher {
    /// Where the image goes, for the report (`oci:out/`, `docker`, ...).
    fn destination(&self) -> String;
    /// Refuses a destination that must not be written (before the build starts).
    fn check(&self) -> Result<(), PublishError> {
        Ok(())
    }
    fn publish(&self, req: &PublishRequest<'_>) -> Result<String, PublishError>;
}

/// Parses `--output` values.
pub fn parse_output(spec: &str) -> Result<Box<dyn Publisher>, PublishError> {
    if let Some(dir) = spec.strip_prefix("oci:").filter(|s| !s.is_empty()) {
        Ok(Box::new(OciLayout { dir: dir.into() }))
    } else if let Some(file) = spec
        .strip_prefix("docker-archive:")
        .filter(|s| !s.is_empty())
    {
        Ok(Box::new(DockerArchive { file: file.into() }))
    } else {
        Err(PublishError::BadTarget {
            spec: spec.to_string(),
        })
    }
}
