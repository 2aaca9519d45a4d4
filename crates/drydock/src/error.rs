//! One mapping from errors to exit codes and to the JSON error object, for every command.
//!
//! Each error type says what kind of failure it is ([`Classify`]); the CLI turns that into the
//! exit code (0 ok, 1 a failed build or tool, 2 bad usage, configuration or input, 130
//! interrupted) and, with `--format json`, into `{"error": {"kind", "message", "path", "line",
//! "fix"}}`. Nothing else in drydock picks an exit code.
//!
//! An error's message never holds its fix: the fix is the error's own ([`Classify::fix`], from
//! a field or from the variant), and only [`Failure::text`] puts it on a line of its own.

use std::fmt::Display;
use std::path::PathBuf;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ErrorKind {
    /// Bad flags or arguments.
    Usage,
    /// drydock.toml, or a value that should have been in it.
    Config,
    /// The files drydock was pointed at: a missing directory, a bad .dockerignore, a Dockerfile
    /// that does not parse.
    Input,
    /// A compiler, an engine or the machine failed.
    Failed,
    /// Ctrl-C.
    Interrupted,
}

impl ErrorKind {
    pub fn exit_code(self) -> u8 {
        match self {
            ErrorKind::Usage | ErrorKind::Config | ErrorKind::Input => 2,
            ErrorKind::Failed => 1,
            ErrorKind::Interrupted => 130,
        }
    }
}

/// What an error knows about itself beyond its message.
pub trait Classify {
    fn kind(&self) -> ErrorKind;
    /// The file the error is about, when there is one.
    fn path(&self) -> Option<PathBuf> {
        None
    }
    /// The 1-based line in [`Classify::path`], when known.
    fn line(&self) -> Option<usize> {
        None
    }
    /// What to do about it, when drydock can say: shown on its own line after the message
    /// (`  fix: …`), and as the JSON object's `fix`. An error that wraps another gives the inner
    /// one's fix when it has one (the fix closest to the cause), so that one error always shows
    /// one fix.
    fn fix(&self) -> Option<String> {
        None
    }
}

/// An error ready to be shown: as text on stderr, or as the JSON error object.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub kind: ErrorKind,
    pub message: String,
    pub path: Option<PathBuf>,
    pub line: Option<usize>,
    pub fix: Option<String>,
}

/// A build's failure, for commands that run several builds (`drydock::images::build`).
impl From<crate::build::BuildError> for Failure {
    fn from(e: crate::build::BuildError) -> Failure {
        Failure::of(&e)
    }
}

impl Failure {
    /// A failure with this message and no fix (add one with [`Failure::with_fix`]).
    pub fn new(kind: ErrorKind, message: impl Display) -> Failure {
        Failure {
            kind,
            message: message.to_string(),
            path: None,
            line: None,
            fix: None,
        }
    }

    pub fn with_fix(self, fix: impl Into<String>) -> Failure {
        Failure {
            fix: Some(fix.into()),
            ..self
        }
    }

    pub fn of<E: Classify + Display + ?Sized>(e: &E) -> Failure {
        Failure {
            path: e.path(),
            line: e.line(),
            fix: e.fix(),
            ..Failure::new(e.kind(), e)
        }
    }

    pub fn exit_code(&self) -> u8 {
        self.kind.exit_code()
    }

    /// The text form: the message, then the fix on its own line.
    pub fn text(&self) -> String {
        match &self.fix {
            Some(f) => format!("{}\n  fix: {f}", self.message),
            None => self.message.clone(),
        }
    }

    pub fn json(&self) -> String {
        serde_json::to_string_pretty(&serde_json::json!({ "error": self }))
            .unwrap_or_else(|_| "{\"error\": {}}".into())
    }
}

// The one table: which error is which kind. Kept here, beside the exit codes, so that a new
// error variant is classified where the whole mapping can be read at once.

