//! A Dockerfile as build stages: each FROM with its base (ARGs expanded), its alias, and its
//! instructions. The model the Dockerfile rules reason about.

use std::collections::BTreeMap;

use crate::expand::expand;
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
    /// Indices of this stage's instructions after FROM.
    pub body: Vec<usize>,
}

/// Splits into stages. Global ARGs (before the first FROM) supply defaults for FROM lines.
pub fn stages(df: &Dockerfile) -> Vec<Stage> {
    let mut global: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut out: Vec<Stage> = Vec::new();
    for (idx, ins) in df.instructions.iter().enumerate() {
        match ins.kind() {
            Keyword::Arg if out.is_empty() => {
                for v in ins.values() {
                    let (k, val) = match v.split_once('=') {
                        Some((k, val)) => (k.to_string(), Some(unquote(val))),
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
                out.push(Stage {
                    from: idx,
                    base: expand(&base_raw, &global, df.escape),
                    base_raw,
                    alias,
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
