//! The layering README's "## Layout" describes, checked on the source: within each crate, a
//! module imports only from its own layer and the layers below it, and no modules import each
//! other in a circle (at the level of a crate's top-level modules, `src/foo.rs` or `src/foo/`,
//! and among the files of one top-level module).
//!
//! The order of the layers is written once, in [`LAYERS`] below, and README's Layout section
//! follows it. A module of the source that [`LAYERS`] does not place fails the test too, so a
//! new module is given its layer when it is made.
//!
//! An import is any path that names a module of the same crate: `use crate::…`, `super::…`,
//! `self::…`, a child module's name, a name a `use` bound to a module, and, in the binary,
//! the library's own name (`drydock::…`). Comments, string literals and unit tests
//! (`#[cfg(test)]` items) are left out: a module's tests may use what is above it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The layers of each crate, from the top (what may import from every line below it) to the
/// bottom (what imports from no other module of its crate). Modules on one line may import
/// from each other, but not in a circle. A crate not named here has no layering of its own to
/// check (but its circles are still reported).
const LAYERS: &str = "
[drydock-dockerignore]
context
matcher

[drydock-dockerfile]
stages
expand shell
parser
keyword

[drydock-oci]
location
archive engine layout pull push
publish source
attach index registry
image
store
digest fsutil platform reference

[drydock-lint]
output
engine
runner
options
catalog
rules
rule
compose kustomize view
contexts read
discover policy suppress yaml
diagnostic error

[drydock]
cli
bench
error
images
build deploy init run watch
attest
provenance
sbom
publish
compile
project
image
detect
config
base
cache
forward interrupt pgroup platforms sign source ui

[drydock-helper]
cgroup probe rt
sys
";

// ---------------------------------------------------------------------------------------------
// Reading the source: a token stream without comments and literals.

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    /// `::`
    Path,
    Punct(char),
}

