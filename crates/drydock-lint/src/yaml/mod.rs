//! YAML with positions: every node keeps the line and column where it starts, so a finding can
//! point at the exact key or value (kube-score, kube-linter and Polaris cannot). Multi-document
//! files give one tree per document.
//!
//! The file is read as kubectl and docker compose read it, through Go's YAML (go-yaml, a port of
//! libyaml): the events come from libyaml itself ([`libyaml`]), so what is accepted (flow
//! collections closed at the key's column, quoted scalars continued at any indentation) is what
//! Go accepts; a spec-strict YAML 1.2 parser (saphyr, used before) rejects those. The tree is
//! composed here rather than by a crate's loader because none does what kubectl does: plain
//! scalars resolved by go-yaml v3's rules, merge keys (`<<: *base`) resolved as go-yaml merges
//! them, and a duplicate key taking the last value while being reported
//! ([`Parsed::duplicates`]) instead of failing the file.

use std::collections::HashMap;

mod libyaml;

use libyaml::{EventKind, Mark, Parser, Style};

use crate::diagnostic::{Finding, Span};
use crate::error::LintError;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Keys in document order, each with its own position.
    Map(Vec<(Node, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// 1-based line and column.
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub value: Value,
    /// The file the node was read from when it is not the file its tree belongs to (a Compose
    /// override merged into its base), so that a finding on it names the right file.
    pub file: Option<std::sync::Arc<str>>,
}

static NULL: Node = Node {
    line: 0,
    column: 0,
    end_line: 0,
    end_column: 0,
    value: Value::Null,
    file: None,
};

impl Node {
    /// The value under `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The key node and the value under `key`.
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        match &self.value {
            Value::Map(m) => m
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(k, v)| (k, v)),
            _ => None,
        }
    }

    /// `get` that yields a null node when absent, for chaining.
    pub fn at(&self, key: &str) -> &Node {
        self.get(key).unwrap_or(&NULL)
    }

    pub fn as_str(&self) -> Option<&str> {
        if let Value::Str(s) = &self.value {
            Some(s)
        } else {
            None
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        if let Value::Bool(b) = self.value {
            Some(b)
        } else {
            None
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        if let Value::Int(i) = self.value {
            Some(i)
        } else {
            None
        }
    }

    pub fn seq(&self) -> &[Node] {
        if let Value::Seq(s) = &self.value {
            s
        } else {
            &[]
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// A scalar as text, whatever its type (`8080`, `true`, `"x"`).
    pub fn text(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct YamlError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Deeper nesting is refused: the tree is walked recursively by the rules.
pub const MAX_DEPTH: usize = 512;

/// Nodes that aliases may copy in one stream, against "billion laughs" documents (go-yaml
/// refuses excessive aliasing too).
const MAX_ALIAS_NODES: usize = 1_000_000;

/// A key given twice in one mapping: the later value is the one kept, as kubectl keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct Duplicate {
    /// The later key, whose value is kept.
    pub key: Node,
    /// Where the key was first given.
    pub first_line: usize,
}

/// The documents of a stream and the duplicate keys met composing them.
#[derive(Debug, Default)]
pub struct Parsed {
    pub docs: Vec<Node>,
    pub duplicates: Vec<Duplicate>,
}

/// Parses every document of a YAML stream.
pub fn parse(text: &str) -> Result<Vec<Node>, YamlError> {
    parse_stream(text).map(|p| p.docs)
}

/// Parses every document of a YAML stream, keeping the duplicate keys seen.
pub fn parse_stream(text: &str) -> Result<Parsed, YamlError> {
    // go-yaml takes `\'` in a double-quoted scalar as `'`; libyaml refuses it. Where libyaml stops
    // at one, it is swapped for `\e` (as long, so every position stays) and the ESC it yields is
    // turned back into `'` in that scalar.
    let mut text = std::borrow::Cow::Borrowed(text);
    let mut swapped = Vec::new();
    loop {
        match compose(&text, &swapped) {
            Err(Stop::At(e, offset))
                if swapped.len() < MAX_QUOTE_ESCAPES
                    && e.message.starts_with("found unknown escape character")
                    && text.get(offset..offset + 2) == Some("\\'") =>
            {
                text.to_mut().replace_range(offset..offset + 2, "\\e");
                swapped.push(offset);
            }
            Err(Stop::At(e, _)) | Err(Stop::Error(e)) => return Err(e),
            Ok(p) => return Ok(p),
        }
    }
}

/// Turns back into `'` the ESC characters of a double-quoted scalar that came from swapped
/// `\'` escapes, telling them from the scalar's own `\e`, `\x1b`, `\u001b` and `\U0000001b` by
/// their order.
fn restore_quotes(
    text: &str,
    raw: std::ops::Range<usize>,
    value: String,
    swapped: &[usize],
) -> String {
    let bytes = text.as_bytes();
    let hex = |at: usize, n: usize| {
        text.get(at..at + n)
            .and_then(|h| u32::from_str_radix(h, 16).ok())
    };
    // For each escape that yields ESC, in order: whether it stands for `'`.
    let mut escs = Vec::new();
    let mut i = raw.start;
    while i + 1 < raw.end {
        if bytes[i] != b'\\' {
            i += 1;
            continue;
        }
        let (yields_esc, len) = match bytes[i + 1] {
            b'e' => (true, 2),
            b'x' => (hex(i + 2, 2) == Some(0x1b), 4),
            b'u' => (hex(i + 2, 4) == Some(0x1b), 6),
            b'U' => (hex(i + 2, 8) == Some(0x1b), 10),
            _ => (false, 2),
        };
        if yields_esc {
            escs.push(swapped.contains(&i));
        }
        i += len;
    }
    let mut n = 0;
    value
        .chars()
        .map(|c| {
            if c != '\u{1b}' {
                return c;
            }
            n += 1;
            if escs.get(n - 1) == Some(&true) {
                '\''
            } else {
                c
            }
        })
        .collect()
}

/// How many `\'` escapes [`parse_stream`] swaps before it gives up and reports the error.
const MAX_QUOTE_ESCAPES: usize = 64;

enum Stop {
    /// A libyaml error, with the byte offset it points at.
    At(YamlError, usize),
    Error(YamlError),
}

impl From<YamlError> for Stop {
    fn from(e: YamlError) -> Stop {
        Stop::Error(e)
    }
}

fn compose(text: &str, swapped: &[usize]) -> Result<Parsed, Stop> {
    let mut parser = Parser::new(text.as_bytes());
    let mut c = Composer::default();
    loop {
        let ev = parser
            .next_event()
            .map_err(|e| Stop::At(yaml_error(text, &e), e.mark.map_or(e.offset, |m| m.index)))?;
        let (start, end) = (ev.start, ev.end);
        match ev.kind {
            EventKind::StreamEnd => break,
            EventKind::StreamStart | EventKind::DocumentStart => {}
            EventKind::DocumentEnd => {
                let doc = c
                    .root
                    .take()
                    .unwrap_or_else(|| leaf(start, start, Value::Null));
                c.out.docs.push(doc);
                c.anchors.clear();
            }
            EventKind::Alias { anchor } => {
                let Some((node, size)) = c.anchors.get(&anchor) else {
                    return Err(
                        error_at(start, format!("unknown anchor `{anchor}` referenced")).into(),
                    );
                };
                c.copied += size;
                if c.copied > MAX_ALIAS_NODES {
                    return Err(
                        error_at(start, "document contains excessive aliasing".into()).into(),
                    );
                }
                let node = node.clone();
                c.complete(node, None, false)?;
            }
            EventKind::Scalar {
                anchor,
                tag,
                value,
                style,
            } => {
                if style == Style::DoubleQuoted {
                    check_escapes(text, start, end)?;
                }
                let value = if swapped.iter().any(|o| (start.index..end.index).contains(o)) {
                    restore_quotes(text, start.index..end.index, value, swapped)
                } else {
                    value
                };
                let plain = style == Style::Plain;
                if plain && c.stack.iter().any(|f| f.flow) {
                    check_flow_plain(text, start, end)?;
                }
                let merge = plain
                    && value == "<<"
                    && matches!(tag.as_deref(), None | Some("!") | Some(MERGE_TAG));
                let value =
                    resolve(tag.as_deref(), value, plain).map_err(|m| error_at(start, m))?;
                c.complete(leaf(start, end, value), anchor, merge)?;
            }
            EventKind::SequenceStart { anchor, flow } => c.open(start, anchor, false, flow)?,
            EventKind::MappingStart { anchor, flow } => c.open(start, anchor, true, flow)?,
            EventKind::SequenceEnd | EventKind::MappingEnd => {
                let Some(frame) = c.stack.pop() else {
                    continue;
                };
                let value = match frame.body {
                    Body::Seq(items) => Value::Seq(items),
                    Body::Map { entries, merge, .. } => Value::Map(merged(entries, merge)?),
                };
                c.complete(leaf(frame.start, end, value), frame.anchor, false)?;
            }
        }
    }
    Ok(c.out)
}

/// go-yaml knows every escape libyaml 0.2.5 knows but `\/` (a JSON escape YAML 1.2 added), and
/// refuses it: so does drydock, as kubectl would.
fn check_escapes(text: &str, start: Mark, end: Mark) -> Result<(), YamlError> {
    let raw = text.get(start.index..end.index).unwrap_or("");
    let mut chars = raw.char_indices();
    while let Some((_, c)) = chars.next() {
        if c == '\\' {
            if let Some((i, '/')) = chars.next() {
                let (line, column) = line_column(text, start.index + i - 1);
                return Err(YamlError {
                    line,
                    column,
                    message: "found unknown escape character `\\/` (while parsing a quoted scalar); write `/`".into(),
                });
            }
        }
    }
    Ok(())
}

/// go-yaml ends a plain scalar inside a flow collection at a `?` (libyaml 0.2.5 reads on), and
/// the `?` then starts a key where none may be: go-yaml, and so kubectl, refuse the file.
fn check_flow_plain(text: &str, start: Mark, end: Mark) -> Result<(), YamlError> {
    let raw = text.get(start.index..end.index).unwrap_or("");
    match raw.find('?') {
        Some(i) if i > 0 => {
            let (line, column) = line_column(text, start.index + i);
            Err(YamlError {
                line,
                column,
                message: "did not find expected ',' or the collection's end: Go's YAML ends a plain scalar in a flow collection at `?`; quote the value".into(),
            })
        }
        _ => Ok(()),
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

const TAG_PREFIX: &str = "tag:yaml.org,2002:";
const MERGE_TAG: &str = "tag:yaml.org,2002:merge";

fn leaf(start: Mark, end: Mark, value: Value) -> Node {
    Node {
        line: start.line + 1,
        column: start.column + 1,
        end_line: end.line + 1,
        end_column: end.column + 1,
        value,
        file: None,
    }
}

fn error_at(mark: Mark, message: String) -> YamlError {
    YamlError {
        line: mark.line + 1,
        column: mark.column + 1,
        message,
    }
}

fn yaml_error(text: &str, e: &libyaml::ParseError) -> YamlError {
    let mut message = e.problem.clone();
    if let Some((context, at)) = &e.context {
        if at.line == e.mark.map_or(0, |m| m.line) {
            message.push_str(&format!(" ({context})"));
        } else {
            message.push_str(&format!(
                " ({context} that starts at line {}, column {})",
                at.line + 1,
                at.column + 1
            ));
        }
    }
    match e.mark {
        Some(m) => error_at(m, message),
        // Reader errors (a character YAML forbids) carry a byte offset instead.
        None => {
            let (line, column) = line_column(text, e.offset);
            YamlError {
                line,
                column,
                message,
            }
        }
    }
}

#[derive(Default)]
struct Composer {
    stack: Vec<Frame>,
    root: Option<Node>,
    anchors: HashMap<String, (Node, usize)>,
    /// Nodes copied by aliases so far.
    copied: usize,
    out: Parsed,
}

struct Frame {
    start: Mark,
    anchor: Option<String>,
    /// A flow collection (`[…]`, `{…}`).
    flow: bool,
    body: Body,
}

enum Body {
    Seq(Vec<Node>),
    Map {
        entries: Vec<(Node, Node)>,
        /// The key waiting for its value, and whether it is the merge key `<<`.
        key: Option<(Node, bool)>,
        /// The value of the last `<<`; go-yaml merges only that one.
        merge: Option<Node>,
        /// The line of the last `<<` key.
        merge_keys: Option<usize>,
        /// Index of each key's entry, by its text.
        index: HashMap<String, usize>,
    },
}

impl Composer {
    fn open(
        &mut self,
        start: Mark,
        anchor: Option<String>,
        map: bool,
        flow: bool,
    ) -> Result<(), YamlError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(error_at(
                start,
                format!("nesting deeper than {MAX_DEPTH} levels"),
            ));
        }
        let body = if map {
            Body::Map {
                entries: Vec::new(),
                key: None,
                merge: None,
                merge_keys: None,
                index: HashMap::new(),
            }
        } else {
            Body::Seq(Vec::new())
        };
        self.stack.push(Frame {
            start,
            anchor,
            flow,
            body,
        });
        Ok(())
    }

    /// A finished node goes to its anchor (if any) and into its parent.
    fn complete(
        &mut self,
        node: Node,
        anchor: Option<String>,
        merge_key: bool,
    ) -> Result<(), YamlError> {
        if let Some(a) = anchor {
            let size = node_count(&node);
            self.anchors.insert(a, (node.clone(), size));
        }
        let Some(parent) = self.stack.last_mut() else {
            self.root = Some(node);
            return Ok(());
        };
        match &mut parent.body {
            Body::Seq(items) => items.push(node),
            Body::Map {
                entries,
                key,
                merge,
                merge_keys,
                index,
            } => match key.take() {
                // go-yaml decodes mappings into Go maps, whose keys cannot be collections; nor
                // can JSON's, which kubectl turns YAML into.
                None if matches!(node.value, Value::Seq(_) | Value::Map(_)) => {
                    return Err(YamlError {
                        line: node.line,
                        column: node.column,
                        message: "invalid map key: a sequence or a mapping cannot be a key".into(),
                    })
                }
                None => *key = Some((node, merge_key)),
                Some((k, true)) => {
                    // A second `<<` replaces the first, as go-yaml takes the last.
                    if let Some(first) = merge_keys.replace(k.line) {
                        self.out.duplicates.push(Duplicate {
                            key: k,
                            first_line: first,
                        });
                    }
                    *merge = Some(node)
                }
                Some((k, false)) => {
                    let name = key_text(&k);
                    if let Some(&i) = name.as_ref().and_then(|n| index.get(n)) {
                        self.out.duplicates.push(Duplicate {
                            key: k.clone(),
                            first_line: entries[i].0.line,
                        });
                        entries[i] = (k, node);
                    } else {
                        if let Some(n) = name {
                            index.insert(n, entries.len());
                        }
                        entries.push((k, node));
                    }
                }
            },
        }
        Ok(())
    }
}

/// A key's identity: its scalar text (`1` and `"1"` are one key once kubectl has made JSON of
/// them). Collections as keys have none and are never duplicates.
fn key_text(k: &Node) -> Option<String> {
    match &k.value {
        Value::Null => Some(String::new()),
        _ => k.text(),
    }
}

fn node_count(n: &Node) -> usize {
    1 + match &n.value {
        Value::Seq(s) => s.iter().map(node_count).sum(),
        Value::Map(m) => m.iter().map(|(k, v)| node_count(k) + node_count(v)).sum(),
        _ => 0,
    }
}

/// Adds what a merge key brings: go-yaml's order, where the mapping's own keys win and, in a
/// list of mappings, the first that has a key wins.
fn merged(
    mut entries: Vec<(Node, Node)>,
    merge: Option<Node>,
) -> Result<Vec<(Node, Node)>, YamlError> {
    let Some(merge) = merge else {
        return Ok(entries);
    };
    let sources: Vec<&Node> = match &merge.value {
        Value::Map(_) => vec![&merge],
        Value::Seq(items) if items.iter().all(|i| matches!(i.value, Value::Map(_))) => {
            items.iter().collect()
        }
        _ => {
            return Err(YamlError {
                line: merge.line,
                column: merge.column,
                message: "map merge requires map or sequence of maps as the value".into(),
            })
        }
    };
    let mut seen: std::collections::HashSet<String> =
        entries.iter().filter_map(|(k, _)| key_text(k)).collect();
    // go-yaml decodes a mapping whose own keys are all strings into a map of strings, where a
    // merged null key has no place and is dropped.
    let string_keys = entries
        .iter()
        .all(|(k, _)| matches!(k.value, Value::Str(_)));
    for source in sources {
        if let Value::Map(m) = &source.value {
            for (k, v) in m {
                if string_keys && k.is_null() {
                    continue;
                }
                if key_text(k).is_some_and(|t| seen.insert(t)) {
                    entries.push((k.clone(), v.clone()));
                }
            }
        }
    }
    Ok(entries)
}

/// A scalar's value as go-yaml v3 decodes it: quoted and block scalars are strings, plain ones
/// are resolved (null, bool, int, float, else string), and a standard tag decides for itself.
fn resolve(tag: Option<&str>, text: String, plain: bool) -> Result<Value, String> {
    let tag = tag.filter(|t| *t != "!");
    let Some(tag) = tag else {
        return Ok(if plain {
            resolve_plain(text)
        } else {
            Value::Str(text)
        });
    };
    let Some(short) = tag.strip_prefix(TAG_PREFIX) else {
        // A local tag (`!Ref`, `!!python/…` aside): go-yaml keeps the text.
        return Ok(Value::Str(text));
    };
    let resolved = resolve_plain(text.clone());
    let ok = match (short, &resolved) {
        ("str" | "binary" | "timestamp", _) => return Ok(Value::Str(text)),
        ("null", Value::Null) | ("bool", Value::Bool(_)) | ("int", Value::Int(_)) => true,
        ("float", Value::Float(_)) => true,
        ("float", Value::Int(i)) => return Ok(Value::Float(*i as f64)),
        ("null" | "bool" | "int" | "float", _) => false,
        // Collections' tags and unknown ones on scalars.
        _ => return Ok(Value::Str(text)),
    };
    if ok {
        Ok(resolved)
    } else {
        Err(format!("cannot decode `{text}` as a !!{short}"))
    }
}

/// go-yaml v3's resolution of a plain scalar (its resolve.go): the YAML 1.2 core names of null,
/// booleans, infinities and NaN; integers as Go's `ParseInt(s, 0, 64)` reads them once
/// underscores are gone (so `0x1F`, `0o17`, `0b101` and a leading-zero octal `017`); then
/// decimal floats. Everything else, `yes` and `on` included, is a string.
fn resolve_plain(text: String) -> Value {
    match text.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        _ => {}
    }
    match text.as_bytes()[0] {
        b'.' => {
            if let Some(f) = go_float(&text) {
                return Value::Float(f);
            }
        }
        b'0'..=b'9' | b'+' | b'-' => {
            let plain = text.replace('_', "");
            if let Some(i) = go_int(&plain) {
                return Value::Int(i);
            }
            if let Some(u) = go_uint(&plain) {
                return Value::Float(u as f64);
            }
            if is_yaml_float(&plain) {
                if let Some(f) = go_float(&plain) {
                    return Value::Float(f);
                }
            }
            // go-yaml then tries `0b`/`0o` itself, with ParseInt on the rest, which takes a
            // sign: `0o-1` is -1.
            for (prefix, sign, radix) in [
                ("0b", "", 2),
                ("-0b", "-", 2),
                ("0o", "", 8),
                ("-0o", "-", 8),
            ] {
                if let Some(rest) = plain.strip_prefix(prefix) {
                    if let Ok(i) = i64::from_str_radix(&format!("{sign}{rest}"), radix) {
                        return Value::Int(i);
                    }
                }
            }
        }
        _ => {}
    }
    Value::Str(text)
}

/// Go's `strconv.ParseInt(s, 0, 64)`: a sign, then `0x`, `0o`, `0b` or a leading `0` for the
/// base.
fn go_int(s: &str) -> Option<i64> {
    let (neg, digits, radix) = split_base(s)?;
    let v = i128::from_str_radix(digits, radix).ok()?;
    i64::try_from(if neg { -v } else { v }).ok()
}

/// Go's `strconv.ParseUint(s, 0, 64)`, for integers past i64.
fn go_uint(s: &str) -> Option<u64> {
    let (neg, digits, radix) = split_base(s)?;
    if neg || s.starts_with('+') {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

fn split_base(s: &str) -> Option<(bool, &str, u32)> {
    let (neg, rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = |p: &str| {
        rest.get(..2)
            .is_some_and(|h| h.eq_ignore_ascii_case(p))
            .then(|| &rest[2..])
    };
    let (digits, radix) = if let Some(d) = lower("0x") {
        (d, 16)
    } else if let Some(d) = lower("0o") {
        (d, 8)
    } else if let Some(d) = lower("0b") {
        (d, 2)
    } else if rest.len() > 1 && rest.starts_with('0') {
        (&rest[1..], 8)
    } else {
        (rest, 10)
    };
    // from_str_radix would take a second sign; Go does not.
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    Some((neg, digits, radix))
}

/// go-yaml's `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_float(s: &str) -> bool {
    let b = s.trim_start_matches(['+', '-']);
    if b.len() + 1 < s.len() {
        return false;
    }
    let (mantissa, exp) = match b.find(['e', 'E']) {
        Some(i) => (&b[..i], Some(&b[i + 1..])),
        None => (b, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|c| c.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => digits(frac),
        Some((int, frac)) => digits(int) && (frac.is_empty() || digits(frac)),
        None => digits(mantissa),
    };
    let exp_ok = exp.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)));
    mantissa_ok && exp_ok
}

/// Go's `strconv.ParseFloat(s, 64)` for the decimal forms YAML gives it.
fn go_float(s: &str) -> Option<f64> {
    let b = s.trim_start_matches(['+', '-']);
    // Rust also reads `inf` and `nan`, which Go's YAML leaves as strings here.
    if b.is_empty()
        || !b
            .bytes()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return None;
    }
    s.parse().ok()
}

/// One parsed YAML file.
pub struct YamlFile {
    pub path: String,
    pub docs: Vec<Node>,
    /// Keys given twice in a mapping (the later value is kept).
    pub duplicates: Vec<Duplicate>,
    /// A kustomize patch: partial objects, whose absent fields come from the resources they
    /// patch.
    pub partial: bool,
    /// The comment lines the file opens with, where authors say what a file is for ("for test
    /// and development only").
    pub header: String,
}

pub fn parse_file(path: &str, text: &str) -> Result<YamlFile, LintError> {
    let parsed = parse_stream(text).map_err(|e| LintError::Yaml {
        path: path.to_string(),
        line: e.line,
        column: e.column,
        message: e.message,
    })?;
    let header = text
        .lines()
        .map(str::trim)
        .take_while(|l| l.is_empty() || l.starts_with('#') || *l == "---")
        .filter(|l| l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    Ok(YamlFile {
        path: path.to_string(),
        docs: parsed.docs,
        duplicates: parsed.duplicates,
        partial: false,
        header,
    })
}

/// A finding on a node (a key or a value).
pub fn at(path: &str, node: &Node, message: String, fix: Option<String>) -> Finding {
    let (end_line, end_column) = if node.end_line == node.line && node.end_column > node.column {
        (node.end_line, node.end_column)
    } else {
        (node.line, node.column + 1)
    };
    Finding {
        span: Span {
            line: node.line,
            column: node.column,
            end_line,
            end_column,
        },
        message,
        fix,
        path: Some(node.file.as_deref().unwrap_or(path).to_string()),
        severity: None,
    }
}

/// A stable text for a node's value, ignoring positions (to compare two probes).
pub fn canonical(n: &Node) -> String {
    match &n.value {
        Value::Map(m) => {
            let mut items: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}={}", k.text().unwrap_or_default(), canonical(v)))
                .collect();
            items.sort();
            format!("{{{}}}", items.join(","))
        }
        Value::Seq(s) => format!(
            "[{}]",
            s.iter().map(canonical).collect::<Vec<_>>().join(",")
        ),
        _ => n.text().unwrap_or_default(),
    }
}

/// A label map (or selector) as owned pairs, to compare selectors with labels.
pub fn label_pairs(n: &Node) -> Vec<(String, String)> {
    match &n.value {
        Value::Map(m) => m
            .iter()
            .filter_map(|(k, v)| Some((k.text()?, v.text()?)))
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_of_keys_and_values() {
        let docs = parse("a: 1\nb:\n  c: [x, y]\n  d: \"q\"\n---\nkind: Pod\n").unwrap();
        assert_eq!(docs.len(), 2);
        let (k, v) = docs[0].at("b").entry("d").unwrap();
        assert_eq!((k.line, k.column, v.line, v.column), (4, 3, 4, 6));
        assert_eq!(v.as_str(), Some("q"));
        assert_eq!(docs[0].at("b").at("c").seq()[1].column, 10);
        assert_eq!(docs[1].at("kind").as_str(), Some("Pod"));
        assert_eq!(docs[0].at("a").as_i64(), Some(1));
        assert!(parse("a: [1, 2\n").is_err());
    }

    #[test]
    fn read_as_kubectl_reads_it() {
        // The last of two keys wins, and the first is reported.
        let p = parse_stream("a: 1\nb: 2\na: 3\n").unwrap();
        assert_eq!(p.docs[0].at("a").as_i64(), Some(3));
        assert_eq!(p.duplicates.len(), 1);
        assert_eq!(
            (p.duplicates[0].key.line, p.duplicates[0].first_line),
            (3, 1)
        );
        // Merge keys: the mapping's own keys win, then the first source that has a key.
        let d = &parse("x: &x {p: 1, q: 2}\ny: &y {q: 3, r: 4}\nz:\n  <<: [*x, *y]\n  p: 0\n")
            .unwrap()[0];
        let z = d.at("z");
        assert_eq!(
            (z.at("p").as_i64(), z.at("q").as_i64(), z.at("r").as_i64()),
            (Some(0), Some(2), Some(4))
        );
        assert!(parse("a: &a 1\nb:\n  <<: *a\n").is_err());
        // What a YAML 1.2 parser refuses and go-yaml accepts.
        assert_eq!(
            parse("spec:\n  args: [\n    a, b\n]\n").unwrap()[0]
                .at("spec")
                .at("args")
                .seq()
                .len(),
            2
        );
        assert_eq!(
            parse("a:\n  b: \"x\ny\"\n").unwrap()[0]
                .at("a")
                .at("b")
                .as_str(),
            Some("x y")
        );
        assert_eq!(
            parse("a: \"it\\'s \\e\"\n").unwrap()[0].at("a").as_str(),
            Some("it's \u{1b}")
        );
        // go-yaml v3's types: yes is a string, 017 octal, 0x1F hex, 1_000 an integer.
        let d = &parse("a: yes\nb: 017\nc: 0x1F\nd: 1_000\ne: 08\n").unwrap()[0];
        assert_eq!(d.at("a").as_str(), Some("yes"));
        assert_eq!(
            [d.at("b").as_i64(), d.at("c").as_i64(), d.at("d").as_i64()],
            [Some(15), Some(31), Some(1000)]
        );
        assert_eq!(d.at("e").value, Value::Float(8.0));
        // What go-yaml refuses.
        assert!(parse("a: \"x\\/y\"\n").is_err());
        assert!(parse("a: [http://x/?y]\n").is_err());
        assert!(parse("? [a]\n: 1\n").is_err());
        assert!(parse("a: *nowhere\n").is_err());
    }

    #[test]
    fn errors_say_where_and_what_was_being_read() {
        let e = parse("a: [1, 2\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(
            e.message
                .contains("flow sequence that starts at line 1, column 4"),
            "{e}"
        );
        let e = parse("a: 1\n\u{1}\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 1), "{e}");
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let mut block = String::new();
        for i in 0..3_000 {
            block.push_str(&" ".repeat(i));
            block.push_str("a:\n");
        }
        let e = parse(&block).unwrap_err();
        assert!(e.message.contains("nesting deeper than"), "{e}");
        let compact = format!("{}x\n", "- ".repeat(10_000));
        assert!(parse(&compact).unwrap_err().message.contains("nesting"));
        let flow = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(parse(&flow).is_err());
        // Deep indentation without deep nesting is fine.
        let scalar = format!("a: |\n{}text\n", " ".repeat(300));
        assert!(parse(&scalar).is_ok());
    }
}
