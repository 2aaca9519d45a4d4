//! Typed views of the input, the only thing rules see: a Dockerfile with its stages, the
//! Kubernetes objects and containers of a set of manifests, the services of Compose files.

pub mod compose;
pub mod dockerfile;
pub mod kubernetes;
pub mod purpose;

pub use compose::{ComposeCtx, Service};
pub use dockerfile::{DockerfileCtx, ImagePurpose};
pub use kubernetes::{Container, KubernetesCtx, Object};
pub use purpose::Purpose;
