//! A Dockerfile parser that behaves like BuildKit's (moby/buildkit frontend/dockerfile/parser),
//! checked against its own test suite (tests/buildkit, copied from BuildKit's testfiles).
//!
//! It keeps BuildKit's quirks on purpose, because a linter that reads a Dockerfile differently
//! from the builder reports things that are not there: continuation lines are joined without
//! adding spaces, comment lines inside a continuation are dropped, parser directives count only
//! before anything else, invalid JSON silently becomes shell form, and quotes stay in ENV and
//! LABEL values. Every instruction keeps its line span and column. It never executes or expands
//! anything; it never panics on any input.

use std::fmt::Write as _;

use crate::keyword::Keyword;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

/// One argument tree, as BuildKit's `Node.Next` chain: a plain value, or a nested instruction
/// (ONBUILD).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    Value(String),
    Sub(Box<Instruction>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    pub name: String,
    pub content: String,
    /// Whether variables in it are expanded (the delimiter was not quoted).
    pub expand: bool,
    pub chomp: bool,
    /// 1-based line of the body's first line.
    pub start_line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    /// The keyword as written (`FROM`, `run`, ...).
    pub keyword: String,
    pub flags: Vec<String>,
    pub args: Vec<Arg>,
    /// Exec (JSON) form.
    pub json: bool,
    /// The whole instruction after continuations were joined.
    pub original: String,
    /// 1-based lines, first and last (heredoc bodies included).
    pub start_line: usize,
    pub end_line: usize,
    /// 1-based column of the keyword on its first line.
    pub column: usize,
    pub heredocs: Vec<Heredoc>,
    /// Comment lines directly above it.
    pub comments: Vec<String>,
    /// Where the pieces of `original` come from: (byte offset in `original`, 1-based line,
    /// byte offset in that line), one per source line joined, so that a position in the joined
    /// text maps back to the file ([`Instruction::source_position`]).
    pub pieces: Vec<(usize, usize, usize)>,
}

impl Instruction {
    /// Which instruction this is.
    pub fn kind(&self) -> Keyword {
        Keyword::parse(&self.keyword)
    }

    /// Whether this is a `k` instruction.
    pub fn is(&self, k: Keyword) -> bool {
        self.kind() == k
    }

    /// The lower-cased instruction name, as BuildKit's dump writes it.
    pub fn name(&self) -> String {
        self.keyword.to_ascii_lowercase()
    }

    /// Its plain argument values.
    pub fn values(&self) -> Vec<&str> {
        self.args
            .iter()
            .filter_map(|a| {
                if let Arg::Value(v) = a {
                    Some(v.as_str())
                } else {
                    None
                }
            })
            .collect()
    }

    /// The file position (1-based line, byte offset in that line) of byte `offset` of
    /// `original`.
    pub fn source_position(&self, offset: usize) -> (usize, usize) {
        match self.pieces.iter().rev().find(|p| p.0 <= offset) {
            Some(&(start, line, col)) => (line, col + (offset - start)),
            None => (self.start_line, self.column.saturating_sub(1) + offset),
        }
    }

    /// Where the shell-form text (`values()[0]`) starts in `original`, when it is one value.
    pub fn value_offset(&self) -> Option<usize> {
        let [Arg::Value(v)] = self.args.as_slice() else {
            return None;
        };
        let trimmed = self.original.trim_end();
        trimmed
            .ends_with(v.as_str())
            .then(|| trimmed.len() - v.len())
    }

