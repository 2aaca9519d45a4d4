//! Where an image is, or goes: one type and one parser for every place drydock reads or writes
//! images (`--base`, `push SOURCE`, `pull`, `--output`, `--push`, `--load`), and the one place
//! that picks the reader ([`Location::reader`]) and the writer ([`Location::writer`]) for it.
//!
//! | written | place | read by | written by |
//! |---|---|---|---|
//! | `oci:DIR[:REF\|@DIGEST]` | an OCI image layout | [`LayoutSource`] | [`OciLayout`] |
//! | `docker-archive:FILE[:TAG]` | a `docker save` archive | [`ArchiveSource`] | [`DockerArchive`] |
//! | `docker-daemon:NAME`, `podman:NAME` | a local engine | [`EngineSource`] (`save`) | [`EngineLoad`] (`load`) |
//! | `docker://REF`, or a bare reference where a registry is the default | a registry | [`RegistrySource`] | [`RegistryPush`] |
//!
//! As a source, `DIR`/`FILE` is the longest prefix that exists (a path may hold `:`, and so may
//! a REF such as `base:1`), relative to a root (the project's, for a base). As a destination
//! the whole rest is the path: `--output oci:out:1` writes the directory `out:1`, as it always did.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::archive::{ArchiveSource, DockerArchive};
use crate::digest::Digest;
use crate::engine::{Engine, EngineLoad, EngineSource};
use crate::layout::{LayoutSource, OciLayout};
use crate::publish::{PublishError, Publisher};
use crate::pull::RegistrySource;
use crate::push::RegistryPush;
use crate::reference::{Reference, ReferenceError};
use crate::registry::Options;
use crate::source::ImageSource;
use crate::store::DirStore;

/// Where an image is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// An OCI image layout; the index entry named by its ref name, or by its digest.
    Layout {
        dir: PathBuf,
        name: Option<String>,
        digest: Option<Digest>,
    },
    /// A docker archive; the image with this RepoTag when it holds several.
    Archive {
        file: PathBuf,
        tag: Option<String>,
    },
    /// An image in a local engine, by the name (or ID) the engine knows it under.
    Engine {
        engine: Engine,
        name: String,
    },
    Registry(Reference),
}

/// Whether a location is read or written: only the paths are read differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// DIR/FILE is the longest prefix that exists under the root; a bare reference is a
    /// registry's.
    Source,
    /// DIR/FILE is the whole rest; a registry is written `docker://REF`.
    Destination,
}

/// What a reader needs besides the location.
pub struct ReadContext<'a> {
    /// Where images that must be imported to be read (archives, an engine's) are kept.
    pub store: &'a DirStore,
    /// How to reach a registry.
    pub registry: &'a Options,
}

impl Location {
    /// A source or a base: a location with its transport, else a registry reference. Paths
    /// are relative to `root`.
    pub fn parse(s: &str, root: &Path) -> Result<Location, ReferenceError> {
        parse(s.trim(), root, Role::Source).expect("a source always parses as a reference")
    }

    /// A location written with its transport (`oci:`, `docker-archive:`, `docker-daemon:`,
    /// `podman:`, `docker://`); `None` for anything else (a bare reference, a path).
    pub fn parse_transport(s: &str, root: &Path) -> Option<Result<Location, ReferenceError>> {
        let s = s.trim();
        has_transport(s).then(|| Location::parse(s, root))
    }

    /// An `--output`: `oci:DIR`, `docker-archive:FILE`, `docker-daemon:NAME`, `podman:NAME` or
    /// `docker://REF`.
    pub fn parse_output(s: &str) -> Result<Location, PublishError> {
        let bad = || PublishError::BadTarget {
            spec: s.to_string(),
        };
        match parse(s, Path::new(""), Role::Destination) {
            Some(Ok(l)) => Ok(l),
            _ => Err(bad()),
        }
    }

