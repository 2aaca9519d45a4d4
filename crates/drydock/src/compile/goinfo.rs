//! What a Go binary says about its build: the Go version, the default GODEBUG settings and the
//! modules it was built from, from its `.go.buildinfo` section (the data `go version -m`
//! prints). drydock uses it to tell Go binaries from others, to leave GOMAXPROCS to Go 1.25+
//! runtimes that follow the CPU limit themselves, and to report the module list. Only the
//! inline format (Go 1.18 and later) is read.

use object::{Object, ObjectSection};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GoInfo {
    /// e.g. `go1.19.8`.
    pub version: String,
    /// The `DefaultGODEBUG` build setting, when present.
    pub default_godebug: Option<String>,
    /// The main package's import path (`path`), when recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The main module (`mod`), in module mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub main_module: Option<GoModule>,
    /// The modules linked in (`dep`), in the order the binary lists them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deps: Vec<GoModule>,
}

/// One module of a binary's build info: a `mod` or `dep` line, and its `=>` replacement.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GoModule {
    pub path: String,
    /// A version, or `(devel)` for the main module.
    pub version: String,
    /// The `h1:` hash of the module zip; none for the main module or a local replacement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sum: Option<String>,
    /// What a `replace` directive put in its place.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaced_by: Option<Box<GoModule>>,
}

impl GoModule {
    fn parse(fields: &[&str]) -> Option<GoModule> {
        let path = fields.first().filter(|p| !p.is_empty())?;
        Some(GoModule {
            path: path.to_string(),
            version: fields.get(1).unwrap_or(&"").to_string(),
            sum: fields
                .get(2)
                .filter(|s| !s.is_empty())
                .map(|s| s.to_string()),
            replaced_by: None,
        })
    }
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
    let mut modinfo = rest.get(k..k + n)?;
    // The linker wraps the text in 16-byte sentinels (as debug/buildinfo strips them).
    if modinfo.len() >= 33 && modinfo[modinfo.len() - 17] == b'\n' {
        modinfo = &modinfo[16..modinfo.len() - 16];
    }
    Some(parse_modinfo(version, &String::from_utf8_lossy(modinfo)))
}

/// The build info text (`path`, `mod`, `dep`, `=>` and `build` lines, tab-separated).
fn parse_modinfo(version: String, modinfo: &str) -> GoInfo {
    let mut info = GoInfo {
        version,
        default_godebug: None,
        path: None,
        main_module: None,
        deps: Vec::new(),
    };
    for line in modinfo.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        match fields[..] {
            ["path", p, ..] => info.path = Some(p.to_string()),
            ["mod", ref rest @ ..] => info.main_module = GoModule::parse(rest),
            ["dep", ref rest @ ..] => info.deps.extend(GoModule::parse(rest)),
            ["=>", ref rest @ ..] => {
                let target = info.deps.last_mut().or(info.main_module.as_mut());
                if let (Some(m), Some(r)) = (target, GoModule::parse(rest)) {
                    m.replaced_by = Some(Box::new(r));
                }
            }
            ["build", kv, ..] => {
                if let Some(v) = kv.strip_prefix("DefaultGODEBUG=") {
                    info.default_godebug = Some(v.to_string());
                }
            }
            _ => {}
        }
    }
    info
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_godebug() {
        let g = |v: &str, d: Option<&str>| GoInfo {
            version: v.into(),
            default_godebug: d.map(str::to_string),
            path: None,
            main_module: None,
            deps: Vec::new(),
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
    fn module_list_with_replacements() {
        // As `go version -m` prints it for a module with a local and a versioned replace.
        let text = "path\texample.com/svc/cmd/api\n\
                    mod\texample.com/svc\t(devel)\t\n\
                    dep\tgithub.com/gin-gonic/gin\tv1.8.1\th1:Vw87yZ4J91bkqtaYnCG/4tV/qDY9ar7NKdbbYn2pKyA=\n\
                    dep\texample.com/lib\tv0.0.0-00010101000000-000000000000\t\n\
                    =>\t../lib\t(devel)\t\n\
                    dep\tgolang.org/x/net\tv0.7.0\n\
                    =>\tgolang.org/x/net\tv0.6.0\th1:abc=\n\
                    build\tCGO_ENABLED=0\n\
                    build\tDefaultGODEBUG=panicnil=1\n";
        let info = parse_modinfo("go1.21.0".into(), text);
        assert_eq!(info.path.as_deref(), Some("example.com/svc/cmd/api"));
        let main = info.main_module.unwrap();
        assert_eq!(
            (main.path.as_str(), main.version.as_str(), main.sum),
            ("example.com/svc", "(devel)", None)
        );
        assert_eq!(info.deps.len(), 3);
        assert_eq!(
            info.deps[0].sum.as_deref(),
            Some("h1:Vw87yZ4J91bkqtaYnCG/4tV/qDY9ar7NKdbbYn2pKyA=")
        );
        let lib = info.deps[1].replaced_by.as_deref().unwrap();
        assert_eq!(
            (lib.path.as_str(), lib.version.as_str(), lib.sum.as_deref()),
            ("../lib", "(devel)", None)
        );
        let net = info.deps[2].replaced_by.as_deref().unwrap();
        assert_eq!(
            (net.version.as_str(), net.sum.as_deref()),
            ("v0.6.0", Some("h1:abc="))
        );
        assert_eq!(info.deps[2].sum, None);
        assert_eq!(info.default_godebug.as_deref(), Some("panicnil=1"));
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
