//! Base images: `[image] base` (or `--base`) resolved to an image to build on, daemonless.
//!
//! A base is `scratch` (the empty image, the default) or any image [`Location`]: a registry
//! reference (a tag or a digest), `oci:DIR[:REF|@DIGEST]` (an OCI image layout),
//! `docker-archive:FILE[:TAG]`, or `docker-daemon:NAME` / `podman:NAME` (through the engine's
//! `save`). From an index the platform's image is picked, attestations skipped. Every blob is verified and kept in drydock's
//! cache by digest; a registry base resolved from a tag is pinned in `drydock.lock`, so that the
//! next build (or one with the registry down) uses the same image without the network, until
//! `--refresh-base`. The base's files are read (whiteouts applied) for what drydock must merge
//! with rather than replace: `/etc/passwd`, `/etc/group`, the CA bundle.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use drydock_oci::location::ReadContext;
use drydock_oci::registry::{Options, RegistryError};
use drydock_oci::{
    BlobStore, Digest, ImageBuilder, ImageError, Location, Platform, ReadError, Reference,
};
use serde::{Deserialize, Serialize};

use crate::cache::Cache;

pub const LOCK_FILE: &str = "drydock.lock";

#[derive(Debug, thiserror::Error)]
pub enum BaseError {
    #[error("base {spec:?}: {problem}")]
    Spec {
        spec: String,
        problem: String,
        fix: String,
    },
    #[error("{}: {problem}", .path.display())]
    Lock {
        path: PathBuf,
        problem: String,
        fix: &'static str,
    },
    /// Boxed: a registry's error is large.
    #[error(transparent)]
    Registry(Box<RegistryError>),
    #[error(transparent)]
    Image(#[from] ImageError),
    #[error(transparent)]
    Store(#[from] drydock_oci::StoreError),
    #[error("{binary} is dynamically linked and the base {base} lacks {}", .missing.join(", "))]
    Libraries {
        binary: String,
        base: String,
        missing: Vec<String>,
    },
    #[error("reading the base's layer {digest}: {message}")]
    Layer { digest: String, message: String },
}

impl From<RegistryError> for BaseError {
    fn from(e: RegistryError) -> Self {
        BaseError::Registry(Box::new(e))
    }
}

impl BaseError {
    /// What to do about it, when there is something to say: the message does not hold it.
    pub fn fix(&self) -> Option<String> {
        Some(match self {
            BaseError::Spec { fix, .. } => fix.to_string(),
            BaseError::Lock { fix, .. } => fix.to_string(),
            BaseError::Registry(e) => return e.fix(),
            BaseError::Libraries { missing, .. } => format!("build on a base that provides {} (for a Debian base, install the package that ships it), or link statically (Go: CGO_ENABLED=0; Rust: -C target-feature=+crt-static)", if missing.len() == 1 { "it" } else { "them" }),
            _ => return None,
        })
    }
}

/// Where a base comes from: nothing (`scratch`), or an image at a [`Location`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BaseSpec {
    Scratch,
    Image(Location),
}

impl BaseSpec {
    /// Parses a base as drydock.toml writes it; paths are relative to `root`.
    pub fn parse(s: &str, root: &Path) -> Result<BaseSpec, BaseError> {
        let s = s.trim();
        if s.is_empty() || s == "scratch" {
            return Ok(BaseSpec::Scratch);
        }
        Location::parse(s, root).map(BaseSpec::Image).map_err(|e| BaseError::Spec {
            spec: s.to_string(),
            problem: e.problem.clone(),
            fix: "write scratch, a reference (registry.example.com/base:1 or …@sha256:…), oci:DIR[:REF], docker-archive:FILE[:TAG], docker-daemon:NAME or podman:NAME".into(),
        })
    }
}

/// One pinned base in drydock.lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pin {
    pub name: String,
    pub platform: String,
    pub digest: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lock {
    pub version: u32,
    #[serde(default)]
    pub bases: Vec<Pin>,
}

impl Lock {
    pub fn read(root: &Path) -> Result<Lock, BaseError> {
        let path = root.join(LOCK_FILE);
        match std::fs::read(&path) {
            Ok(b) => serde_json::from_slice(&b).map_err(|e| BaseError::Lock {
                path,
                problem: format!("is not a drydock lock file ({e})"),
                fix:
                    "remove it (the next build writes it again) or restore it from version control",
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Lock {
                version: 1,
                bases: vec![],
            }),
            Err(e) => Err(BaseError::Lock {
                path,
                problem: e.to_string(),
                fix: "make it readable",
            }),
        }
    }

    fn pin(&self, name: &str, platform: &str) -> Option<&Pin> {
        self.bases
            .iter()
            .find(|p| p.name == name && p.platform == platform)
    }

    /// Records a pin; writes the file (whole, atomically) only when it changed.
    fn record(&mut self, root: &Path, pin: Pin) -> Result<bool, BaseError> {
        if self.pin(&pin.name, &pin.platform) == Some(&pin) {
            return Ok(false);
        }
        self.bases
            .retain(|p| !(p.name == pin.name && p.platform == pin.platform));
        self.bases.push(pin);
        self.bases
            .sort_by(|a, b| (&a.name, &a.platform).cmp(&(&b.name, &b.platform)));
        self.version = 1;
        let path = root.join(LOCK_FILE);
        let mut text = serde_json::to_vec_pretty(self).expect("a lock serialises");
        text.push(b'\n');
        crate::fsutil::write_bytes_atomic(&path, &text).map_err(|e| BaseError::Lock {
            path,
            problem: e.to_string(),
            fix: "make the project directory writable",
        })?;
        Ok(true)
    }
}

/// A resolved base.
pub struct Base {
    /// As written (`127.0.0.1:5000/base:1`), for `org.opencontainers.image.base.name`.
    pub name: String,
    /// The platform's image manifest, for `org.opencontainers.image.base.digest`.
    pub digest: Digest,
    pub builder: ImageBuilder,
    pub files: BaseFiles,
    /// What resolving it did, for the report (`pinned by drydock.lock`, `pulled 3 blobs`).
    pub how: String,
}

/// Resolves `spec` for `platform`, keeping every blob in `cache`. A registry base resolved
/// from a tag is pinned in drydock.lock; every other place is read as it is now.
pub fn resolve(
    spec: &BaseSpec,
    written: &str,
    platform: &Platform,
    cache: &Cache,
    root: &Path,
    refresh: bool,
    options: &Options,
) -> Result<Option<Base>, BaseError> {
    let BaseSpec::Image(location) = spec else {
        return Ok(None);
    };
    let source = location.reader(&ReadContext {
        store: cache.blobs(),
        registry: options,
    });
    let read_error = |e: ReadError| read_error(written, e);
    let (digest, how) = match location {
        Location::Registry(r) => {
            let mut lock = Lock::read(root)?;
            let plat = platform.to_string();
            let pinned = match r.digest() {
                Some(d) => Digest::parse(d),
                None if refresh => None,
                None => lock
                    .pin(written, &plat)
                    .and_then(|p| Digest::parse(&p.digest)),
            };
            // Pinned and every blob in the cache: no network at all.
            if let Some(d) = pinned.as_ref().filter(|d| complete(cache, d)) {
                (
                    d.clone(),
                    format!(
                        "{} from the cache",
                        if r.digest().is_some() {
                            "by digest"
                        } else {
                            "pinned by drydock.lock"
                        }
                    ),
                )
            } else {
                // A pin is pulled by its digest.
                let source = match &pinned {
                    Some(d) if r.digest().is_none() => {
                        let by_digest = Reference::parse(&r.with_digest(d.as_str()))
                            .unwrap_or_else(|_| r.clone());
                        Location::Registry(by_digest).reader(&ReadContext {
                            store: cache.blobs(),
                            registry: options,
                        })
                    }
                    _ => source,
                };
                let p = source.fetch(platform, cache.blobs()).map_err(read_error)?;
                if r.digest().is_none() {
                    lock.record(
                        root,
                        Pin {
                            name: written.to_string(),
                            platform: plat,
                            digest: p.manifest.to_string(),
                            index: p.index.as_ref().map(|d| d.to_string()),
                        },
                    )?;
                }
                (
                    p.manifest,
                    format!("pulled {} blobs, {} from the cache", p.fetched, p.cached),
                )
            }
        }
        other => {
            let fetched = source.fetch(platform, cache.blobs()).map_err(read_error)?;
            let how = match other {
                Location::Layout { dir, .. } => format!("from the OCI layout {}", dir.display()),
                Location::Archive { file, .. } => {
                    format!("from the docker archive {}", file.display())
                }
                Location::Engine { engine, name } => format!("from {} {name}", engine.program()),
                Location::Registry(_) => unreachable!("handled above"),
            };
            (fetched.manifest, how)
        }
    };
    let builder = ImageBuilder::from_image(cache, &digest)?;
    if builder.platform().os != platform.os
        || builder.platform().architecture != platform.architecture
    {
        return Err(BaseError::Spec {
            spec: written.to_string(),
            problem: format!("is built for {}, not {platform}", builder.platform()),
            fix: "choose a base for the platform you build for".into(),
        });
    }
    let files = BaseFiles::cached(cache, &digest, &builder)?;
    Ok(Some(Base {
        name: written.to_string(),
        digest,
        builder,
        files,
        how,
    }))
}

/// The platforms `spec` has images for (`--platform all`): every runnable entry of its index,
/// or the one platform of a single image; scratch has every platform drydock builds for.
pub fn platforms(
    spec: &BaseSpec,
    written: &str,
    cache: &Cache,
    options: &Options,
) -> Result<Vec<Platform>, BaseError> {
    let BaseSpec::Image(location) = spec else {
        return Ok(crate::platforms::SUPPORTED
            .iter()
            .filter_map(|p| Platform::parse(p).ok())
            .collect());
    };
    let source = location.reader(&ReadContext {
        store: cache.blobs(),
        registry: options,
    });
    let top = source.resolve().map_err(|e| read_error(written, e))?;
    match top.manifest {
        drydock_oci::source::Manifest::Index(i) => Ok(i
            .platforms()
            .iter()
            .filter_map(|p| Platform::parse(p).ok())
            .collect()),
        drydock_oci::source::Manifest::Image(_) => {
            let fetched = source
                .fetch(&crate::platforms::host(), cache.blobs())
                .map_err(|e| read_error(written, e))?;
            Ok(vec![
                ImageBuilder::from_image(cache, &fetched.manifest)?.platform()
            ])
        }
    }
}

/// A reading error about the base written as `written`, as the build reports it.
fn read_error(written: &str, e: ReadError) -> BaseError {
    match e {
        ReadError::Registry(e) => BaseError::Registry(e),
        ReadError::Store(e) => BaseError::Store(e),
        ReadError::Location { location, why, fix } => BaseError::Spec {
            spec: written.to_string(),
            problem: format!("{location}: {why}"),
            fix,
        },
    }
}

/// Whether the manifest, its config and its layers are all in the cache, intact.
fn complete(cache: &Cache, manifest: &Digest) -> bool {
    let Ok(b) = ImageBuilder::from_image(cache, manifest) else {
        return false;
    };
    cache.verify(manifest).is_ok() && b.layers().iter().all(|l| cache.verify(&l.digest).is_ok())
}

/// A base's file tree, as its layers leave it: which paths exist, symlink targets, and the
/// contents of the few files drydock merges with.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct BaseFiles {
    nodes: BTreeMap<String, Node>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Node {
    File { content: Option<Vec<u8>> },
    Dir,
    Symlink(String),
}

/// Files whose content is kept when reading a base.
const KEPT: &[&str] = &[
    "etc/passwd",
    "etc/group",
    "etc/ld.so.conf",
    // For the SBOM: the distribution and its package database.
    "etc/os-release",
    "usr/lib/os-release",
    "var/lib/dpkg/status",
    "lib/apk/db/installed",
];

/// Where the dynamic loader looks when nothing else says (glibc's trusted directories on
/// x86-64, Debian's multiarch ones first).
const LIB_DIRS: &[&str] = &[
    "lib/x86_64-linux-gnu",
    "usr/lib/x86_64-linux-gnu",
    "lib/aarch64-linux-gnu",
    "usr/lib/aarch64-linux-gnu",
    "lib64",
    "usr/lib64",
    "lib",
    "usr/lib",
];

impl BaseFiles {
    /// The file tree of the base `digest`, read once and then kept in the cache beside its
    /// blobs (reading a large base's layers takes longer than the rest of a build).
    pub fn cached(
        cache: &Cache,
        digest: &Digest,
        base: &ImageBuilder,
    ) -> Result<BaseFiles, BaseError> {
        let path = cache
            .root()
            .join("bases")
            .join(format!("{}.v2.json", digest.hex()));
        if let Some(f) = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
        {
            return Ok(f);
        }
        let files = BaseFiles::read(cache, base)?;
        // A failure to keep it only costs the next build the time to read it again.
        if let Ok(json) = serde_json::to_vec(&files) {
            let _ = std::fs::create_dir_all(cache.root().join("bases"));
            let _ = crate::fsutil::write_bytes_atomic(&path, &json);
        }
        Ok(files)
    }

