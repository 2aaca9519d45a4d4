//! `drydock lint`: checks files against the practices. The engine runs the rules of the
//! catalog on each file, applies the configuration and the suppressions, and hands the
//! diagnostics to an output format. Rules never read the filesystem: they see a parsed file.
//!
//! So far it checks Dockerfiles; .dockerignore, Compose and Kubernetes rules come next.

pub mod catalog;
pub mod compose;
pub mod diagnostic;
pub mod dockerfile;
pub mod kubernetes;
pub mod output;
pub mod rules;
pub mod yaml;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub use diagnostic::{Diagnostic, Severity, Span};
use dockerfile::parser::Dockerfile;
use dockerfile::stages::{stages, Stage};

/// What a Dockerfile rule sees.
pub struct DockerfileCtx<'a> {
    pub path: &'a str,
    pub lines: Vec<&'a str>,
    pub df: &'a Dockerfile,
    pub stages: Vec<Stage>,
    /// The build context (the Dockerfile's directory) with its .dockerignore applied, when the
    /// Dockerfile was read from disk.
    pub context: Option<&'a crate::context::BuildContext>,
}

/// Which rules run and how severe they are: drydock.toml's [lint] and the command line.
#[derive(Debug, Clone, Default)]
pub struct LintOptions {
    /// Only these codes (empty: all).
    pub select: BTreeSet<String>,
    pub ignore: BTreeSet<String>,
    pub severity: BTreeMap<String, Severity>,
    /// Ignore `# drydock:ignore` comments in the files.
    pub no_suppressions: bool,
    /// How secrets may reach a container's environment (KS008).
    pub secret_env: SecretEnvStance,
}

/// drydock's stance on secrets in environment variables, and Checkov's (CKV_K8S_35).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum SecretEnvStance {
    /// By reference (`valueFrom.secretKeyRef`) is fine; literal values are not.
    #[default]
    Reference,
    /// Secrets only as mounted files: `secretKeyRef` in env is flagged too.
    Files,
}

#[derive(Debug, thiserror::Error)]
pub enum LintError {
    #[error("{path}:{line}: {message}\n  fix: make it a Dockerfile BuildKit can parse")]
    Parse {
        path: String,
        line: usize,
        message: String,
    },
    #[error("{path}:{line}:{column}: {message}\n  fix: make it valid YAML (check the indentation, quoting and `key: value` pairs around that position)")]
    Yaml {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: {why}\n  fix: {fix}")]
    NotText {
        path: PathBuf,
        why: &'static str,
        fix: &'static str,
    },
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0} does not exist")]
    Missing(PathBuf),
    #[error("unknown rule code {0:?} (see `drydock rules`)")]
    UnknownRule(String),
}

impl LintOptions {
    /// Checks that every code named exists.
    pub fn validate(&self) -> Result<(), LintError> {
        for c in self
            .select
            .iter()
            .chain(&self.ignore)
            .chain(self.severity.keys())
        {
            if catalog::find(c).is_none() {
                return Err(LintError::UnknownRule(c.clone()));
            }
        }
        Ok(())
    }

    fn enabled(&self, code: &str) -> bool {
        (self.select.is_empty() || self.select.contains(code)) && !self.ignore.contains(code)
    }
}

/// Codes suppressed by `# drydock:ignore CODE[,CODE] reason` or, file-wide,
/// `# drydock:ignore-file CODE reason`.
fn suppressed_codes(comment: &str, marker: &str) -> BTreeSet<String> {
    let c = comment.trim().trim_start_matches('#').trim();
    match c.strip_prefix(marker) {
        Some(rest) if rest.starts_with(char::is_whitespace) => {
            parse_codes(rest.split_whitespace().next().unwrap_or(""))
        }
        _ => BTreeSet::new(),
    }
}

/// `DF004,ks001` as a set of upper-case codes: the value of every suppression form.
pub(crate) fn parse_codes(list: &str) -> BTreeSet<String> {
    list.split(',')
        .map(|c| c.trim().to_ascii_uppercase())
        .filter(|c| !c.is_empty())
        .collect()
}

