//! `drydock rules` and `drydock rule CODE`.

use drydock::error::{ErrorKind, Failure};
use drydock::lint::catalog::{self, RULES};
use drydock::ui::Ui;

use super::args::{Format, RulesArgs};
use super::{out, out_json, Outcome};

pub fn list(a: RulesArgs, ui: &Ui) -> Outcome {
    if let Some(dir) = a.write_docs {
        return write_docs(&dir, a.force, ui);
    }
    if a.format == Format::Json {
        let v: Vec<serde_json::Value> = RULES
            .iter()
            .map(|r| serde_json::json!({"code": r.code, "name": r.name, "practice": r.practice, "severity": r.severity, "hadolint": r.hadolint, "pod_security": r.pod_security, "default": catalog::is_default(r.code), "opt_in_reason": catalog::opt_in_reason(r.code), "default_reason": catalog::default_reason(r.code), "summary": r.summary()}))
            .collect();
        return out_json(&v);
    }
    let mut s = String::new();
    for r in RULES {
        s.push_str(&format!(
            "{:<6} {:<36} {:<12} {:<8} {:<7} {}\n",
            r.code,
            r.name,
            r.practice,
            r.severity.as_str(),
            if catalog::is_default(r.code) {
                "default"
            } else {
                "opt-in"
            },
            r.summary()
        ));
    }
    out(&s);
    Ok(0)
}

/// Writes the rule pages and their index into `dir`, replacing only pages drydock wrote (they
/// carry [`catalog::GENERATED_MARK`]): `--write-docs .` in a project never replaces its README.
/// Every page is checked before the first is written, so a refusal writes nothing.
fn write_docs(dir: &std::path::Path, force: bool, ui: &Ui) -> Outcome {
    let mut pages: Vec<(String, String)> = RULES
        .iter()
        .map(|r| (format!("{}.md", r.code), catalog::rule_page(r)))
        .collect();
    pages.push(("README.md".into(), catalog::index_markdown()));
    let mut foreign = Vec::new();
    for (name, _) in &pages {
        let path = dir.join(name);
        match std::fs::symlink_metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Ok(m) if m.is_file() => {
                let text = std::fs::read(&path).unwrap_or_default();
                if !catalog::is_generated_page(name, &String::from_utf8_lossy(&text)) {
                    foreign.push(path);
                }
            }
            // A directory, a symlink, or a file that cannot be looked at: not ours.
            _ => foreign.push(path),
        }
    }
    if !foreign.is_empty() && !force {
        let first = foreign[0].clone();
        let names: Vec<String> = foreign.iter().map(|p| p.display().to_string()).collect();
        let them = if names.len() == 1 { "it" } else { "them" };
        return Err(Failure {
            path: Some(first),
            ..Failure::new(
                ErrorKind::Input,
                format!(
                    "{} {} not written by drydock (no \"{}\" line), so `rules --write-docs` will not replace {them}; nothing was written",
                    names.join(", "),
                    if names.len() == 1 { "is" } else { "are" },
                    catalog::GENERATED_MARK,
                ),
            )
            .with_fix(format!(
                "name a directory of its own (e.g. docs/rules), or add --force to replace {them}"
            ))
        });
    }
    for (name, text) in &pages {
        let path = dir.join(name);
        if std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir()) {
            return Err(Failure {
                path: Some(path.clone()),
                ..Failure::new(
                    ErrorKind::Input,
                    format!("{} is a directory", path.display()),
                )
                .with_fix("remove it, or name another directory")
            });
        }
        if std::fs::read(&path).is_ok_and(|cur| cur == text.as_bytes()) {
            continue;
        }
        drydock::fsutil::write_bytes_atomic(&path, text.as_bytes()).map_err(|e| Failure {
            path: Some(path.clone()),
            ..Failure::new(
                ErrorKind::Failed,
                format!("writing {}: {e}", path.display()),
            )
        })?;
    }
    ui.note(&format!(
        "wrote {} rule pages and README.md into {}",
        RULES.len(),
        dir.display()
    ));
    Ok(0)
}

pub fn explain(code: &str) -> Outcome {
    match catalog::find(code) {
        Some(r) => {
            out(&r.markdown());
            Ok(0)
        }
        None => match catalog::retired(code) {
            Some(successors) => Err(Failure::new(
                ErrorKind::Usage,
                format!(
                    "{} is retired: its checks are now {}",
                    code.to_ascii_uppercase(),
                    successors.join(", "),
                ),
            )
            .with_fix(format!(
                "`drydock rule {}` explains the first of them; selecting, ignoring or suppressing {} still means all of them",
                successors.first().copied().unwrap_or(""),
                code.to_ascii_uppercase()
            ))),
            None => Err(Failure::new(ErrorKind::Usage, format!("no rule {code:?}"))
                .with_fix("`drydock rules` lists them")),
        },
    }
}
