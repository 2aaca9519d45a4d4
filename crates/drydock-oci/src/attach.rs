//! Artifacts that refer to an image (OCI 1.1): an SBOM, a provenance attestation, anything one
//! document says about one image. Each is an image manifest whose `artifactType` says what it
//! is, whose `config` is the empty descriptor, whose one layer is the document, and whose
//! `subject` is the image. [`crate::publish::Publisher::attach`] stores them where the image
//! went: an OCI layout lists them in its index (where `oras discover` and
//! [`crate::ImageSource::referrers`] find them), a registry serves them through the referrers
//! API, or — on a registry without it, such as distribution 2.8 — through the referrers tag
//! schema's `sha256-<hex>` index ([`crate::push::push_artifacts`] keeps it up to date).
//!
//! Cosign reads its own tags instead (`sha256-<hex>.sbom`, `.att`, `.sig`): [`cosign_manifest`]
//! writes the manifest shape it expects, for a caller that knows which tag to use.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::digest::Digest;
use crate::image::{Format, Image, Layer, OCI_CONFIG, OCI_MANIFEST};
use crate::store::{BlobStore, StoreError};

/// The empty descriptor's media type and content (OCI image spec 1.1, "Guidance for an Empty
/// Descriptor"): an artifact's config.
pub const EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";
pub const EMPTY: &[u8] = b"{}";

/// One document about an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// What it is: the manifest's `artifactType` (e.g. `application/spdx+json`).
    pub artifact_type: String,
    /// The document's own media type (its layer's).
    pub media_type: String,
    pub document: Vec<u8>,
    /// The manifest's annotations (e.g. `org.opencontainers.image.created`,
    /// `in-toto.io/predicate-type`); copied onto its index entries.
    pub annotations: BTreeMap<String, String>,
}

/// The image an artifact refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub media_type: String,
    pub digest: Digest,
    pub size: u64,
}

impl Subject {
    pub fn of(image: &Image) -> Subject {
        Subject {
            media_type: image.format.manifest_media_type().to_string(),
            digest: image.manifest_digest.clone(),
            size: image.manifest_size,
        }
    }
}

/// One artifact stored: what it is, its manifest digest, and where.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Attached {
    pub artifact_type: String,
    pub digest: String,
    /// `oci:DIR`, or `REGISTRY/REPOSITORY@sha256:…`.
    pub location: String,
    /// How a reader finds it: `index` (an OCI layout's index.json), `referrers API` or
    /// `referrers tag sha256-…`.
    pub found_by: String,
}

impl Artifact {
    /// The artifact's manifest as an [`Image`] (the document is its one layer, the empty
    /// descriptor its config), with both blobs put into `store`.
    pub fn image(&self, subject: &Subject, store: &dyn BlobStore) -> Result<Image, StoreError> {
        let document = store.put(&self.document)?;
        let config = store.put(EMPTY)?;
        let mut m = json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": self.artifact_type,
            "config": {"mediaType": EMPTY_MEDIA_TYPE, "digest": config.as_str(), "size": EMPTY.len(), "data": "e30="},
            "layers": [{"mediaType": self.media_type, "digest": document.as_str(), "size": self.document.len()}],
            "subject": {"mediaType": subject.media_type, "digest": subject.digest.as_str(), "size": subject.size},
        });
        if !self.annotations.is_empty() {
            m["annotations"] = json!(self.annotations);
        }
        let manifest = crate::image::canonical_json(&m).map_err(|e| StoreError::Io {
            path: std::path::PathBuf::from("manifest"),
            source: e.into(),
        })?;
        let manifest_digest = store.put(&manifest)?;
        Ok(Image {
            format: Format::Oci,
            manifest_size: manifest.len() as u64,
            manifest_digest,
            config_digest: config,
            layers: vec![Layer {
                diff_id: document.clone(),
                digest: document,
                size: self.document.len() as u64,
                media_type: self.media_type.clone(),
            }],
            manifest,
            config: EMPTY.to_vec(),
        })
    }

    /// Its entry in an index (an OCI layout's, or the referrers tag's).
    pub fn index_entry(&self, image: &Image) -> Value {
        let mut e = json!({
            "mediaType": OCI_MANIFEST,
            "digest": image.manifest_digest.as_str(),
            "size": image.manifest_size,
            "artifactType": self.artifact_type,
        });
        if !self.annotations.is_empty() {
            e["annotations"] = json!(self.annotations);
        }
        e
    }
}

/// One layer of a cosign-style manifest: its media type, blob and annotations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosignLayer {
    pub media_type: String,
    pub digest: Digest,
    pub size: u64,
    pub annotations: BTreeMap<String, String>,
}

/// The manifest and config cosign writes at its `sha256-<hex>.sig`, `.att` and `.sbom` tags
/// (go-containerregistry's `mutate.AppendLayers(empty.Image, …)`): an OCI manifest with one
/// layer per document and a config whose diff IDs are the layers' digests.
pub fn cosign_manifest(layers: &[CosignLayer]) -> (Vec<u8>, Vec<u8>) {
    let zero = "0001-01-01T00:00:00Z";
    let config = json!({
        "architecture": "",
        "created": zero,
        "history": layers.iter().map(|_| json!({"created": zero})).collect::<Vec<_>>(),
        "os": "",
        "rootfs": {"type": "layers", "diff_ids": layers.iter().map(|l| l.digest.to_string()).collect::<Vec<_>>()},
        "config": {},
    });
    let config = serde_json::to_vec(&config).unwrap_or_default();
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": OCI_CONFIG,
            "size": config.len(),
            "digest": Digest::of(&config).to_string(),
        },
        "layers": layers.iter().map(|l| {
            let mut v = json!({"mediaType": l.media_type, "size": l.size, "digest": l.digest.to_string()});
            if !l.annotations.is_empty() {
                v["annotations"] = json!(l.annotations);
            }
            v
        }).collect::<Vec<_>>(),
    });
    (serde_json::to_vec(&manifest).unwrap_or_default(), config)
}

