//! `drydock init`: detect the project and write a commented drydock.toml and a .dockerignore
//! suited to its language. Never overwrites an existing file unless asked to; writes nothing
//! at all when it refuses.

use std::path::PathBuf;

use serde::Serialize;

use crate::config::{Config, Language};
use crate::context::{self, EntryKind};
use crate::detect;
use crate::project::{Overrides, Project, ProjectError};

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("{} already exist{}; drydock init does not overwrite", .0.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" and "), if .0.len() == 1 { "s" } else { "" })]
    Exists(Vec<PathBuf>),
    #[error(transparent)]
    Context(#[from] context::ContextError),
    #[error(transparent)]
    Project(#[from] crate::project::ProjectError),
    #[error("writing {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl InitError {
    /// What to do about it, shown after the message (see [`crate::error::Classify::fix`]).
    pub fn fix(&self) -> Option<String> {
        Some(match self {
            InitError::Exists(paths) => format!(
                "pass --force to replace {}",
                if paths.len() == 1 { "it" } else { "them" }
            ),
            InitError::Context(e) => return e.fix(),
            InitError::Project(e) => return e.fix(),
            _ => return None,
        })
    }
}

/// What init found and wrote.
#[derive(Debug, Serialize)]
pub struct InitReport {
    pub language: Language,
    pub name: String,
    pub port: u16,
    pub main: String,
    pub gin: bool,
    pub health_path: String,
    pub ready_path: String,
    pub assets: Vec<String>,
    pub secrets: Vec<String>,
    /// How each of `secrets` reaches the app under Compose and Swarm: as a file, named by
    /// `<VAR>_FILE` (what `drydock deploy` writes), never as `<VAR>` itself.
    pub secret_files: Vec<SecretFile>,
    /// For each value drydock chose: detected where, or assumed why.
    pub detection: Vec<String>,
    pub written: Vec<PathBuf>,
    /// Files that exist and were left alone (no --force).
    pub kept: Vec<PathBuf>,
    /// The services of a repository with several (`cmd/*` mains, a workspace's bins), each
    /// written as an `[[images]]` table; empty for one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<InitImage>,
}

/// One `[[images]]` table init writes.
#[derive(Debug, Serialize)]
pub struct InitImage {
    pub name: String,
    pub main: String,
    pub port: u16,
}

/// A secret as Compose and Swarm deliver it (see `deploy/compose.rs` and `deploy/swarm.rs`):
/// the file `path`, whose path is in `file_env`; `env` itself is not set there. Kubernetes sets
/// `env` directly from the Secret.
#[derive(Debug, Serialize)]
pub struct SecretFile {
    pub env: String,
    /// The `key` of its `[[secrets]]` entry: the file's name under /run/secrets and secrets/.
    pub key: String,
    /// `<env>_FILE`, the variable Compose and Swarm set.
    pub file_env: String,
    /// `/run/secrets/<key>`, the file the variable names.
    pub path: String,
    /// Whether the app's sources mention `file_env`: when not, the app gets nothing under
    /// Compose and Swarm.
    pub app_reads_file_env: bool,
}

impl SecretFile {
    fn new(env: &str, sources: &[detect::Source]) -> SecretFile {
        let key = secret_key(env);
        let file_env = format!("{env}_FILE");
        SecretFile {
            env: env.to_string(),
            path: format!("/run/secrets/{key}"),
            app_reads_file_env: sources.iter().any(|s| s.text.contains(&file_env)),
            key,
            file_env,
        }
    }

    /// One line on how the secret reaches the app, for the summary and drydock.toml.
    pub fn delivery(&self) -> String {
        format!(
            "Kubernetes sets {env}; Compose and Swarm mount the file {path} and set {file_env} to its path, not {env}",
            env = self.env,
            path = self.path,
            file_env = self.file_env,
        )
    }

    /// What to say when the app's sources never mention `<VAR>_FILE`.
    pub fn warning(&self) -> Option<String> {
        (!self.app_reads_file_env).then(|| {
            format!(
                "the app reads {env} but its sources never mention {file_env}: under Compose and Swarm, {env} is not set and it will get nothing; make it also read the file named by {file_env}",
                env = self.env,
                file_env = self.file_env,
            )
        })
    }
}

/// The `key` init gives a secret read through `env`: `DB_PASSWORD` → `db-password`.
fn secret_key(env: &str) -> String {
    env.to_ascii_lowercase().replace('_', "-")
}

pub struct InitOptions {
    pub dir: PathBuf,
    pub force: bool,
    /// Values given on the command line instead of detected.
    pub port: Option<u16>,
    pub main: Option<String>,
    pub language: Option<Language>,
}

pub fn init(o: &InitOptions) -> Result<InitReport, InitError> {
    let dir = &o.dir;
    crate::project::find_root(dir)?;
    let toml_path = dir.join(crate::config::FILE_NAME);
    let ignore_path = dir.join(".dockerignore");
    let (to_write, kept): (Vec<PathBuf>, Vec<PathBuf>) = [&toml_path, &ignore_path]
        .into_iter()
        .cloned()
        .partition(|p| o.force || !p.exists());
    if to_write.is_empty() {
        return Err(InitError::Exists(kept));
    }
    // Detect from what a build would see: the same detection `drydock build` runs.
    let ctx = context::load(dir, &[])?;
    // --language, else the language an existing drydock.toml names (even one --force replaces).
    let configured = Config::load(dir).ok().and_then(|(c, _)| c.build.language);
    let overrides = Overrides {
        port: o.port,
        main: o.main.clone(),
        language: o.language.or(configured),
        ..Overrides::default()
    };
    // Several services (cmd/api and cmd/worker, two bins of a workspace): one [[images]]
    // table each, and the shared settings resolved with the first of them.
    let (project, mains) = match Project::resolve(dir, Config::default(), None, &ctx, &overrides) {
        Err(e @ (ProjectError::AmbiguousGoMain { .. } | ProjectError::Manifest { .. })) => {
            let language = match e {
                ProjectError::AmbiguousGoMain { .. } => Language::Go,
                _ => Language::Rust,
            };
            let mains = crate::project::service_mains(dir, &ctx, language);
            if mains.len() < 2 {
                return Err(e.into());
            }
            // The shared settings are the repository's: named after its directory.
            let repo = dir
                .canonicalize()
                .ok()
                .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .unwrap_or_else(|| "app".into());
            let first = Overrides {
                main: Some(mains[0].main.clone()),
                language: Some(language),
                name: Some(crate::project::sanitize_name(&repo)),
                ..overrides.clone()
            };
            let p = Project::resolve(dir, Config::default(), None, &ctx, &first)?;
            (p, mains)
        }
        r => (r?, Vec::new()),
    };
    let sources = detect::sources(&ctx, project.build.language);
    let mut detection = project.assumptions.clone();
    if !mains.is_empty() {
        // The port lines were the first service's: each image's own are added below.
        detection.retain(|d| !d.starts_with("detected port") && !d.starts_with("assumed port"));
    }
    let images: Vec<InitImage> = mains
        .iter()
        .map(|m| {
            // The port each service listens on, from its own sources.
            let own: Vec<detect::Source> = sources
                .iter()
                .filter(|s| m.dir.is_empty() || s.path.starts_with(&format!("{}/", m.dir)))
                .map(|s| detect::Source {
                    path: s.path.clone(),
                    text: s.text.clone(),
                })
                .collect();
            let port = match o.port {
                Some(p) => p,
                None => {
                    let f = detect::port(&own);
                    detection.push(format!("{}: {}", m.name, f.how));
                    f.value
                }
            };
            InitImage {
                name: m.name.clone(),
                main: m.main.clone(),
                port,
            }
        })
        .collect();
    let assets: Vec<String> = ["static", "public", "assets", "web", "templates"]
        .iter()
        .filter(|d| {
            ctx.entries
                .iter()
                .any(|e| e.path == **d && e.kind == EntryKind::Dir)
        })
        .map(|d| d.to_string())
        .collect();
    let secrets = detect::secret_envs(&sources);
    let report = InitReport {
        language: project.build.language,
        name: project.name.clone(),
        port: project.port,
        main: project.build.main.clone(),
        gin: project.build.gin,
        health_path: project.image.health.path.clone(),
        ready_path: project.image.health.ready_path.clone(),
        assets,
        secrets: secrets.clone(),
        secret_files: secrets
            .iter()
            .map(|e| SecretFile::new(e, &sources))
            .collect(),
        detection,
        written: to_write.clone(),
        kept,
        images,
    };
    let toml = render_toml(&report);
    // What we write must be what drydock reads.
    Config::parse(&toml, &toml_path).map_err(|e| InitError::Io {
        path: toml_path.clone(),
        source: std::io::Error::other(format!("generated an invalid drydock.toml: {e}")),
    })?;
    let ignore = render_dockerignore(report.language);
    for (path, text) in [(&toml_path, toml), (&ignore_path, ignore)] {
        if !to_write.contains(path) {
            continue;
        }
        crate::fsutil::write_bytes_atomic(path, text.as_bytes()).map_err(|source| {
            InitError::Io {
                path: path.clone(),
                source,
            }
        })?;
    }
    Ok(report)
}

fn q(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn render_toml(r: &InitReport) -> String {
    let lang = match r.language {
        Language::Go => "go",
        Language::Rust => "rust",
    };
    let main_note = match r.language {
        Language::Go => "the main package",
        Language::Rust => "the binary target",
    };
    let mut t = format!(
        "# drydock configuration for {name}, written by `drydock init`.\n\
         # Every key is optional: what you delete, drydock detects or defaults.\n\
         # Unknown keys are errors, so a typo never goes unnoticed. See README.md, \"drydock.toml\".\n\n",
        name = r.name,
    );
    // Several services: their names, mains and ports are in the [[images]] tables at the end.
    if r.images.is_empty() {
        t.push_str(&format!(
            "name = {qname}\n\
             port = {port}  # the service port, the only one exposed\n\n\
             [build]\n\
             language = {qlang}\n\
             main = {qmain}  # {main_note}\n",
            qname = q(&r.name),
            port = r.port,
            qlang = q(lang),
            qmain = q(&r.main),
        ));
    } else {
        t.push_str(&format!("[build]\nlanguage = {}\n", q(lang)));
    }
    t.push_str(
        "# env = { GOFLAGS = \"-mod=vendor\" }  # extra environment for the compiler\n\n\
         [image]\n\
         user = \"65532:65532\"  # numeric and non-root\n",
    );
    if r.assets.is_empty() {
        t.push_str("# assets = [{ src = \"static\", dst = \"/app/static\" }]\n");
    } else {
        let list: Vec<String> = r
            .assets
            .iter()
            .map(|a| format!("{{ src = {}, dst = {} }}", q(a), q(&format!("/app/{a}"))))
            .collect();
        t.push_str(&format!("assets = [{}]\n", list.join(", ")));
    }
    t.push_str("# env = { TZ = \"UTC\" }  # plain settings only: secrets go under [[secrets]]\n\n");
    t.push_str(&format!(
        "[health]\n\
         path = {}  # liveness: the process serves\n\
         ready_path = {}  # readiness: what it depends on answers\n\
         interval = \"10s\"\n\
         timeout = \"3s\"\n\
         start_period = \"5s\"\n\
         retries = 3\n\n",
        q(&r.health_path),
        q(&r.ready_path)
    ));
    t.push_str(
        "[resources]  # Kubernetes quantities; `drydock run` applies the limits\n\
         cpu_request = \"250m\"\n\
         cpu_limit = \"1\"\n\
         memory_request = \"128Mi\"\n\
         memory_limit = \"256Mi\"\n\n\
         [scaling]\n\
         min_replicas = 2\n\
         max_replicas = 5\n\
         cpu_target = 70  # percent of cpu_request\n\n",
    );
    t.push_str(&format!(
        "[ingress]\n\
         # host = \"{name}.example.com\"\n\
         # tls_secret = \"{name}-tls\"\n\
         # class = \"nginx\"\n\
         # cert_manager_issuer = \"letsencrypt\"\n\
         # controller_namespace = \"ingress-nginx\"  # with an Ingress, the only namespace that may reach the app\n\n\
         [lifecycle]\n\
         shutdown_grace = \"15s\"  # SIGTERM, then this long to drain before SIGKILL\n",
        name = r.name
    ));
    // How a secret reaches the app, as `drydock deploy` writes it (deploy/k8s.rs,
    // deploy/compose.rs, deploy/swarm.rs).
    const SECRETS_NOTE: &str =
        "\n# Secrets the app reads from its environment, by reference, never by value.\n\
         # Kubernetes sets the variable itself (env) from the Secret's key. Compose and Swarm\n\
         # deliver a file instead: secrets/<key> beside compose.yaml or stack.yaml becomes\n\
         # /run/secrets/<key>, and the app gets <env>_FILE holding that path; <env> itself is\n\
         # not set there, so an app that reads only <env> gets nothing: read <env>_FILE too.\n";
    t.push_str(SECRETS_NOTE);
    if r.secret_files.is_empty() {
        t.push_str(&format!(
            "# [[secrets]]\n# env = \"API_TOKEN\"  # Kubernetes sets API_TOKEN; Compose and Swarm set API_TOKEN_FILE=/run/secrets/api-token instead\n# secret = \"{}\"\n# key = \"api-token\"\n",
            r.name
        ));
    } else {
        for s in &r.secret_files {
            if !s.app_reads_file_env {
                t.push_str(&format!(
                    "# Warning: the sources never mention {}, so under Compose and Swarm the app gets nothing.\n",
                    s.file_env
                ));
            }
            t.push_str(&format!(
                "[[secrets]]\nenv = {}  # Kubernetes sets {}; Compose and Swarm set {}={} instead\nsecret = {}\nkey = {}\n",
                q(&s.env),
                s.env,
                s.file_env,
                s.path,
                q(&r.name),
                q(&s.key)
            ));
        }
    }
    if !r.images.is_empty() {
        t.push_str(&format!(
            "\n# The {} services of this repository, one image each: `drydock build` builds them all\n\
             # (--image NAME for one). Each may also have [images.health] and [images.resources],\n\
             # whose keys replace the shared [health] and [resources] ones for that image.\n",
            r.images.len()
        ));
        for i in &r.images {
            t.push_str(&format!(
                "\n[[images]]\nname = {}\nmain = {}  # {main_note}\nport = {}\n",
                q(&i.name),
                q(&i.main),
                i.port
            ));
        }
    }
    t
}

pub fn render_dockerignore(lang: Language) -> String {
    let mut t = String::from(
        "# Written by `drydock init`: the build context holds only what the build needs.\n\
         # Version control, editors and local tooling\n\
         .git\n.gitignore\n.idea\n.vscode\n*.swp\n\
         # Secrets and local environment files\n\
         .env\n.env.*\n*.pem\n*.key\n*.p12\nid_rsa*\n.netrc\n\
         # Logs, test output and build outputs\n\
         *.log\ncoverage.*\ntmp/\nbin/\ndist/\n\
         # Container files that the image does not need\n\
         Dockerfile*\n*.Dockerfile\ndocker-compose*.y*ml\ncompose*.y*ml\ndeploy/\n\
         node_modules\n",
    );
    match lang {
        Language::Go => t.push_str("# Go\n*.test\n*.out\n"),
        Language::Rust => t.push_str("# Rust\ntarget/\n**/*.rs.bk\n"),
    }
    t
}
