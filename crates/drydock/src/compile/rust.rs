//! `cargo build` for the build stage: a static binary from the musl target when it is installed,
//! else from the gnu target with `+crt-static` (a static-pie).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::fingerprint::{self, FileHashes, Hasher, Outside};

use super::{env_value, run, CompileError, Compiled, Job, Linking};
use crate::cache::Cache;
use crate::context::{stage, BuildContext};
use crate::project::Project;

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

/// The Rust target a platform's binary is compiled for, and the linker it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    triple: &'static str,
    /// `None`: the target's default (the host's cc, for the host's own architecture).
    linker: Option<&'static str>,
}

/// linux/amd64: the musl target when it is installed, else gnu with `+crt-static` (a
/// static-pie), both linked by the host's cc. linux/arm64: aarch64-unknown-linux-musl, whose
/// standard library `rustup target add` gives with musl's C library and start files
/// (self-contained), linked by rust-lld, the linker every Rust toolchain ships: the host's cc
/// cannot link aarch64 objects, and no cross gcc is needed. A gnu arm64 target would need
/// one (its glibc is not shipped), so it is not used. Crates that compile C (the `cc` crate)
/// still need a C cross compiler for arm64: CC_aarch64_unknown_linux_musl in [build] env.
fn rust_target(platform: &drydock_oci::Platform) -> Result<Target, CompileError> {
    match (platform.os.as_str(), platform.architecture.as_str()) {
        ("linux", "amd64") => Ok(Target {
            triple: if target_installed("x86_64-unknown-linux-musl") {
                "x86_64-unknown-linux-musl"
            } else {
                "x86_64-unknown-linux-gnu"
            },
            linker: None,
        }),
        ("linux", "arm64") => {
            let triple = "aarch64-unknown-linux-musl";
            if !target_installed(triple) {
                return Err(CompileError::Platform {
                    platform: platform.to_string(),
                    why: format!("the Rust target {triple} is not installed"),
                    fix: format!("rustup target add {triple}"),
                });
            }
            Ok(Target {
                triple,
                linker: Some("rust-lld"),
            })
        }
        _ => Err(CompileError::Platform {
            platform: platform.to_string(),
            why: "drydock compiles Rust for linux/amd64 and linux/arm64 only".into(),
            fix: "build for linux/amd64 or linux/arm64, or pass a prebuilt binary (--binary PATH)"
                .into(),
        }),
    }
}

