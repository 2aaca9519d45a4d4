//! `drydock.toml`: the project's settings, read strictly.
//!
//! The file is read once into [`Config`], whose durations, quantities, ports and users are
//! typed values: serde reads the text (unknown keys and wrong types are errors with the line),
//! then each value is checked and converted in one step. A bad value is an error that names the
//! file, the key and the fix, never a default; nothing here guesses. What the file leaves out
//! is `None`: detection and defaults are `project`'s job.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

pub const FILE_NAME: &str = "drydock.toml";

/// `[health] interval` when the file leaves it out.
pub const DEFAULT_HEALTH_INTERVAL: Duration = Duration::from_secs(10);
/// `[health] timeout` when the file leaves it out.
pub const DEFAULT_HEALTH_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Not TOML, or not drydock.toml's shape. `message` is the toml crate's, which shows the
    /// line; `line` and `column` (1-based) say where, when the parser knows.
    #[error("{path}: {message}")]
    Parse {
        path: PathBuf,
        message: String,
        line: Option<usize>,
        column: Option<usize>,
    },
    #[error("{path}{}: `{key}` {problem}", .line.map(|l| format!(":{l}")).unwrap_or_default())]
    Invalid {
        path: PathBuf,
        key: String,
        problem: String,
        fix: String,
        /// The 1-based line, when the key belongs to an entry whose line is known (an
        /// `[[images]]` table).
        line: Option<usize>,
    },
}

impl ConfigError {
    /// What to do about it, shown after the message (see [`crate::error::Classify::fix`]).
    pub fn fix(&self) -> Option<String> {
        match self {
            ConfigError::Invalid { fix, .. } => Some(fix.clone()),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Go,
    Rust,
}

/// drydock.toml, checked: every value is typed; what the file leaves out is `None` (or empty).
#[derive(Debug, Default, Clone)]
pub struct Config {
    /// Image and binary name.
    pub name: Option<String>,
    /// The service port: the only one exposed.
    pub port: Option<u16>,
    pub build: BuildSection,
    pub image: ImageSection,
    pub context: ContextSection,
    pub health: HealthSection,
    pub resources: ResourcesSection,
    pub scaling: ScalingSection,
    pub ingress: IngressSection,
    pub lifecycle: LifecycleSection,
    /// Secrets the app reads from its environment, by reference: never their values.
    pub secrets: Vec<SecretRef>,
    pub lint: LintSection,
    pub verify: VerifySection,
    /// `[[images]]`: several images from one repository, each with its own main package or
    /// binary, port, health check and resources; everything else is shared. Empty for the
    /// one-image file.
    pub images: Vec<ImageEntry>,
}

/// One `[[images]]` table, checked: its health and resources are already merged over the
/// top-level `[health]` and `[resources]` (a key the entry leaves out is the shared one).
#[derive(Debug, Clone)]
pub struct ImageEntry {
    pub name: String,
    /// Go main package (`./cmd/api`) or Rust binary target.
    pub main: Option<String>,
    pub port: Option<u16>,
    /// The image reference; default: the shared `[image] tag` with this image's name as the
    /// last path component, else `NAME:latest`.
    pub tag: Option<String>,
    pub health: HealthSection,
    pub resources: ResourcesSection,
    /// Its position among the `[[images]]` tables and the line where it starts, for errors
    /// about it.
    pub index: usize,
    pub line: Option<usize>,
}

/// `[[images]]` as serde reads it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawImageEntry {
    name: Option<String>,
    main: Option<String>,
    port: Option<i64>,
    tag: Option<String>,
    health: Option<RawHealth>,
    resources: Option<RawResources>,
}

/// drydock.toml as serde reads it, before its values are checked and typed.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    name: Option<String>,
    port: Option<i64>,
    #[serde(default)]
    build: BuildSection,
    #[serde(default)]
    image: RawImage,
    #[serde(default)]
    context: ContextSection,
    #[serde(default)]
    health: RawHealth,
    #[serde(default)]
    resources: RawResources,
    #[serde(default)]
    scaling: RawScaling,
    #[serde(default)]
    ingress: IngressSection,
    #[serde(default)]
    lifecycle: RawLifecycle,
    #[serde(default)]
    secrets: Vec<SecretRef>,
    #[serde(default)]
    lint: LintSection,
    #[serde(default)]
    verify: VerifySection,
    #[serde(default)]
    images: Vec<RawImageEntry>,
}

/// `drydock verify`'s policy: which keys may vouch for an image, and what must be there.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifySection {
    /// Public keys (PEM, relative to the project), any of which may vouch.
    #[serde(default)]
    pub keys: Vec<PathBuf>,
    /// What must be signed by one of them (default: all three).
    pub require: Option<Vec<Requirement>>,
}

/// What `drydock verify` can require of an image.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Deserialize,
    serde::Serialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Requirement {
    /// A cosign signature of the manifest digest.
    Signature,
    /// A signed SBOM attestation about the digest.
    Sbom,
    /// A signed SLSA provenance about the digest.
    Provenance,
}

/// `drydock lint` settings: which rules, how severe, what fails the run.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LintSection {
    /// Only these rules, instead of the default selection.
    #[serde(default)]
    pub select: Vec<String>,
    /// Opt-in rules on top of the selection.
    #[serde(default)]
    pub extend_select: Vec<String>,
    #[serde(default)]
    pub ignore: Vec<String>,
    #[serde(default)]
    pub severity: BTreeMap<String, crate::lint::Severity>,
    /// The lowest severity that makes `drydock lint` exit 1 (default: warning).
    pub fail_on: Option<crate::lint::Severity>,
    /// "reference" (default) or "files": how secrets may reach the environment (KS008).
    pub secret_env: Option<crate::lint::SecretEnvStance>,
    /// "restricted" (default), "baseline" or "privileged": the Pod Security Standards profile.
    pub pod_security: Option<crate::lint::PodSecurity>,
    /// Paths a directory search leaves out: .gitignore-style patterns, relative to the folder
    /// of this drydock.toml (deliberately broken test fixtures, vendored files).
    #[serde(default)]
    pub exclude: Vec<String>,
}

