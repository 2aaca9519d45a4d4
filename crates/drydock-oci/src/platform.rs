//! Platforms (`linux/amd64`, `linux/arm64/v8`), as image indexes and configs name them.

use std::fmt;

/// An OS, an architecture and, for some architectures, a variant, in Go's terms (GOOS/GOARCH).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a platform")]
pub struct PlatformError(pub String);

impl PlatformError {
    /// What to do about it (the message does not hold it).
    pub fn fix(&self) -> Option<String> {
        Some("write OS/ARCH[/VARIANT], e.g. linux/amd64 or linux/arm64/v8".into())
    }
}

impl Platform {
    pub fn linux_amd64() -> Platform {
        Platform {
            os: "linux".into(),
            architecture: "amd64".into(),
            variant: None,
        }
    }

    /// Parses `os/arch[/variant]`.
    pub fn parse(s: &str) -> Result<Platform, PlatformError> {
        let parts: Vec<&str> = s.split('/').collect();
        let ok = |p: &&str| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        };
        match parts.as_slice() {
            [os, arch] if ok(os) && ok(arch) => Ok(Platform {
                os: os.to_string(),
                architecture: arch.to_string(),
                variant: None,
            }),
            [os, arch, v] if ok(os) && ok(arch) && ok(v) => Ok(Platform {
                os: os.to_string(),
                architecture: arch.to_string(),
                variant: Some(v.to_string()),
            }),
            _ => Err(PlatformError(s.to_string())),
        }
    }

    /// Whether an index entry's `platform` object (or a config's fields) names this platform.
    /// A missing variant matches any; `arm64` without a variant is `v8`, as containerd reads it.
    pub fn matches(&self, v: &serde_json::Value) -> bool {
        let field = |k: &str| v.get(k).and_then(|x| x.as_str());
        let norm = |arch: &str, variant: Option<&str>| match (arch, variant) {
            ("arm64", None) => Some("v8".to_string()),
            (_, v) => v.map(str::to_string),
        };
        field("os") == Some(self.os.as_str())
            && field("architecture") == Some(self.architecture.as_str())
            && (self.variant.is_none()
                || norm(&self.architecture, field("variant"))
                    == norm(&self.architecture, self.variant.as_deref()))
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_display_match() {
        let p = Platform::parse("linux/arm64/v8").unwrap();
        assert_eq!(p.to_string(), "linux/arm64/v8");
        assert!(p.matches(&serde_json::json!({"os": "linux", "architecture": "arm64"})));
        assert!(!p.matches(&serde_json::json!({"os": "unknown", "architecture": "unknown"})));
        assert!(Platform::linux_amd64()
            .matches(&serde_json::json!({"os": "linux", "architecture": "amd64"})));
        for bad in ["linux", "linux/", "Linux/amd64", "a/b/c/d", ""] {
            assert!(Platform::parse(bad).is_err(), "{bad}");
        }
    }
}