    /// BuildKit's `Node.Dump` format, e.g. `(copy ["--from=x"] "a" "b")`.
    pub fn dump(&self) -> String {
        let mut s = self.name();
        if !self.flags.is_empty() {
            let quoted: Vec<String> = self.flags.iter().map(|f| go_quote(f)).collect();
            let _ = write!(s, " [{}]", quoted.join(" "));
        }
        for a in &self.args {
            match a {
                Arg::Value(v) => {
                    s.push(' ');
                    s.push_str(&go_quote(v));
                }
                Arg::Sub(i) => {
                    let _ = write!(s, " ({})", i.dump());
                }
            }
        }
        s
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Dockerfile {
    pub instructions: Vec<Instruction>,
    /// Parser directives (`syntax`, `escape`, `check`), lower-cased names.
    pub directives: Vec<(String, String)>,
    pub escape: char,
    /// Non-fatal findings, e.g. empty continuation lines.
    pub warnings: Vec<ParseError>,
}

impl Dockerfile {
    /// The whole file in BuildKit's dump format, one instruction per line.
    pub fn dump(&self) -> String {
        self.instructions
            .iter()
            .map(|i| format!("({})\n", i.dump()))
            .collect()
    }
}

/// Go's strconv.Quote.
pub fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if is_go_printable(c) => out.push(c),
            c if (c as u32) < 0x10000 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push('"');
    out
}

fn is_go_printable(c: char) -> bool {
    // Close enough to unicode.IsPrint for Dockerfiles: everything but controls and the
    // separator/format characters Go escapes.
    !c.is_control()
        && !matches!(c as u32, 0x80..=0x9f | 0xad | 0x2028 | 0x2029 | 0xfeff | 0x200b..=0x200f)
}

/// Whitespace as Go's regexp `[\t\v\f\r ]`.
fn is_ws(c: char) -> bool {
    matches!(c, '\t' | '\u{b}' | '\u{c}' | '\r' | ' ')
}

fn trim_left_ws(s: &str) -> &str {
    s.trim_start_matches(|c: char| c == ' ' || c == '\t')
}

fn is_comment(line: &str) -> bool {
    trim_left_ws(line).starts_with('#')
}

/// If the line ends with the escape token (optionally followed by spaces or tabs), and that
/// token is not itself escaped, returns the line without it.
fn trim_continuation(line: &str, escape: char) -> (String, bool) {
    let body = line.trim_end_matches([' ', '\t']);
    if let Some(stripped) = body.strip_suffix(escape) {
        // `^\\[ \t]*$`: a line of just the escape token.
        if stripped.is_empty() {
            return (String::new(), false);
        }
        // `([^\\])\\[ \t]*$`: the character before must not be the escape token.
        if !stripped.ends_with(escape) {
            return (stripped.to_string(), false);
        }
    }
    (line.to_string(), true)
}

fn directive(line: &str) -> Option<(String, String)> {
    let rest = line.strip_prefix('#')?;
    let rest = rest.trim_start();
    let key_len = rest.find(|c: char| !c.is_ascii_alphanumeric())?;
    let key = &rest[..key_len];
    if key.is_empty() || !key.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    let value = rest[key_len..].trim_start().strip_prefix('=')?.trim();
    if value.is_empty() {
        return None;
    }
    Some((key.to_ascii_lowercase(), value.to_string()))
}

/// Parses a Dockerfile's text.
pub fn parse(text: &str) -> Result<Dockerfile, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    // split('\n') yields a last empty piece after a final newline: it is not a line.
    let n_lines = if text.ends_with('\n') {
        lines.len() - 1
    } else {
        lines.len()
    };
    let mut df = Dockerfile {
        escape: '\\',
        ..Default::default()
    };
    let mut directives_done = false;
    let mut comments: Vec<String> = Vec::new();
    let mut i = 0;
    while i < n_lines {
        let raw = lines[i];
        let line_no = i + 1;
        i += 1;
        if !directives_done {
            match directive(raw) {
                Some((k, v)) if matches!(k.as_str(), "syntax" | "escape" | "check") => {
                    if df.directives.iter().any(|(seen, _)| *seen == k) {
                        return Err(ParseError {
                            line: line_no,
                            message: format!("only one {k} parser directive can be used"),
                        });
                    }
                    if k == "escape" {
                        df.escape = match v.as_str() {
                            "`" => '`',
                            "\\" => '\\',
                            _ => {
                                return Err(ParseError {
                                    line: line_no,
                                    message: format!(
                                        "invalid escape token '{v}' does not match ` or \\"
                                    ),
                                })
                            }
                        };
                    }
                    df.directives.push((k, v));
                    continue;
                }
                _ => directives_done = true,
            }
        }
        let first = trim_left_ws(raw);
        if first.starts_with('#') {
            comments.push(first.trim_start_matches('#').trim().to_string());
            continue;
        }
        let column = raw.len() - first.len() + 1;
        let (mut line, mut ended) = trim_continuation(first, df.escape);
        let mut pieces = vec![(0, line_no, column - 1)];
        if ended && line.trim().is_empty() {
            comments.clear();
            continue;
        }
        let mut empty_continuation = false;
        while !ended && i < n_lines {
            let next = lines[i];
            i += 1;
            if is_comment(next) {
                continue;
            }
            if trim_left_ws(next).is_empty() {
                empty_continuation = true;
                continue;
            }
            let (piece, e) = trim_continuation(next, df.escape);
            pieces.push((line.len(), i, 0));
            line.push_str(&piece);
            ended = e;
        }
        if empty_continuation {
            df.warnings.push(ParseError {
                line: line_no,
                message: format!("empty continuation line found in: {}", line.trim()),
            });
        }
        let mut ins = node_from_line(&line, df.escape, line_no)?;
        ins.start_line = line_no;
        ins.column = column;
        ins.comments = std::mem::take(&mut comments);
        ins.pieces = pieces;
        // Heredoc bodies follow the instruction's last line.
        if matches!(ins.name().as_str(), "run" | "copy" | "add") && !ins.json {
            for (name, expand, chomp) in heredoc_markers(&line) {
                let mut content = String::new();
                let mut closed = false;
                let body_start = i + 1;
                while i < n_lines {
                    let l = lines[i];
                    i += 1;
                    let cmp = if chomp { l.trim_start_matches('\t') } else { l };
                    if cmp == name {
                        closed = true;
                        break;
                    }
                    content.push_str(if chomp { cmp } else { l });
                    content.push('\n');
                }
                if !closed {
                    return Err(ParseError {
                        line: line_no,
                        message: format!("unterminated heredoc {name}"),
                    });
                }
                ins.heredocs.push(Heredoc {
                    name,
                    content,
                    expand,
                    chomp,
                    start_line: body_start,
                });
            }
        }
        ins.end_line = i.max(line_no);
        df.instructions.push(ins);
    }
    if df.instructions.is_empty() {
        return Err(ParseError {
            line: 1,
            message: "file with no instructions".into(),
        });
    }
    Ok(df)
}

