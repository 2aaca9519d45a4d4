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
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: `{key}` {problem}\n  fix: {fix}")]
    Invalid { path: PathBuf, key: String, problem: String, fix: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
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
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Config::default(), None)),
            Err(source) => return Err(ConfigError::Io { path, source }),
        };
        let cfg = Config::parse(&text, &path)?;
        Ok((cfg, Some(path)))
    }

    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let cfg: Config = toml::from_str(text).map_err(|e| ConfigError::Parse { path: path.to_path_buf(), message: e.to_string().trim_end().to_string() })?;
        cfg.validate(path)?;
        Ok(cfg)
    }

    fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |key: &str, problem: String, fix: &str| ConfigError::Invalid { path: path.to_path_buf(), key: key.into(), problem, fix: fix.into() };
        if let Some(name) = &self.name {
            if !valid_name(name) {
                return Err(invalid("name", format!("is {name:?}, not a valid image name"), "use lowercase letters, digits, `.`, `_` and `-`, starting with a letter or digit"));
            }
        }
        if let Some(port) = self.port {
            validate_port(port).map_err(|p| invalid("port", p, "use a TCP port between 1 and 65535, e.g. port = 8080"))?;
        }
        if let Some(user) = &self.image.user {
            parse_user(user).map_err(|p| invalid("image.user", p, "use a numeric uid[:gid] such as \"65532:65532\"; names need /etc/passwd and defeat runAsNonRoot checks"))?;
        }
        if let Some(base) = &self.image.base {
            if base != "scratch" && !base.starts_with("oci:") {
                return Err(invalid("image.base", format!("is {base:?}"), "use \"scratch\" (the default) or \"oci:PATH\" for a local OCI image layout; drydock pulls nothing"));
            }
        }
        for (i, a) in self.image.assets.iter().enumerate() {
            if !a.dst.starts_with('/') {
                return Err(invalid(&format!("image.assets[{i}].dst"), format!("is {:?}, not an absolute path", a.dst), "write where the asset goes in the image, e.g. \"/app/static\""));
            }
            if a.src.is_empty() || a.src.starts_with('/') || a.src.split('/').any(|s| s == "..") {
                return Err(invalid(&format!("image.assets[{i}].src"), format!("is {:?}, not a path inside the build context", a.src), "use a path relative to the project directory, e.g. \"static\""));
            }
        }
        for k in self.image.env.keys().chain(self.build.env.keys()) {
            if k.is_empty() || k.contains('=') || k.chars().next().is_some_and(|c| c.is_ascii_digit()) {
                return Err(invalid("env", format!("has the variable name {k:?}"), "use names of letters, digits and `_`, not starting with a digit"));
            }
        }
        Ok(())
    }
}

pub fn validate_port(port: i64) -> Result<u16, String> {
    u16::try_from(port).ok().filter(|p| *p != 0).ok_or_else(|| format!("is {port}, outside 1..65535"))
}

/// Parses a numeric `uid[:gid]`.
pub fn parse_user(user: &str) -> Result<(u32, u32), String> {
    let (u, g) = user.split_once(':').unwrap_or((user, user));
    match (u.parse::<u32>(), g.parse::<u32>()) {
        (Ok(u), Ok(g)) => Ok((u, g)),
        _ => Err(format!("is {user:?}, not a numeric uid[:gid]")),
    }
}

pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        Config::parse(text, Path::new("drydock.toml")).unwrap_err().to_string()
    }

    #[test]
    fn unknown_keys_are_named() {
        let e = err("name = \"a\"\n[image]\nusr = \"1\"\n");
        assert!(e.contains("usr") && e.contains("line 3"), "{e}");
        assert!(err("nme = \"a\"").contains("nme"));
    }

    #[test]
    fn bad_values_name_the_key_and_fix() {
        let e = err("port = 70000");
        assert!(e.contains("`port` is 70000") && e.contains("fix:"), "{e}");
        assert!(err("port = 0").contains("`port`"));
        assert!(err("[image]\nuser = \"app\"").contains("`image.user`"));
        assert!(err("[image]\nbase = \"alpine:latest\"").contains("`image.base`"));
        assert!(err("name = \"Bad Name\"").contains("`name`"));
        assert!(err("[image]\nassets = [{ src = \"../x\", dst = \"/a\" }]").contains("assets[0].src"));
        assert!(err("[image]\nassets = [{ src = \"x\", dst = \"a\" }]").contains("assets[0].dst"));
    }

    #[test]
    fn good_config_parses() {
        let c = Config::parse("name = \"gin-api\"\nport = 8080\n[image]\nuser = \"1000:1000\"\nassets = [{ src = \"static\", dst = \"/app/static\" }]\n[image.env]\nA = \"b\"\n", Path::new("x")).unwrap();
        assert_eq!(c.port, Some(8080));
        assert_eq!(parse_user("1000").unwrap(), (1000, 1000));
    }
}
