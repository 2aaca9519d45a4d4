//! `drydock.toml`: the project's settings, read strictly.
//!
//! Unknown keys and bad values are errors that name the file, the key and the fix; nothing here
//! guesses. Detection of what the file leaves out is `project`'s job.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub const FILE_NAME: &str = "drydock.toml";

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
    #[error("{path}: `{key}` {problem}")]
    Invalid {
        path: PathBuf,
        key: String,
        problem: String,
        fix: String,
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

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Image and binary name.
    pub name: Option<String>,
    /// The service port: the only one exposed.
    pub port: Option<i64>,
    #[serde(default)]
    pub build: BuildSection,
    #[serde(default)]
    pub image: ImageSection,
    #[serde(default)]
    pub context: ContextSection,
    #[serde(default)]
    pub health: HealthSection,
    #[serde(default)]
    pub resources: ResourcesSection,
    #[serde(default)]
    pub scaling: ScalingSection,
    #[serde(default)]
    pub ingress: IngressSection,
    #[serde(default)]
    pub lifecycle: LifecycleSection,
    /// Secrets the app reads from its environment, by reference: never their values.
    #[serde(default)]
    pub secrets: Vec<SecretRef>,
    #[serde(default)]
    pub lint: LintSection,
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
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScalingSection {
    pub min_replicas: Option<i64>,
    pub max_replicas: Option<i64>,
    /// Target average CPU use, in percent of the CPU request.
    pub cpu_target: Option<i64>,
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
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LifecycleSection {
    /// How long the app may take to shut down after SIGTERM before it is killed.
    pub shutdown_grace: Option<String>,
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
/// what the container may use (and what `drydock run` applies).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourcesSection {
    pub cpu_request: Option<String>,
    pub cpu_limit: Option<String>,
    pub memory_request: Option<String>,
    pub memory_limit: Option<String>,
}

/// The image's health check (run by drydock-helper's probe).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthSection {
    /// Liveness path, probed on the service port (default /healthz).
    pub path: Option<String>,
    /// Readiness path (default /readyz).
    pub ready_path: Option<String>,
    pub interval: Option<String>,
    pub timeout: Option<String>,
    pub start_period: Option<String>,
    pub retries: Option<i64>,
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

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageSection {
    /// `scratch` (default) or `oci:PATH` for a local OCI image layout.
    pub base: Option<String>,
    /// Numeric `uid[:gid]`; default 65532:65532.
    pub user: Option<String>,
    /// Image reference to tag the result with (default `<name>:latest`).
    pub tag: Option<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub assets: Vec<Asset>,
    /// Keys of `env` whose literal values may be baked in although they look like secrets
    /// (the judgement `drydock lint` makes for DF008).
    #[serde(default)]
    pub allow_secret_env: Vec<String>,
    /// Put drydock-helper in the image (init, GOMAXPROCS/GOMEMLIMIT, health probe). Default true.
    pub helper: Option<bool>,
    /// Which SBOM documents `drydock build --sbom-dir` writes: spdx (default), cyclonedx, both, none.
    pub sbom: Option<crate::sbom::SbomFormat>,
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

    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let cfg: Config = toml::from_str(text).map_err(|e| {
            let (line, column) = e.span().map(|s| line_column(text, s.start)).unzip();
            ConfigError::Parse {
                path: path.to_path_buf(),
                message: plain_types(e.to_string().trim_end()),
                line,
                column,
            }
        })?;
        cfg.validate(path)?;
        Ok(cfg)
    }

    /// Checks every section; the first problem found is the error, naming its key.
    fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let inv = Invalid { path };
        self.validate_top(&inv)?;
        self.validate_image(&inv)?;
        self.validate_health(&inv)?;
        self.validate_scaling(&inv)?;
        self.validate_ingress(&inv)?;
        self.validate_secrets(&inv)?;
        self.validate_resources(&inv)?;
        self.validate_env(&inv)
    }

    /// `name` and `port`.
    fn validate_top(&self, inv: &Invalid<'_>) -> Result<(), ConfigError> {
        if let Some(name) = &self.name {
            if !valid_name(name) {
                return Err(inv.at("name", format!("is {name:?}, not a valid image name"), "use lowercase letters, digits, `.`, `_` and `-`, starting with a letter or digit"));
            }
        }
        if let Some(port) = self.port {
            validate_port(port).map_err(|p| {
                inv.at(
                    "port",
                    p,
                    "use a TCP port between 1 and 65535, e.g. port = 8080",
                )
            })?;
        }
        Ok(())
    }

    /// [image]: user, base, assets.
    fn validate_image(&self, inv: &Invalid<'_>) -> Result<(), ConfigError> {
        if let Some(user) = &self.image.user {
            let (uid, _) = parse_user(user).map_err(|p| inv.at("image.user", p, "use a numeric uid[:gid] such as \"65532:65532\"; names need /etc/passwd and defeat runAsNonRoot checks"))?;
            if uid == 0 {
                return Err(inv.at(
                    "image.user",
                    format!("is {user:?}, the root user"),
                    "use a numeric non-root uid[:gid] such as \"65532:65532\" (the default): drydock images never run as root",
                ));
            }
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
        Ok(())
    }

    /// [health] and [lifecycle]: paths, durations, retries.
    fn validate_health(&self, inv: &Invalid<'_>) -> Result<(), ConfigError> {
        for (key, p) in [
            ("health.path", &self.health.path),
            ("health.ready_path", &self.health.ready_path),
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
        for (key, v) in [
            ("health.interval", &self.health.interval),
            ("health.timeout", &self.health.timeout),
            ("health.start_period", &self.health.start_period),
            ("lifecycle.shutdown_grace", &self.lifecycle.shutdown_grace),
        ] {
            if let Some(v) = v {
                parse_duration(v).map_err(|p| {
                    inv.at(
                        key,
                        p,
                        "write a duration such as \"500ms\", \"10s\" or \"1m\"",
                    )
                })?;
            }
        }
        if let (Some(t), Some(i)) = (&self.health.timeout, &self.health.interval) {
            if let (Ok(td), Ok(id)) = (parse_duration(t), parse_duration(i)) {
                if td >= id {
                    return Err(inv.at(
                        "health.timeout",
                        format!("({t}) is not shorter than health.interval ({i})"),
                        "make the timeout shorter than the interval, e.g. timeout = \"3s\" with interval = \"10s\": a probe must end before the next one starts",
                    ));
                }
            }
        } else if let Some(t) = &self.health.timeout {
            if parse_duration(t).is_ok_and(|d| d >= std::time::Duration::from_secs(10)) {
                return Err(inv.at(
                    "health.timeout",
                    format!("({t}) is not shorter than the default interval (10s)"),
                    "shorten the timeout, or set a longer health.interval",
                ));
            }
        } else if let Some(i) = &self.health.interval {
            if parse_duration(i).is_ok_and(|d| d <= std::time::Duration::from_secs(3)) {
                return Err(inv.at(
                    "health.interval",
                    format!("({i}) is not longer than the default timeout (3s)"),
                    "lengthen the interval, or set a shorter health.timeout",
                ));
            }
        }
        if let Some(r) = self.health.retries {
            if !(1..=100).contains(&r) {
                return Err(inv.at(
                    "health.retries",
                    format!("is {r}"),
                    "use a number of consecutive failures between 1 and 100, e.g. 3",
                ));
            }
        }
        Ok(())
    }

    /// [scaling]: replica counts and the CPU target.
    fn validate_scaling(&self, inv: &Invalid<'_>) -> Result<(), ConfigError> {
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
        Ok(())
    }

    /// [ingress]: host and object names.
    fn validate_ingress(&self, inv: &Invalid<'_>) -> Result<(), ConfigError> {
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
    fn validate_secrets(&self, inv: &Invalid<'_>) -> Result<(), ConfigError> {
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

    /// [resources]: quantities, limits not below requests.
    fn validate_resources(&self, inv: &Invalid<'_>) -> Result<(), ConfigError> {
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
        Ok(())
    }

    /// [image.env] and [build.env] variable names.
    fn validate_env(&self, inv: &Invalid<'_>) -> Result<(), ConfigError> {
        for k in self.image.env.keys().chain(self.build.env.keys()) {
            if !valid_env_name(k) {
                return Err(inv.at(
                    "env",
                    format!("has the variable name {k:?}"),
                    "use names of letters, digits and `_`, not starting with a digit",
                ));
            }
        }
        self.validate_image_env_secrets(inv)
    }

    /// `[image] env` is baked into the image config, readable by anyone who can pull it: a
    /// literal secret there is refused, by the same judgement as DF008 in a Dockerfile, unless
    /// `allow_secret_env` names the key. (A placeholder such as `changeme` is let through, as
    /// DF008 only notes it.)
    fn validate_image_env_secrets(&self, inv: &Invalid<'_>) -> Result<(), ConfigError> {
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

/// Builds the error for one key of one file.
struct Invalid<'a> {
    path: &'a Path,
}

impl Invalid<'_> {
    fn at(&self, key: &str, problem: String, fix: &str) -> ConfigError {
        ConfigError::Invalid {
            path: self.path.to_path_buf(),
            key: key.into(),
            problem,
            fix: fix.into(),
        }
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

pub fn validate_port(port: i64) -> Result<u16, String> {
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
    fn good_config_parses() {
        let c = Config::parse("name = \"gin-api\"\nport = 8080\n[image]\nuser = \"1000:1000\"\nassets = [{ src = \"static\", dst = \"/app/static\" }]\n[image.env]\nA = \"b\"\n", Path::new("x")).unwrap();
        assert_eq!(c.port, Some(8080));
        assert_eq!(parse_user("1000").unwrap(), (1000, 1000));
    }
}