    pub fn read(cache: &Cache, base: &ImageBuilder) -> Result<BaseFiles, BaseError> {
        let mut files = BaseFiles::default();
        for l in base.layers() {
            let lerr = |e: std::io::Error| BaseError::Layer {
                digest: l.digest.to_string(),
                message: e.to_string(),
            };
            let mut raw = cache.open(&l.digest)?;
            let mut head = [0u8; 2];
            let n = raw.read(&mut head).map_err(lerr)?;
            let rest = std::io::Cursor::new(head[..n].to_vec()).chain(raw);
            let reader: Box<dyn Read> = if n == 2 && head == [0x1f, 0x8b] {
                Box::new(flate2::read::GzDecoder::new(rest))
            } else {
                Box::new(rest)
            };
            files.apply_layer(reader).map_err(lerr)?;
        }
        Ok(files)
    }

    /// Applies one layer's tar, whiteouts included.
    pub fn apply_layer(&mut self, r: impl Read) -> std::io::Result<()> {
        let mut tar = tar::Archive::new(r);
        for e in tar.entries()? {
            let mut e = e?;
            let path = clean(&e.path()?.to_string_lossy());
            if path.is_empty() {
                continue;
            }
            let (dir, name) = match path.rsplit_once('/') {
                Some((d, n)) => (d.to_string(), n.to_string()),
                None => (String::new(), path.clone()),
            };
            if name == ".wh..wh..opq" {
                let prefix = format!("{dir}/");
                self.nodes.retain(|p, _| !p.starts_with(&prefix));
                continue;
            }
            if let Some(gone) = name.strip_prefix(".wh.") {
                let target = if dir.is_empty() {
                    gone.to_string()
                } else {
                    format!("{dir}/{gone}")
                };
                let prefix = format!("{target}/");
                self.nodes
                    .retain(|p, _| p != &target && !p.starts_with(&prefix));
                continue;
            }
            let node = match e.header().entry_type() {
                tar::EntryType::Directory => Node::Dir,
                tar::EntryType::Symlink => Node::Symlink(
                    e.link_name()?
                        .map(|l| l.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                ),
                tar::EntryType::Link => {
                    let target = clean(
                        &e.link_name()?
                            .map(|l| l.to_string_lossy().into_owned())
                            .unwrap_or_default(),
                    );
                    self.nodes
                        .get(&target)
                        .cloned()
                        .unwrap_or(Node::File { content: None })
                }
                _ => {
                    let content = if KEPT.contains(&path.as_str())
                        || (path.starts_with("etc/ld.so.conf.d/") && path.ends_with(".conf"))
                        || path.starts_with("var/lib/dpkg/status.d/")
                    {
                        let mut b = Vec::new();
                        e.by_ref().take(16 << 20).read_to_end(&mut b)?;
                        Some(b)
                    } else {
                        None
                    };
                    Node::File { content }
                }
            };
            self.nodes.insert(path, node);
        }
        Ok(())
    }

    /// A path with every symlink on the way followed (absolute targets from the root), or
    /// `None` when it does not exist.
    pub fn resolve(&self, path: &str) -> Option<String> {
        let mut todo: Vec<String> = clean(path)
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .rev()
            .collect();
        let mut cur: Vec<String> = Vec::new();
        let mut hops = 0;
        while let Some(part) = todo.pop() {
            match part.as_str() {
                "." => continue,
                ".." => {
                    cur.pop();
                    continue;
                }
                _ => {}
            }
            cur.push(part);
            let p = cur.join("/");
            match self.nodes.get(&p) {
                Some(Node::Symlink(t)) => {
                    hops += 1;
                    if hops > 40 {
                        return None;
                    }
                    cur.pop();
                    if t.starts_with('/') {
                        cur.clear();
                    }
                    for s in t.split('/').filter(|s| !s.is_empty()).rev() {
                        todo.push(s.to_string());
                    }
                }
                Some(_) => {}
                // A directory only implied by what is below it (layers need not list parents).
                None if self
                    .nodes
                    .range(format!("{p}/")..)
                    .next()
                    .is_some_and(|(k, _)| k.starts_with(&format!("{p}/"))) => {}
                None => return None,
            }
        }
        Some(cur.join("/"))
    }

    pub fn exists(&self, path: &str) -> bool {
        self.resolve(path).is_some()
    }

    /// The directories the base's dynamic loader searches: /etc/ld.so.conf and its includes,
    /// then the defaults.
    fn lib_dirs(&self) -> Vec<String> {
        let mut dirs = Vec::new();
        let mut confs = vec!["etc/ld.so.conf".to_string()];
        let mut seen = std::collections::BTreeSet::new();
        while let Some(c) = confs.pop() {
            if !seen.insert(c.clone()) {
                continue;
            }
            let Some(text) = self.text(&c) else { continue };
            for line in text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
            {
                if let Some(pattern) = line.strip_prefix("include") {
                    // `include /etc/ld.so.conf.d/*.conf`: every kept file under that directory.
                    let dir = clean(pattern.trim().rsplit_once('/').map_or("", |(d, _)| d));
                    confs.extend(
                        self.nodes
                            .keys()
                            .filter(|k| k.starts_with(&format!("{dir}/")) && k.ends_with(".conf"))
                            .cloned(),
                    );
                } else {
                    dirs.push(clean(line));
                }
            }
        }
        dirs.extend(LIB_DIRS.iter().map(|d| d.to_string()));
        dirs
    }

    /// What a dynamic binary needs that this base lacks: its interpreter and each DT_NEEDED
    /// library, looked up as the loader would (RUNPATH, ld.so.conf, the default directories).
    pub fn missing(
        &self,
        interp: Option<&str>,
        needed: &[String],
        runpath: &[String],
    ) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(i) = interp {
            if !self.exists(i) {
                out.push(format!("the ELF interpreter {i}"));
            }
        }
        let mut dirs: Vec<String> = runpath
            .iter()
            .filter(|p| !p.contains("$ORIGIN"))
            .map(|p| clean(p))
            .collect();
        dirs.extend(self.lib_dirs());
        for lib in needed {
            let found = if lib.contains('/') {
                self.exists(lib)
            } else {
                dirs.iter().any(|d| self.exists(&format!("{d}/{lib}")))
            };
            if !found {
                out.push(lib.clone());
            }
        }
        out
    }

