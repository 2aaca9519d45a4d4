//! drydock's YAML reader against go-yaml v3 (Debian's golang-gopkg-yaml.v3-dev, the YAML library
//! of kubectl's and Compose's Go code), on a generated corpus: what go-yaml accepts drydock
//! accepts with the same values; what it rejects drydock rejects with a YAML error, except a
//! duplicate key, which drydock (like kubectl) takes as the last value and reports.
//!
//! The corpus mixes the forms real manifests use (block and flow collections, flow collections
//! closed at the key's column, plain, quoted and block scalars, quoted scalars continued on
//! less-indented lines, anchors, aliases and merge keys, comments, several documents) with
//! scalars whose type is easy to get wrong (`yes`, `017`, `0x1F`, `1_000`, `.5`, `~`), and then
//! breaks some of it with small edits.

use std::io::Write;
use std::process::{Command, Stdio};

use drydock_lint::yaml::{parse_stream, Node, Value};
use serde_json::{json, Value as Json};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

const PLAIN: &[&str] = &[
    "web",
    "nginx:1.27",
    "8080",
    "0",
    "-1",
    "+7",
    "017",
    "08",
    "0o17",
    "0x1F",
    "0b101",
    "1_000",
    "1.5",
    ".5",
    "1e3",
    "-2.5E-3",
    "1.",
    "yes",
    "no",
    "on",
    "off",
    "y",
    "true",
    "False",
    "TRUE",
    "null",
    "Null",
    "~",
    ".inf",
    "-.Inf",
    ".nan",
    "NaN",
    "inf",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551616",
    "app.kubernetes.io/name",
    "a b c",
    "é",
    "100m",
    "256Mi",
    "a:b",
    "a#b",
    "http://x:80/y",
    "-x",
    "--flag=1",
    "*.go",
    "x*",
    "1-2",
    "0.0.0.0",
    "::1",
    "<<",
    "=",
    "C:\\dir",
    "@x",
    "`x`",
    "%x",
    "!x",
    "&x",
    "*x",
    "|x",
    ">x",
    "- x",
    "? x",
    "x ",
    " x",
    "[x]",
    "{x}",
    "\"x",
    "'x",
    "x'y",
    "a\tb",
];
const KEYS: &[&str] = &[
    "name",
    "image",
    "ports",
    "env",
    "value",
    "spec",
    "metadata",
    "labels",
    "app",
    "replicas",
    "containerPort",
    "command",
    "args",
    "1",
    "true",
    "~",
    "a b",
    "x.y/z",
    "\"quoted\"",
    "'single'",
    "<<",
    "on",
    "-k",
    "k:",
    "?",
];

#[derive(Clone)]
enum Tree {
    Scalar,
    Seq(Vec<Tree>),
    Map(Vec<(String, Tree)>),
    Alias(String),
}

struct Gen {
    rng: Rng,
    anchors: Vec<(String, bool)>,
}