/// Heredoc markers (`<<EOF`, `<<-EOF`, `<<'EOF'`, `3<<EOF`) among the words of a line, in
/// order: (delimiter, expand, chomp tabs). Markers inside quotes are not heredocs.
fn heredoc_markers(line: &str) -> Vec<(String, bool, bool)> {
    let mut out = Vec::new();
    for word in shell_words(line) {
        let digits = word.bytes().take_while(|b| b.is_ascii_digit()).count();
        let Some(rest) = word[digits..].strip_prefix("<<") else {
            continue;
        };
        let (chomp, rest) = match rest.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let rest = rest.trim_start();
        if rest.is_empty() || rest.contains('<') {
            continue;
        }
        let quoted = rest.contains('"') || rest.contains('\'');
        let name: String = rest.chars().filter(|c| *c != '"' && *c != '\'').collect();
        if !name.is_empty() {
            out.push((name, !quoted, chomp));
        }
    }
    out
}

/// Shell-like words, keeping quotes inside words; a word that starts inside quotes is not a
/// heredoc marker, so quoted text is returned with its quotes.
fn shell_words(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                word.push(c);
                if c == q {
                    quote = None;
                }
            }
            None if c.is_whitespace() => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            None => {
                // In a heredoc marker, quotes belong to the delimiter (`<<'EOF'`).
                if (c == '"' || c == '\'') && !word.contains("<<") {
                    quote = Some(c);
                }
                word.push(c);
            }
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

fn node_from_line(line: &str, escape: char, line_no: usize) -> Result<Instruction, ParseError> {
    let trimmed = line.trim();
    let (keyword, rest) = match trimmed.find(is_ws) {
        Some(p) => (&trimmed[..p], trimmed[p..].trim_start_matches(is_ws)),
        None => (trimmed, ""),
    };
    let (rest, flags) = if rest.is_empty() {
        (String::new(), Vec::new())
    } else {
        extract_flags(rest)
    };
    let rest = rest.trim().to_string();
    let err = |message: String| ParseError {
        line: line_no,
        message,
    };
    let lower = keyword.to_ascii_lowercase();
    let (args, json) = match lower.as_str() {
        "add" | "copy" | "volume" => maybe_json_to_list(&rest).map_err(err)?,
        "arg" => (
            words(&rest, escape).into_iter().map(Arg::Value).collect(),
            false,
        ),
        "cmd" | "entrypoint" | "run" | "shell" => maybe_json(&rest).map_err(err)?,
        "env" | "label" => (
            name_val(&rest, &lower.to_ascii_uppercase(), escape).map_err(err)?,
            false,
        ),
        "expose" | "from" => (split_ws(&rest), false),
        "healthcheck" => health(&rest).map_err(err)?,
        "maintainer" | "stopsignal" | "user" | "workdir" => (
            if rest.is_empty() {
                vec![]
            } else {
                vec![Arg::Value(rest.clone())]
            },
            false,
        ),
        "onbuild" => {
            if rest.is_empty() {
                (vec![], false)
            } else {
                let mut sub = node_from_line(&rest, escape, line_no)?;
                sub.start_line = line_no;
                sub.end_line = line_no;
                (vec![Arg::Sub(Box::new(sub))], false)
            }
        }
        // Unknown instructions are kept, without arguments, as BuildKit does.
        _ => (vec![], false),
    };
    Ok(Instruction {
        keyword: keyword.to_string(),
        flags,
        args,
        json,
        original: line.to_string(),
        start_line: line_no,
        end_line: line_no,
        column: 1,
        heredocs: Vec::new(),
        comments: Vec::new(),
        pieces: Vec::new(),
    })
}

