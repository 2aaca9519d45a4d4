//! A project as drydock will build it: drydock.toml, command-line overrides and what can be
//! detected from the sources, merged into one resolved description. Every value that was
//! detected rather than configured is recorded as an assumption, so the report can say so.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::{self, Asset, Config, ConfigError, Language};
use crate::context::{self, BuildContext, ContextEntry, EntryKind};
use crate::detect;
pub use crate::image::app::Health;
use crate::image::app::APP_DIR;

#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Context(#[from] context::ContextError),
    #[error("{dir}: no Go or Rust project found (no go.mod, *.go files or Cargo.toml)")]
    NotFound { dir: PathBuf },
    #[error(
        "{dir}: several Go main packages ({found}); drydock cannot tell which one is the service"
    )]
    AmbiguousGoMain { dir: PathBuf, found: String },
    #[error("{path}: {message}")]
    Manifest {
        path: PathBuf,
        message: String,
        fix: String,
    },
    /// A project value that cannot be used: which one, what is wrong, what to do.
    #[error("{what} {problem}")]
    Invalid {
        what: String,
        problem: String,
        fix: String,
    },
    #[error("{dir}: {why}")]
    NoDir { dir: PathBuf, why: String },
    #[error("{dir} has both Go sources (go.mod, or a `package main` in GOPATH mode) and Cargo.toml; drydock cannot tell whether to build the Go or the Rust service")]
    TwoLanguages { dir: PathBuf },
    #[error("--binary {path}: {why}")]
    Binary {
        path: PathBuf,
        why: String,
        fix: &'static str,
    },
    #[error(transparent)]
    Reference(#[from] crate::reference::ReferenceError),
    /// Which of drydock.toml's `[[images]]` a command is about: none named among several, or
    /// a name none has.
    #[error("{message}")]
    Image { message: String, fix: String },
}

impl ProjectError {
    /// What to do about it, shown after the message (see [`crate::error::Classify::fix`]).
    pub fn fix(&self) -> Option<String> {
        Some(match self {
            ProjectError::NotFound { .. } => "run drydock in the service's directory, or pass --binary PATH to package a prebuilt binary".into(),
            ProjectError::AmbiguousGoMain { .. } => "set `main` under [build] in drydock.toml, e.g. main = \"./cmd/api\"".into(),
            ProjectError::Manifest { fix, .. } => fix.to_string(),
            ProjectError::Invalid { fix, .. } => fix.to_string(),
            ProjectError::NoDir { .. } => "pass the directory of a Go or Rust service (default: the current directory)".into(),
            ProjectError::TwoLanguages { .. } => "pass --language go (or rust), or set `language = \"go\"` or `language = \"rust\"` under [build] in drydock.toml".into(),
            ProjectError::Binary { fix, .. } => fix.to_string(),
            ProjectError::Image { fix, .. } => fix.clone(),
            ProjectError::Config(e) => return e.fix(),
            ProjectError::Context(e) => return e.fix(),
            ProjectError::Reference(e) => return e.fix(),
        })
    }
}

/// Command-line values that take precedence over drydock.toml.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub name: Option<String>,
    pub port: Option<u16>,
    pub main: Option<String>,
    /// The language (overrides `[build] language` and detection).
    pub language: Option<Language>,
    pub binary: Option<PathBuf>,
    pub tag: Option<String>,
    pub user: Option<String>,
    pub no_helper: bool,
    /// The base image (overrides `[image] base`).
    pub base: Option<String>,
    /// Which `[[images]]` entry of drydock.toml to resolve (`--image`); needed when there
    /// are several.
    pub image: Option<String>,
}

/// A project resolved: drydock.toml over detection, the command line over both. The settings
/// are grouped by who reads them: the compile, the image, the running container, the deploy
/// files.
#[derive(Debug, Clone)]
pub struct Project {
    pub root: PathBuf,
    /// The drydock.toml read, when there is one.
    pub config_path: Option<PathBuf>,
    /// Image and binary name.
    pub name: String,
    /// The service port.
    pub port: u16,
    pub build: BuildSpec,
    pub image: ImageSpec,
    pub runtime: RuntimeSpec,
    pub deploy: DeploySpec,
    /// What was detected or assumed rather than configured, for the report.
    pub assumptions: Vec<String>,
}

/// What the compile needs.
#[derive(Debug, Clone)]
pub struct BuildSpec {
    pub language: Language,
    /// Go main package (`.`, `./cmd/api`) or Rust binary target.
    pub main: String,
    /// Go module path from go.mod, when there is one.
    pub go_module: Option<String>,
    /// Rust: the package and the workspace it builds in.
    pub cargo: Option<CargoTarget>,
    /// A Go service that imports Gin.
    pub gin: bool,
    /// A prebuilt binary to package instead of compiling.
    pub binary: Option<PathBuf>,
    /// `[build] env`: extra environment for the compiler.
    pub env: BTreeMap<String, String>,
    /// The name of the build stage in drydock's cache (the staged context and, for Rust, its
    /// target directory): the image's name, or for the images of an `[[images]]` repository
    /// one stage they share, so that Cargo compiles their dependencies once.
    pub stage: String,
}

