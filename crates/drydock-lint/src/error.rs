//! Why a file could not be linted. Findings are not errors: a file that lints is never one.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum LintError {
    #[error("{path}:{line}: {message}")]
    Parse {
        path: String,
        line: usize,
        message: String,
    },
    #[error("{}:{line}: {source}", .path.display())]
    Dockerignore {
        path: PathBuf,
        line: usize,
        source: drydock_dockerignore::ErrorKind,
    },
    #[error("{path}:{line}:{column}: {message}")]
    Yaml {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: {why}")]
    NotText {
        path: PathBuf,
        why: &'static str,
        fix: &'static str,
    },
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0} does not exist")]
    Missing(PathBuf),
    #[error("unknown rule code {0:?} (see `drydock rules`)")]
    UnknownRule(String),
    #[error("exclude pattern {pattern:?}: {message}")]
    Exclude { pattern: String, message: String },
}

impl LintError {
    /// What to do about it, when there is something to say: the message does not hold it.
    pub fn fix(&self) -> Option<String> {
        Some(match self {
            LintError::Parse { .. } => "make it a Dockerfile BuildKit can parse".into(),
            LintError::Dockerignore { .. } => "correct the pattern on that line (see https://docs.docker.com/build/concepts/context/#dockerignore-files)".into(),
            LintError::Yaml { .. } => "make it valid YAML (check the indentation, quoting and `key: value` pairs around that position)".into(),
            LintError::NotText { fix, .. } => fix.to_string(),
            LintError::Missing { .. } => "name an existing file or directory (relative paths are from the current directory), or `-` for standard input".into(),
            LintError::Exclude { .. } => "write a .gitignore-style pattern, e.g. tests/fixtures/ or crates/*/tests/fixtures".into(),
            _ => return None,
        })
    }
}

impl LintError {
    /// The file the error is about, as shown in messages.
    pub fn file(&self) -> Option<String> {
        match self {
            LintError::Parse { path, .. } | LintError::Yaml { path, .. } => Some(path.clone()),
            LintError::Dockerignore { path, .. }
            | LintError::NotText { path, .. }
            | LintError::Io { path, .. }
            | LintError::Missing(path) => Some(path.display().to_string()),
            LintError::UnknownRule(_) | LintError::Exclude { .. } => None,
        }
    }

    /// The 1-based line in [`LintError::file`], when known.
    pub fn line(&self) -> Option<usize> {
        match self {
            LintError::Parse { line, .. }
            | LintError::Dockerignore { line, .. }
            | LintError::Yaml { line, .. } => Some(*line),
            _ => None,
        }
    }

    /// The 1-based column, when known.
    pub fn column(&self) -> Option<usize> {
        match self {
            LintError::Yaml { column, .. } => Some(*column),
            _ => None,
        }
    }

    /// What went wrong, without the file and line (which [`LintError::file`] and
    /// [`LintError::line`] give) and without the fix.
    pub fn why(&self) -> String {
        match self {
            LintError::Parse { message, .. } | LintError::Yaml { message, .. } => message.clone(),
            LintError::Dockerignore { source, .. } => source.to_string(),
            LintError::NotText { why, .. } => why.to_string(),
            LintError::Io { source, .. } => format!("cannot be read: {source}"),
            LintError::Missing(_) => "does not exist".into(),
            LintError::UnknownRule(code) => format!("unknown rule code {code:?}"),
            LintError::Exclude { pattern, message } => {
                format!("exclude pattern {pattern:?}: {message}")
            }
        }
    }
}