fn split_ws(rest: &str) -> Vec<Arg> {
    if rest.is_empty() {
        return vec![];
    }
    rest.split(is_ws)
        .filter(|s| !s.is_empty())
        .map(|s| Arg::Value(s.to_string()))
        .collect()
}

enum JsonErr {
    NotJson,
    NotStringArray,
}

fn parse_json(rest: &str) -> Result<Vec<Arg>, JsonErr> {
    let rest = rest.trim_start();
    if !rest.starts_with('[') {
        return Err(JsonErr::NotJson);
    }
    let v: Vec<serde_json::Value> = serde_json::from_str(rest).map_err(|_| JsonErr::NotJson)?;
    v.into_iter()
        .map(|x| match x {
            serde_json::Value::String(s) => Ok(Arg::Value(s)),
            _ => Err(JsonErr::NotStringArray),
        })
        .collect()
}

const NOT_STRING_ARRAY: &str = "dockerfile JSON arrays must contain only strings";

fn maybe_json(rest: &str) -> Result<(Vec<Arg>, bool), String> {
    if rest.is_empty() {
        return Ok((vec![], false));
    }
    if rest.starts_with('[') {
        match parse_json(rest) {
            Ok(a) => return Ok((a, true)),
            Err(JsonErr::NotStringArray) => return Err(NOT_STRING_ARRAY.into()),
            Err(JsonErr::NotJson) => {}
        }
    }
    Ok((vec![Arg::Value(rest.to_string())], false))
}

fn maybe_json_to_list(rest: &str) -> Result<(Vec<Arg>, bool), String> {
    match parse_json(rest) {
        Ok(a) => Ok((a, true)),
        Err(JsonErr::NotStringArray) => Err(NOT_STRING_ARRAY.into()),
        Err(JsonErr::NotJson) => Ok((split_ws(rest), false)),
    }
}

fn health(rest: &str) -> Result<(Vec<Arg>, bool), String> {
    let sep = rest.find(char::is_whitespace).unwrap_or(rest.len());
    if sep == 0 {
        return Ok((vec![], false));
    }
    let typ = &rest[..sep];
    let cmd = rest[sep..].trim_start();
    let (mut args, json) = maybe_json(cmd)?;
    args.insert(0, Arg::Value(typ.to_string()));
    Ok((args, json))
}

fn name_val(rest: &str, key: &str, escape: char) -> Result<Vec<Arg>, String> {
    let ws = words(rest, escape);
    if ws.is_empty() {
        return Ok(vec![]);
    }
    if !ws[0].contains('=') {
        let mut parts = rest.splitn(2, is_ws);
        let name = parts.next().unwrap_or_default();
        let value = parts
            .next()
            .map(|v| v.trim_start_matches(is_ws))
            .filter(|v| !v.is_empty());
        let Some(value) = value else {
            return Err(format!("{key} must have two arguments"));
        };
        return Ok(vec![
            Arg::Value(name.to_string()),
            Arg::Value(value.to_string()),
            Arg::Value(String::new()),
        ]);
    }
    let mut out = Vec::new();
    for w in ws {
        let Some((k, v)) = w.split_once('=') else {
            return Err(format!(
                "Syntax error - can't find = in {}. Must be of the form: name=value",
                go_quote(&w)
            ));
        };
        out.extend([
            Arg::Value(k.to_string()),
            Arg::Value(v.to_string()),
            Arg::Value("=".into()),
        ]);
    }
    Ok(out)
}

