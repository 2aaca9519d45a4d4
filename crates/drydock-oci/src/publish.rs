//! Where a built image goes. Each destination is one implementation of [`Publisher`]: an OCI
//! image layout ([`crate::layout`]), a `docker load`-able archive ([`crate::archive`]); drydock
//! adds a local engine, and a registry will be another. Every one reads blobs from a
//! [`BlobStore`] verified and writes atomically: a failed publish leaves no half-written output.

use std::path::PathBuf;

use crate::archive::DockerArchive;
use crate::digest::Digest;
use crate::image::Image;
use crate::layout::OciLayout;
use crate::reference::Reference;
use crate::store::{BlobStore, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("writing {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("writing {destination}: {source}")]
    Stream {
        destination: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Registry(#[from] crate::registry::RegistryError),
    #[error("{engine} is not available: {reason}")]
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
    #[error("layer {digest} does not decompress to its diff ID {diff_id}; it was removed from the store, run the build again")]
    LayerMismatch { digest: String, diff_id: String },
    #[error("bad output {spec:?}")]
    BadTarget { spec: String },
    #[error("{path} {why}")]
    Refused {
        path: PathBuf,
        why: String,
        fix: String,
    },
}

impl PublishError {
    /// What to do about it, when there is something to say: the message does not hold it.
    pub fn fix(&self) -> Option<String> {
        Some(match self {
            PublishError::EngineMissing { fix, .. } => fix.to_string(),
            PublishError::BadTarget { .. } => "use oci:DIR or docker-archive:FILE".into(),
            PublishError::Refused { fix, .. } => fix.to_string(),
            PublishError::Registry(e) => return e.fix(),
            _ => return None,
        })
    }
}

/// What a publisher needs to know about the image beyond its blobs.
pub struct PublishRequest<'a> {
    /// Where the image's blobs are.
    pub store: &'a dyn BlobStore,
    pub image: &'a Image,
    /// The reference to tag it with, e.g. `gin-api:latest`.
    pub tag: &'a Reference,
    /// Seconds since the epoch, for file times inside archives.
    pub created: u64,
    /// Where some of the blobs may already be in a registry (the base image's repository), so
    /// that a push to the same registry can mount them instead of uploading.
    pub sources: &'a [Reference],
}

/// What a publisher produced: the reference it wrote the image under and the manifest digest,
/// as ko's `publish.Interface` returns them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// Where it went, for reports (`oci:out/`, `docker`, ...).
    pub destination: String,
    pub reference: Reference,
    pub digest: Digest,
    /// For a registry: what was uploaded, mounted or already there.
    pub push: Option<crate::registry::push::PushReport>,
}

pub trait Publisher {
    /// Where the image goes, for the report (`oci:out/`, `docker`, ...).
    fn destination(&self) -> String;
    /// Refuses a destination that must not be written (before the build starts).
    fn check(&self) -> Result<(), PublishError> {
        Ok(())
    }
    /// As [`Publisher::check`], knowing the reference the image will be written under: a
    /// destination that holds other images than a previous `tag` is refused.
    fn check_for(&self, tag: &Reference) -> Result<(), PublishError> {
        let _ = tag;
        self.check()
    }
    fn publish(&self, req: &PublishRequest<'_>) -> Result<Published, PublishError>;
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