/// What goes into the image and its config.
#[derive(Debug, Clone)]
pub struct ImageSpec {
    pub tag: crate::reference::Reference,
    /// Numeric uid and gid.
    pub user: (u32, u32),
    /// `scratch`, or where the base image is.
    pub base: String,
    pub env: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    pub assets: Vec<Asset>,
    /// Whether drydock-helper goes into the image.
    pub helper: bool,
    /// `[image] sbom`: which SBOM `drydock build --sbom-dir` writes unless `--sbom` says.
    pub sbom: Option<crate::config::SbomFormat>,
    /// `[image] platforms`, unless `--platform` says.
    pub platforms: Option<crate::platforms::PlatformSpec>,
    pub health: Health,
}

/// What the running container is given.
#[derive(Debug, Clone)]
pub struct RuntimeSpec {
    pub resources: Resources,
    /// How long the app may take to stop after SIGTERM.
    pub shutdown_grace: Duration,
}

/// What only the deploy files say.
#[derive(Debug, Clone)]
pub struct DeploySpec {
    pub scaling: Scaling,
    pub ingress: crate::config::IngressSection,
    pub secrets: Vec<crate::config::SecretRef>,
    /// The Compose project's name, for an image of several: each bundle sits in its own
    /// `deploy/NAME/compose/`, and without a name every one of them would be the project
    /// `compose`, each `docker compose up` replacing the other's containers. `None` for one
    /// image (the directory's name, as before).
    pub compose_project: Option<String>,
}

#[derive(Debug, Clone, Copy)]
pub struct Scaling {
    pub min_replicas: u32,
    pub max_replicas: u32,
    pub cpu_target: u32,
}

/// Requests and limits, with drydock's defaults for what drydock.toml leaves out.
#[derive(Debug, Clone, Copy)]
pub struct Resources {
    pub cpu_request_milli: u64,
    pub cpu_limit_milli: u64,
    pub memory_request: u64,
    pub memory_limit: u64,
}

impl Resources {
    /// drydock.toml's requests and limits; what it leaves out is 1 CPU and 256 MiB as limits,
    /// a quarter CPU and 128 MiB (or the limit, when lower) as requests.
    fn from_config(r: &crate::config::ResourcesSection) -> Resources {
        let cpu_limit = r.cpu_limit_milli.unwrap_or(1000);
        let memory_limit = r.memory_limit.unwrap_or(256 << 20);
        Resources {
            cpu_request_milli: r.cpu_request_milli.unwrap_or(cpu_limit.min(250)),
            cpu_limit_milli: cpu_limit,
            memory_request: r.memory_request.unwrap_or(memory_limit.min(128 << 20)),
            memory_limit,
        }
    }
}

/// drydock.toml's health check; paths it leaves out come from the sources (with what was
/// detected or assumed recorded in `assumptions`).
fn resolve_health(
    h: &crate::config::HealthSection,
    sources: &[detect::Source],
    assumptions: &mut Vec<String>,
) -> Health {
    let path = match &h.path {
        Some(p) => p.clone(),
        None => {
            let f = detect::health_path(sources);
            assumptions.push(f.how);
            f.value
        }
    };
    let ready_path = match &h.ready_path {
        Some(p) => p.clone(),
        None => {
            let f = detect::ready_path(sources, &path);
            assumptions.push(f.how);
            f.value
        }
    };
    Health {
        ready_path,
        path,
        interval: h.interval.unwrap_or(config::DEFAULT_HEALTH_INTERVAL),
        timeout: h.timeout.unwrap_or(config::DEFAULT_HEALTH_TIMEOUT),
        start_period: h.start_period.unwrap_or(Duration::from_secs(5)),
        retries: h.retries.unwrap_or(3),
    }
}

