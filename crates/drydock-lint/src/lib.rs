//! drydock's linter: Dockerfiles, `.dockerignore`, Kubernetes manifests and Compose files checked
//! against the practices.
//!
//! The pipeline: [`discover`] finds the files, [`engine`] parses each one and runs the rules of
//! the [`catalog`] on it (one file per rule under [`rules`], each seeing a typed view of the
//! file, never the filesystem), [`options`] and [`suppress`] decide what is reported, and
//! [`output`] renders the diagnostics (text, JSON, SARIF, GitHub annotations).
//!
//! ```
//! use drydock_lint::{lint_dockerfile, LintOptions};
//!
//! let text = "FROM alpine:3.20\nRUN apk add curl\nUSER 10001\nCMD [\"curl\"]\n";
//! let found = lint_dockerfile("Dockerfile", text, &LintOptions::default()).unwrap();
//! let df002 = found.iter().find(|d| d.code == "DF002").expect("apk add without --no-cache");
//! assert_eq!((df002.span.line, df002.span.column), (2, 5)); // the `apk add` command
//! assert!(found.iter().all(|d| d.code != "DF004"), "USER 10001 is not root");
//! ```

pub mod catalog;
pub mod compose;
pub mod diagnostic;
pub mod discover;
pub mod engine;
pub mod error;
pub mod kustomize;
pub mod options;
pub mod output;
pub mod rule;
pub mod rules;
pub mod suppress;
pub mod view;
pub mod yaml;

pub use diagnostic::{Diagnostic, Severity, Span};
pub use discover::{
    discover, discover_with, is_dockerfile_name, is_manifest_name, DiscoverOptions, Discovered,
};
pub use engine::{
    lint_compose, lint_dockerfile, lint_dockerfile_in, lint_file, lint_kubernetes, lint_paths,
    lint_text, LintRun,
};
pub use error::LintError;
pub use options::{LintOptions, PodSecurity, SecretEnvStance};
