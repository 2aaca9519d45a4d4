//! A local engine's image store (`docker-daemon:NAME`, `podman:NAME`, `--load docker|podman`),
//! through its command line: [`EngineLoad`] streams a docker archive into `docker load` /
//! `podman load`; [`EngineSource`] reads an image from `docker save` / `podman save` with the
//! docker-archive reader.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::archive::{write_archive, ArchiveSource};
use crate::digest::Digest;
use crate::publish::{PublishError, PublishRequest, Published, Publisher, Written};
use crate::reference::Reference;
use crate::source::{ImageSource, ReadError, Resolved};
use crate::store::{BlobStore, DirStore};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    Docker,
    Podman,
}

impl Engine {
    pub fn program(self) -> &'static str {
        match self {
            Engine::Docker => "docker",
            Engine::Podman => "podman",
        }
    }

    /// The location prefix naming an image in this engine (`docker-daemon:`, `podman:`).
    pub fn prefix(self) -> &'static str {
        match self {
            Engine::Docker => "docker-daemon:",
            Engine::Podman => "podman:",
        }
    }

    fn missing(self, e: std::io::Error, fix: String) -> PublishError {
        PublishError::EngineMissing {
            engine: self.program().into(),
            reason: e.to_string(),
            fix,
        }
    }
}

/// `--load docker|podman` (under the build's tag) or `--output docker-daemon:NAME` (under NAME).
pub struct EngineLoad {
    pub engine: Engine,
    /// The name to load the image under, when not the build's tag.
    pub name: Option<Reference>,
}

impl EngineLoad {
    pub fn new(engine: Engine) -> EngineLoad {
        EngineLoad { engine, name: None }
    }
}

impl Publisher for EngineLoad {
    fn destination(&self) -> String {
        self.engine.program().to_string()
    }

    fn publish(&self, req: &PublishRequest<'_>) -> Result<Published, PublishError> {
        let prog = self.engine.program();
        let tag = self.name.as_ref().unwrap_or(req.tag);
        // An engine holds one platform's image: the request's image (build.rs gives the engine's own
        // platform's from a multi-platform build), never the index.
        let req = PublishRequest {
            tag,
            index: None,
            ..*req
        };
        let mut child = Command::new(prog)
            .arg("load")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                self.engine.missing(
                    e,
                    format!("install {prog}, or write the image with --output docker-archive:FILE"),
                )
            })?;
        let written = match child.stdin.take() {
            Some(stdin) => write_archive(&req, &self.destination(), std::io::BufWriter::new(stdin))
                .and_then(|mut w| {
                    w.flush().map_err(|source| PublishError::Stream {
                        destination: format!("{prog} load"),
                        source,
                    })
                }),
            None => Ok(()),
        };
        let out = child
            .wait_with_output()
            .map_err(|source| PublishError::Stream {
                destination: format!("{prog} load"),
                source,
            })?;
        if !out.status.success() {
            return Err(PublishError::EngineFailed {
                command: format!("{prog} load"),
                status: out.status.to_string(),
                output: format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                )
                .trim()
                .to_string(),
            });
        }
        written?;
        Ok(Published {
            destination: format!(
                "{prog} ({})",
                String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .last()
                    .unwrap_or("loaded")
                    .trim()
            ),
            reference: tag.clone(),
            digest: req.image.manifest_digest.clone(),
            written: Written::Engine,
        })
    }
}

/// An image in a local engine, read through `docker save NAME` / `podman save NAME` into a
/// temporary docker archive, then imported into `store` by the docker-archive reader.
pub struct EngineSource {
    pub engine: Engine,
    pub name: String,
    archive: std::sync::OnceLock<(tempfile::TempDir, ArchiveSource)>,
    store: DirStore,
}

impl EngineSource {
    pub fn new(engine: Engine, name: &str, store: &DirStore) -> EngineSource {
        EngineSource {
            engine,
            name: name.to_string(),
            archive: std::sync::OnceLock::new(),
            store: store.clone(),
        }
    }

    fn saved(&self) -> Result<&ArchiveSource, ReadError> {
        if let Some((_, a)) = self.archive.get() {
            return Ok(a);
        }
        let prog = self.engine.program();
        let fail = |why: String, fix: &str| ReadError::location(self.describe(), why, fix);
        let dir = tempfile::tempdir().map_err(|e| fail(e.to_string(), "check TMPDIR"))?;
        let file = dir.path().join("image.tar");
        let out = Command::new(prog)
            .args(["save", "-o"])
            .arg(&file)
            .arg(&self.name)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| {
                fail(
                    format!("{prog} is not available ({e})"),
                    &format!("install {prog}, or name the image as docker-archive:FILE"),
                )
            })?;
        if !out.status.success() {
            return Err(fail(
                format!(
                    "`{prog} save {}` failed ({}): {}",
                    self.name,
                    out.status,
                    String::from_utf8_lossy(&out.stderr).trim()
                ),
                &format!("name an image {prog} has (`{prog} images`)"),
            ));
        }
        let source = ArchiveSource::new(&file, None, &self.store).named(&self.describe());
        Ok(&self.archive.get_or_init(|| (dir, source)).1)
    }
}

impl ImageSource for EngineSource {
    fn describe(&self) -> String {
        format!("{}{}", self.engine.prefix(), self.name)
    }

    fn resolve(&self) -> Result<Resolved, ReadError> {
        self.saved()?.resolve()
    }

    fn manifest(&self, digest: &Digest) -> Result<Vec<u8>, ReadError> {
        crate::source::read_verified(&self.store, digest)
    }

    fn blobs(&self) -> &dyn BlobStore {
        &self.store
    }
}
