//! Output formats for diagnostics: text with a code frame, JSON, SARIF 2.1.0 (what GitHub code
//! scanning reads) and GitHub workflow annotations. One file per format.
//!
//! A file that could not be linted is part of every machine-readable output, not only of
//! stderr: in JSON an entry with the code [`INPUT_ERROR`] after the findings, in SARIF a failed
//! invocation with one error notification per file, in GitHub's format an `::error` annotation.

mod github;
mod sarif;
mod summary;
mod text;

use serde::Serialize;

use super::{Diagnostic, LintError, Severity, Span};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Sarif,
    Github,
}

/// The code of a JSON entry for a file that could not be linted (never a rule's code).
pub const INPUT_ERROR: &str = "input-error";

/// Renders the diagnostics; `sources` gives each file's text, for code frames. `errors` are the
/// files that could not be linted: then "no findings" would not be the whole truth.
pub fn render(
    format: Format,
    diags: &[Diagnostic],
    sources: &std::collections::BTreeMap<String, String>,
    color: bool,
    errors: &[LintError],
) -> String {
    match format {
        Format::Text => text::render(diags, sources, color, errors.len()),
        Format::Json => json(diags, errors),
        Format::Sarif => sarif::render(diags, errors),
        Format::Github => github::render(diags, errors),
    }
}

/// Where an error is, as a span: its line and column when known, else the file's start.
fn error_span(e: &LintError) -> Span {
    let line = e.line().unwrap_or(1).max(1);
    let column = e.column().unwrap_or(1).max(1);
    Span {
        line,
        column,
        end_line: line,
        end_column: column + 1,
    }
}

/// One JSON entry: a finding, or a file that could not be linted (same fields).
#[derive(Serialize)]
#[serde(untagged)]
enum JsonEntry<'a> {
    Finding(&'a Diagnostic),
    Error {
        code: &'static str,
        name: &'static str,
        severity: Severity,
        path: String,
        #[serde(flatten)]
        span: Span,
        message: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        fix: Option<String>,
    },
}

fn json(diags: &[Diagnostic], errors: &[LintError]) -> String {
    let entries: Vec<JsonEntry> = diags
        .iter()
        .map(JsonEntry::Finding)
        .chain(errors.iter().map(|e| JsonEntry::Error {
            code: INPUT_ERROR,
            name: "not-linted",
            severity: Severity::Error,
            path: e.file().unwrap_or_default(),
            span: error_span(e),
            message: e.why(),
            fix: e.fix(),
        }))
        .collect();
    serde_json::to_string_pretty(&entries).unwrap_or_else(|_| "[]".into()) + "\n"
}
