//! `drydock deploy`: what runs the image. Kubernetes manifests, a Compose bundle behind an nginx
//! TLS terminator, a Docker Swarm stack, and a Dockerfile with its .dockerignore for teams that
//! keep `docker build`. Each target is one module that makes its whole output (a [`Bundle`]);
//! this one writes them: all the files or none, only those nobody changed since drydock wrote
//! them, and the record of what it wrote. Nothing outside the output directory is touched.

pub mod compose;
pub mod dockerfile;
pub mod k8s;
pub mod nginx;
pub mod spec;
pub mod swarm;
pub mod tls;
pub mod yaml;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::project::Project;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    K8s,
    Compose,
    Dockerfile,
    /// A Docker Swarm stack (`docker stack deploy`).
    Swarm,
}

impl Target {
    /// What makes the target's files.
    pub fn bundle(self) -> &'static dyn Bundle {
        match self {
            Target::K8s => &k8s::Kubernetes,
            Target::Compose => &compose::Compose,
            Target::Dockerfile => &dockerfile::Dockerfile,
            Target::Swarm => &swarm::Swarm,
        }
    }
}

/// What one target writes: its files, the directory of its proxy's TLS key pair, and what the
/// user must know to run them.
pub trait Bundle {
    /// Every file of the target, its path relative to the output directory.
    fn files(&self, cx: &Context) -> Result<Vec<GeneratedFile>, DeployError>;
    /// Where its proxy reads its TLS key pair (relative to the output directory), which
    /// `--tls self-signed` fills through [`tls::key_pair`] after every target's files.
    fn certificates(&self) -> Option<&'static str> {
        None
    }
    /// What deploy says about the files it wrote (how secrets reach the app, ...).
    fn notes(&self, _p: &Project) -> Vec<String> {
        Vec::new()
    }
}

/// What a target is made from.
pub struct Context<'a> {
    pub project: &'a Project,
    pub image: &'a DeployImage,
    /// See [`https_port`].
    pub https_port: u16,
    /// The output directory as the project's root sees it (`deploy`, `deploy/worker`), for
    /// the commands the files tell the user to run from there.
    pub out_from_root: PathBuf,
}

/// One file to write, with its mode.
pub struct GeneratedFile {
    /// Relative to the output directory.
    pub path: PathBuf,
    pub text: String,
    pub mode: u32,
}

impl GeneratedFile {
    /// A file readable by all (0644).
    pub fn new(path: impl Into<PathBuf>, text: String) -> GeneratedFile {
        GeneratedFile {
            path: path.into(),
            text,
            mode: 0o644,
        }
    }
}

/// Where the TLS key pair of the Compose bundle's and the Swarm stack's proxy comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Tls {
    /// Certificates you put in compose/certs/ (tls.crt, tls.key).
    Provided,
    /// A development certificate for localhost, written now.
    SelfSigned,
}

#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error("writing {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("serialising {what}: {message}")]
    Yaml { what: String, message: String },
    #[error("generating the self-signed certificate: {0}")]
    Certificate(String),
    #[error("HTTPS_PORT is {value:?}, not a port")]
    HttpsPort { value: String },
    #[error("{} is not a deploy record drydock can read ({why}), so drydock cannot tell which files it wrote", .path.display())]
    Record { path: PathBuf, why: String },
}

impl DeployError {
    /// What to do about it, shown after the message (see [`crate::error::Classify::fix`]).
    pub fn fix(&self) -> Option<String> {
        Some(match self {
            DeployError::HttpsPort { .. } => "set HTTPS_PORT to the port HTTPS is published on (1-65535), or unset it for 443".into(),
            DeployError::Record { .. } => "restore it, or remove it (deploy then takes files that match what it writes as its own and keeps the others), or deploy with --force to replace every file".into(),
            _ => return None,
        })
    }
}

/// The image the files refer to.
#[derive(Debug, Clone, Serialize)]
pub struct DeployImage {
    /// For Kubernetes: what a cluster pulls (`name:tag@sha256:…`, or `--image` as given).
    pub reference: String,
    /// For Compose and Swarm, against the local engine: what that engine has (`name:tag`).
    pub local: String,
    /// The manifest digest, when drydock built the image.
    pub digest: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct DeployReport {
    pub image: String,
    pub written: Vec<PathBuf>,
    /// Files left as they were: unchanged, or edited by someone since drydock wrote them.
    pub kept: Vec<Kept>,
    /// What the user must know to run what was written (how secrets reach the app, ...).
    pub notes: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Kept {
    pub path: PathBuf,
    pub why: String,
}

/// The record of what drydock wrote under the output directory (path → SHA-256 of the
/// content), so that a later deploy rewrites only files nobody changed since.
const RECORD: &str = ".drydock-deploy.json";

fn sha(bytes: &[u8]) -> String {
    crate::digest::Digest::of(bytes).to_string()
}

/// Reads the record; a missing one is empty, an unreadable one an error (never silently empty:
/// that would turn every file drydock wrote into one it "did not write").
fn read_record(out: &Path) -> Result<Record, DeployError> {
    let path = out.join(RECORD);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Record::default()),
        Err(e) => {
            return Err(DeployError::Record {
                path,
                why: e.to_string(),
            })
        }
    };
    serde_json::from_slice::<Record>(&bytes).map_err(|e| DeployError::Record {
        path,
        why: e.to_string(),
    })
}

