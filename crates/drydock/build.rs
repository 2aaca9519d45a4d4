//! Compiles drydock-helper (crates/drydock-helper) into a static, size-optimised binary that
//! drydock embeds and puts into images. rustc is called directly rather than cargo: the helper
//! has no dependencies, and this way its size flags (opt-level z, fat LTO, one codegen unit)
//! apply to it alone, with no nested cargo and its locks. It uses no libc, so it links with
//! no start files and no default libraries.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let src =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("../drydock-helper/src");
    for f in ["main.rs", "cgroup.rs", "probe.rs", "sys.rs", "rt.rs"] {
        println!("cargo:rerun-if-changed={}", src.join(f).display());
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("drydock-helper");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let status = Command::new(&rustc)
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
        .args([
            "-C",
            "target-feature=+crt-static",
            "-C",
            "relocation-model=static",
            "--target",
            "x86_64-unknown-linux-gnu",
        ])
        .args([
            "-C",
            "link-arg=-nostartfiles",
            "-C",
            "link-arg=-nostdlib",
            "-C",
            "link-arg=-static",
        ])
        .arg(format!(
            "--remap-path-prefix={}=drydock-helper",
            src.display()
        ))
        .arg(src.join("main.rs"))
        .arg("-o")
        .arg(&out)
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .status()
        .expect("cannot run rustc to build drydock-helper");
    assert!(
        status.success(),
        "building drydock-helper failed (see the rustc output above)"
    );
}