/// Horizontal scaling (a HorizontalPodAutoscaler and a PodDisruptionBudget in Kubernetes).
#[derive(Debug, Default, Clone, Copy)]
pub struct ScalingSection {
    /// 1..=1000.
    pub min_replicas: Option<u32>,
    /// 1..=1000, not below `min_replicas`.
    pub max_replicas: Option<u32>,
    /// Target average CPU use, in percent of the CPU request (1..=100).
    pub cpu_target: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScaling {
    min_replicas: Option<i64>,
    max_replicas: Option<i64>,
    cpu_target: Option<i64>,
}

/// How the service is reached from outside: an Ingress with TLS.
#[derive(Debug, Default, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct IngressSection {
    pub host: Option<String>,
    /// The Kubernetes Secret that holds the TLS certificate and key.
    pub tls_secret: Option<String>,
    /// The ingress class (e.g. "nginx").
    pub class: Option<String>,
    /// A cert-manager ClusterIssuer to request the certificate from.
    pub cert_manager_issuer: Option<String>,
    /// The namespace of the ingress controller, the only one the NetworkPolicy admits.
    pub controller_namespace: Option<String>,
}

/// How the app stops.
#[derive(Debug, Default, Clone, Copy)]
pub struct LifecycleSection {
    /// How long the app may take to shut down after SIGTERM before it is killed.
    pub shutdown_grace: Option<Duration>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLifecycle {
    shutdown_grace: Option<String>,
}

/// One secret, by reference: the variable the app reads, and where the value lives (a
/// Kubernetes Secret and key; a Compose secret file of the same name).
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct SecretRef {
    pub env: String,
    pub secret: String,
    pub key: String,
}

/// CPU and memory, as Kubernetes quantities: requests are what the scheduler reserves, limits
/// what the container may use (and what `drydock run` applies). A limit is never below its
/// request.
#[derive(Debug, Default, Clone, Copy)]
pub struct ResourcesSection {
    /// Millicores.
    pub cpu_request_milli: Option<u64>,
    /// Millicores.
    pub cpu_limit_milli: Option<u64>,
    /// Bytes.
    pub memory_request: Option<u64>,
    /// Bytes.
    pub memory_limit: Option<u64>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawResources {
    cpu_request: Option<String>,
    cpu_limit: Option<String>,
    memory_request: Option<String>,
    memory_limit: Option<String>,
}

/// The image's health check (run by drydock-helper's probe).
#[derive(Debug, Default, Clone)]
pub struct HealthSection {
    /// Liveness path, probed on the service port (default /healthz).
    pub path: Option<String>,
    /// Readiness path (default /readyz).
    pub ready_path: Option<String>,
    pub interval: Option<Duration>,
    /// Shorter than the interval.
    pub timeout: Option<Duration>,
    pub start_period: Option<Duration>,
    /// 1..=100.
    pub retries: Option<u32>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHealth {
    path: Option<String>,
    ready_path: Option<String>,
    interval: Option<String>,
    timeout: Option<String>,
    start_period: Option<String>,
    retries: Option<i64>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildSection {
    pub language: Option<Language>,
    /// Go: the main package (`.`, `./cmd/api`); Rust: the binary target name.
    pub main: Option<String>,
    /// A prebuilt binary to package instead of compiling.
    pub binary: Option<PathBuf>,
    /// Extra environment for the compiler (GOFLAGS, GOPROXY, CARGO_*, ...).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

#[derive(Debug, Default, Clone)]
pub struct ImageSection {
    /// `scratch` (default), a registry reference, `oci:DIR[:REF]` for a local OCI image layout
    /// or `docker-archive:FILE[:TAG]`; paths are relative to the project.
    pub base: Option<String>,
    /// Numeric uid and gid (`uid[:gid]` in the file), never root; default 65532:65532.
    pub user: Option<(u32, u32)>,
    /// Image reference to tag the result with (default `<name>:latest`).
    pub tag: Option<String>,
    pub env: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    pub assets: Vec<Asset>,
    /// Put drydock-helper in the image (init, GOMAXPROCS/GOMEMLIMIT, health probe). Default true.
    pub helper: Option<bool>,
    /// Which SBOM documents `drydock build --sbom-dir` writes: spdx (default), cyclonedx, both, none.
    pub sbom: Option<SbomFormat>,
    /// The platforms to build for (`platforms = ["linux/amd64", "linux/arm64"]` or `["all"]`).
    pub platforms: Option<crate::platforms::PlatformSpec>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawImage {
    base: Option<String>,
    user: Option<String>,
    tag: Option<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    assets: Vec<Asset>,
    /// Keys of `env` whose literal values may be baked in although they look like secrets
    /// (the judgement `drydock lint` makes for DF008); only the check reads it.
    #[serde(default)]
    allow_secret_env: Vec<String>,
    helper: Option<bool>,
    sbom: Option<SbomFormat>,
    platforms: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Asset {
    /// A directory or file in the build context.
    pub src: String,
    /// Where it goes in the image (absolute).
    pub dst: String,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextSection {
    /// Secret-looking files (context-relative paths) that may reach the build anyway.
    #[serde(default)]
    pub allow_secrets: Vec<String>,
}

impl Config {
    /// Reads `dir/drydock.toml`; a missing file is an empty config (`None` path).
    pub fn load(dir: &Path) -> Result<(Config, Option<PathBuf>), ConfigError> {
        let path = dir.join(FILE_NAME);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok((Config::default(), None))
            }
            Err(source) => return Err(ConfigError::Io { path, source }),
        };
        let cfg = Config::parse(&text, &path)?;
        Ok((cfg, Some(path)))
    }

    /// Reads and checks drydock.toml's text; `path` is for the errors.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        image_array_spelling(text, path)?;
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let (line, column) = e.span().map(|s| line_column(text, s.start)).unzip();
            ConfigError::Parse {
                path: path.to_path_buf(),
                message: plain_types(e.to_string().trim_end()),
                line,
                column,
            }
        })?;
        raw.check(path, text)
    }

    /// The names of the `[[images]]` entries, in the file's order.
    pub fn image_names(&self) -> Vec<&str> {
        self.images.iter().map(|i| i.name.as_str()).collect()
    }

    /// The configuration of one `[[images]]` entry: its name, main, port, tag, health and
    /// resources in place of the shared ones, and no entries left (so the result is a
    /// one-image config, resolved as one). `None` when there is no entry of that name.
    pub fn for_image(&self, name: &str) -> Option<Config> {
        let e = self.images.iter().find(|i| i.name == name)?;
        let mut c = self.clone();
        c.images = Vec::new();
        c.name = Some(e.name.clone());
        c.port = e.port.or(self.port);
        if e.main.is_some() {
            c.build.main = e.main.clone();
        }
        c.image.tag = e.tag.clone().or_else(|| {
            self.image
                .tag
                .as_deref()
                .map(|t| with_last_component(t, &e.name))
        });
        c.health = e.health.clone();
        c.resources = e.resources;
        Some(c)
    }
}

/// `reference` with the last component of its repository replaced by `name` (its registry,
/// the rest of its path and its tag kept): how one reference names each image of a
/// repository (`registry.example.com/team/api:1.4` → `registry.example.com/team/worker:1.4`).
pub fn with_last_component(reference: &str, name: &str) -> String {
    // The tag follows the last `:` after the last `/` (a registry's port comes before it).
    let slash = reference.rfind('/').map_or(0, |i| i + 1);
    let (repo, rest) = match reference[slash..].find([':', '@']) {
        Some(i) => reference.split_at(slash + i),
        None => (reference, ""),
    };
    format!("{}{name}{rest}", &repo[..slash])
}

/// TOML cannot hold `image` both as a table (`[image]`, the shared image settings) and as an
/// array of tables, so the entries are `[[images]]`: an `[[image]]` header says so, with its
/// line, instead of the parser's "duplicate key" or "invalid type".
fn image_array_spelling(text: &str, path: &Path) -> Result<(), ConfigError> {
    let line = text.lines().position(|l| {
        let t = l.trim_start();
        t.starts_with("[[") && t[2..].trim_start().starts_with("image") && {
            let after = t[2..].trim_start()["image".len()..].trim_start();
            after.starts_with("]]")
        }
    });
    match line {
        Some(i) => Err(ConfigError::Invalid {
            path: path.to_path_buf(),
            key: "[[image]]".into(),
            problem: "is not a table drydock reads: [image] holds the settings every image shares, so each image of several is an [[images]] table".into(),
            fix: "write [[images]] (with an s) for each image: name, main, port, tag, [images.health], [images.resources]".into(),
            line: Some(i + 1),
        }),
        None => Ok(()),
    }
}

/// The 1-based line of each `[[images]]` header, in order (entries written inline, as
/// `images = [{ … }]`, have none).
fn image_lines(text: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            let t = l.trim_start();
            t.starts_with("[[")
                && t[2..]
                    .trim_start()
                    .strip_prefix("images")
                    .is_some_and(|a| a.trim_start().starts_with("]]"))
        })
        .map(|(i, _)| i + 1)
        .collect()
}

impl RawConfig {
    /// Checks every section and types its values; the first problem found is the error, naming
    /// its key.
    fn check(self, path: &Path, text: &str) -> Result<Config, ConfigError> {
        let inv = Invalid {
            path,
            prefix: String::new(),
            line: None,
        };
        let port = self.check_top(&inv)?;
        let user = self.check_image(&inv)?;
        let platforms = self
            .image
            .platforms
            .as_ref()
            .map(|v| crate::platforms::PlatformSpec::parse(v))
            .transpose()
            .map_err(|p| {
                inv.at(
                    "image.platforms",
                    p,
                    "list platforms such as [\"linux/amd64\", \"linux/arm64\"], or [\"all\"] for every platform of the base",
                )
            })?;
        let (health, lifecycle) = self.check_health(&inv)?;
        let scaling = self.check_scaling(&inv)?;
        self.check_ingress(&inv)?;
        self.check_secrets(&inv)?;
        let resources = self.check_resources(&inv)?;
        self.check_env(&inv)?;
        let images = self.check_images(path, text)?;
        let RawConfig {
            name,
            build,
            image,
            context,
            ingress,
            secrets,
            lint,
            verify,
            ..
        } = self;
        Ok(Config {
            name,
            port,
            build,
            image: ImageSection {
                base: image.base,
                user,
                tag: image.tag,
                env: image.env,
                labels: image.labels,
                assets: image.assets,
                helper: image.helper,
                sbom: image.sbom,
                platforms,
            },
            context,
            health,
            resources,
            scaling,
            ingress,
            lifecycle,
            secrets,
            lint,
            verify,
            images,
        })
    }

