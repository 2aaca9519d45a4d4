//! `drydock pull SOURCE -o DEST…`: an image from a registry (or any other place an image can
//! be) into the cache, then written to each destination.

use std::path::Path;

use drydock::cache::Cache;
use drydock::publish::{Location, PublishRequest};
use drydock::ui::{human_bytes as human, Ui};
use drydock_oci::location::ReadContext;
use drydock_oci::{Image, Platform, ReadError};

use super::args::{Format, PullArgs};
use super::{failure, out, out_json, Outcome};

#[derive(serde::Serialize)]
struct PullReport {
    reference: String,
    digest: String,
    index: Option<String>,
    platform: String,
    fetched: usize,
    fetched_bytes: u64,
    cached: usize,
    outputs: Vec<String>,
}

pub fn run(a: PullArgs, ui: &Ui) -> Outcome {
    let location = Location::parse(&a.reference, Path::new(".")).map_err(failure)?;
    let platform = Platform::parse(&a.platform).map_err(failure)?;
    let mut outputs = Vec::new();
    for spec in &a.output {
        let p = Location::parse_output(spec)
            .map_err(failure)?
            .writer(&a.registry.options_reporting(ui));
        p.check().map_err(failure)?;
        outputs.push(p);
    }
    let cache = Cache::open(a.cache_dir.as_deref()).map_err(failure)?;
    let bar = if a.format == Format::Json {
        ui.without_progress()
    } else {
        *ui
    };
    let (events, step) = bar.transfer(&format!("pulling {location}"));
    let mut options = a.registry.options();
    options.events = events;
    let source = location.reader(&ReadContext {
        store: cache.blobs(),
        registry: &options,
    });
    let pulled = source
        .fetch(&platform, cache.blobs())
        .map_err(|e| match e {
            ReadError::Registry(e) => failure(*e),
            e => drydock::error::Failure {
                fix: e.fix(),
                ..drydock::error::Failure::new(drydock::error::ErrorKind::Input, e)
            },
        })?;
    drop(step);
    let image = Image::read(cache.blobs(), &pulled.manifest).map_err(failure)?;
    // Written under the reference pulled (a registry's), else under the name the place gives
    // it when that is a reference, else by digest alone.
    let tag = match &location {
        Location::Registry(r) => r.clone(),
        other => match image_name(other) {
            Some(r) => r,
            None => drydock::reference::Reference::parse(&format!("image@{}", pulled.manifest))
                .map_err(failure)?,
        },
    };
    let r = &tag;
    let mut written = Vec::new();
    for p in &outputs {
        let req = PublishRequest {
            index: None,
            store: &cache,
            image: &image,
            tag: r,
            created: 0,
            sources: &[],
        };
        written.push(p.publish(&req).map_err(failure)?.destination);
    }
    let report = PullReport {
        // What was pulled, named as the reference names it: no tag for a pull by digest.
        reference: format!(
            "{}@{}",
            r.repo_tag().unwrap_or_else(|| r.name().to_string()),
            pulled.manifest
        ),
        digest: pulled.manifest.to_string(),
        index: pulled.index.map(|d| d.to_string()),
        platform: platform.to_string(),
        fetched: pulled.fetched,
        fetched_bytes: pulled.fetched_bytes,
        cached: pulled.cached,
        outputs: written,
    };
    match a.format {
        Format::Json => out_json(&report),
        Format::Text if !ui.quiet => {
            let mut s = format!("pulled {} ({})\n", report.reference, report.platform);
            s.push_str(&format!(
                "  {} blobs fetched ({}), {} from the cache\n",
                report.fetched,
                human(report.fetched_bytes),
                report.cached
            ));
            for o in &report.outputs {
                s.push_str(&format!("  wrote {o}\n"));
            }
            out(&s);
            Ok(0)
        }
        Format::Text => Ok(0),
    }
}

/// The name an image read from a place other than a registry has there (a layout's ref name,
/// an archive's tag, an engine's name), when it is a reference.
fn image_name(location: &Location) -> Option<drydock::reference::Reference> {
    let name = match location {
        Location::Layout { name, .. } => name.as_deref(),
        Location::Archive { tag, .. } => tag.as_deref(),
        Location::Engine { name, .. } => Some(name.as_str()),
        Location::Registry(_) => None,
    }?;
    drydock::reference::Reference::parse(name).ok()
}