/// What drydock wrote: `files` maps each path (relative to the output directory) to the hash
/// of what it holds. `pending` holds the hashes of files being replaced, written before the
/// first rename and cleared after the last: a deploy that stops between the two leaves every
/// file either as it was or as it was to become, and both are known to be drydock's.
#[derive(Serialize, serde::Deserialize, Default, Clone, PartialEq)]
struct Record {
    files: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pending: BTreeMap<String, String>,
}

impl Record {
    fn owns(&self, name: &str, hash: &str) -> bool {
        self.files.get(name).is_some_and(|h| h == hash)
            || self.pending.get(name).is_some_and(|h| h == hash)
    }
    fn knows(&self, name: &str) -> bool {
        self.files.contains_key(name) || self.pending.contains_key(name)
    }
}

fn write_record(out: &Path, record: &Record) -> Result<(), DeployError> {
    let json = serde_json::to_vec_pretty(record).map_err(|e| DeployError::Yaml {
        what: "the deploy record".into(),
        message: e.to_string(),
    })?;
    let path = out.join(RECORD);
    crate::fsutil::write_bytes_atomic(&path, &json)
        .map_err(|source| DeployError::Io { path, source })
}

/// A file written under a temporary name beside its destination, renamed into place later.
struct Staged {
    path: PathBuf,
    name: String,
    hash: String,
    mode: u32,
    tmp: tempfile::NamedTempFile,
}

/// Writes `text` to a temporary sibling of `path`, with its final mode, and syncs it. The
/// directories it had to create are added to `created` (outermost first).
fn stage(
    path: &Path,
    text: &[u8],
    mode: u32,
    created: &mut Vec<PathBuf>,
) -> std::io::Result<tempfile::NamedTempFile> {
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut missing: Vec<PathBuf> = dir
        .ancestors()
        .take_while(|a| !a.as_os_str().is_empty() && !a.exists())
        .map(Path::to_path_buf)
        .collect();
    missing.reverse();
    for d in missing {
        std::fs::create_dir(&d)?;
        created.push(d);
    }
    let mut tmp = tempfile::Builder::new()
        .prefix(".drydock-tmp-")
        .tempfile_in(dir)?;
    tmp.write_all(text)?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(mode))?;
    tmp.as_file().sync_data()?;
    Ok(tmp)
}

/// The port the Compose and Swarm proxies publish HTTPS on: `HTTPS_PORT` when deploy runs,
/// else 443. It is the default of `${HTTPS_PORT:-…}` in the bundle and the port nginx's
/// HTTP-to-HTTPS redirect names (nginx cannot read the environment when it runs).
pub fn https_port() -> Result<u16, DeployError> {
    match std::env::var("HTTPS_PORT") {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or(DeployError::HttpsPort { value: v }),
        _ => Ok(443),
    }
}

