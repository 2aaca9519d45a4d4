//! `oci:DIR`: an OCI image layout (`oci-layout`, `index.json`, `blobs/`), readable by skopeo,
//! umoci, podman and crane; written by [`OciLayout`], read by [`LayoutSource`].
//!
//! DIR is written only when it is missing, empty, or already an OCI layout; then the image is
//! added the way skopeo and umoci do it: blobs first (each written whole), then `index.json`
//! replaced atomically, keeping the other images and their blobs. An image with the same ref
//! name replaces the old entry. Anything else in DIR (a project's sources, unrelated files, a
//! plain file) is refused before a byte is written.

use std::path::{Path, PathBuf};

use crate::digest::Digest;
use crate::image::{canonical_json, OCI_INDEX};
use crate::platform::Platform;
use crate::publish::{PublishError, PublishRequest, Published, Publisher};
use crate::reference::Reference;
use crate::source::{Descriptor, ImageSource, Manifest, ReadError, Resolved};
use crate::store::{BlobStore, DirStore};

pub struct OciLayout {
    pub dir: PathBuf,
}

const LAYOUT_FILE: &str = "oci-layout";
const REF_NAME: &str = "org.opencontainers.image.ref.name";
const CONTAINERD_NAME: &str = "io.containerd.image.name";

/// What is at the destination before anything is written.
#[derive(Debug, PartialEq, Eq)]
pub enum Existing {
    Nothing,
    EmptyDir,
    /// A layout, with its index.
    Layout(serde_json::Value),
}

/// Decides whether `dir` may be written, reading only `oci-layout` and `index.json`.
pub fn inspect_destination(dir: &Path) -> Result<Existing, PublishError> {
    let refuse = |why: String| PublishError::Refused {
        path: dir.to_path_buf(),
        why,
        fix: "name a missing or empty directory, or an existing OCI layout to add the image to"
            .into(),
    };
    let meta = match std::fs::symlink_metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Existing::Nothing),
        Err(source) => {
            return Err(PublishError::Io {
                path: dir.to_path_buf(),
                source,
            })
        }
    };
    if !meta.is_dir() {
        return Err(refuse("exists and is not a directory".into()));
    }
    let io = |source| PublishError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut entries = std::fs::read_dir(dir).map_err(io)?;
    if entries.next().is_none() {
        return Ok(Existing::EmptyDir);
    }
    let layout = match std::fs::read(dir.join(LAYOUT_FILE)) {
        Ok(b) => b,
        Err(_) => {
            return Err(refuse(
                "is not empty and is not an OCI image layout (it has no oci-layout file), so drydock will not write into it".into(),
            ))
        }
    };
    let version = serde_json::from_slice::<serde_json::Value>(&layout)
        .ok()
        .and_then(|v| v.get("imageLayoutVersion")?.as_str().map(str::to_string));
    if version.is_none() {
        return Err(refuse(
            "has an oci-layout file without an imageLayoutVersion".into(),
        ));
    }
    let index = match std::fs::read(dir.join("index.json")) {
        Ok(b) => parse_index(&b).map_err(|e| {
            refuse(format!(
                "has an index.json that is not an image index ({e})"
            ))
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => empty_index(),
        Err(source) => {
            return Err(PublishError::Io {
                path: dir.join("index.json"),
                source,
            })
        }
    };
    Ok(Existing::Layout(index))
}

fn empty_index() -> serde_json::Value {
    serde_json::json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []})
}

/// Why an `index.json` is not an image index.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    #[error("schemaVersion is not 2")]
    SchemaVersion,
    #[error("no manifests array")]
    NoManifests,
    #[error("manifest digest {0:?} is not sha256:<64 hex>")]
    Digest(String),
}

/// Reads an `index.json`: a JSON object with schemaVersion 2 and a `manifests` array whose
/// entries each have a valid digest. Other fields are kept as they are.
pub fn parse_index(bytes: &[u8]) -> Result<serde_json::Value, IndexError> {
    let v: serde_json::Value = serde_json::from_slice(bytes)?;
    if v.get("schemaVersion").and_then(|s| s.as_u64()) != Some(2) {
        return Err(IndexError::SchemaVersion);
    }
    let manifests = v
        .get("manifests")
        .and_then(|m| m.as_array())
        .ok_or(IndexError::NoManifests)?;
    for m in manifests {
        let d = m.get("digest").and_then(|d| d.as_str()).unwrap_or("");
        if Digest::parse(d).is_none() {
            return Err(IndexError::Digest(d.to_string()));
        }
    }
    Ok(v)
}

