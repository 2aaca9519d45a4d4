//! Software bills of materials for a built image, in SPDX 2.3 and CycloneDX 1.6 JSON.
//!
//! drydock knows at build time what a scanner has to guess: the Go build info or Cargo.lock of
//! the binary it compiled, the packages a GOPATH build really compiled (and the Debian package
//! each came from), the toolchain, the base and its package database, and its own files (the
//! helper, the CA bundle). [`collect`] gathers that into one [`Sbom`]; [`spdx`] and
//! [`cyclonedx`] render it. Output is deterministic: identifiers derive from the image digest,
//! times from the image's created time, and every list is sorted. This module never writes
//! anything but the SBOM files, and never replaces a file that is not an SBOM drydock wrote.

pub mod collect;
pub mod cyclonedx;
pub mod ospkg;
pub mod spdx;

use std::path::{Path, PathBuf};

pub use collect::collect;

#[derive(Debug, thiserror::Error)]
pub enum SbomError {
    #[error("{} exists and is not {what} drydock wrote, so drydock will not replace it", .path.display())]
    Refused { path: PathBuf, what: &'static str },
    #[error("writing the SBOM {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot run {command}: {message}")]
    Tool { command: String, message: String },
}

impl SbomError {
    /// What to do about it, shown after the message (see [`crate::error::Classify::fix`]).
    pub fn fix(&self) -> Option<String> {
        Some(match self {
            SbomError::Refused { .. } => {
                "name another --sbom-dir, or remove the file yourself".into()
            }
            _ => return None,
        })
    }
}

pub use crate::config::SbomFormat;

/// What a component is; the order is the order of the documents' lists.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Kind {
    Application,
    Library,
    Toolchain,
    BaseImage,
    OsPackage,
    DrydockFile,
}

/// One thing in the image (or that made it), as both formats describe it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Component {
    /// Unique in the document: letters, digits, `.` and `-`.
    pub id: String,
    pub kind: Kind,
    pub name: String,
    pub version: Option<String>,
    pub purl: Option<String>,
    /// Other package URLs for the same thing (the Debian package a GOPATH source came from).
    pub other_purls: Vec<String>,
    /// Lowercase hex.
    pub sha256: Option<String>,
    pub sha1: Option<String>,
    /// `drydock:…` facts: CycloneDX properties, and lines of the SPDX package comment.
    pub properties: Vec<(String, String)>,
    /// The id of what holds or depends on it (the application for its libraries, the base for
    /// its OS packages); `None` for the image itself.
    pub parent: Option<String>,
}

impl Component {
    pub fn new(kind: Kind, name: &str, version: Option<&str>) -> Component {
        Component {
            id: String::new(),
            kind,
            name: name.to_string(),
            version: version.map(str::to_string),
            purl: None,
            other_purls: Vec::new(),
            sha256: None,
            sha1: None,
            properties: Vec::new(),
            parent: None,
        }
    }

    pub fn prop(mut self, k: &str, v: impl Into<String>) -> Component {
        self.properties.push((k.to_string(), v.into()));
        self
    }
}

/// The image and everything in it.
#[derive(Debug, Clone)]
pub struct Sbom {
    /// The image's name (drydock.toml `name`).
    pub name: String,
    /// `sha256:…` of the image manifest.
    pub digest: String,
    /// RFC 3339, the image's created time.
    pub created: String,
    pub image: Component,
    pub components: Vec<Component>,
    /// What the document cannot know, said once for the whole document.
    pub notes: Vec<String>,
}

impl Sbom {
    pub fn digest_hex(&self) -> &str {
        self.digest.strip_prefix("sha256:").unwrap_or(&self.digest)
    }

    /// Sorts the components and gives each a unique id; parents are given as ids made by
    /// [`id_for`] and stay valid.
    pub fn finish(&mut self) {
        self.components.sort_by(|a, b| {
            (a.kind, &a.name, &a.version, &a.purl).cmp(&(b.kind, &b.name, &b.version, &b.purl))
        });
        self.components.dedup_by(|a, b| {
            a.kind == b.kind && a.name == b.name && a.version == b.version && a.purl == b.purl
        });
        let mut seen = std::collections::BTreeSet::new();
        seen.insert(self.image.id.clone());
        for c in &mut self.components {
            if c.id.is_empty() {
                c.id = id_for(c.kind, &c.name, c.version.as_deref());
            }
            let base = c.id.clone();
            let mut n = 2;
            while !seen.insert(c.id.clone()) {
                c.id = format!("{base}-{n}");
                n += 1;
            }
            c.properties.sort();
            c.other_purls.sort();
        }
    }
}

/// A stable id from what a component is.
pub fn id_for(kind: Kind, name: &str, version: Option<&str>) -> String {
    let prefix = match kind {
        Kind::Application => "app",
        Kind::Library => "lib",
        Kind::Toolchain => "toolchain",
        Kind::BaseImage => "base",
        Kind::OsPackage => "os",
        Kind::DrydockFile => "drydock",
    };
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c
                } else {
                    '-'
                }
            })
            .collect()
    };
    match version {
        Some(v) => format!("{prefix}-{}-{}", clean(name), clean(v)),
        None => format!("{prefix}-{}", clean(name)),
    }
}

