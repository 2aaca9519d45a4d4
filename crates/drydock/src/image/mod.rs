//! The runtime stage: layers, image config and manifest, assembled into drydock's cache.
//!
//! The image is `scratch` plus drydock's root files, optional assets and the binary, in that
//! order (least to most often changed). JSON is serialised with sorted keys and no whitespace,
//! so the same inputs always give the same config and manifest digests.

pub mod gzip;
pub mod helper;
pub mod layer;
pub mod rootfs;

use std::collections::BTreeMap;

use oci_spec::image::{
    Arch, ConfigBuilder, DescriptorBuilder, HistoryBuilder, ImageConfigurationBuilder,
    ImageManifestBuilder, MediaType, Os, RootFsBuilder,
};
use serde::Serialize;

use crate::cache::{Cache, CacheError};
use crate::digest::Digest;
use layer::BuiltLayer;

pub const MEDIA_TYPE_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("building the image {what}: {message}")]
    Spec { what: &'static str, message: String },
    #[error(transparent)]
    Cache(#[from] CacheError),
}

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

/// An image in the cache: its manifest, config and layers are all blobs there.
#[derive(Debug, Clone, Serialize)]
pub struct Image {
    pub manifest_digest: Digest,
    pub manifest_size: u64,
    pub config_digest: Digest,
    pub layers: Vec<BuiltLayer>,
    #[serde(skip)]
    pub manifest: Vec<u8>,
    #[serde(skip)]
    pub config: Vec<u8>,
}

impl Image {
    /// The size of the image as a registry stores it: config plus compressed layers.
    pub fn compressed_size(&self) -> u64 {
        self.config.len() as u64 + self.layers.iter().map(|l| l.stored.size).sum::<u64>()
    }
}

/// Canonical JSON: keys sorted (serde_json's map is a BTreeMap), no insignificant whitespace.
pub fn canonical_json<T: Serialize>(v: &T) -> Result<Vec<u8>, serde_json::Error> {
    let value = serde_json::to_value(v)?;
    serde_json::to_vec(&value)
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

pub fn assemble(
    cache: &Cache,
    settings: &ImageSettings,
    layers: Vec<BuiltLayer>,
) -> Result<Image, ImageError> {
    let spec = |what: &'static str| {
        move |e: oci_spec::OciSpecError| ImageError::Spec {
            what,
            message: e.to_string(),
        }
    };
    let created = rfc3339(settings.created);
    let config = ConfigBuilder::default()
        .user(settings.user.clone())
        .exposed_ports(vec![format!("{}/tcp", settings.port)])
        .env(settings.env.clone())
        .entrypoint(settings.entrypoint.clone())
        .working_dir(settings.workdir.clone())
        .labels(
            settings
                .labels
                .clone()
                .into_iter()
                .collect::<std::collections::HashMap<_, _>>(),
        )
        .stop_signal("SIGTERM".to_string())
        .build()
        .map_err(spec("config"))?;
    let history = layers
        .iter()
        .map(|l| {
            HistoryBuilder::default()
                .created(created.clone())
                .created_by(format!("drydock: {}", l.name))
                .build()
                .map_err(spec("history"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let rootfs = RootFsBuilder::default()
        .typ("layers")
        .diff_ids(
            layers
                .iter()
                .map(|l| l.stored.diff_id.to_string())
                .collect::<Vec<_>>(),
        )
        .build()
        .map_err(spec("rootfs"))?;
    let image_config = ImageConfigurationBuilder::default()
        .created(created)
        .architecture(Arch::Amd64)
        .os(Os::Linux)
        .config(config)
        .rootfs(rootfs)
        .history(history)
        .build()
        .map_err(spec("config"))?;
    let json_err = |e: serde_json::Error| ImageError::Spec {
        what: "config",
        message: e.to_string(),
    };
    let mut config_value = serde_json::to_value(&image_config).map_err(json_err)?;
    if let (Some(hc), Some(cfg)) = (
        &settings.healthcheck,
        config_value
            .get_mut("config")
            .and_then(|c| c.as_object_mut()),
    ) {
        cfg.insert(
            "Healthcheck".into(),
            serde_json::to_value(hc).map_err(json_err)?,
        );
    }
    let config_bytes = canonical_json(&config_value).map_err(json_err)?;
    let config_digest = cache.put_bytes(&config_bytes)?;

    let descriptor = |media: MediaType, digest: &Digest, size: u64| {
        let d: oci_spec::image::Digest = digest.as_str().parse().map_err(spec("descriptor"))?;
        DescriptorBuilder::default()
            .media_type(media)
            .digest(d)
            .size(size)
            .build()
            .map_err(spec("descriptor"))
    };
    let layer_descs = layers
        .iter()
        .map(|l| descriptor(MediaType::ImageLayerGzip, &l.stored.digest, l.stored.size))
        .collect::<Result<Vec<_>, _>>()?;
    let manifest = ImageManifestBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageManifest)
        .config(descriptor(
            MediaType::ImageConfig,
            &config_digest,
            config_bytes.len() as u64,
        )?)
        .layers(layer_descs)
        .annotations(
            settings
                .annotations
                .clone()
                .into_iter()
                .collect::<std::collections::HashMap<_, _>>(),
        )
        .build()
        .map_err(spec("manifest"))?;
    let manifest_bytes = canonical_json(&manifest).map_err(|e| ImageError::Spec {
        what: "manifest",
        message: e.to_string(),
    })?;
    let manifest_digest = cache.put_bytes(&manifest_bytes)?;
    Ok(Image {
        manifest_digest,
        manifest_size: manifest_bytes.len() as u64,
        config_digest,
        layers,
        manifest: manifest_bytes,
        config: config_bytes,
    })
}
