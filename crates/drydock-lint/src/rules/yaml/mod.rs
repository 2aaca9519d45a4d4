//! Rules about YAML as written, for Kubernetes manifests and Compose files alike.

pub mod ym001_duplicate_key;