/// Where each entry of an asset lands in the image: the path (relative to `/`, never empty)
/// and the context entry. `dst = "/"` puts the source's contents at the image's root.
pub fn asset_paths<'a>(
    a: &'a Asset,
    ctx: &'a BuildContext,
) -> impl Iterator<Item = (String, &'a crate::context::ContextEntry)> + 'a {
    let src: String = a
        .src
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect::<Vec<_>>()
        .join("/");
    let dst = a.dst.trim_matches('/').to_string();
    let within = src.clone();
    ctx.under(".")
        .filter(move |e| {
            within.is_empty() || e.path == within || e.path.starts_with(&format!("{within}/"))
        })
        .filter_map(move |e| {
            let rel = if src.is_empty() {
                format!("/{}", e.path)
            } else {
                e.path[src.len()..].to_string()
            };
            let path = format!("{dst}{rel}").trim_start_matches('/').to_string();
            (!path.is_empty()).then_some((path, e))
        })
}

/// Files drydock writes into every image: (path, what it is).
fn reserved_files(name: &str, helper: bool) -> Vec<(String, &'static str)> {
    let mut v = vec![
        (
            "etc/passwd".to_string(),
            "the users file drydock writes (with nonroot, 65532)",
        ),
        ("etc/group".into(), "the groups file drydock writes"),
        ("etc/nsswitch.conf".into(), "drydock's nsswitch.conf"),
        (
            crate::image::rootfs::CA_BUNDLE_PATH.into(),
            "the CA bundle drydock ships (Mozilla's roots)",
        ),
        (format!("{APP_DIR}/{name}"), "the service binary"),
    ];
    if helper {
        v.push((
            crate::image::helper::HELPER_PATH
                .trim_start_matches('/')
                .into(),
            "drydock-helper, the image's entrypoint",
        ));
    }
    v
}

/// Directories drydock makes: an asset may add files under most of them, never replace one
/// with a file.
const RESERVED_DIRS: &[&str] = &[
    "etc",
    "etc/ssl",
    "etc/ssl/certs",
    "home",
    APP_DIR,
    "usr",
    "usr/local",
    "usr/local/bin",
];

/// Every asset's source is in the build context (not missing, not left out by .dockerignore).
fn check_asset_sources(
    assets: &[Asset],
    ctx: &BuildContext,
    config_path: &Path,
) -> Result<(), ProjectError> {
    for a in assets {
        let src: Vec<&str> = a
            .src
            .split('/')
            .filter(|c| !c.is_empty() && *c != ".")
            .collect();
        if !src.is_empty() && !ctx.contains(&src.join("/")) {
            return Err(ProjectError::Invalid {
                what: format!("{}: asset source {:?}", config_path.display(), a.src),
                problem: "is not in the build context".into(),
                fix: "create it, or check that .dockerignore does not exclude it".into(),
            });
        }
    }
    Ok(())
}

/// Asset destinations must not collide with drydock's own files (its users, groups,
/// nsswitch.conf, CA bundle, helper, the binary), replace its directories, write into /tmp
/// (mode 1777, a tmpfs at run time that hides whatever the image has there), replace
/// /home/nonroot itself (files under it are fine), or write one path twice.
fn check_asset_destinations(
    assets: &[Asset],
    ctx: &BuildContext,
    name: &str,
    helper: bool,
    config_path: &Path,
) -> Result<(), ProjectError> {
    let reserved = reserved_files(name, helper);
    let mut seen: BTreeMap<String, (usize, bool)> = BTreeMap::new();
    for (i, a) in assets.iter().enumerate() {
        let bad = |path: &str, why: String, fix: &str| ProjectError::Invalid {
            what: format!(
                "{}: image.assets[{i}] (src = {:?}, dst = {:?})",
                config_path.display(),
                a.src,
                a.dst
            ),
            problem: format!("would write /{path}, {why}"),
            fix: fix.to_string(),
        };
        const ELSEWHERE: &str =
            "put the asset in a directory of its own, e.g. dst = \"/app/static\" or \"/srv/data\"";
        for (path, e) in asset_paths(a, ctx) {
            let is_dir = matches!(e.kind, EntryKind::Dir);
            for (r, what) in &reserved {
                if path == *r {
                    return Err(bad(&path, format!("which is {what}"), ELSEWHERE));
                }
                if path.starts_with(&format!("{r}/")) {
                    return Err(bad(
                        &path,
                        format!("under /{r}, which is {what} (a file)"),
                        ELSEWHERE,
                    ));
                }
            }
            if RESERVED_DIRS.contains(&path.as_str()) && !is_dir {
                return Err(bad(
                    &path,
                    "replacing a directory drydock makes with a file".into(),
                    ELSEWHERE,
                ));
            }
            if path == "tmp" || path.starts_with("tmp/") {
                return Err(bad(&path, "but /tmp is drydock's world-writable (1777) directory, and a tmpfs at run time hides whatever the image holds there".into(), ELSEWHERE));
            }
            if path == "home/nonroot" {
                return Err(bad(
                    &path,
                    "replacing the nonroot user's home (mode 0700, owned by 65532)".into(),
                    "put files under it with dst = \"/home/nonroot/NAME\", or elsewhere",
                ));
            }
            if let Some((j, was_dir)) = seen.get(&path) {
                if !(is_dir && *was_dir) {
                    return Err(bad(
                        &path,
                        format!("which image.assets[{j}] writes too"),
                        "give each asset its own destination",
                    ));
                }
            }
            seen.insert(path, (i, is_dir));
        }
    }
    Ok(())
}

/// A prebuilt binary is bad input unless it is a regular file that starts as an ELF executable
/// does: a directory, a missing path or a script says so here, before anything is built.
fn check_binary(b: &Path) -> Result<(), ProjectError> {
    use std::io::Read;
    let bad = |why: String, fix: &'static str| ProjectError::Binary {
        path: b.to_path_buf(),
        why,
        fix,
    };
    const WHERE: &str = "check the path (relative paths are from the current directory; `binary` in drydock.toml is relative to the project)";
    const ELF: &str = "pass the compiled executable itself (a static Linux ELF binary), or drop --binary to let drydock compile the project";
    let m = std::fs::metadata(b).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => bad("does not exist".into(), WHERE),
        _ => bad(e.to_string(), WHERE),
    })?;
    if m.is_dir() {
        return Err(bad("is a directory, not an executable".into(), ELF));
    }
    if !m.is_file() {
        return Err(bad("is not a regular file".into(), ELF));
    }
    let mut head = [0u8; 4];
    let n = std::fs::File::open(b)
        .and_then(|mut f| f.read(&mut head))
        .map_err(|e| bad(e.to_string(), WHERE))?;
    if n < 4 || head != *b"\x7fELF" {
        let what = if head.starts_with(b"#!") {
            "is a script, not an ELF executable: an image from drydock has no shell or interpreter to run it"
        } else {
            "is not an ELF executable"
        };
        return Err(bad(what.into(), ELF));
    }
    Ok(())
}

/// What a language's project files say: the main package or binary target, and for Go the
/// module and whether it is a Gin service.
struct Entry {
    main: String,
    go_module: Option<String>,
    gin: bool,
    detected_name: Option<String>,
}

