//! Docker archives (`docker-archive:FILE`). Reading one ([`ArchiveSource`], [`read_image`])
//! imports its image into a blob store; writing ([`DockerArchive`], and an engine's `load`
//! through [`write_archive`]) produces the `docker save` format (`manifest.json`, the config,
//! one uncompressed `layer.tar` per layer), which both `docker load` and `podman load` accept.
//!
//! Deliberately not the hybrid with an OCI `index.json`: podman would load that as an OCI image
//! and drop the config's Healthcheck, which only the Docker image format carries.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::digest::HashingWriter;
use crate::image::canonical_json;
use crate::publish::{PublishError, PublishRequest, Published, Publisher};
use crate::reference::Reference;
use crate::source::{ImageSource, Manifest, ReadError, Resolved};

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
        let mut blob = io::BufReader::new(req.store.open(&l.digest)?);
        // Layers are gzip (drydock's, most registries') or plain tar (a docker archive's):
        // the bytes say which, whatever the media type claims.
        let gzip = io::BufRead::fill_buf(&mut blob)
            .map_err(ioe)?
            .starts_with(&[0x1f, 0x8b]);
        let mut tar_stream: Box<dyn io::Read> = if gzip {
            Box::new(flate2::read::GzDecoder::new(blob))
        } else {
            Box::new(blob)
        };
        // Decompress through a hashing check so a layer that does not match its diff ID
        // never reaches an engine.
        let mut checked = Vec::new();
        {
            let mut hw = HashingWriter::new(&mut checked);
            io::copy(&mut tar_stream, &mut hw).map_err(ioe)?;
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
    // The image's own manifest, byte for byte (docker and podman load ignore the file): a push
    // of this archive sends the same manifest, so the same digest, as a push of the build.
    tar.append_data(
        &mut header(image.manifest.len() as u64, tar::EntryType::Regular, 0o644),
        recorded_manifest_name(&image.config_digest),
        image.manifest.as_slice(),
    )
    .map_err(ioe)?;
    let manifest = vec![ManifestEntry {
        config: config_name,
        // A reference by digest alone names no tag: the image goes in untagged, as
        // `docker save IMAGE_ID` writes it.
        repo_tags: req.tag.repo_tag().into_iter().collect(),
        layers: layer_names,
    }];
    let manifest = canonical_json(&manifest).map_err(|e| ioe(e.into()))?;
    tar.append_data(
        &mut header(manifest.len() as u64, tar::EntryType::Regular, 0o644),
        "manifest.json",
        manifest.as_slice(),
    )
    .map_err(ioe)?;
    if let Some(tag) = req.tag.tag() {
        let repos = serde_json::json!({ req.tag.name(): { tag: image.config_digest.hex() } });
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
        refuse_foreign_file(&self.file, None)
    }

    fn check_for(&self, tag: &Reference) -> Result<(), PublishError> {
        refuse_foreign_file(&self.file, Some(tag))
    }

    fn publish(&self, req: &PublishRequest<'_>) -> Result<Published, PublishError> {
        let Some(index) = req.index else {
            return self.write_one(req);
        };
        // A docker archive holds images, not indexes, and `docker load` of two images under one
        // tag keeps the last: a multi-platform build writes one archive per platform, beside
        // FILE and named after it (app.tar: app-linux-amd64.tar, app-linux-arm64.tar).
        let per: Vec<(DockerArchive, &crate::Image)> = index
            .images
            .iter()
            .map(|(p, i)| {
                (
                    DockerArchive {
                        file: platform_file(&self.file, p),
                    },
                    i,
                )
            })
            .collect();
        for (a, _) in &per {
            refuse_foreign_file(&a.file, Some(req.tag))?;
        }
        let mut destinations = Vec::new();
        for (a, image) in &per {
            let one = PublishRequest {
                image,
                index: None,
                ..*req
            };
            destinations.push(a.write_one(&one)?.destination);
        }
        Ok(Published {
            destination: destinations.join(", "),
            reference: req.tag.clone(),
            digest: index.digest.clone(),
            written: crate::publish::Written::Archive,
        })
    }
}

