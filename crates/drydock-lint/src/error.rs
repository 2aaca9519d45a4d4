//! Why a file could not be linted. Findings are not errors: a file that lints is never one.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum LintError {
    #[error("{path}:{line}: {message}\n  fix: make it a Dockerfile BuildKit can parse")]
    Parse {
        path: String,
        line: usize,
        message: String,
    },
    #[error("{}:{line}: {source}\n  fix: correct the pattern on that line (see https://docs.docker.com/build/concepts/context/#dockerignore-files)", .path.display())]
    Dockerignore {
        path: PathBuf,
        line: usize,
        source: drydock_dockerignore::ErrorKind,
    },
    #[error("{path}:{line}:{column}: {message}\n  fix: make it valid YAML (check the indentation, quoting and `key: value` pairs around that position)")]
    Yaml {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: {why}\n  fix: {fix}")]
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
}
