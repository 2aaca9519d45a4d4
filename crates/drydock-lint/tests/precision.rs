//! Precision on real files, held: `tests/precision/judged.jsonl` holds findings of drydock lint on
//! the real-world corpus (`../shared/realworld`), drawn at random by `bench/precision/sample` and
//! judged by hand (TP, FP or debatable, each with its reason). The linter is run on the corpus
//! with every rule (the opt-in ones too); a judged false positive that comes back (one that no
//! longer fired when the judgements were recorded: `"fires": false`), or a judged true positive
//! that is lost (one that fired then), fails the test. The false positives that still fire are
//! the known false alarms, and the true positives that no longer fire the known misses: both are
//! printed.
//! BENCHMARKS.md has the tables these judgements give.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use drydock_lint::{discover, lint_paths, LintOptions, Severity};

fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/realworld/files");
    dir.is_dir()
        .then(|| dir.canonicalize().expect("corpus path"))
}

#[test]
fn judged_findings_hold_on_the_real_world_corpus() {
    let Some(corpus) = corpus() else {
        eprintln!(
            "SKIPPED judged_findings_hold_on_the_real_world_corpus: ../shared/realworld is not beside this \
             repository (it is in CI and on the team's machines, not in a user's clone)"
        );
        return;
    };
    let judged_text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/precision/judged.jsonl"),
    )
    .expect("tests/precision/judged.jsonl");
    let found = discover(std::slice::from_ref(&corpus)).expect("discover the corpus");
    // Every rule, the opt-in ones too: their judgements hold as well.
    let mut opts = LintOptions {
        select: ["ALL".to_string()].into(),
        ..LintOptions::default()
    };
    opts.validate().expect("ALL");
    let run = lint_paths(&found, &opts);
    // Info notes are not findings a precision counts.
    let fired: BTreeSet<(String, String, usize)> = run
        .diagnostics
        .iter()
        .filter(|d| d.severity != Severity::Info)
        .map(|d| {
            let rel = Path::new(&d.path)
                .canonicalize()
                .ok()
                .and_then(|p| p.strip_prefix(&corpus).ok().map(Path::to_path_buf))
                .unwrap_or_else(|| PathBuf::from(&d.path));
            (rel.display().to_string(), d.code.to_string(), d.span.line)
        })
        .collect();
    let mut wrong = Vec::new();
    let mut known = Vec::new();
    let mut missed = Vec::new();
    let mut counted = 0;
    for (n, line) in judged_text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let j: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("judged.jsonl:{}: {e}", n + 1));
        let key = (
            j["path"].as_str().expect("path").to_string(),
            j["code"].as_str().expect("code").to_string(),
            j["line"].as_u64().expect("line") as usize,
        );
        let verdict = j["verdict"].as_str().expect("verdict");
        let reason = j["reason"].as_str().unwrap_or("");
        let fired_when_judged = j["fires"].as_bool().expect("fires");
        counted += 1;
        match verdict {
            "FP" if fired_when_judged => known.push(format!("{} {}:{}", key.1, key.0, key.2)),
            "FP" if fired.contains(&key) => wrong.push(format!(
                "a judged false positive is back: {} {}:{} ({reason})",
                key.1, key.0, key.2
            )),
            "TP" if !fired_when_judged => missed.push(format!("{} {}:{}", key.1, key.0, key.2)),
            "TP" if !fired.contains(&key) => wrong.push(format!(
                "a judged true positive is lost: {} {}:{} ({reason})",
                key.1, key.0, key.2
            )),
            "TP" | "FP" | "debatable" => {}
            other => panic!("judged.jsonl:{}: unknown verdict {other:?}", n + 1),
        }
    }
    eprintln!(
        "{} known false alarms still fire:\n  {}",
        known.len(),
        known.join("\n  ")
    );
    eprintln!(
        "{} known misses (judged right, not reported):\n  {}",
        missed.len(),
        missed.join("\n  ")
    );
    assert!(counted >= 300, "only {counted} judged findings");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