/// Go: go.mod's module (for the name), Gin from the imports, the one `package main`.
fn go_entry(
    root: &Path,
    ctx: &BuildContext,
    sources: &[detect::Source],
    main_override: Option<String>,
    prebuilt: bool,
    assumptions: &mut Vec<String>,
) -> Result<Entry, ProjectError> {
    let go_module = if ctx.contains("go.mod") {
        read_go_module(&root.join("go.mod"))?
    } else {
        None
    };
    let detected_name = go_module
        .as_deref()
        .and_then(|m| m.rsplit('/').next())
        .map(str::to_string);
    let gin = sources
        .iter()
        .any(|s| s.text.contains("\"github.com/gin-gonic/gin\""));
    let main = match main_override {
        Some(m) => m,
        None if prebuilt => ".".into(),
        None => {
            let m = detect_go_main(root, ctx)?;
            assumptions.push(format!("main package: {m} (the only `package main` found)"));
            m
        }
    };
    Ok(Entry {
        main,
        go_module,
        gin,
        detected_name,
    })
}

/// Where a Rust binary comes from: its package, and the Cargo workspace it is built in.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CargoTarget {
    /// The package (`cargo build -p`).
    pub package: String,
    /// The workspace's root directory in the user's tree: the project root itself, or a
    /// directory above it when the project is a workspace member. The compiler sees all of it
    /// (path dependencies, the workspace's Cargo.toml and Cargo.lock).
    pub workspace_root: PathBuf,
}

/// One binary target of a workspace member, from `cargo metadata`.
struct CargoBin {
    package: String,
    bin: String,
    manifest: PathBuf,
}

/// The workspace as cargo reads it (inheritance, members, targets), without resolving
/// dependencies and without the network. None when cargo cannot be run.
fn cargo_metadata(root: &Path) -> Option<Result<(PathBuf, Vec<CargoBin>), String>> {
    let out = std::process::Command::new("cargo")
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        // Relative to the directory cargo runs in: `root` joined again would not exist when
        // `root` is itself relative.
        .args(["--manifest-path", "Cargo.toml"])
        .current_dir(root)
        .stdin(std::process::Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let err = err.trim();
        return Some(Err(err.strip_prefix("error: ").unwrap_or(err).to_string()));
    }
    let v: serde_json::Value = match serde_json::from_slice(&out.stdout) {
        Ok(v) => v,
        Err(e) => return Some(Err(format!("cargo metadata gave no JSON: {e}"))),
    };
    let ws = PathBuf::from(v["workspace_root"].as_str().unwrap_or_default());
    let mut bins = Vec::new();
    for p in v["packages"].as_array().into_iter().flatten() {
        let package = p["name"].as_str().unwrap_or_default().to_string();
        let manifest = PathBuf::from(p["manifest_path"].as_str().unwrap_or_default());
        for t in p["targets"].as_array().into_iter().flatten() {
            let is_bin = t["kind"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k == "bin"));
            if is_bin {
                bins.push(CargoBin {
                    package: package.clone(),
                    bin: t["name"].as_str().unwrap_or_default().to_string(),
                    manifest: manifest.clone(),
                });
            }
        }
    }
    Some(Ok((ws, bins)))
}

/// Rust: the package and its binary target, as `cargo metadata` reads the workspace. In a
/// workspace member, the member's bins; at a workspace root, every member's bins (one is taken,
/// several need `main`). Without cargo (a prebuilt binary), Cargo.toml is read directly.
fn rust_entry(
    root: &Path,
    main_override: Option<String>,
    prebuilt: bool,
) -> Result<(Entry, Option<CargoTarget>), ProjectError> {
    let manifest = root.join("Cargo.toml");
    let Some(meta) = cargo_metadata(root) else {
        let (pkg, bins) = read_cargo_bins(&manifest)?;
        let bins: Vec<CargoBin> = bins
            .into_iter()
            .map(|bin| CargoBin {
                package: pkg.clone(),
                bin,
                manifest: manifest.clone(),
            })
            .collect();
        return choose_bin(
            root,
            Some(pkg),
            bins,
            root.to_path_buf(),
            main_override,
            prebuilt,
        );
    };
    let (ws_root, bins) = meta.map_err(|message| ProjectError::Manifest {
        path: manifest.clone(),
        message: format!("cargo cannot read it: {message}"),
        fix: "fix Cargo.toml (`cargo metadata` shows the same error)".into(),
    })?;
    let canon = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    let here = canon(&manifest);
    // A member (or a single package): its own bins. A workspace root that is not a package:
    // every member's bins.
    let own: Vec<CargoBin> = bins
        .iter()
        .filter(|b| canon(&b.manifest) == here)
        .map(|b| CargoBin {
            package: b.package.clone(),
            bin: b.bin.clone(),
            manifest: b.manifest.clone(),
        })
        .collect();
    let is_package = std::fs::read_to_string(&manifest)
        .ok()
        .and_then(|t| toml::from_str::<toml::Value>(&t).ok())
        .is_some_and(|d| d.get("package").is_some());
    let (package, candidates) = if is_package {
        let name = own
            .first()
            .map(|b| b.package.clone())
            .or_else(|| read_cargo_bins(&manifest).ok().map(|(p, _)| p));
        (name, own)
    } else {
        (None, bins)
    };
    choose_bin(root, package, candidates, ws_root, main_override, prebuilt)
}

