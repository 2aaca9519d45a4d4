//! A multi-platform image: an image index (OCI) or manifest list (Docker) naming one built
//! [`Image`] per platform, as `docker buildx build --platform a,b` and `ko --platform` write.
//!
//! The index is written with canonical JSON like the manifests it lists, in the order the
//! platforms were asked for, so the same images always give the same index digest. An index
//! of Docker-format manifests is a Docker manifest list (what Docker's own tooling writes for
//! them); any other is an OCI index.

use serde_json::json;

use crate::digest::Digest;
use crate::image::{canonical_json, Format, Image, ImageError, DOCKER_MANIFEST_LIST, OCI_INDEX};
use crate::platform::Platform;
use crate::store::BlobStore;

/// Several images, one per platform, and the index that lists them (a blob in the store).
#[derive(Debug, Clone)]
pub struct ImageIndex {
    pub media_type: &'static str,
    pub digest: Digest,
    pub bytes: Vec<u8>,
    /// In the index's order.
    pub images: Vec<(Platform, Image)>,
}

impl ImageIndex {
    /// Writes the index of `images` (one per platform, none twice) into `store`.
    pub fn build(
        store: &dyn BlobStore,
        images: Vec<(Platform, Image)>,
    ) -> Result<ImageIndex, ImageError> {
        for (i, (p, _)) in images.iter().enumerate() {
            if images[..i].iter().any(|(q, _)| q == p) {
                return Err(ImageError::Invalid {
                    digest: images[i].1.manifest_digest.clone(),
                    problem: format!("two images for {p} in one index"),
                });
            }
        }
        let docker = images.iter().all(|(_, i)| i.format == Format::Docker);
        let media_type = if docker {
            DOCKER_MANIFEST_LIST
        } else {
            OCI_INDEX
        };
        let manifests: Vec<_> = images
            .iter()
            .map(|(p, i)| {
                let mut platform = json!({ "os": p.os, "architecture": p.architecture });
                if let Some(v) = &p.variant {
                    platform["variant"] = json!(v);
                }
                json!({
                    "mediaType": i.format.manifest_media_type(),
                    "digest": i.manifest_digest.as_str(),
                    "size": i.manifest_size,
                    "platform": platform,
                })
            })
            .collect();
        let index = json!({
            "schemaVersion": 2,
            "mediaType": media_type,
            "manifests": manifests,
        });
        let bytes = canonical_json(&index).map_err(|source| ImageError::Json {
            what: "index",
            source,
        })?;
        let digest = store.put(&bytes)?;
        Ok(ImageIndex {
            media_type,
            digest,
            bytes,
            images,
        })
    }

    /// Every blob the index needs, each once: the images' layers and configs, their
    /// manifests, in that order (what a copy writes before the index itself).
    pub fn blobs(&self) -> Vec<Digest> {
        let mut out: Vec<Digest> = Vec::new();
        let mut add = |d: &Digest| {
            if !out.contains(d) {
                out.push(d.clone());
            }
        };
        for (_, i) in &self.images {
            for l in &i.layers {
                add(&l.digest);
            }
            add(&i.config_digest);
        }
        for (_, i) in &self.images {
            add(&i.manifest_digest);
        }
        out
    }

    /// Size of the index blob.
    pub fn size(&self) -> u64 {
        self.bytes.len() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::{ImageBuilder, Layer};
    use crate::store::DirStore;

    fn image(store: &DirStore, p: &Platform, docker: bool) -> Image {
        let mut b = ImageBuilder::scratch(p);
        let layer = store.put(p.to_string().as_bytes()).unwrap();
        b.append_layer(
            Layer {
                digest: layer.clone(),
                diff_id: layer,
                size: p.to_string().len() as u64,
                media_type: Format::Oci.layer_media_type().into(),
            },
            "1970-01-01T00:00:00Z",
            "test",
        );
        let mut i = b.build(store).unwrap();
        if docker {
            i.format = Format::Docker;
        }
        i
    }

    #[test]
    fn an_index_lists_each_platform_once_in_order_and_is_deterministic() {
        let dir = tempfile::tempdir().unwrap();
        let store = DirStore::create(dir.path()).unwrap();
        let amd = Platform::linux_amd64();
        let arm = Platform::parse("linux/arm64").unwrap();
        let make = || {
            ImageIndex::build(
                &store,
                vec![
                    (amd.clone(), image(&store, &amd, false)),
                    (arm.clone(), image(&store, &arm, false)),
                ],
            )
            .unwrap()
        };
        let (a, b) = (make(), make());
        assert_eq!(a.digest, b.digest);
        assert_eq!(a.media_type, OCI_INDEX);
        let v: serde_json::Value = serde_json::from_slice(&store.read(&a.digest).unwrap()).unwrap();
        let m = v["manifests"].as_array().unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m[0]["platform"]["architecture"], "amd64");
        assert_eq!(m[1]["platform"]["architecture"], "arm64");
        assert_eq!(m[1]["digest"], a.images[1].1.manifest_digest.as_str());
        // Layers, configs, then manifests; none twice.
        let blobs = a.blobs();
        assert_eq!(blobs.len(), 6);
        assert_eq!(blobs[4], a.images[0].1.manifest_digest);

        let twice = ImageIndex::build(
            &store,
            vec![
                (amd.clone(), image(&store, &amd, false)),
                (amd.clone(), image(&store, &amd, false)),
            ],
        );
        assert!(twice
            .unwrap_err()
            .to_string()
            .contains("two images for linux/amd64"));
    }

    #[test]
    fn docker_manifests_make_a_manifest_list() {
        let dir = tempfile::tempdir().unwrap();
        let store = DirStore::create(dir.path()).unwrap();
        let amd = Platform::linux_amd64();
        let i = ImageIndex::build(&store, vec![(amd.clone(), image(&store, &amd, true))]).unwrap();
        assert_eq!(i.media_type, DOCKER_MANIFEST_LIST);
    }
}
