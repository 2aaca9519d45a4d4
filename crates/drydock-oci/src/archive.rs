//! `--output docker-archive:FILE`: the `docker save` format (`manifest.json`, the config, one
//! uncompressed `layer.tar` per layer), which both `docker load` and `podman load` accept.
//!
//! Deliberately not the hybrid with an OCI `index.json`: podman would load that as an OCI image
//! and drop the config's Healthcheck, which only the Docker image format carries.

use std::io::{self, Write};
use std::path::PathBuf;

use serde::Serialize;

use crate::digest::HashingWriter;
use crate::image::canonical_json;
use crate::publish::{PublishError, PublishRequest, Published, Publisher};

pub struct DockerArchive {
    pub file: PathBuf,
}

#[derive(Serialize)]
struct ManifestEntry {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags")]
    repo_tags: Vec<String>,
    #[serde(rename = "Layers")]
    layers: Vec<String>,
}

/// Writes the archive to any writer (a file, or an engine's stdin).
/// `destination` names the writer in errors.
pub fn write_archive<W: Write>(
    req: &PublishRequest<'_>,
    destination: &str,
    w: W,
) -> Result<W, PublishError> {
    let image = req.image;
    let ioe = |source: io::Error| PublishError::Stream {
        destination: destination.to_string(),
        source,
    };
    let mut tar = tar::Builder::new(w);
    tar.mode(tar::HeaderMode::Deterministic);
    let header = |size: u64, kind: tar::EntryType, mode: u32| {
        let mut h = tar::Header::new_ustar();
        h.set_size(size);
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_mtime(req.created);
        h
    };
    let config_name = format!("{}.json", image.config_digest.hex());
    let mut layer_names = Vec::new();
    for l in &image.layers {
        let dir = l.diff_id.hex().to_string();
        let name = format!("{dir}/layer.tar");
        tar.append_data(
            &mut header(0, tar::EntryType::Directory, 0o755),
            format!("{dir}/"),
            io::empty(),
        )
        .map_err(ioe)?;
        let blob = req.store.open(&l.digest)?;
        let mut gz = flate2::read::GzDecoder::new(io::BufReader::new(blob));
        // Decompress through a hashing check so a layer that does not match its diff ID
        // never reaches an engine.
        let mut checked = Vec::new();
        {
            let mut hw = HashingWriter::new(&mut checked);
            io::copy(&mut gz, &mut hw).map_err(ioe)?;
            let (_, d, _) = hw.finish();
            if d != l.diff_id {
                req.store.discard(&l.digest);
                return Err(PublishError::LayerMismatch {
                    digest: l.digest.to_string(),
                    diff_id: l.diff_id.to_string(),
                });
            }
        }
        tar.append_data(
            &mut header(checked.len() as u64, tar::EntryType::Regular, 0o644),
            &name,
            checked.as_slice(),
        )
        .map_err(ioe)?;
        layer_names.push(name);
    }
    tar.append_data(
        &mut header(image.config.len() as u64, tar::EntryType::Regular, 0o644),
        &config_name,
        image.config.as_slice(),
    )
    .map_err(ioe)?;
    let manifest = vec![ManifestEntry {
        config: config_name,
        repo_tags: vec![req.tag.tagged()],
        layers: layer_names,
    }];
    let manifest = canonical_json(&manifest).map_err(|e| ioe(e.into()))?;
    tar.append_data(
        &mut header(manifest.len() as u64, tar::EntryType::Regular, 0o644),
        "manifest.json",
        manifest.as_slice(),
    )
    .map_err(ioe)?;
    {
        let repos = serde_json::json!({ req.tag.name(): { req.tag.tag().unwrap_or("latest"): image.config_digest.hex() } });
        let repos = canonical_json(&repos).map_err(|e| ioe(e.into()))?;
        tar.append_data(
            &mut header(repos.len() as u64, tar::EntryType::Regular, 0o644),
            "repositories",
            repos.as_slice(),
        )
        .map_err(ioe)?;
    }
    tar.into_inner().map_err(ioe)
}

impl Publisher for DockerArchive {
    fn destination(&self) -> String {
        format!("docker-archive:{}", self.file.display())
    }

    fn check(&self) -> Result<(), PublishError> {
        refuse_foreign_file(&self.file)
    }

    fn publish(&self, req: &PublishRequest<'_>) -> Result<Published, PublishError> {
        refuse_foreign_file(&self.file)?;
        let mut inner_err = None;
        crate::fsutil::write_atomic(&self.file, |w| {
            write_archive(req, &self.destination(), w)
                .map(|_| ())
                .map_err(|e| {
                    let msg = e.to_string();
                    inner_err = Some(e);
                    io::Error::other(msg)
                })
        })
        .map_err(|source| {
            inner_err.take().unwrap_or(PublishError::Io {
                path: self.file.clone(),
                source,
            })
        })?;
        Ok(Published {
            destination: self.destination(),
            reference: req.tag.clone(),
            digest: req.image.manifest_digest.clone(),
        })
    }
}

/// An existing FILE is replaced only when it is a docker archive (drydock's or another tool's):
/// never a directory, a source file or anything else drydock did not write.
fn refuse_foreign_file(file: &std::path::Path) -> Result<(), PublishError> {
    let meta = match std::fs::symlink_metadata(file) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(PublishError::Io {
                path: file.to_path_buf(),
                source,
            })
        }
    };
    let refuse = |why: &str| PublishError::Refused {
        path: file.to_path_buf(),
        why: why.to_string(),
        fix: "name a new file, or remove this one yourself".into(),
    };
    if !meta.is_file() {
        return Err(refuse("exists and is not a regular file"));
    }
    if std::fs::File::open(file).is_ok_and(is_docker_archive) {
        Ok(())
    } else {
        Err(refuse(
            "exists and is not a docker archive, so drydock will not replace it",
        ))
    }
}

/// Whether a tar stream is a docker archive: it holds a `manifest.json` that is a JSON array.
pub fn is_docker_archive(r: impl io::Read) -> bool {
    let mut archive = tar::Archive::new(r);
    let Ok(entries) = archive.entries() else {
        return false;
    };
    for e in entries {
        let Ok(mut e) = e else {
            return false;
        };
        if e.path().is_ok_and(|p| p.as_os_str() == "manifest.json") {
            let mut buf = Vec::new();
            return io::Read::read_to_end(&mut io::Read::take(&mut e, 1 << 20), &mut buf).is_ok()
                && serde_json::from_slice::<Vec<serde_json::Value>>(&buf).is_ok();
        }
    }
    false
}