fn choose_bin(
    root: &Path,
    package: Option<String>,
    bins: Vec<CargoBin>,
    workspace_root: PathBuf,
    main_override: Option<String>,
    prebuilt: bool,
) -> Result<(Entry, Option<CargoTarget>), ProjectError> {
    let manifest = root.join("Cargo.toml");
    let listed = || {
        bins.iter()
            .map(|b| {
                if b.bin == b.package {
                    b.bin.clone()
                } else {
                    format!("{} (package {})", b.bin, b.package)
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let chosen = match &main_override {
        Some(m) => match bins.iter().find(|b| &b.bin == m) {
            Some(b) => Some(b),
            None if prebuilt || bins.is_empty() && package.is_some() => None,
            None => {
                return Err(ProjectError::Manifest {
                    path: manifest,
                    message: format!("no binary target named {m:?} (there are: {})", listed()),
                    fix: "set `main` under [build] in drydock.toml (or --main) to one of those"
                        .into(),
                })
            }
        },
        None if bins.len() == 1 => Some(&bins[0]),
        None if bins.is_empty() && prebuilt => None,
        None if bins.is_empty() => {
            return Err(ProjectError::Manifest {
                path: manifest,
                message: if package.is_some() {
                    "the package has no binary target".into()
                } else {
                    "no member of the workspace has a binary target".into()
                },
                fix: "add src/main.rs or a [[bin]] section".into(),
            })
        }
        None => return Err(ProjectError::Manifest {
            path: manifest,
            message: format!("several binary targets ({})", listed()),
            fix: "set `main` under [build] in drydock.toml (or pass --main) to the one to package"
                .into(),
        }),
    };
    let main = chosen
        .map(|b| b.bin.clone())
        .or(main_override)
        .or(package.clone())
        .unwrap_or_else(|| "app".into());
    let package = chosen.map(|b| b.package.clone()).or(package);
    let detected_name = package.clone().or(Some(main.clone()));
    let target = package.map(|package| CargoTarget {
        package,
        workspace_root,
    });
    Ok((
        Entry {
            main,
            go_module: None,
            gin: false,
            detected_name,
        },
        target,
    ))
}

/// drydock.toml, the build context and detection, resolved into a project. `dir` may be inside
/// the project (`cmd/api` of a Go module): the root is found upward, and a Go main package
/// at `dir` becomes the one to build unless drydock.toml names another.
pub fn load(dir: &Path, overrides: &Overrides) -> Result<(Project, BuildContext), ProjectError> {
    let (root, found_above) = find_root(dir)?;
    let (cfg, cfg_path) = Config::load(&root)?;
    let ctx = context::load(&root, &cfg.context.allow_secrets)?;
    let shown = cfg_path
        .clone()
        .unwrap_or_else(|| root.join(config::FILE_NAME));
    let entry = select_image(&cfg, overrides.image.as_deref(), &shown)?.cloned();
    let cfg = match &entry {
        Some(e) => {
            check_entry_main(e, &root, &ctx, &shown)?;
            cfg.for_image(&e.name).unwrap_or(cfg)
        }
        None => cfg,
    };
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
    let mut project =
        Project::resolve(&root, cfg, cfg_path, &ctx, &overrides).map_err(|e| match &entry {
            Some(entry) => in_entry(e, entry, &shown),
            None => e,
        })?;
    if let Some(f) = found_above {
        project.assumptions.insert(0, f);
    }
    if entry.is_some() {
        let repo = root
            .canonicalize()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "app".into());
        project.build.stage = format!("images-{}", sanitize_name(&repo));
        project.deploy.compose_project = Some(project.name.clone());
    }
    Ok((project, ctx))
}

/// The `[[images]]` entry a command is about: the one `--image` names, or the only one;
/// `None` for a one-image drydock.toml. Several and none named, or a name no entry has, is a
/// usage error listing the names.
pub fn select_image<'a>(
    cfg: &'a Config,
    wanted: Option<&str>,
    config_path: &Path,
) -> Result<Option<&'a config::ImageEntry>, ProjectError> {
    let names = cfg.image_names();
    let listed = names.join(", ");
    match (wanted, cfg.images.as_slice()) {
        (None, []) => Ok(None),
        (Some(w), []) => Err(ProjectError::Image {
            message: format!(
                "--image {w}: {} has no [[images]] tables; it describes one image",
                config_path.display()
            ),
            fix: "leave out --image, or add [[images]] tables to drydock.toml".into(),
        }),
        (None, [only]) => Ok(Some(only)),
        (None, _) => Err(ProjectError::Image {
            message: format!(
                "{} describes several images ({listed}): which one?",
                config_path.display()
            ),
            fix: format!("pass --image NAME, one of: {listed}"),
        }),
        (Some(w), all) => {
            all.iter()
                .find(|e| e.name == w)
                .map(Some)
                .ok_or_else(|| ProjectError::Image {
                    message: format!(
                        "--image {w}: {} has no image of that name (it has {listed})",
                        config_path.display()
                    ),
                    fix: format!("pass --image NAME, one of: {listed}"),
                })
        }
    }
}

/// A Go main package an `[[images]]` entry names must be a directory of the build context
/// holding Go sources: checked here, where drydock.toml's line is known, rather than by the
/// compiler. (A Rust binary target is checked against `cargo metadata`, see [`in_entry`].)
pub fn check_entry_main(
    e: &config::ImageEntry,
    root: &Path,
    ctx: &BuildContext,
    config_path: &Path,
) -> Result<(), ProjectError> {
    let Some(main) = e.main.as_deref().filter(|m| m.starts_with('.')) else {
        return Ok(());
    };
    let dir = main
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect::<Vec<_>>()
        .join("/");
    let depth = if dir.is_empty() {
        0
    } else {
        dir.matches('/').count() + 1
    };
    let mains = go_files(ctx).any(|p| {
        (dir.is_empty() || p.starts_with(&format!("{dir}/")))
            && p.matches('/').count() == depth
            && is_main_package(&root.join(p))
    });
    if mains {
        return Ok(());
    }
    let why = if dir.is_empty() || ctx.contains(&dir) {
        "has no `package main` Go file"
    } else {
        "does not exist in the build context"
    };
    Err(ConfigError::Invalid {
        path: config_path.to_path_buf(),
        key: format!("images[{}].main", e.index),
        problem: format!("is {main:?}, which {why}"),
        fix: "name the directory of a Go main package relative to the project, e.g. \"./cmd/api\" (check that .dockerignore does not exclude it)".into(),
        line: e.line,
    }
    .into())
}

/// A Rust binary target an `[[images]]` entry names that the package does not have is the
/// entry's mistake: said at its line in drydock.toml.
fn in_entry(err: ProjectError, e: &config::ImageEntry, config_path: &Path) -> ProjectError {
    match err {
        ProjectError::Manifest { message, fix, .. }
            if message.starts_with("no binary target named") =>
        {
            ConfigError::Invalid {
                path: config_path.to_path_buf(),
                key: format!("images[{}].main", e.index),
                problem: format!("names a binary target Cargo does not have: {message}"),
                fix: fix.replace(
                    "set `main` under [build] in drydock.toml (or --main)",
                    "set this entry's main",
                ),
                line: e.line,
            }
            .into()
        }
        other => other,
    }
}

impl Project {
    /// Each asset entry's path in the image and its context entry, in order; `None` when there
    /// are no assets.
    pub fn asset_entries<'a>(
        &'a self,
        ctx: &'a BuildContext,
    ) -> Option<Vec<(String, &'a ContextEntry)>> {
        (!self.image.assets.is_empty()).then(|| {
            self.image
                .assets
                .iter()
                .flat_map(|a| asset_paths(a, ctx))
                .collect()
        })
    }

    /// Resolves drydock.toml (read from `root`, at `config_path`) against the build context,
    /// the sources and the command line.
    pub fn resolve(
        root: &Path,
        cfg: Config,
        config_path: Option<PathBuf>,
        ctx: &BuildContext,
        o: &Overrides,
    ) -> Result<Project, ProjectError> {
        let mut assumptions = Vec::new();
        // --binary is relative to the working directory, as every command-line path is;
        // drydock.toml's `binary` to the project.
        let binary = match (&o.binary, &cfg.build.binary) {
            (Some(b), _) => Some(b.clone()),
            (None, Some(b)) if b.is_relative() => Some(root.join(b)),
            (None, b) => b.clone(),
        };
        if let Some(b) = &binary {
            check_binary(b)?;
        }

        let has = |p: &str| ctx.contains(p);
        let go_main_here = go_main_at_top(root, ctx);
        let language = match o.language.or(cfg.build.language) {
            Some(l) => l,
            None if has("Cargo.toml") && (has("go.mod") || go_main_here) => {
                return Err(ProjectError::TwoLanguages {
                    dir: root.to_path_buf(),
                })
            }
            None if has("Cargo.toml") => Language::Rust,
            None if has("go.mod") || go_files(ctx).next().is_some() => Language::Go,
            None if binary.is_some() => {
                assumptions
                    .push("language: not detected; packaging the prebuilt binary as is".into());
                Language::Go
            }
            None => {
                return Err(ProjectError::NotFound {
                    dir: root.to_path_buf(),
                })
            }
        };

        // The sources are read once, for Gin, the port and the health paths.
        let sources = detect::sources(ctx, language);
        let main_override = o.main.clone().or(cfg.build.main.clone());
        let prebuilt = binary.is_some();
        let (
            Entry {
                main,
                go_module,
                gin,
                detected_name,
            },
            cargo,
        ) = match language {
            Language::Go => (
                go_entry(
                    root,
                    ctx,
                    &sources,
                    main_override,
                    prebuilt,
                    &mut assumptions,
                )?,
                None,
            ),
            Language::Rust => rust_entry(root, main_override, prebuilt)?,
        };

        let name = match o.name.clone().or(cfg.name.clone()) {
            Some(n) => n,
            None => {
                let raw = detected_name.unwrap_or_else(|| {
                    root.canonicalize()
                        .ok()
                        .and_then(|p| p.file_name().map(|s| s.to_string_lossy().into_owned()))
                        .unwrap_or_else(|| "app".into())
                });
                let n = sanitize_name(&raw);
                assumptions.push(format!(
                    "name: {n} (from the project; set `name` in drydock.toml)"
                ));
                n
            }
        };
        if !config::valid_name(&name) {
            return Err(ProjectError::Invalid {
                what: format!("name {name:?}"),
                problem: "is not a valid image name".into(),
                fix: "use lowercase letters, digits, `.`, `_` and `-` (set `name` in drydock.toml)"
                    .into(),
            });
        }
        let port = match (o.port, cfg.port) {
            (Some(p), _) => p,
            (None, Some(p)) => p,
            (None, None) => {
                let f = detect::port(&sources);
                assumptions.push(f.how);
                f.value
            }
        };
        let user = match &o.user {
            Some(u) => config::parse_user(u).map_err(|problem| ProjectError::Invalid {
                what: "--user".into(),
                problem,
                fix: "use a numeric uid[:gid] such as 65532:65532".into(),
            })?,
            None => cfg.image.user.unwrap_or((65532, 65532)),
        };
        if user.0 == 0 {
            return Err(ProjectError::Invalid {
                what: "user 0".into(),
                problem: "is root: drydock images run as a non-root user".into(),
                fix: "use a numeric non-root uid[:gid], e.g. 65532:65532 (the default)".into(),
            });
        }
        let tag = crate::reference::Reference::parse(
            &o.tag
                .clone()
                .or(cfg.image.tag.clone())
                .unwrap_or_else(|| format!("{name}:latest")),
        )?;
        if tag.digest().is_some() {
            return Err(ProjectError::Invalid {
                what: format!("the tag {tag}"),
                problem: "names a digest; a build's digest is what it computes".into(),
                fix: format!("tag with a name and an optional tag, e.g. {}", tag.tagged()),
            });
        }
        let shown_path = config_path
            .as_deref()
            .unwrap_or(Path::new(config::FILE_NAME));
        check_asset_sources(&cfg.image.assets, ctx, shown_path)?;
        let helper = !o.no_helper && cfg.image.helper.unwrap_or(true);
        check_asset_destinations(&cfg.image.assets, ctx, &name, helper, shown_path)?;
        let health = resolve_health(&cfg.health, &sources, &mut assumptions);
        let min_replicas = cfg.scaling.min_replicas.unwrap_or(2);
        let stage = name.clone();
        Ok(Project {
            root: root.to_path_buf(),
            config_path,
            name,
            port,
            build: BuildSpec {
                language,
                main,
                go_module,
                cargo,
                gin,
                binary,
                env: cfg.build.env,
                stage,
            },
            image: ImageSpec {
                tag,
                user,
                base: o
                    .base
                    .clone()
                    .or(cfg.image.base)
                    .unwrap_or_else(|| "scratch".into()),
                env: cfg.image.env,
                labels: cfg.image.labels,
                assets: cfg.image.assets,
                helper,
                sbom: cfg.image.sbom,
                platforms: cfg.image.platforms,
                health,
            },
            runtime: RuntimeSpec {
                resources: Resources::from_config(&cfg.resources),
                shutdown_grace: cfg
                    .lifecycle
                    .shutdown_grace
                    .unwrap_or(Duration::from_secs(15)),
            },
            deploy: DeploySpec {
                scaling: Scaling {
                    min_replicas,
                    max_replicas: cfg.scaling.max_replicas.unwrap_or(min_replicas.max(5)),
                    cpu_target: cfg.scaling.cpu_target.unwrap_or(70),
                },
                ingress: cfg.ingress,
                secrets: cfg.secrets,
                compose_project: None,
            },
            assumptions,
        })
    }
}

