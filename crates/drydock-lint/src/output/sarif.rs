//! SARIF 2.1.0 as GitHub code scanning reads it: `tool.driver.rules` from the catalog, results
//! with a rule index, a level and a region with start and end line and column, and one
//! invocation that says whether every file could be linted (each file that could not is an
//! error notification, SARIF's place for "the tool failed here", §3.20.21 and §3.58).
//!
//! Typed structs serialized once: a `serde_json::Value` tree per result cost ~10 KB per finding.

use serde::Serialize;
use serde_json::{json, Value};

use crate::catalog::RULES;
use crate::{Diagnostic, LintError, Severity};

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
struct Run<'a> {
    tool: Value,
    invocations: [Invocation; 1],
    results: Vec<SarifResult<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
struct Notification {
    level: &'static str,
    message: Message,
    locations: Vec<Location>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    rule_index: usize,
    level: &'static str,
    message: Message,
    locations: [Location; 1],
}

#[derive(Serialize)]
struct Message {
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_column: Option<usize>,
}

fn uri(path: &str) -> String {
    path.trim_start_matches("./").to_string()
}

fn text_with_fix(message: &str, fix: Option<&str>) -> String {
    match fix {
        Some(f) => format!("{message} (fix: {f})"),
        None => message.to_string(),
    }
}

fn tool() -> Value {
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
    json!({ "driver": { "name": "drydock", "version": env!("CARGO_PKG_VERSION"), "rules": rules } })
}

pub fn render(diags: &[Diagnostic], errors: &[LintError]) -> String {
    let index: std::collections::HashMap<&str, usize> =
        RULES.iter().enumerate().map(|(i, r)| (r.code, i)).collect();
    let results = diags
        .iter()
        .map(|d| SarifResult {
            rule_id: d.code,
            rule_index: index.get(d.code).copied().unwrap_or(0),
            level: level(d.severity),
            message: Message {
                text: text_with_fix(&d.message, d.fix.as_deref()),
            },
            locations: [Location {
                physical_location: PhysicalLocation {
                    artifact_location: ArtifactLocation { uri: uri(&d.path) },
                    region: Some(Region {
                        start_line: d.span.line,
                        start_column: Some(d.span.column),
                        end_line: Some(d.span.end_line),
                        end_column: Some(d.span.end_column),
                    }),
                },
            }],
        })
        .collect();
    let notifications = errors
        .iter()
        .map(|e| Notification {
            level: "error",
            message: Message {
                text: text_with_fix(&e.why(), e.fix().as_deref()),
            },
            locations: e
                .file()
                .map(|f| Location {
                    physical_location: PhysicalLocation {
                        artifact_location: ArtifactLocation { uri: uri(&f) },
                        region: Some(Region {
                            start_line: e.line().unwrap_or(1).max(1),
                            start_column: e.column(),
                            end_line: None,
                            end_column: None,
                        }),
                    },
                })
                .into_iter()
                .collect(),
        })
        .collect();
    let log = Log {
        schema: "https://json.schemastore.org/sarif-2.1.0.json",
        version: "2.1.0",
        runs: [Run {
            tool: tool(),
            invocations: [Invocation {
                execution_successful: errors.is_empty(),
                tool_execution_notifications: notifications,
            }],
            results,
        }],
    };
    serde_json::to_string_pretty(&log).unwrap_or_default() + "\n"
}