impl Gen {
    fn scalar(&mut self, indent: usize) -> String {
        let r = &mut self.rng;
        let text = r.pick(PLAIN).to_string();
        match r.below(10) {
            0..=4 => text,
            5 => format!("'{}'", text.replace('\'', "''")),
            6 => format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\"")),
            7 => {
                let esc = r.pick(&[
                    "\\n", "\\t", "\\u00e9", "\\x41", "\\\"", "\\/", "\\q", "\\'", "\\e",
                ]);
                format!("\"a{esc}b\"")
            }
            // A quoted scalar continued on the next line, at any indentation.
            8 => {
                let q = r.pick(&["\"", "'"]);
                let pad = " ".repeat(r.below(indent + 3));
                format!("{q}{text}\n{pad}more {q}")
            }
            _ => {
                let head = r.pick(&["|", "|-", ">", ">+", "|2"]);
                let pad = " ".repeat(indent + 2);
                format!("{head}\n{pad}{text}\n{pad}line two\n")
            }
        }
    }

    fn tree(&mut self, depth: usize) -> Tree {
        if depth > 3 || self.rng.chance(30) {
            if !self.anchors.is_empty() && self.rng.chance(8) {
                let (a, _) = self.anchors[self.rng.below(self.anchors.len())].clone();
                return Tree::Alias(a);
            }
            return Tree::Scalar;
        }
        if self.rng.chance(40) {
            let n = self.rng.below(4);
            Tree::Seq((0..n).map(|_| self.tree(depth + 1)).collect())
        } else {
            let n = 1 + self.rng.below(4);
            let mut entries = Vec::new();
            for _ in 0..n {
                let k = self.rng.pick(KEYS).to_string();
                entries.push((k, self.tree(depth + 1)));
            }
            // Often, a duplicate key.
            if self.rng.chance(8) {
                let k = entries[0].0.clone();
                entries.push((k, self.tree(depth + 1)));
            }
            Tree::Map(entries)
        }
    }

    fn anchor(&mut self, is_map: bool) -> String {
        if self.rng.chance(12) {
            let a = format!("a{}", self.anchors.len());
            self.anchors.push((a.clone(), is_map));
            format!("&{a} ")
        } else {
            String::new()
        }
    }

    fn flow(&mut self, t: &Tree, close_indent: Option<usize>) -> String {
        match t {
            Tree::Scalar => {
                let s = self.rng.pick(PLAIN);
                if self.rng.chance(50) {
                    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
                } else {
                    s.to_string()
                }
            }
            Tree::Alias(a) => format!("*{a}"),
            Tree::Seq(items) => {
                let parts: Vec<String> = items.iter().map(|i| self.flow(i, None)).collect();
                match close_indent {
                    Some(n) => format!(
                        "[\n{}{}\n{}]",
                        " ".repeat(n + 2),
                        parts.join(", "),
                        " ".repeat(n)
                    ),
                    None => format!("[{}]", parts.join(", ")),
                }
            }
            Tree::Map(entries) => {
                let parts: Vec<String> = entries
                    .iter()
                    .map(|(k, v)| format!("{k}: {}", self.flow(v, None)))
                    .collect();
                match close_indent {
                    Some(n) => format!(
                        "{{\n{}{}\n{}}}",
                        " ".repeat(n + 2),
                        parts.join(", "),
                        " ".repeat(n)
                    ),
                    None => format!("{{{}}}", parts.join(", ")),
                }
            }
        }
    }

    /// The value after `key:` (or `- `) at `indent`: inline, or on the following lines.
    fn after_key(&mut self, t: &Tree, indent: usize, out: &mut String) {
        match t {
            Tree::Scalar => {
                let s = self.scalar(indent);
                out.push(' ');
                out.push_str(&s);
                if !s.ends_with('\n') {
                    out.push('\n');
                }
            }
            Tree::Alias(a) => out.push_str(&format!(" *{a}\n")),
            _ if self.rng.chance(25) => {
                let close = self.rng.chance(50).then_some(indent);
                let f = self.flow(t, close);
                out.push_str(&format!(" {f}\n"));
            }
            Tree::Seq(items) if items.is_empty() => out.push_str(" []\n"),
            Tree::Seq(_) | Tree::Map(_) => {
                let a = self.anchor(matches!(t, Tree::Map(_)));
                if !a.is_empty() {
                    out.push(' ');
                    out.push_str(a.trim_end());
                }
                if self.rng.chance(15) {
                    out.push_str("  # note");
                }
                out.push('\n');
                // Sequences under a key may sit at the key's own column, as kubectl writes them.
                let child = if matches!(t, Tree::Seq(_)) && self.rng.chance(50) {
                    indent
                } else {
                    indent + 2
                };
                self.block(t, child, out);
            }
        }
    }

    fn block(&mut self, t: &Tree, indent: usize, out: &mut String) {
        let pad = " ".repeat(indent);
        match t {
            Tree::Map(entries) => {
                for (k, v) in entries {
                    if self.rng.chance(5) {
                        out.push_str(&format!("{pad}# a comment\n"));
                    }
                    // A merge key takes an alias of a mapping.
                    if k == "<<" {
                        let maps: Vec<String> = self
                            .anchors
                            .iter()
                            .filter(|(_, m)| *m)
                            .map(|(a, _)| a.clone())
                            .collect();
                        if let Some(a) = maps.first() {
                            out.push_str(&format!("{pad}<<: *{a}\n"));
                            continue;
                        }
                    }
                    out.push_str(&format!("{pad}{k}:"));
                    self.after_key(v, indent, out);
                }
            }
            Tree::Seq(items) => {
                for i in items {
                    out.push_str(&format!("{pad}-"));
                    match i {
                        Tree::Map(entries) if !entries.is_empty() && self.rng.chance(60) => {
                            // `- key: value` with the rest of the mapping under it.
                            let mut inner = String::new();
                            self.block(i, indent + 2, &mut inner);
                            out.push(' ');
                            out.push_str(inner.trim_start());
                        }
                        _ => self.after_key(i, indent, out),
                    }
                }
            }
            _ => self.after_key(t, indent, out),
        }
    }

    fn stream(&mut self) -> String {
        let mut out = String::new();
        let docs = 1 + self.rng.below(3);
        for d in 0..docs {
            self.anchors.clear();
            if d > 0 || self.rng.chance(20) {
                out.push_str("---\n");
            }
            let t = match self.tree(0) {
                Tree::Scalar | Tree::Alias(_) => Tree::Map(vec![("name".into(), Tree::Scalar)]),
                t => t,
            };
            self.block(&t, 0, &mut out);
            if self.rng.chance(10) {
                out.push_str("...\n");
            }
        }
        if self.rng.chance(35) {
            out = self.mutate(out);
        }
        out
    }

    fn mutate(&mut self, text: String) -> String {
        let mut chars: Vec<char> = text.chars().collect();
        for _ in 0..1 + self.rng.below(2) {
            if chars.is_empty() {
                break;
            }
            let at = self.rng.below(chars.len());
            match self.rng.below(3) {
                0 => {
                    chars.remove(at);
                }
                1 => {
                    let c = self.rng.pick(&[
                        ":", "-", " ", "\t", "[", "]", "{", "}", "\"", "'", "&", "*", "!", "#",
                        "\n", "|", ">", "%", "@", ",", "?",
                    ]);
                    chars.insert(at, c.chars().next().unwrap());
                }
                _ => {
                    // Shift a line's indentation.
                    let start = chars[..at]
                        .iter()
                        .rposition(|c| *c == '\n')
                        .map_or(0, |p| p + 1);
                    if self.rng.chance(50) {
                        chars.insert(start, ' ');
                    } else if chars.get(start) == Some(&' ') {
                        chars.remove(start);
                    }
                }
            }
        }
        chars.into_iter().collect()
    }
}