/// The project a command run in `dir` is about: the nearest directory at or above `dir` with a
/// drydock.toml, else with a go.work, go.mod or Cargo.toml (as go and cargo look upward; a go.work
/// above the module wins, as it does for go), else `dir`.
/// The search stops at the top of a git work tree. Returns the root and, when it is above
/// `dir`, what was found there.
pub fn find_root(dir: &Path) -> Result<(PathBuf, Option<String>), ProjectError> {
    let meta = std::fs::metadata(dir).map_err(|e| ProjectError::NoDir {
        dir: dir.to_path_buf(),
        why: if e.kind() == std::io::ErrorKind::NotFound {
            "no such directory".into()
        } else {
            e.to_string()
        },
    })?;
    if !meta.is_dir() {
        return Err(ProjectError::NoDir {
            dir: dir.to_path_buf(),
            why: "is a file, not a directory".into(),
        });
    }
    let abs = dir.canonicalize().map_err(|e| ProjectError::NoDir {
        dir: dir.to_path_buf(),
        why: e.to_string(),
    })?;
    let ancestors = || {
        let mut stop = false;
        abs.ancestors().take_while(move |a| {
            let go_on = !stop;
            stop = stop || a.join(".git").exists();
            go_on
        })
    };
    // A go.work above a module is the workspace the go command builds it in (unless
    // GOWORK=off): its root is the project, so the other modules it uses are in the context.
    let workspace = |module: &Path| -> Option<PathBuf> {
        if std::env::var("GOWORK").is_ok_and(|v| v == "off") {
            return None;
        }
        ancestors()
            .skip_while(|a| *a != module)
            .find(|a| a.join("go.work").is_file())
            .map(Path::to_path_buf)
    };
    // A directory holding a GOPATH-mode Go program (`package main`, no go.mod) belongs to no
    // Cargo.toml above it: only a go.mod above can make it part of a larger project.
    let gopath_main = std::fs::read_dir(&abs).is_ok_and(|rd| {
        rd.flatten().any(|e| {
            let n = e.file_name();
            let n = n.to_string_lossy();
            n.ends_with(".go") && !n.ends_with("_test.go") && is_main_package(&e.path())
        })
    });
    let manifests: &[&str] = if gopath_main && !abs.join("Cargo.toml").is_file() {
        &["go.work", "go.mod"]
    } else {
        &["go.work", "go.mod", "Cargo.toml"]
    };
    for markers in [&[config::FILE_NAME][..], manifests] {
        for a in ancestors() {
            if let Some(m) = markers.iter().find(|m| a.join(m).is_file()) {
                let (a, m) = match workspace(a) {
                    Some(w) if *m == "go.mod" => (w, "go.work"),
                    _ => (a.to_path_buf(), *m),
                };
                let a = a.as_path();
                if a == abs {
                    return Ok((dir.to_path_buf(), None));
                }
                let root = a.to_path_buf();
                return Ok((
                    root,
                    Some(format!(
                        "project root {} (its {m} is above {})",
                        a.display(),
                        dir.display()
                    )),
                ));
            }
        }
    }
    Ok((dir.to_path_buf(), None))
}