/// The tokens of Rust source that matter for paths, each with its line; comments, strings,
/// chars and numbers are dropped (a lifetime's quote too, its name kept as an identifier).
fn lex(src: &str) -> Vec<(Tok, usize)> {
    let b: Vec<char> = src.chars().collect();
    let (mut i, mut line, mut out) = (0, 1, Vec::new());
    let count = |s: &[char]| s.iter().filter(|c| **c == '\n').count();
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '/' && next == Some('/') {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let (start, mut depth) = (i, 0);
            while i < b.len() {
                if b[i] == '/' && b.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == '*' && b.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            line += count(&b[start..i.min(b.len())]);
        } else if let Some(end) = raw_string_end(&b, i) {
            line += count(&b[i..end]);
            i = end;
        } else if c == '"' || (c == 'b' && next == Some('"')) {
            let start = i;
            i += if c == 'b' { 2 } else { 1 };
            while i < b.len() && b[i] != '"' {
                i += if b[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            line += count(&b[start..i.min(b.len())]);
        } else if c == '\'' || (c == 'b' && next == Some('\'')) {
            // A char literal ('x', '\n', '\u{..}', b'x'), else a lifetime's quote.
            let q = if c == 'b' { i + 1 } else { i };
            if b.get(q + 1) == Some(&'\\') {
                // The escaped character, then up to the closing quote ('\u{…}').
                i = q + 3;
                while i < b.len() && b[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if b.get(q + 2) == Some(&'\'') {
                i = q + 3;
            } else if c == 'b' {
                out.push((Tok::Ident("b".into()), line));
                i += 1;
            } else {
                i += 1;
            }
        } else if c.is_alphabetic() || c == '_' {
            // A raw identifier, r#type: the name without its prefix.
            if c == 'r' && next == Some('#') && b.get(i + 2).is_some_and(|c| c.is_alphabetic()) {
                i += 2;
            }
            let from = i;
            while i < b.len() && (b[i].is_alphanumeric() || b[i] == '_') {
                i += 1;
            }
            out.push((Tok::Ident(b[from..i].iter().collect()), line));
        } else if c.is_ascii_digit() {
            while i < b.len() && (b[i].is_alphanumeric() || b[i] == '_' || b[i] == '.') {
                // A range (0..n) or a method call on a literal (1.max(x)) ends the number.
                if b[i] == '.' && !b.get(i + 1).is_some_and(|c| c.is_ascii_digit()) {
                    break;
                }
                i += 1;
            }
        } else if c == ':' && next == Some(':') {
            out.push((Tok::Path, line));
            i += 2;
        } else {
            out.push((Tok::Punct(c), line));
            i += 1;
        }
    }
    out
}

/// Where a raw string (r"…", r#"…"#, br"…") starting at `i` ends, if one does.
fn raw_string_end(b: &[char], i: usize) -> Option<usize> {
    let mut j = i;
    if b.get(j) == Some(&'b') {
        j += 1;
    }
    if b.get(j) != Some(&'r') {
        return None;
    }
    // Not the end of an identifier (`for"` cannot occur, but `bar#` can in no valid source).
    if i > 0 && (b[i - 1].is_alphanumeric() || b[i - 1] == '_') {
        return None;
    }
    j += 1;
    let mut hashes = 0;
    while b.get(j) == Some(&'#') {
        hashes += 1;
        j += 1;
    }
    if b.get(j) != Some(&'"') {
        return None;
    }
    j += 1;
    while j < b.len() {
        if b[j] == '"' && (0..hashes).all(|k| b.get(j + 1 + k) == Some(&'#')) {
            return Some(j + 1 + hashes);
        }
        j += 1;
    }
    Some(b.len())
}

// ---------------------------------------------------------------------------------------------
// The module graph of one crate.

/// A module's path from its crate's root (empty for the root).
type ModPath = Vec<String>;

/// One import: a module naming another, where.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Edge {
    from: ModPath,
    to: ModPath,
    /// The file (under src/) and line of its first occurrence.
    file: String,
    line: usize,
}

impl Edge {
    fn at(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }
}

/// The modules of a crate (one per file) and the imports among them.
#[derive(Debug, Default)]
struct Graph {
    modules: BTreeSet<ModPath>,
    edges: Vec<Edge>,
}

/// A file's module path: src/lib.rs and src/main.rs are the root, src/a/mod.rs and src/a.rs
/// are `a`, src/a/b.rs is `a::b`.
fn module_of(rel: &str) -> ModPath {
    let rel = rel.strip_suffix(".rs").unwrap_or(rel);
    let mut parts: Vec<String> = rel.split('/').map(String::from).collect();
    if parts.last().is_some_and(|l| l == "mod") {
        parts.pop();
    }
    if parts.len() == 1 && (parts[0] == "lib" || parts[0] == "main") {
        parts.clear();
    }
    parts
}

/// The graph of a crate from its source files (`(path under src/, text)`); `own` is the name
/// the crate's binary calls its library by (`drydock`), whose paths are the crate's own.
fn graph(files: &[(String, String)], own: &str) -> Graph {
    let mut g = Graph::default();
    for (rel, _) in files {
        g.modules.insert(module_of(rel));
    }
    // The root's re-exports (`pub use digest::Digest;`): `crate::Digest` is `crate::digest`.
    let mut root_names: BTreeMap<String, ModPath> = BTreeMap::new();
    for (rel, text) in files {
        if module_of(rel).is_empty() {
            let toks = lex(text);
            for u in uses(&toks) {
                if let Some(p) = resolve_start(&u.path, &[], &g.modules, &BTreeMap::new(), own) {
                    root_names.insert(u.bound.clone(), p);
                }
            }
        }
    }
    for (rel, text) in files {
        scan_file(rel, text, own, &root_names, &mut g);
    }
    g.edges.sort();
    g.edges.dedup_by(|a, b| a.from == b.from && a.to == b.to);
    g
}

/// One leaf of a `use` tree: its full path as written, and the name it binds.
#[derive(Debug)]
struct UseLeaf {
    path: Vec<String>,
    bound: String,
    line: usize,
}

/// Every `use` declaration's leaves in a token stream (the whole file's; scoping of inline
/// modules is done by the caller, which calls [`use_tree`] itself).
fn uses(toks: &[(Tok, usize)]) -> Vec<UseLeaf> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        if toks[i].0 == Tok::Ident("use".into()) {
            i = use_tree(toks, i + 1, &mut Vec::new(), &mut out);
        } else {
            i += 1;
        }
    }
    out
}

/// Parses a use tree at `i` under `prefix`, adding its leaves; returns the index after it.
fn use_tree(
    toks: &[(Tok, usize)],
    mut i: usize,
    prefix: &mut Vec<String>,
    out: &mut Vec<UseLeaf>,
) -> usize {
    let depth = prefix.len();
    if toks.get(i).map(|t| &t.0) == Some(&Tok::Path) {
        // `use ::std::…`: an external crate.
        prefix.push("::".into());
        i += 1;
    }
    loop {
        match toks.get(i).map(|t| t.0.clone()) {
            Some(Tok::Ident(name)) => {
                let line = toks[i].1;
                i += 1;
                if toks.get(i).map(|t| &t.0) == Some(&Tok::Path) {
                    prefix.push(name);
                    i += 1;
                    continue;
                }
                let mut bound = name.clone();
                let mut path = prefix.clone();
                if name == "self" {
                    bound = prefix.last().cloned().unwrap_or_default();
                } else {
                    path.push(name);
                }
                if toks.get(i).map(|t| &t.0) == Some(&Tok::Ident("as".into())) {
                    if let Some((Tok::Ident(alias), _)) = toks.get(i + 1) {
                        bound = alias.clone();
                    }
                    i += 2;
                }
                out.push(UseLeaf { path, bound, line });
                break;
            }
            Some(Tok::Punct('*')) => {
                out.push(UseLeaf {
                    path: prefix.clone(),
                    bound: "*".into(),
                    line: toks[i].1,
                });
                i += 1;
                break;
            }
            Some(Tok::Punct('{')) => {
                i += 1;
                loop {
                    match toks.get(i).map(|t| &t.0) {
                        Some(Tok::Punct('}')) => {
                            i += 1;
                            break;
                        }
                        Some(Tok::Punct(',')) => i += 1,
                        None => break,
                        _ => i = use_tree(toks, i, prefix, out),
                    }
                }
                break;
            }
            _ => break,
        }
    }
    prefix.truncate(depth);
    i
}

/// Resolves a path's first segments to a path from the crate's root, when it names something of
/// this crate: `crate`, `super`, `self`, the library's own name, a child of `here` (a module in
/// `modules`), or a name bound in `scope`. `None` for anything else (std, other crates, locals).
fn resolve_start(
    path: &[String],
    here: &[String],
    modules: &BTreeSet<ModPath>,
    scope: &BTreeMap<String, ModPath>,
    own: &str,
) -> Option<ModPath> {
    let first = path.first()?;
    let mut base: ModPath;
    let mut rest = &path[1..];
    match first.as_str() {
        "crate" => base = Vec::new(),
        "self" => base = here.to_vec(),
        "super" => {
            base = here.to_vec();
            base.pop()?;
            while rest.first().is_some_and(|s| s == "super") {
                base.pop()?;
                rest = &rest[1..];
            }
        }
        "::" => return None,
        _ if first == own => base = Vec::new(),
        _ => {
            let mut child = here.to_vec();
            child.push(first.clone());
            if modules.contains(&child) {
                base = child;
            } else if let Some(p) = scope.get(first) {
                base = p.clone();
            } else {
                return None;
            }
        }
    }
    base.extend(rest.iter().cloned());
    Some(base)
}

/// The module a path from the root lands in: its longest prefix that is a module, or, for a
/// name the root re-exports, that name's module. `None` for the root itself.
fn landing(
    path: &[String],
    modules: &BTreeSet<ModPath>,
    root_names: &BTreeMap<String, ModPath>,
) -> Option<ModPath> {
    let n = (0..=path.len())
        .rev()
        .find(|n| modules.contains(&path[..*n].to_vec()))
        .unwrap_or(0);
    if n > 0 {
        return Some(path[..n].to_vec());
    }
    let via = root_names.get(path.first()?)?;
    let mut p = via.clone();
    p.extend(path[1..].iter().cloned());
    let n = (1..=p.len())
        .rev()
        .find(|n| modules.contains(&p[..*n].to_vec()))?;
    Some(p[..n].to_vec())
}

/// A module scope while scanning a file: its path, the brace depth it closes at, and the
/// names its `use`s bound.
struct Scope {
    path: ModPath,
    closes_at: usize,
    names: BTreeMap<String, ModPath>,
}

fn scan_file(
    rel: &str,
    text: &str,
    own: &str,
    root_names: &BTreeMap<String, ModPath>,
    g: &mut Graph,
) {
    let file_mod = module_of(rel);
    let toks = lex(text);
    // Inline modules (`mod tests { … }`) are scopes of their own for `super`, `self` and
    // `use`; their imports count for the file's module.
    let mut inline: BTreeSet<ModPath> = g.modules.clone();
    // The names `use` binds hold for a whole scope, also above the `use`: a first pass.
    let mut scopes = vec![Scope {
        path: file_mod.clone(),
        closes_at: 0,
        names: BTreeMap::new(),
    }];
    let mut all_names: BTreeMap<ModPath, BTreeMap<String, ModPath>> = BTreeMap::new();
    for pass in 0..2 {
        scopes.truncate(1);
        scopes[0].names = all_names.get(&file_mod).cloned().unwrap_or_default();
        let mut depth = 0;
        let mut i = 0;
        while i < toks.len() {
            let here = scopes.last().unwrap().path.clone();
            if let Some(end) = test_only_item(&toks, i) {
                i = end;
                continue;
            }
            match &toks[i].0 {
                Tok::Punct('{') => depth += 1,
                Tok::Punct('}') => {
                    depth -= 1;
                    if scopes.len() > 1 && scopes.last().unwrap().closes_at == depth {
                        scopes.pop();
                    }
                }
                Tok::Ident(k) if k == "mod" => {
                    if let (Some((Tok::Ident(name), _)), Some((Tok::Punct('{'), _))) =
                        (toks.get(i + 1), toks.get(i + 2))
                    {
                        let mut p = here.clone();
                        p.push(name.clone());
                        inline.insert(p.clone());
                        scopes.push(Scope {
                            names: all_names.get(&p).cloned().unwrap_or_default(),
                            path: p,
                            closes_at: depth,
                        });
                        depth += 1;
                        i += 3;
                        continue;
                    }
                }
                Tok::Ident(k) if k == "use" => {
                    let mut leaves = Vec::new();
                    let next = use_tree(&toks, i + 1, &mut Vec::new(), &mut leaves);
                    for leaf in leaves {
                        let scope = &scopes.last().unwrap().names;
                        let Some(p) = resolve_start(&leaf.path, &here, &inline, scope, own) else {
                            continue;
                        };
                        if pass == 0 {
                            if leaf.bound != "*" {
                                all_names
                                    .entry(here.clone())
                                    .or_default()
                                    .insert(leaf.bound.clone(), p);
                            }
                        } else {
                            edge(g, &file_mod, &p, rel, leaf.line, root_names);
                        }
                    }
                    i = next;
                    continue;
                }
                Tok::Ident(first) if pass == 1 => {
                    // A path in code: the start of `a::b…` (not the middle of one).
                    let after_path = i > 0 && toks[i - 1].0 == Tok::Path;
                    if !after_path && toks.get(i + 1).map(|t| &t.0) == Some(&Tok::Path) {
                        let mut path = vec![first.clone()];
                        let mut j = i + 1;
                        while toks.get(j).map(|t| &t.0) == Some(&Tok::Path) {
                            match toks.get(j + 1) {
                                Some((Tok::Ident(s), _)) => path.push(s.clone()),
                                _ => break,
                            }
                            j += 2;
                        }
                        let scope = &scopes.last().unwrap().names;
                        if let Some(p) = resolve_start(&path, &here, &inline, scope, own) {
                            edge(g, &file_mod, &p, rel, toks[i].1, root_names);
                        }
                        i = j;
                        continue;
                    }
                }
                _ => {}
            }
            i += 1;
        }
    }
}

/// Where the item after a `#[cfg(test)]` at `i` ends (after its `;` or its closing brace),
/// when there is one at `i`: the unit tests' imports are not the module's.
fn test_only_item(toks: &[(Tok, usize)], i: usize) -> Option<usize> {
    let attr = [
        Tok::Punct('#'),
        Tok::Punct('['),
        Tok::Ident("cfg".into()),
        Tok::Punct('('),
        Tok::Ident("test".into()),
        Tok::Punct(')'),
        Tok::Punct(']'),
    ];
    if toks.len() < i + attr.len() || toks[i..i + attr.len()].iter().map(|t| &t.0).ne(attr.iter()) {
        return None;
    }
    let mut j = i + attr.len();
    let mut depth = 0;
    while j < toks.len() {
        match toks[j].0 {
            Tok::Punct(';') if depth == 0 => return Some(j + 1),
            Tok::Punct('{') => depth += 1,
            Tok::Punct('}') => {
                depth -= 1;
                if depth == 0 {
                    return Some(j + 1);
                }
            }
            _ => {}
        }
        j += 1;
    }
    Some(j)
}

fn edge(
    g: &mut Graph,
    from: &ModPath,
    to: &[String],
    rel: &str,
    line: usize,
    root_names: &BTreeMap<String, ModPath>,
) {
    if let Some(to) = landing(to, &g.modules, root_names) {
        if &to != from {
            g.edges.push(Edge {
                from: from.clone(),
                to,
                file: rel.to_string(),
                line,
            });
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Judging a graph.

fn show(p: &[String]) -> String {
    if p.is_empty() {
        "(root)".into()
    } else {
        p.join("::")
    }
}

/// The circles among `nodes` under `edges` (each a strongly connected set of two or more),
/// as their members in order.
fn circles(
    nodes: &BTreeSet<String>,
    edges: &BTreeMap<(String, String), String>,
) -> Vec<Vec<String>> {
    // Two nodes are in one circle when each reaches the other.
    let reach = |from: &String| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.clone()];
        while let Some(n) = todo.pop() {
            for ((a, b), _) in edges.range((n.clone(), String::new())..) {
                if a != &n {
                    break;
                }
                if seen.insert(b.clone()) {
                    todo.push(b.clone());
                }
            }
        }
        seen
    };
    let reaches: BTreeMap<&String, BTreeSet<String>> =
        nodes.iter().map(|n| (n, reach(n))).collect();
    let mut done = BTreeSet::new();
    let mut out = Vec::new();
    for n in nodes {
        if done.contains(n) || !reaches[n].contains(n) {
            continue;
        }
        let set: Vec<String> = nodes
            .iter()
            .filter(|m| reaches[n].contains(*m) && reaches[*m].contains(n))
            .cloned()
            .collect();
        done.extend(set.iter().cloned());
        if set.len() > 1 {
            out.push(set);
        }
    }
    out
}

/// Says a circle: its members, then the shortest way round through each import among them
/// (each import with where it is, `a → b [file:line]`), so that every import in a circle is
/// named.
fn circle_report(what: &str, set: &[String], edges: &BTreeMap<(String, String), String>) -> String {
    let inside = |a: &String, b: &String| set.contains(a) && set.contains(b);
    // The shortest path from `from` to `to` inside the set (breadth first).
    let path = |from: &String, to: &String| -> Vec<String> {
        let mut prev: BTreeMap<String, String> = BTreeMap::new();
        let mut todo = std::collections::VecDeque::from([from.clone()]);
        while let Some(n) = todo.pop_front() {
            if &n == to {
                let mut p = vec![n.clone()];
                while let Some(q) = prev.get(p.last().unwrap()) {
                    p.push(q.clone());
                }
                p.reverse();
                return p;
            }
            for (a, b) in edges.keys() {
                if a == &n && inside(a, b) && b != from && !prev.contains_key(b) {
                    prev.insert(b.clone(), a.clone());
                    todo.push_back(b.clone());
                }
            }
        }
        Vec::new()
    };
    let mut ways: BTreeSet<(usize, Vec<String>)> = BTreeSet::new();
    for (a, b) in edges.keys().filter(|(a, b)| inside(a, b)) {
        // a → b, then back from b to a: one way round, written from its smallest member.
        let mut way = path(b, a);
        if way.is_empty() {
            continue;
        }
        way.insert(0, a.clone());
        way.pop();
        let first = (0..way.len()).min_by_key(|i| &way[*i]).unwrap();
        way.rotate_left(first);
        ways.insert((way.len(), way));
    }
    let mut s = format!("{what}: a circle among {}:", set.join(", "));
    for (_, way) in ways {
        let mut line = way[0].clone();
        for (i, a) in way.iter().enumerate() {
            let b = &way[(i + 1) % way.len()];
            line.push_str(&format!(" → {b} [{}]", edges[&(a.clone(), b.clone())]));
        }
        s.push_str(&format!("\n      {line}"));
    }
    s
}

/// The layers of each crate, top first: crate name → lines of module names.
fn parse_layers(spec: &str) -> BTreeMap<String, Vec<Vec<String>>> {
    let mut out: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
    let mut current = None;
    for line in spec.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = Some(name.to_string());
            out.entry(name.to_string()).or_default();
        } else {
            let c = current.as_ref().expect("a [crate] line before the layers");
            out.get_mut(c)
                .unwrap()
                .push(line.split_whitespace().map(String::from).collect());
        }
    }
    out
}

