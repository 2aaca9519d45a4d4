//! Images as go-containerregistry's `mutate` builds them: start from a base (or from scratch,
//! the empty image), append layers, change the config, and write the config and manifest into a
//! [`BlobStore`]. The base's layers stay first and byte for byte; media types follow the base
//! (Docker schema 2 or OCI), never mixed in one manifest; fields of the base's config that
//! drydock does not know are kept as they are.
//!
//! JSON is written canonically (keys sorted, no whitespace), so the same inputs always give the
//! same config and manifest digests.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::digest::Digest;
use crate::platform::Platform;
use crate::store::{BlobStore, StoreError};

/// Which family of media types an image uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Oci,
    Docker,
}

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

impl Format {
    pub fn manifest_media_type(self) -> &'static str {
        match self {
            Format::Oci => OCI_MANIFEST,
            Format::Docker => DOCKER_MANIFEST,
        }
    }
    pub fn config_media_type(self) -> &'static str {
        match self {
            Format::Oci => OCI_CONFIG,
            Format::Docker => DOCKER_CONFIG,
        }
    }
    /// The media type of a gzip-compressed tar layer.
    pub fn layer_media_type(self) -> &'static str {
        match self {
            Format::Oci => OCI_LAYER_GZIP,
            Format::Docker => DOCKER_LAYER_GZIP,
        }
    }
    /// The format of a manifest media type; `None` for indexes and anything unknown.
    pub fn of_manifest(media_type: &str) -> Option<Format> {
        match media_type {
            OCI_MANIFEST => Some(Format::Oci),
            DOCKER_MANIFEST => Some(Format::Docker),
            _ => None,
        }
    }
    /// This format's name for a layer media type written in the other one (the bytes are the
    /// same; only the label differs). Types without a counterpart are kept.
    fn layer_type_for(self, media_type: &str) -> String {
        match (self, media_type) {
            (Format::Oci, DOCKER_LAYER_GZIP) => OCI_LAYER_GZIP.into(),
            (Format::Docker, OCI_LAYER_GZIP) => DOCKER_LAYER_GZIP.into(),
            (Format::Oci, "application/vnd.docker.image.rootfs.diff.tar") => {
                "application/vnd.oci.image.layer.v1.tar".into()
            }
            (Format::Docker, "application/vnd.oci.image.layer.v1.tar") => {
                "application/vnd.docker.image.rootfs.diff.tar".into()
            }
            _ => media_type.to_string(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("image {digest}: {problem}")]
    Invalid { digest: Digest, problem: String },
    #[error("writing the image {what}: {source}")]
    Json {
        what: &'static str,
        source: serde_json::Error,
    },
}

/// One layer as a manifest lists it, with the digest of its uncompressed tar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layer {
    pub digest: Digest,
    pub diff_id: Digest,
    pub size: u64,
    pub media_type: String,
}

/// A built image: its manifest and config are blobs in the store it was built into.
#[derive(Debug, Clone, Serialize)]
pub struct Image {
    pub format: Format,
    pub manifest_digest: Digest,
    pub manifest_size: u64,
    pub config_digest: Digest,
    pub layers: Vec<Layer>,
    #[serde(skip)]
    pub manifest: Vec<u8>,
    #[serde(skip)]
    pub config: Vec<u8>,
}

impl Image {
    /// An image whose manifest and config are in `store` (as a pull leaves them).
    pub fn read(store: &dyn BlobStore, manifest: &Digest) -> Result<Image, ImageError> {
        let b = ImageBuilder::from_image(store, manifest)?;
        let manifest_bytes = store.read(manifest)?;
        let m: Value =
            serde_json::from_slice(&manifest_bytes).map_err(|source| ImageError::Json {
                what: "manifest",
                source,
            })?;
        let config_digest = m
            .pointer("/config/digest")
            .and_then(Value::as_str)
            .and_then(Digest::parse)
            .ok_or_else(|| ImageError::Invalid {
                digest: manifest.clone(),
                problem: "no config digest".into(),
            })?;
        Ok(Image {
            format: b.format,
            manifest_digest: manifest.clone(),
            manifest_size: manifest_bytes.len() as u64,
            config: store.read(&config_digest)?,
            config_digest,
            layers: b.layers,
            manifest: manifest_bytes,
        })
    }

    /// The size as a registry stores it: config plus compressed layers.
    pub fn compressed_size(&self) -> u64 {
        self.config.len() as u64 + self.layers.iter().map(|l| l.size).sum::<u64>()
    }
}

