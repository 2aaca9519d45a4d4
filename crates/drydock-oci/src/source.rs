//! Reading an image: [`ImageSource`] is the one reading trait, with one implementation per place
//! an image can be: an OCI image layout ([`crate::layout::LayoutSource`]), a docker archive
//! ([`crate::archive::ArchiveSource`]), a local engine through its `save`
//! ([`crate::engine::EngineSource`]) and a registry ([`crate::pull::RegistrySource`]).
//! [`crate::location::Location::reader`] picks one from where the image is.
//!
//! A source names one object, an index or an image manifest ([`ImageSource::resolve`]); from an
//! index the platform's image is selected ([`ImageSource::select`]), and its manifest, config and
//! layers copied into a store, each verified against its digest ([`ImageSource::fetch`]). Indexes
//! and artifacts are first-class: [`Index`] lists manifests with their platforms, and
//! [`ImageSource::referrers`] lists the artifacts (signatures, SBOMs) whose `subject` is an image.

use std::collections::BTreeMap;
use std::io::Read;

use serde_json::Value;

use crate::digest::Digest;
use crate::image::{Format, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST};
use crate::platform::Platform;
use crate::registry::RegistryError;
use crate::store::{BlobStore, DirStore, StoreError};

/// Why an image could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The location holds no (such) image, or not in a form drydock reads.
    #[error("{location}: {why}")]
    Location {
        /// The directory, file or image as the user named it.
        location: String,
        why: String,
        fix: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Boxed: a registry's error is large, and most reads are local.
    #[error(transparent)]
    Registry(Box<RegistryError>),
}

impl From<RegistryError> for ReadError {
    fn from(e: RegistryError) -> Self {
        ReadError::Registry(Box::new(e))
    }
}

impl ReadError {
    /// What to do about it, when there is something to say: the message does not hold it.
    pub fn fix(&self) -> Option<String> {
        match self {
            ReadError::Location { fix, .. } => Some(fix.clone()),
            ReadError::Registry(e) => e.fix(),
            ReadError::Store(_) => None,
        }
    }

    pub fn location(location: impl std::fmt::Display, why: impl Into<String>, fix: &str) -> Self {
        ReadError::Location {
            location: location.to_string(),
            why: why.into(),
            fix: fix.to_string(),
        }
    }
}

/// A reference to a blob or manifest, as manifests and indexes write them.
#[derive(Debug, Clone, PartialEq)]
pub struct Descriptor {
    pub media_type: String,
    pub digest: Digest,
    pub size: u64,
    /// In an index: what the manifest is built for (`os`, `architecture`, `variant`).
    pub platform: Option<Value>,
    pub annotations: BTreeMap<String, String>,
    /// For an artifact: what it is (e.g. an SBOM's or a signature's media type).
    pub artifact_type: Option<String>,
}

impl Descriptor {
    /// A descriptor from its JSON; `None` without a valid digest.
    pub fn from_json(v: &Value) -> Option<Descriptor> {
        let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
        Some(Descriptor {
            media_type: s("mediaType").unwrap_or_default(),
            digest: Digest::parse(v.get("digest")?.as_str()?)?,
            size: v.get("size").and_then(|x| x.as_u64()).unwrap_or(0),
            platform: v.get("platform").cloned(),
            annotations: v
                .get("annotations")
                .and_then(|a| a.as_object())
                .map(|a| {
                    a.iter()
                        .filter_map(|(k, x)| Some((k.clone(), x.as_str()?.to_string())))
                        .collect()
                })
                .unwrap_or_default(),
            artifact_type: s("artifactType"),
        })
    }

    /// `os/architecture[/variant]` of an index entry, when it says.
    pub fn platform_name(&self) -> Option<String> {
        self.platform.as_ref().map(platform_name)
    }

    /// Whether this index entry is an image to run, not an attestation (`unknown/unknown`).
    pub fn is_runnable(&self) -> bool {
        self.platform
            .as_ref()
            .is_some_and(|p| p.get("os").and_then(|o| o.as_str()) != Some("unknown"))
    }
}

/// `os/architecture[/variant]` of an index entry's platform or a config.
pub fn platform_name(v: &Value) -> String {
    let f = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("");
    let mut s = format!("{}/{}", f("os"), f("architecture"));
    if !f("variant").is_empty() {
        s.push('/');
        s.push_str(f("variant"));
    }
    s
}