/// BuildKit's parseWords: words split on whitespace, quotes and escapes kept in them.
fn words(rest: &str, escape: char) -> Vec<String> {
    #[derive(PartialEq)]
    enum Phase {
        Spaces,
        Word,
        Quote,
    }
    let chars: Vec<char> = rest.chars().collect();
    let mut words = Vec::new();
    let mut phase = Phase::Spaces;
    let mut word = String::new();
    let mut quote = '\0';
    let mut blank_ok = false;
    let mut pos = 0;
    while pos <= chars.len() {
        let at_end = pos == chars.len();
        let mut ch = if at_end { '\0' } else { chars[pos] };
        if phase == Phase::Spaces {
            if at_end {
                break;
            }
            if ch.is_whitespace() {
                pos += 1;
                continue;
            }
            phase = Phase::Word;
        }
        if at_end {
            if blank_ok || !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            break;
        }
        if phase == Phase::Word {
            if ch.is_whitespace() {
                phase = Phase::Spaces;
                if blank_ok || !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                blank_ok = false;
                pos += 1;
                continue;
            }
            if ch == '\'' || ch == '"' {
                quote = ch;
                blank_ok = true;
                phase = Phase::Quote;
            }
            if ch == escape {
                if pos + 1 == chars.len() {
                    pos += 1;
                    continue;
                }
                word.push(ch);
                pos += 1;
                ch = chars[pos];
            }
            word.push(ch);
            pos += 1;
            continue;
        }
        // In quotes.
        if ch == quote {
            phase = Phase::Word;
        }
        if ch == escape && quote != '\'' {
            if pos + 1 == chars.len() {
                phase = Phase::Word;
                pos += 1;
                continue;
            }
            pos += 1;
            word.push(ch);
            ch = chars[pos];
        }
        word.push(ch);
        pos += 1;
    }
    words
}

