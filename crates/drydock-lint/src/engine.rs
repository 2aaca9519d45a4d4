//! The engine: runs the catalog's rules on a parsed file, applies the options and the
//! suppressions, and returns sorted diagnostics. Rules never read the filesystem; this module
//! reads the files [`crate::discover`] found.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use drydock_dockerignore::context::{self, BuildContext, ContextError};

use crate::catalog::{self, Check};
use crate::diagnostic::{Diagnostic, Finding};
use crate::discover::{
    is_compose_name, is_dockerfile_name, is_manifest_name, is_template, sniff_text, Discovered,
    Sniffed, TEMPLATE_NOTE,
};
use crate::error::LintError;
use crate::options::LintOptions;
use crate::suppress::{suppressed_codes, SuppressedLines};
use crate::view::kubernetes::is_kubernetes;
use crate::view::{ComposeCtx, DockerfileCtx, KubernetesCtx};
use crate::yaml::{parse_file, YamlFile};

/// The engine every file kind shares. It runs each enabled rule that `findings_of` answers for,
/// drops findings that `suppressed` silences (unless suppressions are forbidden), stamps the
/// rest with their rule and configured severity, and sorts them.
pub(crate) fn run_rules(
    opts: &LintOptions,
    default_path: &str,
    mut findings_of: impl FnMut(&catalog::Rule) -> Option<Vec<Finding>>,
    suppressed: impl Fn(&catalog::Rule, &Finding, &str) -> bool,
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
                    .or(f.severity)
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
    context: Option<&BuildContext>,
    opts: &LintOptions,
) -> Result<Vec<Diagnostic>, LintError> {
    let df = parse_dockerfile(path, text)?;
    lint_parsed(path, text, &df, context, opts)
}

/// Parses a Dockerfile, its errors naming the file.
fn parse_dockerfile(path: &str, text: &str) -> Result<drydock_dockerfile::Dockerfile, LintError> {
    drydock_dockerfile::parse(text).map_err(|e| LintError::Parse {
        path: path.to_string(),
        line: e.line,
        message: e.message,
    })
}

/// Lints a parsed Dockerfile (refusing what BuildKit refuses first).
fn lint_parsed(
    path: &str,
    text: &str,
    df: &drydock_dockerfile::Dockerfile,
    context: Option<&BuildContext>,
    opts: &LintOptions,
) -> Result<Vec<Diagnostic>, LintError> {
    let ctx = DockerfileCtx::new(path, text, df, context);
    rejected_by_buildkit(&ctx).map_err(|(line, message)| LintError::Parse {
        path: path.to_string(),
        line,
        message,
    })?;
    let file_ignored: BTreeSet<String> = if opts.no_suppressions {
        BTreeSet::new()
    } else {
        ctx.lines
            .iter()
            .flat_map(|l| suppressed_codes(l, "drydock:ignore-file"))
            .collect()
    };
    let by_instruction: Vec<BTreeSet<String>> = df
        .instructions
        .iter()
        .map(|i| {
            i.comments
                .iter()
                .flat_map(|c| suppressed_codes(c, "drydock:ignore"))
                .collect()
        })
        .collect();
    let suppressed = SuppressedLines::new(
        df.instructions
            .iter()
            .zip(&by_instruction)
            .map(|(i, codes)| (path, i.start_line, i.end_line, codes)),
    );
    let out = run_rules(
        opts,
        path,
        |rule| match rule.check {
            Check::Dockerfile(check) if !file_ignored.contains(rule.code) => Some(check(&ctx)),
            _ => None,
        },
        |rule, f, _| suppressed.contains(path, f.span.line, rule.code),
    );
    Ok(out)
}

