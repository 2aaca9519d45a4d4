//! Writing an image: [`Publisher`] is the one writing trait, with one implementation per place
//! an image can go: an OCI image layout ([`crate::layout::OciLayout`]), a `docker load`-able
//! archive ([`crate::archive::DockerArchive`]), a local engine's `load`
//! ([`crate::engine::EngineLoad`]) and a registry ([`crate::push::RegistryPush`]).
//! [`crate::location::Location::writer`] picks one from where the image goes. Every one reads
//! blobs from a [`BlobStore`] verified, and a failed publish leaves no half-written output
//! (a registry gets its manifest last).
//!
//! This module knows none of its implementations: each names what it wrote as a [`Written`].

use std::path::PathBuf;

use crate::digest::Digest;
use crate::image::Image;
use crate::index::ImageIndex;
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
    /// Boxed: a registry's error is large, and most writes are local.
    #[error(transparent)]
    Registry(Box<crate::registry::RegistryError>),
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

impl From<crate::registry::RegistryError> for PublishError {
    fn from(e: crate::registry::RegistryError) -> Self {
        PublishError::Registry(Box::new(e))
    }
}

impl PublishError {
    /// What to do about it, when there is something to say: the message does not hold it.
    pub fn fix(&self) -> Option<String> {
        Some(match self {
            PublishError::EngineMissing { fix, .. } => fix.to_string(),
            PublishError::BadTarget { .. } => "use oci:DIR or docker-archive:FILE, docker-daemon:NAME or podman:NAME (loaded into the engine), or docker://REFERENCE (pushed)".into(),
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
    /// A multi-platform build: the index of every platform's image, `image` being one of them
    /// (the one a place that holds a single image gets: an engine's own platform). A layout and
    /// a registry store the index; an archive gets one file per platform.
    pub index: Option<&'a ImageIndex>,
    /// The reference to tag it with, e.g. `gin-api:latest`.
    pub tag: &'a Reference,
    /// Seconds since the epoch, for file times inside archives.
    pub created: u64,
    /// Where some of the blobs may already be in a registry (the base image's repository), so
    /// that a push to the same registry can mount them instead of uploading.
    pub sources: &'a [Reference],
}

impl PublishRequest<'_> {
    /// What a reference to the written image points at: the index of a multi-platform build,
    /// else the image's manifest (media type, digest, size).
    pub fn top(&self) -> (&str, &Digest, u64) {
        match self.index {
            Some(i) => (i.media_type, &i.digest, i.size()),
            None => (
                self.image.format.manifest_media_type(),
                &self.image.manifest_digest,
                self.image.manifest_size,
            ),
        }
    }

    /// Every blob the written image needs, each once, the top manifest or index last.
    pub fn blobs(&self) -> Vec<Digest> {
        match self.index {
            Some(i) => {
                let mut b = i.blobs();
                b.push(i.digest.clone());
                b
            }
            None => {
                let i = self.image;
                let mut b: Vec<Digest> = i.layers.iter().map(|l| l.digest.clone()).collect();
                b.push(i.config_digest.clone());
                b.push(i.manifest_digest.clone());
                b
            }
        }
    }
}

/// What a publisher produced: the reference it wrote the image under and the manifest digest,
/// as ko's `publish.Interface` returns them, and what it wrote where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// Where it went, for reports (`oci:out/`, `docker (Loaded image: …)`, `registry …`).
    pub destination: String,
    pub reference: Reference,
    pub digest: Digest,
    pub written: Written,
}

impl Published {
    /// What a push did, when the image went to a registry.
    pub fn pushed(&self) -> Option<&PushReport> {
        match &self.written {
            Written::Registry(r) => Some(r),
            _ => None,
        }
    }
}

/// What kind of place an image was written to, with what only that place reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    /// An OCI image layout (a directory).
    Layout,
    /// A docker archive (a file).
    Archive,
    /// A local engine's image store (`docker load`, `podman load`).
    Engine,
    /// A registry, blob by blob.
    Registry(PushReport),
}

/// What a push did, blob by blob.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PushReport {
    /// `registry/repository:tag@sha256:…`.
    pub reference: String,
    pub digest: String,
    /// Blobs sent, with their sizes.
    pub uploaded: Vec<(String, u64)>,
    /// Blobs the registry took from another repository.
    pub mounted: Vec<String>,
    /// Blobs the registry already had.
    pub existing: Vec<String>,
}

impl PushReport {
    pub fn uploaded_bytes(&self) -> u64 {
        self.uploaded.iter().map(|(_, n)| n).sum()
    }
}

/// Where an image goes: the one writing trait.
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
    /// Stores artifacts that refer to an image this publisher just wrote (OCI 1.1 `subject`:
    /// SBOMs, attestations) where readers of this place look for them; the blobs come from
    /// `store`. A place that cannot hold them (a docker archive, an engine's image store)
    /// stores nothing and returns an empty list.
    fn attach(
        &self,
        published: &Published,
        subject: &crate::attach::Subject,
        store: &dyn BlobStore,
        artifacts: &[crate::attach::Artifact],
    ) -> Result<Vec<crate::attach::Attached>, PublishError> {
        let _ = (published, subject, store, artifacts);
        Ok(Vec::new())
    }
}
