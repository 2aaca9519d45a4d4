//! drydock: small, safe, reproducible container images for Go (Gin) and Rust services.
//!
//! The pipeline, one module per step: [`context`] (what the build may see) → [`compile`] (the
//! build stage) → [`image`] (the runtime stage: layers, config, manifest) → [`publish`] (where
//! the image goes). [`build`] runs them in order; [`cache`] keeps what can be reused.

pub mod attest;
pub mod base;
pub mod bench;
pub mod build;
pub mod cache;
pub mod compile;
pub mod config;
pub use drydock_dockerignore::context;
pub mod deploy;
pub mod detect;
pub mod error;
pub mod forward;
pub use drydock_oci::{digest, fsutil, reference};
pub mod image;
pub mod images;
pub mod init;
pub mod interrupt;
pub use drydock_lint as lint;
pub mod pgroup;
pub mod platforms;
pub mod project;
pub mod provenance;
pub mod publish;
/// CPU and memory quantities, by the same rules as the linter reads manifests with.
pub use drydock_values::units as quantity;
pub mod run;
pub mod sbom;
pub mod sign;
pub mod source;
pub mod ui;
pub mod watch;
