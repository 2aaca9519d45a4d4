//! `drydock deploy`: what runs the image. Kubernetes manifests, a Compose bundle behind an nginx
//! TLS terminator, and a Dockerfile with its .dockerignore for teams that keep `docker build`.
//! Every file is written atomically; nothing outside the output directory is touched.

pub mod compose;
pub mod dockerfile;
pub mod k8s;

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::project::Project;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    K8s,
    Compose,
    Dockerfile,
}

/// Where the Compose bundle's TLS certificate comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Tls {
    /// Certificates you put in compose/certs/ (tls.crt, tls.key).
    Provided,
    /// A development certificate for localhost, written now.
    SelfSigned,
}

#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error("writing {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("serialising {what}: {message}")]
    Yaml { what: String, message: String },
    #[error("generating the self-signed certificate: {0}")]
    Certificate(String),
}

#[derive(Debug, Serialize)]
pub struct DeployReport {
    pub image: String,
    pub written: Vec<PathBuf>,
}

/// Writes the files of `targets` under `out`; returns what was written.
pub fn deploy(
    p: &Project,
    image: &str,
    targets: &[Target],
    out: &Path,
    tls: Tls,
) -> Result<DeployReport, DeployError> {
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    let mut private: Vec<(PathBuf, String)> = Vec::new();
    for t in targets {
        match t {
            Target::K8s => {
                let m = k8s::manifests(p, image).map_err(|e| DeployError::Yaml {
                    what: "Kubernetes manifests".into(),
                    message: e.to_string(),
                })?;
                files.extend(
                    m.into_iter()
                        .map(|(n, y)| (out.join("kubernetes").join(n), y)),
                );
            }
            Target::Compose => {
                let c = compose::compose(p, image);
                let yaml = serde_yaml_ng::to_string(&c).map_err(|e| DeployError::Yaml {
                    what: "the Compose file".into(),
                    message: e.to_string(),
                })?;
                let mut head = format!("# Compose bundle for {}, written by `drydock deploy`: the app behind an nginx TLS terminator.\n", p.name);
                head.push_str("#   docker compose up -d   # HTTPS on ${HTTPS_PORT:-443}, a redirect on ${HTTP_PORT:-80}\n");
                head.push_str("# The proxy has no healthcheck (drydock lint's CP006 is ignored on it): nginx images carry no\n# probe tool. Compose restarts it if it exits, and the app behind it is health-checked.\n");
                head.push_str("# Put certs/tls.crt and certs/tls.key beside this file (`--tls self-signed` writes a development pair),\n# readable by uid 65532");
                if p.secrets.is_empty() {
                    head.push_str(".\n");
                } else {
                    head.push_str(", and each secret's value in secrets/<key>:\n");
                    for s in &p.secrets {
                        head.push_str(&format!(
                            "#   secrets/{}  ->  {} (the app reads {}_FILE)\n",
                            s.key, s.env, s.env
                        ));
                    }
                }
                files.push((
                    out.join("compose/compose.yaml"),
                    format!("{head}{}", compose::quote_sexagesimal(&yaml)),
                ));
                files.push((out.join("compose/nginx.conf"), compose::nginx_conf(p)));
                if tls == Tls::SelfSigned {
                    let hosts: Vec<String> = p.ingress.host.iter().cloned().collect();
                    let (cert, key) = compose::self_signed(&hosts)
                        .map_err(|e| DeployError::Certificate(e.to_string()))?;
                    files.push((out.join("compose/certs/tls.crt"), cert));
                    private.push((out.join("compose/certs/tls.key"), key));
                }
            }
            Target::Dockerfile => {
                let has_sum = p.root.join("go.sum").is_file();
                files.push((
                    out.join("docker/Dockerfile"),
                    dockerfile::dockerfile(p, has_sum),
                ));
                // BuildKit reads <Dockerfile>.dockerignore beside the Dockerfile before the
                // context's own .dockerignore.
                files.push((
                    out.join("docker/Dockerfile.dockerignore"),
                    crate::init::render_dockerignore(p.language),
                ));
            }
        }
    }
    let mut written = Vec::new();
    for (path, text) in files {
        crate::fsutil::write_bytes_atomic(&path, text.as_bytes()).map_err(|source| {
            DeployError::Io {
                path: path.clone(),
                source,
            }
        })?;
        written.push(path);
    }
    for (path, text) in private {
        // A development key: readable by the proxy's non-root user (65532) through the bind
        // mount. Mount production keys owned by that user instead.
        use std::os::unix::fs::PermissionsExt;
        crate::fsutil::write_bytes_atomic(&path, text.as_bytes()).map_err(|source| {
            DeployError::Io {
                path: path.clone(),
                source,
            }
        })?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).map_err(
            |source| DeployError::Io {
                path: path.clone(),
                source,
            },
        )?;
        written.push(path);
    }
    Ok(DeployReport {
        image: image.to_string(),
        written,
    })
}
