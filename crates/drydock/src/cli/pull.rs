//! `drydock pull`.

use drydock::cache::Cache;
use drydock::publish::{self, PublishRequest};
use drydock::reference::Reference;
use drydock::ui::{human_bytes as human, Ui};
use drydock_oci::registry::{pull, Client};
use drydock_oci::{Image, Platform};

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
    let r = Reference::parse(&a.reference).map_err(failure)?;
    let platform = Platform::parse(&a.platform).map_err(failure)?;
    let mut outputs = Vec::new();
    for spec in &a.output {
        let p = publish::parse_output(spec).map_err(failure)?;
        p.check().map_err(failure)?;
        outputs.push(p);
    }
    let cache = Cache::open(a.cache_dir.as_deref()).map_err(failure)?;
    let bar = if a.format == Format::Json {
        ui.without_progress()
    } else {
        *ui
    };
    let (events, step) = bar.transfer(&format!("pulling {r}"));
    let mut options = a.registry.options();
    options.events = events;
    let client = Client::connect(r.registry(), options).map_err(failure)?;
    // A digest when there is one, else the tag (`latest` when none was written).
    let reference = r.digest().or(r.tag()).unwrap_or("latest").to_string();
    let pulled = pull::pull(
        &client,
        r.repository(),
        &reference,
        &platform,
        cache.blobs(),
        &|_| {},
    )
    .map_err(failure)?;
    drop(step);
    let image = Image::read(cache.blobs(), &pulled.manifest).map_err(failure)?;
    let mut written = Vec::new();
    for p in &outputs {
        let req = PublishRequest {
            store: &cache,
            image: &image,
            tag: &r,
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
