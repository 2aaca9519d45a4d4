//! A project as drydock will build it: drydock.toml, command-line overrides and what can be
//! detected from the sources, merged into one resolved description. Every value that was
//! detected rather than configured is recorded as an assumption, so the report can say so.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::{self, Asset, Config, ConfigError, Language};
use crate::context::{BuildContext, EntryKind};
use crate::detect;

#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{dir}: no Go or Rust project found (no go.mod, *.go files or Cargo.toml)\n  fix: run drydock in the service's directory, or pass --binary PATH to package a prebuilt binary")]
    NotFound { dir: PathBuf },
    #[error("{dir}: several Go main packages ({found}); drydock cannot tell which one is the service\n  fix: set `main` under [build] in drydock.toml, e.g. main = \"./cmd/api\"")]
    AmbiguousGoMain { dir: PathBuf, found: String },
    #[error("{path}: {message}\n  fix: {fix}")]
    Manifest {
        path: PathBuf,
        message: String,
        fix: String,
    },
    /// A project value that cannot be used: which one, what is wrong, what to do.
    #[error("{what} {problem}\n  fix: {fix}")]
    Invalid {
        what: String,
        problem: String,
        fix: String,
    },
    #[error("{dir}: {why}\n  fix: pass the directory of a Go or Rust service (default: the current directory)")]
    NoDir { dir: PathBuf, why: String },
    #[error("{dir} has both go.mod and Cargo.toml; drydock cannot tell whether to build the Go or the Rust service\n  fix: set `language = \"go\"` or `language = \"rust\"` under [build] in drydock.toml")]
    TwoLanguages { dir: PathBuf },
    #[error("--binary {path}: {why}\n  fix: {fix}")]
    Binary {
        path: PathBuf,
        why: String,
        fix: &'static str,
    },
    #[error(transparent)]
    Reference(#[from] crate::reference::ReferenceError),
}

/// Command-line values that take precedence over drydock.toml.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub name: Option<String>,
    pub port: Option<u16>,
    pub main: Option<String>,
    pub binary: Option<PathBuf>,
    pub tag: Option<String>,
    pub user: Option<String>,
    pub no_helper: bool,
    /// The base image (overrides `[image] base`).
    pub base: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Project {
    pub root: PathBuf,
    pub config_path: Option<PathBuf>,
    pub name: String,
    pub port: u16,
    pub language: Language,
    /// Go main package (`.`, `./cmd/api`) or Rust binary target.
    pub main: String,
    /// Go module path from go.mod, when there is one.
    pub go_module: Option<String>,
    pub gin: bool,
    /// A prebuilt binary to package instead of compiling.
    pub binary: Option<PathBuf>,
    pub tag: crate::reference::Reference,
    pub user: (u32, u32),
    pub base: String,
    pub env: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    #[serde(skip)]
    pub assets: Vec<Asset>,
    pub build_env: BTreeMap<String, String>,
    pub allow_secrets: Vec<String>,
    /// Whether drydock-helper goes into the image.
    pub helper: bool,
    /// `[image] sbom`: which SBOM `drydock build --sbom-dir` writes unless `--sbom` says.
    #[serde(skip)]
    pub sbom: Option<crate::sbom::SbomFormat>,
    pub health: Health,
    pub resources: Resources,
    pub scaling: Scaling,
    pub ingress: crate::config::IngressSection,
    pub secrets: Vec<crate::config::SecretRef>,
    pub shutdown_grace: std::time::Duration,
    pub assumptions: Vec<String>,
}

#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Scaling {
    pub min_replicas: u32,
    pub max_replicas: u32,
    pub cpu_target: u32,
}

/// Requests and limits, with drydock's defaults for what drydock.toml leaves out.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Resources {
    pub cpu_request_milli: u64,
    pub cpu_limit_milli: u64,
    pub memory_request: u64,
    pub memory_limit: u64,
}

impl Resources {
    fn from_config(r: &crate::config::ResourcesSection) -> Resources {
        use crate::quantity::{parse_cpu, parse_memory};
        let cpu_limit = r
            .cpu_limit
            .as_deref()
            .and_then(|s| parse_cpu(s).ok())
            .unwrap_or(1000);
        let memory_limit = r
            .memory_limit
            .as_deref()
            .and_then(|s| parse_memory(s).ok())
            .unwrap_or(256 << 20);
        Resources {
            cpu_request_milli: r
                .cpu_request
                .as_deref()
                .and_then(|s| parse_cpu(s).ok())
                .unwrap_or(cpu_limit.min(250)),
            cpu_limit_milli: cpu_limit,
            memory_request: r
                .memory_request
                .as_deref()
                .and_then(|s| parse_memory(s).ok())
                .unwrap_or(memory_limit.min(128 << 20)),
            memory_limit,
        }
    }
}

/// The health check, resolved with defaults.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Health {
    pub path: String,
    pub ready_path: String,
    pub interval: std::time::Duration,
    pub timeout: std::time::Duration,
    pub start_period: std::time::Duration,
    pub retries: u32,
}

