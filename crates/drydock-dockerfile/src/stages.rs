//! A Dockerfile as build stages: each FROM with its base (ARGs expanded), its alias, and its
//! instructions. The model the Dockerfile rules reason about.

use std::collections::BTreeMap;

use crate::expand::{process_word, referenced};
use crate::keyword::Keyword;
use crate::parser::Dockerfile;

#[derive(Debug, Clone)]
pub struct Stage {
    /// Index of the FROM instruction in `Dockerfile::instructions`.
    pub from: usize,
    /// The base as written.
    pub base_raw: String,
    /// The base with global ARG defaults expanded.
    pub base: String,
    pub alias: Option<String>,
    /// The base refers to a global ARG (or a platform ARG such as `TARGETOS`), so `--build-arg`
    /// can change it.
    pub from_args: bool,
    /// The base refers to a global ARG with no default: it is only known at build time
    /// (`FROM ${BASE}`, `FROM gcr.io/${PROJECT}/app:${TAG}`), and `base` is a guess.
    pub unresolved: bool,
    /// Variables the base refers to that no global ARG declares: BuildKit expands them to
    /// nothing, whatever the build arguments.
    pub undeclared: Vec<String>,
    /// Indices of this stage's instructions after FROM.
    pub body: Vec<usize>,
}

/// The ARGs BuildKit defines for FROM without a declaration, with the values of a linux/amd64
/// build.
pub const PLATFORM_ARGS: &[(&str, &str)] = &[
    ("TARGETPLATFORM", "linux/amd64"),
    ("TARGETOS", "linux"),
    ("TARGETARCH", "amd64"),
    ("TARGETVARIANT", ""),
    ("BUILDPLATFORM", "linux/amd64"),
    ("BUILDOS", "linux"),
    ("BUILDARCH", "amd64"),
    ("BUILDVARIANT", ""),
];

/// Splits into stages. Global ARGs (before the first FROM) supply defaults for FROM lines, as
/// do BuildKit's platform ARGs (see [`PLATFORM_ARGS`]).
pub fn stages(df: &Dockerfile) -> Vec<Stage> {
    let mut global: BTreeMap<String, Option<String>> = PLATFORM_ARGS
        .iter()
        .map(|(k, v)| (k.to_string(), Some(v.to_string())))
        .collect();
    let mut out: Vec<Stage> = Vec::new();
    for (idx, ins) in df.instructions.iter().enumerate() {
        match ins.kind() {
            Keyword::Arg if out.is_empty() => {
                for v in ins.values() {
                    let (k, val) = match v.split_once('=') {
                        Some((k, val)) => (
                            k.to_string(),
                            Some(process_word(&unquote(val), &global, df.escape)),
                        ),
                        None => (v.to_string(), None),
                    };
                    global.insert(k, val);
                }
            }
            Keyword::From => {
                let vals = ins.values();
                let base_raw = vals.first().map(|s| s.to_string()).unwrap_or_default();
                let alias = match vals.as_slice() {
                    [_, as_kw, name, ..] if as_kw.eq_ignore_ascii_case("as") => {
                        Some(name.to_ascii_lowercase())
                    }
                    _ => None,
                };
                let refs = referenced(&base_raw);
                let undeclared: Vec<String> = refs
                    .iter()
                    .filter(|r| !global.contains_key(*r))
                    .cloned()
                    .collect();
                out.push(Stage {
                    from: idx,
                    base: process_word(&base_raw, &global, df.escape),
                    base_raw,
                    alias,
                    from_args: refs.iter().any(|r| global.contains_key(r)),
                    unresolved: refs
                        .iter()
                        .any(|r| global.get(r).is_some_and(|v| v.is_none())),
                    undeclared,
                    body: Vec::new(),
                });
            }
            _ => {
                if let Some(s) = out.last_mut() {
                    s.body.push(idx);
                }
            }
        }
    }
    out
}

fn unquote(v: &str) -> String {
    let t = v.trim();
    if t.len() >= 2
        && ((t.starts_with('"') && t.ends_with('"')) || (t.starts_with('\'') && t.ends_with('\'')))
    {
        t[1..t.len() - 1].to_string()
    } else {
        t.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bases_with_build_args() {
        let df = crate::parse(
            "ARG P\nARG TAG=1.2\nFROM gcr.io/${P}/app:${TAG} AS a\nFROM \"node:8.15\"\nFROM scratch AS binary-linux\nFROM binary-$TARGETOS\nFROM x/$NOPE\n",
        )
        .unwrap();
        let st = stages(&df);
        assert!(st[0].unresolved && st[0].from_args);
        assert_eq!(st[0].base, "gcr.io//app:1.2");
        assert_eq!(st[1].base, "node:8.15");
        assert!(!st[1].from_args && !st[1].unresolved);
        assert_eq!(st[3].base, "binary-linux");
        assert!(!st[3].unresolved);
        assert_eq!(st[4].undeclared, ["NOPE"]);
    }
}