use crate::build::BuildError;
use crate::cache::CacheError;
use crate::compile::{CompileError, StaticError};
use crate::config::ConfigError;
use crate::context::ContextError;
use crate::deploy::DeployError;
use crate::init::InitError;
use crate::lint::LintError;
use crate::project::ProjectError;
use crate::publish::PublishError;
use crate::run::RunError;
use crate::sign::SignError;
use drydock_oci::registry::RegistryError;

impl Classify for ConfigError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Config
    }
    fn path(&self) -> Option<PathBuf> {
        match self {
            ConfigError::Io { path, .. }
            | ConfigError::Parse { path, .. }
            | ConfigError::Invalid { path, .. } => Some(path.clone()),
        }
    }
    fn line(&self) -> Option<usize> {
        match self {
            ConfigError::Parse { line, .. } | ConfigError::Invalid { line, .. } => *line,
            _ => None,
        }
    }
    fn fix(&self) -> Option<String> {
        Self::fix(self)
    }
}

impl Classify for ContextError {
    fn kind(&self) -> ErrorKind {
        match self {
            ContextError::Io { source, .. }
                if source.kind() == std::io::ErrorKind::PermissionDenied =>
            {
                ErrorKind::Input
            }
            ContextError::Io { .. } => ErrorKind::Failed,
            _ => ErrorKind::Input,
        }
    }
    fn path(&self) -> Option<PathBuf> {
        match self {
            ContextError::Io { path, .. } => Some(path.clone()),
            ContextError::Dockerignore { file, .. } => Some(file.clone()),
            ContextError::SymlinkEscapes { root, path, .. } => Some(root.join(path)),
            ContextError::NotUtf8 { dir, .. } | ContextError::NotADirectory(dir) => {
                Some(dir.clone())
            }
        }
    }
    fn line(&self) -> Option<usize> {
        match self {
            ContextError::Dockerignore { line, .. } => Some(*line),
            _ => None,
        }
    }
    fn fix(&self) -> Option<String> {
        Self::fix(self)
    }
}

impl Classify for ProjectError {
    fn kind(&self) -> ErrorKind {
        match self {
            ProjectError::Config(e) => e.kind(),
            ProjectError::Context(e) => e.kind(),
            ProjectError::Reference(_) | ProjectError::Invalid { .. } => ErrorKind::Config,
            ProjectError::Image { .. } => ErrorKind::Usage,
            _ => ErrorKind::Input,
        }
    }
    fn path(&self) -> Option<PathBuf> {
        match self {
            ProjectError::Config(e) => e.path(),
            ProjectError::Context(e) => e.path(),
            ProjectError::NotFound { dir }
            | ProjectError::NoDir { dir, .. }
            | ProjectError::AmbiguousGoMain { dir, .. }
            | ProjectError::TwoLanguages { dir } => Some(dir.clone()),
            ProjectError::Manifest { path, .. } | ProjectError::Binary { path, .. } => {
                Some(path.clone())
            }
            _ => None,
        }
    }
    fn line(&self) -> Option<usize> {
        match self {
            ProjectError::Config(e) => e.line(),
            ProjectError::Context(e) => e.line(),
            _ => None,
        }
    }
    fn fix(&self) -> Option<String> {
        Self::fix(self)
    }
}

impl Classify for CacheError {
    fn kind(&self) -> ErrorKind {
        match self {
            CacheError::Unusable { .. } | CacheError::NotACache { .. } | CacheError::NoCacheDir => {
                ErrorKind::Config
            }
            _ => ErrorKind::Failed,
        }
    }
    fn path(&self) -> Option<PathBuf> {
        match self {
            CacheError::Io { path, .. }
            | CacheError::Unusable { path, .. }
            | CacheError::NotACache { path, .. } => Some(path.clone()),
            _ => None,
        }
    }
    fn fix(&self) -> Option<String> {
        Self::fix(self)
    }
}