fn typed(n: &Node) -> Json {
    match &n.value {
        Value::Null => Json::Null,
        Value::Bool(b) => json!(b),
        Value::Str(s) => json!(s),
        Value::Int(i) => json!({"i": i.to_string()}),
        Value::Float(f) if f.is_nan() => json!({"f": "nan"}),
        Value::Float(f) if f.is_infinite() => json!({"f": if *f > 0.0 { "inf" } else { "-inf" }}),
        Value::Float(f) => json!({"f": f}),
        Value::Seq(items) => Json::Array(items.iter().map(typed).collect()),
        Value::Map(entries) => {
            let mut pairs: Vec<(String, Json)> = entries
                .iter()
                .map(|(k, v)| {
                    let key = match &k.value {
                        Value::Null => String::new(),
                        Value::Float(f) => json!(f).to_string(),
                        _ => k.text().unwrap_or_default(),
                    };
                    (key, typed(v))
                })
                .collect();
            pairs.sort_by(|a, b| a.0.cmp(&b.0));
            json!({"m": pairs.into_iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>()})
        }
    }
}

/// The places where libyaml 0.2.5 (drydock's parser) and go-yaml's older port of it part, left out
/// of the comparison: go-yaml lets a tag run into `,`, `[` and `]` (`!x,`); it reads `a:` just
/// before a flow indicator as a scalar where libyaml refuses it; and its comment scanner takes a
/// tab before a comment at the start of a line, where libyaml sees a tab it cannot start a token
/// with. Kubernetes and Compose files use no tags, quote such values and indent with spaces.
fn known_divergence(text: &str) -> bool {
    let b = text.as_bytes();
    let tag_runs_into_flow = b.iter().enumerate().any(|(i, &c)| {
        c == b'!'
            && (i == 0 || matches!(b[i - 1], b' ' | b'\n' | b'\t' | b'[' | b'{' | b','))
            && b[i..]
                .iter()
                .take_while(|c| !c.is_ascii_whitespace())
                .any(|c| matches!(c, b',' | b'[' | b']'))
    });
    let colon_before_indicator = b
        .windows(2)
        .any(|w| w[0] == b':' && matches!(w[1], b',' | b'?' | b'[' | b']' | b'{' | b'}'));
    let tab_before_comment = text
        .lines()
        .any(|l| l.trim_start_matches(' ').starts_with('\t') && l.trim_start().starts_with('#'));
    tag_runs_into_flow || colon_before_indicator || tab_before_comment
}

