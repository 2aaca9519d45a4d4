//! The runner: runs the catalog's rules on parsed input, applies the options and the
//! suppressions, and returns sorted diagnostics. Rules never read the filesystem and neither does
//! the runner: the engine reads the files and finds their build contexts.

use std::collections::BTreeSet;

use drydock_dockerignore::context::BuildContext;

use crate::catalog::{self, codes_named, Check};
use crate::diagnostic::{Diagnostic, Finding};
use crate::error::LintError;
use crate::options::LintOptions;
use crate::suppress::{suppressed_codes, SuppressedLines};
use crate::view::{ComposeCtx, DockerfileCtx, KubernetesCtx};
use crate::yaml::YamlFile;

/// The loop every file kind shares. It runs each enabled rule that `findings_of` answers for,
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
pub(crate) fn parse_dockerfile(
    path: &str,
    text: &str,
) -> Result<drydock_dockerfile::Dockerfile, LintError> {
    drydock_dockerfile::parse(text).map_err(|e| LintError::Parse {
        path: path.to_string(),
        line: e.line,
        message: e.message,
    })
}

/// Lints a parsed Dockerfile (refusing what BuildKit refuses first).
pub(crate) fn lint_parsed(
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
        codes_named(
            &ctx.lines
                .iter()
                .flat_map(|l| suppressed_codes(l, "drydock:ignore-file"))
                .collect(),
        )
    };
    let by_instruction: Vec<BTreeSet<String>> = df
        .instructions
        .iter()
        .map(|i| {
            codes_named(
                &i.comments
                    .iter()
                    .flat_map(|c| suppressed_codes(c, "drydock:ignore"))
                    .collect(),
            )
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

/// Lints Kubernetes manifests, all files at once.
pub fn lint_kubernetes(files: &[YamlFile], opts: &LintOptions) -> Vec<Diagnostic> {
    let ctx = KubernetesCtx::new(files, opts.secret_env, opts.pod_security);
    let spans = ctx
        .objects
        .iter()
        .map(|o| (o.path, o.node.line, o.node.end_line, &o.ignored));
    run_yaml_rules(opts, files, spans, |check| match check {
        Check::Kubernetes(check) => Some(check(&ctx)),
        _ => None,
    })
}

/// Lints Compose files.
pub fn lint_compose(files: &[YamlFile], opts: &LintOptions) -> Vec<Diagnostic> {
    let ctx = ComposeCtx::new(files);
    let spans = ctx.services.iter().map(|s| {
        let end = s.node.end_line.max(s.key.line);
        (s.path, s.key.line, end, &s.ignored)
    });
    run_yaml_rules(opts, files, spans, |check| match check {
        Check::Compose(check) => Some(check(&ctx)),
        _ => None,
    })
}

/// The rules of one YAML kind (`findings_of` gives its own checks' findings) and the YAML
/// rules, over `files`; a finding is suppressed by the codes its object ignores, each object
/// given by `spans` as (path, first line, last line, codes as written).
fn run_yaml_rules<'a>(
    opts: &LintOptions,
    files: &[YamlFile],
    spans: impl Iterator<Item = (&'a str, usize, usize, &'a BTreeSet<String>)>,
    findings_of: impl Fn(&Check) -> Option<Vec<Finding>>,
) -> Vec<Diagnostic> {
    let spans: Vec<_> = spans
        .map(|(path, line, end, written)| (path, line, end, codes_named(written)))
        .collect();
    let suppressed = SuppressedLines::new(
        spans
            .iter()
            .map(|(path, line, end, codes)| (*path, *line, *end, codes)),
    );
    run_rules(
        opts,
        "",
        |rule| match rule.check {
            Check::Yaml(check) => Some(files.iter().flat_map(check).collect()),
            ref other => findings_of(other),
        },
        |rule, f, path| suppressed.contains(path, f.span.line, rule.code),
    )
}
