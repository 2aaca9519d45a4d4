//! SARIF 2.1.0 as GitHub code scanning reads it: `tool.driver.rules` from the catalog, results
//! with a rule index, a level and a region with start and end line and column.

use serde_json::{json, Value};

use crate::catalog::RULES;
use crate::{Diagnostic, Severity};

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

pub fn render(diags: &[Diagnostic]) -> String {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|r| {
            let mut properties = json!({ "tags": [r.practice], "precision": "high" });
            if let Some(level) = r.pod_security {
                properties["pod_security"] = json!(level.as_str());
                properties["tags"] =
                    json!([r.practice, format!("pod-security/{}", level.as_str())]);
            }
            json!({
                "id": r.code,
                "name": r.name,
                "shortDescription": { "text": r.summary() },
                "fullDescription": { "text": r.summary() },
                "help": { "text": r.summary(), "markdown": r.markdown() },
                "defaultConfiguration": { "level": level(r.severity) },
                "properties": properties,
            })
        })
        .collect();
    let results: Vec<Value> = diags
        .iter()
        .map(|d| {
            let index = RULES.iter().position(|r| r.code == d.code).unwrap_or(0);
            let text = match &d.fix {
                Some(f) => format!("{} (fix: {f})", d.message),
                None => d.message.clone(),
            };
            json!({
                "ruleId": d.code,
                "ruleIndex": index,
                "level": level(d.severity),
                "message": { "text": text },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": d.path.trim_start_matches("./") },
                        "region": { "startLine": d.span.line, "startColumn": d.span.column, "endLine": d.span.end_line, "endColumn": d.span.end_column },
                    }
                }],
            })
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": { "name": "drydock", "version": env!("CARGO_PKG_VERSION"), "rules": rules } },
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}