    /// `[[images]]`: each named (validly, once), its port, tag, health and resources checked
    /// as the top-level ones are, merged over them.
    fn check_images(&self, path: &Path, text: &str) -> Result<Vec<ImageEntry>, ConfigError> {
        let lines = image_lines(text);
        let mut out: Vec<ImageEntry> = Vec::new();
        for (i, e) in self.images.iter().enumerate() {
            let line = lines.get(i).copied();
            let inv = Invalid {
                path,
                prefix: format!("images[{i}]."),
                line,
            };
            let Some(name) = &e.name else {
                return Err(inv.at(
                    "name",
                    "is missing: each image needs a name (its image name, binary name and workload name)".into(),
                    "add name = \"api\" (lowercase letters, digits, `.`, `_` and `-`) to this [[images]] table",
                ));
            };
            if !valid_name(name) {
                return Err(inv.at(
                    "name",
                    format!("is {name:?}, not a valid image name"),
                    NAME_FIX,
                ));
            }
            if let Some(first) = out.iter().find(|o| &o.name == name) {
                return Err(inv.at(
                    "name",
                    format!(
                        "is {name:?}, which {} names already",
                        first
                            .line
                            .map_or("another [[images]] table".into(), |l| format!(
                                "the [[images]] table at line {l}"
                            ))
                    ),
                    "give each image its own name: it names the image, its binary and its workload",
                ));
            }
            if let Some(m) = &e.main {
                if m.trim().is_empty() {
                    return Err(inv.at(
                        "main",
                        "is empty".into(),
                        "name the Go main package (e.g. \"./cmd/api\") or the Rust binary target",
                    ));
                }
            }
            let port = e
                .port
                .map(|p| {
                    validate_port(p).map_err(|p| {
                        inv.at(
                            "port",
                            p,
                            "use a TCP port between 1 and 65535, e.g. port = 8080",
                        )
                    })
                })
                .transpose()?;
            if let Some(tag) = &e.tag {
                if let Err(err) = crate::reference::Reference::parse(tag) {
                    return Err(inv.at(
                        "tag",
                        format!("is {tag:?}: {err}"),
                        "write an image reference such as \"registry.example.com/team/api:1.0\"",
                    ));
                }
            }
            // The entry's keys over the shared ones, then checked as a whole: a timeout is
            // judged against the interval this image will have.
            let merged = RawConfig {
                health: merge_health(&self.health, e.health.as_ref()),
                resources: merge_resources(&self.resources, e.resources.as_ref()),
                ..RawConfig::default()
            };
            let (health, _) = merged.check_health(&inv)?;
            let resources = merged.check_resources(&inv)?;
            out.push(ImageEntry {
                name: name.clone(),
                main: e.main.clone(),
                port,
                tag: e.tag.clone(),
                health,
                resources,
                index: i,
                line,
            });
        }
        Ok(out)
    }