/// Every violation in one crate's graph: imports from a layer above, modules the layers do not
/// place (or place but do not exist), and circles among the top-level modules and among the
/// files of one top-level module.
fn violations(krate: &str, g: &Graph, layers: Option<&Vec<Vec<String>>>) -> Vec<String> {
    let mut out = Vec::new();
    let top: BTreeSet<String> = g
        .modules
        .iter()
        .filter_map(|m| m.first().cloned())
        .collect();
    // The first import of each pair of top-level modules, with where it is.
    let mut top_edges: BTreeMap<(String, String), String> = BTreeMap::new();
    for e in &g.edges {
        if let (Some(a), Some(b)) = (e.from.first(), e.to.first()) {
            if a != b {
                top_edges
                    .entry((a.clone(), b.clone()))
                    .or_insert_with(|| e.at());
            }
        }
    }
    if let Some(layers) = layers {
        let level: BTreeMap<&String, usize> = layers
            .iter()
            .enumerate()
            .flat_map(|(i, l)| l.iter().map(move |m| (m, i)))
            .collect();
        for m in &top {
            if !level.contains_key(m) {
                out.push(format!("{krate}: module {m} is in no layer (place it in LAYERS, and in README's Layout)"));
            }
        }
        for m in level.keys() {
            if !top.contains(*m) {
                out.push(format!(
                    "{krate}: LAYERS names {m}, which is no module of the crate"
                ));
            }
        }
        // Each import from above, grouped by the pair of top-level modules.
        let mut above: BTreeMap<(&String, &String), Vec<&Edge>> = BTreeMap::new();
        for e in &g.edges {
            let (Some(a), Some(b)) = (e.from.first(), e.to.first()) else {
                continue;
            };
            // Top first: a smaller index is a higher layer.
            if let (Some(la), Some(lb)) = (level.get(a), level.get(b)) {
                if lb < la {
                    above.entry((a, b)).or_default().push(e);
                }
            }
        }
        for ((a, b), list) in above {
            let mut s = format!(
                "{krate}: {a} imports from {b}, a layer above it (`{}` is above `{}`):",
                layers[level[b]].join(" "),
                layers[level[a]].join(" ")
            );
            for e in list {
                s.push_str(&format!(
                    "\n      {} ({} → {})",
                    e.at(),
                    show(&e.from),
                    show(&e.to)
                ));
            }
            out.push(s);
        }
    }
    for set in circles(&top, &top_edges) {
        out.push(circle_report(krate, &set, &top_edges));
    }
    // Inside each top-level module: circles among its files (not counting the top-level
    // module's own file, src/foo/mod.rs, which its submodules may use and which declares them).
    for t in &top {
        let mut inner_edges: BTreeMap<(String, String), String> = BTreeMap::new();
        let mut nodes = BTreeSet::new();
        for m in g.modules.iter().filter(|m| m.len() > 1 && &m[0] == t) {
            nodes.insert(show(m));
        }
        for e in &g.edges {
            if e.from.len() > 1 && e.to.len() > 1 && &e.from[0] == t && &e.to[0] == t {
                inner_edges
                    .entry((show(&e.from), show(&e.to)))
                    .or_insert_with(|| e.at());
            }
        }
        for set in circles(&nodes, &inner_edges) {
            out.push(circle_report(krate, &set, &inner_edges));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The real tree.

fn read_tree(src: &Path) -> Vec<(String, String)> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<(String, String)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let p = e.path();
            if p.is_dir() {
                walk(&p, base, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p
                    .strip_prefix(base)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((rel, std::fs::read_to_string(&p).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(src, src, &mut out);
    out
}

/// Every crate of the workspace: its name and its source files.
fn workspace() -> Vec<(String, Vec<(String, String)>)> {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut out = Vec::new();
    let mut dirs: Vec<_> = std::fs::read_dir(&crates)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    dirs.sort();
    for d in dirs {
        if d.join("Cargo.toml").is_file() && d.join("src").is_dir() {
            let name = d.file_name().unwrap().to_string_lossy().into_owned();
            out.push((name, read_tree(&d.join("src"))));
        }
    }
    out
}

fn all_violations() -> Vec<String> {
    let layers = parse_layers(LAYERS);
    let mut out = Vec::new();
    let ws = workspace();
    for name in layers.keys() {
        if !ws.iter().any(|(n, _)| n == name) {
            out.push(format!(
                "LAYERS names the crate {name}, which is not in crates/"
            ));
        }
    }
    for (name, files) in &ws {
        let g = graph(files, &name.replace('-', "_"));
        out.extend(violations(name, &g, layers.get(name)));
    }
    out
}

#[test]
fn the_source_keeps_the_layers_of_readme_and_has_no_circles() {
    let v = all_violations();
    assert!(
        v.is_empty(),
        "{} layering violations:\n  {}",
        v.len(),
        v.join("\n  ")
    );
}

/// Not a check but a tool for people moving modules: prints every import edge between top-level
/// modules (with LAYERING_EDGES set) and what the check above finds, never failing:
/// `LAYERING_EDGES=1 cargo test --test layering -- --ignored --nocapture layering_report`.
#[test]
#[ignore = "a report to read, not a check: run it with --ignored --nocapture"]
fn layering_report() {
    if std::env::var_os("LAYERING_EDGES").is_some() {
        for (name, files) in workspace() {
            let g = graph(&files, &name.replace('-', "_"));
            let mut top = BTreeMap::new();
            for e in &g.edges {
                if let (Some(a), Some(b)) = (e.from.first(), e.to.first()) {
                    if a != b {
                        top.entry((a.clone(), b.clone())).or_insert_with(|| e.at());
                    }
                }
            }
            for ((a, b), at) in top {
                println!("EDGE {name}: {a} -> {b} ({at})");
            }
        }
    }
    for v in all_violations() {
        println!("{v}");
    }
}

// ---------------------------------------------------------------------------------------------
// The checker's own tests, on synthetic trees.

fn files(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(p, t)| (p.to_string(), t.to_string()))
        .collect()
}

fn edges_of(g: &Graph) -> Vec<String> {
    g.edges
        .iter()
        .map(|e| format!("{} → {}", show(&e.from), show(&e.to)))
        .collect()
}

#[test]
fn a_circle_of_two_modules_is_reported_with_both_imports() {
    let g = graph(
        &files(&[
            ("lib.rs", "pub mod a;\npub mod b;\n"),
            ("a.rs", "use crate::b::B;\npub struct A;\n"),
            ("b/mod.rs", "// crate::a in a comment is no import\npub struct B;\nfn f() -> crate::a::A { crate::a::A }\n"),
        ]),
        "x",
    );
    let v = violations("x", &g, None);
    assert_eq!(v.len(), 1, "{v:?}");
    assert!(v[0].contains("a circle among a, b"), "{v:?}");
    assert!(
        v[0].ends_with("\n      a → b [a.rs:1] → a [b/mod.rs:3]"),
        "{v:?}"
    );
}

#[test]
fn a_circle_through_three_modules_and_one_inside_a_module_are_reported() {
    let g = graph(
        &files(&[
            ("lib.rs", "mod a; mod b; mod c; mod d;"),
            ("a.rs", "use super::b;"),
            ("b.rs", "pub fn f() { crate::c::g() }"),
            ("c.rs", "use crate::{d::D, a::{self}};"),
            ("d/mod.rs", "pub struct D; mod e; mod f;"),
            ("d/e.rs", "use super::f::F; use super::D;"),
            ("d/f.rs", "pub struct F; fn g() { super::e::h() }"),
        ]),
        "x",
    );
    let v = violations("x", &g, None);
    assert_eq!(v.len(), 2, "{v:?}");
    assert_eq!(
        v[0],
        "x: a circle among a, b, c:\n      a → b [a.rs:1] → c [b.rs:1] → a [c.rs:1]",
    );
    assert!(v[1].starts_with("x: a circle among d::e, d::f:"), "{v:?}");
    // d::e using its parent's D is no circle with d (the parent declares its files).
    assert!(!v[1].contains("d → "), "{v:?}");
}

#[test]
fn an_import_from_a_layer_above_is_reported_and_one_from_below_is_not() {
    let g = graph(
        &files(&[
            ("main.rs", "mod cli; mod low;"),
            ("cli.rs", "use crate::low::L;"),
            (
                "low.rs",
                "pub struct L; fn f() { let _ = crate::cli::run; }",
            ),
        ]),
        "x",
    );
    let layers = parse_layers("[x]\ncli\nlow\n");
    let v = violations("x", &g, layers.get("x"));
    assert!(
        v.iter().any(|l| l
            == "x: low imports from cli, a layer above it (`cli` is above `low`):\n      low.rs:1 (low → cli)"),
        "{v:?}"
    );
    assert!(!v.iter().any(|l| l.starts_with("x: cli imports")), "{v:?}");
    assert!(
        v.iter()
            .any(|l| l.starts_with("x: a circle among cli, low:")),
        "{v:?}"
    );
    // And a module without a layer, and a layer naming no module.
    let layers = parse_layers("[x]\ncli\ngone\n");
    let v = violations("x", &g, layers.get("x"));
    assert!(
        v.iter().any(|l| l.contains("module low is in no layer")),
        "{v:?}"
    );
    assert!(v.iter().any(|l| l.contains("LAYERS names gone")), "{v:?}");
}

#[test]
fn paths_are_resolved_as_rust_does_and_literals_are_not_read() {
    let g = graph(
        &files(&[
            (
                "lib.rs",
                "pub mod a; pub mod b; pub mod c; pub mod d; pub mod e;\npub use e::E;\n",
            ),
            (
                "a/mod.rs",
                r###"//! See [`crate::b`].
mod inner;
use crate::c as sea;
const S: &str = "crate::d::X";
const R: &str = r#"crate::d::"Y"#;
const C: char = '"';
const Q: (char, char, &str, u8) = ('\'','"', "\"crate::d\"", b'"');
fn q() -> impl Sized { ('\'','"', crate::b::B) }
fn r#type() -> u32 { 0x1F_u32.max(1..2).len() as u32 }
fn f<'a>(x: &'a str) -> sea::C { inner::g(); crate::E }
#[cfg(test)]
mod tests {
    use super::*;
    use self::helper::h;
    use crate::d::OnlyInTests;
    mod helper { pub fn h() {} }
}
"###,
            ),
            (
                "a/inner.rs",
                "pub fn g() {}\n/* crate::b /* nested */ crate::b */",
            ),
            ("b.rs", "pub struct B;"),
            ("c.rs", "pub struct C;"),
            ("d.rs", ""),
            ("e.rs", "pub struct E;"),
        ]),
        "x",
    );
    let found: Vec<String> = edges_of(&g)
        .into_iter()
        .filter(|e| !e.starts_with("(root)"))
        .collect();
    assert_eq!(found, ["a → a::inner", "a → b", "a → c", "a → e"]);
}

#[test]
fn the_binary_names_its_library_by_its_own_name() {
    let g = graph(
        &files(&[
            ("lib.rs", "pub mod core;"),
            ("main.rs", "mod cli;"),
            ("core.rs", ""),
            ("cli/mod.rs", "mod run;"),
            (
                "cli/run.rs",
                "use my_tool::core; use std::io; fn f() { super::super::cli::x(); }",
            ),
        ]),
        "my_tool",
    );
    assert_eq!(edges_of(&g), ["cli::run → cli", "cli::run → core"]);
}
