//! drydock's linter: Dockerfiles, `.dockerignore`, Kubernetes manifests and Compose files checked
//! against the practices.
//!
//! The pipeline: [`discover`](mod@discover) finds the files; [`engine`] reads each one (`read`:
//! encodings, and what stdin holds), finds each Dockerfile's build context (`contexts`) and
//! parses it; the [`runner`] runs the rules of the [`catalog`] on it (one file per rule under
//! [`rules`], each seeing a typed view of the file, never the filesystem), [`options`] and
//! [`suppress`] deciding what is reported; [`output`] renders the diagnostics (text, JSON,
//! SARIF, GitHub annotations) and the run's summary.
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
mod contexts;
pub mod diagnostic;
pub mod discover;
pub mod engine;
pub mod error;
pub mod kustomize;
pub mod options;
pub mod output;
pub mod policy;
mod read;
pub mod rule;
pub mod rules;
pub mod runner;
pub mod suppress;
pub mod view;
pub mod yaml;

pub use diagnostic::{Diagnostic, Severity, Span};
pub use discover::{
    discover, discover_with, is_dockerfile_name, is_manifest_name, DiscoverOptions, Discovered,
};
pub use engine::{lint_file, lint_paths, lint_text, LintRun};
pub use error::LintError;
pub use options::LintOptions;
pub use policy::{PodSecurity, SecretEnvStance};
pub use runner::{lint_compose, lint_dockerfile, lint_dockerfile_in, lint_kubernetes};