pub fn build(job: &Job) -> Result<Compiled, CompileError> {
    let Job {
        project,
        ctx,
        cache,
        ui,
        linking,
        use_cache,
        platform,
    } = *job;
    let guard = cache.stage_dir(&super::stage_name("rust", &project.build.stage, platform))?;
    let src_dir = guard.dir.join("src");
    // A workspace member builds in its workspace: the compiler sees the workspace root (its
    // Cargo.toml, Cargo.lock and the members the package depends on by path), as `cargo build`
    // there would. What the workspace's .dockerignore excludes, and files that look like
    // secrets, stay out as they do for any context.
    let ws_ctx;
    let ctx = match &project.build.cargo {
        Some(c) if !same_dir(&c.workspace_root, &project.root) => {
            ws_ctx = crate::context::load(&c.workspace_root, &[])?;
            &ws_ctx
        }
        _ => ctx,
    };
    // The rebuild cache: the same inputs give the same binary, without the compiler.
    let mut files = FileHashes::load(cache);
    let key = if use_cache {
        fingerprint(project, ctx, cache, &mut files, &src_dir, linking, platform)
    } else {
        None
    };
    if let Some(key) = &key {
        if let Some((entry, blob)) = fingerprint::lookup(cache, &mut files, key) {
            if let Ok(info) = linking.check(&blob, super::elf::FIX_RUST, platform) {
                files.save();
                return Ok(Compiled {
                    binary: blob,
                    info,
                    tool: entry.tool.clone(),
                    command: entry.command.clone(),
                    go_list: None,
                    cached: true,
                    digest: Some(entry.binary),
                    _stage: Some(guard),
                });
            }
        }
    }
    stage(ctx, &src_dir, &["target"])?;
    if key.is_some() {
        fingerprint::restage_changed(&mut files, ctx, &src_dir).map_err(|source| {
            CompileError::Io {
                what: "staging",
                path: src_dir.clone(),
                source,
            }
        })?;
    }
    // Resolved on a miss only: asking rustc which targets are installed costs a process, and a
    // cache hit needs no target (the toolchain's identity, in the key, covers an added one).
    let target = rust_target(platform)?;
    let triple = target.triple;

    let mut cmd = Command::new("cargo");
    cmd.args(["build", "--release", "--target", triple]);
    let mut display = format!("cargo build --release --target {triple}");
    if let Some(c) = &project.build.cargo {
        cmd.args(["-p", &c.package]);
        display.push_str(&format!(" -p {}", c.package));
    }
    cmd.args(["--bin", &project.build.main]);
    display.push_str(&format!(" --bin {}", project.build.main));
    // The lock the project committed is what it builds with, never a fresh resolution.
    if ctx.contains("Cargo.lock") {
        cmd.arg("--locked");
        display.push_str(" --locked");
    }
    cmd.envs(&project.build.env);
    if let Some(linker) = target.linker {
        let var = format!(
            "CARGO_TARGET_{}_LINKER",
            triple.to_uppercase().replace('-', "_")
        );
        if env_value(project, &var).is_none() {
            cmd.env(&var, linker);
        }
    }
    let mut rustflags = env_value(project, "RUSTFLAGS").unwrap_or_default();
    // Paths in panic messages and debug info must not depend on where the stage lives.
    rustflags.push_str(&format!(
        " -C target-feature=+crt-static --remap-path-prefix={}=/build",
        src_dir.display()
    ));
    if let Some(home) = cargo_home(project) {
        rustflags.push_str(&format!(" --remap-path-prefix={}=/cargo", home.display()));
    }
    cmd.env("RUSTFLAGS", rustflags.trim());
    if env_value(project, "CARGO_PROFILE_RELEASE_STRIP").is_none() {
        cmd.env("CARGO_PROFILE_RELEASE_STRIP", "symbols");
    }
    let target_dir = env_value(project, "CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| src_dir.join("target"));
    run(cmd, &display, &src_dir, ui, FIX)?;
    let out = target_dir
        .join(triple)
        .join("release")
        .join(&project.build.main);
    let info = linking.check(&out, super::elf::FIX_RUST, platform)?;
    let mut digest = None;
    if let Some(key) = &key {
        let release_dir = target_dir.join(triple).join("release");
        if let Some(outside) = outside_inputs(project, &src_dir, &release_dir) {
            digest = fingerprint::remember(
                cache,
                &mut files,
                key,
                &out,
                outside,
                "cargo build",
                &display,
                ui,
            );
        }
    }
    files.save();
    Ok(Compiled {
        binary: out,
        info,
        tool: "cargo build".into(),
        command: Some(display),
        go_list: None,
        cached: false,
        digest,
        _stage: Some(guard),
    })
}

fn cargo_home(project: &Project) -> Option<PathBuf> {
    env_value(project, "CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var("HOME")
                .ok()
                .map(|h| Path::new(&h).join(".cargo"))
        })
}

