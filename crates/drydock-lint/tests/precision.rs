//! Precision on real files, held: `tests/precision/judged.jsonl` holds findings of drydock lint on
//! the real-world corpus (`../shared/realworld`), drawn at random by `bench/precision/sample` and
//! judged by hand (TP, FP or debatable, each with its reason). The linter is run on the corpus
//! with every rule (the opt-in ones too); a judged false positive that comes back (one that no
//! longer fired when the judgements were recorded: `"fires": false`), or a judged true positive
//! that is lost (one that fired then), fails the test. The false positives that still fire are
//! the known false alarms, and the true positives that no longer fire the known misses: both are
//! printed. Each kind (Dockerfile, Compose, Kubernetes) must have at least 100 judged findings of
//! the default selection that still fire, fixtures apart, so its precision is measured on as
//! many. `DRYDOCK_REALWORLD` names the corpus where shared/ is elsewhere; without it the test says
//! why it is skipped.
//! BENCHMARKS.md has the tables these judgements give.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use drydock_lint::catalog::is_default;
use drydock_lint::{discover, lint_paths, LintOptions, Severity};

/// The corpus's files: `DRYDOCK_REALWORLD` names the corpus (the folder holding `files/`), else
/// `shared/realworld` beside the repository or above it, as the CLI's tests find it; `Err` says
/// why it is absent.
fn corpus() -> Result<PathBuf, String> {
    const ENV: &str = "DRYDOCK_REALWORLD";
    let root = match std::env::var_os(ENV) {
        Some(p) => {
            let p = PathBuf::from(p);
            if !p.is_dir() {
                return Err(format!("{} (named by {ENV}) is absent", p.display()));
            }
            p
        }
        None => {
            let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
            let repo = repo.canonicalize().unwrap_or(repo);
            repo.ancestors()
                .skip(1)
                .map(|a| a.join("shared/realworld"))
                .find(|p| p.is_dir())
                .ok_or_else(|| {
                    format!(
                        "shared/realworld is absent: it lives beside the repository, in ../shared, \
                         only on the project's machines, and is not beside {} nor above it ({ENV} \
                         names another place)",
                        repo.display()
                    )
                })?
        }
    };
    let files = root.join("files");
    if !files.is_dir() {
        return Err(format!("{} has no files/ folder", root.display()));
    }
    Ok(files.canonicalize().expect("corpus path"))
}

/// The corpus projects' own test fixtures (files written to be wrong or odd on purpose), which
/// `bench/precision/sample` draws and counts apart.
fn is_fixture(path: &str) -> bool {
    let p = format!("/{path}");
    [
        "/GoogleContainerTools+kaniko/integration/",
        "/docker+compose/pkg/e2e/",
        "/nginxinc+kubernetes-ingress/tests/data/",
        "/argoproj+argo-workflows/test/",
        "/.chainsaw-test/",
        "/.kyverno-test/",
        "/testdata/",
        "/fake/data/",
    ]
    .iter()
    .any(|f| p.contains(f))
        || (p.contains("/traefik+traefik/pkg/provider/kubernetes/") && p.contains("/fixtures/"))
}

/// Judged findings of each kind's default selection that still fire (fixtures apart): the
/// precision BENCHMARKS.md states is measured on at least this many of each kind.
const MIN_JUDGED_PER_KIND: usize = 100;

#[test]
fn judged_findings_hold_on_the_real_world_corpus() {
    let corpus = match corpus() {
        Ok(c) => c,
        Err(why) => {
            println!("skipped: the real-world corpus: {why}");
            return;
        }
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
    let mut per_kind: BTreeMap<String, usize> = BTreeMap::new();
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
        if fired.contains(&key) && is_default(&key.1) && !is_fixture(&key.0) {
            *per_kind
                .entry(j["kind"].as_str().expect("kind").to_string())
                .or_default() += 1;
        }
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
    eprintln!("judged findings of the default selection that fire, per kind: {per_kind:?}");
    for kind in ["compose", "dockerfile", "k8s"] {
        let n = per_kind.get(kind).copied().unwrap_or(0);
        assert!(
            n >= MIN_JUDGED_PER_KIND,
            "{kind}: only {n} judged findings of the default selection still fire (fixtures \
             apart); judge more (bench/precision/sample) so its precision is measured on at \
             least {MIN_JUDGED_PER_KIND}"
        );
    }
}
