//! What drydock adds on top of the base: the app's layers (root files, helper, assets, binary)
//! and the runtime config (user, port, environment, entrypoint, health check, labels).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use super::helper::{helper_layer_for, HELPER_PATH};
use super::layer::{Content, Entry, EntryKind as LayerKind, LayerSpec};
use super::{rfc3339, rootfs, Healthcheck, ImageSettings};
use crate::context::{ContextEntry, EntryKind};
use crate::reference::Reference;
use crate::source::SourceMeta;

/// The directory the binary goes in (`/app`), also the working directory and first on PATH.
pub const APP_DIR: &str = "app";

/// The health check, resolved with defaults: what the helper's probe asks, and how often.
#[derive(Debug, Clone)]
pub struct Health {
    /// Liveness path, probed on the service port.
    pub path: String,
    /// Readiness path.
    pub ready_path: String,
    pub interval: Duration,
    pub timeout: Duration,
    pub start_period: Duration,
    pub retries: u32,
}

/// The files of drydock's layers.
pub struct Files<'a> {
    /// The binary's name under [`APP_DIR`].
    pub name: &'a str,
    /// Whether drydock-helper goes in.
    pub helper: bool,
    /// Each asset entry's path in the image and its context entry; `None` without assets.
    pub assets: Option<Vec<(String, &'a ContextEntry)>>,
    /// Where the context's entries are on disk.
    pub context_root: &'a Path,
    pub binary: Content,
}

/// drydock's layers, least to most often changed: root files, the helper, the assets, the
/// binary. `mtime` is every file's time; the helper is `platform`'s.
pub fn layer_specs(
    files: Files<'_>,
    mtime: u64,
    base: Option<&crate::base::BaseFiles>,
    platform: &drydock_oci::Platform,
) -> Result<Vec<LayerSpec>, super::helper::HelperUnavailable> {
    let mut specs = vec![rootfs::root_files_layer(mtime, base)];
    if files.helper {
        specs.push(helper_layer_for(platform, mtime)?);
    }
    if let Some(assets) = files.assets {
        let mut l = LayerSpec::new("assets", mtime);
        for (path, e) in assets {
            let full = files.context_root.join(&e.path);
            l.push(match &e.kind {
                EntryKind::Dir => Entry::dir(&path, 0o755),
                EntryKind::File { executable, .. } => Entry::file(
                    &path,
                    if *executable { 0o755 } else { 0o644 },
                    Content::Path(full),
                ),
                EntryKind::Symlink { target } => Entry {
                    path,
                    kind: LayerKind::Symlink(target.clone()),
                    mode: 0o777,
                    uid: 0,
                    gid: 0,
                },
            });
        }
        specs.push(l);
    }
    let mut bin = LayerSpec::new("binary", mtime);
    bin.push(Entry::dir(APP_DIR, 0o755));
    bin.push(Entry::file(
        &format!("{APP_DIR}/{}", files.name),
        0o555,
        files.binary,
    ));
    specs.push(bin);
    Ok(specs)
}

/// A Go binary's runtime, for the helper.
#[derive(Debug, Clone, Copy)]
pub struct GoRuntime {
    /// The Go runtime sets GOMAXPROCS from the CPU limit itself (Go 1.25 on).
    pub sets_maxprocs: bool,
}

/// What the image config is made of.
pub struct Settings<'a> {
    pub name: &'a str,
    pub port: u16,
    pub tag: &'a Reference,
    pub user: (u32, u32),
    pub env: &'a BTreeMap<String, String>,
    pub labels: &'a BTreeMap<String, String>,
    /// A Gin service gets GIN_MODE=release unless `env` sets it.
    pub gin: bool,
    /// drydock-helper is in the image, with this health check.
    pub helper: Option<&'a Health>,
    pub go: Option<GoRuntime>,
    pub source: &'a SourceMeta,
}

/// The helper runs the app as its child; for Go apps it also sets GOMAXPROCS (unless the Go
/// runtime does it itself) and GOMEMLIMIT.
fn entrypoint(name: &str, helper: bool, go: Option<GoRuntime>) -> Vec<String> {
    let app = format!("/{APP_DIR}/{name}");
    if !helper {
        return vec![app];
    }
    let mut e = vec![HELPER_PATH.to_string()];
    if let Some(g) = go {
        e.push("--go".into());
        if g.sets_maxprocs {
            e.push("--go-runtime-maxprocs".into());
        }
    }
    e.push("--".into());
    e.push(app);
    e
}

fn healthcheck(h: &Health, port: u16) -> Healthcheck {
    // The probe gives up a little before Docker would kill it, so it reports why.
    let probe_timeout = h
        .timeout
        .saturating_sub(Duration::from_millis(500))
        .max(Duration::from_millis(500));
    Healthcheck {
        test: vec![
            "CMD".into(),
            HELPER_PATH.into(),
            "probe".into(),
            format!("http://127.0.0.1:{port}{}", h.path),
            "--timeout".into(),
            format!("{}ms", probe_timeout.as_millis()),
        ],
        interval: h.interval.as_nanos() as u64,
        timeout: h.timeout.as_nanos() as u64,
        start_period: h.start_period.as_nanos() as u64,
        retries: h.retries,
    }
}

/// The runtime config: OCI labels from the sources and the tag, then the project's own;
/// PATH, GIN_MODE and the project's environment; the helper's entrypoint and health check.
pub fn settings(s: &Settings<'_>) -> ImageSettings {
    let meta = s.source;
    let mut labels = BTreeMap::new();
    labels.insert(
        "org.opencontainers.image.title".to_string(),
        s.name.to_string(),
    );
    labels.insert(
        "org.opencontainers.image.created".to_string(),
        rfc3339(meta.created),
    );
    if let Some(r) = &meta.revision {
        labels.insert("org.opencontainers.image.revision".to_string(), r.clone());
    }
    if let Some(src) = &meta.source {
        labels.insert("org.opencontainers.image.source".to_string(), src.clone());
    }
    if let Some(v) = s.tag.tag().filter(|t| *t != "latest") {
        labels.insert(
            "org.opencontainers.image.version".to_string(),
            v.to_string(),
        );
    }
    labels.extend(s.labels.clone());
    let mut env = vec![format!("PATH=/{APP_DIR}:/usr/local/bin:/usr/bin:/bin")];
    if s.gin && !s.env.contains_key("GIN_MODE") {
        env.push("GIN_MODE=release".into());
    }
    env.extend(s.env.iter().map(|(k, v)| format!("{k}={v}")));
    ImageSettings {
        created: meta.created,
        user: format!("{}:{}", s.user.0, s.user.1),
        port: s.port,
        env,
        entrypoint: entrypoint(s.name, s.helper.is_some(), s.go),
        healthcheck: s.helper.map(|h| healthcheck(h, s.port)),
        workdir: format!("/{APP_DIR}"),
        annotations: labels
            .iter()
            .filter(|(k, _)| k.starts_with("org.opencontainers.image."))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        labels,
    }
}