/// An image index (or Docker manifest list): several manifests, one per platform, and
/// attestations beside them.
#[derive(Debug, Clone, PartialEq)]
pub struct Index {
    pub media_type: String,
    pub manifests: Vec<Descriptor>,
    /// For an index that is itself an artifact: the image it refers to.
    pub subject: Option<Descriptor>,
    pub annotations: BTreeMap<String, String>,
}

impl Index {
    /// The entries that are images to run (attestations skipped).
    pub fn images(&self) -> impl Iterator<Item = &Descriptor> {
        self.manifests.iter().filter(|m| m.is_runnable())
    }

    /// The entry for `platform`.
    pub fn select(&self, platform: &Platform) -> Option<&Descriptor> {
        self.manifests
            .iter()
            .find(|m| m.platform.as_ref().is_some_and(|p| platform.matches(p)))
    }

    /// The platforms it has images for, for messages.
    pub fn platforms(&self) -> Vec<String> {
        self.images().filter_map(|m| m.platform_name()).collect()
    }
}

/// An image manifest (or an artifact manifest, whose config may be empty).
#[derive(Debug, Clone, PartialEq)]
pub struct ImageManifest {
    pub media_type: String,
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
    pub subject: Option<Descriptor>,
    pub artifact_type: Option<String>,
    pub annotations: BTreeMap<String, String>,
}

impl ImageManifest {
    pub fn format(&self) -> Option<Format> {
        Format::of_manifest(&self.media_type)
    }

    /// What it is as an artifact: its artifactType, else its config's media type.
    pub fn kind(&self) -> &str {
        self.artifact_type
            .as_deref()
            .unwrap_or(&self.config.media_type)
    }
}

/// What a manifest digest names: an index or an image manifest.
#[derive(Debug, Clone, PartialEq)]
pub enum Manifest {
    Index(Index),
    Image(ImageManifest),
}

/// Why bytes are no manifest or index (said after "manifest DIGEST is").
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("not JSON ({0})")]
    Json(#[source] serde_json::Error),
    #[error("an index without a manifests array")]
    NoManifests,
    #[error("an index entry whose digest {0:?} is not sha256:<64 hex>")]
    BadEntry(String),
    #[error("a manifest without a valid config descriptor")]
    NoConfig,
    #[error("a layer without a valid digest")]
    BadLayer,
}

impl Manifest {
    /// Parses a manifest; `media_type` (a descriptor's or a Content-Type) is used when the
    /// manifest does not name its own (an OCI index need not).
    pub fn parse(bytes: &[u8], media_type: Option<&str>) -> Result<Manifest, ManifestError> {
        let v: Value = serde_json::from_slice(bytes).map_err(ManifestError::Json)?;
        let media = v
            .get("mediaType")
            .and_then(|m| m.as_str())
            .or(media_type.filter(|m| !m.is_empty()))
            .map(|m| m.split(';').next().unwrap_or("").trim().to_string())
            .unwrap_or_default();
        let annotations = Descriptor::from_json(&serde_json::json!({
            "digest": Digest::of(b"").as_str(),
            "annotations": v.get("annotations").cloned().unwrap_or(Value::Null),
        }))
        .map(|d| d.annotations)
        .unwrap_or_default();
        let subject = v.get("subject").and_then(Descriptor::from_json);
        let is_index = media == OCI_INDEX
            || media == DOCKER_MANIFEST_LIST
            || (media.is_empty() && v.get("manifests").is_some());
        if is_index {
            let manifests = v
                .get("manifests")
                .and_then(|m| m.as_array())
                .ok_or(ManifestError::NoManifests)?
                .iter()
                .map(|m| {
                    Descriptor::from_json(m).ok_or_else(|| {
                        let digest = m.get("digest").and_then(|d| d.as_str()).unwrap_or("");
                        ManifestError::BadEntry(digest.to_string())
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(Manifest::Index(Index {
                media_type: if media.is_empty() {
                    OCI_INDEX.into()
                } else {
                    media
                },
                manifests,
                subject,
                annotations,
            }));
        }
        let config = v
            .get("config")
            .and_then(Descriptor::from_json)
            .ok_or(ManifestError::NoConfig)?;
        let layers = v
            .get("layers")
            .and_then(|l| l.as_array())
            .into_iter()
            .flatten()
            .map(|l| Descriptor::from_json(l).ok_or(ManifestError::BadLayer))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Manifest::Image(ImageManifest {
            media_type: if media.is_empty() {
                OCI_MANIFEST.into()
            } else {
                media
            },
            config,
            layers,
            subject,
            artifact_type: v
                .get("artifactType")
                .and_then(|a| a.as_str())
                .map(str::to_string),
            annotations,
        }))
    }
}

/// The object a location names, before any platform is chosen.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub digest: Digest,
    pub bytes: Vec<u8>,
    pub manifest: Manifest,
}

/// The platform's image manifest, and the index it was picked from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selected {
    pub manifest: Digest,
    pub index: Option<Digest>,
}

/// What [`ImageSource::fetch`] copied.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The platform's image manifest.
    pub manifest: Digest,
    /// The index it was picked from, when the location named one.
    pub index: Option<Digest>,
    pub format: Format,
    /// Blobs copied, and their bytes.
    pub fetched: usize,
    pub fetched_bytes: u64,
    /// Blobs the store held intact already.
    pub cached: usize,
}

