//! `drydock push SOURCE REF`: an image already written (an OCI layout, a docker archive, an
//! engine's image, another registry's) to a registry.

use std::path::Path;

use drydock::cache::Cache;
use drydock::error::{ErrorKind, Failure};
use drydock::publish::{Location, PublishRequest, Publisher};
use drydock::reference::Reference;
use drydock::ui::{human_bytes as human, Ui};
use drydock_oci::location::ReadContext;
use drydock_oci::push::RegistryPush;
use drydock_oci::source::Manifest;
use drydock_oci::{BlobStore, DirStore, Image, ImageIndex, ImageSource, Platform};

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
    // The image to push, named with its place; errors speak of it as the image to push.
    let not_named = || {
        let p = Path::new(&a.source);
        let fix = if p.is_dir() {
            format!("name the directory as an OCI layout: oci:{}", a.source)
        } else if p.is_file() {
            format!(
                "name the file as a docker archive: docker-archive:{}",
                a.source
            )
        } else {
            "name the image to push as oci:DIR[:REF], docker-archive:FILE[:TAG], docker-daemon:NAME, podman:NAME or docker://REFERENCE".to_string()
        };
        Failure::new(
            ErrorKind::Usage,
            format!("{:?} does not say which image to push", a.source),
        )
        .with_fix(fix)
    };
    let location = match Location::parse_transport(&a.source, Path::new(".")) {
        Some(Ok(l)) => l,
        _ => return Err(not_named()),
    };
    if r.digest().is_some() {
        return Err(
            Failure::new(ErrorKind::Usage, format!("{r} names a digest"))
                .with_fix("push to a tag: the digest is what the push computes"),
        );
    }
    let bar = if a.format == Format::Json {
        ui.without_progress()
    } else {
        *ui
    };
    let source = location.reader(&ReadContext {
        store: cache.blobs(),
        registry: &a.registry.options_reporting(ui),
    });
    let input = |e: drydock_oci::ReadError| match e {
        drydock_oci::ReadError::Registry(e) => failure(*e),
        e => Failure {
            fix: e.fix(),
            ..Failure::new(ErrorKind::Input, format!("the image to push: {e}"))
        },
    };
    // An index of images (a multi-platform build's layout, a registry's index) goes whole:
    // every platform's image and the index itself, as `drydock build --platform` pushes it.
    let whole = match &location {
        Location::Layout { .. } | Location::Registry(_) => {
            whole_index(source.as_ref()).map_err(input)?
        }
        _ => None,
    };
    let (store, image): (&dyn BlobStore, Image) = match &whole {
        Some(index) => (source.blobs(), index.images[0].1.clone()),
        None => {
            let selected = source.select(&platform).map_err(input)?;
            let mut digest = selected.manifest;
            if let Location::Archive { file, .. } = &location {
                digest = match as_built(file, &digest, cache.blobs()) {
                    Ok(Some(built)) => built,
                    Ok(None) => digest,
                    Err(why) => {
                        ui.warn(&format!("{}: {why}; pushing its layers uncompressed, under other digests than the build's", file.display()));
                        digest
                    }
                };
            }
            // An archive's image was imported into the cache, where `as_built` may have added
            // the build's compressed layers: read it there.
            let store: &dyn BlobStore = match &location {
                Location::Archive { .. } => cache.blobs(),
                _ => source.blobs(),
            };
            (store, Image::read(store, &digest).map_err(failure)?)
        }
    };
    let (events, step) = bar.transfer(&format!("pushing {r}"));
    let mut options = a.registry.options();
    options.events = events;
    let target = RegistryPush::new(Some(r.clone()), options, Vec::new());
    let published = target
        .publish(&PublishRequest {
            index: whole.as_ref(),
            store,
            image: &image,
            tag: &r,
            created: 0,
            sources: &[],
        })
        .map_err(failure)?;
    drop(step);
    report(published, &a, ui)
}

/// The index `source` names, with each of its images, when it names an index whose every entry
/// is an image for a platform (an index with attestations or nested indexes in it is pushed
/// as before: the platform's image).
fn whole_index(source: &dyn ImageSource) -> Result<Option<ImageIndex>, drydock_oci::ReadError> {
    let top = source.resolve()?;
    let Manifest::Index(i) = &top.manifest else {
        return Ok(None);
    };
    let media_type = match i.media_type.as_str() {
        drydock_oci::image::DOCKER_MANIFEST_LIST => drydock_oci::image::DOCKER_MANIFEST_LIST,
        _ => drydock_oci::image::OCI_INDEX,
    };
    let mut images = Vec::new();
    for d in &i.manifests {
        let platform = d.platform_name().and_then(|p| Platform::parse(&p).ok());
        let (Some(platform), true) = (
            platform,
            d.is_runnable() && drydock_oci::source::is_image_manifest(&d.media_type),
        ) else {
            return Ok(None);
        };
        source.manifest(&d.digest)?;
        let image = Image::read(source.blobs(), &d.digest).map_err(|e| {
            drydock_oci::ReadError::location(source.describe(), e.to_string(), "repair the image")
        })?;
        images.push((platform, image));
    }
    if images.is_empty() {
        return Ok(None);
    }
    Ok(Some(ImageIndex {
        media_type,
        digest: top.digest,
        bytes: top.bytes,
        images,
    }))
}

fn report(published: drydock_oci::Published, a: &PushArgs, ui: &Ui) -> Outcome {
    let report = published.pushed().cloned().unwrap_or_default();
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
