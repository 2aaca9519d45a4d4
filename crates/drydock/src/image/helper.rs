//! drydock-helper, as compiled by build.rs and embedded in drydock: the image's init, its
//! GOMAXPROCS/GOMEMLIMIT setter and its health probe (see crates/drydock-helper). One binary
//! per platform; a platform whose helper this drydock does not have is refused, never given an
//! image without its helper.

use drydock_oci::Platform;

use super::layer::{Content, Entry, LayerSpec};

// `HELPER_X86_64` and `HELPER_AARCH64`: the bytes, or why build.rs could not make them.
include!(concat!(env!("OUT_DIR"), "/helpers.rs"));

/// The linux/amd64 helper (build.rs fails without it).
pub const HELPER: &[u8] = match HELPER_X86_64 {
    Ok(b) => b,
    Err(_) => panic!("build.rs always builds the amd64 helper"),
};
pub const HELPER_PATH: &str = "/usr/local/bin/drydock-helper";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HelperUnavailable {
    #[error("this drydock was built without drydock-helper for {platform}: {why}")]
    NotBuilt {
        platform: String,
        rust_target: &'static str,
        why: &'static str,
    },
    #[error(
        "drydock has no drydock-helper for {platform}: it has one for linux/amd64 and linux/arm64"
    )]
    Unsupported { platform: String },
}

impl HelperUnavailable {
    /// What to do about it, shown after the message (see [`crate::error::Classify::fix`]).
    pub fn fix(&self) -> Option<String> {
        Some(match self {
            HelperUnavailable::NotBuilt { rust_target, .. } => format!("rustup target add {rust_target}, then rebuild drydock (cargo build --release); or build without the helper (--no-helper)"),
            HelperUnavailable::Unsupported { .. } => "build for one of those platforms, or without the helper (--no-helper)".into(),
        })
    }
}

/// The helper binary for `platform`. Any variant of amd64 or arm64 runs the baseline code.
pub fn for_platform(platform: &Platform) -> Result<&'static [u8], HelperUnavailable> {
    let (built, rust_target) = match (platform.os.as_str(), platform.architecture.as_str()) {
        ("linux", "amd64") => (HELPER_X86_64, "x86_64-unknown-linux-gnu"),
        ("linux", "arm64") => (HELPER_AARCH64, "aarch64-unknown-linux-musl"),
        _ => {
            return Err(HelperUnavailable::Unsupported {
                platform: platform.to_string(),
            })
        }
    };
    built.map_err(|why| HelperUnavailable::NotBuilt {
        platform: platform.to_string(),
        rust_target,
        why,
    })
}

/// The helper's layer for `platform`.
pub fn helper_layer_for(platform: &Platform, mtime: u64) -> Result<LayerSpec, HelperUnavailable> {
    Ok(layer_of(for_platform(platform)?, mtime))
}

fn layer_of(helper: &[u8], mtime: u64) -> LayerSpec {
    let mut l = LayerSpec::new("helper", mtime);
    l.push(Entry::file(
        HELPER_PATH,
        0o555,
        Content::Bytes(helper.to_vec()),
    ));
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    /// e_machine of a 64-bit little-endian executable ELF, or None for anything else.
    fn elf_machine(b: &[u8]) -> Option<u16> {
        let ident_ok = b.get(0..6) == Some(&[0x7f, b'E', b'L', b'F', 2, 1][..]);
        let e_type = u16::from_le_bytes(b.get(16..18)?.try_into().ok()?);
        (ident_ok && e_type == 2/* ET_EXEC */).then(|| u16::from_le_bytes([b[18], b[19]]))
    }

    const EM_X86_64: u16 = 62;
    const EM_AARCH64: u16 = 183;

    #[test]
    fn each_platform_gets_a_helper_for_its_machine() {
        let amd64 = for_platform(&Platform::linux_amd64()).unwrap();
        assert_eq!(amd64, HELPER);
        assert_eq!(elf_machine(amd64), Some(EM_X86_64));
        for p in ["linux/arm64", "linux/arm64/v8"] {
            // CI installs the aarch64 target (scripts/setup): there it must be built.
            let arm64 =
                for_platform(&Platform::parse(p).unwrap()).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(elf_machine(arm64), Some(EM_AARCH64), "{p}");
        }
        let l = helper_layer_for(&Platform::parse("linux/arm64").unwrap(), 0).unwrap();
        assert_eq!(l.entries.len(), 1);
    }

    #[test]
    fn other_platforms_are_refused_with_the_fix() {
        for p in ["linux/riscv64", "linux/arm/v7", "windows/amd64"] {
            let e = for_platform(&Platform::parse(p).unwrap()).unwrap_err();
            let msg = e.to_string();
            assert!(
                msg.contains(p) && msg.contains("linux/amd64 and linux/arm64") && e.fix().is_some(),
                "{msg}"
            );
        }
        let e = HelperUnavailable::NotBuilt {
            platform: "linux/arm64".into(),
            rust_target: "aarch64-unknown-linux-musl",
            why: "the Rust target aarch64-unknown-linux-musl is not installed",
        };
        assert!(e
            .fix()
            .unwrap()
            .starts_with("rustup target add aarch64-unknown-linux-musl, then rebuild"));
    }
}