/// Where go-yaml accepts what drydock refuses on purpose, or only because it never looks: an
/// alias to an anchor of an earlier document (go-yaml's decoder keeps anchors from one document
/// to the next; the YAML spec and kubectl, which decodes each document alone, do not), and a
/// merge key whose value is not a mapping inside a value go-yaml drops unread (a null key merged
/// into a mapping of strings).
fn refused_on_purpose(text: &str, error: &str) -> bool {
    let earlier_anchor = error
        .split("unknown anchor `")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .is_some_and(|a| text.contains(&format!("&{a}")));
    let null_key = ["~:", "?:", "null:", "Null:", "NULL:"]
        .iter()
        .any(|k| text.contains(k));
    earlier_anchor || (error.contains("map merge requires") && null_key)
}

/// Floats compared as numbers: Go writes 1000.0 as `1000`.
fn floats_as_f64(v: &mut Json) {
    match v {
        Json::Object(o) => {
            if let Some(Json::Number(n)) = o.get("f") {
                let f = n.as_f64().unwrap();
                o.insert("f".into(), json!(f));
            }
            o.values_mut().for_each(floats_as_f64);
        }
        Json::Array(a) => a.iter_mut().for_each(floats_as_f64),
        _ => {}
    }
}

fn oracle(streams: &[String]) -> Vec<Json> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/yaml_oracle");
    let bin = tempfile::tempdir().unwrap();
    let exe = bin.path().join("yaml-oracle");
    let mut build = Command::new("go");
    build
        .args(["build", "-o"])
        .arg(&exe)
        .arg(".")
        .current_dir(&dir)
        .env("GO111MODULE", "off")
        .env("CGO_ENABLED", "0");
    if std::env::var_os("GOPATH").is_none() {
        build.env("GOPATH", "/usr/share/gocode");
    }
    // Go and go-yaml v3 come from Debian (./scripts/setup); not skipped when missing.
    let out = build
        .output()
        .expect("`go` is not installed: run ./scripts/setup (and source scripts/env.sh) first");
    assert!(
        out.status.success(),
        "building the go-yaml oracle failed (is golang-gopkg-yaml.v3-dev installed?): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut child = Command::new(&exe)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let input = serde_json::to_vec(streams).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn generated_documents_read_as_go_yaml_reads_them() {
    let mut g = Gen {
        rng: Rng(0x7777_0bad_cafe_0004),
        anchors: Vec::new(),
    };
    let mut streams: Vec<String> = (0..10000).map(|_| g.stream()).collect();
    // The forms seen rejected on real files, and a few edge cases, always in.
    streams.extend(
        [
            "spec:\n  args: [\n    a, b\n]\n",
            "a:\n  b: \"abc\n  def\"\n",
            "a: 'x\ny'\n",
            "x: &base {p: 1, q: 2}\ny:\n  <<: *base\n  q: 3\n",
            "x: &a {p: 1}\nz: &b {p: 2, r: 3}\ny:\n  <<: [*a, *b]\n",
            "a: 1\na: 2\n",
            "",
            "---\n",
            "# only a comment\n",
            "? [a]\n: 1\n",
            "a: *nothing\n",
            "a: &x [*x]\n",
            "<<: 1\n",
            "a: !!int \"12\"\nb: !!str 12\nc: !!float 1\nd: !custom x\n",
            "a: !!int x\n",
            "\ta: 1\n",
            "a: \"\\q\"\n",
            "a: \"it\\'s \\e and \\'\"\nb: x\n",
            "a: \"x\\/y\"\n",
            "a: \"it\\'s\"\nb: [\"\\'\", 'x''y']\n",
            "a: 0o-1\nb: -0b11\nc: 0B1\nd: 0O7\n",
            "args: [--url=http://x/?a=1]\n",
            "args: [\"--url=http://x/?a=1\"]\n",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    let want = oracle(&streams);
    let (mut accepted, mut rejected, mut duplicates, mut skipped) = (0, 0, 0, 0);
    let mut mismatches = Vec::new();
    for (text, go) in streams.iter().zip(&want) {
        if known_divergence(text) {
            skipped += 1;
            continue;
        }
        let Ok(ours) = std::panic::catch_unwind(|| parse_stream(text)) else {
            mismatches.push(format!("PANIC on {text:?}"));
            continue;
        };
        match (
            go.get("docs"),
            go.get("error").and_then(Json::as_str),
            &ours,
        ) {
            (Some(docs), _, Ok(p)) => {
                accepted += 1;
                let mut got = Json::Array(p.docs.iter().map(typed).collect());
                let mut docs = docs.clone();
                floats_as_f64(&mut got);
                floats_as_f64(&mut docs);
                if got != docs {
                    mismatches.push(format!(
                        "values differ\n{text}\n--- go-yaml: {docs}\n--- drydock: {got}"
                    ));
                }
            }
            (Some(_), _, Err(e)) if refused_on_purpose(text, &e.message) => skipped += 1,
            (Some(_), _, Err(e)) => {
                mismatches.push(format!("go-yaml accepts, drydock rejects ({e}):\n{text}"))
            }
            (None, Some(err), Ok(p)) if err.contains("already defined") => {
                duplicates += 1;
                if p.duplicates.is_empty() {
                    mismatches.push(format!(
                        "go-yaml finds a duplicate key, drydock reports none:\n{text}"
                    ));
                }
            }
            // A duplicate in one document stops go-yaml before it parses the next.
            (None, Some(err), Err(_)) if err.contains("already defined") => duplicates += 1,
            (None, Some(_), Err(e)) => {
                rejected += 1;
                assert!(e.line >= 1 && e.column >= 1, "{e}");
            }
            (None, Some(err), Ok(_)) => {
                mismatches.push(format!("go-yaml rejects ({err}), drydock accepts:\n{text}"))
            }
            _ => panic!("bad oracle answer {go}"),
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} streams differ; the first ones:\n\n{}",
        mismatches.len(),
        streams.len(),
        mismatches
            .iter()
            .take(8)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n\n")
    );
    // The corpus exercises all three outcomes in quantity.
    assert!(
        accepted > 1000 && rejected > 500 && duplicates > 100 && skipped * 20 < streams.len(),
        "accepted {accepted}, rejected {rejected}, duplicates {duplicates}, skipped {skipped}"
    );
}
