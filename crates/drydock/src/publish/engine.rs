//! `--load docker|podman`: streams the docker archive into the local engine's `load`.

use std::io::Write;
use std::process::{Command, Stdio};

use super::{write_archive, PublishError, PublishRequest, Published, Publisher};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    Docker,
    Podman,
}

impl Engine {
    pub fn program(self) -> &'static str {
        match self {
            Engine::Docker => "docker",
            Engine::Podman => "podman",
        }
    }
}

pub struct EngineLoad {
    pub engine: Engine,
}

impl Publisher for EngineLoad {
    fn destination(&self) -> String {
        self.engine.program().to_string()
    }

    fn publish(&self, req: &PublishRequest<'_>) -> Result<Published, PublishError> {
        let prog = self.engine.program();
        let mut child = Command::new(prog)
            .arg("load")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| PublishError::EngineMissing {
                engine: prog.into(),
                reason: e.to_string(),
                fix: format!(
                    "install {prog}, or write the image with --output docker-archive:FILE"
                ),
            })?;
        let written = match child.stdin.take() {
            Some(stdin) => write_archive(req, &self.destination(), std::io::BufWriter::new(stdin))
                .and_then(|mut w| {
                    w.flush().map_err(|source| PublishError::Stream {
                        destination: format!("{prog} load"),
                        source,
                    })
                }),
            None => Ok(()),
        };
        let out = child
            .wait_with_output()
            .map_err(|source| PublishError::Stream {
                destination: format!("{prog} load"),
                source,
            })?;
        if !out.status.success() {
            return Err(PublishError::EngineFailed {
                command: format!("{prog} load"),
                status: out.status.to_string(),
                output: format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                )
                .trim()
                .to_string(),
            });
        }
        written?;
        Ok(Published {
            destination: format!(
                "{prog} ({})",
                String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .last()
                    .unwrap_or("loaded")
                    .trim()
            ),
            reference: req.tag.clone(),
            digest: req.image.manifest_digest.clone(),
            push: None,
        })
    }
}
