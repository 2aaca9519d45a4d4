//! The build stage: from a staged copy of the context to one static binary.
//!
//! The compiler only ever sees the context (what `.dockerignore` and the secret filter let
//! through), mirrored into a per-project directory in drydock's cache, so builds are the same
//! whichever directory the project sits in. The user's toolchain environment passes through;
//! drydock adds only what makes the result static and reproducible. Whatever comes out is
//! checked to be a static ELF before anything packages it.

pub mod elf;
mod go;
pub mod goinfo;
mod rust;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::cache::{Cache, CacheError, StageDir};
use crate::config::Language;
use crate::context::{BuildContext, ContextError};
use crate::project::Project;
use crate::ui::Ui;

pub use elf::{verify_static, StaticError, StaticInfo};

#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    #[error("`{tool}` was not found on PATH\n  fix: {fix}")]
    ToolMissing { tool: String, fix: &'static str },
    #[error("{command} failed ({status}) in {dir}:\n{output}")]
    Failed {
        command: String,
        status: String,
        dir: PathBuf,
        output: String,
    },
    #[error("{0}")]
    Io(String),
    #[error(transparent)]
    Static(#[from] StaticError),
    #[error(transparent)]
    Context(#[from] ContextError),
    #[error(transparent)]
    Cache(#[from] CacheError),
}

/// The binary the runtime stage packages.
pub struct Compiled {
    pub binary: PathBuf,
    pub info: StaticInfo,
    /// `go build`, `cargo build` or `prebuilt`.
    pub tool: String,
    /// The command that ran, for the report.
    pub command: Option<String>,
    /// Held until the binary has been packaged: another build of the same project waits.
    pub _stage: Option<StageDir>,
}

pub fn compile(
    project: &Project,
    ctx: &BuildContext,
    cache: &Cache,
    ui: &Ui,
) -> Result<Compiled, CompileError> {
    if let Some(bin) = &project.binary {
        let info = verify_static(bin, elf::FIX_ANY)?;
        return Ok(Compiled {
            binary: bin.clone(),
            info,
            tool: "prebuilt".into(),
            command: None,
            _stage: None,
        });
    }
    match project.language {
        Language::Go => go::build(project, ctx, cache, ui),
        Language::Rust => rust::build(project, ctx, cache, ui),
    }
}

/// Runs a toolchain command, showing a spinner, and returns its captured output on failure.
fn run(
    mut cmd: Command,
    display: &str,
    dir: &Path,
    ui: &Ui,
    missing_fix: &'static str,
) -> Result<(), CompileError> {
    let step = ui.step(&format!("compiling: {display}"));
    let started = Instant::now();
    let out = cmd.current_dir(dir).output().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            CompileError::ToolMissing {
                tool: cmd.get_program().to_string_lossy().into_owned(),
                fix: missing_fix,
            }
        } else {
            CompileError::Io(format!("cannot run {display}: {e}"))
        }
    })?;
    drop(step);
    if !out.status.success() {
        let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(60)..].join("\n");
        return Err(CompileError::Failed {
            command: display.to_string(),
            status: out.status.to_string(),
            dir: dir.to_path_buf(),
            output: tail,
        });
    }
    let _ = started;
    Ok(())
}

/// An environment variable as the compiler will see it: drydock.toml's [build.env] wins over
/// the process environment.
fn env_value(project: &Project, key: &str) -> Option<String> {
    project
        .build_env
        .get(key)
        .cloned()
        .or_else(|| std::env::var(key).ok())
        .filter(|v| !v.is_empty())
}