impl Publisher for OciLayout {
    fn destination(&self) -> String {
        format!("oci:{}", self.dir.display())
    }

    fn check(&self) -> Result<(), PublishError> {
        inspect_destination(&self.dir).map(|_| ())
    }

    fn publish(&self, req: &PublishRequest<'_>) -> Result<Published, PublishError> {
        inspect_destination(&self.dir)?;
        let all = req.blobs();
        let blobs: Vec<&Digest> = all.iter().collect();
        let (media_type, top, top_size) = req.top();
        // Verify before writing anything, so a corrupt cache never yields an output.
        for d in &blobs {
            req.store.verify(d)?;
        }
        let ioe = |path: &Path| {
            let path = path.to_path_buf();
            move |source| PublishError::Io { path, source }
        };
        let fresh_dir = !self.dir.exists();
        std::fs::create_dir_all(&self.dir).map_err(ioe(&self.dir))?;
        // One writer at a time (drydock's own parallel builds into one layout): the index is
        // read, changed and replaced under the lock, so no writer's entry is lost, and the blobs
        // a failed write leaves behind are known to be its own.
        let lock = std::fs::File::open(&self.dir).map_err(ioe(&self.dir))?;
        lock.lock().map_err(ioe(&self.dir))?;
        let existing = inspect_destination(&self.dir)?;
        // The full reference, so that api:1.0 and worker:1.0 are two images; skopeo and umoci
        // read it as `oci:DIR:api:1.0`, and `oci:DIR:1.0` still finds it when only one has that
        // tag (see read_image). A reference by digest alone names no tag: the entry has no ref
        // name (as skopeo writes `oci:DIR` without one), and containerd's name is NAME@DIGEST.
        let ref_name = req.tag.tag().map(|_| req.tag.tagged());
        let annotations = match &ref_name {
            Some(r) => serde_json::json!({
                REF_NAME: r,
                CONTAINERD_NAME: req.tag.tagged(),
            }),
            None => serde_json::json!({
                CONTAINERD_NAME: format!("{}@{}", req.tag.name(), top),
            }),
        };
        let entry = serde_json::json!({
            "mediaType": media_type,
            "digest": top.as_str(),
            "size": top_size,
            "annotations": annotations,
        });
        let fresh = !matches!(existing, Existing::Layout(_));
        let mut index = match existing {
            Existing::Layout(i) => i,
            _ => empty_index(),
        };
        if let Some(list) = index.get_mut("manifests").and_then(|m| m.as_array_mut()) {
            list.retain(|m| match &ref_name {
                Some(_) => !names_image(m, req.tag),
                // The same image without a name again: one entry.
                None => {
                    m.get("annotations").and_then(|a| a.get(REF_NAME)).is_some()
                        || m.get("digest").and_then(|d| d.as_str()) != Some(top.as_str())
                }
            });
            list.push(entry);
        }
        let index = canonical_json(&index).map_err(|e| PublishError::Io {
            path: self.dir.join("index.json"),
            source: e.into(),
        })?;
        let mut added = Vec::new();
        let result = write_layout(&self.dir, req.store, &blobs, &index, &mut added);
        if result.is_err() {
            if fresh {
                // Leave a missing or empty destination as it was.
                let _ = std::fs::remove_dir_all(self.dir.join("blobs"));
                let _ = std::fs::remove_file(self.dir.join(LAYOUT_FILE));
                if fresh_dir {
                    let _ = std::fs::remove_dir(&self.dir);
                }
            } else {
                // The old index still stands and names none of the blobs this write added
                // (they were not there before): remove them rather than leave orphans.
                for b in &added {
                    let _ = std::fs::remove_file(b);
                }
            }
        }
        drop(lock);
        result?;
        Ok(Published {
            destination: self.destination(),
            reference: req.tag.clone(),
            digest: top.clone(),
            written: crate::publish::Written::Layout,
        })
    }

