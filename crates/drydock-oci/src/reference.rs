//! Image references (`registry/repo:tag@sha256:…`), parsed once with the distribution spec's
//! grammar and used everywhere a reference is read: `--tag`, `[image] tag`, `deploy --image`,
//! the publishers.
//!
//! Parsing and Docker Hub normalisation are oci-spec's (`distribution::Reference`); this type
//! adds what drydock needs on top: the form the user wrote (local engines tag with it), whether a
//! tag was written at all, and errors that say what is wrong rather than "invalid format".

use std::fmt;

use oci_spec::distribution::{ParseError, Reference as OciReference};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not a valid image reference: {problem}\n  fix: write NAME[:TAG][@sha256:DIGEST], e.g. registry.example.com/team/api:1.2.0 (lowercase name; a tag of letters, digits, `_`, `.` and `-`)")]
pub struct ReferenceError {
    pub input: String,
    pub problem: String,
}

#[derive(Clone, PartialEq, Eq)]
pub struct Reference {
    written: String,
    parsed: OciReference,
    has_tag: bool,
}

impl Reference {
    pub fn parse(s: &str) -> Result<Reference, ReferenceError> {
        let err = |problem: String| ReferenceError {
            input: s.to_string(),
            problem,
        };
        let parsed = OciReference::try_from(s).map_err(|e| err(explain(s, &e)))?;
        let (name, _) = split_digest(s);
        let has_tag = name.rsplit_once(':').is_some_and(|(_, t)| !t.contains('/'));
        Ok(Reference {
            written: s.to_string(),
            parsed,
            has_tag,
        })
    }

    /// The repository as written, without tag or digest (`gin-api`, `127.0.0.1:5000/team/api`).
    pub fn name(&self) -> &str {
        let (name, _) = split_digest(&self.written);
        if self.has_tag {
            name.rsplit_once(':').map_or(name, |(n, _)| n)
        } else {
            name
        }
    }

    /// The tag written, or `latest` when none was (and there is no digest).
    pub fn tag(&self) -> Option<&str> {
        self.parsed.tag()
    }

    pub fn digest(&self) -> Option<&str> {
        self.parsed.digest()
    }

    /// Registry host, normalised (`docker.io` for Docker Hub).
    pub fn registry(&self) -> &str {
        self.parsed.registry()
    }

    /// Repository path, normalised (`library/nginx` for `nginx`).
    pub fn repository(&self) -> &str {
        self.parsed.repository()
    }

    /// `name:tag`, the form local engines tag images with (a digest is dropped: engines cannot
    /// tag by digest).
    pub fn tagged(&self) -> String {
        format!("{}:{}", self.name(), self.tag().unwrap_or("latest"))
    }

    /// `name@digest`, or `name:tag@digest` when a tag was written.
    pub fn with_digest(&self, digest: &str) -> String {
        if self.has_tag {
            format!("{}@{digest}", self.tagged())
        } else {
            format!("{}@{digest}", self.name())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.written
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.written)
    }
}

impl fmt::Debug for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Reference({:?})", self.written)
    }
}

impl serde::Serialize for Reference {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.written)
    }
}

impl std::str::FromStr for Reference {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Reference::parse(s)
    }
}

fn split_digest(s: &str) -> (&str, Option<&str>) {
    match s.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (s, None),
    }
}

/// Says which part of the grammar `s` breaks.
fn explain(s: &str, e: &ParseError) -> String {
    if s.is_empty() {
        return "it is empty".into();
    }
    if let Some(c) = s.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return format!("it contains {c:?}");
    }
    let (name, digest) = split_digest(s);
    if let Some(d) = digest {
        match d.split_once(':') {
            None => return format!("the digest {d:?} has no algorithm (sha256:<64 hex digits>)"),
            Some((alg, hex)) => {
                if !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                    return format!("the digest {d:?} is not hexadecimal");
                }
                if alg == "sha256" && hex.len() != 64 {
                    return format!("the sha256 digest has {} hex digits, not 64", hex.len());
                }
            }
        }
    }
    let last = name.rsplit('/').next().unwrap_or(name);
    if last.matches(':').count() > 1 {
        return format!("{last:?} has more than one `:` (one separates the tag)");
    }
    let tag = last.split_once(':').map(|(_, t)| t);
    if let Some(t) = tag {
        if t.is_empty() {
            return "the tag after `:` is empty".into();
        }
        if t.len() > 128 {
            return "the tag is longer than 128 characters".into();
        }
        if !t
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
            || t.starts_with(['.', '-'])
        {
            return format!("the tag {t:?} may only hold letters, digits, `_`, `.` and `-`, and starts with a letter, digit or `_`");
        }
    }
    let path = match name.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first != first.to_lowercase() =>
        {
            rest.rsplit_once(':').map_or(rest, |(p, _)| p).to_string()
        }
        _ => name
            .rsplit_once(':')
            .filter(|(_, t)| !t.contains('/'))
            .map_or(name, |(p, _)| p)
            .to_string(),
    };
    if path.chars().any(|c| c.is_ascii_uppercase()) {
        return format!("the repository {path:?} must be lowercase");
    }
    if path.is_empty() || path.split('/').any(str::is_empty) {
        return "a path component of the repository is empty".into();
    }
    if let Some(c) = path.chars().find(|c| {
        !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-' | '/'))
    }) {
        return format!("the repository {path:?} contains {c:?}");
    }
    if path
        .split('/')
        .any(|c| c.starts_with(['.', '_', '-']) || c.ends_with(['.', '_', '-']))
    {
        return format!("a component of the repository {path:?} starts or ends with a separator");
    }
    e.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_references() {
        let r = Reference::parse("gin-api").unwrap();
        assert_eq!((r.name(), r.tag()), ("gin-api", Some("latest")));
        assert_eq!(r.registry(), "docker.io");
        assert_eq!(r.repository(), "library/gin-api");
        assert_eq!(r.tagged(), "gin-api:latest");
        let r = Reference::parse("127.0.0.1:5000/team/api:1.2.0").unwrap();
        assert_eq!(r.name(), "127.0.0.1:5000/team/api");
        assert_eq!(r.tag(), Some("1.2.0"));
        assert_eq!(r.registry(), "127.0.0.1:5000");
        let d = format!("sha256:{}", "a".repeat(64));
        let r = Reference::parse(&format!("localhost/api@{d}")).unwrap();
        assert_eq!(r.name(), "localhost/api");
        assert_eq!(r.digest(), Some(d.as_str()));
        assert_eq!(r.with_digest(&d), format!("localhost/api@{d}"));
        let r = Reference::parse("api:v1").unwrap();
        assert_eq!(r.with_digest(&d), format!("api:v1@{d}"));
    }

    #[test]
    fn bad_references_say_why() {
        let cases = [
            ("", "empty"),
            ("Foo:bar:baz", "more than one `:`"),
            ("Foo:bar", "must be lowercase"),
            ("x@sha256:abc", "3 hex digits, not 64"),
            ("Bad Ref!!", "contains ' '"),
            ("api:", "tag after `:` is empty"),
            ("api:-x", "the tag \"-x\""),
            ("a//b", "empty"),
            ("api!", "contains '!'"),
            ("-api", "starts or ends"),
        ];
        for (input, want) in cases {
            let e = Reference::parse(input).unwrap_err().to_string();
            assert!(e.contains(want), "{input:?}: {e}");
            assert!(e.contains("fix:"), "{e}");
        }
    }
}
