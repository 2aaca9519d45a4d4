//! `--output oci:DIR`: an OCI image layout (`oci-layout`, `index.json`, `blobs/`), readable by
//! skopeo, umoci, podman and crane.
//!
//! DIR is written only when it is missing, empty, or already an OCI layout; then the image is
//! added the way skopeo and umoci do it: blobs first (each written whole), then `index.json`
//! replaced atomically, keeping the other images and their blobs. An image with the same ref
//! name replaces the old entry. Anything else in DIR (a project's sources, unrelated files, a
//! plain file) is refused before a byte is written.

use std::path::{Path, PathBuf};

use crate::digest::Digest;
use crate::image::{canonical_json, DOCKER_MANIFEST_LIST, OCI_INDEX};
use crate::platform::Platform;
use crate::publish::{PublishError, PublishRequest, Published, Publisher};
use crate::store::{BlobStore, DirStore};

pub struct OciLayout {
    pub dir: PathBuf,
}

const LAYOUT_FILE: &str = "oci-layout";
const REF_NAME: &str = "org.opencontainers.image.ref.name";

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

/// Reads an `index.json`: a JSON object with schemaVersion 2 and a `manifests` array whose
/// entries each have a valid digest. Other fields are kept as they are.
pub fn parse_index(bytes: &[u8]) -> Result<serde_json::Value, String> {
    let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    if v.get("schemaVersion").and_then(|s| s.as_u64()) != Some(2) {
        return Err("schemaVersion is not 2".into());
    }
    let manifests = v
        .get("manifests")
        .and_then(|m| m.as_array())
        .ok_or("no manifests array")?;
    for m in manifests {
        let d = m.get("digest").and_then(|d| d.as_str()).unwrap_or("");
        if Digest::parse(d).is_none() {
            return Err(format!("manifest digest {d:?} is not sha256:<64 hex>"));
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
        let existing = inspect_destination(&self.dir)?;
        let image = req.image;
        let mut blobs: Vec<&Digest> = vec![&image.manifest_digest, &image.config_digest];
        blobs.extend(image.layers.iter().map(|l| &l.digest));
        // Verify before writing anything, so a corrupt cache never yields an output.
        for d in &blobs {
            req.store.verify(d)?;
        }
        // A reference by digest alone names no tag: the entry has no ref name (as skopeo
        // writes `oci:DIR` without one), and containerd's name is NAME@DIGEST.
        let ref_name = req.tag.tag();
        let annotations = match ref_name {
            Some(r) => serde_json::json!({
                REF_NAME: r,
                "io.containerd.image.name": req.tag.tagged(),
            }),
            None => serde_json::json!({
                "io.containerd.image.name": format!("{}@{}", req.tag.name(), image.manifest_digest),
            }),
        };
        let entry = serde_json::json!({
            "mediaType": image.format.manifest_media_type(),
            "digest": image.manifest_digest.as_str(),
            "size": image.manifest_size,
            "annotations": annotations,
        });
        let fresh = !matches!(existing, Existing::Layout(_));
        let mut index = match existing {
            Existing::Layout(i) => i,
            _ => empty_index(),
        };
        if let Some(list) = index.get_mut("manifests").and_then(|m| m.as_array_mut()) {
            list.retain(|m| {
                let name = m
                    .get("annotations")
                    .and_then(|a| a.get(REF_NAME))
                    .and_then(|r| r.as_str());
                match ref_name {
                    Some(r) => name != Some(r),
                    // The same image without a name again: one entry.
                    None => {
                        name.is_some()
                            || m.get("digest").and_then(|d| d.as_str())
                                != Some(image.manifest_digest.as_str())
                    }
                }
            });
            list.push(entry);
        }
        let index = canonical_json(&index).map_err(|e| PublishError::Io {
            path: self.dir.join("index.json"),
            source: e.into(),
        })?;
        let result = write_layout(&self.dir, req, &blobs, &index);
        if result.is_err() && fresh {
            // Leave a missing or empty destination as it was.
            let _ = std::fs::remove_dir_all(self.dir.join("blobs"));
            let _ = std::fs::remove_file(self.dir.join(LAYOUT_FILE));
            let _ = std::fs::remove_dir(&self.dir);
        }
        result?;
        Ok(Published {
            destination: self.destination(),
            reference: req.tag.clone(),
            digest: image.manifest_digest.clone(),
            push: None,
        })
    }
}

/// Blobs first, each whole; the index last, atomically: a reader of the layout sees the old
/// index or the new one, and every blob either names.
fn write_layout(
    dir: &Path,
    req: &PublishRequest<'_>,
    blobs: &[&Digest],
    index: &[u8],
) -> Result<(), PublishError> {
    let ioe = |path: &Path| {
        let path = path.to_path_buf();
        move |source| PublishError::Io { path, source }
    };
    let bdir = dir.join("blobs/sha256");
    std::fs::create_dir_all(&bdir).map_err(ioe(&bdir))?;
    for d in blobs {
        let dst = bdir.join(d.hex());
        if dst.is_file() && crate::digest::sha256_file(&dst).is_ok_and(|(h, _)| &h == *d) {
            continue;
        }
        let mut src = req.store.open(d)?;
        crate::fsutil::write_atomic(&dst, |w| std::io::copy(&mut src, w).map(|_| ()))
            .map_err(ioe(&dst))?;
    }
    let layout = dir.join(LAYOUT_FILE);
    if !layout.is_file() {
        crate::fsutil::write_bytes_atomic(&layout, br#"{"imageLayoutVersion":"1.0.0"}"#)
            .map_err(ioe(&layout))?;
    }
    let index_path = dir.join("index.json");
    crate::fsutil::write_bytes_atomic(&index_path, index).map_err(ioe(&index_path))
}

/// Why an image could not be read from a layout.
#[derive(Debug, thiserror::Error)]
pub enum LayoutReadError {
    #[error("{}: {why}\n  fix: {fix}", .dir.display())]
    Layout {
        dir: PathBuf,
        why: String,
        fix: &'static str,
    },
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// Finds an image in the OCI layout at `dir`: the index entry whose ref name is `ref_name`
/// (or the only one when none is asked for), and in an image index the manifest for
/// `platform`, skipping attestations (`unknown/unknown`). Returns the layout's blobs as a store
/// and the manifest's digest, for [`crate::ImageBuilder::from_image`].
pub fn read_image(
    dir: &Path,
    ref_name: Option<&str>,
    platform: &Platform,
) -> Result<(DirStore, Digest), LayoutReadError> {
    let fail = |why: String, fix: &'static str| LayoutReadError::Layout {
        dir: dir.to_path_buf(),
        why,
        fix,
    };
    let index = std::fs::read(dir.join("index.json")).map_err(|e| {
        fail(
            format!("cannot read index.json ({e})"),
            "name an OCI image layout (a directory with oci-layout and index.json)",
        )
    })?;
    let index = parse_index(&index).map_err(|e| {
        fail(
            format!("index.json is not an image index ({e})"),
            "name an OCI image layout",
        )
    })?;
    let store = DirStore::open_existing(&dir.join("blobs"));
    let entries = index["manifests"].as_array().cloned().unwrap_or_default();
    let chosen: Vec<&serde_json::Value> = entries
        .iter()
        .filter(|m| match ref_name {
            Some(r) => {
                m.pointer("/annotations/org.opencontainers.image.ref.name")
                    .and_then(|v| v.as_str())
                    == Some(r)
            }
            None => true,
        })
        .collect();
    let entry = match (chosen.as_slice(), ref_name) {
        ([one], _) => *one,
        ([], Some(r)) => {
            return Err(fail(
                format!("has no image named {r:?}"),
                "name one of the ref names in its index.json",
            ))
        }
        ([], None) => {
            return Err(fail(
                "holds no image".into(),
                "name a layout that holds an image",
            ))
        }
        (_, _) => {
            return Err(fail(
                "holds several images".into(),
                "add :REF to say which (the org.opencontainers.image.ref.name of one)",
            ))
        }
    };
    let mut digest = entry
        .get("digest")
        .and_then(|d| d.as_str())
        .and_then(Digest::parse)
        .ok_or_else(|| fail("has an entry without a digest".into(), "repair the layout"))?;
    let mut media = entry
        .get("mediaType")
        .and_then(|m| m.as_str())
        .unwrap_or("")
        .to_string();
    // Nested indexes (a multi-platform image in a layout): pick the platform's manifest.
    for _ in 0..4 {
        if media != OCI_INDEX && media != DOCKER_MANIFEST_LIST {
            break;
        }
        let nested: serde_json::Value =
            serde_json::from_slice(&store.read(&digest)?).map_err(|e| {
                fail(
                    format!("index {digest} is not JSON ({e})"),
                    "repair the layout",
                )
            })?;
        let pick = nested["manifests"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|m| m.get("platform").is_some_and(|p| platform.matches(p)))
            .ok_or_else(|| {
                fail(
                    format!("has no image for {platform}"),
                    "choose a platform the image is built for (--platform)",
                )
            })?;
        digest = pick
            .get("digest")
            .and_then(|d| d.as_str())
            .and_then(Digest::parse)
            .ok_or_else(|| {
                fail(
                    "has an index entry without a digest".into(),
                    "repair the layout",
                )
            })?;
        media = pick
            .get("mediaType")
            .and_then(|m| m.as_str())
            .unwrap_or("")
            .to_string();
    }
    Ok((store, digest))
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
}
