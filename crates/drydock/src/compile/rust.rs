//! `cargo build` for the build stage: a static binary from the musl target when it is installed,
//! else from the gnu target with `+crt-static` (a static-pie).

use std::path::PathBuf;
use std::process::Command;

use super::{env_value, run, CompileError, Compiled, Linking};
use crate::cache::Cache;
use crate::context::{stage, BuildContext};
use crate::project::Project;
use crate::ui::Ui;

const FIX: &str = "install Rust with rustup, or pass --binary PATH";

fn target_installed(triple: &str) -> bool {
    Command::new("rustc")
        .args(["--print", "target-libdir", "--target", triple])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .is_some_and(|d| {
            std::fs::read_dir(&d).is_ok_and(|mut r| {
                r.any(|e| e.is_ok_and(|e| e.file_name().to_string_lossy().starts_with("libstd")))
            })
        })
}

pub fn build(
    project: &Project,
    ctx: &BuildContext,
    cache: &Cache,
    ui: &Ui,
    linking: Linking,
) -> Result<Compiled, CompileError> {
    let guard = cache.stage_dir(&format!("rust-{}", project.name))?;
    let src_dir = guard.dir.join("src");
    // A workspace member builds in its workspace: the compiler sees the workspace root (its
    // Cargo.toml, Cargo.lock and the members the package depends on by path), as `cargo build`
    // there would. What the workspace's .dockerignore excludes, and files that look like
    // secrets, stay out as they do for any context.
    let ws_ctx;
    let ctx = match &project.cargo {
        Some(c) if !same_dir(&c.workspace_root, &project.root) => {
            ws_ctx = crate::context::load(&c.workspace_root, &[])?;
            &ws_ctx
        }
        _ => ctx,
    };
    stage(ctx, &src_dir, &["target"])?;
    let triple = if target_installed("x86_64-unknown-linux-musl") {
        "x86_64-unknown-linux-musl"
    } else {
        "x86_64-unknown-linux-gnu"
    };

    let mut cmd = Command::new("cargo");
    cmd.args(["build", "--release", "--target", triple]);
    let mut display = format!("cargo build --release --target {triple}");
    if let Some(c) = &project.cargo {
        cmd.args(["-p", &c.package]);
        display.push_str(&format!(" -p {}", c.package));
    }
    cmd.args(["--bin", &project.main]);
    display.push_str(&format!(" --bin {}", project.main));
    // The lock the project committed is what it builds with, never a fresh resolution.
    if ctx.contains("Cargo.lock") {
        cmd.arg("--locked");
        display.push_str(" --locked");
    }
    cmd.envs(&project.build_env);
    let mut rustflags = env_value(project, "RUSTFLAGS").unwrap_or_default();
    // Paths in panic messages and debug info must not depend on where the stage lives.
    rustflags.push_str(&format!(
        " -C target-feature=+crt-static --remap-path-prefix={}=/build",
        src_dir.display()
    ));
    if let Some(home) = env_value(project, "CARGO_HOME")
        .or_else(|| std::env::var("HOME").ok().map(|h| format!("{h}/.cargo")))
    {
        rustflags.push_str(&format!(" --remap-path-prefix={home}=/cargo"));
    }
    cmd.env("RUSTFLAGS", rustflags.trim());
    if env_value(project, "CARGO_PROFILE_RELEASE_STRIP").is_none() {
        cmd.env("CARGO_PROFILE_RELEASE_STRIP", "symbols");
    }
    let target_dir = env_value(project, "CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| src_dir.join("target"));
    run(cmd, &display, &src_dir, ui, FIX)?;
    let out = target_dir.join(triple).join("release").join(&project.main);
    let info = linking.check(&out, super::elf::FIX_RUST)?;
    Ok(Compiled {
        binary: out,
        info,
        tool: "cargo build".into(),
        command: Some(display),
        go_list: None,
        _stage: Some(guard),
    })
}

fn same_dir(a: &std::path::Path, b: &std::path::Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}