fn go_files(ctx: &BuildContext) -> impl Iterator<Item = &str> {
    ctx.entries
        .iter()
        .filter(|e| {
            matches!(e.kind, EntryKind::File { .. })
                && e.path.ends_with(".go")
                && !e.path.ends_with("_test.go")
                && !e.path.starts_with("vendor/")
        })
        .map(|e| e.path.as_str())
}

/// A `package main` among the `.go` files at the top of the context: a Go program in GOPATH
/// mode (no go.mod) is as much a Go project as a module is.
fn go_main_at_top(root: &Path, ctx: &BuildContext) -> bool {
    go_files(ctx)
        .filter(|p| !p.contains('/'))
        .any(|p| is_main_package(&root.join(p)))
}

fn is_main_package(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|s| s.lines().any(|l| l.trim() == "package main"))
}

/// One service main of a repository that holds several: its name, what `main` says (a Go
/// package `./cmd/api`, a Rust bin), and the directory of its sources (relative to the root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceMain {
    pub name: String,
    pub main: String,
    pub dir: String,
}

/// The services of a repository with several, for `drydock init`: for Go, each directory
/// `cmd/NAME` whose `.go` files are `package main`; for Rust, each bin of the workspace (or
/// package), from `cargo metadata`. Sorted by name.
pub fn service_mains(root: &Path, ctx: &BuildContext, language: Language) -> Vec<ServiceMain> {
    let mut found: Vec<ServiceMain> = match language {
        Language::Go => go_files(ctx)
            .filter_map(|p| {
                let rest = p.strip_prefix("cmd/")?;
                let (dir, file) = rest.split_once('/')?;
                (!file.contains('/') && is_main_package(&root.join(p))).then(|| ServiceMain {
                    name: sanitize_name(dir),
                    main: format!("./cmd/{dir}"),
                    dir: format!("cmd/{dir}"),
                })
            })
            .collect(),
        Language::Rust => match cargo_metadata(root) {
            Some(Ok((_, bins))) => {
                let base = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
                bins.into_iter()
                    .map(|b| {
                        let member = b
                            .manifest
                            .parent()
                            .and_then(|d| d.strip_prefix(&base).ok())
                            .map(|d| d.to_string_lossy().into_owned())
                            .unwrap_or_default();
                        ServiceMain {
                            name: sanitize_name(&b.bin),
                            main: b.bin,
                            dir: member,
                        }
                    })
                    .collect()
            }
            _ => Vec::new(),
        },
    };
    found.sort_by(|a, b| a.name.cmp(&b.name));
    found.dedup();
    found
}

