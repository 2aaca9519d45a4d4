//! `drydock push`: an image already written (an OCI layout or a docker archive) to a registry.

use std::path::Path;

use drydock::base::BaseSpec;
use drydock::cache::Cache;
use drydock::error::{ErrorKind, Failure};
use drydock::publish::{PublishRequest, Publisher};
use drydock::reference::Reference;
use drydock::ui::{human_bytes as human, Ui};
use drydock_oci::registry::push::RegistryPush;
use drydock_oci::{BlobStore, DirStore, Image, Platform};

use super::args::{Format, PushArgs};
use super::{failure, out, out_json, Outcome};

/// The image of a docker archive drydock wrote, as the build made it: the manifest recorded in
/// the archive, with its compressed layers taken from the cache or compressed again exactly as
/// the build compresses them (the same settings give the same bytes), each checked against the
/// manifest's digest. `None` for an archive without a recorded manifest (`docker save`'s).
fn as_built(
    file: &Path,
    imported: &drydock_oci::Digest,
    store: &DirStore,
) -> Result<Option<drydock_oci::Digest>, String> {
    use std::io::Write;
    let image = Image::read(store, imported).map_err(|e| e.to_string())?;
    let Some(manifest) = drydock_oci::archive::recorded_manifest(file, &image.config_digest)
        .map_err(|e| e.to_string())?
    else {
        return Ok(None);
    };
    let m: serde_json::Value = serde_json::from_slice(&manifest)
        .map_err(|e| format!("its recorded manifest is not JSON ({e})"))?;
    let layers = m["layers"].as_array().cloned().unwrap_or_default();
    if layers.len() != image.layers.len()
        || m["config"]["digest"].as_str() != Some(image.config_digest.as_str())
    {
        return Err("its recorded manifest does not describe its image".into());
    }
    for (want, have) in layers.iter().zip(&image.layers) {
        let want = want["digest"]
            .as_str()
            .and_then(drydock_oci::Digest::parse)
            .ok_or("its recorded manifest has a layer without a digest")?;
        if store.verify(&want).is_ok() {
            continue;
        }
        // `have` is the layer as the archive holds it (uncompressed: digest = diff ID).
        let tmp = store.temp().map_err(|e| e.to_string())?;
        let out = std::io::BufWriter::new(tmp.reopen().map_err(|e| e.to_string())?);
        let mut hashing = drydock_oci::digest::HashingWriter::new(out);
        let mut gz = drydock::image::gzip::ParallelGzWriter::new(
            &mut hashing,
            drydock::image::layer::GZIP_LEVEL,
        )
        .map_err(|e| e.to_string())?;
        let mut r = store.open(&have.digest).map_err(|e| e.to_string())?;
        std::io::copy(&mut r, &mut gz).map_err(|e| e.to_string())?;
        gz.finish().map_err(|e| e.to_string())?;
        let (mut out, got, _) = hashing.finish();
        out.flush().map_err(|e| e.to_string())?;
        drop(out);
        if got != want {
            return Err(format!(
                "layer {} does not compress to the {want} its manifest names (not drydock's own compression)",
                have.diff_id
            ));
        }
        store.commit(tmp, &want).map_err(|e| e.to_string())?;
    }
    store.put(&manifest).map(Some).map_err(|e| e.to_string())
}

pub fn run(a: PushArgs, ui: &Ui) -> Outcome {
    let r = Reference::parse(&a.reference).map_err(failure)?;
    let platform = Platform::linux_amd64();
    let cache = Cache::open(a.cache_dir.as_deref()).map_err(failure)?;
    // The image on disk to push, named by its format; errors speak of it as the image to push.
    let not_on_disk = || {
        let p = Path::new(&a.source);
        let fix = if p.is_dir() {
            format!("name the directory as an OCI layout: oci:{}", a.source)
        } else if p.is_file() {
            format!(
                "name the file as a docker archive: docker-archive:{}",
                a.source
            )
        } else {
            "name the image to push as oci:DIR[:REF] or docker-archive:FILE[:TAG]".to_string()
        };
        Failure::new(
            ErrorKind::Usage,
            format!("{:?} does not say which image to push", a.source),
        )
        .with_fix(fix)
    };
    if !(a.source.starts_with("oci:") || a.source.starts_with("docker-archive:")) {
        return Err(not_on_disk());
    }
    let spec = BaseSpec::parse(&a.source, Path::new(".")).map_err(|_| not_on_disk())?;
    let (store, digest): (Box<dyn BlobStore>, _) = match spec {
        BaseSpec::Layout { dir, name } => {
            let (s, d) = drydock_oci::layout::read_image(&dir, name.as_deref(), &platform)
                .map_err(|e| Failure {
                    fix: e.fix(),
                    ..Failure::new(ErrorKind::Input, format!("the image to push: {e}"))
                })?;
            (Box::new(s) as Box<dyn BlobStore>, d)
        }
        BaseSpec::Archive { file, tag } => {
            let d = drydock_oci::archive::read_image(&file, tag.as_deref(), cache.blobs())
                .map_err(|e| Failure {
                    fix: e.fix(),
                    ..Failure::new(ErrorKind::Input, format!("the image to push: {e}"))
                })?;
            let d = match as_built(&file, &d, cache.blobs()) {
                Ok(Some(built)) => built,
                Ok(None) => d,
                Err(why) => {
                    ui.warn(&format!("{}: {why}; pushing its layers uncompressed, under other digests than the build's", file.display()));
                    d
                }
            };
            (
                Box::new(DirStore::clone(cache.blobs())) as Box<dyn BlobStore>,
                d,
            )
        }
        _ => return Err(not_on_disk()),
    };
    let image = Image::read(store.as_ref(), &digest).map_err(failure)?;
    let bar = if a.format == Format::Json {
        ui.without_progress()
    } else {
        *ui
    };
    let (events, step) = bar.transfer(&format!("pushing {r}"));
    let mut options = a.registry.options();
    options.events = events;
    let target = RegistryPush::new(Some(r.clone()), options, Vec::new());
    if r.digest().is_some() {
        return Err(
            Failure::new(ErrorKind::Usage, format!("{r} names a digest"))
                .with_fix("push to a tag: the digest is what the push computes"),
        );
    }
    let published = target
        .publish(&PublishRequest {
            store: store.as_ref(),
            image: &image,
            tag: &r,
            created: 0,
            sources: &[],
        })
        .map_err(failure)?;
    drop(step);
    let report = published.push.unwrap_or_default();
    match a.format {
        Format::Json => out_json(&report),
        Format::Text if !ui.quiet => {
            out(&format!(
                "pushed {}\n  {} uploaded ({}), {} already there, {} mounted\n",
                report.reference,
                report.uploaded.len(),
                human(report.uploaded_bytes()),
                report.existing.len(),
                report.mounted.len()
            ));
            Ok(0)
        }
        Format::Text => Ok(0),
    }
}