/// What BuildKit refuses to build although the parser reads it, whatever the build arguments:
/// an instruction it does not know, and a FROM that is not an image reference
/// (`FROM image:sha256:…`), a stage or `scratch`. Such a file is an input error, as
/// `docker build` makes it one. A FROM that refers to a global ARG is not judged: `--build-arg`
/// decides it (`ARG BASE` then `FROM ${BASE}`), and BuildKit only rejects it when the value
/// given makes it invalid. A variable no global ARG declares is always empty, so a FROM that
/// needs one is refused.
fn rejected_by_buildkit(ctx: &DockerfileCtx<'_>) -> Result<(), (usize, String)> {
    use drydock_dockerfile::Keyword;
    let df = ctx.df;
    if let Some(i) = df.instructions.iter().find(|i| i.is(Keyword::Unknown)) {
        return Err((
            i.start_line,
            format!("unknown instruction: {}", i.keyword.to_ascii_uppercase()),
        ));
    }
    for (n, s) in ctx.stages.iter().enumerate() {
        let base = s.base.as_str();
        let earlier_stage = ctx.stages[..n]
            .iter()
            .any(|o| o.alias.as_deref() == Some(base.to_ascii_lowercase().as_str()));
        if s.from_args || base.eq_ignore_ascii_case("scratch") || earlier_stage {
            continue;
        }
        let line = df.instructions[s.from].start_line;
        let undeclared = if s.undeclared.is_empty() {
            String::new()
        } else {
            format!(
                "; no ARG before the first FROM declares {}, so BuildKit expands it to nothing \
                 (declare it: `ARG {}` at the top)",
                s.undeclared
                    .iter()
                    .map(|v| format!("`${v}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                s.undeclared[0]
            )
        };
        if base.is_empty() {
            return Err((
                line,
                format!("FROM {}: the base name is empty{undeclared}", s.base_raw),
            ));
        }
        if let Err(e) = drydock_oci::reference::Reference::parse(base) {
            return Err((
                line,
                format!(
                    "FROM {base}: not a valid image reference ({}){undeclared}",
                    e.problem
                ),
            ));
        }
    }
    Ok(())
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
    /// Files of lintable names a directory search that found nothing passed over because
    /// .gitignore excludes them.
    pub gitignored: usize,
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
        let mut s = if total == 0 && self.gitignored > 0 {
            let (n, them) = if self.gitignored == 1 {
                (
                    "1 file that could be linted (a Dockerfile or YAML) was".to_string(),
                    "it",
                )
            } else {
                (
                    format!(
                        "{} files that could be linted (Dockerfiles or YAML) were",
                        self.gitignored
                    ),
                    "them",
                )
            };
            format!(
                "linted nothing: {n} skipped because .gitignore excludes {them}\n  fix: name {them} on the command line, or pass --no-ignore"
            )
        } else if total == 0 {
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
    // UTF-16 with a byte-order mark, as kubectl and Compose (through Go's YAML) read it.
    if let Some(text) = crate::discover::utf16(&bytes) {
        return text.ok_or_else(|| LintError::NotText {
            path: path.to_path_buf(),
            why: "starts with a UTF-16 byte-order mark but is not valid UTF-16",
            fix: "save it as UTF-8 (or valid UTF-16)",
        });
    }
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

/// Why YAML was skipped.
const NOT_OURS: &str = "YAML without Kubernetes objects or Compose services";

/// Lints everything found under `paths`.
pub fn lint_paths(found: &Discovered, opts: &LintOptions) -> LintRun {
    let mut run = LintRun {
        skipped: found.skipped.clone(),
        gitignored: found.gitignored,
        ..LintRun::default()
    };
    let mut compose_files = Vec::new();
    for f in &found.compose {
        let path = f.display().to_string();
        match read_text(f).and_then(|t| parse_file(&path, &t).map(|y| (t, y))) {
            Ok((t, y)) => {
                run.sources.insert(path, t);
                compose_files.push(y);
                run.compose += 1;
            }
            Err(e) => run.errors.push(e),
        }
    }
    let mut yaml_files = Vec::new();
    let patches = crate::kustomize::patch_files(&found.manifests);
    for f in &found.manifests {
        let path = f.display().to_string();
        let partial = patches.contains(&crate::discover::normalize(f));
        match read_text(f).and_then(|t| {
            if is_template(&t) {
                return Ok((t, None));
            }
            parse_file(&path, &t).map(|mut y| {
                y.partial = partial;
                (t, Some(y))
            })
        }) {
            Ok((_, None)) => run.skipped.push((f.clone(), TEMPLATE_NOTE.into())),
            // YAML that is not Kubernetes (CI configs, Helm values) is not ours to judge.
            Ok((text, Some(y))) if is_kubernetes(&y.docs) => {
                run.sources.insert(path, text);
                yaml_files.push(y);
                run.manifests += 1;
            }
            // A Compose file whose name does not say so (a Swarm stack.yaml) is known by its keys.
            Ok((text, Some(y))) if sniff_text(&text) == Sniffed::Compose => {
                run.sources.insert(path, text);
                compose_files.push(y);
                run.compose += 1;
            }
            Ok(_) => run.skipped.push((f.clone(), NOT_OURS.into())),
            Err(e) => run.errors.push(e),
        }
    }
    // Compose's `build:` says where its Dockerfiles are built from.
    let contexts = build_contexts(&compose_files, &found.dockerfiles);
    for f in &found.dockerfiles {
        let known = contexts
            .get(&crate::discover::normalize(f))
            .map(PathBuf::as_path);
        match lint_dockerfile_file(f, known, opts) {
            Ok((d, text)) => {
                run.sources.insert(f.display().to_string(), text);
                run.diagnostics.extend(d);
                run.dockerfiles += 1;
            }
            Err(e) => run.errors.push(e),
        }
    }
    run.diagnostics.extend(lint_kubernetes(&yaml_files, opts));
    // A base and its override are judged together, as docker compose runs them; a base with
    // several variants is judged once with each, so its own findings are reported once.
    let units = crate::compose::combine(compose_files);
    let mut diags = lint_compose(&units, opts);
    diags.dedup_by(|a, b| {
        (&a.path, &a.span, a.code, &a.message) == (&b.path, &b.span, b.code, &b.message)
    });
    run.diagnostics.extend(diags);
    run
}

pub fn lint_file(path: &Path, opts: &LintOptions) -> Result<Vec<Diagnostic>, LintError> {
    lint_dockerfile_file(path, None, opts).map(|(d, _)| d)
}

/// Lints a Dockerfile file, returning its text too (for code frames), read and parsed once.
/// The build context is `known_context` when a Compose file or drydock.toml says it; else the
/// Dockerfile's folder, unless the Dockerfile copies paths that are not there (it is built from
/// elsewhere, and the .dockerignore rules do not guess where).
fn lint_dockerfile_file(
    path: &Path,
    known_context: Option<&Path>,
    opts: &LintOptions,
) -> Result<(Vec<Diagnostic>, String), LintError> {
    let text = read_text(path)?;
    let shown = path.display().to_string();
    let df = parse_dockerfile(&shown, &text)?;
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let dir = match known_context {
        Some(c) if c.as_os_str().is_empty() => PathBuf::from("."),
        Some(c) => c.to_path_buf(),
        None if copies_from_elsewhere(&df, &folder) => {
            let diags = lint_parsed(&shown, &text, &df, None, opts)?;
            return Ok((diags, text));
        }
        None => folder,
    };
    let specific = PathBuf::from(format!("{}.dockerignore", path.display()));
    let ignore = if specific.is_file() {
        specific
    } else {
        dir.join(".dockerignore")
    };
    let context = match context::load_with_ignore_file(&dir, &ignore, &[]) {
        Ok(c) => Some(c),
        Err(ContextError::Dockerignore { file, line, source }) => {
            return Err(LintError::Dockerignore {
                path: file,
                line,
                source,
            })
        }
        // A context that cannot be read (e.g. a symlink out of it) leaves only the Dockerfile rules.
        Err(_) => None,
    };
    let diags = lint_parsed(&shown, &text, &df, context.as_ref(), opts)?;
    Ok((diags, text))
}

/// The build context of each Dockerfile that a Compose service's `build:` names (`build: DIR`,
/// or `context:` and `dockerfile:`), and of drydock's own `deploy/docker/Dockerfile`, which is
/// built from the project root (the folder with drydock.toml).
fn build_contexts(
    compose: &[YamlFile],
    dockerfiles: &[PathBuf],
) -> std::collections::HashMap<PathBuf, PathBuf> {
    use crate::discover::normalize;
    let mut out = std::collections::HashMap::new();
    for f in compose {
        let dir = Path::new(&f.path).parent().unwrap_or(Path::new(""));
        for d in &f.docs {
            let crate::yaml::Value::Map(services) = &d.at("services").value else {
                continue;
            };
            for (_, svc) in services {
                let build = svc.at("build");
                let (ctx, dockerfile) = match (build.as_str(), build.at("context").as_str()) {
                    (Some(c), _) => (c, "Dockerfile"),
                    (None, c)
                        if build.get("context").is_some() || build.get("dockerfile").is_some() =>
                    {
                        (
                            c.unwrap_or("."),
                            build.at("dockerfile").as_str().unwrap_or("Dockerfile"),
                        )
                    }
                    _ => continue,
                };
                // A remote context (git URL) has no local files to judge.
                if ctx.contains("://") || ctx.starts_with("git@") {
                    continue;
                }
                let ctx = normalize(&dir.join(ctx));
                out.insert(normalize(&ctx.join(dockerfile)), ctx);
            }
        }
    }
    for df in dockerfiles {
        let n = normalize(df);
        let Some(docker_dir) = n.parent() else {
            continue;
        };
        if docker_dir.ends_with("deploy/docker") {
            if let Some(root) = docker_dir.parent().and_then(Path::parent) {
                if root.join("drydock.toml").is_file() {
                    out.entry(n.clone()).or_insert_with(|| root.to_path_buf());
                }
            }
        }
    }
    out
}

/// Whether a Dockerfile COPYs or ADDs a local path that its folder does not hold: then its
/// folder is not its build context.
fn copies_from_elsewhere(df: &drydock_dockerfile::Dockerfile, folder: &Path) -> bool {
    use drydock_dockerfile::Keyword;
    df.instructions
        .iter()
        .filter(|i| matches!(i.kind(), Keyword::Copy | Keyword::Add))
        .filter(|i| i.heredocs.is_empty() && !i.flags.iter().any(|f| f.starts_with("--from")))
        .any(|i| {
            let v = i.values();
            v.len() >= 2
                && v[..v.len() - 1].iter().any(|src| {
                    // URLs and variables are not judged; of a glob, the folder before it.
                    let literal = match src.find(['*', '?', '[']) {
                        Some(g) => src[..g].rsplit_once('/').map_or("", |(d, _)| d),
                        None => src,
                    };
                    let literal = literal.trim_start_matches('/');
                    !src.contains("://")
                        && !src.contains('$')
                        && !literal.is_empty()
                        && !folder.join(literal).exists()
                })
        })
}

/// Lints Kubernetes manifests, all files at once.
pub fn lint_kubernetes(files: &[YamlFile], opts: &LintOptions) -> Vec<Diagnostic> {
    let ctx = KubernetesCtx::new(files, opts);
    let suppressed = SuppressedLines::new(
        ctx.objects
            .iter()
            .map(|o| (o.path, o.node.line, o.node.end_line, &o.ignored)),
    );
    run_rules(
        opts,
        "",
        |rule| match rule.check {
            Check::Kubernetes(check) => Some(check(&ctx)),
            Check::Yaml(check) => Some(files.iter().flat_map(check).collect()),
            _ => None,
        },
        |rule, f, path| suppressed.contains(path, f.span.line, rule.code),
    )
}

/// Lints Compose files.
pub fn lint_compose(files: &[YamlFile], opts: &LintOptions) -> Vec<Diagnostic> {
    let ctx = ComposeCtx::new(files);
    let suppressed = SuppressedLines::new(ctx.services.iter().map(|s| {
        (
            s.path,
            s.key.line,
            s.node.end_line.max(s.key.line),
            &s.ignored,
        )
    }));
    run_rules(
        opts,
        "",
        |rule| match rule.check {
            Check::Compose(check) => Some(check(&ctx)),
            Check::Yaml(check) => Some(files.iter().flat_map(check).collect()),
            _ => None,
        },
        |rule, f, path| suppressed.contains(path, f.span.line, rule.code),
    )
}

/// Lints text that did not come from a file (`drydock lint -`): `name` says what it is, as a
/// file name would (`Dockerfile`, `compose.yaml`, `k8s.yaml`), else its first lines do.
pub fn lint_text(name: &str, text: &str, opts: &LintOptions) -> LintRun {
    let mut run = LintRun::default();
    let base = name.rsplit('/').next().unwrap_or(name);
    let kind = if is_compose_name(base) {
        Sniffed::Compose
    } else if is_manifest_name(base) {
        Sniffed::Manifest
    } else if is_dockerfile_name(base) {
        Sniffed::Dockerfile
    } else {
        sniff_text(text)
    };
    run.sources.insert(name.to_string(), text.to_string());
    match kind {
        Sniffed::Dockerfile => match lint_dockerfile(name, text, opts) {
            Ok(d) => {
                run.diagnostics = d;
                run.dockerfiles = 1;
            }
            Err(e) => run.errors.push(e),
        },
        Sniffed::Manifest | Sniffed::Compose if is_template(text) => {
            run.skipped.push((name.into(), TEMPLATE_NOTE.into()));
        }
        Sniffed::Manifest | Sniffed::Compose => match parse_file(name, text) {
            Ok(y) if kind == Sniffed::Compose => {
                run.diagnostics = lint_compose(std::slice::from_ref(&y), opts);
                run.compose = 1;
            }
            Ok(y) if is_kubernetes(&y.docs) => {
                run.diagnostics = lint_kubernetes(std::slice::from_ref(&y), opts);
                run.manifests = 1;
            }
            // Named like a manifest (stack.yaml), shaped like Compose: as for files.
            Ok(y) if sniff_text(text) == Sniffed::Compose => {
                run.diagnostics = lint_compose(std::slice::from_ref(&y), opts);
                run.compose = 1;
            }
            Ok(_) => run.skipped.push((name.into(), NOT_OURS.into())),
            Err(e) => run.errors.push(e),
        },
        Sniffed::Other(why) => run.skipped.push((name.into(), why.to_string())),
    }
    run
}