    /// The reader for this place.
    pub fn reader(&self, ctx: &ReadContext<'_>) -> Box<dyn ImageSource> {
        match self {
            Location::Layout { dir, name, digest } => {
                Box::new(LayoutSource::new(dir, name.as_deref(), digest.clone()))
            }
            Location::Archive { file, tag } => {
                Box::new(ArchiveSource::new(file, tag.as_deref(), ctx.store))
            }
            Location::Engine { engine, name } => {
                Box::new(EngineSource::new(*engine, name, ctx.store))
            }
            Location::Registry(r) => Box::new(RegistrySource::new(r, ctx.registry.clone())),
        }
    }

    /// The writer for this place. An engine's NAME that is a reference is the name the image
    /// is loaded under; otherwise it goes under the build's tag.
    pub fn writer(&self, registry: &Options) -> Box<dyn Publisher> {
        match self {
            Location::Layout { dir, .. } => Box::new(OciLayout { dir: dir.clone() }),
            Location::Archive { file, .. } => Box::new(DockerArchive { file: file.clone() }),
            Location::Engine { engine, name } => Box::new(EngineLoad {
                engine: *engine,
                name: Reference::parse(name).ok(),
            }),
            Location::Registry(r) => Box::new(RegistryPush::new(
                Some(r.clone()),
                registry.clone(),
                Vec::new(),
            )),
        }
    }

    /// Whether the place is a registry.
    pub fn is_registry(&self) -> bool {
        matches!(self, Location::Registry(_))
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Layout { dir, name, digest } => {
                write!(f, "oci:{}", dir.display())?;
                if let Some(n) = name {
                    write!(f, ":{n}")?;
                }
                if let Some(d) = digest {
                    write!(f, "@{d}")?;
                }
                Ok(())
            }
            Location::Archive { file, tag } => {
                write!(f, "docker-archive:{}", file.display())?;
                if let Some(t) = tag {
                    write!(f, ":{t}")?;
                }
                Ok(())
            }
            Location::Engine { engine, name } => write!(f, "{}{name}", engine.prefix()),
            Location::Registry(r) => write!(f, "{r}"),
        }
    }
}

const REGISTRY: &str = "docker://";

fn has_transport(s: &str) -> bool {
    ["oci:", "docker-archive:", REGISTRY]
        .iter()
        .chain(&[Engine::Docker.prefix(), Engine::Podman.prefix()])
        .any(|p| s.starts_with(p))
}

/// The one parser. `None` when a destination names no place drydock writes.
fn parse(s: &str, root: &Path, role: Role) -> Option<Result<Location, ReferenceError>> {
    // PATH[:NAME]: the path is the longest prefix that exists (a path may hold `:`, and so may
    // a NAME such as `base:1`); when none does, the whole is the path.
    let split = |rest: &str| -> (PathBuf, Option<String>) {
        if role == Role::Destination || root.join(rest).exists() {
            return (root.join(rest), None);
        }
        for (i, _) in rest.match_indices(':') {
            let (p, name) = (&rest[..i], &rest[i + 1..]);
            if !p.is_empty() && !name.is_empty() && root.join(p).exists() {
                return (root.join(p), Some(name.to_string()));
            }
        }
        match rest.rsplit_once(':') {
            Some((p, r)) if !p.is_empty() && !r.is_empty() && !r.contains('/') => {
                (root.join(p), Some(r.to_string()))
            }
            _ => (root.join(rest), None),
        }
    };
    let nonempty = |r: &str| (!r.is_empty()).then(|| r.to_string());
    if let Some(rest) = s.strip_prefix("oci:") {
        if role == Role::Destination && rest.is_empty() {
            return None;
        }
        // DIR@sha256:…: the entry with that digest.
        if let Some((p, d)) = rest.rsplit_once('@') {
            if let (Some(d), false) = (Digest::parse(d), root.join(rest).exists()) {
                if role == Role::Source && !p.is_empty() {
                    return Some(Ok(Location::Layout {
                        dir: root.join(p),
                        name: None,
                        digest: Some(d),
                    }));
                }
            }
        }
        let (dir, name) = split(rest);
        return Some(Ok(Location::Layout {
            dir,
            name,
            digest: None,
        }));
    }
    if let Some(rest) = s.strip_prefix("docker-archive:") {
        if role == Role::Destination && rest.is_empty() {
            return None;
        }
        let (file, tag) = split(rest);
        return Some(Ok(Location::Archive { file, tag }));
    }
    for engine in [Engine::Docker, Engine::Podman] {
        if let Some(name) = s.strip_prefix(engine.prefix()) {
            let Some(name) = nonempty(name) else {
                // No name: as a source, the reference parser says what is wrong with it.
                return (role == Role::Source).then(|| Reference::parse(s).map(Location::Registry));
            };
            if role == Role::Destination && Reference::parse(&name).is_err() {
                return None;
            }
            return Some(Ok(Location::Engine { engine, name }));
        }
    }
    if let Some(r) = s.strip_prefix(REGISTRY) {
        return Some(Reference::parse(r).map(Location::Registry));
    }
    match role {
        Role::Source => Some(Reference::parse(s).map(Location::Registry)),
        Role::Destination => None,
    }
}

