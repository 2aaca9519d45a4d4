//! Which platforms a build makes images for: `--platform linux/amd64,linux/arm64` or
//! `[image] platforms`, `all` meaning every platform of the base that drydock can build (as
//! `ko --platform=all` takes the base's), linux/amd64 alone when nothing says.

use drydock_oci::Platform;

/// What was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlatformSpec {
    /// These, in this order, none twice.
    List(Vec<Platform>),
    /// Every platform the base has that drydock can build for (a scratch image: every
    /// platform drydock has a helper for).
    All,
}

/// The platforms drydock compiles for and has a helper for.
pub const SUPPORTED: [&str; 2] = ["linux/amd64", "linux/arm64"];

impl PlatformSpec {
    /// Parses values as written (`--platform` repeated, or a list in drydock.toml), each a
    /// comma-separated list of `os/arch[/variant]` or `all`. The error says which value is bad.
    pub fn parse<S: AsRef<str>>(values: &[S]) -> Result<PlatformSpec, String> {
        let mut list: Vec<Platform> = Vec::new();
        let mut all = false;
        for v in values {
            for part in v.as_ref().split(',').map(str::trim) {
                if part == "all" {
                    all = true;
                    continue;
                }
                let p = Platform::parse(part).map_err(|_| {
                    format!("{part:?} is not a platform (write os/arch[/variant], e.g. linux/arm64, or all)")
                })?;
                if list.iter().any(|q| same(q, &p)) {
                    return Err(format!("{p} is named twice"));
                }
                list.push(p);
            }
        }
        match (all, list.is_empty()) {
            (true, true) => Ok(PlatformSpec::All),
            (true, false) => Err("`all` cannot be combined with named platforms".into()),
            (false, true) => Err("no platform is named".into()),
            (false, false) => Ok(PlatformSpec::List(list)),
        }
    }

    /// The default: linux/amd64 alone.
    pub fn default_list() -> Vec<Platform> {
        vec![Platform::linux_amd64()]
    }
}

/// Whether two platforms are the same one: `linux/arm64` is `linux/arm64/v8` and
/// `linux/amd64` is `linux/amd64/v1`, as containerd reads a missing variant.
pub fn same(a: &Platform, b: &Platform) -> bool {
    fn variant(p: &Platform) -> Option<&str> {
        match (p.architecture.as_str(), p.variant.as_deref()) {
            ("arm64", None) => Some("v8"),
            ("amd64", None) => Some("v1"),
            (_, v) => v,
        }
    }
    a.os == b.os && a.architecture == b.architecture && variant(a) == variant(b)
}

/// Whether drydock can build images for `p` (compile for it and, with the helper, put one in).
pub fn supported(p: &Platform) -> bool {
    p.os == "linux" && (p.architecture == "amd64" || p.architecture == "arm64")
}

/// The platform of the machine drydock runs on, as images name it: what a local engine runs
/// without emulation, so what `--load` and `drydock run` take from a multi-platform build.
pub fn host() -> Platform {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "powerpc64" => "ppc64le",
        other => other,
    };
    Platform {
        os: "linux".into(),
        architecture: arch.into(),
        variant: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Platform {
        Platform::parse(s).unwrap()
    }

    #[test]
    fn lists_commas_and_all() {
        assert_eq!(
            PlatformSpec::parse(&["linux/amd64,linux/arm64"]).unwrap(),
            PlatformSpec::List(vec![p("linux/amd64"), p("linux/arm64")])
        );
        assert_eq!(
            PlatformSpec::parse(&["linux/arm64", "linux/amd64"]).unwrap(),
            PlatformSpec::List(vec![p("linux/arm64"), p("linux/amd64")])
        );
        assert_eq!(PlatformSpec::parse(&["all"]).unwrap(), PlatformSpec::All);
        for (bad, says) in [
            (vec!["linux/amd64,linux/amd64"], "named twice"),
            (vec!["linux/arm64", "linux/arm64/v8"], "named twice"),
            (vec!["all,linux/amd64"], "cannot be combined"),
            (vec!["amd64"], "\"amd64\" is not a platform"),
            (vec![""], "is not a platform"),
        ] {
            let e = PlatformSpec::parse(&bad).unwrap_err();
            assert!(e.contains(says), "{bad:?}: {e}");
        }
        assert!(PlatformSpec::parse::<&str>(&[]).is_err());
    }

    #[test]
    fn same_platform_with_or_without_the_default_variant() {
        assert!(same(&p("linux/arm64"), &p("linux/arm64/v8")));
        assert!(same(&p("linux/amd64"), &p("linux/amd64")));
        assert!(!same(&p("linux/amd64"), &p("linux/arm64")));
        assert!(!same(&p("linux/arm/v6"), &p("linux/arm/v7")));
        assert!(supported(&p("linux/arm64/v8")) && !supported(&p("linux/riscv64")));
        assert_eq!(host(), p("linux/amd64"), "these tests run on x86-64");
    }
}
