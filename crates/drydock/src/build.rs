//! `drydock build`: context → compile → assemble → publish, timed, with a report.

use std::path::PathBuf;
use std::time::Instant;

use serde::Serialize;

use crate::base::BaseSpec;
use crate::cache::Cache;
use crate::compile::goinfo::GoInfo;
use crate::compile::{self, Compiled};
use crate::config::Language;
use crate::context;
use crate::image::helper::HELPER;
use crate::image::layer::{BuiltLayer, Content};
use crate::image::{self, app, Image};
use crate::project::{Overrides, Project, ProjectError};
use crate::publish::{PublishRequest, Publisher};
use crate::source::{BadSourceDateEpoch, SourceMeta};
use crate::ui::Ui;
use drydock_oci::Platform;

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Context(#[from] context::ContextError),
    #[error(transparent)]
    Project(ProjectError),
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
    #[error(transparent)]
    Sign(#[from] crate::sign::SignError),
}

/// A project's drydock.toml and context errors stay what they are when a build meets them.
impl From<ProjectError> for BuildError {
    fn from(e: ProjectError) -> BuildError {
        match e {
            ProjectError::Config(e) => BuildError::Config(e),
            ProjectError::Context(e) => BuildError::Context(e),
            e => BuildError::Project(e),
        }
    }
}

impl From<BadSourceDateEpoch> for BuildError {
    fn from(e: BadSourceDateEpoch) -> BuildError {
        BuildError::SourceDateEpoch {
            value: e.value,
            problem: e.problem,
        }
    }
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
            BuildError::Sign(e) => return e.fix(),
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
    /// `--sbom-dir`: where the SBOM files go.
    pub sbom_dir: Option<PathBuf>,
    /// `--sign KEY`: the key that signs each pushed image and the attestations.
    pub sign: Option<p256::ecdsa::SigningKey>,
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
    /// What each output was, beside its name in `outputs`.
    #[serde(skip)]
    pub written: Vec<drydock_oci::Written>,
    /// The base image, when it is not scratch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<BaseReport>,
    /// The SBOM files written (`--sbom-dir`).
    pub sbom: Vec<crate::sbom::Written>,
    /// The SBOMs and attestations stored beside the image (OCI layouts, registries).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attached: Vec<drydock_oci::attach::Attached>,
    /// The signatures made of pushed images (`--sign`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub signed: Vec<crate::sign::remote::Signed>,
    /// What each push sent, with the digest reference it produced.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pushed: Vec<drydock_oci::push::PushReport>,
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

pub fn build(opts: BuildOptions, ui: &Ui) -> Result<Built, BuildError> {
    let started = Instant::now();
    let dir = &opts.dir;
    let (project, ctx) = crate::project::load(dir, &opts.overrides)?;
    for p in &opts.outputs {
        p.check_for(&project.image.tag)?;
    }
    let sbom_format = opts.sbom.or(project.image.sbom).unwrap_or_default();
    let sbom_dir = opts
        .sbom_dir
        .as_ref()
        .filter(|_| sbom_format != crate::sbom::SbomFormat::None);
    // Attestations go beside the image when an SBOM format was asked for (`--sbom`, `[image]
    // sbom`) or a key signs; a plain build writes the image alone, as it always did.
    let asked = opts.sbom.or(project.image.sbom);
    let attest = opts.sign.is_some() || asked.is_some();
    // `--sign` alone attaches the signed provenance; SBOMs go only where one was asked for.
    let attached_sboms = if asked.is_some() || sbom_dir.is_some() {
        sbom_format
    } else {
        crate::sbom::SbomFormat::None
    };
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
        let spec = BaseSpec::parse(&project.image.base, &project.root)?;
        let step = ui.step(&format!("resolving the base {}", project.image.base));
        let b = crate::base::resolve(
            &spec,
            &project.image.base,
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
    let compiled = compile::compile(&compile::Job {
        project: &project,
        ctx: &ctx,
        cache: &cache,
        ui,
        linking,
        use_cache: !opts.no_cache,
    })?;
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
    if !project.image.helper {
        warnings.push("no helper in the image (helper = false): no init reaping zombies, no GOMAXPROCS/GOMEMLIMIT from the limits, and no HEALTHCHECK, since scratch has nothing to probe with".into());
        ui.warn(warnings.last().map(String::as_str).unwrap_or_default());
    }
    let step = ui.step("assembling layers");
    let files = app::Files {
        name: &project.name,
        helper: project.image.helper,
        assets: project.asset_entries(&ctx),
        context_root: &ctx.root,
        binary: binary_content(&compiled),
    };
    let layers = app::layer_specs(files, meta.created, base.as_ref().map(|b| &b.files))
        .iter()
        .map(|s| s.build(&cache))
        .collect::<Result<Vec<_>, _>>()?;
    drop(step);
    let settings = app::settings(&app::Settings {
        name: &project.name,
        port: project.port,
        tag: &project.image.tag,
        user: project.image.user,
        env: &project.image.env,
        labels: &project.image.labels,
        gin: project.build.gin,
        helper: project.image.helper.then_some(&project.image.health),
        go: go.as_ref().map(|g| app::GoRuntime {
            sets_maxprocs: g.runtime_sets_maxprocs(),
        }),
        source: &meta,
    });
    let image = image::assemble(&cache, &settings, layers, base.as_ref())?;
    for r in cache.repairs() {
        ui.warn(&r);
        warnings.push(r);
    }
    // The SBOM asks the staged GOPATH build's `go list`, so it comes before the stage goes.
    let collected = if sbom_dir.is_some() || attest {
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
        drop(step);
        Some(s)
    } else {
        None
    };
    let sbom = match (sbom_dir, &collected) {
        (Some(d), Some(s)) => crate::sbom::write(s, d, sbom_format)?,
        _ => Vec::new(),
    };
    let artifacts = match (&collected, attest) {
        (Some(s), true) => crate::attest::artifacts(
            s,
            attached_sboms,
            &crate::provenance::Parameters::of(&project, attached_sboms),
            opts.sign.as_ref(),
        ),
        _ => Vec::new(),
    };
    drop(compiled._stage);
    let t_layers = t0.elapsed();

    let t0 = Instant::now();
    let mut outputs = Vec::new();
    let mut pushed = Vec::new();
    let mut written = Vec::new();
    let mut attached = Vec::new();
    let mut signed = Vec::new();
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
            tag: &project.image.tag,
            created: meta.created,
            sources: &sources,
        };
        let published = p.publish(&req)?;
        if !artifacts.is_empty() {
            let (a, g) = attach(
                p.as_ref(),
                &published,
                &image.oci,
                &cache,
                &artifacts,
                &opts.registry,
                opts.sign.as_ref(),
            )?;
            attached.extend(a);
            signed.extend(g);
        }
        pushed.extend(published.pushed().cloned());
        written.push(published.written);
        outputs.push(published.destination);
        drop(step);
    }
    if opts.sign.is_some() && signed.is_empty() && attached.is_empty() {
        warnings.push("--sign signed nothing: it signs images pushed to a registry (--push) and the attestations stored in OCI layouts and registries; this build wrote to neither".into());
        ui.warn(warnings.last().map(String::as_str).unwrap_or_default());
    }
    let t_publish = t0.elapsed();

    let report = BuildReport {
        reference: project.image.tag.tagged(),
        digest: image.oci.manifest_digest.to_string(),
        config_digest: image.oci.config_digest.to_string(),
        compressed_size: image.oci.compressed_size(),
        created: image::rfc3339(meta.created),
        language: project.build.language,
        gin: project.build.gin,
        layers: image.layers.clone(),
        helper_size: project.image.helper.then_some(HELPER.len() as u64),
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
        written,
        sbom,
        attached,
        signed,
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

/// Stores the attestations beside the image `published` names: through the publisher (a
/// layout's index, the registry's referrers), and on a registry also at cosign's tags, with
/// the image signed when a key was given.
fn attach(
    p: &dyn Publisher,
    published: &drydock_oci::Published,
    image: &drydock_oci::Image,
    cache: &Cache,
    artifacts: &[drydock_oci::attach::Artifact],
    options: &drydock_oci::registry::Options,
    key: Option<&p256::ecdsa::SigningKey>,
) -> Result<
    (
        Vec<drydock_oci::attach::Attached>,
        Option<crate::sign::remote::Signed>,
    ),
    BuildError,
> {
    let subject = drydock_oci::attach::Subject::of(image);
    let registry = match &published.written {
        drydock_oci::Written::Registry(_) => Some(&published.reference),
        _ => None,
    };
    // cosign's tags and the signature: each writes its own tag and its own config blob (the
    // documents are the referrers', uploaded by then), so they go at once.
    let cosign = |r: &drydock_oci::Reference| -> Result<_, crate::sign::SignError> {
        let client = drydock_oci::registry::Client::connect(r.registry(), options.clone())?;
        std::thread::scope(|s| {
            let signing = key.map(|key| {
                s.spawn(|| {
                    crate::sign::remote::sign(&client, r.repository(), &published.digest, key)
                })
            });
            let tags = crate::attest::push_cosign_tags(
                &client,
                r.repository(),
                &published.digest,
                artifacts,
            );
            let signed = match signing {
                Some(h) => Some(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))?),
                None => None,
            };
            Ok((tags?, signed))
        })
    };
    // The referrers first: cosign's tags name the same blobs, and two uploads of one blob at
    // once can make distribution 2.8 refuse a manifest (see `push::push_artifacts`).
    let mut attached = p.attach(published, &subject, cache, artifacts)?;
    let mut signed = None;
    if let Some(r) = registry {
        let (tags, g) = cosign(r)?;
        attached.extend(tags);
        signed = g;
    }
    Ok((attached, signed))
}

/// The compiled binary as layer content: a verified cache blob is not hashed again.
fn binary_content(compiled: &Compiled) -> Content {
    match &compiled.digest {
        Some(d) => Content::Hashed(compiled.binary.clone(), d.clone()),
        None => Content::Path(compiled.binary.clone()),
    }
}