    /// `name` and `port`.
    fn check_top(&self, inv: &Invalid<'_>) -> Result<Option<u16>, ConfigError> {
        if let Some(name) = &self.name {
            if !valid_name(name) {
                return Err(inv.at(
                    "name",
                    format!("is {name:?}, not a valid image name"),
                    NAME_FIX,
                ));
            }
        }
        self.port
            .map(|port| {
                validate_port(port).map_err(|p| {
                    inv.at(
                        "port",
                        p,
                        "use a TCP port between 1 and 65535, e.g. port = 8080",
                    )
                })
            })
            .transpose()
    }

    /// [image]: user, base, assets; the user typed.
    fn check_image(&self, inv: &Invalid<'_>) -> Result<Option<(u32, u32)>, ConfigError> {
        let mut typed = None;
        if let Some(user) = &self.image.user {
            let (uid, gid) = parse_user(user).map_err(|p| inv.at("image.user", p, "use a numeric uid[:gid] such as \"65532:65532\"; names need /etc/passwd and defeat runAsNonRoot checks"))?;
            if uid == 0 {
                return Err(inv.at(
                    "image.user",
                    format!("is {user:?}, the root user"),
                    "use a numeric non-root uid[:gid] such as \"65532:65532\" (the default): drydock images never run as root",
                ));
            }
            typed = Some((uid, gid));
        }
        if let Some(base) = &self.image.base {
            if let Err(crate::base::BaseError::Spec { problem, fix, .. }) =
                crate::base::BaseSpec::parse(base, Path::new("."))
            {
                return Err(inv.at("image.base", format!("is {base:?}: {problem}"), &fix));
            }
        }
        for (i, a) in self.image.assets.iter().enumerate() {
            if !a.dst.starts_with('/') {
                return Err(inv.at(
                    &format!("image.assets[{i}].dst"),
                    format!("is {:?}, not an absolute path", a.dst),
                    "write where the asset goes in the image, e.g. \"/app/static\"",
                ));
            }
            if a.dst.split('/').any(|c| c == ".." || c == ".") || a.dst.contains(['\\', '\0']) {
                return Err(inv.at(
                    &format!("image.assets[{i}].dst"),
                    format!(
                        "is {:?}: `.` and `..` have no place in an image path",
                        a.dst
                    ),
                    "write the absolute path itself, e.g. \"/app/static\"",
                ));
            }
            if a.src.is_empty() || a.src.starts_with('/') || a.src.split('/').any(|s| s == "..") {
                return Err(inv.at(
                    &format!("image.assets[{i}].src"),
                    format!("is {:?}, not a path inside the build context", a.src),
                    "use a path relative to the project directory, e.g. \"static\"",
                ));
            }
        }
        Ok(typed)
    }

    /// [health] and [lifecycle]: paths, durations, retries, typed.
    fn check_health(
        &self,
        inv: &Invalid<'_>,
    ) -> Result<(HealthSection, LifecycleSection), ConfigError> {
        let h = &self.health;
        for (key, p) in [
            ("health.path", &h.path),
            ("health.ready_path", &h.ready_path),
        ] {
            if let Some(p) = p {
                if !p.starts_with('/') || p.contains(char::is_whitespace) {
                    return Err(inv.at(
                        key,
                        format!("is {p:?}"),
                        "use an absolute URL path such as \"/healthz\"",
                    ));
                }
            }
        }
        let duration = |key: &str, v: &Option<String>| {
            v.as_deref()
                .map(|v| {
                    parse_duration(v).map_err(|p| {
                        inv.at(
                            key,
                            p,
                            "write a duration such as \"500ms\", \"10s\" or \"1m\"",
                        )
                    })
                })
                .transpose()
        };
        let interval = duration("health.interval", &h.interval)?;
        let timeout = duration("health.timeout", &h.timeout)?;
        let start_period = duration("health.start_period", &h.start_period)?;
        let shutdown_grace = duration("lifecycle.shutdown_grace", &self.lifecycle.shutdown_grace)?;
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        match (timeout, interval) {
            (Some(t), Some(i)) if t >= i => {
                return Err(inv.at(
                    "health.timeout",
                    format!(
                        "({}) is not shorter than health.interval ({})",
                        text(&h.timeout),
                        text(&h.interval)
                    ),
                    "make the timeout shorter than the interval, e.g. timeout = \"3s\" with interval = \"10s\": a probe must end before the next one starts",
                ));
            }
            (Some(t), None) if t >= DEFAULT_HEALTH_INTERVAL => {
                return Err(inv.at(
                    "health.timeout",
                    format!(
                        "({}) is not shorter than the default interval (10s)",
                        text(&h.timeout)
                    ),
                    "shorten the timeout, or set a longer health.interval",
                ));
            }
            (None, Some(i)) if i <= DEFAULT_HEALTH_TIMEOUT => {
                return Err(inv.at(
                    "health.interval",
                    format!(
                        "({}) is not longer than the default timeout (3s)",
                        text(&h.interval)
                    ),
                    "lengthen the interval, or set a shorter health.timeout",
                ));
            }
            _ => {}
        }
        let retries = match h.retries {
            Some(r) if !(1..=100).contains(&r) => {
                return Err(inv.at(
                    "health.retries",
                    format!("is {r}"),
                    "use a number of consecutive failures between 1 and 100, e.g. 3",
                ));
            }
            r => r.map(|r| r as u32),
        };
        Ok((
            HealthSection {
                path: h.path.clone(),
                ready_path: h.ready_path.clone(),
                interval,
                timeout,
                start_period,
                retries,
            },
            LifecycleSection { shutdown_grace },
        ))
    }

