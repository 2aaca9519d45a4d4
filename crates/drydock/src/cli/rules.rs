//! `drydock rules` and `drydock rule CODE`.

use drydock::error::{ErrorKind, Failure};
use drydock::lint::catalog::{self, RULES};
use drydock::ui::Ui;

use super::args::{Format, RulesArgs};
use super::{out, out_json, Outcome};

pub fn list(a: RulesArgs, ui: &Ui) -> Outcome {
    if let Some(dir) = a.write_docs {
        let write = |path: &std::path::Path, text: &str| {
            drydock::fsutil::write_bytes_atomic(path, text.as_bytes()).map_err(|e| Failure {
                path: Some(path.to_path_buf()),
                ..Failure::new(
                    ErrorKind::Failed,
                    format!("writing {}: {e}", path.display()),
                )
            })
        };
        for r in RULES {
            write(&dir.join(format!("{}.md", r.code)), &r.markdown())?;
        }
        write(&dir.join("README.md"), &catalog::index_markdown())?;
        ui.note(&format!(
            "wrote {} rule pages and README.md into {}",
            RULES.len(),
            dir.display()
        ));
        return Ok(0);
    }
    if a.format == Format::Json {
        let v: Vec<serde_json::Value> = RULES
            .iter()
            .map(|r| serde_json::json!({"code": r.code, "name": r.name, "practice": r.practice, "severity": r.severity, "hadolint": r.hadolint, "pod_security": r.pod_security, "default": catalog::is_default(r.code), "opt_in_reason": catalog::opt_in_reason(r.code), "summary": r.summary()}))
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
                    "{} is retired: its checks are now {}\n  fix: `drydock rule {}` explains the first of them; selecting, ignoring or suppressing {} still means all of them",
                    code.to_ascii_uppercase(),
                    successors.join(", "),
                    successors.first().copied().unwrap_or(""),
                    code.to_ascii_uppercase()
                ),
            )),
            None => Err(Failure::new(
                ErrorKind::Usage,
                format!("no rule {code:?}\n  fix: `drydock rules` lists them"),
            )),
        },
    }
}
