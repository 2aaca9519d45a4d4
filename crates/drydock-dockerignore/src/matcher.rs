//! `.dockerignore` parsing and matching with Docker's exact semantics.
//!
//! This mirrors moby/patternmatcher (`ignorefile.ReadAll`, `New`, `MatchesOrParentMatches`): the
//! last matching pattern wins, `!` re-includes (even below an excluded directory, unlike
//! `.gitignore`), a pattern matches a path or any of its parent directories, `*` and `?` never
//! cross `/`, `**` crosses any number of directories. It knows nothing about the filesystem: the
//! context walker asks it about slash-separated paths relative to the context root.
//!
//! Hand-written rather than taken from a globbing crate: globset and the `ignore` crate implement
//! gitignore semantics, which differ from Docker's in exactly the cases users trip over.

use regex::Regex;

/// What is wrong with one `.dockerignore` pattern.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ErrorKind {
    #[error("illegal exclusion pattern \"!\" (a `!` must be followed by a pattern)")]
    BareExclusion,
    #[error("malformed pattern {pattern:?}: {reason}")]
    Malformed {
        pattern: String,
        reason: &'static str,
    },
}

/// A pattern that does not compile, and the line of the file it is on (1-based; 0 when the
/// pattern did not come from a file).
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("line {line}: {kind}")]
pub struct Error {
    pub line: usize,
    pub kind: ErrorKind,
}

/// One pattern of a `.dockerignore` file, with the line it came from (1-based; 0 when the
/// pattern did not come from a file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternLine {
    pub line: usize,
    pub pattern: String,
}

/// Reads `.dockerignore` text the way `ignorefile.ReadAll` does: strips a UTF-8 BOM, skips lines
/// whose first column is `#`, trims, cleans each pattern and drops one leading `/`.
pub fn read_patterns(text: &str) -> Vec<PatternLine> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    for (idx, raw) in text.lines().enumerate() {
        // A comment only when `#` is in column 1: `  # x` and `foo # x` are patterns.
        if raw.starts_with('#') {
            continue;
        }
        let mut pattern = raw.trim();
        if pattern.is_empty() {
            continue;
        }
        let mut invert = false;
        if let Some(rest) = pattern.strip_prefix('!') {
            invert = true;
            pattern = rest.trim();
        }
        let mut cleaned = if pattern.is_empty() {
            String::new()
        } else {
            clean_path(pattern)
        };
        if let Some(rest) = cleaned.strip_prefix('/') {
            cleaned = rest.to_string();
        }
        if invert {
            cleaned.insert(0, '!');
        }
        out.push(PatternLine {
            line: idx + 1,
            pattern: cleaned,
        });
    }
    out
}

/// Lexical path cleaning with the rules of Go's `path.Clean`.
pub fn clean_path(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|s| *s != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

#[derive(Debug, Clone)]
enum Glob {
    Exact,
    /// `dir/**`: everything below `dir`, not `dir` itself.
    Prefix,
    /// `**/foo` or `**foo`: a suffix match (`**/foo` also matches `foo`).
    Suffix,
    Regex(Regex),
}

#[derive(Debug, Clone)]
struct Pattern {
    cleaned: String,
    exclusion: bool,
    glob: Glob,
    line: usize,
}

/// A compiled `.dockerignore`.
#[derive(Debug, Clone, Default)]
pub struct Matcher {
    patterns: Vec<Pattern>,
    has_exclusions: bool,
}

/// The answer for one path: excluded or not, and the line of the pattern that decided it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub excluded: bool,
    pub line: Option<usize>,
}