/// The layers of a cosign-style manifest, as [`cosign_manifest`] writes them (layers without a
/// media type, digest or size are skipped); an error when it is not JSON or lists no layers.
pub fn cosign_layers(manifest: &[u8]) -> Result<Vec<CosignLayer>, String> {
    let v: Value =
        serde_json::from_slice(manifest).map_err(|e| format!("the manifest is not JSON ({e})"))?;
    let layers = v["layers"].as_array().ok_or("the manifest has no layers")?;
    Ok(layers
        .iter()
        .filter_map(|l| {
            Some(CosignLayer {
                media_type: l["mediaType"].as_str()?.to_string(),
                digest: Digest::parse(l["digest"].as_str()?)?,
                size: l["size"].as_u64()?,
                annotations: l["annotations"]
                    .as_object()
                    .map(|a| {
                        a.iter()
                            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                            .collect()
                    })
                    .unwrap_or_default(),
            })
        })
        .collect())
}

/// A cosign-style manifest as an [`Image`] to push, its config put into `store` (the layers'
/// blobs must be there already).
pub fn cosign_image(layers: &[CosignLayer], store: &dyn BlobStore) -> Result<Image, StoreError> {
    let (manifest, config) = cosign_manifest(layers);
    let config_digest = store.put(&config)?;
    Ok(Image {
        format: Format::Oci,
        manifest_digest: Digest::of(&manifest),
        manifest_size: manifest.len() as u64,
        config_digest,
        layers: layers
            .iter()
            .map(|l| Layer {
                digest: l.digest.clone(),
                diff_id: l.digest.clone(),
                size: l.size,
                media_type: l.media_type.clone(),
            })
            .collect(),
        manifest,
        config,
    })
}

/// The referrers tag schema's tag for `subject`: `sha256-<hex>`.
pub fn referrers_tag(subject: &Digest) -> String {
    format!("sha256-{}", subject.hex())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::DirStore;

    fn artifact() -> Artifact {
        Artifact {
            artifact_type: "application/spdx+json".into(),
            media_type: "application/spdx+json".into(),
            document: br#"{"spdxVersion":"SPDX-2.3"}"#.to_vec(),
            annotations: BTreeMap::from([(
                "org.opencontainers.image.created".to_string(),
                "2023-11-14T22:13:20Z".to_string(),
            )]),
        }
    }

    #[test]
    fn an_artifact_manifest_is_oci_1_1_and_deterministic() {
        let dir = tempfile::tempdir().unwrap();
        let store = DirStore::create(dir.path()).unwrap();
        let subject = Subject {
            media_type: OCI_MANIFEST.into(),
            digest: Digest::of(b"image"),
            size: 5,
        };
        let a = artifact().image(&subject, &store).unwrap();
        let b = artifact().image(&subject, &store).unwrap();
        assert_eq!(a.manifest, b.manifest);
        let m: Value = serde_json::from_slice(&a.manifest).unwrap();
        assert_eq!(m["artifactType"], "application/spdx+json");
        assert_eq!(m["config"]["mediaType"], EMPTY_MEDIA_TYPE);
        assert_eq!(
            m["config"]["digest"],
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        assert_eq!(m["subject"]["digest"], subject.digest.as_str());
        assert_eq!(
            m["layers"][0]["digest"],
            Digest::of(&artifact().document).as_str()
        );
        // Every blob it names is in the store, and it parses as an artifact of that subject.
        assert!(store.has(&a.manifest_digest) && store.has(&a.config_digest));
        match crate::source::Manifest::parse(&a.manifest, None).unwrap() {
            crate::source::Manifest::Image(i) => {
                assert_eq!(i.subject.as_ref().unwrap().digest, subject.digest);
                assert_eq!(i.kind(), "application/spdx+json");
            }
            other => panic!("{other:?}"),
        }
        let e = artifact().index_entry(&a);
        assert_eq!(e["artifactType"], "application/spdx+json");
        assert_eq!(
            e["annotations"]["org.opencontainers.image.created"],
            "2023-11-14T22:13:20Z"
        );
    }

    #[test]
    fn cosign_manifests_list_their_layers_as_diff_ids() {
        let l = CosignLayer {
            media_type: "application/vnd.dsse.envelope.v1+json".into(),
            digest: Digest::of(b"env"),
            size: 3,
            annotations: BTreeMap::from([("predicateType".to_string(), "x".to_string())]),
        };
        let (m, c) = cosign_manifest(std::slice::from_ref(&l));
        let m: Value = serde_json::from_slice(&m).unwrap();
        let c: Value = serde_json::from_slice(&c).unwrap();
        assert_eq!(m["layers"][0]["annotations"]["predicateType"], "x");
        assert_eq!(c["rootfs"]["diff_ids"][0], l.digest.as_str());
        let (m, _) = cosign_manifest(std::slice::from_ref(&l));
        assert_eq!(cosign_layers(&m).unwrap(), vec![l.clone()]);
        assert!(cosign_layers(b"[]").is_err());
        assert_eq!(
            referrers_tag(&l.digest),
            format!("sha256-{}", l.digest.hex())
        );
    }
}
