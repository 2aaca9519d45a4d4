//! What version control and the environment say about the sources: the commit, where it came
//! from, and the time the image is stamped with (SOURCE_DATE_EPOCH, else the commit's time).

use std::path::Path;
use std::process::Command;

/// Version-control facts for labels and the creation time.
#[derive(Debug, Clone)]
pub struct SourceMeta {
    /// Seconds since the epoch: the image's `created`, history and file mtimes.
    pub created: u64,
    /// The commit checked out (`git rev-parse HEAD`), in a git work tree.
    pub revision: Option<String>,
    /// The `origin` remote's URL, without credentials.
    pub source: Option<String>,
}

/// SOURCE_DATE_EPOCH is set to something that is not a usable time.
#[derive(Debug)]
pub struct BadSourceDateEpoch {
    pub value: String,
    pub problem: &'static str,
}

/// The latest time an image's `created` (RFC 3339, four-digit years) can hold.
pub const MAX_SOURCE_DATE_EPOCH: u64 = 253_402_300_799;

/// SOURCE_DATE_EPOCH as the reproducible-builds spec defines it: a non-negative decimal number
/// of seconds; drydock also needs it to fit a four-digit year. The error says what is wrong.
pub fn parse_source_date_epoch(v: &str) -> Result<u64, &'static str> {
    let t = v.trim();
    if t.starts_with('-') && t.len() > 1 && t[1..].bytes().all(|b| b.is_ascii_digit()) {
        return Err("is negative: a time before 1970");
    }
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err("is not a whole number of seconds");
    }
    match t.parse::<u64>() {
        Ok(n) if n <= MAX_SOURCE_DATE_EPOCH => Ok(n),
        _ => Err("is after the year 9999, which an image's creation time cannot hold"),
    }
}

impl SourceMeta {
    /// Reads `dir`'s git work tree (when it is in one) and SOURCE_DATE_EPOCH. Outside a work
    /// tree, with no SOURCE_DATE_EPOCH, the time is 0 (1970).
    pub fn read(dir: &Path) -> Result<SourceMeta, BadSourceDateEpoch> {
        let git = |args: &[&str]| -> Option<String> {
            let out = Command::new("git")
                .arg("-C")
                .arg(dir)
                .args(args)
                .output()
                .ok()?;
            out.status
                .success()
                .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
                .filter(|s| !s.is_empty())
        };
        let in_repo = git(&["rev-parse", "--is-inside-work-tree"]).as_deref() == Some("true");
        let revision = if in_repo {
            git(&["rev-parse", "HEAD"])
        } else {
            None
        };
        let source = if in_repo {
            git(&["remote", "get-url", "origin"]).map(|u| strip_credentials(&u))
        } else {
            None
        };
        let created = match std::env::var("SOURCE_DATE_EPOCH") {
            Ok(v) if !v.trim().is_empty() => {
                parse_source_date_epoch(&v).map_err(|problem| BadSourceDateEpoch {
                    value: v.clone(),
                    problem,
                })?
            }
            _ => revision
                .as_ref()
                .and_then(|_| git(&["log", "-1", "--format=%ct"]))
                .and_then(|s| s.parse().ok())
                .unwrap_or(0),
        };
        Ok(SourceMeta {
            created,
            revision,
            source,
        })
    }
}

/// A remote's URL without the `user:password@` a clone URL may carry.
fn strip_credentials(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s => format!("{}{}", &url[..s + 3], &url[at + 1..]),
        _ => url.to_string(),
    }
}