/// The engine every file kind shares. It runs each enabled rule that `findings_of` answers for,
/// drops findings that `suppressed` silences (unless suppressions are forbidden), stamps the
/// rest with their rule and configured severity, and sorts them.
pub(crate) fn run_rules(
    opts: &LintOptions,
    default_path: &str,
    mut findings_of: impl FnMut(&catalog::Rule) -> Option<Vec<diagnostic::Finding>>,
    suppressed: impl Fn(&catalog::Rule, &diagnostic::Finding, &str) -> bool,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for rule in catalog::RULES {
        if !opts.enabled(rule.code) {
            continue;
        }
        let Some(findings) = findings_of(rule) else {
            continue;
        };
        for f in findings {
            let path = f.path.clone().unwrap_or_else(|| default_path.to_string());
            if !opts.no_suppressions && suppressed(rule, &f, &path) {
                continue;
            }
            out.push(Diagnostic {
                code: rule.code,
                name: rule.name,
                severity: opts
                    .severity
                    .get(rule.code)
                    .copied()
                    .unwrap_or(rule.severity),
                path,
                span: f.span,
                message: f.message,
                fix: f.fix,
            });
        }
    }
    out.sort_by(|a, b| {
        (&a.path, a.span.line, a.span.column, a.code).cmp(&(
            &b.path,
            b.span.line,
            b.span.column,
            b.code,
        ))
    });
    out
}

/// Lints one Dockerfile's text.
pub fn lint_dockerfile(
    path: &str,
    text: &str,
    opts: &LintOptions,
) -> Result<Vec<Diagnostic>, LintError> {
    lint_dockerfile_in(path, text, None, opts)
}

/// Lints a Dockerfile with its build context, for the .dockerignore rules.
pub fn lint_dockerfile_in(
    path: &str,
    text: &str,
    context: Option<&crate::context::BuildContext>,
    opts: &LintOptions,
) -> Result<Vec<Diagnostic>, LintError> {
    let df = dockerfile::parse(text).map_err(|e| LintError::Parse {
        path: path.to_string(),
        line: e.line,
        message: e.message,
    })?;
    let ctx = DockerfileCtx {
        path,
        lines: text.lines().collect(),
        stages: stages(&df),
        df: &df,
        context,
    };
    let file_ignored: BTreeSet<String> = if opts.no_suppressions {
        BTreeSet::new()
    } else {
        ctx.lines
            .iter()
            .flat_map(|l| suppressed_codes(l, "drydock:ignore-file"))
            .collect()
    };
    let out = run_rules(
        opts,
        path,
        |rule| match rule.check {
            catalog::Check::Dockerfile(check) if !file_ignored.contains(rule.code) => {
                Some(check(&ctx))
            }
            _ => None,
        },
        |rule, f, _| {
            df.instructions.iter().any(|i| {
                (i.start_line..=i.end_line).contains(&f.span.line)
                    && i.comments
                        .iter()
                        .any(|c| suppressed_codes(c, "drydock:ignore").contains(rule.code))
            })
        },
    );
    Ok(out)
}

