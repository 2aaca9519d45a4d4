//! Is this binary static? Read from the ELF itself: a static executable has no program
//! interpreter (PT_INTERP) and needs no shared library (DT_NEEDED). A `static-pie` (what Rust's
//! `+crt-static` gives on glibc) has a dynamic section but neither of those.

use std::path::{Path, PathBuf};

use object::elf;
use object::read::elf::{Dyn, ElfFile64, FileHeader, ProgramHeader};
use object::Endianness;

#[derive(Debug, thiserror::Error)]
pub enum StaticError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a 64-bit ELF executable ({reason})")]
    NotElf { path: PathBuf, reason: String },
    #[error("{path} is built for {machine}, not {platform}")]
    WrongMachine {
        path: PathBuf,
        machine: String,
        platform: String,
    },
    #[error("{path} is dynamically linked (interpreter {interp}{needed}); it cannot run in a scratch image")]
    Dynamic {
        path: PathBuf,
        interp: String,
        needed: String,
        fix: &'static str,
    },
}

impl StaticError {
    /// What to do about it, shown after the message (see [`crate::error::Classify::fix`]).
    pub fn fix(&self) -> Option<String> {
        Some(match self {
            StaticError::NotElf { .. } => "build a 64-bit Linux executable for the image's platform (Go: GOOS=linux GOARCH=amd64 or arm64; Rust: the x86_64- or aarch64-unknown-linux-* targets)".into(),
            StaticError::WrongMachine { platform, .. } => format!("build it for {platform} (drydock compiles for each platform itself unless --binary names a prebuilt one), or build the image for the binary's platform (--platform)"),
            StaticError::Dynamic { fix, .. } => fix.to_string(),
            _ => return None,
        })
    }
}

/// How a binary is linked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Linkage {
    /// No interpreter, no dynamic section.
    Static,
    /// Position-independent, with a dynamic section but no interpreter and no needed library.
    StaticPie,
    /// An interpreter or needed libraries: allowed only on a base that provides them.
    Dynamic,
}

impl Linkage {
    /// As reports and messages write it: `static`, `static-pie`, `dynamic`.
    pub fn as_str(self) -> &'static str {
        match self {
            Linkage::Static => "static",
            Linkage::StaticPie => "static-pie",
            Linkage::Dynamic => "dynamic",
        }
    }
}

impl std::fmt::Display for Linkage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StaticInfo {
    pub kind: Linkage,
    pub size: u64,
    /// For a dynamic binary: its program interpreter, the libraries it needs and where it asks
    /// for them to be looked up (DT_RUNPATH / DT_RPATH).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interp: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub needed: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub runpath: Vec<String>,
    /// Go version and build settings, for Go binaries (read from the same bytes).
    pub go: Option<super::goinfo::GoInfo>,
    /// The ELF header's e_machine.
    #[serde(skip)]
    pub machine: elf::Machine,
}

/// The ELF machine (e_machine) of a platform's executables, with its name for messages; None
/// for an architecture drydock knows no machine for.
pub fn machine_of(p: &drydock_oci::Platform) -> Option<(elf::Machine, &'static str)> {
    Some(match p.architecture.as_str() {
        "amd64" => (elf::EM_X86_64, "x86-64"),
        "arm64" => (elf::EM_AARCH64, "aarch64"),
        "riscv64" => (elf::EM_RISCV, "riscv64"),
        "ppc64le" => (elf::EM_PPC64, "ppc64le"),
        "s390x" => (elf::EM_S390, "s390x"),
        _ => return None,
    })
}

fn machine_name(m: elf::Machine) -> String {
    match m {
        elf::EM_X86_64 => "x86-64".into(),
        elf::EM_AARCH64 => "aarch64".into(),
        elf::EM_RISCV => "riscv64".into(),
        elf::EM_PPC64 => "ppc64".into(),
        elf::EM_S390 => "s390x".into(),
        elf::EM_386 => "i386".into(),
        elf::EM_ARM => "32-bit arm".into(),
        m => format!("ELF machine {m:?}"),
    }
}

/// Refuses a binary whose ELF machine is not `platform`'s: checked before packaging, so an
/// image never holds a binary its platform cannot run.
pub fn check_machine(
    path: &Path,
    info: &StaticInfo,
    platform: &drydock_oci::Platform,
) -> Result<(), StaticError> {
    match machine_of(platform) {
        Some((m, _)) if m == info.machine => Ok(()),
        _ => Err(StaticError::WrongMachine {
            path: path.to_path_buf(),
            machine: machine_name(info.machine),
            platform: platform.to_string(),
        }),
    }
}

/// The fix to suggest, by language.
pub const FIX_GO: &str = "build with CGO_ENABLED=0 (drydock sets it unless your environment sets CGO_ENABLED), or link statically: -ldflags '-extldflags \"-static\"'";
pub const FIX_RUST: &str = "build with RUSTFLAGS='-C target-feature=+crt-static' (drydock does) or for a musl target; a crate linking a system library dynamically needs its static build feature";
pub const FIX_ANY: &str =
    "rebuild the binary statically linked (Go: CGO_ENABLED=0; Rust: -C target-feature=+crt-static)";

