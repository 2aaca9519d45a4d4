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
    #[error(transparent)]
    Helper(#[from] crate::image::helper::HelperUnavailable),
    /// The platforms asked for cannot be built as asked.
    #[error("{0}")]
    Platforms(String),
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
            BuildError::Helper(e) => return e.fix(),
            BuildError::Platforms(_) => "build for linux/amd64, linux/arm64 or both (--platform linux/amd64,linux/arm64), and leave out what the message names".into(),
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
    /// `--platform` (over `[image] platforms`, else linux/amd64 alone).
    pub platforms: Option<crate::platforms::PlatformSpec>,
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
    /// The image's digest, or the index's when the build made several platforms.
    pub digest: String,
    /// The platform the fields below describe (`config_digest`, `layers`, `binary`, `base`):
    /// the only one, or the machine's own in a multi-platform build.
    pub platform: String,
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
    /// One entry per platform built, in the index's order (one for a single-platform build,
    /// whose `digest` is then the image's; with several, `digest` above is the index's).
    pub platforms: Vec<PlatformReport>,
    /// The index's media type, for a multi-platform build.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index_media_type: Option<&'static str>,
    pub times: StageTimes,
    pub assumptions: Vec<String>,
    pub warnings: Vec<String>,
}

/// One platform's image in a build.
#[derive(Debug, Serialize)]
pub struct PlatformReport {
    pub platform: String,
    pub digest: String,
    pub compressed_size: u64,
    pub binary: BinaryReport,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<BaseReport>,
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
    /// The image of the machine's own platform (what an engine here runs), or of the first
    /// platform when the build has no image for it.
    pub image: Image,
    pub project: Project,
    /// Every platform's image, when the build made several (the image above is one of them).
    pub index: Option<drydock_oci::ImageIndex>,
}