/// Where an image is, read: the one reading trait.
pub trait ImageSource {
    /// The location, for messages (`oci:base:1`, `registry.example.com/base:1`).
    fn describe(&self) -> String;

    /// The object the location names: an index or an image manifest.
    fn resolve(&self) -> Result<Resolved, ReadError>;

    /// A manifest (or index) by digest, verified.
    fn manifest(&self, digest: &Digest) -> Result<Vec<u8>, ReadError>;

    /// Where the blobs are read from (each read verified). Manifests returned by
    /// [`ImageSource::resolve`] and [`ImageSource::manifest`] are readable there too.
    fn blobs(&self) -> &dyn BlobStore;

    /// The artifacts whose `subject` is `digest` (OCI 1.1 referrers). A place that cannot say
    /// has none.
    fn referrers(&self, digest: &Digest) -> Result<Vec<Descriptor>, ReadError> {
        let _ = digest;
        Ok(Vec::new())
    }

    /// The error for an index without an image for `platform`.
    fn no_platform(&self, platform: &Platform, index: &Index) -> ReadError {
        let has = index.platforms();
        ReadError::location(
            self.describe(),
            if has.is_empty() {
                format!("has no image for {platform} (its index lists no platform)")
            } else {
                format!("has no image for {platform}; it has {}", has.join(", "))
            },
            "choose a platform the image is built for (--platform), or a base built for yours",
        )
    }

    /// The image for `platform`: the manifest the location names, or the platform's entry of
    /// its index (nested indexes followed).
    fn select(&self, platform: &Platform) -> Result<Selected, ReadError> {
        let top = self.resolve()?;
        let (mut digest, mut manifest) = (top.digest, top.manifest);
        let mut index = None;
        for _ in 0..4 {
            let Manifest::Index(i) = &manifest else {
                return Ok(Selected {
                    manifest: digest,
                    index,
                });
            };
            let entry = i
                .select(platform)
                .ok_or_else(|| self.no_platform(platform, i))?
                .clone();
            index.get_or_insert(digest);
            let bytes = self.manifest(&entry.digest)?;
            manifest = Manifest::parse(&bytes, Some(&entry.media_type)).map_err(|why| {
                ReadError::location(
                    self.describe(),
                    format!("manifest {} is {why}", entry.digest),
                    "repair the image",
                )
            })?;
            digest = entry.digest;
        }
        Err(ReadError::location(
            self.describe(),
            "nests indexes more than four deep",
            "repair the image",
        ))
    }

    /// The image for `platform` copied into `store` (manifest, config, layers), each blob
    /// verified; blobs the store holds intact are not copied again.
    fn fetch(&self, platform: &Platform, store: &DirStore) -> Result<Fetched, ReadError> {
        let selected = self.select(platform)?;
        copy_image(self, &selected, store)
    }
}