impl Classify for StaticError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Failed
    }
    fn fix(&self) -> Option<String> {
        Self::fix(self)
    }
}

impl Classify for CompileError {
    fn kind(&self) -> ErrorKind {
        match self {
            CompileError::Context(e) => e.kind(),
            CompileError::Cache(e) => e.kind(),
            CompileError::LocalPath(_) => ErrorKind::Input,
            CompileError::Interrupted { .. } => ErrorKind::Interrupted,
            CompileError::Prebuilt { .. } | CompileError::Platform { .. } => ErrorKind::Input,
            _ => ErrorKind::Failed,
        }
    }
    fn path(&self) -> Option<PathBuf> {
        match self {
            CompileError::LocalPath(e) => Some(e.file.clone()),
            _ => None,
        }
    }
    fn line(&self) -> Option<usize> {
        match self {
            CompileError::LocalPath(e) => Some(e.line),
            _ => None,
        }
    }
    fn fix(&self) -> Option<String> {
        Self::fix(self)
    }
}

impl Classify for crate::publish::DestinationError {
    fn kind(&self) -> ErrorKind {
        match self {
            crate::publish::DestinationError::Output(e) => e.kind(),
            crate::publish::DestinationError::Push(e) => e.kind(),
        }
    }
    fn fix(&self) -> Option<String> {
        match self {
            crate::publish::DestinationError::Output(e) => Classify::fix(e),
            crate::publish::DestinationError::Push(e) => Classify::fix(e),
        }
    }
}

impl Classify for PublishError {
    fn kind(&self) -> ErrorKind {
        match self {
            PublishError::BadTarget { .. } | PublishError::Refused { .. } => ErrorKind::Usage,
            PublishError::Registry(e) => e.kind(),
            _ => ErrorKind::Failed,
        }
    }
    fn path(&self) -> Option<PathBuf> {
        match self {
            PublishError::Io { path, .. } | PublishError::Refused { path, .. } => {
                Some(path.clone())
            }
            PublishError::Registry(e) => e.path(),
            _ => None,
        }
    }
    fn line(&self) -> Option<usize> {
        match self {
            PublishError::Registry(e) => e.line(),
            _ => None,
        }
    }
    fn fix(&self) -> Option<String> {
        Self::fix(self)
    }
}

impl Classify for RegistryError {
    fn kind(&self) -> ErrorKind {
        match self {
            // A CA file that cannot be used is bad input, and so is a platform the image does not
            // have (the fix is on the command line; trying again gives the same answer); the
            // rest is the registry failing.
            RegistryError::Ca { .. } | RegistryError::NoPlatform { .. } => ErrorKind::Input,
            // A config.json that does not parse, or names a helper that is not installed.
            RegistryError::Credentials { .. } => ErrorKind::Config,
            _ => ErrorKind::Failed,
        }
    }
    fn path(&self) -> Option<PathBuf> {
        match self {
            RegistryError::Credentials { problem, .. } => problem.path.clone(),
            _ => None,
        }
    }
    fn line(&self) -> Option<usize> {
        match self {
            RegistryError::Credentials { problem, .. } => problem.line,
            _ => None,
        }
    }
    fn fix(&self) -> Option<String> {
        Self::fix(self)
    }
}

impl Classify for drydock_oci::platform::PlatformError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Usage
    }
    fn fix(&self) -> Option<String> {
        Self::fix(self)
    }
}

impl Classify for drydock_oci::ImageError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Failed
    }
}

impl Classify for crate::base::BaseError {
    fn kind(&self) -> ErrorKind {
        use crate::base::BaseError;
        match self {
            BaseError::Spec { .. } => ErrorKind::Config,
            BaseError::Lock { .. } => ErrorKind::Input,
            BaseError::Registry(e) => e.kind(),
            _ => ErrorKind::Failed,
        }
    }
    fn path(&self) -> Option<PathBuf> {
        match self {
            crate::base::BaseError::Lock { path, .. } => Some(path.clone()),
            crate::base::BaseError::Registry(e) => e.path(),
            _ => None,
        }
    }
    fn line(&self) -> Option<usize> {
        match self {
            crate::base::BaseError::Registry(e) => e.line(),
            _ => None,
        }
    }
    fn fix(&self) -> Option<String> {
        Self::fix(self)
    }
}

