//! `drydock build`: context → compile → assemble → publish, timed, with a report.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde::Serialize;

use crate::base::{Base, BaseSpec};
use crate::cache::Cache;
use crate::compile::goinfo::GoInfo;
use crate::compile::{self, Compiled};
use crate::config::{Config, Language};
use crate::context::{self, BuildContext, EntryKind};
use crate::image::helper::{helper_layer, HELPER, HELPER_PATH};
use crate::image::layer::{BuiltLayer, Content, Entry, EntryKind as LayerKind, LayerSpec};
use crate::image::{self, rootfs, Healthcheck, Image, ImageSettings};
use crate::project::{Overrides, Project};
use crate::publish::{PublishRequest, Publisher};
use crate::ui::Ui;
use drydock_oci::Platform;

pub const APP_DIR: &str = "app";

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Context(#[from] context::ContextError),
    #[error(transparent)]
    Project(#[from] crate::project::ProjectError),
    #[error(transparent)]
    Compile(#[from] compile::CompileError),
    #[error(transparent)]
    Layer(#[from] image::layer::LayerError),
    #[error(transparent)]
    Image(#[from] image::ImageError),
    #[error(transparent)]
    Publish(#[from] crate::publish::PublishError),
    #[error(transparent)]
    Cache(#[from] crate::cache::CacheError),
    #[error(transparent)]
    Base(#[from] crate::base::BaseError),
    #[error("SOURCE_DATE_EPOCH={value:?} {problem}")]
    SourceDateEpoch {
        value: String,
        problem: &'static str,
    },
    #[error(transparent)]
    Sbom(#[from] crate::sbom::SbomError),
}

impl BuildError {
    /// What to do about it, shown after the message (see [`crate::error::Classify::fix`]).
    pub fn fix(&self) -> Option<String> {
        Some(match self {
            BuildError::SourceDateEpoch { .. } => "set it to a Unix timestamp in seconds between 0 (1970) and 253402300799 (the end of year 9999), e.g. $(git log -1 --format=%ct), or unset it".into(),
            BuildError::Config(e) => return e.fix(),
            BuildError::Context(e) => return e.fix(),
            BuildError::Project(e) => return e.fix(),
            BuildError::Compile(e) => return e.fix(),
            BuildError::Publish(e) => return e.fix(),
            BuildError::Cache(e) => return e.fix(),
            BuildError::Base(e) => return e.fix(),
            BuildError::Sbom(e) => return e.fix(),
            BuildError::Layer(e) => return e.fix(),
            _ => return None,
        })
    }
}

pub struct BuildOptions {
    pub dir: PathBuf,
    pub overrides: Overrides,
    pub outputs: Vec<Box<dyn Publisher>>,
    pub cache_dir: Option<PathBuf>,
    /// Resolve a registry base's tag again, ignoring drydock.lock.
    pub refresh_base: bool,
    /// How to reach registries, for the base.
    pub registry: drydock_oci::registry::Options,
    /// `--sbom` (over `[image] sbom`, else SPDX).
    pub sbom: Option<crate::sbom::SbomFormat>,
    /// `--sbom-dir`: without it no SBOM is made.
    pub sbom_dir: Option<PathBuf>,
    /// Run the compiler even when the rebuild cache has a binary for these inputs.
    pub no_cache: bool,
}

#[derive(Debug, Serialize)]
pub struct StageTimes {
    pub context_ms: u128,
    pub compile_ms: u128,
    pub layers_ms: u128,
    pub publish_ms: u128,
    pub total_ms: u128,
}

#[derive(Debug, Serialize)]
pub struct BinaryReport {
    pub path: PathBuf,
    /// Go version and build settings, for Go binaries.
    pub go: Option<GoInfo>,
    pub tool: String,
    pub command: Option<String>,
    /// The binary came from the rebuild cache: nothing the compiler reads changed.
    pub cached: bool,
    pub linkage: &'static str,
    pub size: u64,
}

#[derive(Debug, Serialize)]
pub struct BuildReport {
    pub reference: String,
    pub digest: String,
    pub config_digest: String,
    pub compressed_size: u64,
    pub created: String,
    pub language: Language,
    pub gin: bool,
    pub layers: Vec<BuiltLayer>,
    pub binary: BinaryReport,
    /// Size of drydock-helper in the image, when it is there.
    pub helper_size: Option<u64>,
    pub outputs: Vec<String>,
    /// The base image, when it is not scratch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<BaseReport>,
    /// The SBOM files written (`--sbom-dir`).
    pub sbom: Vec<crate::sbom::Written>,
    /// What each push sent, with the digest reference it produced.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pushed: Vec<drydock_oci::registry::push::PushReport>,
    pub times: StageTimes,
    pub assumptions: Vec<String>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct BaseReport {
    pub name: String,
    pub digest: String,
    /// How it was resolved (pinned by drydock.lock, pulled, from a layout).
    pub how: String,
}

pub struct Built {
    pub report: BuildReport,
    pub image: Image,
    pub project: Project,
}

/// drydock.toml, the build context and detection, resolved into a project. `dir` may be inside
/// the project (`cmd/api` of a Go module): the root is found upward, and a Go main package
/// at `dir` becomes the one to build unless drydock.toml names another.
pub fn load_project(
    dir: &Path,
    overrides: &Overrides,
) -> Result<(Project, BuildContext), BuildError> {
    let (root, found_above) = crate::project::find_root(dir)?;
    let (cfg, cfg_path) = Config::load(&root)?;
    let ctx = context::load(&root, &cfg.context.allow_secrets)?;
    let mut overrides = overrides.clone();
    if found_above.is_some() && overrides.main.is_none() && cfg.build.main.is_none() {
        if let (Ok(a), Ok(b)) = (dir.canonicalize(), root.canonicalize()) {
            if let Ok(rel) = a.strip_prefix(&b) {
                let rel = rel.to_string_lossy();
                let has_go = ctx.under(&rel).any(|e| {
                    e.path.ends_with(".go")
                        && e.path.matches('/').count() == rel.matches('/').count() + 1
                });
                if has_go {
                    overrides.main = Some(format!("./{rel}"));
                }
            }
        }
    }
    let mut project = Project::resolve(&root, cfg, cfg_path, &ctx, &overrides)?;
    if let Some(f) = found_above {
        project.assumptions.insert(0, f);
    }
    Ok((project, ctx))
}

pub fn build(opts: BuildOptions, ui: &Ui) -> Result<Built, BuildError> {
    let started = Instant::now();
    let dir = &opts.dir;
    let (project, ctx) = load_project(dir, &opts.overrides)?;
    for p in &opts.outputs {
        p.check_for(&project.tag)?;
    }
    let sbom_format = opts.sbom.or(project.sbom).unwrap_or_default();
    let sbom_dir = opts
        .sbom_dir
        .as_ref()
        .filter(|_| sbom_format != crate::sbom::SbomFormat::None);
    if let Some(d) = sbom_dir {
        crate::sbom::check(d, &project.name, sbom_format)?;
    }
    let mut warnings = Vec::new();
    if !ctx.secrets_excluded.is_empty() {
        warnings.push(format!(
            "left out of the build: {} (they look like secrets; name them under [context] allow_secrets in drydock.toml if the build needs them, and pass secrets at run time instead)",
            ctx.secrets_excluded.join(", ")
        ));
    }
    if !ctx.special_skipped.is_empty() {
        warnings.push(format!(
            "not in the build context: {} (sockets, FIFOs or devices, which docker build does not send either)",
            ctx.special_skipped.join(", ")
        ));
    }
    if ctx.dockerignore.is_none() {
        warnings.push(format!("{} has no .dockerignore: the whole directory is the build context (`drydock init` writes one)", dir.display()));
    }
    for w in &warnings {
        ui.warn(w);
    }
    let t_context = started.elapsed();

    let cache = Cache::open(opts.cache_dir.as_deref())?;
    let base = {
        let spec = BaseSpec::parse(&project.base, &project.root)?;
        let step = ui.step(&format!("resolving the base {}", project.base));
        let b = crate::base::resolve(
            &spec,
            &project.base,
            &Platform::linux_amd64(),
            &cache,
            &project.root,
            opts.refresh_base,
            &opts.registry,
        )?;
        drop(step);
        b
    };
    let t0 = Instant::now();
    let linking = if base.is_some() {
        compile::Linking::DynamicAllowed
    } else {
        compile::Linking::StaticOnly
    };
    let compiled = compile::compile(&project, &ctx, &cache, ui, linking, !opts.no_cache)?;
    if let (Some(b), compile::Linkage::Dynamic) = (&base, compiled.info.kind) {
        let missing = b.files.missing(
            compiled.info.interp.as_deref(),
            &compiled.info.needed,
            &compiled.info.runpath,
        );
        if !missing.is_empty() {
            return Err(crate::base::BaseError::Libraries {
                binary: project.name.clone(),
                base: b.name.clone(),
                missing,
            }
            .into());
        }
    }
    let t_compile = t0.elapsed();

    let t0 = Instant::now();
    let meta = SourceMeta::read(dir)?;
    let go = compiled.info.go.clone();
    if !project.helper {
        warnings.push("no helper in the image (helper = false): no init reaping zombies, no GOMAXPROCS/GOMEMLIMIT from the limits, and no HEALTHCHECK, since scratch has nothing to probe with".into());
        ui.warn(warnings.last().map(String::as_str).unwrap_or_default());
    }
    let step = ui.step("assembling layers");
    let layers = build_layers(
        &project,
        &ctx,
        &compiled,
        meta.created,
        &cache,
        base.as_ref(),
    )?;
    drop(step);
    let settings = image_settings(&project, &meta, go.as_ref());
    let image = image::assemble(&cache, &settings, layers, base.as_ref())?;
    for r in cache.repairs() {
        ui.warn(&r);
        warnings.push(r);
    }
    // The SBOM asks the staged GOPATH build's `go list`, so it comes before the stage goes.
    let sbom = match sbom_dir {
        Some(d) => {
            let step = ui.step("writing the SBOM");
            let s = crate::sbom::collect(&crate::sbom::collect::Inputs {
                project: &project,
                compiled: &compiled,
                go: go.as_ref(),
                base: base.as_ref(),
                digest: image.oci.manifest_digest.to_string(),
                created: image::rfc3339(meta.created),
                revision: meta.revision.clone(),
                source: meta.source.clone(),
                cache_dir: Some(cache.root().to_path_buf()),
            })?;
            let w = crate::sbom::write(&s, d, sbom_format)?;
            drop(step);
            w
        }
        None => Vec::new(),
    };
    drop(compiled._stage);
    let t_layers = t0.elapsed();

    let t0 = Instant::now();
    let mut outputs = Vec::new();
    let mut pushed = Vec::new();
    // A registry base's repository may already hold its layers: a push there mounts them.
    let sources: Vec<drydock_oci::Reference> = base
        .as_ref()
        .and_then(|b| drydock_oci::Reference::parse(&b.name).ok())
        .into_iter()
        .collect();
    for p in &opts.outputs {
        let step = ui.step(&format!("writing {}", p.destination()));
        let req = PublishRequest {
            store: &cache,
            image: &image.oci,
            tag: &project.tag,
            created: meta.created,
            sources: &sources,
        };
        let published = p.publish(&req)?;
        outputs.push(published.destination);
        pushed.extend(published.push);
        drop(step);
    }
    let t_publish = t0.elapsed();

    let report = BuildReport {
        reference: project.tag.tagged(),
        digest: image.oci.manifest_digest.to_string(),
        config_digest: image.oci.config_digest.to_string(),
        compressed_size: image.oci.compressed_size(),
        created: image::rfc3339(meta.created),
        language: project.language,
        gin: project.gin,
        layers: image.layers.clone(),
        helper_size: project.helper.then_some(HELPER.len() as u64),
        binary: BinaryReport {
            go: go.clone(),
            path: compiled.binary.clone(),
            tool: compiled.tool.clone(),
            command: compiled.command.clone(),
            cached: compiled.cached,
            linkage: compiled.info.kind.as_str(),
            size: compiled.info.size,
        },
        outputs,
        sbom,
        pushed,
        base: base.as_ref().map(|b| BaseReport {
            name: b.name.clone(),
            digest: b.digest.to_string(),
            how: b.how.clone(),
        }),
        times: StageTimes {
            context_ms: t_context.as_millis(),
            compile_ms: t_compile.as_millis(),
            layers_ms: t_layers.as_millis(),
            publish_ms: t_publish.as_millis(),
            total_ms: started.elapsed().as_millis(),
        },
        assumptions: project.assumptions.clone(),
        warnings,
    };
    Ok(Built {
        report,
        image,
        project,
    })
}

/// Version-control facts for labels and the creation time.
struct SourceMeta {
    created: u64,
    revision: Option<String>,
    source: Option<String>,
}

/// The latest time an image's `created` (RFC 3339, four-digit years) can hold.
pub const MAX_SOURCE_DATE_EPOCH: u64 = 253_402_300_799;

/// SOURCE_DATE_EPOCH as the reproducible-builds spec defines it: a non-negative decimal number
/// of seconds; drydock also needs it to fit a four-digit year. The error says what is wrong.
pub fn parse_source_date_epoch(v: &str) -> Result<u64, &'static str> {
    let bad = |problem| problem;
    let t = v.trim();
    if t.starts_with('-') && t.len() > 1 && t[1..].bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("is negative: a time before 1970"));
    }
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("is not a whole number of seconds"));
    }
    match t.parse::<u64>() {
        Ok(n) if n <= MAX_SOURCE_DATE_EPOCH => Ok(n),
        _ => Err(bad(
            "is after the year 9999, which an image's creation time cannot hold",
        )),
    }
}

impl SourceMeta {
    fn read(dir: &Path) -> Result<SourceMeta, BuildError> {
        let git = |args: &[&str]| -> Option<String> {
            let out = Command::new("git")
                .arg("-C")
                .arg(dir)
                .args(args)
                .output()
                .ok()?;
            out.status
                .success()
                .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
                .filter(|s| !s.is_empty())
        };
        let in_repo = git(&["rev-parse", "--is-inside-work-tree"]).as_deref() == Some("true");
        let revision = if in_repo {
            git(&["rev-parse", "HEAD"])
        } else {
            None
        };
        let source = if in_repo {
            git(&["remote", "get-url", "origin"]).map(|u| strip_credentials(&u))
        } else {
            None
        };
        let created = match std::env::var("SOURCE_DATE_EPOCH") {
            Ok(v) if !v.trim().is_empty() => {
                parse_source_date_epoch(&v).map_err(|problem| BuildError::SourceDateEpoch {
                    value: v.clone(),
                    problem,
                })?
            }
            _ => revision
                .as_ref()
                .and_then(|_| git(&["log", "-1", "--format=%ct"]))
                .and_then(|s| s.parse().ok())
                .unwrap_or(0),
        };
        Ok(SourceMeta {
            created,
            revision,
            source,
        })
    }
}

fn strip_credentials(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s => format!("{}{}", &url[..s + 3], &url[at + 1..]),
        _ => url.to_string(),
    }
}

fn build_layers(
    project: &Project,
    ctx: &BuildContext,
    compiled: &Compiled,
    mtime: u64,
    cache: &Cache,
    base: Option<&Base>,
) -> Result<Vec<BuiltLayer>, BuildError> {
    let mut specs = vec![rootfs::root_files_layer(mtime, base.map(|b| &b.files))];
    if project.helper {
        specs.push(helper_layer(mtime));
    }
    if !project.assets.is_empty() {
        let mut l = LayerSpec::new("assets", mtime);
        for a in &project.assets {
            for (path, e) in crate::project::asset_paths(a, ctx) {
                let full = ctx.root.join(&e.path);
                l.push(match &e.kind {
                    EntryKind::Dir => Entry::dir(&path, 0o755),
                    EntryKind::File { executable, .. } => Entry::file(
                        &path,
                        if *executable { 0o755 } else { 0o644 },
                        Content::Path(full),
                    ),
                    EntryKind::Symlink { target } => Entry {
                        path,
                        kind: LayerKind::Symlink(target.clone()),
                        mode: 0o777,
                        uid: 0,
                        gid: 0,
                    },
                });
            }
        }
        specs.push(l);
    }
    let mut bin = LayerSpec::new("binary", mtime);
    bin.push(Entry::dir(APP_DIR, 0o755));
    bin.push(Entry::file(
        &format!("{APP_DIR}/{}", project.name),
        0o555,
        match &compiled.digest {
            Some(d) => Content::Hashed(compiled.binary.clone(), d.clone()),
            None => Content::Path(compiled.binary.clone()),
        },
    ));
    specs.push(bin);
    specs
        .iter()
        .map(|s| s.build(cache).map_err(BuildError::from))
        .collect()
}

/// The helper runs the app as its child; for Go apps it also sets GOMAXPROCS (unless the Go
/// runtime does it itself) and GOMEMLIMIT.
fn entrypoint(project: &Project, go: Option<&GoInfo>) -> Vec<String> {
    let app = format!("/{APP_DIR}/{}", project.name);
    if !project.helper {
        return vec![app];
    }
    let mut e = vec![HELPER_PATH.to_string()];
    if let Some(g) = go {
        e.push("--go".into());
        if g.runtime_sets_maxprocs() {
            e.push("--go-runtime-maxprocs".into());
        }
    }
    e.push("--".into());
    e.push(app);
    e
}

fn healthcheck(project: &Project) -> Healthcheck {
    let h = &project.health;
    // The probe gives up a little before Docker would kill it, so it reports why.
    let probe_timeout = h
        .timeout
        .saturating_sub(std::time::Duration::from_millis(500))
        .max(std::time::Duration::from_millis(500));
    Healthcheck {
        test: vec![
            "CMD".into(),
            HELPER_PATH.into(),
            "probe".into(),
            format!("http://127.0.0.1:{}{}", project.port, h.path),
            "--timeout".into(),
            format!("{}ms", probe_timeout.as_millis()),
        ],
        interval: h.interval.as_nanos() as u64,
        timeout: h.timeout.as_nanos() as u64,
        start_period: h.start_period.as_nanos() as u64,
        retries: h.retries,
    }
}

fn image_settings(project: &Project, meta: &SourceMeta, go: Option<&GoInfo>) -> ImageSettings {
    let mut labels = BTreeMap::new();
    labels.insert(
        "org.opencontainers.image.title".to_string(),
        project.name.clone(),
    );
    labels.insert(
        "org.opencontainers.image.created".to_string(),
        image::rfc3339(meta.created),
    );
    if let Some(r) = &meta.revision {
        labels.insert("org.opencontainers.image.revision".to_string(), r.clone());
    }
    if let Some(s) = &meta.source {
        labels.insert("org.opencontainers.image.source".to_string(), s.clone());
    }
    if let Some(v) = project.tag.tag().filter(|t| *t != "latest") {
        labels.insert(
            "org.opencontainers.image.version".to_string(),
            v.to_string(),
        );
    }
    labels.extend(project.labels.clone());
    let mut env = vec![format!("PATH=/{APP_DIR}:/usr/local/bin:/usr/bin:/bin")];
    if project.gin && !project.env.contains_key("GIN_MODE") {
        env.push("GIN_MODE=release".into());
    }
    env.extend(project.env.iter().map(|(k, v)| format!("{k}={v}")));
    ImageSettings {
        created: meta.created,
        user: format!("{}:{}", project.user.0, project.user.1),
        port: project.port,
        env,
        entrypoint: entrypoint(project, go),
        healthcheck: project.helper.then(|| healthcheck(project)),
        workdir: format!("/{APP_DIR}"),
        annotations: labels
            .iter()
            .filter(|(k, _)| k.starts_with("org.opencontainers.image."))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        labels,
    }
}
