//! Every rule against its fixture, Ruff's way: `tests/fixtures/<CODE>.<ext>` holds cases that
//! must (`#### bad …`) and must not (`#### good …`) trigger it; the findings of all cases, with
//! their spans and messages, are compared with `tests/snapshots/<CODE>.snap`.
//!
//! A changed snapshot fails. `UPDATE_SNAPSHOTS=1 cargo test -p drydock-lint --test snapshots`
//! writes the new one and still fails, so that every change is a reviewed diff.
//! Rules that need a build context (DI…) have a directory of cases instead: `<CODE>/bad-…/` and
//! `<CODE>/good-…/`, each with a Dockerfile and its context.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use drydock_lint::yaml::parse_file;
use drydock_lint::{
    catalog, lint_compose, lint_dockerfile, lint_file, lint_kubernetes, Diagnostic, LintOptions,
};

fn dir(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(sub)
}

/// One case: its title and its text, with the lines before it blanked so that line numbers are
/// the fixture file's.
fn cases(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut blank = String::new();
    for line in text.split_inclusive('\n') {
        if let Some(title) = line.strip_prefix("#### ") {
            out.push((title.trim().to_string(), blank.clone() + "\n"));
        } else if let Some((_, body)) = out.last_mut() {
            body.push_str(line);
        }
        blank.push('\n');
    }
    out
}

fn only(code: &str) -> LintOptions {
    LintOptions {
        select: [code.to_string()].into(),
        ..LintOptions::default()
    }
}

fn lint_case(code: &str, path: &str, text: &str) -> Vec<Diagnostic> {
    let opts = only(code);
    if code.starts_with("DF") {
        lint_dockerfile(path, text, &opts).unwrap_or_else(|e| panic!("{path}: {e}"))
    } else {
        let f = parse_file(path, text).unwrap_or_else(|e| panic!("{path}: {e}"));
        if code.starts_with("CP") {
            lint_compose(&[f], &opts)
        } else {
            lint_kubernetes(&[f], &opts)
        }
    }
}

fn render(out: &mut String, title: &str, found: &[Diagnostic]) {
    let _ = writeln!(out, "#### {title}");
    for d in found {
        let s = &d.span;
        let _ = writeln!(
            out,
            "{}:{}:{}-{}:{} {} [{}] {}",
            d.path,
            s.line,
            s.column,
            s.end_line,
            s.end_column,
            d.code,
            d.severity.as_str(),
            d.message
        );
        if let Some(fix) = &d.fix {
            let _ = writeln!(out, "    fix: {fix}");
        }
    }
}

/// Lints one rule's fixture and returns its snapshot text, checking bad/good on the way.
fn snapshot(code: &str) -> Result<String, String> {
    let fixtures = dir("fixtures");
    let mut out = String::new();
    let mut problems = Vec::new();
    let (mut bad, mut good) = (0, 0);
    let mut judge = |title: &str, found: &[Diagnostic], problems: &mut Vec<String>| {
        if title.starts_with("bad") {
            bad += 1;
            if found.is_empty() {
                problems.push(format!("{code} `{title}` must trigger it and does not"));
            }
        } else if title.starts_with("good") {
            good += 1;
            if !found.is_empty() {
                problems.push(format!("{code} `{title}` must not trigger it: {found:?}"));
            }
        } else {
            problems.push(format!("{code}: case `{title}` is neither bad nor good"));
        }
    };
    let case_dir = fixtures.join(code);
    if case_dir.is_dir() {
        let mut names: Vec<_> = std::fs::read_dir(&case_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for name in names {
            let df = case_dir.join(&name).join("Dockerfile");
            let found = lint_file(&df, &only(code)).unwrap_or_else(|e| panic!("{name}: {e}"));
            // Paths relative to the fixtures, whatever the checkout's location.
            let found: Vec<Diagnostic> = found
                .into_iter()
                .map(|mut d| {
                    d.path = format!("{code}/{name}/Dockerfile");
                    d.message = d.message.replace(&case_dir.display().to_string(), code);
                    d
                })
                .collect();
            judge(&name, &found, &mut problems);
            render(&mut out, &name, &found);
        }
    } else {
        let file = ["Dockerfile", "yaml"]
            .iter()
            .map(|ext| fixtures.join(format!("{code}.{ext}")))
            .find(|p| p.is_file())
            .ok_or_else(|| format!("{code} has no fixture in tests/fixtures"))?;
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let path = if code.starts_with("CP") {
            format!("{code}/compose.yaml")
        } else {
            name.clone()
        };
        for (title, text) in cases(&std::fs::read_to_string(&file).unwrap()) {
            let found = lint_case(code, &path, &text);
            judge(&title, &found, &mut problems);
            render(&mut out, &title, &found);
        }
    }
    if bad == 0 || good == 0 {
        problems.push(format!(
            "{code}: a fixture needs cases that trigger it and cases that do not"
        ));
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems.join("\n"))
    }
}

#[test]
fn every_rule_matches_its_snapshot() {
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some();
    let snaps = dir("snapshots");
    let mut failures = Vec::new();
    for rule in catalog::RULES {
        let got = match snapshot(rule.code) {
            Ok(s) => s,
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        let path = snaps.join(format!("{}.snap", rule.code));
        let want = std::fs::read_to_string(&path).unwrap_or_default();
        if got != want {
            if update {
                std::fs::create_dir_all(&snaps).unwrap();
                std::fs::write(&path, &got).unwrap();
                failures.push(format!(
                    "{}: snapshot written, review the diff and run again",
                    rule.code
                ));
            } else {
                failures.push(format!(
                    "{}: the findings differ from {} (UPDATE_SNAPSHOTS=1 writes the new ones)\n--- snapshot\n{want}--- now\n{got}",
                    rule.code,
                    path.display()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn case_splitting_keeps_fixture_line_numbers() {
    let c = cases("#### bad 1\nFROM a\n#### good 1\nFROM b\nUSER 1\n");
    assert_eq!(c.len(), 2);
    assert_eq!(c[1].0, "good 1");
    assert_eq!(c[1].1.lines().position(|l| l == "FROM b"), Some(3));
}