    /// [scaling]: replica counts and the CPU target, typed.
    fn check_scaling(&self, inv: &Invalid<'_>) -> Result<ScalingSection, ConfigError> {
        let sc = &self.scaling;
        for (key, v) in [
            ("scaling.min_replicas", sc.min_replicas),
            ("scaling.max_replicas", sc.max_replicas),
        ] {
            if let Some(v) = v {
                if !(1..=1000).contains(&v) {
                    return Err(inv.at(
                        key,
                        format!("is {v}"),
                        "use a replica count between 1 and 1000",
                    ));
                }
            }
        }
        if let (Some(min), Some(max)) = (sc.min_replicas, sc.max_replicas) {
            if max < min {
                return Err(inv.at(
                    "scaling.max_replicas",
                    format!("({max}) is below min_replicas ({min})"),
                    "raise max_replicas or lower min_replicas",
                ));
            }
        }
        if let Some(t) = sc.cpu_target {
            if !(1..=100).contains(&t) {
                return Err(inv.at(
                    "scaling.cpu_target",
                    format!("is {t}"),
                    "use a percentage of the CPU request between 1 and 100, e.g. 70",
                ));
            }
        }
        // Each is within 1..=1000 or 1..=100 by now.
        let typed = |v: Option<i64>| v.map(|v| v as u32);
        Ok(ScalingSection {
            min_replicas: typed(sc.min_replicas),
            max_replicas: typed(sc.max_replicas),
            cpu_target: typed(sc.cpu_target),
        })
    }

    /// [ingress]: host and object names.
    fn check_ingress(&self, inv: &Invalid<'_>) -> Result<(), ConfigError> {
        if let Some(h) = &self.ingress.host {
            if !valid_dns_name(h, true) {
                return Err(inv.at(
                    "ingress.host",
                    format!("is {h:?}, not a DNS name"),
                    "use a host name such as \"api.example.com\"",
                ));
            }
        }
        for (key, v) in [
            ("ingress.tls_secret", &self.ingress.tls_secret),
            ("ingress.class", &self.ingress.class),
            (
                "ingress.cert_manager_issuer",
                &self.ingress.cert_manager_issuer,
            ),
            (
                "ingress.controller_namespace",
                &self.ingress.controller_namespace,
            ),
        ] {
            if let Some(v) = v {
                if !valid_dns_name(v, false) {
                    return Err(inv.at(
                        key,
                        format!("is {v:?}, not a Kubernetes object name"),
                        "use lowercase letters, digits, `-` and `.`",
                    ));
                }
            }
        }
        Ok(())
    }

    /// [[secrets]]: names, keys, no literal twin in [image.env].
    fn check_secrets(&self, inv: &Invalid<'_>) -> Result<(), ConfigError> {
        let mut seen = std::collections::BTreeSet::new();
        for (i, s) in self.secrets.iter().enumerate() {
            if !valid_env_name(&s.env) {
                return Err(inv.at(
                    &format!("secrets[{i}].env"),
                    format!("is {:?}", s.env),
                    "use the environment variable name the app reads, e.g. \"API_TOKEN\"",
                ));
            }
            if !seen.insert(s.env.clone()) {
                return Err(inv.at(
                    &format!("secrets[{i}].env"),
                    format!("{:?} is listed twice", s.env),
                    "keep one entry per variable",
                ));
            }
            if !valid_dns_name(&s.secret, false) {
                return Err(inv.at(
                    &format!("secrets[{i}].secret"),
                    format!("is {:?}, not a Kubernetes Secret name", s.secret),
                    "use lowercase letters, digits, `-` and `.`",
                ));
            }
            if s.key.is_empty()
                || !s
                    .key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            {
                return Err(inv.at(
                    &format!("secrets[{i}].key"),
                    format!("is {:?}", s.key),
                    "use letters, digits, `-`, `_` and `.`",
                ));
            }
            if self.image.env.contains_key(&s.env) {
                return Err(inv.at(
                    &format!("secrets[{i}].env"),
                    format!("{:?} also has a literal value in [image.env]", s.env),
                    "remove it from [image.env]: secrets never go into the image",
                ));
            }
        }
        Ok(())
    }

    /// [resources]: quantities, limits not below requests, typed.
    fn check_resources(&self, inv: &Invalid<'_>) -> Result<ResourcesSection, ConfigError> {
        let r = &self.resources;
        let cpu = |key: &str, v: &Option<String>| {
            v.as_deref()
                .map(|s| {
                    crate::quantity::parse_cpu(s).map_err(|p| {
                        inv.at(key, p, "e.g. cpu_limit = \"1\" or cpu_request = \"250m\"")
                    })
                })
                .transpose()
        };
        let mem = |key: &str, v: &Option<String>| {
            v.as_deref()
                .map(|s| {
                    crate::quantity::parse_memory(s)
                        .map_err(|p| inv.at(key, p, "e.g. memory_limit = \"256Mi\""))
                })
                .transpose()
        };
        let (cr, cl) = (
            cpu("resources.cpu_request", &r.cpu_request)?,
            cpu("resources.cpu_limit", &r.cpu_limit)?,
        );
        let (mr, ml) = (
            mem("resources.memory_request", &r.memory_request)?,
            mem("resources.memory_limit", &r.memory_limit)?,
        );
        if let (Some(req), Some(lim)) = (cr, cl) {
            if lim < req {
                return Err(inv.at(
                    "resources.cpu_limit",
                    format!(
                        "({}) is below cpu_request ({})",
                        r.cpu_limit.as_deref().unwrap_or_default(),
                        r.cpu_request.as_deref().unwrap_or_default()
                    ),
                    "raise the limit or lower the request: a limit can never be below the request",
                ));
            }
        }
        if let (Some(req), Some(lim)) = (mr, ml) {
            if lim < req {
                return Err(inv.at(
                    "resources.memory_limit",
                    format!(
                        "({}) is below memory_request ({})",
                        r.memory_limit.as_deref().unwrap_or_default(),
                        r.memory_request.as_deref().unwrap_or_default()
                    ),
                    "raise the limit or lower the request: a limit can never be below the request",
                ));
            }
        }
        Ok(ResourcesSection {
            cpu_request_milli: cr,
            cpu_limit_milli: cl,
            memory_request: mr,
            memory_limit: ml,
        })
    }