    /// The kept files directly under `dir` (`var/lib/dpkg/status.d`), by path.
    pub fn texts_under(&self, dir: &str) -> Vec<(String, String)> {
        let Some(d) = self.resolve(dir) else {
            return Vec::new();
        };
        let prefix = format!("{d}/");
        self.nodes
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .filter(|(k, _)| !k[prefix.len()..].contains('/'))
            .filter_map(|(k, n)| match n {
                Node::File { content: Some(c) } => {
                    Some((k.clone(), String::from_utf8_lossy(c).into_owned()))
                }
                _ => None,
            })
            .collect()
    }

    /// The content of a kept file (`etc/passwd`, …), through symlinks.
    pub fn text(&self, path: &str) -> Option<String> {
        let p = self.resolve(path)?;
        match self.nodes.get(&p) {
            Some(Node::File { content: Some(c) }) => Some(String::from_utf8_lossy(c).into_owned()),
            _ => None,
        }
    }
}

fn clean(p: &str) -> String {
    p.trim_start_matches("./")
        .trim_start_matches('/')
        .trim_end_matches('/')
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(entries: &[(&str, Option<&str>, Option<&str>)]) -> Vec<u8> {
        let mut t = tar::Builder::new(Vec::new());
        for (path, body, link) in entries {
            let mut h = tar::Header::new_gnu();
            match (body, link) {
                (_, Some(l)) => {
                    h.set_entry_type(tar::EntryType::Symlink);
                    h.set_size(0);
                    t.append_link(&mut h, path, l).unwrap();
                }
                (Some(b), None) => {
                    h.set_size(b.len() as u64);
                    h.set_mode(0o644);
                    t.append_data(&mut h, path, b.as_bytes()).unwrap();
                }
                (None, None) => {
                    h.set_entry_type(tar::EntryType::Directory);
                    h.set_size(0);
                    h.set_mode(0o755);
                    t.append_data(&mut h, path, std::io::empty()).unwrap();
                }
            }
        }
        t.into_inner().unwrap()
    }

    #[test]
    fn whiteouts_symlinks_and_kept_files() {
        let mut f = BaseFiles::default();
        f.apply_layer(
            &layer(&[
                ("etc", None, None),
                ("etc/passwd", Some("root:x:0:0::/root:/bin/sh\n"), None),
                ("usr/lib/x86_64-linux-gnu/libc.so.6", Some("elf"), None),
                ("lib", None, Some("usr/lib")),
                ("tmp/junk", Some("x"), None),
                ("opt/a/b", Some("x"), None),
            ])[..],
        )
        .unwrap();
        f.apply_layer(
            &layer(&[
                ("tmp/.wh.junk", Some(""), None),
                ("opt/a/.wh..wh..opq", Some(""), None),
            ])[..],
        )
        .unwrap();
        assert!(f.exists("/lib/x86_64-linux-gnu/libc.so.6"));
        assert_eq!(
            f.resolve("lib/x86_64-linux-gnu/libc.so.6").as_deref(),
            Some("usr/lib/x86_64-linux-gnu/libc.so.6")
        );
        assert!(!f.exists("tmp/junk"), "whiteout");
        assert!(!f.exists("opt/a/b"), "opaque directory");
        assert!(f.text("etc/passwd").unwrap().starts_with("root:"));
        assert!(f.text("etc/group").is_none());
    }

    #[test]
    fn libraries_are_looked_up_as_the_loader_does() {
        let mut f = BaseFiles::default();
        f.apply_layer(
            &layer(&[
                ("usr/lib/x86_64-linux-gnu/libc.so.6", Some("elf"), None),
                (
                    "usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
                    Some("elf"),
                    None,
                ),
                (
                    "usr/lib64/ld-linux-x86-64.so.2",
                    None,
                    Some("/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"),
                ),
                ("lib", None, Some("usr/lib")),
                ("lib64", None, Some("usr/lib64")),
                ("opt/vendor/libv.so.1", Some("elf"), None),
                (
                    "etc/ld.so.conf",
                    Some("include /etc/ld.so.conf.d/*.conf\n"),
                    None,
                ),
                ("etc/ld.so.conf.d/vendor.conf", Some("/opt/vendor\n"), None),
            ])[..],
        )
        .unwrap();
        let needed = |libs: &[&str]| libs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(f
            .missing(
                Some("/lib64/ld-linux-x86-64.so.2"),
                &needed(&["libc.so.6", "libv.so.1"]),
                &[]
            )
            .is_empty());
        assert_eq!(
            f.missing(
                Some("/lib64/ld-linux-x86-64.so.2"),
                &needed(&["libc.so.6", "libsqlite3.so.0"]),
                &[]
            ),
            ["libsqlite3.so.0"]
        );
        let empty = BaseFiles::default();
        assert_eq!(
            empty.missing(
                Some("/lib64/ld-linux-x86-64.so.2"),
                &needed(&["libc.so.6"]),
                &[]
            ),
            [
                "the ELF interpreter /lib64/ld-linux-x86-64.so.2",
                "libc.so.6"
            ]
        );
    }

    #[test]
    fn specs() {
        let root = Path::new("/p");
        assert_eq!(BaseSpec::parse("scratch", root).unwrap(), BaseSpec::Scratch);
        assert_eq!(BaseSpec::parse(" ", root).unwrap(), BaseSpec::Scratch);
        assert_eq!(
            BaseSpec::parse("oci:base:3.20", root).unwrap(),
            BaseSpec::Image(Location::Layout {
                dir: "/p/base".into(),
                name: Some("3.20".into()),
                digest: None,
            })
        );
        assert_eq!(
            BaseSpec::parse("docker-archive:/x/b.tar", root).unwrap(),
            BaseSpec::Image(Location::Archive {
                file: "/x/b.tar".into(),
                tag: None
            })
        );
        assert!(matches!(
            BaseSpec::parse("127.0.0.1:5000/base:1", root).unwrap(),
            BaseSpec::Image(Location::Registry(_))
        ));
        assert!(BaseSpec::parse("Not A Ref", root).is_err());
    }
}
