//! `drydock deploy`: what runs the image. Kubernetes manifests, and a Dockerfile with its
//! .dockerignore for teams that keep `docker build`. Every file is written atomically; nothing
//! outside the output directory is touched.

pub mod dockerfile;
pub mod k8s;

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::project::Project;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    K8s,
    Dockerfile,
}

#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error("writing {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("serialising {what}: {message}")]
    Yaml { what: String, message: String },
}

#[derive(Debug, Serialize)]
pub struct DeployReport {
    pub image: String,
    pub written: Vec<PathBuf>,
}

/// Writes the files of `targets` under `out`; returns what was written.
pub fn deploy(p: &Project, image: &str, targets: &[Target], out: &Path) -> Result<DeployReport, DeployError> {
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    for t in targets {
        match t {
            Target::K8s => {
                let m = k8s::manifests(p, image).map_err(|e| DeployError::Yaml { what: "Kubernetes manifests".into(), message: e.to_string() })?;
                files.extend(m.into_iter().map(|(n, y)| (out.join("kubernetes").join(n), y)));
            }
            Target::Dockerfile => {
                let has_sum = p.root.join("go.sum").is_file();
                files.push((out.join("docker/Dockerfile"), dockerfile::dockerfile(p, has_sum)));
                // BuildKit reads <Dockerfile>.dockerignore beside the Dockerfile before the
                // context's own .dockerignore.
                files.push((out.join("docker/Dockerfile.dockerignore"), crate::init::render_dockerignore(p.language)));
            }
        }
    }
    let mut written = Vec::new();
    for (path, text) in files {
        crate::fsutil::write_bytes_atomic(&path, text.as_bytes()).map_err(|source| DeployError::Io { path: path.clone(), source })?;
        written.push(path);
    }
    Ok(DeployReport { image: image.to_string(), written })
}
