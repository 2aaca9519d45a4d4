//! `drydock lint`.

use std::collections::BTreeSet;
use std::path::PathBuf;

use drydock::lint::{self, LintOptions, Severity};
use drydock::ui::Ui;

use super::args::LintArgs;
use super::{failure, out, Outcome};

pub fn run(a: LintArgs, ui: &Ui) -> Outcome {
    let paths = if a.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        a.paths
    };
    // drydock.toml of the first directory given, else of the current directory.
    let cfg_dir = paths
        .iter()
        .find(|p| p.is_dir())
        .cloned()
        .unwrap_or_else(|| PathBuf::from("."));
    let cfg = drydock::config::Config::load(&cfg_dir)
        .map_err(failure)?
        .0
        .lint;
    let cfg_exclude = cfg.exclude.clone();
    let upper = |v: Vec<String>| {
        v.into_iter()
            .map(|s| s.trim().to_ascii_uppercase())
            .filter(|s| !s.is_empty())
            .collect::<BTreeSet<_>>()
    };
    let mut opts = LintOptions {
        select: if a.select.is_empty() {
            upper(cfg.select)
        } else {
            upper(a.select)
        },
        extend_select: upper(cfg.extend_select)
            .into_iter()
            .chain(upper(a.extend_select))
            .collect(),
        ignore: upper(cfg.ignore)
            .into_iter()
            .chain(upper(a.ignore))
            .collect(),
        severity: cfg
            .severity
            .into_iter()
            .map(|(k, v)| (k.to_ascii_uppercase(), v))
            .collect(),
        no_suppressions: a.no_suppressions,
        secret_env: a.secret_env.or(cfg.secret_env).unwrap_or_default(),
        pod_security: a.pod_security.or(cfg.pod_security).unwrap_or_default(),
    };
    opts.validate().map_err(failure)?;
    let fail_on = a.fail_on.or(cfg.fail_on).unwrap_or(Severity::Warning);
    let run = if paths.len() == 1 && paths[0].as_os_str() == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).map_err(|e| {
            drydock::error::Failure::new(
                drydock::error::ErrorKind::Input,
                format!("standard input is not UTF-8 text ({e})"),
            )
        })?;
        let name = a.stdin_filename.clone().unwrap_or_else(|| "-".into());
        lint::lint_text(&name, &text, &opts)
    } else {
        if paths.iter().any(|p| p.as_os_str() == "-") {
            return Err(drydock::error::Failure::new(
                drydock::error::ErrorKind::Usage,
                "`-` (standard input) cannot be mixed with paths",
            )
            .with_fix("lint standard input alone: drydock lint - --stdin-filename NAME"));
        }
        let discover = lint::DiscoverOptions {
            exclude: cfg_exclude.iter().cloned().chain(a.exclude).collect(),
            exclude_root: cfg_dir.clone(),
            no_ignore: a.no_ignore,
        };
        let found = lint::discover_with(&paths, &discover).map_err(|e| match &e {
            // A bad pattern is drydock.toml's when it came from there, else the command line's.
            lint::LintError::Exclude { pattern, .. } if cfg_exclude.contains(pattern) => {
                drydock::error::Failure {
                    path: Some(cfg_dir.join(drydock::config::FILE_NAME)),
                    ..failure(e)
                }
            }
            lint::LintError::Exclude { .. } => drydock::error::Failure {
                kind: drydock::error::ErrorKind::Usage,
                ..failure(e)
            },
            _ => failure(e),
        })?;
        lint::lint_paths(&found, &opts)
    };
    for e in &run.errors {
        super::error_line(ui, &drydock::error::Failure::of(e).text());
    }
    let color = ui.color
        && a.format == lint::output::Format::Text
        && std::io::IsTerminal::is_terminal(&std::io::stdout());
    out(&lint::output::render(
        a.format,
        &run.diagnostics,
        &run.sources,
        color,
        &run.errors,
    ));
    ui.note(&run.summary());
    if !run.errors.is_empty() {
        Ok(2)
    } else if run.diagnostics.iter().any(|d| d.severity >= fail_on) {
        Ok(1)
    } else {
        Ok(0)
    }
}