impl Matcher {
    /// Compiles patterns as `patternmatcher.New` does.
    pub fn from_patterns<I, S>(patterns: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: Into<PatternLine>,
    {
        let mut out = Matcher::default();
        for pl in patterns {
            let pl: PatternLine = pl.into();
            let p = pl.pattern.trim();
            if p.is_empty() {
                continue;
            }
            let mut p = clean_path(p);
            let mut exclusion = false;
            if let Some(rest) = p.strip_prefix('!') {
                if rest.is_empty() {
                    return Err(Error {
                        line: pl.line,
                        kind: ErrorKind::BareExclusion,
                    });
                }
                exclusion = true;
                p = rest.to_string();
            }
            validate_glob(&p).map_err(|reason| Error {
                line: pl.line,
                kind: ErrorKind::Malformed {
                    pattern: pl.pattern.clone(),
                    reason,
                },
            })?;
            let glob = compile(&p).map_err(|reason| Error {
                line: pl.line,
                kind: ErrorKind::Malformed {
                    pattern: pl.pattern.clone(),
                    reason,
                },
            })?;
            out.has_exclusions |= exclusion;
            out.patterns.push(Pattern {
                cleaned: p,
                exclusion,
                glob,
                line: pl.line,
            });
        }
        Ok(out)
    }

    /// Parses and compiles the text of a `.dockerignore` file.
    pub fn parse(text: &str) -> Result<Self, Error> {
        Self::from_patterns(read_patterns(text))
    }

    /// Whether any `!` pattern exists: then an excluded directory must still be walked, since
    /// something below it may be re-included.
    pub fn has_exclusions(&self) -> bool {
        self.has_exclusions
    }

    /// `MatchesOrParentMatches`: is this slash-separated, context-relative path excluded?
    pub fn decision(&self, path: &str) -> Decision {
        let mut res = Decision {
            excluded: false,
            line: None,
        };
        let parent = match path.rfind('/') {
            Some(i) => &path[..i],
            None => ".",
        };
        for pat in &self.patterns {
            // An inclusion is only evaluated while not matched, an exclusion only while matched.
            if pat.exclusion != res.excluded {
                continue;
            }
            let mut hit = pat.is_match(path);
            if !hit && parent != "." {
                let mut end = 0;
                for seg in parent.split('/') {
                    end += seg.len();
                    if pat.is_match(&parent[..end]) {
                        hit = true;
                        break;
                    }
                    end += 1;
                }
            }
            if hit {
                res = Decision {
                    excluded: !pat.exclusion,
                    line: Some(pat.line),
                };
            }
        }
        res
    }

    /// Whether the path is excluded from the context.
    pub fn matched(&self, path: &str) -> bool {
        self.decision(path).excluded
    }
}

impl From<&str> for PatternLine {
    fn from(s: &str) -> Self {
        PatternLine {
            line: 0,
            pattern: s.to_string(),
        }
    }
}

impl From<String> for PatternLine {
    fn from(s: String) -> Self {
        PatternLine {
            line: 0,
            pattern: s,
        }
    }
}

impl Pattern {
    fn is_match(&self, path: &str) -> bool {
        match &self.glob {
            Glob::Exact => path == self.cleaned,
            Glob::Prefix => path.starts_with(&self.cleaned[..self.cleaned.len() - 2]),
            Glob::Suffix => {
                let suffix = &self.cleaned[2..];
                path.ends_with(suffix) || (suffix.starts_with('/') && path == &suffix[1..])
            }
            Glob::Regex(re) => re.is_match(path),
        }
    }
}

fn compile(pattern: &str) -> Result<Glob, &'static str> {
    #[derive(PartialEq)]
    enum Kind {
        Exact,
        Prefix,
        Suffix,
        Regex,
    }
    let mut re = String::from("^");
    let mut kind = Kind::Exact;
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    let mut first = true;
    let mut in_class = false;
    let mut class_members = 0;
    while i < chars.len() {
        let ch = chars[i];
        i += 1;
        match ch {
            // Inside a class `*` and `?` are literal, as for filepath.Match. (patternmatcher
            // translates them to `[^/]*` even there, giving a regex nobody means.)
            '*' | '?' if in_class => {
                re.push('\\');
                re.push(ch);
                class_members += 1;
            }
            '*' if chars.get(i) == Some(&'*') => {
                i += 1;
                if chars.get(i) == Some(&'/') {
                    i += 1;
                }
                if i >= chars.len() {
                    if kind == Kind::Exact {
                        kind = Kind::Prefix;
                    } else {
                        re.push_str(".*");
                        kind = Kind::Regex;
                    }
                } else {
                    re.push_str("(.*/)?");
                    kind = Kind::Regex;
                }
                if first {
                    kind = Kind::Suffix;
                }
            }
            '*' => {
                re.push_str("[^/]*");
                kind = Kind::Regex;
            }
            '?' => {
                re.push_str("[^/]");
                kind = Kind::Regex;
            }
            '.' | '+' | '(' | ')' | '|' | '{' | '}' | '$' => {
                re.push('\\');
                re.push(ch);
            }
            '\\' => {
                if let Some(&next) = chars.get(i) {
                    i += 1;
                    re.push_str(&regex::escape(&next.to_string()));
                    kind = Kind::Regex;
                    class_members += 1;
                } else {
                    re.push_str("\\\\");
                }
            }
            // Classes pass through (validate_glob has checked them), but characters that the
            // Rust regex syntax treats specially inside a class, and Go's does not, are escaped,
            // so `[[]` or `[a&&b]` mean what Go means.
            '[' if !in_class => {
                re.push('[');
                in_class = true;
                class_members = 0;
                if chars.get(i) == Some(&'^') {
                    re.push('^');
                    i += 1;
                }
                kind = Kind::Regex;
            }
            ']' if in_class && class_members > 0 => {
                re.push(']');
                in_class = false;
            }
            '[' | '&' | '~' if in_class => {
                re.push('\\');
                re.push(ch);
                class_members += 1;
            }
            ']' => {
                re.push(']');
                kind = Kind::Regex;
            }
            _ => {
                re.push(ch);
                if in_class && ch != '-' {
                    class_members += 1;
                }
            }
        }
        first = false;
    }
    Ok(match kind {
        Kind::Exact => Glob::Exact,
        Kind::Prefix => Glob::Prefix,
        Kind::Suffix => Glob::Suffix,
        Kind::Regex => {
            re.push('$');
            Glob::Regex(Regex::new(&re).map_err(|_| "cannot be compiled to a matcher")?)
        }
    })
}

