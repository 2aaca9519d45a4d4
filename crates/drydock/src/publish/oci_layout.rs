//! `--output oci:DIR`: an OCI image layout (`oci-layout`, `index.json`, `blobs/`), readable by
//! skopeo, umoci, podman and crane. The directory is replaced as a whole, atomically.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{PublishError, PublishRequest, Publisher};
use crate::digest::Digest;
use crate::image::{canonical_json, MEDIA_TYPE_MANIFEST};

pub struct OciLayout {
    pub dir: PathBuf,
}

impl Publisher for OciLayout {
    fn destination(&self) -> String {
        format!("oci:{}", self.dir.display())
    }

    fn publish(&self, req: &PublishRequest<'_>) -> Result<String, PublishError> {
        let ioe = |path: &Path| {
            let path = path.to_path_buf();
            move |source| PublishError::Io { path, source }
        };
        let image = req.image;
        let mut blobs: Vec<&Digest> = vec![&image.manifest_digest, &image.config_digest];
        blobs.extend(image.layers.iter().map(|l| &l.stored.digest));
        // Verify before writing anything, so a corrupt cache never yields an output.
        for d in &blobs {
            req.cache.verify(d)?;
        }
        let ref_name = req
            .tag
            .rsplit_once(':')
            .filter(|(_, t)| !t.contains('/'))
            .map(|(_, t)| t)
            .unwrap_or("latest");
        let index = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [{
                "mediaType": MEDIA_TYPE_MANIFEST,
                "digest": image.manifest_digest.as_str(),
                "size": image.manifest_size,
                "annotations": {
                    "org.opencontainers.image.ref.name": ref_name,
                    "io.containerd.image.name": req.tag,
                },
            }],
        });
        let index = canonical_json(&index).map_err(|e| PublishError::Io {
            path: self.dir.clone(),
            source: e.into(),
        })?;
        crate::fsutil::replace_dir_atomic(&self.dir, |tmp| {
            std::fs::write(tmp.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#)?;
            std::fs::write(tmp.join("index.json"), &index)?;
            let bdir = tmp.join("blobs/sha256");
            std::fs::create_dir_all(&bdir)?;
            for d in &blobs {
                let mut src = std::fs::File::open(req.cache.blob_path(d))?;
                let mut dst = std::fs::File::create(bdir.join(d.hex()))?;
                std::io::copy(&mut src, &mut dst)?;
                dst.flush()?;
            }
            Ok(())
        })
        .map_err(ioe(&self.dir))?;
        Ok(self.destination())
    }
}