/// The archive of one platform of a multi-platform build: FILE's name with the platform before
/// its extension (`app.tar` → `app-linux-arm64.tar`, `app` → `app-linux-arm64`).
pub fn platform_file(file: &std::path::Path, p: &crate::Platform) -> PathBuf {
    let suffix = p.to_string().replace('/', "-");
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let named = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem}-{suffix}.{ext}"),
        _ => format!("{name}-{suffix}"),
    };
    file.with_file_name(named)
}

impl DockerArchive {
    /// Writes `req.image` (never an index) to FILE.
    fn write_one(&self, req: &PublishRequest<'_>) -> Result<Published, PublishError> {
        refuse_foreign_file(&self.file, Some(req.tag))?;
        let mut inner_err = None;
        // Replacing an archive keeps its mode (write_atomic does): a 0600 archive stays 0600.
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
            written: crate::publish::Written::Archive,
        })
    }
}

/// An existing FILE is replaced only when replacing it loses nothing but an earlier build of
/// the same image: a docker archive (drydock's or `docker save`'s) holding one image, tagged
/// only `tag`. An archive of other images, several images, an untagged image, or anything that
/// is not a docker archive is refused. Without `tag` (before the reference is known) only the
/// tag is not compared.
fn refuse_foreign_file(
    file: &std::path::Path,
    tag: Option<&Reference>,
) -> Result<(), PublishError> {
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
    let refuse = |why: String| PublishError::Refused {
        path: file.to_path_buf(),
        why,
        fix: "name a new file, or remove this one yourself".into(),
    };
    if !meta.is_file() {
        return Err(refuse("exists and is not a regular file".into()));
    }
    let entries = std::fs::File::open(file)
        .ok()
        .and_then(archive_images)
        .ok_or_else(|| {
            refuse("exists and is not a docker archive, so drydock will not replace it".into())
        })?;
    let describe = |entries: &[Vec<String>]| {
        entries
            .iter()
            .map(|t| {
                if t.is_empty() {
                    "an untagged image".to_string()
                } else {
                    t.join(" ")
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    match entries.as_slice() {
        [] => Ok(()),
        [tags] if tags.len() == 1 => match tag {
            Some(tag) if !same_reference(&tags[0], tag) => Err(refuse(format!(
                "holds another image ({}), which writing {} would replace",
                tags[0],
                tag.tagged()
            ))),
            _ => Ok(()),
        },
        _ => Err(refuse(format!(
            "holds {} ({}), which writing one image would replace",
            if entries.len() == 1 {
                "an image under several tags or none".to_string()
            } else {
                format!("{} images", entries.len())
            },
            describe(&entries)
        ))),
    }
}

/// Whether `written` (a RepoTags entry) names the same image as `tag`: `gin-api:latest` and
/// `docker.io/library/gin-api:latest` do.
fn same_reference(written: &str, tag: &Reference) -> bool {
    Reference::parse(written).is_ok_and(|r| {
        r.registry() == tag.registry() && r.repository() == tag.repository() && r.tag() == tag.tag()
    })
}

/// The RepoTags of each image in a docker archive, or None when the stream is not one.
pub fn archive_images(r: impl io::Read) -> Option<Vec<Vec<String>>> {
    let mut archive = tar::Archive::new(r);
    for e in archive.entries().ok()? {
        let mut e = e.ok()?;
        if e.path().is_ok_and(|p| p.as_os_str() == "manifest.json") {
            let mut buf = Vec::new();
            io::Read::read_to_end(&mut io::Read::take(&mut e, 1 << 20), &mut buf).ok()?;
            let v: Vec<serde_json::Value> = serde_json::from_slice(&buf).ok()?;
            return Some(
                v.iter()
                    .map(|m| {
                        m.get("RepoTags")
                            .and_then(|t| t.as_array())
                            .map(|t| {
                                t.iter()
                                    .filter_map(|x| x.as_str().map(str::to_string))
                                    .collect()
                            })
                            .unwrap_or_default()
                    })
                    .collect(),
            );
        }
    }
    None
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
/// Where an archive drydock wrote keeps the image's registry manifest, beside its config.
fn recorded_manifest_name(config: &crate::Digest) -> String {
    format!("{}.manifest.json", config.hex())
}

/// The registry manifest drydock recorded for the image whose config is `config`, when the
/// archive holds one (archives drydock wrote do; `docker save`'s do not). Its layers are the
/// compressed blobs the build made; [`read_image`] stores their uncompressed forms.
pub fn recorded_manifest(
    file: &std::path::Path,
    config: &crate::Digest,
) -> Result<Option<Vec<u8>>, ReadError> {
    use std::io::Read;
    let name = recorded_manifest_name(config);
    let fail = |e: io::Error| {
        ReadError::location(
            file.display(),
            format!("is not a tar archive ({e})"),
            "name a docker archive (docker save -o FILE IMAGE)",
        )
    };
    let f = std::fs::File::open(file).map_err(fail)?;
    let mut archive = tar::Archive::new(io::BufReader::new(f));
    for e in archive.entries().map_err(fail)? {
        let mut e = e.map_err(fail)?;
        if e.path().is_ok_and(|p| p.as_os_str() == name.as_str()) {
            let mut buf = Vec::new();
            e.by_ref()
                .take(4 << 20)
                .read_to_end(&mut buf)
                .map_err(fail)?;
            return Ok(Some(buf));
        }
    }
    Ok(None)
}

/// A docker archive (`docker save`, `podman save`, drydock's own) read as an image source: its
/// image is imported into `store` on first use (layers byte for byte), as [`read_image`] does.
pub struct ArchiveSource {
    pub file: PathBuf,
    pub tag: Option<String>,
    store: crate::store::DirStore,
    /// How the location was named, for messages (the file, or `docker-daemon:NAME`).
    name: String,
    imported: std::sync::OnceLock<crate::Digest>,
}

impl ArchiveSource {
    pub fn new(file: &Path, tag: Option<&str>, store: &crate::store::DirStore) -> ArchiveSource {
        ArchiveSource {
            file: file.to_path_buf(),
            tag: tag.map(str::to_string),
            store: store.clone(),
            name: file.display().to_string(),
            imported: std::sync::OnceLock::new(),
        }
    }

    /// The same, named otherwise in messages (an engine's image saved to a temporary file).
    pub fn named(mut self, name: &str) -> ArchiveSource {
        self.name = name.to_string();
        self
    }

    /// The imported image's manifest.
    pub fn import(&self) -> Result<crate::Digest, ReadError> {
        if let Some(d) = self.imported.get() {
            return Ok(d.clone());
        }
        let d = read_image(&self.file, self.tag.as_deref(), &self.store)?;
        Ok(self.imported.get_or_init(|| d).clone())
    }
}

impl ImageSource for ArchiveSource {
    fn describe(&self) -> String {
        self.name.clone()
    }

    fn resolve(&self) -> Result<Resolved, ReadError> {
        let digest = self.import()?;
        let bytes = self.manifest(&digest)?;
        let manifest = Manifest::parse(&bytes, None).map_err(|why| {
            ReadError::location(&self.name, why.to_string(), "re-create the archive")
        })?;
        Ok(Resolved {
            digest,
            bytes,
            manifest,
        })
    }

    fn manifest(&self, digest: &crate::Digest) -> Result<Vec<u8>, ReadError> {
        crate::source::read_verified(&self.store, digest)
    }

    fn blobs(&self) -> &dyn crate::store::BlobStore {
        &self.store
    }
}

#[derive(serde::Deserialize)]
struct ArchiveEntry {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags", default)]
    repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers")]
    layers: Vec<String>,
}

/// Imports the image of a `docker save` / `podman save` / `skopeo copy docker-archive:`
/// archive into `store` and returns the digest of a Docker schema 2 manifest for it, for
/// [`crate::ImageBuilder::from_image`]. `tag` picks the image when the archive holds several
/// (`RepoTags`). Layers are kept byte for byte: an uncompressed layer becomes a blob whose digest
/// is its diff ID, a gzip-compressed one keeps its compression.
pub fn read_image(
    file: &std::path::Path,
    tag: Option<&str>,
    store: &crate::store::DirStore,
) -> Result<crate::Digest, ReadError> {
    use crate::store::BlobStore;
    use std::io::Read;
    let fail = |why: String, fix: &'static str| ReadError::location(file.display(), why, fix);
    let open = || {
        std::fs::File::open(file)
            .map(|f| tar::Archive::new(io::BufReader::new(f)))
            .map_err(|e| {
                fail(
                    format!("cannot be read ({e})"),
                    "name a docker archive (docker save -o FILE IMAGE)",
                )
            })
    };
    let not_tar = |e: io::Error| {
        fail(
            format!("is not a tar archive ({e})"),
            "name a docker archive (docker save -o FILE IMAGE)",
        )
    };
    // manifest.json may come last (docker save writes it after the layers): find it first.
    let mut manifest = None;
    for e in open()?.entries().map_err(not_tar)? {
        let mut e = e.map_err(not_tar)?;
        if e.path().is_ok_and(|p| p.as_os_str() == "manifest.json") {
            let mut buf = Vec::new();
            e.by_ref()
                .take(1 << 22)
                .read_to_end(&mut buf)
                .map_err(not_tar)?;
            manifest = Some(buf);
            break;
        }
    }
    let manifest = manifest.ok_or_else(|| {
        fail(
            "has no manifest.json".into(),
            "name a docker archive (docker save -o FILE IMAGE)",
        )
    })?;
    let entries: Vec<ArchiveEntry> = serde_json::from_slice(&manifest).map_err(|e| {
        fail(
            format!("has a manifest.json that is not a docker archive manifest ({e})"),
            "re-create it with docker save",
        )
    })?;
    let entry = match tag {
        Some(t) => entries
            .iter()
            .find(|e| e.repo_tags.iter().flatten().any(|r| r == t))
            .ok_or_else(|| {
                fail(
                    format!("has no image tagged {t}"),
                    "name one of its RepoTags (tar -xOf FILE manifest.json)",
                )
            })?,
        None if entries.len() == 1 => &entries[0],
        None if entries.is_empty() => {
            return Err(fail(
                "holds no image".into(),
                "name an archive with an image",
            ))
        }
        None => return Err(fail("holds several images".into(), "add :TAG to say which")),
    };
    // Second pass: the config and the layers, streamed into the store.
    let mut wanted: std::collections::BTreeMap<
        String,
        Option<(crate::Digest, crate::Digest, u64, bool)>,
    > = std::iter::once(entry.config.clone())
        .chain(entry.layers.iter().cloned())
        .map(|p| (p, None))
        .collect();
    for e in open()?.entries().map_err(not_tar)? {
        let mut e = e.map_err(not_tar)?;
        let Some(path) = e.path().ok().map(|p| p.to_string_lossy().into_owned()) else {
            continue;
        };
        let Some(slot) = wanted.get_mut(&path) else {
            continue;
        };
        if slot.is_some() {
            continue;
        }
        let tmp = store.temp()?;
        let f = tmp.reopen().map_err(not_tar)?;
        let mut w = crate::digest::HashingWriter::new(io::BufWriter::new(f));
        // Hash the content as it is, and its decompressed form when it is gzip.
        let mut head = [0u8; 2];
        let n = e.read(&mut head).map_err(not_tar)?;
        w.write_all(&head[..n]).map_err(not_tar)?;
        io::copy(&mut e, &mut w).map_err(not_tar)?;
        let (mut buf, digest, size) = w.finish();
        buf.flush().map_err(not_tar)?;
        drop(buf);
        let gzip = n == 2 && head == [0x1f, 0x8b];
        let diff_id = if gzip {
            let mut gz =
                flate2::read::GzDecoder::new(std::fs::File::open(tmp.path()).map_err(not_tar)?);
            crate::digest::sha256_reader(&mut gz)
                .map_err(|e| {
                    fail(
                        format!("layer {path} does not decompress ({e})"),
                        "re-create the archive",
                    )
                })?
                .0
        } else {
            digest.clone()
        };
        store.commit(tmp, &digest)?;
        *slot = Some((digest, diff_id, size, gzip));
    }
    let got = |p: &String| {
        wanted.get(p).cloned().flatten().ok_or_else(|| {
            fail(
                format!("lacks {p}, which its manifest.json names"),
                "re-create the archive",
            )
        })
    };
    let (config_digest, _, config_size, _) = got(&entry.config)?;
    let config: serde_json::Value =
        serde_json::from_slice(&store.read(&config_digest)?).map_err(|e| {
            fail(
                format!("has a config that is not JSON ({e})"),
                "re-create the archive",
            )
        })?;
    let diff_ids: Vec<&str> = config
        .pointer("/rootfs/diff_ids")
        .and_then(|d| d.as_array())
        .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    let mut layers = Vec::new();
    for (i, p) in entry.layers.iter().enumerate() {
        let (digest, diff_id, size, gzip) = got(p)?;
        if diff_ids.get(i) != Some(&diff_id.as_str()) {
            return Err(fail(
                format!(
                    "layer {p} has diff ID {diff_id}, not the {} its config names",
                    diff_ids.get(i).unwrap_or(&"none")
                ),
                "re-create the archive",
            ));
        }
        let media = if gzip {
            crate::image::DOCKER_LAYER_GZIP
        } else {
            "application/vnd.docker.image.rootfs.diff.tar"
        };
        layers
            .push(serde_json::json!({"mediaType": media, "digest": digest.as_str(), "size": size}));
    }
    let m = canonical_json(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": crate::image::DOCKER_MANIFEST,
        "config": {"mediaType": crate::image::DOCKER_CONFIG, "digest": config_digest.as_str(), "size": config_size},
        "layers": layers,
    }))
    .map_err(|e| fail(e.to_string(), "re-create the archive"))?;
    Ok(store.put(&m)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{BlobStore, DirStore};
    use crate::{ImageBuilder, Layer, Platform, Reference};

    #[test]
    fn an_archive_written_reads_back_as_a_base() {
        let t = tempfile::tempdir().unwrap();
        let store = DirStore::create(&t.path().join("a")).unwrap();
        let mut tar = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_ustar();
        h.set_size(2);
        h.set_mode(0o644);
        tar.append_data(&mut h, "etc/x", &b"hi"[..]).unwrap();
        let raw = tar.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&raw).unwrap();
        let gz = gz.finish().unwrap();
        let layer = Layer {
            digest: store.put(&gz).unwrap(),
            diff_id: crate::Digest::of(&raw),
            size: gz.len() as u64,
            media_type: crate::image::OCI_LAYER_GZIP.into(),
        };
        let mut b = ImageBuilder::scratch(&Platform::linux_amd64());
        b.append_layer(layer.clone(), "2024-01-01T00:00:00Z", "x");
        let image = b.build(&store).unwrap();
        let file = t.path().join("img.tar");
        let tag = Reference::parse("base:1").unwrap();
        DockerArchive { file: file.clone() }
            .publish(&PublishRequest {
                index: None,
                store: &store,
                image: &image,
                tag: &tag,
                created: 0,
                sources: &[],
            })
            .unwrap();

        let imported = DirStore::create(&t.path().join("b")).unwrap();
        let m = read_image(&file, Some("base:1"), &imported).unwrap();
        let base = ImageBuilder::from_image(&imported, &m).unwrap();
        assert_eq!(base.format(), crate::Format::Docker);
        assert_eq!(base.layers().len(), 1);
        let l = &base.layers()[0];
        assert_eq!(l.diff_id, layer.diff_id);
        assert_eq!(
            l.digest, layer.diff_id,
            "an uncompressed layer's digest is its diff ID"
        );
        assert_eq!(l.media_type, "application/vnd.docker.image.rootfs.diff.tar");
        imported.verify(&l.digest).unwrap();
        let e = read_image(&file, Some("other:1"), &imported).unwrap_err();
        assert!(e.to_string().contains("no image tagged other:1"), "{e}");
        std::fs::write(t.path().join("junk.tar"), b"not a tar").unwrap();
        assert!(read_image(&t.path().join("junk.tar"), None, &imported).is_err());
    }
}
