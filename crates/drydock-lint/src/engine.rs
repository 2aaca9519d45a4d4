//! The engine: lints what [`crate::discover`](mod@crate::discover) found or what came on
//! stdin. It reads each file (`read`), finds each Dockerfile's build context (`contexts`), and
//! hands the parsed input to the runner ([`crate::runner`]), which runs the rules; [`LintRun`]
//! is what it looked at and found, which the output module renders and summarises.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::contexts;
use crate::diagnostic::Diagnostic;
use crate::discover::{is_template, normalize, sniff_text, Discovered, Sniffed, TEMPLATE_NOTE};
use crate::error::LintError;
use crate::options::LintOptions;
use crate::read::{read_text, stdin_kind};
use crate::runner::{
    lint_compose, lint_dockerfile, lint_kubernetes, lint_parsed, parse_dockerfile,
};
use crate::view::kubernetes::is_kubernetes;
use crate::yaml::{parse_file, YamlFile};

/// What one `drydock lint` run looked at and found; its `summary` (written with the output
/// formats, in output/summary.rs) says it in a line or a few.
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
        let partial = patches.contains(&normalize(f));
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
            Ok((text, Some(y))) => match yaml_kind(&y, &text) {
                Some(Sniffed::Compose) => {
                    run.sources.insert(path, text);
                    compose_files.push(y);
                    run.compose += 1;
                }
                Some(_) => {
                    run.sources.insert(path, text);
                    yaml_files.push(y);
                    run.manifests += 1;
                }
                None => run.skipped.push((f.clone(), NOT_OURS.into())),
            },
            Err(e) => run.errors.push(e),
        }
    }
    // Compose's `build:` says where its Dockerfiles are built from.
    let declared = contexts::declared(&compose_files);
    for f in &found.dockerfiles {
        let known = declared.get(&normalize(f)).map(PathBuf::as_path);
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

/// Lints one Dockerfile file, its build context found as `contexts` finds it.
pub fn lint_file(path: &Path, opts: &LintOptions) -> Result<Vec<Diagnostic>, LintError> {
    lint_dockerfile_file(path, None, opts).map(|(d, _)| d)
}

/// Lints a Dockerfile file, returning its text too (for code frames), read and parsed once.
/// Its build context is `declared` when a Compose file says it, else the one [`contexts`]
/// finds.
fn lint_dockerfile_file(
    path: &Path,
    declared: Option<&Path>,
    opts: &LintOptions,
) -> Result<(Vec<Diagnostic>, String), LintError> {
    let text = read_text(path)?;
    let shown = path.display().to_string();
    let df = parse_dockerfile(&shown, &text)?;
    let context = contexts::load(path, &df, declared)?;
    let diags = lint_parsed(&shown, &text, &df, context.as_ref(), opts)?;
    Ok((diags, text))
}

/// What YAML is when its name did not say: Kubernetes objects, else a Compose file known by its
/// keys (a Swarm stack.yaml), else neither (`None`: CI configs, Helm values are not ours).
fn yaml_kind(y: &YamlFile, text: &str) -> Option<Sniffed> {
    if is_kubernetes(&y.docs) {
        Some(Sniffed::Manifest)
    } else if sniff_text(text) == Sniffed::Compose {
        Some(Sniffed::Compose)
    } else {
        None
    }
}

/// Lints text that did not come from a file (`drydock lint -`): `name` says what it is, as a
/// file name would (`Dockerfile`, `compose.yaml`, `k8s.yaml`), else its first lines do.
pub fn lint_text(name: &str, text: &str, opts: &LintOptions) -> LintRun {
    let mut run = LintRun::default();
    let kind = stdin_kind(name, text);
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
            Ok(y) => {
                // Named like Compose, it is Compose; named like a manifest (stack.yaml), its
                // content says, as for files.
                let kind = if kind == Sniffed::Compose {
                    Some(Sniffed::Compose)
                } else {
                    yaml_kind(&y, text)
                };
                match kind {
                    Some(Sniffed::Compose) => {
                        run.diagnostics = lint_compose(std::slice::from_ref(&y), opts);
                        run.compose = 1;
                    }
                    Some(_) => {
                        run.diagnostics = lint_kubernetes(std::slice::from_ref(&y), opts);
                        run.manifests = 1;
                    }
                    None => run.skipped.push((name.into(), NOT_OURS.into())),
                }
            }
            Err(e) => run.errors.push(e),
        },
        Sniffed::Other(why) => run.skipped.push((name.into(), why.to_string())),
    }
    run
}
