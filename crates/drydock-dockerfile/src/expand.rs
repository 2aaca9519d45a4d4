//! Variable expansion as BuildKit does it for FROM and other instructions: `$VAR`, `${VAR}`,
//! `${VAR:-default}`, `${VAR-default}`, `${VAR:+alt}`, `${VAR+alt}`. Unset variables expand to
//! nothing. Enough to resolve `FROM ${BASE}` with an ARG default, which is where hadolint's
//! best-known false positives come from.

use std::collections::BTreeMap;

pub fn expand(word: &str, vars: &BTreeMap<String, Option<String>>, escape: char) -> String {
    expand_with(word, vars, escape, false)
}

/// A word as BuildKit's shell lexer processes it for FROM (`ProcessWord`): variables expanded as
/// [`expand`] does, and quotes removed (`FROM "node:8.15"` is `node:8.15`; nothing is expanded
/// inside single quotes).
pub fn process_word(word: &str, vars: &BTreeMap<String, Option<String>>, escape: char) -> String {
    expand_with(word, vars, escape, true)
}

/// The variables a word refers to (`$A`, `${B:-x}`), in order, each once.
pub fn referenced(word: &str) -> Vec<String> {
    let chars: Vec<char> = word.chars().collect();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '$' && i + 1 < chars.len() {
            let start = if chars[i + 1] == '{' { i + 2 } else { i + 1 };
            let len = chars[start..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                .count();
            if len > 0 {
                let name: String = chars[start..start + len].iter().collect();
                if !out.contains(&name) {
                    out.push(name);
                }
            }
            i = start + len;
            continue;
        }
        i += 1;
    }
    out
}

fn expand_with(
    word: &str,
    vars: &BTreeMap<String, Option<String>>,
    escape: char,
    unquote: bool,
) -> String {
    let chars: Vec<char> = word.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let get = |name: &str| vars.get(name).cloned().flatten();
    let mut in_double = false;
    while i < chars.len() {
        let c = chars[i];
        if unquote && c == '"' {
            in_double = !in_double;
            i += 1;
            continue;
        }
        if unquote && c == '\'' && !in_double {
            let close = chars[i + 1..].iter().position(|c| *c == '\'');
            let end = close.map_or(chars.len(), |p| i + 1 + p);
            out.extend(&chars[i + 1..end]);
            i = end + 1;
            continue;
        }
        if c == escape && i + 1 < chars.len() && chars[i + 1] == '$' {
            out.push('$');
            i += 2;
            continue;
        }
        if c != '$' || i + 1 >= chars.len() {
            out.push(c);
            i += 1;
            continue;
        }
        if chars[i + 1] == '{' {
            let Some(close) = chars[i + 2..].iter().position(|c| *c == '}') else {
                out.extend(&chars[i..]);
                break;
            };
            let inner: String = chars[i + 2..i + 2 + close].iter().collect();
            i += close + 3;
            let name_len = inner
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(inner.len());
            let (name, op) = inner.split_at(name_len);
            let val = get(name);
            let set = vars.get(name).is_some_and(|v| v.is_some());
            let nonempty = val.as_deref().is_some_and(|v| !v.is_empty());
            let piece = if let Some(d) = op.strip_prefix(":-") {
                if nonempty {
                    val.unwrap_or_default()
                } else {
                    expand(d, vars, escape)
                }
            } else if let Some(d) = op.strip_prefix('-') {
                if set {
                    val.unwrap_or_default()
                } else {
                    expand(d, vars, escape)
                }
            } else if let Some(a) = op.strip_prefix(":+") {
                if nonempty {
                    expand(a, vars, escape)
                } else {
                    String::new()
                }
            } else if let Some(a) = op.strip_prefix('+') {
                if set {
                    expand(a, vars, escape)
                } else {
                    String::new()
                }
            } else {
                val.unwrap_or_default()
            };
            out.push_str(&piece);
            continue;
        }
        let len = chars[i + 1..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
            .count();
        if len == 0 {
            out.push('$');
            i += 1;
            continue;
        }
        let name: String = chars[i + 1..i + 1 + len].iter().collect();
        out.push_str(&get(&name).unwrap_or_default());
        i += 1 + len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let mut v = BTreeMap::new();
        v.insert("BASE".to_string(), Some("alpine:3.20".to_string()));
        v.insert("EMPTY".to_string(), Some(String::new()));
        v.insert("UNSETARG".to_string(), None);
        let e = |w: &str| expand(w, &v, '\\');
        assert_eq!(e("${BASE}"), "alpine:3.20");
        assert_eq!(e("$BASE-x"), "alpine:3.20-x");
        assert_eq!(e("${NOPE:-golang:1.22}"), "golang:1.22");
        assert_eq!(e("${EMPTY:-d}"), "d");
        assert_eq!(e("${EMPTY-d}"), "");
        assert_eq!(e("${BASE:+set}"), "set");
        assert_eq!(e("${UNSETARG}"), "");
        assert_eq!(e("\\$BASE"), "$BASE");
        assert_eq!(e("a$"), "a$");
        let p = |w: &str| process_word(w, &v, '\\');
        assert_eq!(p("\"node:8.15\""), "node:8.15");
        assert_eq!(p("\"$BASE\""), "alpine:3.20");
        assert_eq!(p("'$BASE'"), "$BASE");
        assert_eq!(referenced("gcr.io/${P}/x:$TAG-${Q:-a}"), ["P", "TAG", "Q"]);
    }
}