/// Rejects what Go's `filepath.Match` rejects with `ErrBadPattern`: unclosed or empty classes,
/// ranges missing an end, a class starting with `-` or `]`, a trailing `\`.
fn validate_glob(p: &str) -> Result<(), &'static str> {
    let chars: Vec<char> = p.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => {
                if i + 1 >= chars.len() {
                    return Err("a trailing `\\` escapes nothing");
                }
                i += 2;
            }
            '[' => {
                i += 1;
                if chars.get(i) == Some(&'^') {
                    i += 1;
                }
                let mut members = 0;
                loop {
                    match chars.get(i) {
                        None => return Err("unclosed `[` character class"),
                        Some(']') if members > 0 => {
                            i += 1;
                            break;
                        }
                        _ => {}
                    }
                    i = class_char(&chars, i)?;
                    if chars.get(i) == Some(&'-') {
                        i = class_char(&chars, i + 1)?;
                    }
                    members += 1;
                }
            }
            _ => i += 1,
        }
    }
    Ok(())
}

fn class_char(chars: &[char], i: usize) -> Result<usize, &'static str> {
    match chars.get(i) {
        None => Err("unclosed `[` character class"),
        Some('-') | Some(']') => Err("bad range in `[` character class"),
        Some('\\') => {
            if i + 1 >= chars.len() {
                Err("a trailing `\\` escapes nothing")
            } else {
                Ok(i + 2)
            }
        }
        Some(_) => Ok(i + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn excluded(patterns: &[&str], path: &str) -> bool {
        Matcher::from_patterns(patterns.iter().copied())
            .expect("valid")
            .matched(path)
    }

    #[test]
    fn reference_cases() {
        #[derive(serde::Deserialize)]
        struct Case {
            patterns: Vec<String>,
            path: String,
            excluded: bool,
        }
        let text = include_str!("../tests/reference/cases.json");
        let cases: Vec<Case> = serde_json::from_str(text).expect("cases parse");
        assert!(cases.len() >= 70);
        let mut failures = Vec::new();
        for c in &cases {
            let m = Matcher::from_patterns(c.patterns.iter().map(|s| s.as_str())).expect("valid");
            if m.matched(&c.path) != c.excluded {
                failures.push(format!(
                    "{:?} on {:?}: expected excluded={}",
                    c.patterns, c.path, c.excluded
                ));
            }
        }
        assert!(
            failures.is_empty(),
            "{} failures:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    #[test]
    fn file_reading_rules() {
        let text = "\u{feff}# comment\n  # not a comment\n/foo/bar\n./baz/\n! /inverted/abs/path\n\n  spaced  \n!\n";
        let got: Vec<String> = read_patterns(text).into_iter().map(|p| p.pattern).collect();
        assert_eq!(
            got,
            vec![
                "# not a comment",
                "foo/bar",
                "baz",
                "!inverted/abs/path",
                "spaced",
                "!"
            ]
        );
        let err = Matcher::parse(text).unwrap_err();
        assert_eq!(
            err,
            Error {
                line: 8,
                kind: ErrorKind::BareExclusion
            }
        );
    }

    #[test]
    fn malformed_patterns_are_rejected() {
        for p in ["[", "[^", "a[", "a\\", "[x-]", "[-x]", "[]", "[a-"] {
            assert!(
                Matcher::from_patterns([p]).is_err(),
                "{p:?} should be rejected"
            );
        }
        for p in ["[a-z]", "[^a]", "[\\]]", "a\\*b", "[a&&b]"] {
            assert!(
                Matcher::from_patterns([p]).is_ok(),
                "{p:?} should be accepted"
            );
        }
    }

    #[test]
    fn classes_mean_what_go_means() {
        assert!(excluded(&["[a&&b]x"], "&x"));
        assert!(!excluded(&["[a&&b]x"], "cx"));
        assert!(excluded(&["a[b-d]e"], "ace"));
    }

    #[test]
    fn reinclusion_and_ordering() {
        assert!(!excluded(&["*.md", "!README.md"], "README.md"));
        assert!(excluded(&["*.md", "!README.md"], "CHANGES.md"));
        assert!(!excluded(&["*.md"], "docs/x.md"), "`*` does not cross `/`");
        assert!(excluded(&["docs"], "docs/README.md"));
        assert!(!excluded(&["docs/*", "!docs/README.md"], "docs/README.md"));
        assert!(!excluded(&["."], "x"), "`.` is ignored");
        assert!(!excluded(&[], "x"));
    }

    #[test]
    fn clean_matches_go() {
        for (i, o) in [
            ("a/../b", "b"),
            ("/../a", "/a"),
            ("../a", "../a"),
            ("a//b/./", "a/b"),
            ("", "."),
            ("/", "/"),
        ] {
            assert_eq!(clean_path(i), o, "{i}");
        }
    }
}