    /// Lists each artifact in index.json beside the image (no ref name, so `oci:DIR:REF`
    /// still names the image), as `oras` and BuildKit do for referrers in a layout. The same
    /// artifact again is one entry; drydock's artifacts whose subject no longer has an entry
    /// (a rebuild replaced the image under its tag) are dropped from the index.
    fn attach(
        &self,
        _published: &Published,
        subject: &crate::attach::Subject,
        store: &dyn BlobStore,
        artifacts: &[crate::attach::Artifact],
    ) -> Result<Vec<crate::attach::Attached>, PublishError> {
        if artifacts.is_empty() {
            return Ok(Vec::new());
        }
        let ioe = |path: &Path| {
            let path = path.to_path_buf();
            move |source| PublishError::Io { path, source }
        };
        let mut images = Vec::new();
        for a in artifacts {
            images.push(a.image(subject, store)?);
        }
        let lock = std::fs::File::open(&self.dir).map_err(ioe(&self.dir))?;
        lock.lock().map_err(ioe(&self.dir))?;
        let Existing::Layout(mut index) = inspect_destination(&self.dir)? else {
            return Err(PublishError::Refused {
                path: self.dir.clone(),
                why: "holds no image index to list the artifacts in".into(),
                fix: "write the image to the layout first".into(),
            });
        };
        if let Some(list) = index.get_mut("manifests").and_then(|m| m.as_array_mut()) {
            let new: Vec<&str> = images.iter().map(|i| i.manifest_digest.as_str()).collect();
            list.retain(|m| !m["digest"].as_str().is_some_and(|d| new.contains(&d)));
            // drydock's own entries name their subject: those of an image no longer listed
            // (a rebuild replaced it under its tag) go with it. Other tools' entries stay.
            let present: Vec<String> = list
                .iter()
                .filter_map(|m| m["digest"].as_str().map(str::to_string))
                .chain(std::iter::once(subject.digest.to_string()))
                .collect();
            list.retain(|m| {
                m.pointer(&format!(
                    "/annotations/{}",
                    SUBJECT_ANNOTATION.replace('/', "~1")
                ))
                .and_then(|s| s.as_str())
                .is_none_or(|s| present.iter().any(|p| p == s))
            });
            for (a, image) in artifacts.iter().zip(&images) {
                let mut entry = a.index_entry(image);
                entry["annotations"][SUBJECT_ANNOTATION] = subject.digest.as_str().into();
                list.push(entry);
            }
        }
        let index = canonical_json(&index).map_err(|e| PublishError::Io {
            path: self.dir.join("index.json"),
            source: e.into(),
        })?;
        let mut blobs = Vec::new();
        for i in &images {
            blobs.extend([&i.manifest_digest, &i.config_digest]);
            blobs.extend(i.layers.iter().map(|l| &l.digest));
        }
        let mut added = Vec::new();
        let result = write_layout(&self.dir, store, &blobs, &index, &mut added);
        if result.is_err() {
            for b in &added {
                let _ = std::fs::remove_file(b);
            }
        }
        drop(lock);
        result?;
        Ok(artifacts
            .iter()
            .zip(&images)
            .map(|(a, i)| crate::attach::Attached {
                artifact_type: a.artifact_type.clone(),
                digest: i.manifest_digest.to_string(),
                location: self.destination(),
                found_by: "index".into(),
            })
            .collect())
    }
}

/// The index-entry annotation drydock gives the artifacts it lists in a layout: the digest of
/// their subject, so that they can go when their image does without reading their manifests,
/// and so that other tools' entries are told apart and kept.
pub const SUBJECT_ANNOTATION: &str = "dev.drydock.subject";

/// Whether an index entry is the image `tag` names, and so is replaced by a new build of it:
/// its ref name is the reference (`api:1.0`, or `docker.io/library/api:1.0`), or it is an entry
/// an earlier drydock wrote with the bare tag as ref name and the reference beside it.
fn names_image(entry: &serde_json::Value, tag: &Reference) -> bool {
    let annotation = |k: &str| {
        entry
            .get("annotations")
            .and_then(|a| a.get(k))
            .and_then(|r| r.as_str())
    };
    let same = |written: &str| {
        Reference::parse(written).is_ok_and(|r| {
            r.registry() == tag.registry()
                && r.repository() == tag.repository()
                && r.tag() == tag.tag()
        })
    };
    match annotation(REF_NAME) {
        Some(r) if r.contains(':') => same(r),
        Some(r) => Some(r) == tag.tag() && annotation(CONTAINERD_NAME).is_some_and(same),
        None => false,
    }
}

