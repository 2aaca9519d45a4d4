//! GitHub Actions workflow commands: each diagnostic becomes an annotation on the pull request,
//! and so does each file that could not be linted.

use crate::{Diagnostic, LintError, Severity};

/// Workflow-command escaping: `%`, CR and LF in messages; also `:` and `,` in properties.
fn esc(s: &str, property: bool) -> String {
    let s = s
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    if property {
        s.replace(':', "%3A").replace(',', "%2C")
    } else {
        s
    }
}

fn with_fix(message: &str, fix: Option<&str>) -> String {
    match fix {
        Some(f) => format!("{message} (fix: {f})"),
        None => message.to_string(),
    }
}

pub fn render(diags: &[Diagnostic], errors: &[LintError]) -> String {
    let mut out: String = diags
        .iter()
        .map(|d| {
            let kind = match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "notice",
            };
            format!(
                "::{kind} file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
                esc(&d.path, true),
                d.span.line,
                d.span.column,
                d.span.end_line,
                d.span.end_column,
                esc(&format!("{} {}", d.code, d.name), true),
                esc(&with_fix(&d.message, d.fix.as_deref()), false)
            )
        })
        .collect();
    for e in errors {
        let span = super::error_span(e);
        out.push_str(&format!(
            "::error file={},line={},col={},title={}::{}\n",
            esc(&e.file().unwrap_or_default(), true),
            span.line,
            span.column,
            esc("drydock: file not linted", true),
            esc(&with_fix(&e.why(), e.fix().as_deref()), false)
        ));
    }
    out
}