pub fn verify_static(path: &Path, fix: &'static str) -> Result<StaticInfo, StaticError> {
    let data = std::fs::read(path).map_err(|source| StaticError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    verify_static_bytes(path, &data, fix)
}

/// As [`verify_static`], on bytes already read (`path` names them in errors).
pub fn verify_static_bytes(
    path: &Path,
    data: &[u8],
    fix: &'static str,
) -> Result<StaticInfo, StaticError> {
    let info = read_elf(path, data)?;
    if info.kind == Linkage::Dynamic {
        return Err(StaticError::Dynamic {
            path: path.to_path_buf(),
            interp: info.interp.unwrap_or_else(|| "none".into()),
            needed: if info.needed.is_empty() {
                String::new()
            } else {
                format!(", needs {}", info.needed.join(", "))
            },
            fix,
        });
    }
    Ok(info)
}

/// Reads a binary's linkage, whatever it is: a file that is not an x86-64 ELF executable is
/// the only error.
pub fn read_elf_file(path: &Path) -> Result<StaticInfo, StaticError> {
    let data = std::fs::read(path).map_err(|source| StaticError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    read_elf(path, &data)
}

/// As [`read_elf_file`], on bytes already read.
pub fn read_elf(path: &Path, data: &[u8]) -> Result<StaticInfo, StaticError> {
    let not_elf = |reason: String| StaticError::NotElf {
        path: path.to_path_buf(),
        reason,
    };
    let file = ElfFile64::<Endianness>::parse(data).map_err(|e| not_elf(e.to_string()))?;
    let endian = file.endian();
    let header = file.elf_header();
    let machine = header.e_machine(endian);
    let etype = header.e_type(endian);
    if etype != elf::ET_EXEC && etype != elf::ET_DYN {
        return Err(not_elf("not an executable".into()));
    }
    let mut interp = None;
    let mut has_dynamic = false;
    for ph in file.elf_program_headers() {
        match ph.p_type(endian) {
            elf::PT_INTERP => {
                let bytes = ph.data(endian, data).unwrap_or_default();
                interp = Some(
                    String::from_utf8_lossy(bytes)
                        .trim_end_matches('\0')
                        .to_string(),
                );
            }
            elf::PT_DYNAMIC => has_dynamic = true,
            _ => {}
        }
    }
    let mut needed = Vec::new();
    let mut runpath = Vec::new();
    let sections = file.elf_section_table();
    if let Ok(Some((dyns, link))) = sections.dynamic(endian, data) {
        let strings = sections.strings(endian, data, link).ok();
        for d in dyns {
            let text = || {
                strings
                    .as_ref()
                    .and_then(|s| d.string(endian, *s).ok())
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .unwrap_or_else(|| "?".into())
            };
            match d.tag(endian) {
                elf::DT_NEEDED => needed.push(text()),
                elf::DT_RUNPATH | elf::DT_RPATH => runpath.extend(
                    text()
                        .split(':')
                        .filter(|p| !p.is_empty())
                        .map(str::to_string),
                ),
                _ => {}
            }
        }
    }
    let dynamic = interp.is_some() || !needed.is_empty();
    Ok(StaticInfo {
        kind: if dynamic {
            Linkage::Dynamic
        } else if etype == elf::ET_DYN && has_dynamic {
            Linkage::StaticPie
        } else {
            Linkage::Static
        },
        size: data.len() as u64,
        interp,
        needed,
        runpath,
        go: super::goinfo::read(data),
        machine,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_tools_are_dynamic_and_named() {
        // Debian's coreutils are dynamically linked against glibc.
        let err = verify_static(Path::new("/bin/ls"), FIX_ANY).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("dynamically linked") && msg.contains("libc.so.6"),
            "{msg}"
        );
        assert_eq!(err.fix().as_deref(), Some(FIX_ANY));
    }

    #[test]
    fn a_binary_for_another_machine_is_refused_naming_both() {
        let amd64 = drydock_oci::Platform::linux_amd64();
        let arm64 = drydock_oci::Platform::parse("linux/arm64").unwrap();
        let ls = read_elf_file(Path::new("/bin/ls")).unwrap();
        check_machine(Path::new("/bin/ls"), &ls, &amd64).unwrap();
        let e = check_machine(Path::new("/bin/ls"), &ls, &arm64).unwrap_err();
        assert_eq!(
            e.to_string(),
            "/bin/ls is built for x86-64, not linux/arm64"
        );
        assert!(e.fix().unwrap().contains("linux/arm64"));
        // The arm64 helper drydock embeds is an aarch64 executable.
        let helper = crate::image::helper::for_platform(&arm64).unwrap();
        let h = verify_static_bytes(Path::new("helper"), helper, FIX_ANY).unwrap();
        check_machine(Path::new("helper"), &h, &arm64).unwrap();
        let e = check_machine(Path::new("helper"), &h, &amd64).unwrap_err();
        assert!(
            e.to_string().contains("built for aarch64, not linux/amd64"),
            "{e}"
        );
        let riscv = drydock_oci::Platform::parse("linux/riscv64").unwrap();
        assert!(check_machine(Path::new("helper"), &h, &riscv).is_err());
    }

    #[test]
    fn non_elf_is_refused() {
        let t = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(t.path(), b"#!/bin/sh\necho hi\n").unwrap();
        assert!(matches!(
            verify_static(t.path(), FIX_ANY),
            Err(StaticError::NotElf { .. })
        ));
    }
}