/// Blobs first, each whole; the index last, atomically: a reader of the layout sees the old
/// index or the new one, and every blob either names. `added` collects the blob files this
/// write created, for the caller to remove when the write fails.
fn write_layout(
    dir: &Path,
    store: &dyn BlobStore,
    blobs: &[&Digest],
    index: &[u8],
    added: &mut Vec<PathBuf>,
) -> Result<(), PublishError> {
    let ioe = |path: &Path| {
        let path = path.to_path_buf();
        move |source| PublishError::Io { path, source }
    };
    let bdir = dir.join("blobs/sha256");
    std::fs::create_dir_all(&bdir).map_err(ioe(&bdir))?;
    for d in blobs {
        let dst = bdir.join(d.hex());
        let there = dst.is_file();
        if there && crate::digest::sha256_file(&dst).is_ok_and(|(h, _)| &h == *d) {
            continue;
        }
        let mut src = store.open(d)?;
        crate::fsutil::write_atomic(&dst, |w| std::io::copy(&mut src, w).map(|_| ()))
            .map_err(ioe(&dst))?;
        if !there {
            added.push(dst);
        }
    }
    let layout = dir.join(LAYOUT_FILE);
    if !layout.is_file() {
        crate::fsutil::write_bytes_atomic(&layout, br#"{"imageLayoutVersion":"1.0.0"}"#)
            .map_err(ioe(&layout))?;
    }
    let index_path = dir.join("index.json");
    crate::fsutil::write_bytes_atomic(&index_path, index).map_err(ioe(&index_path))
}

/// The index entries `ref_name` names: those whose ref name is exactly it (or whose
/// `io.containerd.image.name` is); failing that, when `ref_name` is a bare tag (`1.0`), those
/// whose ref name is a reference with that tag (`api:1.0`), as drydock writes them. With no
/// `ref_name`, every entry but artifacts.
fn choose<'a>(
    entries: &'a [serde_json::Value],
    ref_name: Option<&str>,
) -> Vec<&'a serde_json::Value> {
    let Some(r) = ref_name else {
        // Artifacts listed beside the images (SBOMs, attestations) are not images to pick.
        return entries
            .iter()
            .filter(|m| m.get("artifactType").is_none())
            .collect();
    };
    let annotation = |m: &serde_json::Value, k: &str| {
        m.get("annotations")
            .and_then(|a| a.get(k))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    let exact: Vec<_> = entries
        .iter()
        .filter(|m| annotation(m, REF_NAME).as_deref() == Some(r))
        .collect();
    if !exact.is_empty() {
        return exact;
    }
    let by_name: Vec<_> = entries
        .iter()
        .filter(|m| annotation(m, CONTAINERD_NAME).as_deref() == Some(r))
        .collect();
    if !by_name.is_empty() || r.contains([':', '/', '@']) {
        return by_name;
    }
    entries
        .iter()
        .filter(|m| {
            annotation(m, REF_NAME)
                .filter(|n| n.contains(':'))
                .and_then(|n| Reference::parse(&n).ok())
                .is_some_and(|n| n.tag() == Some(r))
        })
        .collect()
}

/// An OCI layout read as an image source: the index entry `ref_name` names (or the one whose
/// digest is `digest`, or the only one when neither is given); its blobs are the layout's
/// `blobs/`, read in place.
pub struct LayoutSource {
    pub dir: PathBuf,
    pub ref_name: Option<String>,
    pub digest: Option<Digest>,
    store: DirStore,
}

impl LayoutSource {
    pub fn new(dir: &Path, ref_name: Option<&str>, digest: Option<Digest>) -> LayoutSource {
        LayoutSource {
            dir: dir.to_path_buf(),
            ref_name: ref_name.map(str::to_string),
            digest,
            store: DirStore::open_existing(&dir.join("blobs")),
        }
    }

    fn fail(&self, why: String, fix: &str) -> ReadError {
        ReadError::location(self.dir.display(), why, fix)
    }

    /// The layout's index entries.
    fn entries(&self) -> Result<Vec<serde_json::Value>, ReadError> {
        let index = std::fs::read(self.dir.join("index.json")).map_err(|e| {
            self.fail(
                format!("cannot read index.json ({e})"),
                "name an OCI image layout (a directory with oci-layout and index.json)",
            )
        })?;
        let index = parse_index(&index).map_err(|e| {
            self.fail(
                format!("index.json is not an image index ({e})"),
                "name an OCI image layout",
            )
        })?;
        Ok(index["manifests"].as_array().cloned().unwrap_or_default())
    }