impl Classify for SignError {
    fn kind(&self) -> ErrorKind {
        match self {
            SignError::WrongPassword { .. }
            | SignError::KeyFormat { .. }
            | SignError::Exists(_)
            | SignError::Password(_) => ErrorKind::Input,
            SignError::NoManifest { .. } => ErrorKind::Usage,
            SignError::Io { .. } | SignError::Crypto(_) => ErrorKind::Failed,
            SignError::Registry(e) => e.kind(),
        }
    }
    fn path(&self) -> Option<PathBuf> {
        match self {
            SignError::WrongPassword { path }
            | SignError::KeyFormat { path, .. }
            | SignError::Io { path, .. } => Some(path.clone()),
            SignError::Exists(p) => Some(p.clone()),
            _ => None,
        }
    }
    fn fix(&self) -> Option<String> {
        SignError::fix(self)
    }
}

impl Classify for BuildError {
    fn kind(&self) -> ErrorKind {
        match self {
            BuildError::Config(e) => e.kind(),
            BuildError::Context(e) => e.kind(),
            BuildError::Project(e) => e.kind(),
            BuildError::Compile(e) => e.kind(),
            BuildError::Publish(e) => e.kind(),
            BuildError::Cache(e) => e.kind(),
            BuildError::SourceDateEpoch { .. } => ErrorKind::Config,
            BuildError::Base(e) => e.kind(),
            BuildError::Layer(_) | BuildError::Image(_) => ErrorKind::Failed,
            BuildError::Sbom(crate::sbom::SbomError::Refused { .. }) => ErrorKind::Usage,
            BuildError::Sbom(_) => ErrorKind::Failed,
            BuildError::Sign(e) => e.kind(),
            // A platform that cannot be built as asked: change what is asked.
            BuildError::Helper(_) | BuildError::Platforms(_) => ErrorKind::Usage,
        }
    }
    fn path(&self) -> Option<PathBuf> {
        match self {
            BuildError::Config(e) => e.path(),
            BuildError::Context(e) => e.path(),
            BuildError::Project(e) => e.path(),
            BuildError::Publish(e) => e.path(),
            BuildError::Cache(e) => e.path(),
            BuildError::Compile(e) => e.path(),
            BuildError::Sign(e) => e.path(),
            BuildError::Sbom(
                crate::sbom::SbomError::Refused { path, .. }
                | crate::sbom::SbomError::Io { path, .. },
            ) => Some(path.clone()),
            _ => None,
        }
    }
    fn line(&self) -> Option<usize> {
        match self {
            BuildError::Config(e) => e.line(),
            BuildError::Context(e) => e.line(),
            BuildError::Project(e) => e.line(),
            BuildError::Compile(e) => e.line(),
            _ => None,
        }
    }
    fn fix(&self) -> Option<String> {
        Self::fix(self)
    }
}

impl Classify for DeployError {
    fn kind(&self) -> ErrorKind {
        match self {
            DeployError::Record { .. } => ErrorKind::Input,
            DeployError::HttpsPort { .. } => ErrorKind::Usage,
            _ => ErrorKind::Failed,
        }
    }
    fn path(&self) -> Option<PathBuf> {
        match self {
            DeployError::Io { path, .. } | DeployError::Record { path, .. } => Some(path.clone()),
            _ => None,
        }
    }
    fn fix(&self) -> Option<String> {
        Self::fix(self)
    }
}

impl Classify for crate::reference::ReferenceError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Usage
    }
    fn fix(&self) -> Option<String> {
        Self::fix(self)
    }
}