/// One platform's part of a build: its base, its binary and its image.
struct PlatformBuild {
    platform: Platform,
    base: Option<crate::base::Base>,
    compiled: Compiled,
    image: Image,
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
    let spec = BaseSpec::parse(&project.image.base, &project.root)?;
    let platforms = match opts.platforms.as_ref().or(project.image.platforms.as_ref()) {
        None => crate::platforms::PlatformSpec::default_list(),
        Some(crate::platforms::PlatformSpec::List(l)) => l.clone(),
        Some(crate::platforms::PlatformSpec::All) => {
            let step = ui.step(&format!("listing the platforms of {}", project.image.base));
            let all = crate::base::platforms(&spec, &project.image.base, &cache, &opts.registry)?;
            drop(step);
            let (ours, others): (Vec<_>, Vec<_>) =
                all.into_iter().partition(crate::platforms::supported);
            if !others.is_empty() {
                warnings.push(format!(
                    "`all` leaves out {} of the base: drydock builds for {} only",
                    others
                        .iter()
                        .map(|p| p.to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                    crate::platforms::SUPPORTED.join(" and ")
                ));
                ui.warn(warnings.last().map(String::as_str).unwrap_or_default());
            }
            if ours.is_empty() {
                return Err(BuildError::Platforms(format!(
                    "the base {} has no platform drydock builds for ({})",
                    project.image.base,
                    crate::platforms::SUPPORTED.join(", ")
                )));
            }
            ours
        }
    };
    // drydock compiles for linux/amd64 and linux/arm64 only (helper or not): anything else is
    // refused before a base is read or a compiler runs.
    if let Some(p) = platforms.iter().find(|p| !crate::platforms::supported(p)) {
        return Err(BuildError::Platforms(format!(
            "drydock does not build for {p}: it builds for {}",
            crate::platforms::SUPPORTED.join(" and ")
        )));
    }
    let several = platforms.len() > 1;
    if several && project.build.binary.is_some() {
        return Err(BuildError::Platforms(
            "a prebuilt binary (--binary) is for one platform, and this build is for several"
                .into(),
        ));
    }
    // Each platform's SBOM file: NAME.spdx.json alone, NAME-linux-arm64.spdx.json with several.
    let sbom_stem = |p: &Platform| {
        if several {
            format!("{}-{}", project.name, p.to_string().replace('/', "-"))
        } else {
            project.name.clone()
        }
    };
    if let Some(d) = sbom_dir {
        for p in &platforms {
            crate::sbom::check(d, &sbom_stem(p), sbom_format)?;
        }
    }
    // Each platform's base, in turn: drydock.lock is read and written by each resolve.
    let mut bases = Vec::new();
    for platform in &platforms {
        let what = if several {
            format!("resolving the base {} for {platform}", project.image.base)
        } else {
            format!("resolving the base {}", project.image.base)
        };
        let step = ui.step(&what);
        let b = crate::base::resolve(
            &spec,
            &project.image.base,
            platform,
            &cache,
            &project.root,
            opts.refresh_base,
            &opts.registry,
        )?;
        drop(step);
        bases.push(b);
    }
    // Each platform's helper, before any compile: a platform without one is refused.
    if project.image.helper {
        for platform in &platforms {
            crate::image::helper::for_platform(platform)?;
        }
    }
    let t0 = Instant::now();
    // The compiles, side by side: each platform has its own stage and cache entry.
    let compile_one = |platform: &Platform, base: &Option<crate::base::Base>| {
        let linking = if base.is_some() {
            compile::Linking::DynamicAllowed
        } else {
            compile::Linking::StaticOnly
        };
        compile::compile(&compile::Job {
            project: &project,
            ctx: &ctx,
            cache: &cache,
            ui,
            linking,
            use_cache: !opts.no_cache,
            platform,
        })
    };
    let compiled: Vec<Compiled> = if several {
        std::thread::scope(|s| {
            let handles: Vec<_> = platforms
                .iter()
                .zip(&bases)
                .map(|(p, b)| s.spawn(move || compile_one(p, b)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect::<Result<Vec<_>, _>>()
        })?
    } else {
        vec![compile_one(&platforms[0], &bases[0])?]
    };
    for (c, b) in compiled.iter().zip(&bases) {
        if let (Some(b), compile::Linkage::Dynamic) = (b, c.info.kind) {
            let missing =
                b.files
                    .missing(c.info.interp.as_deref(), &c.info.needed, &c.info.runpath);
            if !missing.is_empty() {
                return Err(crate::base::BaseError::Libraries {
                    binary: project.name.clone(),
                    base: b.name.clone(),
                    missing,
                }
                .into());
            }
        }
    }
    let t_compile = t0.elapsed();

    let t0 = Instant::now();
    let meta = SourceMeta::read(dir)?;
    if !project.image.helper {
        warnings.push("no helper in the image (helper = false): no init reaping zombies, no GOMAXPROCS/GOMEMLIMIT from the limits, and no HEALTHCHECK, since scratch has nothing to probe with".into());
        ui.warn(warnings.last().map(String::as_str).unwrap_or_default());
    }
    let step = ui.step("assembling layers");
    let mut builds = Vec::new();
    for ((platform, base), compiled) in platforms.into_iter().zip(bases).zip(compiled) {
        let image = assemble(
            &project,
            &ctx,
            &cache,
            &meta,
            &platform,
            base.as_ref(),
            &compiled,
        )?;
        builds.push(PlatformBuild {
            platform,
            base,
            compiled,
            image,
        });
    }
    drop(step);
    let index = if several {
        Some(drydock_oci::ImageIndex::build(
            &cache,
            builds
                .iter()
                .map(|b| (b.platform.clone(), b.image.oci.clone()))
                .collect(),
        )?)
    } else {
        None
    };
    // The machine's own platform's image is what an engine here loads and runs.
    let host = crate::platforms::host();
    let primary = builds
        .iter()
        .position(|b| crate::platforms::same(&b.platform, &host))
        .unwrap_or(0);
    let PlatformBuild {
        platform,
        base,
        compiled,
        image,
    } = &builds[primary];
    for r in cache.repairs() {
        ui.warn(&r);
        warnings.push(r);
    }
    // The SBOM asks the staged GOPATH build's `go list`, so it comes before the stage goes.
    // One per platform; in a multi-platform build the attestations hang on the index, each
    // statement naming its platform's image and the index.
    let mut sbom = Vec::new();
    let mut artifacts = Vec::new();
    if sbom_dir.is_some() || attest {
        let step = ui.step("writing the SBOM");
        for b in &builds {
            let s = crate::sbom::collect(&crate::sbom::collect::Inputs {
                project: &project,
                compiled: &b.compiled,
                go: b.compiled.info.go.as_ref(),
                base: b.base.as_ref(),
                digest: b.image.oci.manifest_digest.to_string(),
                created: image::rfc3339(meta.created),
                revision: meta.revision.clone(),
                source: meta.source.clone(),
                cache_dir: Some(cache.root().to_path_buf()),
            })?;
            if let Some(d) = sbom_dir {
                sbom.extend(crate::sbom::write(
                    &s,
                    d,
                    &sbom_stem(&b.platform),
                    sbom_format,
                )?);
            }
            if attest {
                artifacts.extend(crate::attest::artifacts(
                    &s,
                    attached_sboms,
                    &crate::provenance::Parameters::of(&project, &b.platform, attached_sboms),
                    opts.sign.as_ref(),
                    index.as_ref().map(|i| &i.digest),
                ));
            }
        }
        drop(step);
    }
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
            index: index.as_ref(),
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
                match &index {
                    Some(i) => drydock_oci::attach::Subject {
                        media_type: i.media_type.to_string(),
                        digest: i.digest.clone(),
                        size: i.size(),
                    },
                    None => drydock_oci::attach::Subject::of(&image.oci),
                },
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

    let platform_reports: Vec<PlatformReport> = builds
        .iter()
        .map(|b| PlatformReport {
            platform: b.platform.to_string(),
            digest: b.image.oci.manifest_digest.to_string(),
            compressed_size: b.image.oci.compressed_size(),
            binary: binary_report(&b.compiled),
            base: b.base.as_ref().map(base_report),
        })
        .collect();
    let report = BuildReport {
        reference: project.image.tag.tagged(),
        digest: match &index {
            Some(i) => i.digest.to_string(),
            None => image.oci.manifest_digest.to_string(),
        },
        platform: platform.to_string(),
        config_digest: image.oci.config_digest.to_string(),
        compressed_size: image.oci.compressed_size(),
        created: image::rfc3339(meta.created),
        language: project.build.language,
        gin: project.build.gin,
        layers: image.layers.clone(),
        // The helper of the platform the report describes (an arm64 build has the arm64 one).
        helper_size: project
            .image
            .helper
            .then(|| crate::image::helper::for_platform(platform).map(|h| h.len() as u64))
            .and_then(Result::ok),
        binary: binary_report(compiled),
        outputs,
        written,
        sbom,
        attached,
        signed,
        pushed,
        base: base.as_ref().map(base_report),
        platforms: platform_reports,
        index_media_type: index.as_ref().map(|i| i.media_type),
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
    let image = builds.swap_remove(primary).image;
    Ok(Built {
        report,
        image,
        project,
        index,
    })
}

fn binary_report(c: &Compiled) -> BinaryReport {
    BinaryReport {
        go: c.info.go.clone(),
        path: c.binary.clone(),
        tool: c.tool.clone(),
        command: c.command.clone(),
        cached: c.cached,
        linkage: c.info.kind.as_str(),
        size: c.info.size,
    }
}

fn base_report(b: &crate::base::Base) -> BaseReport {
    BaseReport {
        name: b.name.clone(),
        digest: b.digest.to_string(),
        how: b.how.clone(),
    }
}

/// One platform's image: drydock's layers (that platform's helper and binary) on that
/// platform's base, with the runtime config.
fn assemble(
    project: &Project,
    ctx: &crate::context::BuildContext,
    cache: &Cache,
    meta: &SourceMeta,
    platform: &Platform,
    base: Option<&crate::base::Base>,
    compiled: &Compiled,
) -> Result<Image, BuildError> {
    let files = app::Files {
        name: &project.name,
        helper: project.image.helper,
        assets: project.asset_entries(ctx),
        context_root: &ctx.root,
        binary: binary_content(compiled),
    };
    let layers = app::layer_specs(files, meta.created, base.map(|b| &b.files), platform)?
        .iter()
        .map(|s| s.build(cache))
        .collect::<Result<Vec<_>, _>>()?;
    let settings = app::settings(&app::Settings {
        name: &project.name,
        port: project.port,
        tag: &project.image.tag,
        user: project.image.user,
        env: &project.image.env,
        labels: &project.image.labels,
        gin: project.build.gin,
        helper: project.image.helper.then_some(&project.image.health),
        go: compiled.info.go.as_ref().map(|g| app::GoRuntime {
            sets_maxprocs: g.runtime_sets_maxprocs(),
        }),
        source: meta,
    });
    Ok(image::assemble(cache, &settings, layers, base, platform)?)
}

/// Stores the attestations beside the image `published` names: through the publisher (a
/// layout's index, the registry's referrers), and on a registry also at cosign's tags, with
/// the image signed when a key was given.
fn attach(
    p: &dyn Publisher,
    published: &drydock_oci::Published,
    subject: drydock_oci::attach::Subject,
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