/// Writes the files of `targets` under `out`; returns what was written and what was kept.
pub fn deploy(
    p: &Project,
    image: &DeployImage,
    targets: &[Target],
    out: &Path,
    tls: Tls,
    force: bool,
) -> Result<DeployReport, DeployError> {
    let record = match read_record(out) {
        Err(_) if force => Record::default(),
        r => r?,
    };
    // Relative to the project's root when it is inside it, else as given.
    let out_from_root = match (std::path::absolute(out), std::path::absolute(&p.root)) {
        (Ok(o), Ok(r)) => o.strip_prefix(&r).map(Path::to_path_buf).unwrap_or(o),
        _ => out.to_path_buf(),
    };
    let cx = Context {
        project: p,
        image,
        https_port: https_port()?,
        out_from_root,
    };
    let mut files = Vec::new();
    for t in targets {
        files.extend(t.bundle().files(&cx)?);
    }
    // The key pairs come after every target's files.
    let mut kept = Vec::new();
    let hosts: Vec<String> = p.deploy.ingress.host.iter().cloned().collect();
    if tls == Tls::SelfSigned {
        for dir in targets.iter().filter_map(|t| t.bundle().certificates()) {
            match tls::key_pair(out, Path::new(dir), &hosts, force)? {
                tls::KeyPair::Kept(k) => kept.push(k),
                tls::KeyPair::New(pair) => files.extend(pair),
            }
        }
    }
    // Decide, then write every file to a temporary sibling, then rename them all: a failure
    // before the renames (a full disk, a file where a directory must go) changes nothing.
    let mut new_record = Record {
        files: record.files.clone(),
        pending: BTreeMap::new(),
    };
    let mut staged: Vec<Staged> = Vec::new();
    let mut created: Vec<PathBuf> = Vec::new();
    for f in files {
        // The record names each file by its path under `out`.
        let name = f.path.to_string_lossy().into_owned();
        let path = out.join(&f.path);
        let current = std::fs::read(&path).ok();
        if let Some(cur) = &current {
            let ours = record.owns(&name, &sha(cur));
            if cur == f.text.as_bytes() {
                // Already what drydock writes: nothing to replace, whoever wrote it (an earlier
                // deploy that stopped before its record, say).
                new_record.files.insert(name, sha(cur));
                continue;
            }
            if !ours && !force {
                kept.push(Kept {
                    path: path.clone(),
                    why: if record.knows(&name) {
                        "edited since drydock wrote it (--force replaces it)".into()
                    } else {
                        "not written by drydock (--force replaces it)".into()
                    },
                });
                continue;
            }
        }
        // A replaced file keeps its mode, except that a key never becomes readable by others.
        let mode = match crate::fsutil::existing_mode(&path) {
            Some(m) if f.mode != 0o600 => m,
            _ => f.mode,
        };
        match stage(&path, f.text.as_bytes(), mode, &mut created) {
            Ok(tmp) => staged.push(Staged {
                hash: sha(f.text.as_bytes()),
                name,
                path,
                mode,
                tmp,
            }),
            Err(source) => {
                drop(staged);
                for d in created.iter().rev() {
                    let _ = std::fs::remove_dir(d);
                }
                return Err(DeployError::Io { path, source });
            }
        }
    }
    if !staged.is_empty() {
        let mut pending = new_record.clone();
        pending.pending = staged
            .iter()
            .map(|s| (s.name.clone(), s.hash.clone()))
            .collect();
        if let Err(e) = write_record(out, &pending) {
            drop(staged);
            for d in created.iter().rev() {
                let _ = std::fs::remove_dir(d);
            }
            return Err(e);
        }
    }
    let mut written = Vec::new();
    for s in staged {
        s.tmp.persist(&s.path).map_err(|e| DeployError::Io {
            path: s.path.clone(),
            source: e.error,
        })?;
        if s.mode == 0o600 {
            // The Compose proxy reads the key as uid 65532 through a bind mount. As root, hand
            // it over; otherwise the header of compose.yaml says what to do.
            let _ = std::os::unix::fs::chown(&s.path, Some(65532), Some(65532));
        }
        new_record.files.insert(s.name, s.hash);
        written.push(s.path);
    }
    if new_record != record {
        write_record(out, &new_record)?;
    }
    // Notes in one order whatever the order of the targets (the secrets' first), each once:
    // Compose and Swarm say the same about secrets.
    let mut notes: Vec<String> = Vec::new();
    for t in [
        Target::Compose,
        Target::Swarm,
        Target::Dockerfile,
        Target::K8s,
    ] {
        if targets.contains(&t) {
            for n in t.bundle().notes(p) {
                if !notes.contains(&n) {
                    notes.push(n);
                }
            }
        }
    }
    Ok(DeployReport {
        image: image.reference.clone(),
        written,
        kept,
        notes,
    })
}

#[cfg(test)]
mod record_tests {
    use super::*;

    /// A deploy stopped among its renames leaves each file old or new: the record written
    /// before the renames knows both, so the next deploy replaces either without a refusal.
    #[test]
    fn pending_hashes_are_drydocks_too() {
        let t = tempfile::tempdir().unwrap();
        let record = Record {
            files: BTreeMap::from([("a.yaml".into(), sha(b"old"))]),
            pending: BTreeMap::from([("a.yaml".into(), sha(b"new"))]),
        };
        write_record(t.path(), &record).unwrap();
        let read = read_record(t.path()).unwrap();
        assert!(read.owns("a.yaml", &sha(b"old")) && read.owns("a.yaml", &sha(b"new")));
        assert!(!read.owns("a.yaml", &sha(b"edited")) && read.knows("a.yaml"));
        // A record from before `pending` existed still reads.
        std::fs::write(
            t.path().join(RECORD),
            r#"{"files": {"b.yaml": "sha256:00"}}"#,
        )
        .unwrap();
        assert!(read_record(t.path()).unwrap().owns("b.yaml", "sha256:00"));
    }
}