impl Health {
    /// drydock.toml's values; paths it leaves out come from the sources (with what was
    /// detected or assumed recorded in `assumptions`).
    fn resolve(
        h: &crate::config::HealthSection,
        sources: &[detect::Source],
        assumptions: &mut Vec<String>,
    ) -> Health {
        let d = |v: &Option<String>, def: u64| {
            v.as_deref()
                .and_then(|s| config::parse_duration(s).ok())
                .unwrap_or(std::time::Duration::from_secs(def))
        };
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
            interval: d(&h.interval, 10),
            timeout: d(&h.timeout, 3),
            start_period: d(&h.start_period, 5),
            retries: h.retries.unwrap_or(3) as u32,
        }
    }
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

/// Rust: Cargo.toml's package (for the name) and its one binary target.
fn rust_entry(
    root: &Path,
    main_override: Option<String>,
    prebuilt: bool,
) -> Result<Entry, ProjectError> {
    let (pkg, bins) = read_cargo_bins(&root.join("Cargo.toml"))?;
    let detected_name = Some(pkg.clone());
    let main = match main_override {
        Some(m) => m,
        None if bins.len() == 1 => bins[0].clone(),
        None if bins.is_empty() && prebuilt => pkg,
        None if bins.is_empty() => {
            return Err(ProjectError::Manifest {
                path: root.join("Cargo.toml"),
                message: "the package has no binary target".into(),
                fix: "add src/main.rs or a [[bin]] section".into(),
            })
        }
        None => {
            return Err(ProjectError::Manifest {
                path: root.join("Cargo.toml"),
                message: format!("several binary targets ({})", bins.join(", ")),
                fix: "set `main` under [build] in drydock.toml to the one to package".into(),
            })
        }
    };
    Ok(Entry {
        main,
        go_module: None,
        gin: false,
        detected_name,
    })
}

impl Project {
    /// Loads drydock.toml from `root` and resolves the project against its context.
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
            match std::fs::metadata(b) {
                Ok(m) if m.is_file() => {}
                Ok(_) => return Err(ProjectError::Binary { path: b.clone(), why: "is not a file".into(), fix: "name the compiled executable itself" }),
                Err(e) => return Err(ProjectError::Binary { path: b.clone(), why: e.to_string(), fix: "check the path (relative paths are from the current directory; `binary` in drydock.toml is relative to the project)" }),
            }
        }

        let has = |p: &str| ctx.contains(p);
        let language = match cfg.build.language {
            Some(l) => l,
            None if has("Cargo.toml") && has("go.mod") => {
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
        let Entry {
            main,
            go_module,
            gin,
            detected_name,
        } = match language {
            Language::Go => go_entry(
                root,
                ctx,
                &sources,
                main_override,
                prebuilt,
                &mut assumptions,
            )?,
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
            (None, Some(p)) => {
                config::validate_port(p).map_err(|problem| ProjectError::Invalid {
                    what: "port".into(),
                    problem,
                    fix: "set `port` in drydock.toml to the port the service listens on".into(),
                })?
            }
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
            None => cfg
                .image
                .user
                .as_deref()
                .map(config::parse_user)
                .transpose()
                .map_err(|problem| ProjectError::Invalid {
                    what: "image.user".into(),
                    problem,
                    fix: "use a numeric uid[:gid] such as 65532:65532".into(),
                })?
                .unwrap_or((65532, 65532)),
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
        for a in &cfg.image.assets {
            if !has(a.src.trim_end_matches('/')) {
                return Err(ProjectError::Invalid {
                    what: format!(
                        "{}: asset source {:?}",
                        config_path
                            .as_deref()
                            .unwrap_or(Path::new(config::FILE_NAME))
                            .display(),
                        a.src
                    ),
                    problem: "is not in the build context".into(),
                    fix: "create it, or check that .dockerignore does not exclude it".into(),
                });
            }
        }
        Ok(Project {
            root: root.to_path_buf(),
            config_path,
            name,
            port,
            language,
            main,
            go_module,
            gin,
            binary,
            tag,
            user,
            base: o
                .base
                .clone()
                .or(cfg.image.base.clone())
                .unwrap_or_else(|| "scratch".into()),
            env: cfg.image.env.clone(),
            labels: cfg.image.labels.clone(),
            assets: cfg.image.assets.clone(),
            build_env: cfg.build.env.clone(),
            allow_secrets: cfg.context.allow_secrets.clone(),
            helper: !o.no_helper && cfg.image.helper.unwrap_or(true),
            sbom: cfg.image.sbom,
            health: Health::resolve(&cfg.health, &sources, &mut assumptions),
            resources: Resources::from_config(&cfg.resources),
            scaling: Scaling {
                min_replicas: cfg.scaling.min_replicas.unwrap_or(2) as u32,
                max_replicas: cfg
                    .scaling
                    .max_replicas
                    .unwrap_or(cfg.scaling.min_replicas.unwrap_or(2).max(5))
                    as u32,
                cpu_target: cfg.scaling.cpu_target.unwrap_or(70) as u32,
            },
            ingress: cfg.ingress.clone(),
            secrets: cfg.secrets.clone(),
            shutdown_grace: cfg
                .lifecycle
                .shutdown_grace
                .as_deref()
                .and_then(|s| config::parse_duration(s).ok())
                .unwrap_or(std::time::Duration::from_secs(15)),
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
    for markers in [
        &[config::FILE_NAME][..],
        &["go.work", "go.mod", "Cargo.toml"][..],
    ] {
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

fn is_main_package(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|s| s.lines().any(|l| l.trim() == "package main"))
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

fn sanitize_name(raw: &str) -> String {
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