fn detect_go_main(root: &Path, ctx: &BuildContext) -> Result<String, ProjectError> {
    let mut dirs: Vec<String> = go_files(ctx)
        .filter(|p| is_main_package(&root.join(p)))
        .map(|p| match p.rfind('/') {
            Some(i) => format!("./{}", &p[..i]),
            None => ".".into(),
        })
        .collect();
    dirs.sort();
    dirs.dedup();
    match dirs.len() {
        0 => Err(ProjectError::NotFound {
            dir: root.to_path_buf(),
        }),
        1 => Ok(dirs.remove(0)),
        _ if dirs.iter().any(|d| d == ".") => Ok(".".into()),
        _ => Err(ProjectError::AmbiguousGoMain {
            dir: root.to_path_buf(),
            found: dirs.join(", "),
        }),
    }
}

fn read_go_module(path: &Path) -> Result<Option<String>, ProjectError> {
    let text = std::fs::read_to_string(path).map_err(|e| ProjectError::Manifest {
        path: path.to_path_buf(),
        message: e.to_string(),
        fix: "make go.mod readable".into(),
    })?;
    Ok(text.lines().find_map(|l| {
        l.trim()
            .strip_prefix("module ")
            .map(|m| m.trim().trim_matches('"').to_string())
    }))
}

fn read_cargo_bins(path: &Path) -> Result<(String, Vec<String>), ProjectError> {
    let bad = |message: String| ProjectError::Manifest {
        path: path.to_path_buf(),
        message,
        fix: "check Cargo.toml with `cargo metadata`".into(),
    };
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    let doc: toml::Value = toml::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let pkg = doc.get("package").and_then(|p| p.get("name")).and_then(|n| n.as_str()).ok_or_else(|| bad("no [package] name (workspace roots are not supported; run drydock in the member's directory)".into()))?.to_string();
    let mut bins: Vec<String> = doc
        .get("bin")
        .and_then(|b| b.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|b| b.get("name").and_then(|n| n.as_str()).map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if bins.is_empty() && path.with_file_name("src/main.rs").is_file() {
        bins.push(pkg.clone());
    }
    Ok((pkg, bins))
}

/// A directory or binary name as an image name: lowercase, other characters as `-`.
pub fn sanitize_name(raw: &str) -> String {
    let s: String = raw
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let s = s
        .trim_start_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string();
    if s.is_empty() {
        "app".into()
    } else {
        s
    }
}