    /// [image.env] and [build.env] variable names.
    fn check_env(&self, inv: &Invalid<'_>) -> Result<(), ConfigError> {
        for k in self.image.env.keys().chain(self.build.env.keys()) {
            if !valid_env_name(k) {
                return Err(inv.at(
                    "env",
                    format!("has the variable name {k:?}"),
                    "use names of letters, digits and `_`, not starting with a digit",
                ));
            }
        }
        self.check_image_env_secrets(inv)
    }

    /// `[image] env` is baked into the image config, readable by anyone who can pull it: a
    /// literal secret there is refused, by the same judgement as DF008 in a Dockerfile, unless
    /// `allow_secret_env` names the key. (A placeholder such as `changeme` is let through, as
    /// DF008 only notes it.)
    fn check_image_env_secrets(&self, inv: &Invalid<'_>) -> Result<(), ConfigError> {
        use drydock_values::secret::{secret_literal, secret_problem, Secret};
        for k in &self.image.allow_secret_env {
            if !self.image.env.contains_key(k) {
                return Err(inv.at(
                    "image.allow_secret_env",
                    format!("names {k:?}, which is not a key of [image] env"),
                    "list only keys of [image] env whose literal values may be baked into the image",
                ));
            }
        }
        for (k, v) in &self.image.env {
            if self.image.allow_secret_env.contains(k) {
                continue;
            }
            if let Some(kind @ (Secret::Literal | Secret::InUrl)) = secret_literal(k, v) {
                {
                    return Err(inv.at(
                        &format!("image.env.{k}"),
                        format!("looks like a secret ({}): it would be baked into the image config, readable by anyone who can pull the image (what `drydock lint` flags as DF008 in a Dockerfile)", secret_problem(k, kind)),
                        &format!("remove it from [image] env and pass it at run time (`drydock run -e {k}`), or declare it under [[secrets]] (env = \"{k}\") for Kubernetes and Compose; if it is not a secret, list it in [image] allow_secret_env = [\"{k}\"]"),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// How to write a valid image name.
const NAME_FIX: &str =
    "use lowercase letters, digits, `.`, `_` and `-`, starting with a letter or digit";

/// The 1-based line and column (in characters) of a byte offset into `text`, as the toml crate
/// counts them in its messages.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

/// Builds the error for one key of one file; keys of an `[[images]]` entry carry its prefix
/// (`images[1].`) and line.
struct Invalid<'a> {
    path: &'a Path,
    prefix: String,
    line: Option<usize>,
}

impl Invalid<'_> {
    fn at(&self, key: &str, problem: String, fix: &str) -> ConfigError {
        ConfigError::Invalid {
            path: self.path.to_path_buf(),
            key: format!("{}{key}", self.prefix),
            problem,
            fix: fix.into(),
            line: self.line,
        }
    }
}

/// An entry's `[images.health]` keys over the shared `[health]`.
fn merge_health(shared: &RawHealth, own: Option<&RawHealth>) -> RawHealth {
    let Some(o) = own else {
        return shared.clone();
    };
    let s = shared.clone();
    RawHealth {
        path: o.path.clone().or(s.path),
        ready_path: o.ready_path.clone().or(s.ready_path),
        interval: o.interval.clone().or(s.interval),
        timeout: o.timeout.clone().or(s.timeout),
        start_period: o.start_period.clone().or(s.start_period),
        retries: o.retries.or(s.retries),
    }
}

/// An entry's `[images.resources]` keys over the shared `[resources]`.
fn merge_resources(shared: &RawResources, own: Option<&RawResources>) -> RawResources {
    let Some(o) = own else {
        return shared.clone();
    };
    let s = shared.clone();
    RawResources {
        cpu_request: o.cpu_request.clone().or(s.cpu_request),
        cpu_limit: o.cpu_limit.clone().or(s.cpu_limit),
        memory_request: o.memory_request.clone().or(s.memory_request),
        memory_limit: o.memory_limit.clone().or(s.memory_limit),
    }
}

/// serde's type names, in words: "expected i64" means nothing to someone writing TOML.
fn plain_types(message: &str) -> String {
    [
        ("expected i64", "expected a whole number"),
        ("expected u64", "expected a whole number"),
        ("expected u16", "expected a whole number"),
        ("expected a boolean", "expected true or false"),
        ("expected a string", "expected a quoted string"),
        ("expected a sequence", "expected a list [...]"),
        ("expected a map", "expected a table"),
    ]
    .iter()
    .fold(message.to_string(), |m, (from, to)| m.replace(from, to))
}

/// Durations: `500ms`, `10s`, `2m`, `1h`.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let v: f64 = num
        .parse()
        .map_err(|_| format!("is {s:?}, not a duration"))?;
    let secs = match unit {
        "ms" => v / 1000.0,
        "s" => v,
        "m" => v * 60.0,
        "h" => v * 3600.0,
        _ => return Err(format!("is {s:?}: the unit must be ms, s, m or h")),
    };
    if !(secs > 0.0 && secs.is_finite()) {
        return Err(format!("is {s:?}, not a positive duration"));
    }
    Ok(std::time::Duration::from_secs_f64(secs))
}

fn validate_port(port: i64) -> Result<u16, String> {
    u16::try_from(port)
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| format!("is {port}, outside 1..65535"))
}

/// Parses a numeric `uid[:gid]`.
pub fn parse_user(user: &str) -> Result<(u32, u32), String> {
    let (u, g) = user.split_once(':').unwrap_or((user, user));
    match (u.parse::<u32>(), g.parse::<u32>()) {
        (Ok(u), Ok(g)) => Ok((u, g)),
        _ => Err(format!("is {user:?}, not a numeric uid[:gid]")),
    }
}

pub fn valid_env_name(k: &str) -> bool {
    !k.is_empty()
        && !k.starts_with(|c: char| c.is_ascii_digit())
        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// RFC 1123 names (Kubernetes object names); `host` also allows a leading `*.` wildcard.
pub fn valid_dns_name(s: &str, host: bool) -> bool {
    let s = if host {
        s.strip_prefix("*.").unwrap_or(s)
    } else {
        s
    };
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        })
}

pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
}

/// Which documents `drydock build` writes (`--sbom`, `[image] sbom`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum SbomFormat {
    #[default]
    Spdx,
    Cyclonedx,
    Both,
    None,
}

impl SbomFormat {
    pub fn spdx(self) -> bool {
        matches!(self, SbomFormat::Spdx | SbomFormat::Both)
    }
    pub fn cyclonedx(self) -> bool {
        matches!(self, SbomFormat::Cyclonedx | SbomFormat::Both)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error as drydock shows it: the message, then the fix on its own line.
    fn err(text: &str) -> String {
        let e = Config::parse(text, Path::new("drydock.toml")).unwrap_err();
        crate::error::Failure::of(&e).text()
    }

    #[test]
    fn unknown_keys_are_named() {
        let e = err("name = \"a\"\n[image]\nusr = \"1\"\n");
        assert!(e.contains("usr") && e.contains("line 3"), "{e}");
        assert!(err("nme = \"a\"").contains("nme"));
        // Where, as fields: the line and column the toml crate's message shows.
        let e = Config::parse(
            "name = \"é\"\n[image]\n  usr = \"1\"\n",
            Path::new("d.toml"),
        );
        assert!(
            matches!(
                e,
                Err(ConfigError::Parse {
                    line: Some(3),
                    column: Some(3),
                    ..
                })
            ),
            "{e:?}"
        );
    }

    #[test]
    fn bad_values_name_the_key_and_fix() {
        let e = err("port = 70000");
        assert!(e.contains("`port` is 70000") && e.contains("fix:"), "{e}");
        // The fix is the error's own, not part of its message.
        let e = Config::parse("port = 70000", Path::new("drydock.toml")).unwrap_err();
        assert!(!e.to_string().contains("fix:") && e.fix().is_some(), "{e}");
        assert!(err("port = 0").contains("`port`"));
        assert!(err("[image]\nuser = \"app\"").contains("`image.user`"));
        assert!(err("[image]\nbase = \"Not A Ref\"").contains("`image.base`"));
        assert!(err("name = \"Bad Name\"").contains("`name`"));
        assert!(
            err("[image]\nassets = [{ src = \"../x\", dst = \"/a\" }]").contains("assets[0].src")
        );
        assert!(err("[image]\nassets = [{ src = \"x\", dst = \"a\" }]").contains("assets[0].dst"));
        assert!(err("[health]\ninterval = \"10x\"").contains("`health.interval`"));
        assert!(err("[health]\nretries = 0").contains("`health.retries`"));
        assert!(err("[resources]\ncpu_limit = \"500x\"").contains("`resources.cpu_limit`"));
        assert!(
            err("[scaling]\nmin_replicas = 3\nmax_replicas = 2").contains("`scaling.max_replicas`")
        );
        assert!(err("[scaling]\ncpu_target = 0").contains("`scaling.cpu_target`"));
        assert!(err("[ingress]\nhost = \"Bad Host\"").contains("`ingress.host`"));
        assert!(
            err("[[secrets]]\nenv = \"1X\"\nsecret = \"s\"\nkey = \"k\"")
                .contains("secrets[0].env")
        );
        assert!(err("[image.env]\nAPI_TOKEN = \"x\"\n[[secrets]]\nenv = \"API_TOKEN\"\nsecret = \"s\"\nkey = \"k\"").contains("also has a literal value"));
        let e = err("[resources]\nmemory_request = \"512Mi\"\nmemory_limit = \"256Mi\"");
        assert!(
            e.contains("`resources.memory_limit`") && e.contains("below memory_request"),
            "{e}"
        );
        assert!(err("[health]\npath = \"healthz\"").contains("`health.path`"));
        let e = err("[image]\nuser = \"0\"");
        assert!(
            e.contains("drydock.toml: `image.user` is \"0\", the root user") && e.contains("fix:"),
            "{e}"
        );
        let e = err("[health]\ninterval = \"2s\"\ntimeout = \"2s\"");
        assert!(
            e.contains("`health.timeout` (2s) is not shorter than health.interval (2s)"),
            "{e}"
        );
        assert!(err("[health]\ntimeout = \"30s\"").contains("`health.timeout`"));
        assert!(err("[health]\ninterval = \"1s\"").contains("`health.interval`"));
        let e = err("[resources]\nmemory_request = \"1Gi\"\nmemory_limit = \"512Mi\"");
        assert!(e.contains("(512Mi) is below memory_request (1Gi)"), "{e}");
        let e = err("port = \"8080\"");
        assert!(
            e.contains("expected a whole number") && !e.contains("i64"),
            "{e}"
        );
    }

    #[test]
    fn values_are_typed_once() {
        let c = Config::parse(
            "port = 8080\n[image]\nuser = \"1000\"\n[health]\ninterval = \"1m\"\ntimeout = \"500ms\"\n[resources]\ncpu_limit = \"1.5\"\nmemory_request = \"64Mi\"\n[scaling]\nmin_replicas = 3\n[lifecycle]\nshutdown_grace = \"42s\"\n",
            Path::new("x"),
        )
        .unwrap();
        assert_eq!(c.port, Some(8080));
        assert_eq!(c.image.user, Some((1000, 1000)));
        assert_eq!(c.health.interval, Some(Duration::from_secs(60)));
        assert_eq!(c.health.timeout, Some(Duration::from_millis(500)));
        assert_eq!(c.health.start_period, None);
        assert_eq!(c.resources.cpu_limit_milli, Some(1500));
        assert_eq!(c.resources.cpu_request_milli, None);
        assert_eq!(c.resources.memory_request, Some(64 << 20));
        assert_eq!(c.scaling.min_replicas, Some(3));
        assert_eq!(c.scaling.max_replicas, None);
        assert_eq!(c.lifecycle.shutdown_grace, Some(Duration::from_secs(42)));
    }

    #[test]
    fn images_tables_take_their_own_keys_over_the_shared_ones() {
        let text = "port = 8080\n[image]\ntag = \"registry.example.com/team/app:1.4\"\n[health]\npath = \"/healthz\"\ninterval = \"20s\"\n[resources]\ncpu_limit = \"2\"\nmemory_limit = \"512Mi\"\n\n[[images]]\nname = \"api\"\nmain = \"./cmd/api\"\n\n[[images]]\nname = \"worker\"\nmain = \"./cmd/worker\"\nport = 9090\ntag = \"other/worker:2\"\n[images.health]\npath = \"/livez\"\n[images.resources]\nmemory_limit = \"1Gi\"\n";
        let c = Config::parse(text, Path::new("x")).unwrap();
        assert_eq!(c.image_names(), ["api", "worker"]);
        assert_eq!(
            c.images.iter().map(|i| i.line).collect::<Vec<_>>(),
            [Some(11), Some(15)]
        );
        let api = c.for_image("api").unwrap();
        assert_eq!(api.name.as_deref(), Some("api"));
        assert_eq!(api.port, Some(8080), "the shared port");
        assert_eq!(api.build.main.as_deref(), Some("./cmd/api"));
        assert_eq!(
            api.image.tag.as_deref(),
            Some("registry.example.com/team/api:1.4"),
            "the shared tag, with the image's name"
        );
        assert_eq!(api.health.path.as_deref(), Some("/healthz"));
        assert_eq!(api.resources.memory_limit, Some(512 << 20));
        assert!(api.images.is_empty(), "one image, resolved as one");
        let w = c.for_image("worker").unwrap();
        assert_eq!(w.port, Some(9090));
        assert_eq!(w.image.tag.as_deref(), Some("other/worker:2"));
        assert_eq!(w.health.path.as_deref(), Some("/livez"));
        assert_eq!(
            w.health.interval,
            Some(Duration::from_secs(20)),
            "keys the entry leaves out are the shared ones"
        );
        assert_eq!(w.resources.memory_limit, Some(1 << 30));
        assert_eq!(w.resources.cpu_limit_milli, Some(2000));
        assert!(c.for_image("nope").is_none());
        // Without [[images]], nothing changes.
        let one = Config::parse("name = \"a\"\n", Path::new("x")).unwrap();
        assert!(one.images.is_empty());
    }

    #[test]
    fn images_tables_mistakes_name_the_line_and_fix() {
        let invalid = |text: &str| match Config::parse(text, Path::new("drydock.toml")) {
            Err(ConfigError::Invalid {
                key,
                line,
                problem,
                fix,
                ..
            }) => (key, line, problem, fix),
            other => panic!("{other:?}"),
        };
        let (key, line, problem, _) =
            invalid("[[images]]\nname = \"a\"\n\n[[images]]\nname = \"a\"\n");
        assert_eq!((key.as_str(), line), ("images[1].name", Some(4)));
        assert!(problem.contains("at line 1 names already"), "{problem}");
        let (key, line, _, fix) = invalid("[[images]]\nmain = \"./cmd/api\"\n");
        assert_eq!((key.as_str(), line), ("images[0].name", Some(1)));
        assert!(fix.contains("add name ="), "{fix}");
        let (key, _, _, _) = invalid("[[images]]\nname = \"Bad Name\"\n");
        assert_eq!(key, "images[0].name");
        let (key, line, _, _) = invalid("[[images]]\nname = \"a\"\nport = 0\n");
        assert_eq!((key.as_str(), line), ("images[0].port", Some(1)));
        let (key, _, _, _) = invalid("[[images]]\nname = \"a\"\ntag = \"Not A Ref\"\n");
        assert_eq!(key, "images[0].tag");
        // Merged, then checked: the entry's timeout against the shared interval.
        let (key, line, _, _) = invalid(
            "[health]\ninterval = \"5s\"\n[[images]]\nname = \"a\"\n[images.health]\ntimeout = \"6s\"\n",
        );
        assert_eq!((key.as_str(), line), ("images[0].health.timeout", Some(3)));
        let (key, _, _, _) = invalid(
            "[[images]]\nname = \"a\"\n[images.resources]\nmemory_request = \"1Gi\"\nmemory_limit = \"1Mi\"\n",
        );
        assert_eq!(key, "images[0].resources.memory_limit");
        // `[[image]]` (the spelling) clashes with [image]: said with its line.
        let (key, line, _, fix) = invalid("[image]\nuser = \"1\"\n[[image]]\nname = \"a\"\n");
        assert_eq!((key.as_str(), line), ("[[image]]", Some(3)));
        assert!(fix.contains("[[images]]"), "{fix}");
        // The message shows the line after the path.
        let e = err("[[images]]\nname = \"a\"\n[[images]]\nname = \"a\"\n");
        assert!(e.starts_with("drydock.toml:3: `images[1].name`"), "{e}");
        // Unknown keys in an entry: the parser's error, with the line.
        assert!(matches!(
            Config::parse("[[images]]\nname = \"a\"\nmian = \"x\"\n", Path::new("x")),
            Err(ConfigError::Parse { line: Some(3), .. })
        ));
    }

    #[test]
    fn one_reference_names_each_image_by_its_last_component() {
        assert_eq!(
            with_last_component("registry.example.com:5000/team/api:1.4", "worker"),
            "registry.example.com:5000/team/worker:1.4"
        );
        assert_eq!(with_last_component("api", "worker"), "worker");
        assert_eq!(
            with_last_component("r.io/api@sha256:00", "w"),
            "r.io/w@sha256:00"
        );
    }

    #[test]
    fn good_config_parses() {
        let c = Config::parse("name = \"gin-api\"\nport = 8080\n[image]\nuser = \"1000:1000\"\nassets = [{ src = \"static\", dst = \"/app/static\" }]\n[image.env]\nA = \"b\"\n", Path::new("x")).unwrap();
        assert_eq!(c.port, Some(8080));
        assert_eq!(parse_user("1000").unwrap(), (1000, 1000));
    }
}