/// What the compile depends on, before the outside inputs the build reports: `None` when it
/// cannot be fingerprinted safely (no Cargo.lock: every build resolves the dependencies anew).
fn fingerprint(
    project: &Project,
    ctx: &BuildContext,
    cache: &Cache,
    files: &mut FileHashes,
    src_dir: &Path,
    linking: Linking,
    platform: &drydock_oci::Platform,
) -> Option<String> {
    if !ctx.contains("Cargo.lock") {
        return None;
    }
    // rustup's proxies stay the same when a toolchain or a target changes: the toolchains'
    // own binaries and target directories identify what runs.
    let mut id = Vec::new();
    for tool in ["rustc", "cargo", "cc"] {
        if let Some(p) = fingerprint::which(tool) {
            id.push(fingerprint::identity(&p));
            if let Ok(real) = p.canonicalize() {
                id.push(fingerprint::identity(&real));
            }
        } else if tool != "cc" {
            return None;
        }
    }
    let rustup_home = std::env::var_os("RUSTUP_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".rustup")));
    if let Some(home) = rustup_home {
        id.push(fingerprint::identity(&home.join("settings.toml")));
        if let Ok(rd) = std::fs::read_dir(home.join("toolchains")) {
            let mut tcs: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
            tcs.sort();
            for tc in tcs {
                id.push(fingerprint::identity(&tc.join("bin").join("rustc")));
                id.push(fingerprint::identity(&tc.join("lib").join("rustlib")));
            }
        }
    }
    let id = id.join("\n");
    let version = fingerprint::toolchain_version(cache, &id, || {
        let mut v = String::new();
        for (tool, arg) in [("rustc", "-vV"), ("cargo", "-V")] {
            let o = Command::new(tool)
                .arg(arg)
                .current_dir(src_dir.parent().unwrap_or(src_dir))
                .stdin(Stdio::null())
                .output()
                .ok()?;
            if !o.status.success() {
                return None;
            }
            v.push_str(&String::from_utf8_lossy(&o.stdout));
        }
        Some(v)
    })?;
    let mut h = Hasher::new();
    h.line("rust");
    h.line(&id);
    h.line(&version);
    h.line(&format!("platform {platform}"));
    h.line(&format!(
        "{} {} {:?} {linking:?} {}",
        project.name,
        project.build.main,
        project.build.cargo.as_ref().map(|c| &c.package),
        src_dir.display()
    ));
    fingerprint::hash_env(&mut h, &project.build.env);
    // Cargo configuration outside the context: in the stage's parent directories and in
    // CARGO_HOME (present or absent).
    let mut configs = Vec::new();
    for dir in src_dir.ancestors().skip(1) {
        configs.push(dir.join(".cargo").join("config"));
        configs.push(dir.join(".cargo").join("config.toml"));
    }
    if let Some(home) = cargo_home(project) {
        configs.push(home.join("config"));
        configs.push(home.join("config.toml"));
    }
    for c in configs {
        let sha = files.hash(&c).ok()?;
        h.line(&format!("config {} {sha:?}", c.display()));
    }
    fingerprint::hash_context(&mut h, files, ctx).ok()?;
    Some(h.finish())
}

/// What the build used outside the context: the packages of source files elsewhere (path
/// dependencies, from the binary's dep-info, which lists every file rustc read), and the files
/// and variables build scripts declared with `rerun-if-changed` / `rerun-if-env-changed`.
/// `None` when that cannot be told (then nothing is cached).
fn outside_inputs(project: &Project, src_dir: &Path, release_dir: &Path) -> Option<Vec<Outside>> {
    let dep_info =
        std::fs::read_to_string(release_dir.join(format!("{}.d", project.build.main))).ok()?;
    let registry = cargo_home(project).map(|h| h.join("registry"));
    let git = cargo_home(project).map(|h| h.join("git"));
    let immutable = |p: &Path| {
        p.starts_with(src_dir)
            || registry.as_ref().is_some_and(|r| p.starts_with(r))
            || git.as_ref().is_some_and(|r| p.starts_with(r))
    };
    let mut out = Vec::new();
    for line in dep_info.lines() {
        let Some((_, deps)) = line.split_once(": ") else {
            continue;
        };
        // Paths are separated by spaces; a space inside one is escaped.
        let deps = deps.replace("\\ ", "\u{0}");
        for d in deps.split(' ').filter(|d| !d.is_empty()) {
            let p = PathBuf::from(d.replace('\u{0}', " "));
            if p.is_relative() || immutable(&p) {
                continue;
            }
            // The whole package: its manifest and files it may add.
            let pkg = p
                .ancestors()
                .skip(1)
                .find(|a| a.join("Cargo.toml").is_file())
                .map(Path::to_path_buf);
            out.push(match pkg {
                Some(dir) => Outside::Tree(dir),
                None => Outside::File(p),
            });
        }
    }
    let build_dir = release_dir.join("build");
    if let Ok(rd) = std::fs::read_dir(&build_dir) {
        let mut outputs: Vec<PathBuf> = rd.flatten().map(|e| e.path().join("output")).collect();
        outputs.sort();
        for f in outputs {
            let Ok(text) = std::fs::read_to_string(&f) else {
                continue;
            };
            for line in text.lines() {
                let line = line.replacen("cargo::", "cargo:", 1);
                if let Some(p) = line.strip_prefix("cargo:rerun-if-changed=") {
                    let p = PathBuf::from(p);
                    if !p.is_relative() && !immutable(&p) {
                        out.push(if p.is_dir() {
                            Outside::Tree(p)
                        } else {
                            Outside::File(p)
                        });
                    }
                } else if let Some(k) = line.strip_prefix("cargo:rerun-if-env-changed=") {
                    out.push(Outside::Env(k.to_string()));
                }
            }
        }
    }
    out.sort_by_key(|o| format!("{o:?}"));
    out.dedup();
    Some(out)
}

fn same_dir(a: &std::path::Path, b: &std::path::Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}