/// `--output` values: the writer for the place named (see [`Location::parse_output`]).
pub fn parse_output(spec: &str) -> Result<Box<dyn Publisher>, PublishError> {
    Ok(Location::parse_output(spec)?.writer(&Options::default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_place_parses_with_one_parser() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        std::fs::create_dir(root.join("base")).unwrap();
        std::fs::create_dir(root.join("a:b")).unwrap();
        let p = |s: &str| Location::parse(s, root).unwrap();
        assert_eq!(
            p("oci:base:3.20"),
            Location::Layout {
                dir: root.join("base"),
                name: Some("3.20".into()),
                digest: None
            }
        );
        assert_eq!(
            p("oci:a:b"),
            Location::Layout {
                dir: root.join("a:b"),
                name: None,
                digest: None
            },
            "an existing path with a colon is the path"
        );
        let d = Digest::of(b"x");
        assert_eq!(
            p(&format!("oci:base@{d}")),
            Location::Layout {
                dir: root.join("base"),
                name: None,
                digest: Some(d.clone())
            }
        );
        assert_eq!(
            p("docker-archive:/x/b.tar"),
            Location::Archive {
                file: "/x/b.tar".into(),
                tag: None
            }
        );
        assert_eq!(
            p("docker-daemon:gin-api:1"),
            Location::Engine {
                engine: Engine::Docker,
                name: "gin-api:1".into()
            }
        );
        assert_eq!(
            p("podman:gin-api"),
            Location::Engine {
                engine: Engine::Podman,
                name: "gin-api".into()
            }
        );
        assert!(p("127.0.0.1:5000/base:1").is_registry());
        assert!(p("docker://127.0.0.1:5000/base:1").is_registry());
        assert!(Location::parse("Not A Ref", root).is_err());
        assert!(Location::parse("docker-daemon:", root).is_err());
        assert!(Location::parse("podman:", root).is_err());
        assert!(Location::parse_transport("base:1", root).is_none());
        assert!(Location::parse_transport("oci:base", root).is_some());

        // Destinations: the whole rest is the path; a bare reference is no destination.
        assert_eq!(
            Location::parse_output("oci:out:1").unwrap(),
            Location::Layout {
                dir: "out:1".into(),
                name: None,
                digest: None
            }
        );
        assert!(Location::parse_output("docker://r.example/x:1")
            .unwrap()
            .is_registry());
        for bad in [
            "tar:x",
            "oci:",
            "docker-archive:",
            "gin-api:1",
            "podman:",
            "docker-daemon:Not A Ref",
        ] {
            let e = Location::parse_output(bad).unwrap_err().to_string();
            assert!(e.contains("bad output"), "{bad}: {e}");
        }
    }
}