/// A purl version or name segment: what the spec says must be percent-encoded here.
pub fn purl_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' | b'~' | b'+' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A UUID (version 4 layout, so validators accept it) from the first bytes of a hex digest.
pub fn uuid_from_hex(hex: &str) -> String {
    let mut h: Vec<u8> = hex.bytes().take(32).collect();
    while h.len() < 32 {
        h.push(b'0');
    }
    h[12] = b'4';
    h[16] = match h[16] {
        b'0' | b'4' | b'8' | b'c' => b'8',
        b'1' | b'5' | b'9' | b'd' => b'9',
        b'2' | b'6' | b'a' | b'e' => b'a',
        _ => b'b',
    };
    let s = String::from_utf8_lossy(&h).into_owned();
    format!(
        "{}-{}-{}-{}-{}",
        &s[0..8],
        &s[8..12],
        &s[12..16],
        &s[16..20],
        &s[20..32]
    )
}

/// One SBOM file `drydock build` wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Written {
    /// `spdx` or `cyclonedx`.
    pub format: &'static str,
    pub path: PathBuf,
    pub components: usize,
}

/// The files for `name` in `dir`: `<name>.spdx.json`, `<name>.cdx.json`.
pub fn paths(dir: &Path, name: &str, format: SbomFormat) -> Vec<(&'static str, PathBuf)> {
    let mut out = Vec::new();
    if format.spdx() {
        out.push(("spdx", dir.join(format!("{name}.spdx.json"))));
    }
    if format.cyclonedx() {
        out.push(("cyclonedx", dir.join(format!("{name}.cdx.json"))));
    }
    out
}

/// Refuses, before anything is built, to replace a file that is not an SBOM drydock wrote of
/// the same format.
pub fn check(dir: &Path, name: &str, format: SbomFormat) -> Result<(), SbomError> {
    for (fmt, path) in paths(dir, name, format) {
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => return Err(SbomError::Io { path, source }),
        };
        let what = if fmt == "spdx" {
            "an SPDX document"
        } else {
            "a CycloneDX document"
        };
        let ours = meta.is_file()
            && std::fs::read(&path)
                .ok()
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                .is_some_and(|v| written_by_drydock(fmt, &v));
        if !ours {
            return Err(SbomError::Refused { path, what });
        }
    }
    Ok(())
}

fn written_by_drydock(fmt: &str, v: &serde_json::Value) -> bool {
    if fmt == "spdx" {
        v["spdxVersion"].as_str().is_some()
            && v["creationInfo"]["creators"].as_array().is_some_and(|c| {
                c.iter()
                    .any(|c| c.as_str().is_some_and(|c| c.starts_with("Tool: drydock-")))
            })
    } else {
        v["bomFormat"] == "CycloneDX"
            && v["metadata"]["tools"]["components"]
                .as_array()
                .is_some_and(|c| c.iter().any(|c| c["name"] == "drydock"))
    }
}

/// Writes the documents atomically into `dir` (created when missing).
/// Writes `sbom` into `dir` as STEM.spdx.json / STEM.cdx.json (STEM: the image's name, with
/// its platform in a multi-platform build).
pub fn write(
    sbom: &Sbom,
    dir: &Path,
    stem: &str,
    format: SbomFormat,
) -> Result<Vec<Written>, SbomError> {
    check(dir, stem, format)?;
    std::fs::create_dir_all(dir).map_err(|source| SbomError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut out = Vec::new();
    for (fmt, path) in paths(dir, stem, format) {
        let mut bytes = if fmt == "spdx" {
            spdx::render(sbom)
        } else {
            cyclonedx::render(sbom)
        };
        bytes.push(b'\n');
        crate::fsutil::write_bytes_atomic(&path, &bytes).map_err(|source| SbomError::Io {
            path: path.clone(),
            source,
        })?;
        out.push(Written {
            format: fmt,
            path,
            components: sbom.components.len() + 1,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_stable_and_well_formed() {
        let u = uuid_from_hex("0123456789abcdef0123456789abcdef0123");
        assert_eq!(u, "01234567-89ab-4def-8123-456789abcdef");
        assert_eq!(u, uuid_from_hex("0123456789abcdef0123456789abcdef0123"));
    }

    #[test]
    fn purl_segments_are_escaped() {
        assert_eq!(purl_escape("1:2.36-9+deb12u4"), "1%3A2.36-9+deb12u4");
        assert_eq!(purl_escape("(devel)"), "%28devel%29");
    }

    #[test]
    fn refuses_files_it_did_not_write() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("a.spdx.json"), b"{\"mine\": true}").unwrap();
        assert!(matches!(
            check(d.path(), "a", SbomFormat::Spdx),
            Err(SbomError::Refused { .. })
        ));
        assert!(check(d.path(), "a", SbomFormat::Cyclonedx).is_ok());
        std::fs::write(
            d.path().join("a.spdx.json"),
            format!(
                "{{\"spdxVersion\":\"SPDX-2.3\",\"creationInfo\":{{\"creators\":[\"{}\"]}}}}",
                spdx::CREATOR
            ),
        )
        .unwrap();
        assert!(check(d.path(), "a", SbomFormat::Both).is_ok());
    }
}
