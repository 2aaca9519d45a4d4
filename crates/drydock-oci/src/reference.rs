//! Image references (`registry/repo:tag@sha256:…`), parsed once with the distribution spec's
//! grammar and used everywhere a reference is read: `--tag`, `[image] tag`, `deploy --image`,
//! the publishers.
//!
//! The grammar is distribution's (reference/regexp.go), checked by hand: oci-spec's
//! `distribution::Reference` implements it with one large Unicode regex whose compilation took
//! 40 ms of every drydock run, more than a whole unchanged push. Docker Hub normalisation as
//! Docker does it (`nginx` is `docker.io/library/nginx`). On top: the form the user wrote (local
//! engines tag with it), whether a tag was written at all, and errors that say what is wrong
//! rather than "invalid format".

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not a valid image reference: {problem}")]
pub struct ReferenceError {
    pub input: String,
    pub problem: String,
}

impl ReferenceError {
    /// What to do about it (the message does not hold it).
    pub fn fix(&self) -> Option<String> {
        Some("write NAME[:TAG][@sha256:DIGEST], e.g. registry.example.com/team/api:1.2.0 (lowercase name; a tag of letters, digits, `_`, `.` and `-`)".into())
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct Reference {
    written: String,
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<String>,
    has_tag: bool,
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`: one path component of a repository.
fn path_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        // A separator: `.`, `_`, `__`, or a run of `-`, between alphanumerics.
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        if !(sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-')) {
            return false;
        }
    }
    true
}

/// `host[:port]`: DNS labels (letters, digits, inner `-`) joined by `.`, or `[IPv6]`.
fn domain(d: &str) -> bool {
    let (host, port) = if let Some(rest) = d.strip_prefix('[') {
        match rest.split_once(']') {
            Some((ip, after)) => {
                if ip.parse::<std::net::Ipv6Addr>().is_err() {
                    return false;
                }
                (
                    None,
                    after
                        .strip_prefix(':')
                        .map(Some)
                        .unwrap_or(if after.is_empty() { None } else { Some("x") }),
                )
            }
            None => return false,
        }
    } else {
        match d.rsplit_once(':') {
            Some((h, p)) => (Some(h), Some(p)),
            None => (Some(d), None),
        }
    };
    let label = |l: &str| {
        let b = l.as_bytes();
        !b.is_empty()
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric()
            && b.iter().all(|x| x.is_ascii_alphanumeric() || *x == b'-')
    };
    host.is_none_or(|h| h.split('.').all(label))
        && port.is_none_or(|p| !p.is_empty() && p.bytes().all(|x| x.is_ascii_digit()))
}

/// `[\w][\w.-]{0,127}`.
fn tag_ok(t: &str) -> bool {
    let b = t.as_bytes();
    let word = |x: u8| x.is_ascii_alphanumeric() || x == b'_';
    !b.is_empty()
        && b.len() <= 128
        && word(b[0])
        && b.iter().all(|x| word(*x) || *x == b'.' || *x == b'-')
}

/// `algorithm:encoded`, with sha256 exactly 64 lowercase hex digits.
fn digest_ok(d: &str) -> bool {
    let Some((alg, enc)) = d.split_once(':') else {
        return false;
    };
    let alg_ok = !alg.is_empty()
        && alg.split(['+', '.', '_', '-']).all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|x| x.is_ascii_lowercase() || x.is_ascii_digit())
        });
    let enc_ok = enc.len() >= 32
        && enc
            .bytes()
            .all(|x| x.is_ascii_alphanumeric() || matches!(x, b'=' | b'_' | b'-'));
    alg_ok
        && enc_ok
        && (alg != "sha256"
            || (enc.len() == 64
                && enc
                    .bytes()
                    .all(|x| x.is_ascii_digit() || (b'a'..=b'f').contains(&x))))
}

impl Reference {
    pub fn parse(s: &str) -> Result<Reference, ReferenceError> {
        let err = || ReferenceError {
            input: s.to_string(),
            problem: explain(s),
        };
        let (name, digest) = split_digest(s);
        if digest.is_some_and(|d| !digest_ok(d)) {
            return Err(err());
        }
        // The tag is after the last `:` when no `/` follows it (else the `:` is a port's).
        let (name, tag) = match name.rsplit_once(':') {
            Some((n, t)) if !t.contains('/') => (n, Some(t)),
            _ => (name, None),
        };
        if tag.is_some_and(|t| !tag_ok(t)) || name.is_empty() || name.len() > 255 {
            return Err(err());
        }
        // A first component with `.` or `:`, or `localhost`, or upper case, is a registry.
        let (registry, path) = match name.split_once('/') {
            Some((first, rest))
                if first.contains(['.', ':'])
                    || first == "localhost"
                    || first.bytes().any(|b| b.is_ascii_uppercase()) =>
            {
                if !domain(first) {
                    return Err(err());
                }
                (first.to_string(), rest)
            }
            _ => ("docker.io".to_string(), name),
        };
        if !path.split('/').all(path_component) {
            return Err(err());
        }
        let registry = if registry == "index.docker.io" {
            "docker.io".into()
        } else {
            registry
        };
        let repository = if registry == "docker.io" && !path.contains('/') {
            format!("library/{path}")
        } else {
            path.to_string()
        };
        Ok(Reference {
            written: s.to_string(),
            registry,
            repository,
            tag: tag
                .map(str::to_string)
                .or_else(|| digest.is_none().then(|| "latest".to_string())),
            digest: digest.map(str::to_string),
            has_tag: tag.is_some(),
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
        self.tag.as_deref()
    }

    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }

    /// Registry host, normalised (`docker.io` for Docker Hub).
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// Repository path, normalised (`library/nginx` for `nginx`).
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// `name:tag`, the form local engines tag images with (a digest is dropped: engines cannot
    /// tag by digest). A reference by digest alone has no tag to give: see [`Reference::repo_tag`],
    /// which every output naming an image uses.
    pub fn tagged(&self) -> String {
        format!("{}:{}", self.name(), self.tag().unwrap_or("latest"))
    }

    /// `name:tag` when the reference has a tag (written, or the implied `latest` of a bare
    /// name); `None` for a reference by digest alone, which names no tag: a tag invented
    /// for it (`:latest`) would name an image the registry may not have under that tag.
    pub fn repo_tag(&self) -> Option<String> {
        self.tag().map(|t| format!("{}:{t}", self.name()))
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
fn explain(s: &str) -> String {
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
    if let Some((first, _)) = name.split_once('/') {
        if first.contains(['.', ':']) && !domain(first) {
            return format!("the registry {first:?} is not a host[:port]");
        }
    }
    if name.len() > 255 {
        return "the name is longer than 255 characters".into();
    }
    "it does not match NAME[:TAG][@DIGEST] (repository components of lowercase letters and digits, joined by `.`, `_`, `__` or dashes)".into()
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
        // A digest names no tag: none is invented.
        let r = Reference::parse(&format!("localhost/api@{d}")).unwrap();
        assert_eq!((r.tag(), r.repo_tag()), (None, None));
        assert_eq!(
            Reference::parse("api").unwrap().repo_tag().as_deref(),
            Some("api:latest")
        );
    }

    #[test]
    fn grammar_edges() {
        for ok in [
            "a",
            "a/b/c",
            "a__b",
            "a---b",
            "a.b_c",
            "localhost:5000/x",
            "[::1]:5000/x:1",
            "registry-1.docker.io/library/x",
            "x:_tag",
            "index.docker.io/x",
        ] {
            assert!(Reference::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "a___b",
            "a._b",
            "host:port/x",
            "x:.t",
            "a/",
            "/a",
            "x@sha256:ABC",
            "-x.io/a",
            &format!("x:{}", "t".repeat(129)),
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Reference::parse("index.docker.io/x").unwrap().repository(),
            "library/x"
        );
        assert_eq!(
            Reference::parse("docker.io/team/x").unwrap().repository(),
            "team/x"
        );
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
            let e = Reference::parse(input).unwrap_err();
            assert!(e.to_string().contains(want), "{input:?}: {e}");
            assert!(e.fix().is_some(), "{e}");
        }
    }
}