/// BuildKit's extractBuilderFlags: leading `--flag` words, and the rest of the line.
fn extract_flags(line: &str) -> (String, Vec<String>) {
    #[derive(PartialEq)]
    enum Phase {
        Spaces,
        Word,
        Quote,
    }
    let chars: Vec<char> = line.chars().collect();
    let byte_at = |pos: usize| chars[..pos].iter().map(|c| c.len_utf8()).sum::<usize>();
    let mut words = Vec::new();
    let mut phase = Phase::Spaces;
    let mut word = String::new();
    let mut quote = '\0';
    let mut blank_ok = false;
    let mut pos = 0;
    while pos <= chars.len() {
        let at_end = pos == chars.len();
        let mut ch = if at_end { '\0' } else { chars[pos] };
        if phase == Phase::Spaces {
            if at_end {
                break;
            }
            if ch.is_whitespace() {
                pos += 1;
                continue;
            }
            if ch != '-' || pos + 1 == chars.len() || chars[pos + 1] != '-' {
                return (line[byte_at(pos)..].to_string(), words);
            }
            phase = Phase::Word;
        }
        if at_end {
            if word != "--" && (blank_ok || !word.is_empty()) {
                words.push(word);
            }
            break;
        }
        if phase == Phase::Word {
            if ch.is_whitespace() {
                phase = Phase::Spaces;
                if word == "--" {
                    return (line[byte_at(pos)..].to_string(), words);
                }
                if blank_ok || !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                word.clear();
                blank_ok = false;
                pos += 1;
                continue;
            }
            if ch == '\'' || ch == '"' {
                quote = ch;
                blank_ok = true;
                phase = Phase::Quote;
                pos += 1;
                continue;
            }
            if ch == '\\' {
                if pos + 1 == chars.len() {
                    pos += 1;
                    continue;
                }
                pos += 1;
                ch = chars[pos];
            }
            word.push(ch);
            pos += 1;
            continue;
        }
        if ch == quote {
            phase = Phase::Word;
            pos += 1;
            continue;
        }
        if ch == '\\' {
            if pos + 1 == chars.len() {
                phase = Phase::Word;
                pos += 1;
                continue;
            }
            pos += 1;
            ch = chars[pos];
        }
        word.push(ch);
        pos += 1;
    }
    (String::new(), words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conformance_dir() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/buildkit")
    }

    #[test]
    fn buildkit_positive_cases_dump_identically() {
        let mut failures = Vec::new();
        let mut n = 0;
        for e in std::fs::read_dir(conformance_dir().join("testfiles"))
            .expect("tests/buildkit holds BuildKit's test files")
        {
            let dir = e.unwrap().path();
            let text = std::fs::read_to_string(dir.join("Dockerfile")).unwrap();
            let want = std::fs::read_to_string(dir.join("result")).unwrap();
            n += 1;
            match parse(&text) {
                Ok(df) if df.dump() == want => {}
                Ok(df) => failures.push(format!(
                    "{}:\n--- want\n{want}--- got\n{}",
                    dir.display(),
                    df.dump()
                )),
                Err(e) => failures.push(format!("{}: {e}", dir.display())),
            }
        }
        assert_eq!(n, 33);
        assert!(
            failures.is_empty(),
            "{} of {n} differ:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    #[test]
    fn buildkit_negative_cases_are_rejected() {
        for e in std::fs::read_dir(conformance_dir().join("testfiles-negative")).unwrap() {
            let dir = e.unwrap().path();
            let text = std::fs::read_to_string(dir.join("Dockerfile")).unwrap();
            assert!(parse(&text).is_err(), "{} must not parse", dir.display());
        }
    }

    #[test]
    fn spans_and_heredocs() {
        let df = parse("# syntax=docker/dockerfile:1\nFROM alpine AS build\n  RUN <<EOF\necho hi\nEOF\nCOPY --chmod=644 <<-'CFG' /etc/x\n\tkey=$v\n\tCFG\nRUN a \\\n  b\n").unwrap();
        let i = &df.instructions;
        assert_eq!(
            df.directives,
            vec![("syntax".to_string(), "docker/dockerfile:1".to_string())]
        );
        assert_eq!((i[1].start_line, i[1].end_line, i[1].column), (3, 5, 3));
        assert_eq!(i[1].heredocs[0].content, "echo hi\n");
        assert_eq!(
            i[2].heredocs[0],
            Heredoc {
                name: "CFG".into(),
                content: "key=$v\n".into(),
                expand: false,
                chomp: true,
                start_line: 7
            }
        );
        assert_eq!((i[3].start_line, i[3].end_line), (9, 10));
        assert!(parse("RUN <<EOF\nnever closed\n").is_err());
        assert!(parse("RUN echo \"<<EOF\"\n").unwrap().instructions[0]
            .heredocs
            .is_empty());
    }

    /// Never a panic, whatever the input: Dockerfile-shaped noise from a fixed-seed generator.
    #[test]
    fn arbitrary_input_never_panics() {
        let pieces = [
            "FROM ",
            "RUN ",
            "COPY ",
            "ENV ",
            "LABEL ",
            "ARG ",
            "ONBUILD ",
            "HEALTHCHECK ",
            "CMD ",
            "# escape=`",
            "#",
            "\\",
            "`",
            "\n",
            "\r\n",
            " ",
            "\t",
            "[",
            "]",
            "\"",
            "'",
            "=",
            "--from=a",
            "--",
            "<<EOF",
            "<<-'E'",
            "EOF",
            "\u{feff}",
            "é",
            "☃",
            "a",
            "b=c",
            "${X:-y}",
            "$",
            ",",
            "[\"a\",",
            "{}",
            "\\\n",
        ];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut ok = 0;
        for _ in 0..20_000 {
            let mut text = String::new();
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            for k in 0..(x % 24) {
                let r = x
                    .rotate_left(k as u32 * 5)
                    .wrapping_mul(0x2545_f491_4f6c_dd1d);
                text.push_str(pieces[(r % pieces.len() as u64) as usize]);
            }
            if let Ok(df) = parse(&text) {
                ok += 1;
                let _ = df.dump();
            }
        }
        assert!(ok > 1000, "the generator also makes valid files ({ok})");
    }

    #[test]
    fn malformed_files_give_clear_errors_with_lines() {
        for (text, line, needle) in [
            ("", 1, "no instructions"),
            ("# only a comment\n", 1, "no instructions"),
            ("FROM a\n\nENV PATH\n", 3, "ENV must have two arguments"),
            ("FROM a\nLABEL a=b c\n", 2, "can't find ="),
            ("FROM a\nCMD [\"a\", 1]\n", 2, "only strings"),
            ("FROM a\nRUN <<EOF\nx\n", 2, "unterminated heredoc EOF"),
            ("# escape=`\n# escape=`\nFROM a\n", 2, "only one escape"),
        ] {
            let e = parse(text).unwrap_err();
            assert_eq!(e.line, line, "{text:?}: {e}");
            assert!(e.to_string().contains(needle), "{text:?}: {e}");
        }
    }

    #[test]
    fn directives_only_at_the_top() {
        assert!(parse("# escape=`\n# escape=\\\nFROM x\n").is_err());
        assert!(parse("# escape=x\nFROM x\n").is_err());
        let df = parse("# a comment\n# escape=`\nFROM x\n").unwrap();
        assert_eq!(df.escape, '\\');
    }
}
