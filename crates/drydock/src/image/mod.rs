//! The runtime stage: layers, image config and manifest, assembled into drydock's cache.
//!
//! The image is the base (`scratch` unless `[image] base` names one) plus drydock's root files,
//! the helper, optional assets and the binary, in that order (least to most often changed; see
//! [`app`]). JSON is serialised with sorted keys and no whitespace, so the same inputs always
//! give the same config and manifest digests.

pub mod app;
pub mod gzip;
pub mod helper;
pub mod layer;
pub mod rootfs;

use std::collections::BTreeMap;

pub use drydock_oci::ImageError;
use drydock_oci::{ImageBuilder, Layer, Platform};
use serde::Serialize;

use crate::cache::Cache;
use layer::BuiltLayer;

/// What the image config says, apart from its layers.
#[derive(Debug, Clone)]
pub struct ImageSettings {
    /// Seconds since the epoch for `created`, history and file mtimes.
    pub created: u64,
    pub user: String,
    pub port: u16,
    pub env: Vec<String>,
    pub entrypoint: Vec<String>,
    pub workdir: String,
    pub labels: BTreeMap<String, String>,
    /// Manifest annotations (the same `org.opencontainers.image.*` set as the labels).
    pub annotations: BTreeMap<String, String>,
    pub healthcheck: Option<Healthcheck>,
}

/// Docker's `config.Healthcheck` (durations in nanoseconds). The OCI spec reserves the key for
/// compatibility; Docker and podman (for docker-format images) run it.
#[derive(Debug, Clone, Serialize)]
pub struct Healthcheck {
    #[serde(rename = "Test")]
    pub test: Vec<String>,
    #[serde(rename = "Interval")]
    pub interval: u64,
    #[serde(rename = "Timeout")]
    pub timeout: u64,
    #[serde(rename = "StartPeriod")]
    pub start_period: u64,
    #[serde(rename = "Retries")]
    pub retries: u32,
}

/// An image in the cache, with how each of drydock's layers was made.
#[derive(Debug, Clone)]
pub struct Image {
    pub oci: drydock_oci::Image,
    pub layers: Vec<BuiltLayer>,
}

pub fn rfc3339(secs: u64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs as i64)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".into())
}

/// drydock's image: its layers on the base (scratch when there is none), with the settings as
/// the runtime config. On a base, its `Env` is kept with drydock's added (`PATH` gets `/app`
/// in front of the base's), its labels merged; drydock's user, entrypoint, working directory,
/// exposed port and health check replace the base's, and the base's `Cmd` is dropped (it would
/// become arguments of drydock's entrypoint).
pub fn assemble(
    cache: &Cache,
    settings: &ImageSettings,
    layers: Vec<BuiltLayer>,
    base: Option<&crate::base::Base>,
    platform: &Platform,
) -> Result<Image, ImageError> {
    let created = rfc3339(settings.created);
    let mut b = match base {
        Some(base) => base.builder.clone(),
        None => ImageBuilder::scratch(platform),
    };
    b.created(&created);
    for l in &layers {
        b.append_layer(
            Layer {
                digest: l.stored.digest.clone(),
                diff_id: l.stored.diff_id.clone(),
                size: l.stored.size,
                media_type: l.stored.media_type.clone(),
            },
            &created,
            &format!("drydock: {}", l.name),
        );
    }
    let mut env = settings.env.clone();
    if let Some(base_path) = b
        .runtime()
        .get("Env")
        .and_then(|e| e.as_array())
        .and_then(|e| {
            e.iter()
                .filter_map(|v| v.as_str())
                .find_map(|v| v.strip_prefix("PATH="))
        })
        .map(str::to_string)
    {
        for v in env.iter_mut().filter(|v| v.starts_with("PATH=")) {
            *v = format!("PATH=/{}:{base_path}", app::APP_DIR);
        }
    }
    b.merge_env(&env).merge_labels(&settings.labels);
    let rt = b.runtime_mut();
    for k in ["Cmd", "Healthcheck", "ExposedPorts", "OnBuild"] {
        rt.remove(k);
    }
    rt.insert("User".into(), settings.user.clone().into());
    rt.insert(
        "ExposedPorts".into(),
        serde_json::json!({ format!("{}/tcp", settings.port): {} }),
    );
    rt.insert("Entrypoint".into(), serde_json::json!(settings.entrypoint));
    rt.insert("WorkingDir".into(), settings.workdir.clone().into());
    rt.insert("StopSignal".into(), "SIGTERM".into());
    if let Some(hc) = &settings.healthcheck {
        rt.insert(
            "Healthcheck".into(),
            serde_json::to_value(hc).expect("a health check serialises"),
        );
    }
    for (k, v) in &settings.annotations {
        b.annotate(k, v);
    }
    if let Some(base) = base {
        b.annotate("org.opencontainers.image.base.name", &base.name);
        b.annotate("org.opencontainers.image.base.digest", base.digest.as_str());
    }
    let oci = b.build(cache)?;
    Ok(Image { oci, layers })
}