/// Whether a file name is a Dockerfile: `Dockerfile`, `*.Dockerfile`, `Dockerfile.*`.
/// Whether a file name is a Dockerfile: `Dockerfile`, `Containerfile`, `*.Dockerfile`,
/// `*.dockerfile`, `*.containerfile`, and `Dockerfile.*`, `Dockerfile-*`, `Dockerfile_*` (and the
/// same for Containerfile); not their `.dockerignore` files, nor `*.template` (docker-library's
/// jq templates, which are not Dockerfiles until rendered).
pub fn is_dockerfile_name(name: &str) -> bool {
    if name.ends_with(".dockerignore") || name.ends_with(".template") {
        return false;
    }
    let lower = name.to_ascii_lowercase();
    ["dockerfile", "containerfile"].iter().any(|base| {
        name.eq_ignore_ascii_case(base)
            || lower.ends_with(&format!(".{base}"))
            || [".", "-", "_"]
                .iter()
                .any(|sep| name.starts_with(&format!("{}{sep}", capitalised(base))))
    })
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// A template, not YAML yet: Helm's and other Go-template files. An action that is YAML
/// structure (a line of its own, or an unquoted value) makes a template; `{{ … }}` inside a
/// quoted string (a Prometheus rule's `"{{ $labels.x }}"`) is just text.
fn is_template(text: &str) -> bool {
    text.lines().any(|l| {
        let t = l.trim_start().trim_start_matches("- ");
        t.starts_with("{{") || l.contains(": {{") || l.contains(":{{")
    })
}

const TEMPLATE_NOTE: &str = "a template ({{ … }}), not YAML until rendered: render it and lint the output (e.g. helm template CHART > rendered.yaml && drydock lint rendered.yaml)";

/// Whether a file name is YAML that may hold Kubernetes objects (Compose files are not).
pub fn is_manifest_name(name: &str) -> bool {
    (name.ends_with(".yaml") || name.ends_with(".yml"))
        && !name.starts_with("compose")
        && !name.starts_with("docker-compose")
        && !name.starts_with('.')
}

/// The files to lint among `paths`: Dockerfiles, and YAML manifests. Files given by name are
/// always taken; directories are searched, honouring .gitignore.
#[derive(Debug, Default)]
pub struct Discovered {
    pub dockerfiles: Vec<PathBuf>,
    pub manifests: Vec<PathBuf>,
    pub compose: Vec<PathBuf>,
    /// Files named on the command line that are none of these, with why.
    pub skipped: Vec<(PathBuf, String)>,
}

/// What an explicitly named file with an unknown name holds, judged from its first lines.
#[derive(Debug, PartialEq, Eq)]
enum Sniffed {
    Dockerfile,
    Manifest,
    Compose,
    Other(&'static str),
}

fn sniff(path: &Path) -> Sniffed {
    let mut head = vec![0u8; 8192];
    let n = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
        .unwrap_or(0);
    head.truncate(n);
    if head.is_empty() {
        // Empty: the Dockerfile parser says why that is an error.
        return Sniffed::Dockerfile;
    }
    if head.contains(&0) {
        return Sniffed::Other("a binary file");
    }
    let text = String::from_utf8_lossy(&head);
    let mut yaml_keys = (false, false, false);
    for l in text.lines() {
        let t = l.trim();
        if t.is_empty() {
            continue;
        }
        if let Some(c) = t.strip_prefix('#') {
            let c = c.trim_start().to_ascii_lowercase();
            if c.starts_with("syntax=") || c.starts_with("escape=") || c.starts_with("check=") {
                return Sniffed::Dockerfile;
            }
            continue;
        }
        let word = t
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        if matches!(word.as_str(), "FROM" | "ARG") && yaml_keys == (false, false, false) {
            return Sniffed::Dockerfile;
        }
        yaml_keys.0 |= l.starts_with("apiVersion:");
        yaml_keys.1 |= l.starts_with("kind:");
        yaml_keys.2 |= l.starts_with("services:");
    }
    match yaml_keys {
        (true, true, _) => Sniffed::Manifest,
        (_, _, true) => Sniffed::Compose,
        _ => Sniffed::Other("not a Dockerfile, Kubernetes manifest or Compose file"),
    }
}

pub fn discover(paths: &[PathBuf]) -> Result<Discovered, LintError> {
    let mut out = Discovered::default();
    let mut chart_dirs = Vec::new();
    let mut take = |p: PathBuf, explicit: bool| {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if compose::is_compose_name(&name) {
            out.compose.push(p);
        } else if is_manifest_name(&name) {
            out.manifests.push(p);
        } else if is_dockerfile_name(&name) {
            out.dockerfiles.push(p);
        } else if name.starts_with("Dockerfile") && name.ends_with(".template") {
            out.skipped.push((
                p,
                "a Dockerfile template (render it, then lint the result)".into(),
            ));
        } else if explicit {
            match sniff(&p) {
                Sniffed::Dockerfile => out.dockerfiles.push(p),
                Sniffed::Manifest => out.manifests.push(p),
                Sniffed::Compose => out.compose.push(p),
                Sniffed::Other(why) => out.skipped.push((p, why.to_string())),
            }
        }
    };
    for p in paths {
        if p.is_file() {
            take(p.clone(), true);
        } else if p.is_dir() {
            // A Helm chart (Chart.yaml beside templates/) is skipped whole, with one note.
            let charts = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
            let seen = charts.clone();
            let walker = ignore::WalkBuilder::new(p)
                .hidden(false)
                .filter_entry(move |e| {
                    if e.file_name() == ".git" {
                        return false;
                    }
                    let chart = e.file_type().is_some_and(|t| t.is_dir())
                        && e.path().join("Chart.yaml").is_file()
                        && e.path().join("templates").is_dir();
                    if chart {
                        if let Ok(mut c) = seen.lock() {
                            c.push(e.path().to_path_buf());
                        }
                    }
                    !chart
                })
                .build();
            for entry in walker.flatten() {
                if entry.file_type().is_some_and(|t| t.is_file()) {
                    take(entry.into_path(), false);
                }
            }
            chart_dirs.extend(charts.lock().map(|c| c.clone()).unwrap_or_default());
        } else {
            return Err(LintError::Missing(p.clone()));
        }
    }
    for c in chart_dirs {
        out.skipped.push((c, "a Helm chart: render it and lint the output (helm template CHART > rendered.yaml && drydock lint rendered.yaml)".into()));
    }
    for v in [&mut out.dockerfiles, &mut out.manifests, &mut out.compose] {
        v.sort();
        v.dedup();
    }
    Ok(out)
}

/// What one `drydock lint` run looked at and found.
#[derive(Debug, Default)]
pub struct LintRun {
    pub diagnostics: Vec<Diagnostic>,
    /// The text of each linted file, for code frames.
    pub sources: BTreeMap<String, String>,
    /// Files that could not be read or parsed.
    pub errors: Vec<LintError>,
    pub dockerfiles: usize,
    pub manifests: usize,
    pub compose: usize,
    /// Files not linted, with why (YAML that is not Kubernetes, files of no known kind).
    pub skipped: Vec<(PathBuf, String)>,
}

impl LintRun {
    /// `linted 3 files (1 Dockerfile, 2 Kubernetes manifests)`, and what was skipped.
    pub fn summary(&self) -> String {
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let kinds: Vec<String> = [
            (self.dockerfiles, "Dockerfile", "Dockerfiles"),
            (
                self.manifests,
                "Kubernetes manifest",
                "Kubernetes manifests",
            ),
            (self.compose, "Compose file", "Compose files"),
        ]
        .iter()
        .filter(|(n, _, _)| *n > 0)
        .map(|(n, one, many)| plural(*n, one, many))
        .collect();
        let total = self.dockerfiles + self.manifests + self.compose;
        let mut s = if total == 0 {
            "linted nothing: no Dockerfile, Kubernetes manifest or Compose file was found"
                .to_string()
        } else {
            format!(
                "linted {} ({})",
                plural(total, "file", "files"),
                kinds.join(", ")
            )
        };
        if !self.errors.is_empty() {
            s.push_str(&format!(
                "; {} could not be linted",
                plural(self.errors.len(), "file", "files")
            ));
        }
        for (p, why) in self.skipped.iter().take(5) {
            s.push_str(&format!("\nskipped {}: {why}", p.display()));
        }
        if self.skipped.len() > 5 {
            s.push_str(&format!("\nskipped {} more", self.skipped.len() - 5));
        }
        s
    }
}

/// Reads a file to lint as text: binary and non-UTF-8 files are errors that say so.
fn read_text(path: &Path) -> Result<String, LintError> {
    let bytes = std::fs::read(path).map_err(|source| LintError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    // UTF-8 with a BOM is still UTF-8.
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    if body.iter().take(8192).any(|b| *b == 0) {
        return Err(LintError::NotText {
            path: path.to_path_buf(),
            why: "is a binary file",
            fix: "lint Dockerfiles, Kubernetes manifests and Compose files only",
        });
    }
    String::from_utf8(body.to_vec()).map_err(|_| LintError::NotText {
        path: path.to_path_buf(),
        why: "is not UTF-8 text",
        fix: "save it as UTF-8",
    })
}

/// Lints everything found under `paths`.
pub fn lint_paths(found: &Discovered, opts: &LintOptions) -> LintRun {
    let mut run = LintRun {
        skipped: found.skipped.clone(),
        ..LintRun::default()
    };
    for f in &found.dockerfiles {
        match lint_file_with_text(f, opts) {
            Ok((d, text)) => {
                run.sources.insert(f.display().to_string(), text);
                run.diagnostics.extend(d);
                run.dockerfiles += 1;
            }
            Err(e) => run.errors.push(e),
        }
    }
    let mut yaml_files = Vec::new();
    for f in &found.manifests {
        let path = f.display().to_string();
        match read_text(f).and_then(|t| {
            if is_template(&t) {
                return Ok((t, None));
            }
            kubernetes::parse_file(&path, &t).map(|y| (t, Some(y)))
        }) {
            Ok((_, None)) => run.skipped.push((f.clone(), TEMPLATE_NOTE.into())),
            // YAML that is not Kubernetes (CI configs, Helm values) is not ours to judge.
            Ok((text, Some(y))) if kubernetes::is_kubernetes(&y.docs) => {
                run.sources.insert(path, text);
                yaml_files.push(y);
                run.manifests += 1;
            }
            Ok(_) => run
                .skipped
                .push((f.clone(), "YAML without Kubernetes objects".into())),
            Err(e) => run.errors.push(e),
        }
    }
    run.diagnostics.extend(kubernetes::lint(&yaml_files, opts));
    let mut compose_files = Vec::new();
    for f in &found.compose {
        let path = f.display().to_string();
        match read_text(f).and_then(|t| kubernetes::parse_file(&path, &t).map(|y| (t, y))) {
            Ok((t, y)) => {
                run.sources.insert(path, t);
                compose_files.push(y);
                run.compose += 1;
            }
            Err(e) => run.errors.push(e),
        }
    }
    run.diagnostics.extend(compose::lint(&compose_files, opts));
    run
}

pub fn lint_file(path: &Path, opts: &LintOptions) -> Result<Vec<Diagnostic>, LintError> {
    lint_file_with_text(path, opts).map(|(d, _)| d)
}

/// As [`lint_file`], also returning the file's text (for code frames), read once.
fn lint_file_with_text(
    path: &Path,
    opts: &LintOptions,
) -> Result<(Vec<Diagnostic>, String), LintError> {
    let text = read_text(path)?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let specific = PathBuf::from(format!("{}.dockerignore", path.display()));
    let ignore = if specific.is_file() {
        specific
    } else {
        dir.join(".dockerignore")
    };
    let context = match crate::context::load_with_ignore_file(&dir, &ignore, &[]) {
        Ok(c) => Some(c),
        Err(crate::context::ContextError::Dockerignore { file, line, source }) => {
            return Err(LintError::Parse {
                path: file.display().to_string(),
                line,
                message: source.to_string(),
            })
        }
        // A context that cannot be read (e.g. a symlink out of it) leaves only the Dockerfile rules.
        Err(_) => None,
    };
    let diags = lint_dockerfile_in(&path.display().to_string(), &text, context.as_ref(), opts)?;
    Ok((diags, text))
}
