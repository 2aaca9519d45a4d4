//! Human output: `path:line:col: CODE message`, the line with a caret under the span, the fix.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::{Diagnostic, Severity};

pub fn render(
    diags: &[Diagnostic],
    sources: &BTreeMap<String, String>,
    color: bool,
    failed: usize,
) -> String {
    let paint = |code: &str, s: &str| {
        if color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    };
    let mut out = String::new();
    // Each file's lines, split once (finding a line by walking the text from its start, per
    // finding, made the text output quadratic).
    let mut lines: std::collections::HashMap<&str, Vec<&str>> = std::collections::HashMap::new();
    for d in diags {
        let sev = match d.severity {
            Severity::Error => paint("1;31", "error"),
            Severity::Warning => paint("1;33", "warning"),
            Severity::Info => paint("1;36", "info"),
        };
        let _ = writeln!(
            out,
            "{}:{}:{}: {} {sev}: {}",
            d.path,
            d.span.line,
            d.span.column,
            paint("1", d.code),
            d.message
        );
        let file_lines = sources.get_key_value(&d.path).map(|(k, t)| {
            &*lines
                .entry(k.as_str())
                .or_insert_with(|| t.lines().collect())
        });
        if let Some(line) = file_lines.and_then(|l| l.get(d.span.line.saturating_sub(1)).copied()) {
            let num = d.span.line.to_string();
            let pad = " ".repeat(num.len());
            let width = if d.span.end_line == d.span.line {
                d.span.end_column.saturating_sub(d.span.column).max(1)
            } else {
                line.chars()
                    .count()
                    .saturating_sub(d.span.column - 1)
                    .max(1)
            };
            let _ = writeln!(out, "{pad} |");
            let _ = writeln!(out, "{num} | {line}");
            let _ = writeln!(
                out,
                "{pad} | {}{}",
                " ".repeat(d.span.column.saturating_sub(1)),
                paint("1;31", &"^".repeat(width))
            );
            if let Some(fix) = &d.fix {
                let _ = writeln!(out, "{pad} = fix: {fix}");
            }
            let _ = writeln!(
                out,
                "{pad} = rule: {} ({}); `drydock rule {}` explains it",
                d.name, d.code, d.code
            );
        }
        out.push('\n');
    }
    let count = |s: Severity| diags.iter().filter(|d| d.severity == s).count();
    let n = |k: usize, one: &str, many: &str| format!("{k} {}", if k == 1 { one } else { many });
    if diags.is_empty() && failed > 0 {
        let _ = writeln!(
            out,
            "no findings in the files that could be linted ({} could not be)",
            n(failed, "file", "files")
        );
    } else if diags.is_empty() {
        out.push_str("no findings\n");
    } else {
        let _ = writeln!(
            out,
            "{}: {}, {}, {} info",
            n(diags.len(), "finding", "findings"),
            n(count(Severity::Error), "error", "errors"),
            n(count(Severity::Warning), "warning", "warnings"),
            count(Severity::Info)
        );
    }
    out
}