    /// The index entry this source names.
    fn entry(&self) -> Result<Descriptor, ReadError> {
        let entries = self.entries()?;
        let ref_name = self.ref_name.as_deref();
        let chosen = match &self.digest {
            Some(d) => entries
                .iter()
                .filter(|m| m.get("digest").and_then(|x| x.as_str()) == Some(d.as_str()))
                .take(1)
                .collect(),
            None => choose(&entries, ref_name),
        };
        let entry = match (chosen.as_slice(), ref_name) {
            ([one], _) => *one,
            ([], _) if self.digest.is_some() => {
                return Err(self.fail(
                    format!(
                        "has no image {}",
                        self.digest.as_ref().map(Digest::as_str).unwrap_or_default()
                    ),
                    "name one of the digests in its index.json",
                ))
            }
            ([], Some(r)) => {
                return Err(self.fail(
                    format!("has no image named {r:?}"),
                    "name one of the ref names in its index.json",
                ))
            }
            ([], None) => {
                return Err(self.fail("holds no image".into(), "name a layout that holds an image"))
            }
            (several, r) => {
                let names: Vec<&str> = several
                    .iter()
                    .filter_map(|m| m.pointer("/annotations/org.opencontainers.image.ref.name"))
                    .filter_map(|v| v.as_str())
                    .collect();
                return Err(self.fail(
                    format!(
                        "holds several images{} ({})",
                        r.map(|r| format!(" tagged {r:?}")).unwrap_or_default(),
                        names.join(", ")
                    ),
                    "add :REF to say which (the full org.opencontainers.image.ref.name of one)",
                ));
            }
        };
        Descriptor::from_json(entry)
            .ok_or_else(|| self.fail("has an entry without a digest".into(), "repair the layout"))
    }
}

impl ImageSource for LayoutSource {
    fn describe(&self) -> String {
        self.dir.display().to_string()
    }

    fn resolve(&self) -> Result<Resolved, ReadError> {
        let entry = self.entry()?;
        let bytes = self.manifest(&entry.digest)?;
        let manifest = Manifest::parse(&bytes, Some(&entry.media_type)).map_err(|why| {
            self.fail(
                format!("manifest {} is {why}", entry.digest),
                "repair the layout",
            )
        })?;
        Ok(Resolved {
            digest: entry.digest,
            bytes,
            manifest,
        })
    }

    fn manifest(&self, digest: &Digest) -> Result<Vec<u8>, ReadError> {
        crate::source::read_verified(&self.store, digest)
    }

    fn blobs(&self) -> &dyn BlobStore {
        &self.store
    }

    /// The manifests of the layout's index whose subject is `digest`.
    fn referrers(&self, digest: &Digest) -> Result<Vec<Descriptor>, ReadError> {
        let mut out = Vec::new();
        for e in self.entries()? {
            let Some(mut d) = Descriptor::from_json(&e) else {
                continue;
            };
            let Ok(bytes) = self.manifest(&d.digest) else {
                continue;
            };
            let subject_is =
                |s: &Option<Descriptor>| s.as_ref().is_some_and(|s| &s.digest == digest);
            match Manifest::parse(&bytes, Some(&d.media_type)) {
                Ok(Manifest::Image(m)) if subject_is(&m.subject) => {
                    d.artifact_type = Some(m.kind().to_string());
                    out.push(d);
                }
                Ok(Manifest::Index(i)) if subject_is(&i.subject) => out.push(d),
                _ => {}
            }
        }
        Ok(out)
    }
}