/// Copies the selected image from `source` into `store`: what [`ImageSource::fetch`] does for
/// places whose blobs are local.
pub fn copy_image<S: ImageSource + ?Sized>(
    source: &S,
    selected: &Selected,
    store: &DirStore,
) -> Result<Fetched, ReadError> {
    let bytes = source.manifest(&selected.manifest)?;
    let m = match Manifest::parse(&bytes, None) {
        Ok(Manifest::Image(m)) => m,
        Ok(Manifest::Index(_)) => {
            return Err(ReadError::location(
                source.describe(),
                format!("{} is an index, not an image manifest", selected.manifest),
                "repair the image",
            ))
        }
        Err(why) => {
            return Err(ReadError::location(
                source.describe(),
                format!("manifest {} is {why}", selected.manifest),
                "repair the image",
            ))
        }
    };
    let format = m.format().ok_or_else(|| {
        ReadError::location(
            source.describe(),
            format!(
                "{} is a {:?}, not an image manifest",
                selected.manifest, m.media_type
            ),
            "name an image",
        )
    })?;
    store.put(&bytes)?;
    let (mut fetched, mut fetched_bytes, mut cached) = (0, 0, 0);
    for d in std::iter::once(&m.config).chain(&m.layers) {
        if store.verify(&d.digest).is_ok() {
            cached += 1;
            continue;
        }
        fetched_bytes += copy_blob(source.blobs(), store, &d.digest)?;
        fetched += 1;
    }
    Ok(Fetched {
        manifest: selected.manifest.clone(),
        index: selected.index.clone(),
        format,
        fetched,
        fetched_bytes,
        cached,
    })
}

/// Copies one blob between stores, verified on both sides; returns its size.
pub fn copy_blob(from: &dyn BlobStore, to: &DirStore, digest: &Digest) -> Result<u64, ReadError> {
    let io = |source: std::io::Error| StoreError::Io {
        path: to.blob_path(digest),
        source,
    };
    // A file is read in place; a blob elsewhere through the store. Either way it is verified by
    // hashing the copy, not read twice.
    let mut r: Box<dyn std::io::Read> = match from.path(digest) {
        Some(path) => Box::new(std::fs::File::open(&path).map_err(io)?),
        None => from.open(digest)?,
    };
    let tmp = to.temp()?;
    let mut w = crate::digest::HashingWriter::new(tmp.reopen().map_err(io)?);
    std::io::copy(&mut r, &mut w).map_err(io)?;
    let (_, got, n) = w.finish();
    if &got != digest {
        return Err(StoreError::Corrupt {
            digest: digest.clone(),
            actual: got,
        }
        .into());
    }
    to.commit(tmp, digest)?;
    Ok(n)
}

/// Reads a whole blob of a source's store, for manifests.
pub fn read_verified(store: &dyn BlobStore, digest: &Digest) -> Result<Vec<u8>, ReadError> {
    let mut buf = Vec::new();
    store
        .open(digest)?
        .read_to_end(&mut buf)
        .map_err(|source| StoreError::Io {
            path: digest.as_str().into(),
            source,
        })?;
    Ok(buf)
}

/// Whether a media type names an index.
pub fn is_index(media_type: &str) -> bool {
    media_type == OCI_INDEX || media_type == DOCKER_MANIFEST_LIST
}

/// Whether a media type names an image manifest.
pub fn is_image_manifest(media_type: &str) -> bool {
    media_type == OCI_MANIFEST || media_type == DOCKER_MANIFEST
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_and_artifacts_parse() {
        let d = Digest::of(b"x");
        let index = serde_json::json!({
            "schemaVersion": 2,
            "manifests": [
                {"mediaType": OCI_MANIFEST, "digest": d.as_str(), "size": 1,
                 "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
                {"mediaType": OCI_MANIFEST, "digest": d.as_str(), "size": 1,
                 "platform": {"os": "linux", "architecture": "amd64"}},
                {"mediaType": OCI_MANIFEST, "digest": d.as_str(), "size": 1,
                 "platform": {"os": "unknown", "architecture": "unknown"}},
            ]
        });
        let Manifest::Index(i) = Manifest::parse(index.to_string().as_bytes(), None).unwrap()
        else {
            panic!("an index without mediaType is still an index")
        };
        assert_eq!(i.platforms(), ["linux/arm64/v8", "linux/amd64"]);
        assert_eq!(
            i.select(&Platform::linux_amd64()).unwrap().platform_name(),
            Some("linux/amd64".into())
        );
        let sbom = serde_json::json!({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "artifactType": "application/spdx+json",
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": d.as_str(), "size": 2},
            "layers": [],
            "subject": {"mediaType": OCI_MANIFEST, "digest": d.as_str(), "size": 1},
        });
        let Manifest::Image(m) = Manifest::parse(sbom.to_string().as_bytes(), None).unwrap() else {
            panic!("an artifact manifest is an image manifest")
        };
        assert_eq!(m.kind(), "application/spdx+json");
        assert_eq!(m.subject.unwrap().digest, d);
        assert!(Manifest::parse(b"{}", None).is_err());
    }
}
