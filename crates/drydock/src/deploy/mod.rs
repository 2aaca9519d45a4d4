//! `drydock deploy`: what runs the image. Kubernetes manifests, a Compose bundle behind an nginx
//! TLS terminator, and a Dockerfile with its .dockerignore for teams that keep `docker build`.
//! Every file is written atomically; nothing outside the output directory is touched.

pub mod compose;
pub mod dockerfile;
pub mod k8s;
pub mod swarm;

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

/// Where the Compose bundle's TLS certificate comes from.
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
    /// For Compose against the local engine: what that engine has (`name:tag`).
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

/// One file to write, with its mode.
struct Output {
    path: PathBuf,
    text: String,
    mode: u32,
}

/// The end of a bundle's header sentence: where each secret's value goes, and the variable the
/// app reads it through (`lead` introduces the list).
fn secrets_comment(p: &Project, lead: &str) -> String {
    if p.secrets.is_empty() {
        return ".\n".into();
    }
    let mut out = format!(", and each secret's value in secrets/<key>{lead}");
    for s in &p.secrets {
        out.push_str(&format!(
            "#   secrets/{}  ->  {} (the app reads {}_FILE)\n",
            s.key, s.env, s.env
        ));
    }
    out
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

/// Compose and Swarm deliver each secret as a file and set `<VAR>_FILE` to its path, never
/// `<VAR>` itself: an app that reads only `<VAR>` gets nothing. Says so for each secret, more
/// loudly when the app's sources never mention `<VAR>_FILE`.
fn secret_file_notes(p: &Project) -> Vec<String> {
    let sources = source_text(&p.root);
    p.secrets
        .iter()
        .map(|s| {
            let file_var = format!("{}_FILE", s.env);
            if sources.contains(&file_var) {
                format!(
                    "compose/swarm: secret {} reaches the app as the file /run/secrets/{}, whose path is in {file_var} (not {}); the app reads {file_var}",
                    s.key, s.key, s.env
                )
            } else {
                format!(
                    "compose/swarm: secret {} reaches the app as the file /run/secrets/{}, whose path is in {file_var}; {} itself is not set, and the app's sources never mention {file_var}, so it will get nothing: make it read the file named by {file_var} (Kubernetes sets {} directly)",
                    s.key, s.key, s.env, s.env
                )
            }
        })
        .collect()
}

/// The Go and Rust sources under `root` (vendor/, target/ and hidden folders skipped), joined,
/// for [`secret_file_notes`]'s look for a variable's name.
fn source_text(root: &Path) -> String {
    let mut text = String::new();
    let mut stack = vec![root.to_path_buf()];
    let mut budget = 4000usize;
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            if budget == 0 {
                return text;
            }
            budget -= 1;
            let name = e.file_name().to_string_lossy().into_owned();
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                if !name.starts_with('.')
                    && !["vendor", "target", "node_modules", "deploy"].contains(&name.as_str())
                {
                    stack.push(e.path());
                }
            } else if ft.is_file() && (name.ends_with(".go") || name.ends_with(".rs")) {
                if let Ok(t) = std::fs::read_to_string(e.path()) {
                    text.push_str(&t);
                }
            }
        }
    }
    text
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
    let mut files: Vec<Output> = Vec::new();
    let mut push = |path: PathBuf, text: String| {
        files.push(Output {
            path,
            text,
            mode: 0o644,
        })
    };
    let record = match read_record(out) {
        Err(_) if force => Record::default(),
        r => r?,
    };
    let rel = |path: &Path| {
        path.strip_prefix(out)
            .unwrap_or(path)
            .to_string_lossy()
            .into_owned()
    };
    let mut kept = Vec::new();
    let mut key_pairs = Vec::new();
    let https_port = https_port()?;
    for t in targets {
        match t {
            Target::K8s => {
                let m = k8s::manifests(p, &image.reference).map_err(|e| DeployError::Yaml {
                    what: "Kubernetes manifests".into(),
                    message: e.to_string(),
                })?;
                for (n, y) in m {
                    push(out.join("kubernetes").join(n), y);
                }
            }
            Target::Compose => {
                let c = compose::compose(p, &image.local, https_port);
                let yaml = serde_yaml_ng::to_string(&c).map_err(|e| DeployError::Yaml {
                    what: "the Compose file".into(),
                    message: e.to_string(),
                })?;
                let mut head = format!("# Compose bundle for {}, written by `drydock deploy`: the app behind an nginx TLS terminator.\n", p.name);
                head.push_str(&format!("#   docker compose up -d   # HTTPS on ${{HTTPS_PORT:-{https_port}}}, a redirect to it on ${{HTTP_PORT:-80}}\n# The redirect names port {https_port} (HTTPS_PORT when deploy ran): publishing HTTPS elsewhere\n# needs `HTTPS_PORT=N drydock deploy` again, since nginx cannot read the environment.\n"));
                match &image.digest {
                    Some(d) => head.push_str(&format!("# The app image is the local engine's {} ({d}): load it first with\n#   drydock build --load docker\n", image.local)),
                    None => head.push_str(&format!("# The app image: {}\n", image.local)),
                }
                head.push_str("# The proxy has no healthcheck (drydock lint's CP006 is ignored on it): nginx images carry no\n# probe tool. Compose restarts it if it exits");
                head.push_str(if p.helper {
                    ", and the app behind it is health-checked.\n"
                } else {
                    ". The app has no health check either: it was built\n# without drydock-helper (helper = false), and scratch has no probe tool; the proxy waits only\n# for it to start.\n"
                });
                head.push_str("# Put certs/tls.crt and certs/tls.key beside this file (`--tls self-signed` writes a development pair),\n# readable by uid 65532");
                head.push_str(&secrets_comment(p, ":\n"));
                push(
                    out.join("compose/compose.yaml"),
                    format!("{head}{}", compose::quote_sexagesimal(&yaml)),
                );
                push(
                    out.join("compose/nginx.conf"),
                    compose::nginx_conf(p, https_port),
                );
                if tls == Tls::SelfSigned {
                    key_pairs.push(out.join("compose/certs"));
                }
            }
            Target::Swarm => {
                let stack = swarm::stack(p, &image.local, https_port);
                let yaml = serde_yaml_ng::to_string(&stack).map_err(|e| DeployError::Yaml {
                    what: "the Swarm stack".into(),
                    message: e.to_string(),
                })?;
                let mut head = format!("# Docker Swarm stack for {}, written by `drydock deploy`: the app's replicas behind an nginx TLS terminator.\n", p.name);
                head.push_str(&format!("#   docker stack deploy -c stack.yaml {}   # HTTPS on ${{HTTPS_PORT:-{https_port}}} of the node running nginx\n# The HTTP redirect names port {https_port} (HTTPS_PORT when deploy ran; deploy again to change it).\n", p.name));
                head.push_str(&format!("# The app image: {} (on one node a local image works: add --resolve-image never; on\n# several, push it: drydock build --push REF, and deploy with --image REF@sha256:…).\n", image.local));
                head.push_str("# nginx publishes its ports in host mode and finds the replicas through Swarm's DNS: the\n# routing mesh is not needed. Put certs/tls.crt and certs/tls.key beside this file\n# (`--tls self-signed` writes a development pair)");
                head.push_str(&secrets_comment(p, "\n# (they become Swarm secrets):\n"));
                push(
                    out.join("swarm/stack.yaml"),
                    format!("{head}{}", compose::quote_sexagesimal(&yaml)),
                );
                push(
                    out.join("swarm/nginx.conf"),
                    swarm::nginx_conf(p, https_port),
                );
                if tls == Tls::SelfSigned {
                    key_pairs.push(out.join("swarm/certs"));
                }
            }
            Target::Dockerfile => {
                push(out.join("docker/Dockerfile"), dockerfile::dockerfile(p));
                // BuildKit reads <Dockerfile>.dockerignore beside the Dockerfile before the
                // context's own .dockerignore.
                push(
                    out.join("docker/Dockerfile.dockerignore"),
                    crate::init::render_dockerignore(p.language),
                );
            }
        }
    }
    for dir in key_pairs {
        let crt = dir.join("tls.crt");
        let key = dir.join("tls.key");
        if crt.is_file() && key.is_file() && !force {
            // A pair already there is kept: a new one on every deploy would break every
            // client that trusts the old certificate.
            kept.push(Kept {
                path: key.clone(),
                why: "a key pair is already there (--force makes a new one)".into(),
            });
            continue;
        }
        let hosts: Vec<String> = p.ingress.host.iter().cloned().collect();
        let (cert, k) =
            compose::self_signed(&hosts).map_err(|e| DeployError::Certificate(e.to_string()))?;
        files.push(Output {
            path: crt,
            text: cert,
            mode: 0o644,
        });
        files.push(Output {
            path: key,
            text: k,
            mode: 0o600,
        });
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
        let name = rel(&f.path);
        let current = std::fs::read(&f.path).ok();
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
                    path: f.path.clone(),
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
        let mode = match crate::fsutil::existing_mode(&f.path) {
            Some(m) if f.mode != 0o600 => m,
            _ => f.mode,
        };
        match stage(&f.path, f.text.as_bytes(), mode, &mut created) {
            Ok(tmp) => staged.push(Staged {
                hash: sha(f.text.as_bytes()),
                name,
                path: f.path,
                mode,
                tmp,
            }),
            Err(source) => {
                drop(staged);
                for d in created.iter().rev() {
                    let _ = std::fs::remove_dir(d);
                }
                return Err(DeployError::Io {
                    path: f.path,
                    source,
                });
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
            // The proxy reads the key as uid 65532 through the bind mount. As root, hand it
            // over; otherwise the header of compose.yaml says what to do.
            let _ = std::os::unix::fs::chown(&s.path, Some(65532), Some(65532));
        }
        new_record.files.insert(s.name, s.hash);
        written.push(s.path);
    }
    if new_record != record {
        write_record(out, &new_record)?;
    }
    let mut notes = if targets
        .iter()
        .any(|t| matches!(t, Target::Compose | Target::Swarm))
    {
        secret_file_notes(p)
    } else {
        Vec::new()
    };
    if targets.contains(&Target::Dockerfile) {
        notes.extend(dockerfile::dockerfile_note(p));
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