/// Finds an image in the OCI layout at `dir`: the index entry whose ref name is `ref_name`
/// (or the only one when none is asked for), and in an image index the manifest for
/// `platform`. Returns the layout's blobs as a store and the manifest's digest, for
/// [`crate::ImageBuilder::from_image`]; [`LayoutSource`] is the same as an [`ImageSource`].
pub fn read_image(
    dir: &Path,
    ref_name: Option<&str>,
    platform: &Platform,
) -> Result<(DirStore, Digest), ReadError> {
    let source = LayoutSource::new(dir, ref_name, None);
    let selected = source.select(platform)?;
    Ok((source.store, selected.manifest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations() {
        let t = tempfile::tempdir().unwrap();
        assert_eq!(
            inspect_destination(&t.path().join("new")).unwrap(),
            Existing::Nothing
        );
        assert_eq!(inspect_destination(t.path()).unwrap(), Existing::EmptyDir);
        std::fs::write(t.path().join("main.go"), "package main").unwrap();
        let e = inspect_destination(t.path()).unwrap_err().to_string();
        assert!(e.contains("not an OCI image layout"), "{e}");
        let e = inspect_destination(&t.path().join("main.go"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a directory"), "{e}");
    }

    #[test]
    fn index_parsing() {
        assert!(parse_index(br#"{"schemaVersion":2,"manifests":[]}"#).is_ok());
        assert!(parse_index(br#"{"schemaVersion":1,"manifests":[]}"#).is_err());
        assert!(
            parse_index(br#"{"schemaVersion":2,"manifests":[{"digest":"sha256:x"}]}"#).is_err()
        );
        assert!(parse_index(b"\xff").is_err());
    }

    fn image_with(store: &DirStore, content: &[u8]) -> crate::image::Image {
        use std::io::Write;
        let mut raw = Vec::new();
        {
            let mut tar = tar::Builder::new(&mut raw);
            let mut h = tar::Header::new_ustar();
            h.set_size(content.len() as u64);
            h.set_mode(0o644);
            tar.append_data(&mut h, "f", content).unwrap();
            tar.finish().unwrap();
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&raw).unwrap();
        let gz = gz.finish().unwrap();
        let layer = crate::image::Layer {
            digest: store.put(&gz).unwrap(),
            diff_id: Digest::of(&raw),
            size: gz.len() as u64,
            media_type: crate::image::OCI_LAYER_GZIP.into(),
        };
        let mut b = crate::ImageBuilder::scratch(&Platform::linux_amd64());
        b.append_layer(layer, "2024-01-01T00:00:00Z", "x");
        b.build(store).unwrap()
    }

    fn publish(
        dir: &Path,
        store: &dyn BlobStore,
        image: &crate::image::Image,
        tag: &str,
    ) -> Result<Published, PublishError> {
        OciLayout {
            dir: dir.to_path_buf(),
        }
        .publish(&PublishRequest {
            index: None,
            store,
            image,
            tag: &Reference::parse(tag).unwrap(),
            created: 0,
            sources: &[],
        })
    }

    fn ref_names(dir: &Path) -> Vec<String> {
        let index: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
        index["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["annotations"][REF_NAME].as_str().unwrap().to_string())
            .collect()
    }

    /// The same tag under two names is two images; a bare tag still finds an image when only
    /// one has it, and says which to name when several do.
    #[test]
    fn same_tag_different_names_are_both_kept() {
        let t = tempfile::tempdir().unwrap();
        let store = DirStore::create(&t.path().join("store")).unwrap();
        let (api, worker) = (image_with(&store, b"api"), image_with(&store, b"worker"));
        let out = t.path().join("out");
        publish(&out, &store, &api, "api:1.0").unwrap();
        let amd64 = Platform::linux_amd64();
        let (_, d) = read_image(&out, Some("1.0"), &amd64).unwrap();
        assert_eq!(d, api.manifest_digest, "a bare tag, unambiguous");
        publish(&out, &store, &worker, "worker:1.0").unwrap();
        assert_eq!(ref_names(&out), ["api:1.0", "worker:1.0"]);
        let (_, d) = read_image(&out, Some("api:1.0"), &amd64).unwrap();
        assert_eq!(d, api.manifest_digest);
        let (_, d) = read_image(&out, Some("worker:1.0"), &amd64).unwrap();
        assert_eq!(d, worker.manifest_digest);
        let e = read_image(&out, Some("1.0"), &amd64).unwrap_err();
        let fix = e.fix().unwrap_or_default();
        assert!(
            e.to_string().contains("api:1.0, worker:1.0") && fix.contains("add :REF"),
            "{e}\n  fix: {fix}"
        );
        // A new build of one replaces only its own entry, also as docker.io/library/api:1.0.
        publish(&out, &store, &worker, "docker.io/library/api:1.0").unwrap();
        assert_eq!(ref_names(&out), ["worker:1.0", "docker.io/library/api:1.0"]);
    }

    /// A layout an earlier drydock wrote (bare tag as ref name, the reference beside it): a new
    /// build of that image replaces the old entry; another tool's bare-tag entry stays.
    #[test]
    fn entries_of_an_earlier_drydock_are_replaced() {
        let t = tempfile::tempdir().unwrap();
        let store = DirStore::create(&t.path().join("store")).unwrap();
        let api = image_with(&store, b"api");
        let out = t.path().join("out");
        publish(&out, &store, &api, "api:1.0").unwrap();
        let mut index: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("index.json")).unwrap()).unwrap();
        let old = index["manifests"][0].clone();
        let mut legacy = old.clone();
        legacy["annotations"][REF_NAME] = "1.0".into();
        let mut skopeos = old.clone();
        skopeos["annotations"] = serde_json::json!({ REF_NAME: "1.0" });
        index["manifests"] = serde_json::json!([legacy, skopeos]);
        std::fs::write(out.join("index.json"), index.to_string()).unwrap();
        publish(&out, &store, &api, "api:1.0").unwrap();
        assert_eq!(ref_names(&out), ["1.0", "api:1.0"]);
    }

    /// A write that fails after some blobs leaves the layout as it was: no orphan blobs.
    #[test]
    fn a_failed_write_leaves_no_orphan_blobs() {
        struct FailsOn<'a>(&'a DirStore, Digest);
        impl BlobStore for FailsOn<'_> {
            fn has(&self, d: &Digest) -> bool {
                self.0.has(d)
            }
            fn put(&self, b: &[u8]) -> Result<Digest, crate::store::StoreError> {
                self.0.put(b)
            }
            fn verify(&self, d: &Digest) -> Result<(), crate::store::StoreError> {
                self.0.verify(d)
            }
            fn open(
                &self,
                d: &Digest,
            ) -> Result<Box<dyn std::io::Read + Send>, crate::store::StoreError> {
                if *d == self.1 {
                    return Err(crate::store::StoreError::Io {
                        path: "full".into(),
                        source: std::io::Error::other("No space left on device"),
                    });
                }
                self.0.open(d)
            }
        }
        let t = tempfile::tempdir().unwrap();
        let store = DirStore::create(&t.path().join("store")).unwrap();
        let (api, worker) = (image_with(&store, b"api"), image_with(&store, b"worker"));
        let out = t.path().join("out");
        publish(&out, &store, &api, "api:1").unwrap();
        let blobs = |dir: &Path| {
            let mut v: Vec<_> = std::fs::read_dir(dir.join("blobs/sha256"))
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            v.sort();
            v
        };
        let (before, index) = (blobs(&out), std::fs::read(out.join("index.json")).unwrap());
        // The manifest goes first, then the config fails.
        let failing = FailsOn(&store, worker.config_digest.clone());
        let e = publish(&out, &failing, &worker, "worker:1").unwrap_err();
        assert!(e.to_string().contains("No space left"), "{e}");
        assert_eq!(blobs(&out), before, "no orphan blobs");
        assert_eq!(std::fs::read(out.join("index.json")).unwrap(), index);
        // Into a new directory: nothing is left at all.
        let fresh = t.path().join("fresh");
        publish(&fresh, &failing, &worker, "worker:1").unwrap_err();
        assert!(!fresh.exists());
    }

    /// An artifact (an SBOM, a signature) whose subject is an image is one of its referrers;
    /// an entry is found by its digest as well as by its name.
    #[test]
    fn referrers_and_entries_by_digest() {
        let t = tempfile::tempdir().unwrap();
        let store = DirStore::create(&t.path().join("store")).unwrap();
        let api = image_with(&store, b"api");
        let out = t.path().join("out");
        publish(&out, &store, &api, "api:1.0").unwrap();
        let blobs = DirStore::open_existing(&out.join("blobs"));
        let empty = blobs.put(b"{}").unwrap();
        let sbom = canonical_json(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": crate::image::OCI_MANIFEST,
            "artifactType": "application/spdx+json",
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty.as_str(), "size": 2},
            "layers": [],
            "subject": {"mediaType": crate::image::OCI_MANIFEST, "digest": api.manifest_digest.as_str(), "size": api.manifest_size},
        }))
        .unwrap();
        let sbom_digest = blobs.put(&sbom).unwrap();
        let mut index: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("index.json")).unwrap()).unwrap();
        index["manifests"].as_array_mut().unwrap().push(serde_json::json!({
            "mediaType": crate::image::OCI_MANIFEST, "digest": sbom_digest.as_str(), "size": sbom.len(),
        }));
        std::fs::write(out.join("index.json"), index.to_string()).unwrap();

        let source = LayoutSource::new(&out, Some("api:1.0"), None);
        let refs = source.referrers(&api.manifest_digest).unwrap();
        assert_eq!(refs.len(), 1);
        assert_eq!(refs[0].digest, sbom_digest);
        assert_eq!(
            refs[0].artifact_type.as_deref(),
            Some("application/spdx+json")
        );
        assert!(source.referrers(&sbom_digest).unwrap().is_empty());

        let by_digest = LayoutSource::new(&out, None, Some(api.manifest_digest.clone()));
        let amd64 = Platform::linux_amd64();
        assert_eq!(
            by_digest.select(&amd64).unwrap().manifest,
            api.manifest_digest
        );
        let copy = DirStore::create(&t.path().join("copy")).unwrap();
        let fetched = by_digest.fetch(&amd64, &copy).unwrap();
        assert_eq!((fetched.fetched, fetched.cached), (2, 0));
        assert!(crate::Image::read(&copy, &api.manifest_digest).is_ok());
        let missing = LayoutSource::new(&out, None, Some(Digest::of(b"nothing")));
        let e = missing.select(&amd64).unwrap_err().to_string();
        assert!(e.contains("has no image sha256:"), "{e}");
    }

    /// Artifacts go beside the image; a rebuild under the same tag takes drydock's artifacts of
    /// the old image with it and keeps another tool's; reading the layout without a ref still
    /// finds the one image.
    #[test]
    fn attached_artifacts_follow_their_image() {
        let t = tempfile::tempdir().unwrap();
        let store = DirStore::create(&t.path().join("store")).unwrap();
        let out = t.path().join("out");
        let sbom = |text: &str| crate::attach::Artifact {
            artifact_type: "application/spdx+json".into(),
            media_type: "application/spdx+json".into(),
            document: text.as_bytes().to_vec(),
            annotations: Default::default(),
        };
        let layout = OciLayout { dir: out.clone() };
        let old = image_with(&store, b"old");
        let p = publish(&out, &store, &old, "api:1").unwrap();
        let subject = crate::attach::Subject::of(&old);
        let a = layout.attach(&p, &subject, &store, &[sbom("a")]).unwrap();
        assert_eq!(a[0].found_by, "index");
        // The same again is one entry.
        layout.attach(&p, &subject, &store, &[sbom("a")]).unwrap();
        let entries = |dir: &Path| -> Vec<serde_json::Value> {
            let i: serde_json::Value =
                serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
            i["manifests"].as_array().unwrap().clone()
        };
        assert_eq!(entries(&out).len(), 2);
        // Another tool's artifact about the old image, without drydock's annotation.
        let mut index: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("index.json")).unwrap()).unwrap();
        let foreign = sbom("theirs").image(&subject, &store).unwrap();
        index["manifests"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({
            "mediaType": crate::image::OCI_MANIFEST, "digest": foreign.manifest_digest.as_str(),
            "size": foreign.manifest_size, "artifactType": "application/spdx+json"}));
        std::fs::write(out.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
        // A rebuild under the same tag, with its own SBOM.
        let new = image_with(&store, b"new");
        let p = publish(&out, &store, &new, "api:1").unwrap();
        layout
            .attach(&p, &crate::attach::Subject::of(&new), &store, &[sbom("b")])
            .unwrap();
        let e = entries(&out);
        let digests: Vec<&str> = e.iter().map(|m| m["digest"].as_str().unwrap()).collect();
        assert_eq!(e.len(), 3, "{e:?}");
        assert!(digests.contains(&new.manifest_digest.as_str()));
        assert!(
            digests.contains(&foreign.manifest_digest.as_str()),
            "another tool's entry stays"
        );
        assert!(!digests.contains(&old.manifest_digest.as_str()));
        let ours: Vec<&serde_json::Value> = e
            .iter()
            .filter(|m| m["annotations"][SUBJECT_ANNOTATION].is_string())
            .collect();
        assert_eq!(ours.len(), 1);
        assert_eq!(
            ours[0]["annotations"][SUBJECT_ANNOTATION],
            new.manifest_digest.as_str()
        );
        // Without a ref, the layout's one image is found; its referrers are the new SBOM.
        let source = LayoutSource::new(&out, None, None);
        assert_eq!(source.resolve().unwrap().digest, new.manifest_digest);
        assert_eq!(source.referrers(&new.manifest_digest).unwrap().len(), 1);
    }
}
