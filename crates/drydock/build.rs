//! Compiles drydock-helper (crates/drydock-helper) into a static, size-optimised binary for each
//! platform drydock supports (linux/amd64 and linux/arm64), which drydock embeds and puts into
//! images. rustc is called directly rather than cargo: the helper has no dependencies, and this
//! way its size flags (opt-level z, fat LTO, one codegen unit) apply to it alone, with no nested
//! cargo and its locks. It uses no libc, so it links with no start files and no default
//! libraries.
//!
//! The amd64 helper is required: without it the build fails. The arm64 helper needs the Rust
//! target `aarch64-unknown-linux-musl` (`rustup target add aarch64-unknown-linux-musl`); when it
//! cannot be built, the build goes on with a warning, and drydock refuses linux/arm64 at run
//! time saying why, rather than making an image without its helper. What was built is written
//! to `$OUT_DIR/helpers.rs`, which `src/image/helper.rs` includes.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One helper binary: the Rust architecture it is for, the target it is compiled for, and the
/// target- and linker-specific rustc arguments.
struct HelperTarget {
    arch: &'static str,
    triple: &'static str,
    args: &'static [&'static str],
    required: bool,
}

const TARGETS: [HelperTarget; 2] = [
    // The host's own target: linked by the toolchain's default linker driver (cc). These
    // arguments must not change: they make the amd64 helper, and so every amd64 image digest.
    HelperTarget {
        arch: "x86_64",
        triple: "x86_64-unknown-linux-gnu",
        args: &[
            "-C",
            "target-feature=+crt-static",
            "-C",
            "relocation-model=static",
            "--target",
            "x86_64-unknown-linux-gnu",
            "-C",
            "link-arg=-nostartfiles",
            "-C",
            "link-arg=-nostdlib",
            "-C",
            "link-arg=-static",
        ],
        required: true,
    },
    // musl rather than gnu: the helper uses neither libc, and the musl target's standard
    // library is what `rustup target add` is known to give here. Linked with rust-lld, the
    // linker every Rust toolchain ships, called as ld.lld (not through cc): the host's cc
    // cannot link aarch64 objects, and this needs no cross gcc. `link-self-contained=no`
    // keeps rustc from adding musl's start files and libc; nothing here uses them.
    HelperTarget {
        arch: "aarch64",
        triple: "aarch64-unknown-linux-musl",
        args: &[
            "-C",
            "target-feature=+crt-static",
            "-C",
            "relocation-model=static",
            "--target",
            "aarch64-unknown-linux-musl",
            "-C",
            "linker=rust-lld",
            "-C",
            "linker-flavor=ld.lld",
            "-C",
            "link-self-contained=no",
            "-C",
            "link-arg=-nostdlib",
            "-C",
            "link-arg=-static",
        ],
        required: false,
    },
];

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let src = manifest.join("../drydock-helper/src");
    // The whole directory: the per-architecture modules live in subdirectories.
    println!("cargo:rerun-if-changed={}", src.display());
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    // rustup rewrites this file when a target is added, so that adding the aarch64 target and
    // rebuilding builds its helper.
    if let Some(sysroot) = print(&rustc, &["--print", "sysroot"]) {
        let components = Path::new(&sysroot).join("lib/rustlib/components");
        if components.is_file() {
            println!("cargo:rerun-if-changed={}", components.display());
        }
    }

    let mut generated =
        String::from("// Written by build.rs: the embedded drydock-helper binaries.\n");
    for t in &TARGETS {
        let out = out_dir.join(format!("drydock-helper-{}", t.arch));
        let built =
            target_installed(&rustc, t.triple).and_then(|()| compile(&rustc, &src, t, &out));
        let name = format!("HELPER_{}", t.arch.to_uppercase());
        match built {
            Ok(()) => writeln!(
                generated,
                "const {name}: Result<&[u8], &str> = Ok(include_bytes!({:?}));",
                out.display().to_string()
            )
            .unwrap(),
            Err(why) if !t.required => {
                println!(
                    "cargo:warning=drydock-helper for {} not built, so drydock will refuse that platform: {why}; \
                     fix: rustup target add {} (scripts/setup does), then rebuild",
                    t.arch, t.triple
                );
                writeln!(
                    generated,
                    "const {name}: Result<&[u8], &str> = Err({why:?});"
                )
                .unwrap();
            }
            Err(why) => panic!("building drydock-helper for {} failed: {why}", t.triple),
        }
    }
    std::fs::write(out_dir.join("helpers.rs"), generated).expect("cannot write helpers.rs");
}

/// The trimmed stdout of `rustc ARGS`, when it succeeds.
fn print(rustc: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(rustc).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Whether the target's core library is installed (rustup prints the directory either way).
fn target_installed(rustc: &str, triple: &str) -> Result<(), String> {
    let missing = || format!("the Rust target {triple} is not installed");
    let dir =
        print(rustc, &["--print", "target-libdir", "--target", triple]).ok_or_else(missing)?;
    let has_core = std::fs::read_dir(&dir)
        .map_err(|_| missing())?
        .flatten()
        .any(|e| e.file_name().to_string_lossy().starts_with("libcore-"));
    if has_core {
        Ok(())
    } else {
        Err(missing())
    }
}

fn compile(rustc: &str, src: &Path, t: &HelperTarget, out: &Path) -> Result<(), String> {
    let result = Command::new(rustc)
        .args([
            "--edition",
            "2021",
            "--crate-name",
            "drydock_helper",
            "--crate-type",
            "bin",
        ])
        .args([
            "-C",
            "opt-level=z",
            "-C",
            "panic=abort",
            "-C",
            "lto=fat",
            "-C",
            "codegen-units=1",
            "-C",
            "strip=symbols",
        ])
        .args(t.args)
        .arg(format!(
            "--remap-path-prefix={}=drydock-helper",
            src.display()
        ))
        .arg(src.join("main.rs"))
        .arg("-o")
        .arg(out)
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .map_err(|e| format!("cannot run {rustc}: {e}"))?;
    if result.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&result.stderr);
    eprintln!("{stderr}");
    // The first error line says enough for a warning; the whole output is above.
    let first = stderr
        .lines()
        .find(|l| l.starts_with("error"))
        .unwrap_or("rustc failed");
    Err(format!("rustc failed: {first}"))
}
