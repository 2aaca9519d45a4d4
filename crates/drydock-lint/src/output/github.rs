//! GitHub Actions workflow commands: each diagnostic becomes an annotation on the pull request.

use crate::{Diagnostic, Severity};

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

pub fn render(diags: &[Diagnostic]) -> String {
    diags
        .iter()
        .map(|d| {
            let kind = match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "notice",
            };
            let msg = match &d.fix {
                Some(f) => format!("{} (fix: {f})", d.message),
                None => d.message.clone(),
            };
            format!(
                "::{kind} file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
                esc(&d.path, true),
                d.span.line,
                d.span.column,
                d.span.end_line,
                d.span.end_column,
                esc(&format!("{} {}", d.code, d.name), true),
                esc(&msg, false)
            )
        })
        .collect()
}