impl Classify for InitError {
    fn kind(&self) -> ErrorKind {
        match self {
            InitError::Context(e) => e.kind(),
            InitError::Project(e) => e.kind(),
            InitError::Io { .. } => ErrorKind::Failed,
            InitError::Exists(_) => ErrorKind::Usage,
        }
    }
    fn path(&self) -> Option<PathBuf> {
        match self {
            InitError::Context(e) => e.path(),
            InitError::Project(e) => e.path(),
            InitError::Io { path, .. } => Some(path.clone()),
            InitError::Exists(p) => p.first().cloned(),
        }
    }
    fn fix(&self) -> Option<String> {
        Self::fix(self)
    }
}

impl Classify for RunError {
    fn kind(&self) -> ErrorKind {
        match self {
            RunError::BadEnv(_) | RunError::UnsetEnv(_) | RunError::MultilineEnv(_) => {
                ErrorKind::Usage
            }
            RunError::PortInUse { .. } => ErrorKind::Usage,
            RunError::Interrupted { .. } => ErrorKind::Interrupted,
            _ => ErrorKind::Failed,
        }
    }
    fn fix(&self) -> Option<String> {
        Self::fix(self)
    }
}

impl Classify for LintError {
    fn kind(&self) -> ErrorKind {
        match self {
            LintError::Io { .. } => ErrorKind::Input,
            LintError::UnknownRule(_) => ErrorKind::Usage,
            LintError::Exclude { .. } => ErrorKind::Config,
            _ => ErrorKind::Input,
        }
    }
    fn path(&self) -> Option<PathBuf> {
        match self {
            LintError::Parse { path, .. } | LintError::Yaml { path, .. } => {
                Some(PathBuf::from(path))
            }
            LintError::Io { path, .. }
            | LintError::Missing(path)
            | LintError::NotText { path, .. } => Some(path.clone()),
            _ => None,
        }
    }
    fn line(&self) -> Option<usize> {
        match self {
            LintError::Parse { line, .. } | LintError::Yaml { line, .. } => Some(*line),
            _ => None,
        }
    }
    fn fix(&self) -> Option<String> {
        Self::fix(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fix_is_a_line_of_its_own() {
        let f = Failure::new(ErrorKind::Config, "x is bad").with_fix("make it good");
        assert_eq!(f.message, "x is bad");
        assert_eq!(f.text(), "x is bad\n  fix: make it good");
        assert_eq!(f.exit_code(), 2);
        let j: serde_json::Value = serde_json::from_str(&f.json()).unwrap();
        assert_eq!(j["error"]["kind"], "config");
        assert_eq!(j["error"]["message"], "x is bad");
        assert_eq!(j["error"]["fix"], "make it good");
        assert_eq!(Failure::new(ErrorKind::Failed, "y").text(), "y");
    }

    #[test]
    fn one_error_one_fix_the_innermost() {
        let inner = crate::config::ConfigError::Invalid {
            path: "drydock.toml".into(),
            key: "port".into(),
            problem: "is 0".into(),
            fix: "set a port".into(),
            line: None,
        };
        let e = crate::build::BuildError::Project(crate::project::ProjectError::Config(inner));
        let f = Failure::of(&e);
        assert_eq!(f.message, "drydock.toml: `port` is 0");
        assert_eq!(f.fix.as_deref(), Some("set a port"));
        assert_eq!(f.text().matches("fix:").count(), 1, "{}", f.text());
        assert_eq!(
            f.path.as_deref(),
            Some(std::path::Path::new("drydock.toml"))
        );
    }

    #[test]
    fn codes() {
        assert_eq!(ErrorKind::Failed.exit_code(), 1);
        assert_eq!(ErrorKind::Usage.exit_code(), 2);
        assert_eq!(ErrorKind::Input.exit_code(), 2);
        assert_eq!(ErrorKind::Interrupted.exit_code(), 130);
    }
}