/// Canonical JSON: keys sorted (serde_json's map is a BTreeMap), no insignificant whitespace.
pub fn canonical_json<T: Serialize>(v: &T) -> Result<Vec<u8>, serde_json::Error> {
    let value = serde_json::to_value(v)?;
    serde_json::to_vec(&value)
}

/// An image being built.
#[derive(Debug, Clone)]
pub struct ImageBuilder {
    format: Format,
    config: Value,
    layers: Vec<Layer>,
    annotations: BTreeMap<String, String>,
}

impl ImageBuilder {
    /// The empty image for a platform: no layers, an empty config, OCI media types.
    pub fn scratch(platform: &Platform) -> ImageBuilder {
        let mut config = json!({
            "architecture": platform.architecture,
            "os": platform.os,
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": []},
            "history": [],
        });
        if let Some(v) = &platform.variant {
            config["variant"] = json!(v);
        }
        ImageBuilder {
            format: Format::Oci,
            config,
            layers: Vec::new(),
            annotations: BTreeMap::new(),
        }
    }

    /// Starts from an image whose manifest is in `store` (its config must be there too; its
    /// layers need not be, until the image is published).
    pub fn from_image(
        store: &dyn BlobStore,
        manifest: &Digest,
    ) -> Result<ImageBuilder, ImageError> {
        let invalid = |problem: String| ImageError::Invalid {
            digest: manifest.clone(),
            problem,
        };
        let m: Value = serde_json::from_slice(&store.read(manifest)?)
            .map_err(|e| invalid(format!("the manifest is not JSON ({e})")))?;
        let media = m
            .get("mediaType")
            .and_then(Value::as_str)
            .unwrap_or(OCI_MANIFEST);
        let format = Format::of_manifest(media)
            .ok_or_else(|| invalid(format!("{media} is not an image manifest")))?;
        let config_digest = m
            .pointer("/config/digest")
            .and_then(Value::as_str)
            .and_then(Digest::parse)
            .ok_or_else(|| invalid("the manifest has no valid config digest".into()))?;
        let config: Value = serde_json::from_slice(&store.read(&config_digest)?)
            .map_err(|e| invalid(format!("the config is not JSON ({e})")))?;
        let diff_ids: Vec<Digest> = config
            .pointer("/rootfs/diff_ids")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|d| d.as_str().and_then(Digest::parse))
                    .collect()
            })
            .unwrap_or_default();
        let descs = m
            .get("layers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if descs.len() != diff_ids.len() {
            return Err(invalid(format!(
                "the manifest lists {} layers and the config {} diff IDs",
                descs.len(),
                diff_ids.len()
            )));
        }
        let mut layers = Vec::new();
        for (d, diff_id) in descs.iter().zip(diff_ids) {
            let digest = d
                .get("digest")
                .and_then(Value::as_str)
                .and_then(Digest::parse)
                .ok_or_else(|| invalid("a layer has no valid digest".into()))?;
            layers.push(Layer {
                digest,
                diff_id,
                size: d.get("size").and_then(Value::as_u64).unwrap_or(0),
                media_type: d
                    .get("mediaType")
                    .and_then(Value::as_str)
                    .unwrap_or(format.layer_media_type())
                    .to_string(),
            });
        }
        let mut config = config;
        if !config.get("config").is_some_and(Value::is_object) {
            config["config"] = json!({});
        }
        if !config.get("history").is_some_and(Value::is_array) {
            config["history"] = json!([]);
        }
        Ok(ImageBuilder {
            format,
            config,
            layers,
            annotations: BTreeMap::new(),
        })
    }

    pub fn format(&self) -> Format {
        self.format
    }

    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    pub fn platform(&self) -> Platform {
        let f = |k: &str| {
            self.config
                .get(k)
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        Platform {
            os: f("os").unwrap_or_default(),
            architecture: f("architecture").unwrap_or_default(),
            variant: f("variant"),
        }
    }

    /// The runtime config (`config` in the image config: `Env`, `User`, `Entrypoint`, ...).
    pub fn runtime(&self) -> &Map<String, Value> {
        self.config["config"]
            .as_object()
            .expect("config is an object")
    }

    /// Changes the runtime config, as `mutate.Config` does.
    pub fn runtime_mut(&mut self) -> &mut Map<String, Value> {
        self.config["config"]
            .as_object_mut()
            .expect("config is an object")
    }

    /// Adds environment variables, replacing those of the same name and keeping the others
    /// (a base's `PATH`, ...), in order.
    pub fn merge_env(&mut self, vars: &[String]) -> &mut Self {
        let rt = self.runtime_mut();
        let mut env: Vec<String> = rt
            .get("Env")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        for v in vars {
            let name = v.split('=').next().unwrap_or(v);
            match env.iter_mut().find(|e| e.split('=').next() == Some(name)) {
                Some(e) => *e = v.clone(),
                None => env.push(v.clone()),
            }
        }
        rt.insert("Env".into(), json!(env));
        self
    }

    /// Adds labels, replacing those of the same key.
    pub fn merge_labels(&mut self, labels: &BTreeMap<String, String>) -> &mut Self {
        let rt = self.runtime_mut();
        let mut merged: BTreeMap<String, Value> = rt
            .get("Labels")
            .and_then(Value::as_object)
            .map(|m| m.clone().into_iter().collect())
            .unwrap_or_default();
        for (k, v) in labels {
            merged.insert(k.clone(), json!(v));
        }
        if !merged.is_empty() {
            rt.insert("Labels".into(), json!(merged));
        }
        self
    }

    /// Sets the image's creation time (RFC 3339).
    pub fn created(&mut self, created: &str) -> &mut Self {
        self.config["created"] = json!(created);
        self
    }

    /// Appends a layer on top, with its history entry.
    pub fn append_layer(&mut self, layer: Layer, created: &str, created_by: &str) -> &mut Self {
        if let Some(ids) = self
            .config
            .pointer_mut("/rootfs/diff_ids")
            .and_then(Value::as_array_mut)
        {
            ids.push(json!(layer.diff_id.as_str()));
        } else {
            self.config["rootfs"] = json!({"type": "layers", "diff_ids": [layer.diff_id.as_str()]});
        }
        if let Some(h) = self.config.get_mut("history").and_then(Value::as_array_mut) {
            h.push(json!({"created": created, "created_by": created_by}));
        }
        self.layers.push(layer);
        self
    }

    /// A manifest annotation (OCI only: Docker schema 2 manifests have none).
    pub fn annotate(&mut self, key: &str, value: &str) -> &mut Self {
        self.annotations.insert(key.to_string(), value.to_string());
        self
    }

    /// Writes the config and the manifest into `store`.
    pub fn build(&self, store: &dyn BlobStore) -> Result<Image, ImageError> {
        let json_err = |what| move |source| ImageError::Json { what, source };
        let config = canonical_json(&self.config).map_err(json_err("config"))?;
        let config_digest = store.put(&config)?;
        let layers: Vec<Layer> = self
            .layers
            .iter()
            .map(|l| Layer {
                media_type: self.format.layer_type_for(&l.media_type),
                ..l.clone()
            })
            .collect();
        let mut manifest = json!({
            "schemaVersion": 2,
            "mediaType": self.format.manifest_media_type(),
            "config": {
                "mediaType": self.format.config_media_type(),
                "digest": config_digest.as_str(),
                "size": config.len(),
            },
            "layers": layers.iter().map(|l| json!({
                "mediaType": l.media_type,
                "digest": l.digest.as_str(),
                "size": l.size,
            })).collect::<Vec<_>>(),
        });
        if self.format == Format::Oci && !self.annotations.is_empty() {
            manifest["annotations"] = json!(self.annotations);
        }
        let manifest = canonical_json(&manifest).map_err(json_err("manifest"))?;
        let manifest_digest = store.put(&manifest)?;
        Ok(Image {
            format: self.format,
            manifest_digest,
            manifest_size: manifest.len() as u64,
            config_digest,
            layers,
            manifest,
            config,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{read_image, OciLayout};
    use crate::publish::{PublishRequest, Publisher};
    use crate::store::DirStore;
    use crate::Reference;

    /// A real gzip-compressed tar layer holding one file.
    fn layer(store: &DirStore, name: &str, body: &[u8], media_type: &str) -> Layer {
        let mut tar = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_ustar();
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        tar.append_data(&mut h, name, body).unwrap();
        let raw = tar.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &raw).unwrap();
        let gz = gz.finish().unwrap();
        Layer {
            digest: store.put(&gz).unwrap(),
            diff_id: Digest::of(&raw),
            size: gz.len() as u64,
            media_type: media_type.into(),
        }
    }

    /// A Docker-format, two-platform base in an OCI layout, with an attestation entry, as
    /// `skopeo copy --all docker://… oci:…` leaves a Docker Hub image.
    fn docker_base(dir: &std::path::Path) -> Layer {
        let store = DirStore::create(&dir.join("blobs")).unwrap();
        let base_layer = layer(
            &store,
            "etc/passwd",
            b"root:x:0:0::/root:/bin/sh\n",
            DOCKER_LAYER_GZIP,
        );
        let mut manifests = Vec::new();
        for arch in ["arm64", "amd64"] {
            let config = json!({
                "architecture": arch, "os": "linux",
                "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["/bin/sh"], "Labels": {"base": "yes"}},
                "rootfs": {"type": "layers", "diff_ids": [base_layer.diff_id.as_str()]},
                "history": [{"created_by": "base"}],
                "unknown_field": {"kept": true},
            });
            let config = serde_json::to_vec(&config).unwrap();
            let config_digest = store.put(&config).unwrap();
            let manifest = serde_json::to_vec(&json!({
                "schemaVersion": 2, "mediaType": DOCKER_MANIFEST,
                "config": {"mediaType": DOCKER_CONFIG, "digest": config_digest.as_str(), "size": config.len()},
                "layers": [{"mediaType": DOCKER_LAYER_GZIP, "digest": base_layer.digest.as_str(), "size": base_layer.size}],
            })).unwrap();
            let d = store.put(&manifest).unwrap();
            manifests.push(json!({"mediaType": DOCKER_MANIFEST, "digest": d.as_str(), "size": manifest.len(), "platform": {"os": "linux", "architecture": arch}}));
        }
        manifests.insert(0, json!({"mediaType": OCI_MANIFEST, "digest": Digest::of(b"attestation").as_str(), "size": 1, "platform": {"os": "unknown", "architecture": "unknown"}}));
        let list = serde_json::to_vec(
            &json!({"schemaVersion": 2, "mediaType": DOCKER_MANIFEST_LIST, "manifests": manifests}),
        )
        .unwrap();
        let list_digest = store.put(&list).unwrap();
        std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        std::fs::write(
            dir.join("index.json"),
            serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": [{"mediaType": DOCKER_MANIFEST_LIST, "digest": list_digest.as_str(), "size": list.len(), "annotations": {"org.opencontainers.image.ref.name": "3.20"}}]})).unwrap(),
        )
        .unwrap();
        base_layer
    }

    #[test]
    fn appends_to_a_base_read_from_an_oci_layout() {
        let t = tempfile::tempdir().unwrap();
        let base_dir = t.path().join("base");
        let base_layer = docker_base(&base_dir);
        let (base_store, manifest) =
            read_image(&base_dir, Some("3.20"), &Platform::linux_amd64()).unwrap();

        let cache = DirStore::create(&t.path().join("cache")).unwrap();
        let app = layer(&cache, "app/server", b"\x7fELF...", OCI_LAYER_GZIP);
        let mut b = ImageBuilder::from_image(&base_store, &manifest).unwrap();
        assert_eq!(b.format(), Format::Docker);
        assert_eq!(b.platform(), Platform::linux_amd64());
        b.append_layer(app.clone(), "2024-01-01T00:00:00Z", "drydock: binary")
            .merge_env(&["GIN_MODE=release".into()])
            .merge_labels(&BTreeMap::from([(
                "org.opencontainers.image.title".into(),
                "api".into(),
            )]))
            .created("2024-01-01T00:00:00Z");
        b.runtime_mut()
            .insert("Entrypoint".into(), json!(["/app/server"]));
        b.runtime_mut().remove("Cmd");
        let image = b.build(&cache).unwrap();

        let m: Value = serde_json::from_slice(&image.manifest).unwrap();
        assert_eq!(m["mediaType"], DOCKER_MANIFEST);
        assert_eq!(m["config"]["mediaType"], DOCKER_CONFIG);
        let layers = m["layers"].as_array().unwrap();
        assert_eq!(layers.len(), 2);
        assert_eq!(
            layers[0]["digest"],
            base_layer.digest.as_str(),
            "the base's layers come first"
        );
        assert_eq!(layers[1]["digest"], app.digest.as_str());
        assert!(
            layers.iter().all(|l| l["mediaType"] == DOCKER_LAYER_GZIP),
            "never mixed: {layers:?}"
        );
        assert!(
            m.get("annotations").is_none(),
            "schema 2 has no annotations"
        );

        let c: Value = serde_json::from_slice(&image.config).unwrap();
        assert_eq!(c["architecture"], "amd64");
        assert_eq!(c["os"], "linux");
        assert_eq!(
            c["rootfs"]["diff_ids"],
            json!([base_layer.diff_id.as_str(), app.diff_id.as_str()])
        );
        assert_eq!(
            c["config"]["Env"][0],
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        );
        assert_eq!(c["config"]["Env"][1], "GIN_MODE=release");
        assert_eq!(c["config"]["Labels"]["base"], "yes");
        assert_eq!(
            c["config"]["Labels"]["org.opencontainers.image.title"],
            "api"
        );
        assert!(c["config"].get("Cmd").is_none());
        assert_eq!(c["history"].as_array().unwrap().len(), 2);
        assert_eq!(
            c["unknown_field"]["kept"], true,
            "fields drydock does not know are kept"
        );
        assert_eq!(image.config_digest, Digest::of(&image.config));
        assert_eq!(image.manifest_digest, Digest::of(&image.manifest));

        // The result publishes as a layout whose every blob is present and verified: the base's
        // layer is read from the base's store, drydock's from the cache.
        struct Both<'a>(&'a DirStore, &'a DirStore);
        impl BlobStore for Both<'_> {
            fn has(&self, d: &Digest) -> bool {
                self.0.has(d) || self.1.has(d)
            }
            fn put(&self, b: &[u8]) -> Result<Digest, StoreError> {
                self.0.put(b)
            }
            fn verify(&self, d: &Digest) -> Result<(), StoreError> {
                if self.0.has(d) {
                    self.0.verify(d)
                } else {
                    self.1.verify(d)
                }
            }
            fn open(&self, d: &Digest) -> Result<Box<dyn std::io::Read + Send>, StoreError> {
                if self.0.has(d) {
                    self.0.open(d)
                } else {
                    self.1.open(d)
                }
            }
        }
        let out = t.path().join("out");
        let tag = Reference::parse("api:1").unwrap();
        let p = OciLayout { dir: out.clone() }
            .publish(&PublishRequest {
                index: None,
                store: &Both(&cache, &base_store),
                image: &image,
                tag: &tag,
                created: 0,
                sources: &[],
            })
            .unwrap();
        assert_eq!(p.digest, image.manifest_digest);
        let (s, d) = read_image(&out, Some("1"), &Platform::linux_amd64()).unwrap();
        assert_eq!(d, image.manifest_digest);
        for l in [&base_layer, &app] {
            s.verify(&l.digest).unwrap();
        }
    }

    #[test]
    fn platform_selection_and_attestations() {
        let t = tempfile::tempdir().unwrap();
        docker_base(t.path());
        let arm = Platform::parse("linux/arm64").unwrap();
        let (s, d) = read_image(t.path(), None, &arm).unwrap();
        assert_eq!(
            ImageBuilder::from_image(&s, &d)
                .unwrap()
                .platform()
                .architecture,
            "arm64"
        );
        let e = read_image(t.path(), None, &Platform::parse("linux/riscv64").unwrap()).unwrap_err();
        assert!(e.to_string().contains("no image for linux/riscv64"), "{e}");
        let e = read_image(t.path(), Some("latest"), &arm).unwrap_err();
        assert!(e.to_string().contains("no image named \"latest\""), "{e}");
    }

    #[test]
    fn scratch_is_oci_and_annotated() {
        let t = tempfile::tempdir().unwrap();
        let s = DirStore::create(t.path()).unwrap();
        let l = layer(&s, "a", b"a", DOCKER_LAYER_GZIP);
        let mut b = ImageBuilder::scratch(&Platform::parse("linux/arm64/v8").unwrap());
        b.append_layer(l, "2024-01-01T00:00:00Z", "x")
            .annotate("k", "v");
        let image = b.build(&s).unwrap();
        let m: Value = serde_json::from_slice(&image.manifest).unwrap();
        assert_eq!(m["mediaType"], OCI_MANIFEST);
        assert_eq!(
            m["layers"][0]["mediaType"], OCI_LAYER_GZIP,
            "relabelled to the image's format"
        );
        assert_eq!(m["annotations"]["k"], "v");
        let c: Value = serde_json::from_slice(&image.config).unwrap();
        assert_eq!(
            (c["architecture"].as_str(), c["variant"].as_str()),
            (Some("arm64"), Some("v8"))
        );
        // Deterministic: the same steps give the same digest.
        assert_eq!(b.build(&s).unwrap().manifest_digest, image.manifest_digest);
    }
}
