//! What a Go binary says about its build: the Go version and the default GODEBUG settings,
//! from its `.go.buildinfo` section (the data `go version -m` prints). drydock uses it to tell
//! Go binaries from others and to leave GOMAXPROCS to Go 1.25+ runtimes that follow the CPU
//! limit themselves. Only the inline format (Go 1.18 and later) is read.

use object::{Object, ObjectSection};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GoInfo {
    /// e.g. `go1.19.8`.
    pub version: String,
    /// The `DefaultGODEBUG` build setting, when present.
    pub default_godebug: Option<String>,
}

impl GoInfo {
    /// Whether the runtime sets GOMAXPROCS from the cgroup CPU limit by itself: Go 1.25+, unless
    /// the module's go line keeps the old default (`containermaxprocs=0`).
    pub fn runtime_sets_maxprocs(&self) -> bool {
        let newer = version_at_least(&self.version, 1, 25);
        newer
            && !self
                .default_godebug
                .as_deref()
                .is_some_and(|g| g.split(',').any(|kv| kv == "containermaxprocs=0"))
    }
}

fn version_at_least(v: &str, major: u32, minor: u32) -> bool {
    let Some(rest) = v.strip_prefix("go") else {
        return false;
    };
    let mut parts = rest.split(|c: char| !c.is_ascii_digit());
    let ma: u32 = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let mi: u32 = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    (ma, mi) >= (major, minor)
}

const MAGIC: &[u8] = b"\xff Go buildinf:";

fn uvarint(b: &[u8]) -> Option<(usize, usize)> {
    let mut x: u64 = 0;
    for (i, &byte) in b.iter().enumerate().take(10) {
        x |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            return Some((x as usize, i + 1));
        }
    }
    None
}

/// Reads the build info of an ELF; `None` when it is not a Go binary (or an old one).
pub fn read(data: &[u8]) -> Option<GoInfo> {
    let file = object::File::parse(data).ok()?;
    let sec = file.section_by_name(".go.buildinfo")?;
    let d = sec.data().ok()?;
    if d.len() < 32 || !d.starts_with(MAGIC) || d[15] & 0x2 == 0 {
        return None;
    }
    let mut rest = &d[32..];
    let (n, k) = uvarint(rest)?;
    let version = String::from_utf8_lossy(rest.get(k..k + n)?).into_owned();
    rest = &rest[k + n..];
    let (n, k) = uvarint(rest)?;
    let modinfo = String::from_utf8_lossy(rest.get(k..k + n)?).into_owned();
    let default_godebug = modinfo
        .lines()
        .find_map(|l| l.strip_prefix("build\tDefaultGODEBUG="))
        .map(str::to_string);
    Some(GoInfo {
        version,
        default_godebug,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_godebug() {
        let g = |v: &str, d: Option<&str>| GoInfo {
            version: v.into(),
            default_godebug: d.map(str::to_string),
        };
        assert!(!g("go1.19.8", None).runtime_sets_maxprocs());
        assert!(!g("go1.24.3", None).runtime_sets_maxprocs());
        assert!(g("go1.25.0", None).runtime_sets_maxprocs());
        assert!(g("go1.26rc1", Some("httpmuxgo121=0")).runtime_sets_maxprocs());
        assert!(
            !g("go1.25.1", Some("containermaxprocs=0,updatemaxprocs=0")).runtime_sets_maxprocs()
        );
        assert!(!g("devel", None).runtime_sets_maxprocs());
    }

    #[test]
    fn non_go_binaries_have_none() {
        assert_eq!(read(&std::fs::read("/bin/ls").unwrap()), None);
        assert_eq!(read(b"not an elf"), None);
    }

    #[test]
    fn reads_a_real_go_binary() {
        // Debian's Go toolchain ships Go binaries of its own.
        let gofmt = std::path::Path::new("/usr/lib/go/bin/gofmt");
        if let Ok(data) = std::fs::read(gofmt) {
            let info = read(&data).expect("gofmt is a Go binary");
            assert!(info.version.starts_with("go1."), "{info:?}");
        } else {
            panic!("Go is not installed: run ./scripts/setup");
        }
    }
}
