//! `drydock lint` from the command line: discovery, exit codes, formats (SARIF validated against
//! the SARIF 2.1.0 schema), configuration, and the generated Dockerfiles being clean.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// `drydock lint PATH --format json ARGS…`: each finding's code, file name and line.
fn lint_json(path: &Path, args: &[&str]) -> Vec<(String, String, u64)> {
    let out = run(drydock()
        .arg("lint")
        .arg(path)
        .args(["--format", "json"])
        .args(args));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| {
            let file = x["path"].as_str().unwrap().rsplit('/').next().unwrap();
            (
                x["code"].as_str().unwrap().to_string(),
                file.to_string(),
                x["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// The codes of [`lint_json`]'s findings.
fn lint_codes(path: &Path, args: &[&str]) -> Vec<String> {
    lint_json(path, args)
        .into_iter()
        .map(|(c, _, _)| c)
        .collect()
}

#[test]
fn discovery_exit_codes_and_formats() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    write(
        d,
        "Dockerfile",
        "FROM alpine\nUSER 1\nHEALTHCHECK CMD [\"/p\"]\n",
    );
    write(
        d,
        "svc/api.Dockerfile",
        "FROM scratch\nUSER 1\nHEALTHCHECK CMD [\"/p\"]\nCMD ./api\n",
    );
    write(
        d,
        "Dockerfile.dev",
        "FROM scratch\nUSER 1\nHEALTHCHECK CMD [\"/p\"]\n",
    );
    write(d, "ignored/Dockerfile", "FROM alpine\n");
    write(d, ".gitignore", "ignored/\n");
    write(d, ".dockerignore", ".git\n");
    write(d, "svc/.dockerignore", "*.log\n");
    std::fs::create_dir_all(d.join(".git")).unwrap();

    let out = run(drydock().arg("lint").arg(d));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("Dockerfile:1:6: DF001") && text.contains("api.Dockerfile:4:1: DF007"),
        "{text}"
    );
    assert!(!text.contains("ignored"), ".gitignore is honoured: {text}");
    assert!(
        text.contains("1 | FROM alpine") && text.contains("^^^^^^"),
        "code frame with caret: {text}"
    );

    // JSON carries the same findings.
    let out = run(drydock().arg("lint").arg(d).args(["--format", "json"]));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let codes: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["DF001", "DF007"]);

    // GitHub annotations.
    let out = run(drydock().arg("lint").arg(d).args(["--format", "github"]));
    let gh = String::from_utf8_lossy(&out.stdout);
    assert!(
        gh.lines().any(|l| l.starts_with("::warning file=")
            && l.contains(
                ",line=1,col=6,endLine=1,endColumn=12,title=DF001 unpinned-base-image::"
            )),
        "{gh}"
    );

    // Thresholds and selection.
    assert_eq!(
        run(drydock().arg("lint").arg(d).args(["--fail-on", "error"]))
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        run(drydock()
            .arg("lint")
            .arg(d)
            .args(["--ignore", "DF001,DF007"]))
        .status
        .code(),
        Some(0)
    );
    assert_eq!(
        run(drydock().arg("lint").arg(d).args(["--select", "DF999"]))
            .status
            .code(),
        Some(2)
    );
    write(
        d,
        "drydock.toml",
        "[lint]\nignore = [\"DF001\"]\nseverity = { DF007 = \"info\" }\n",
    );
    assert_eq!(
        run(drydock().arg("lint").arg(d)).status.code(),
        Some(0),
        "drydock.toml's [lint] applies"
    );
    std::fs::remove_file(d.join("drydock.toml")).unwrap();

    // A file that does not parse is exit 2, with its name and line.
    write(d, "bad/Dockerfile", "FROM x\nENV ONLYKEY\n");
    let out = run(drydock().arg("lint").arg(d.join("bad/Dockerfile")));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("bad/Dockerfile:2: ENV must have two arguments"));
    assert_eq!(
        run(drydock().arg("lint").arg(d.join("nope"))).status.code(),
        Some(2)
    );
}

/// The opt-in rules (outside the default selection, as `drydock rules` lists them) do not run
/// unless asked for; drydock.toml's `[lint] extend_select` adds them to the default selection and
/// `[lint] select` replaces it; on the command line `--select` replaces `[lint] select` and
/// `--extend-select` adds to `[lint] extend_select`.
#[test]
fn opt_in_rules_run_only_when_selected_here_or_in_drydock_toml() {
    let out = run(drydock().args(["rules", "--format", "json"]));
    let rules: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let opt_in: BTreeSet<String> = rules
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["default"] == false)
        .map(|r| r["code"].as_str().unwrap().to_string())
        .collect();
    assert!(
        opt_in.contains("CP004") && opt_in.contains("DF024"),
        "{opt_in:?}"
    );
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    // Breaks every opt-in rule, and CP009 (an untagged image), which is on by default.
    write(
        d,
        "compose.yaml",
        "services:\n  app:\n    image: registry.example.com/app:1.0\n    user: root\n    \
         ports: [\"8080:8080\"]\n    environment:\n      DB_PASSWORD: hunter2\n  cache:\n    \
         image: redis\n",
    );
    write(
        d,
        "Dockerfile",
        "FROM golang:1.22\nWORKDIR /src\nCOPY main.go .\nRUN go build -o /usr/local/bin/app .\n\
         CMD [\"app\"]\n",
    );
    write(d, "main.go", "package main\n");
    write(d, ".dockerignore", ".git\n");
    let codes = |args: &[&str]| -> BTreeSet<String> { lint_codes(d, args).into_iter().collect() };
    let set = |c: &[&str]| -> BTreeSet<String> { c.iter().map(|c| c.to_string()).collect() };
    let everything = codes(&["--select", "ALL"]);
    assert!(
        opt_in.is_subset(&everything),
        "the fixture breaks every opt-in rule: {everything:?} lacks some of {opt_in:?}"
    );
    // Nothing selected: the default selection, no opt-in rule.
    assert_eq!(codes(&[]), set(&["CP009"]));
    assert_eq!(
        codes(&["--extend-select", "CP004"]),
        set(&["CP004", "CP009"])
    );
    // drydock.toml's [lint] extend_select adds to the default selection.
    write(
        d,
        "drydock.toml",
        "[lint]\nextend_select = [\"cp004\", \"DF024\"]\n",
    );
    assert_eq!(codes(&[]), set(&["CP004", "CP009", "DF024"]));
    assert_eq!(
        codes(&["--extend-select", "CP005"]),
        set(&["CP004", "CP005", "CP009", "DF024"]),
        "--extend-select adds to [lint] extend_select"
    );
    // [lint] select replaces the default selection; --select replaces [lint] select.
    write(
        d,
        "drydock.toml",
        "[lint]\nselect = [\"CP004\", \"CP007\"]\n",
    );
    assert_eq!(codes(&[]), set(&["CP004", "CP007"]));
    assert_eq!(codes(&["--select", "CP009"]), set(&["CP009"]));
    write(
        d,
        "drydock.toml",
        "[lint]\nselect = [\"CP\"]\nextend_select = [\"DF024\"]\nignore = [\"CP001\"]\n",
    );
    assert_eq!(
        codes(&[]),
        set(&["CP004", "CP005", "CP006", "CP007", "CP009", "DF024"]),
        "a family selects its opt-in rules too; ignore wins"
    );
}

/// A folder of the project's shared data, `shared/NAME`: where the environment variable `env`
/// says, else beside the repository (../shared) or, from a git worktree, beside the folder of
/// the worktrees. `Err` says where it was looked for, for the test to print that it is skipped
/// and why: shared/ lives only on the project's machines.
fn shared_dir(name: &str, env: &str) -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os(env) {
        let p = PathBuf::from(p);
        return if p.is_dir() {
            Ok(p)
        } else {
            Err(format!("{} (named by {env}) is absent", p.display()))
        };
    }
    let root = repo_root();
    root.ancestors()
        .skip(1)
        .map(|a| a.join("shared").join(name))
        .find(|p| p.is_dir())
        .ok_or_else(|| {
            format!(
                "shared/{name} is absent: it lives beside the repository, in ../shared, only on \
                 the project's machines, and is not beside {} nor above it ({env} names another \
                 place)",
                root.display()
            )
        })
}

/// Validates a SARIF file against the SARIF 2.1.0 schema (jsonschema, in the tools' venv), the
/// schema being shared/conformance/sarif's; without it, says the check is skipped.
fn validate_sarif(sarif: &Path) {
    let schema = match shared_dir("conformance/sarif", "DRYDOCK_SARIF_SCHEMAS") {
        Ok(dir) => dir.join("sarif-2.1.0-rtm.5.json"),
        Err(why) => {
            println!("skipped: validating SARIF against its schema: {why}");
            return;
        }
    };
    let py = format!(
        "import json,sys,jsonschema; jsonschema.validate(json.load(open('{}')), json.load(open('{}'))); print('valid')",
        sarif.display(),
        schema.display()
    );
    let python = std::env::var("DRYDOCK_TOOLS")
        .map(|t| format!("{t}/venv/bin/python"))
        .unwrap_or_else(|_| {
            format!(
                "{}/.cache/drydock-tools/venv/bin/python",
                std::env::var("HOME").unwrap()
            )
        });
    let o = run(Command::new(python).args(["-c", &py]));
    assert!(
        o.status.success() && String::from_utf8_lossy(&o.stdout).contains("valid"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn sarif_validates_against_the_schema() {
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        "Dockerfile",
        "FROM alpine\nENV API_TOKEN=x\nCMD run\n",
    );
    let out = run(drydock()
        .arg("lint")
        .arg(t.path())
        .args(["--format", "sarif"]));
    assert_eq!(out.status.code(), Some(1));
    let sarif = t.path().join("out.sarif");
    std::fs::write(&sarif, &out.stdout).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let run0 = &v["runs"][0];
    assert_eq!(
        run0["tool"]["driver"]["rules"].as_array().unwrap().len(),
        drydock::lint::catalog::RULES.len()
    );
    let r = &run0["results"][0]["locations"][0]["physicalLocation"]["region"];
    assert!(
        r["startLine"].is_u64()
            && r["startColumn"].is_u64()
            && r["endLine"].is_u64()
            && r["endColumn"].is_u64()
    );
    validate_sarif(&sarif);
}

#[test]
fn generated_dockerfiles_have_zero_findings() {
    for ex in ["gin-api", "axum-api"] {
        let (_t, dir) = copy_example(ex);
        let out = dir.join("deploy");
        run_ok(
            drydock()
                .arg("deploy")
                .arg(&dir)
                .args(["--target", "dockerfile", "--image", "x", "--out"])
                .arg(&out),
        );
        let o = run(drydock()
            .arg("lint")
            .arg(out.join("docker/Dockerfile"))
            .args(["--format", "json"]));
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stdout)
        );
        assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "[]");
    }
}

#[test]
fn rules_and_rule_explain_the_catalog() {
    let list = run_ok(drydock().arg("rules"));
    assert_eq!(list.lines().count(), drydock::lint::catalog::RULES.len());
    let doc = run_ok(drydock().args(["rule", "DF004"]));
    assert!(
        doc.starts_with("# DF004 runs-as-root")
            && doc.contains("## Why is this bad?")
            && doc.contains("DL3002"),
        "{doc}"
    );
    assert_eq!(run(drydock().args(["rule", "XX1"])).status.code(), Some(2));
}

/// `drydock rule KS005`, a retired code, says it is retired and names every rule that took its
/// checks (the Pod Security rules), with one fix: exit 2, as for any code that is no rule, but
/// never "no rule" (issue 19). Any spelling of the code.
#[test]
fn a_retired_code_is_said_retired_with_what_replaced_it() {
    let successors: Vec<&str> = drydock::lint::catalog::RULES
        .iter()
        .filter(|r| r.pod_security.is_some())
        .map(|r| r.code)
        .collect();
    assert!(successors.len() > 10, "{successors:?}");
    for code in ["KS005", "ks005"] {
        let out = run(drydock().args(["rule", code]));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{code}: {err}");
        assert!(out.stdout.is_empty(), "{code}");
        assert!(
            err.starts_with(&format!(
                "error: KS005 is retired: its checks are now {}\n",
                successors.join(", ")
            )),
            "{code}: {err}"
        );
        assert!(!err.contains("no rule"), "{code}: {err}");
        assert_eq!(err.matches("fix:").count(), 1, "{err}");
        assert!(
            err.contains(&format!("fix: `drydock rule {}` explains", successors[0]))
                && err.contains("KS005 still means all of them"),
            "{err}"
        );
        // The rule it names exists and is explained.
        let doc = run_ok(drydock().args(["rule", successors[0]]));
        assert!(doc.starts_with(&format!("# {}", successors[0])), "{doc}");
    }
    // A code that never was a rule is still "no rule".
    let out = run(drydock().args(["rule", "KS999"]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("no rule \"KS999\"") && !err.contains("retired"),
        "{err}"
    );
}

#[test]
fn malformed_files_give_clear_errors_and_never_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/malformed");
    let expected = [
        ("empty.Dockerfile", ":1: file with no instructions"),
        ("only-comments.Dockerfile", ":1: file with no instructions"),
        ("env-no-value.Dockerfile", ":2: ENV must have two arguments"),
        (
            "label-no-equals.Dockerfile",
            ":2: Syntax error - can't find =",
        ),
        (
            "nested-json.Dockerfile",
            ":2: dockerfile JSON arrays must contain only strings",
        ),
        (
            "unterminated-heredoc.Dockerfile",
            ":2: unterminated heredoc EOF",
        ),
        (
            "repeated-escape.Dockerfile",
            ":2: only one escape parser directive",
        ),
        ("bad-escape.Dockerfile", ":1: invalid escape token"),
        ("binary.Dockerfile", "is a binary file"),
    ];
    let mut seen = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let want = expected
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("{name} has no expectation"))
            .1;
        let out = run(drydock().arg("lint").arg(&p));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains(&name) && err.contains(want), "{name}: {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
        seen += 1;
    }
    assert_eq!(seen, expected.len());
}

/// Bad input says what it is; what was linted and skipped is always said.
#[test]
fn lint_says_what_it_linted_and_skipped() {
    let t = tempfile::tempdir().unwrap();
    let lint = |args: &[&std::path::Path]| {
        let out = run(drydock().arg("lint").args(args));
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // An empty directory: exit 0, and it says nothing was found.
    let empty = t.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let (c, out, err) = lint(&[&empty]);
    assert_eq!(c, Some(0));
    assert_eq!(out, "no findings\n");
    assert!(
        err.contains(
            "linted nothing: no Dockerfile, Kubernetes manifest or Compose file was found"
        ),
        "{err}"
    );
    // A README named explicitly: skipped with a note, not linted as a Dockerfile.
    let readme = t.path().join("README.md");
    std::fs::write(&readme, "# My service\n\nRun it with make.\n").unwrap();
    let (c, _, err) = lint(&[&readme]);
    assert_eq!(c, Some(0), "{err}");
    assert!(
        err.contains("README.md: not a Dockerfile, Kubernetes manifest or Compose file"),
        "{err}"
    );
    assert!(!err.contains("error"), "{err}");
    // A Dockerfile by content, under another name, is linted as one.
    let build = t.path().join("build.txt");
    std::fs::write(
        &build,
        "FROM scratch\nCOPY app /app\nUSER 65532\nENTRYPOINT [\"/app\"]\n",
    )
    .unwrap();
    let (_, _, err) = lint(&[&build]);
    assert!(err.contains("linted 1 file (1 Dockerfile)"), "{err}");
    // Invalid UTF-8 and YAML errors: their own messages and hints, exit 2, never "no findings".
    let latin = t.path().join("Dockerfile");
    std::fs::write(&latin, b"FROM x\n# caf\xe9\n").unwrap();
    let (c, out, err) = lint(&[&latin]);
    assert_eq!(c, Some(2));
    assert!(
        err.contains("is not UTF-8 text") && err.contains("save it as UTF-8"),
        "{err}"
    );
    assert!(out.contains("could not be"), "{out}");
    let yaml = t.path().join("deploy.yaml");
    std::fs::write(&yaml, "apiVersion: v1\nkind: Pod\nmetadata: [1\n").unwrap();
    let (c, _, err) = lint(&[&yaml]);
    assert_eq!(c, Some(2));
    assert!(
        err.contains("deploy.yaml:4:1:") && err.contains("make it valid YAML"),
        "{err}"
    );
    assert!(
        !err.contains("Dockerfile BuildKit"),
        "no Dockerfile hint on YAML: {err}"
    );
    // Counts by kind, and YAML that is not Kubernetes is skipped with why.
    std::fs::write(
        &yaml,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
    )
    .unwrap();
    let ci = t.path().join("ci.yml");
    std::fs::write(&ci, "jobs:\n  test: {}\n").unwrap();
    let (_, _, err) = lint(&[&yaml, &ci, &build]);
    assert!(
        err.contains("linted 2 files (1 Dockerfile, 1 Kubernetes manifest)"),
        "{err}"
    );
    assert!(
        err.contains("skipped") && err.contains("ci.yml: YAML without Kubernetes objects"),
        "{err}"
    );
}

/// Helm charts and templates are skipped with a note and never make the run exit 2;
/// Containerfile and the other Dockerfile names are found.
#[test]
fn templates_are_skipped_and_dockerfile_names_found() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    let chart = root.join("charts/api");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: api\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(
        chart.join("templates/deployment.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n{{- if .Values.x }}\n",
    )
    .unwrap();
    std::fs::write(
        root.join("loose.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.name }}\n",
    )
    .unwrap();
    // A quoted action is just text: this one is linted.
    std::fs::write(root.join("rules.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: rules\ndata:\n  a: \"{{ $labels.x }}\"\n").unwrap();
    for name in [
        "Containerfile",
        "api.dockerfile",
        "Dockerfile-prod",
        "Dockerfile_dev",
        "Dockerfile.ci",
    ] {
        std::fs::write(root.join(name), "FROM scratch\nCOPY app /app\nUSER 65532:65532\nEXPOSE 8080\nHEALTHCHECK CMD [\"/app\", \"probe\"]\nENTRYPOINT [\"/app\"]\n").unwrap();
    }
    std::fs::write(root.join("Dockerfile.template"), "FROM %%BASE%%\n").unwrap();
    std::fs::write(root.join(".dockerignore"), ".git\n").unwrap();
    let out = run(drydock().arg("lint").arg(root));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("linted 6 files (5 Dockerfiles, 1 Kubernetes manifest)"),
        "{err}"
    );
    assert!(err.contains("charts/api: a Helm chart: render it"), "{err}");
    assert!(err.contains("loose.yaml: a template"), "{err}");
    assert!(
        err.contains("Dockerfile.template: a Dockerfile template"),
        "{err}"
    );
}

#[test]
fn standard_input_is_linted_by_its_stated_or_sniffed_kind() {
    let lint_stdin = |args: &[&str], input: &str| {
        let mut c = drydock();
        c.arg("lint").args(args).args(["--format", "json"]);
        c.stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = c.spawn().unwrap();
        // A usage error exits before reading its input: a closed pipe is then expected.
        match std::io::Write::write_all(&mut child.stdin.take().unwrap(), input.as_bytes()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => panic!("writing stdin: {e}"),
            _ => {}
        }
        let o = child.wait_with_output().unwrap();
        let codes: Vec<String> = serde_json::from_slice::<serde_json::Value>(&o.stdout)
            .map(|v| {
                v.as_array()
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                    .map(|d| d["code"].as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default();
        (
            o.status.code(),
            codes,
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    // A Dockerfile, known from its first line.
    let (code, codes, _) = lint_stdin(&["-"], "FROM alpine:3.20\nRUN apk add curl\nUSER 1\n");
    assert_eq!(code, Some(1));
    assert!(codes.contains(&"DF002".to_string()), "{codes:?}");
    // Compose, from --stdin-filename; the findings name that file.
    let (_, codes, err) = lint_stdin(
        &["-", "--stdin-filename", "compose.yaml", "--select", "CP003"],
        "services:\n  app:\n    image: x:1\n    privileged: true\n",
    );
    assert_eq!(codes, ["CP003"], "{err}");
    // A Kubernetes manifest, sniffed.
    let (_, codes, _) = lint_stdin(&["-", "--select", "KS009"], "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec:\n  containers:\n  - {name: c, image: nginx}\n");
    assert_eq!(codes, ["KS009"]);
    // Broken YAML on stdin: exit 2 with a YAML hint.
    let (code, _, err) = lint_stdin(
        &["-", "--stdin-filename", "k.yaml"],
        "apiVersion: v1\nkind: [\n",
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("k.yaml") && err.contains("YAML"), "{err}");
    // `-` with paths is a usage error.
    let (code, _, err) = lint_stdin(&["-", "."], "FROM x\n");
    assert_eq!(code, Some(2));
    assert!(err.contains("standard input"), "{err}");
}

#[test]
fn utf16_files_with_a_byte_order_mark_are_read_as_kubectl_reads_them() {
    let t = tempfile::tempdir().unwrap();
    let utf16 = |text: &str, le: bool| {
        let mut b = if le {
            vec![0xFF, 0xFE]
        } else {
            vec![0xFE, 0xFF]
        };
        for u in text.encode_utf16() {
            b.extend(if le { u.to_le_bytes() } else { u.to_be_bytes() });
        }
        b
    };
    std::fs::write(t.path().join("pod.yaml"), utf16("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec:\n  containers:\n  - {name: c, image: nginx}\n", true)).unwrap();
    // Named on the command line with no telling name: sniffed through the UTF-16.
    std::fs::write(
        t.path().join("services"),
        utf16(
            "services:\n  app:\n    image: x:1\n    privileged: true\n",
            false,
        ),
    )
    .unwrap();
    let o = run(drydock()
        .arg("lint")
        .arg(t.path().join("pod.yaml"))
        .arg(t.path().join("services"))
        .args(["--select", "KS009,CP003", "--format", "json"]));
    let codes: Vec<String> = serde_json::from_slice::<serde_json::Value>(&o.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        codes,
        ["KS009", "CP003"],
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // Positions are in characters of the decoded text.
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (d[0]["line"].as_u64(), d[0]["column"].as_u64()),
        (Some(6), Some(22))
    );
    // A UTF-16 mark followed by something else: an input error naming the file.
    let mut bad = vec![0xFF, 0xFE];
    bad.extend([0x00, 0xD8, 0x41, 0x00]); // a lone surrogate
    std::fs::write(t.path().join("bad.yaml"), bad).unwrap();
    let o = run(drydock().arg("lint").arg(t.path().join("bad.yaml")));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("UTF-16"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The Pod Security profile: strict by default, `--pod-security`, `[lint] pod_security`, a
/// Namespace's enforce label; the retired KS005 standing for its successors.
#[test]
fn pod_security_profiles_and_the_retired_code() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    // Baseline-clean, restricted-dirty: no runAsNonRoot, no seccomp, nothing dropped.
    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: apps\nspec:\n  containers:\n  - name: app\n    image: app:1.0\n";
    write(d, "k8s/pod.yaml", pod);
    let codes = |args: &[&str], dir: &Path| -> Vec<String> {
        let select = ["--select", "PS001,PS002,PS003,PS014,PS015,PS017,PS018"];
        let mut c = lint_codes(dir, &[&select[..], args].concat());
        c.dedup();
        c
    };
    assert_eq!(codes(&[], d), ["PS014", "PS015", "PS017", "PS018"]);
    assert!(codes(&["--pod-security", "baseline"], d).is_empty());
    write(d, "drydock.toml", "[lint]\npod_security = \"baseline\"\n");
    assert!(codes(&[], d).is_empty());
    std::fs::remove_file(d.join("drydock.toml")).unwrap();
    // A Namespace in the input labelled baseline, as the admission controller reads it.
    write(
        d,
        "k8s/ns.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n  labels:\n    pod-security.kubernetes.io/enforce: baseline\n",
    );
    assert!(codes(&[], d).is_empty());
    std::fs::remove_file(d.join("k8s/ns.yaml")).unwrap();
    // `--ignore KS005` still works: it ignores every Pod Security rule.
    let codes = lint_codes(d, &["--ignore", "KS005,KS001,KS003,KS006,KS009"]);
    assert!(codes.iter().all(|c| !c.starts_with("PS")), "{codes:?}");
    // rules --format json says each rule's level.
    let out = run(drydock().args(["rules", "--format", "json"]));
    let rules: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let level = |code: &str| {
        rules
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["code"] == code)
            .unwrap()["pod_security"]
            .clone()
    };
    assert_eq!(level("PS003"), "baseline");
    assert_eq!(level("PS015"), "restricted");
    assert_eq!(level("KS001"), serde_json::Value::Null);
}

/// What BuildKit refuses is an input error (exit 2), not a finding; YAML as kubectl reads it.
#[test]
fn rejected_dockerfiles_and_yaml_as_kubectl_reads_it() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    write(d, "a/Dockerfile", "FROM alpine:3.20\nFOO bar\n");
    let out = run(drydock().arg("lint").arg(d.join("a/Dockerfile")));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("Dockerfile:2: unknown instruction: FOO"),
        "{err}"
    );
    write(d, "b/Dockerfile", "FROM image:sha256:0123abcd\n");
    let out = run(drydock().arg("lint").arg(d.join("b/Dockerfile")));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("Dockerfile:1: FROM image:sha256:0123abcd: not a valid image reference"),
        "{err}"
    );
    // A duplicate key is a warning at the duplicate, and the last value is the one judged;
    // a merge key brings a service's settings from an anchor.
    write(
        d,
        "c/compose.yaml",
        "x-common: &common\n  read_only: true\n  user: \"65532\"\nservices:\n  app:\n    <<: *common\n    image: app:1.0\n    image: app:1.1\n",
    );
    // CP004 is opt-in: turned on as a user would.
    let found: Vec<(String, u64)> =
        lint_json(&d.join("c/compose.yaml"), &["--extend-select", "CP004"])
            .into_iter()
            .map(|(c, _, l)| (c, l))
            .collect();
    assert!(found.contains(&("YM001".into(), 8)), "{found:?}");
    assert!(
        !found.iter().any(|(c, _)| c == "CP004"),
        "the merged user is seen: {found:?}"
    );
}

/// A kustomize patch is a partial object: nothing is reported missing from it, but what it
/// sets is still judged.
#[test]
fn kustomize_patches_are_partial_objects() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    write(
        d,
        "overlay/kustomization.yaml",
        "resources: [../base]\npatches:\n- path: replicas.yaml\npatchesStrategicMerge:\n- privileged.yaml\n",
    );
    write(
        d,
        "overlay/replicas.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: api }\nspec:\n  replicas: 3\n  template:\n    spec:\n      containers:\n      - name: api\n        image: registry.example.com/api:1.1\n",
    );
    write(
        d,
        "overlay/privileged.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: api }\nspec:\n  template:\n    spec:\n      containers:\n      - name: api\n        securityContext: { privileged: true }\n",
    );
    let found: Vec<(String, String)> = lint_json(&d.join("overlay"), &[])
        .into_iter()
        .map(|(c, f, _)| (c, f))
        .collect();
    assert_eq!(
        found,
        [("PS003".to_string(), "privileged.yaml".to_string())],
        "only what a patch sets is judged"
    );
    // The same file outside a kustomization is a whole object, and incomplete.
    std::fs::remove_file(d.join("overlay/kustomization.yaml")).unwrap();
    let out = run(drydock().arg("lint").arg(d.join("overlay/replicas.yaml")));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("KS001") && text.contains("PS014"), "{text}");
}

/// A Compose file and its override are judged together, as `docker compose up` runs them, and a
/// finding on what the override brings names the override.
#[test]
fn compose_overrides_are_merged_with_their_base() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    write(
        d,
        "compose.yaml",
        "services:\n  app:\n    image: registry.example.com/api:1.0\n    user: \"65532:65532\"\n    read_only: true\n    cpus: \"1\"\n    mem_limit: 256m\n    expose: [\"8080\"]\n",
    );
    write(
        d,
        "compose.override.yaml",
        "services:\n  app:\n    ports: [\"8080:8080\"]\n    healthcheck:\n      test: [\"CMD\", \"/probe\"]\n",
    );
    // CP001 and CP006 are opt-in: turned on as a user would.
    let found = lint_json(d, &["--extend-select", "CP001,CP006"]);
    assert!(
        found.contains(&("CP001".into(), "compose.override.yaml".into(), 3)),
        "the published port is reported in the override: {found:?}"
    );
    assert!(
        !found.iter().any(|(c, _, _)| c == "CP006"),
        "the override's healthcheck counts: {found:?}"
    );
}

/// The .dockerignore rules judge the context a Dockerfile is really built from: Compose's
/// `build:` says it; unknown, a Dockerfile that copies what its folder lacks is not guessed at.
#[test]
fn dockerignore_rules_use_the_real_build_context() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    write(d, "src/main.go", "package main\n");
    write(d, ".dockerignore", "src\n");
    write(
        d,
        "docker/app.Dockerfile",
        "FROM scratch\nUSER 65532:65532\nCOPY src/ /app/\n",
    );
    let di = |dir: &Path| lint_codes(dir, &["--select", "DI001,DI002,DI003"]);
    // Context unknown, and src/ is not beside the Dockerfile: no guess, no finding.
    assert!(di(d).is_empty(), "{:?}", di(d));
    // Compose says the context is the root, where .dockerignore excludes what COPY needs.
    write(
        d,
        "compose.yaml",
        "services:\n  app:\n    build:\n      context: .\n      dockerfile: docker/app.Dockerfile\n",
    );
    assert_eq!(di(d), ["DI003"]);
    // Without Compose, in a drydock project: a Dockerfile whose folder lacks what it copies is
    // built from the project's root (drydock.toml's folder), which holds it.
    std::fs::remove_file(d.join("compose.yaml")).unwrap();
    write(d, "drydock.toml", "");
    assert_eq!(di(d), ["DI003"]);
}

/// A file that cannot be linted is in every machine-readable output, beside the findings of
/// the others, and the exit code stays 2: JSON gets an `input-error` entry, SARIF a failed
/// invocation with an error notification at the file and line, GitHub an `::error`.
#[test]
fn unlintable_files_are_in_every_machine_format() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    write(
        d,
        "good/Dockerfile",
        "FROM alpine:3.20\nRUN apk add curl\nUSER 1\n",
    );
    write(d, "bad/Dockerfile", "FROM alpine:3.20\nFROB x\n");
    write(d, "k8s/broken.yaml", "apiVersion: v1\nkind: [\n");
    let lint = |format: &str| {
        let out = run(drydock().arg("lint").arg(d).args(["--format", format]));
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, out) = lint("json");
    assert_eq!(code, Some(2), "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let entries = v.as_array().unwrap();
    assert!(
        entries.iter().any(|e| e["code"] == "DF002"),
        "the good file's findings are kept: {out}"
    );
    let errors: Vec<&serde_json::Value> = entries
        .iter()
        .filter(|e| e["code"] == "input-error")
        .collect();
    assert_eq!(errors.len(), 2, "{out}");
    let bad = errors
        .iter()
        .find(|e| e["path"].as_str().unwrap().ends_with("bad/Dockerfile"))
        .unwrap();
    assert_eq!(
        (bad["line"].as_u64(), bad["severity"].as_str()),
        (Some(2), Some("error"))
    );
    assert!(
        bad["message"]
            .as_str()
            .unwrap()
            .contains("unknown instruction"),
        "{out}"
    );
    assert!(
        bad["fix"].as_str().is_some_and(|f| !f.contains("fix:")),
        "{out}"
    );
    let yaml = errors
        .iter()
        .find(|e| e["path"].as_str().unwrap().ends_with("broken.yaml"))
        .unwrap();
    assert!(yaml["line"].as_u64().is_some(), "{out}");

    let (code, out) = lint("sarif");
    assert_eq!(code, Some(2));
    let sarif = d.join("out.sarif");
    std::fs::write(&sarif, &out).unwrap();
    validate_sarif(&sarif);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let run0 = &v["runs"][0];
    assert!(run0["results"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["ruleId"] == "DF002"));
    let inv = &run0["invocations"][0];
    assert_eq!(inv["executionSuccessful"], false, "{inv}");
    let notes = inv["toolExecutionNotifications"].as_array().unwrap();
    assert_eq!(notes.len(), 2, "{inv}");
    let n = notes
        .iter()
        .find(|n| {
            n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .ends_with("bad/Dockerfile")
        })
        .unwrap();
    assert_eq!(n["level"], "error");
    assert_eq!(
        n["locations"][0]["physicalLocation"]["region"]["startLine"],
        2
    );
    assert!(n["message"]["text"]
        .as_str()
        .unwrap()
        .contains("unknown instruction"));

    let (code, out) = lint("github");
    assert_eq!(code, Some(2));
    assert!(
        out.lines().any(|l| l.starts_with("::error file=")
            && l.contains("bad/Dockerfile,line=2")
            && l.contains("unknown instruction")),
        "{out}"
    );
    // Without failures, the invocation says it succeeded.
    let (_, out) = {
        let o = run(drydock()
            .arg("lint")
            .arg(d.join("good"))
            .args(["--format", "sarif"]));
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
        )
    };
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["runs"][0]["invocations"][0]["executionSuccessful"], true);
    // A bad .dockerignore: one entry, one fix.
    write(d, "di/Dockerfile", "FROM alpine:3.20\nUSER 1\n");
    write(d, "di/.dockerignore", "[\n");
    let o = run(drydock()
        .arg("lint")
        .arg(d.join("di"))
        .args(["--format", "json"]));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let e = &v.as_array().unwrap()[0];
    assert_eq!(
        (e["code"].as_str(), e["line"].as_u64()),
        (Some("input-error"), Some(1))
    );
    assert!(e["path"].as_str().unwrap().ends_with(".dockerignore"));
    assert!(
        e["fix"]
            .as_str()
            .unwrap()
            .starts_with("correct the pattern"),
        "{e}"
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stderr).matches("fix:").count(),
        1
    );
}

/// A Compose file is known by its content whatever its name (a Swarm stack.yaml, drydock's own
/// deploy output), named on the command line, found in a directory or read from stdin alike;
/// YAML with a `services:` list among other keys (a CI file) is not Compose.
#[test]
fn compose_files_are_known_by_content_whatever_their_name() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let stack = "version: \"3.8\"\nservices:\n  app:\n    image: x:1\n    privileged: true\nx-common: &c\n  a: 1\nnetworks:\n  front: {}\n";
    write(d, "swarm/stack.yaml", stack);
    write(d, "swarm/stack", stack);
    write(
        d,
        "ci/.travis-like.yml",
        "language: go\nservices:\n  - docker\nscript: make\n",
    );
    write(
        d,
        "ci/pipeline.yaml",
        "services:\n  - docker\nstages: [build]\n",
    );
    let named = lint_codes(&d.join("swarm/stack.yaml"), &["--select", "CP003"]);
    assert_eq!(named, ["CP003"]);
    let no_ext = lint_codes(&d.join("swarm/stack"), &["--select", "CP003"]);
    assert_eq!(no_ext, ["CP003"]);
    // In a directory search, YAML by name (stack.yaml), then by content; `stack` is not taken.
    let walked = lint_json(&d.join("swarm"), &["--select", "CP003"]);
    assert_eq!(walked, [("CP003".to_string(), "stack.yaml".to_string(), 5)]);
    // Standard input, with and without a name, judged the same way.
    for args in [&["-"][..], &["-", "--stdin-filename", "stack.yaml"][..]] {
        let mut c = drydock();
        c.arg("lint")
            .args(args)
            .args(["--format", "json", "--select", "CP003"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped());
        let mut child = c.spawn().unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), stack.as_bytes()).unwrap();
        let o = child.wait_with_output().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let codes: Vec<&str> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, ["CP003"], "{args:?}");
    }
    // CI files with a services list are skipped, not taken for Compose.
    let out = run(drydock()
        .arg("lint")
        .arg(d.join("ci"))
        .arg(d.join("ci/pipeline.yaml")));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("linted nothing")
            && err.contains("without Kubernetes objects or Compose services"),
        "{err}"
    );
}

/// A directory whose lintable files .gitignore excludes says so, and how to lint them; a
/// `[lint] exclude` pattern (or `--exclude`) leaves paths out of directory searches but not
/// files named on the command line; drydock's own repository lints without its fixtures.
#[test]
fn gitignored_and_excluded_paths() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("repo");
    std::fs::create_dir_all(d.join(".git")).unwrap();
    write(&d, ".gitignore", "deploy/\n");
    write(&d, "deploy/Dockerfile", "FROM alpine:3.20\nUSER 1\n");
    write(
        &d,
        "deploy/k8s.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n",
    );
    let out = run(drydock().arg("lint").arg(&d));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("linted nothing: 2 files that could be linted (Dockerfiles or YAML) were skipped because .gitignore excludes them")
            && err.contains("--no-ignore"),
        "{err}"
    );
    let out = run(drydock().arg("lint").arg(&d).arg("--no-ignore"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("linted 2 files"), "{err}");

    // exclude: a broken fixture left out of the search, still linted when named.
    let p = t.path().join("proj");
    write(
        &p,
        "Dockerfile",
        "FROM alpine:3.20\nUSER 1\nHEALTHCHECK CMD [\"/p\"]\n",
    );
    write(
        &p,
        "tests/fixtures/broken.Dockerfile",
        "FROM alpine:3.20\nFROB x\n",
    );
    write(&p, "vendor/x/Dockerfile", "FROM alpine:3.20\nFROB x\n");
    assert_eq!(run(drydock().arg("lint").arg(&p)).status.code(), Some(2));
    write(
        &p,
        "drydock.toml",
        "[lint]\nexclude = [\"tests/fixtures/\"]\n",
    );
    let out = run(drydock().arg("lint").arg(&p).args(["--exclude", "vendor"]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(matches!(out.status.code(), Some(0) | Some(1)), "{err}");
    assert!(err.contains("linted 1 file"), "{err}");
    let out = run(drydock()
        .arg("lint")
        .arg(p.join("tests/fixtures/broken.Dockerfile")));
    assert_eq!(out.status.code(), Some(2));
    // A pattern that is not a glob is a configuration error naming it.
    write(&p, "drydock.toml", "[lint]\nexclude = [\"[z-a]\"]\n");
    let out = run(drydock().arg("lint").arg(&p).args(["--format", "json"]));
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "config");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("[z-a]")
            && v["error"]["path"]
                .as_str()
                .unwrap()
                .ends_with("drydock.toml"),
        "{v}"
    );

    // On the command line, the same pattern is a usage error.
    write(&p, "drydock.toml", "");
    let out = run(drydock()
        .arg("lint")
        .arg(&p)
        .args(["--exclude", "[z-a]", "--format", "json"]));
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "usage", "{v}");

    // README's own example, at this repository's root: findings at most, never exit 2.
    let out = run(drydock()
        .arg("lint")
        .arg(repo_root())
        .args(["--format", "sarif"]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(matches!(out.status.code(), Some(0) | Some(1)), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["runs"][0]["invocations"][0]["executionSuccessful"], true,
        "{err}"
    );
}

/// The real-world corpus (../shared/realworld: Compose files and Kubernetes manifests copied
/// from public repositories, every one of which docker compose or kubectl accepts) is linted
/// whole, per kind: no panic, no input error (exit 2), every file either linted or skipped as a
/// template that is not YAML until rendered; and no file that parses as YAML is skipped as a
/// template. `DRYDOCK_REALWORLD` names the corpus where shared/ is elsewhere.
#[test]
fn the_realworld_compose_and_kubernetes_corpus_lints_without_errors() {
    let files = match shared_dir("realworld", "DRYDOCK_REALWORLD") {
        Ok(root) => root.join("files"),
        Err(why) => {
            println!("skipped: the real-world corpus: {why}");
            return;
        }
    };
    for (kind, noun) in [("compose", "Compose file"), ("k8s", "Kubernetes manifest")] {
        let dir = files.join(kind);
        let total = walkdir_count(&dir);
        assert!(total > 100, "{}: only {total} files", dir.display());
        let out = run(drydock().arg("lint").arg(&dir).args(["--format", "json"]));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{kind}: lint must end with findings, not a panic or an input error:\n{err}"
        );
        let findings: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(!findings.as_array().unwrap().is_empty());
        let skipped: Vec<&str> = err.lines().filter(|l| l.starts_with("skipped ")).collect();
        for s in &skipped {
            assert!(s.contains("a template ({{ … }})"), "{kind}: {s}");
            // A skipped template must really not be YAML as written.
            let path = s["skipped ".len()..].split(": ").next().unwrap();
            let text = std::fs::read_to_string(path).unwrap();
            assert!(
                drydock::lint::yaml::parse_file(path, &text).is_err(),
                "{path} parses as YAML but was skipped as a template"
            );
        }
        let n = total - skipped.len();
        let linted = format!("linted {n} files ({n} {noun}s)");
        assert!(
            err.contains(&linted),
            "{kind}: expected `{linted}` in:\n{err}"
        );
    }
}

/// Files under `dir`, as a directory walk of `drydock lint` finds them: hidden files
/// (`.fluxschema.yml`) are left out; hidden folders (`.chainsaw-test/`) are searched.
fn walkdir_count(dir: &Path) -> usize {
    let mut n = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else if !e.file_name().to_string_lossy().starts_with('.') {
                n += 1;
            }
        }
    }
    n
}

/// Every Dockerfile of the real-world corpus (../shared/realworld, real files from public
/// repositories) is linted: no panic, and no input error except on the files BuildKit itself
/// rejects whatever the build arguments, each listed with BuildKit's reason.
#[test]
fn every_real_world_dockerfile_is_linted() {
    let corpus = match shared_dir("realworld", "DRYDOCK_REALWORLD") {
        Ok(root) => root.join("files/dockerfile"),
        Err(why) => {
            println!("skipped: the real-world corpus: {why}");
            return;
        }
    };
    // BuildKit rejects these whatever the build arguments (checked with the Docker Engine's
    // BuildKit: each fails with the error quoted).
    let rejected: &[(&str, &str)] = &[
        (
            "GoogleCloudPlatform+cloud-builders-community/az-kubectl/Dockerfile",
            "FROM gcr.io/$PROJECT_ID/az with no global ARG PROJECT_ID: undeclared variables in FROM \
             expand to nothing, and --build-arg cannot set them (\"failed to parse stage name \
             \\\"gcr.io//az\\\": invalid reference format\")",
        ),
        (
            "GoogleCloudPlatform+cloud-builders-community/docker-reuse/examples/multistage/docker/server/Dockerfile",
            "FROM [server-modules]: a placeholder its build script replaces; `[` is not allowed in \
             an image reference (\"invalid reference format\")",
        ),
        (
            "GoogleCloudPlatform+cloud-builders-community/windows-builder/images/go-example/Dockerfile",
            "FROM gcr.io/<project_id>/go-windows: a placeholder for the reader; `<` is not \
             allowed in an image reference (\"invalid reference format\")",
        ),
        (
            "docker+compose/pkg/e2e/fixtures/wrong-composefile/service1/Dockerfile",
            "a deliberately broken test fixture: \"unknown instruction: WRONG\"",
        ),
    ];
    let out = run(drydock()
        .arg("lint")
        .arg(&corpus)
        .args(["--format", "json"]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        matches!(out.status.code(), Some(0..=2)),
        "exit {:?}: {err}",
        out.status.code()
    );
    let prefix = format!("error: {}/", corpus.display());
    let mut errors: Vec<String> = err
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .map(|l| l.split(':').next().unwrap_or(l).to_string())
        .collect();
    errors.sort();
    let mut want: Vec<String> = rejected.iter().map(|(p, _)| p.to_string()).collect();
    want.sort();
    assert_eq!(
        errors, want,
        "input errors beyond BuildKit's own rejections:\n{err}"
    );
    let findings: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(findings.as_array().is_some_and(|a| !a.is_empty()));
    let summary = err.lines().find(|l| l.starts_with("linted ")).unwrap_or("");
    assert!(
        summary.contains(&format!("{} files could not be linted", rejected.len())),
        "{summary}"
    );
}

/// A FROM decided by `--build-arg` is linted; one that needs a variable no ARG declares is
/// refused, as BuildKit refuses it, with the fix.
#[test]
fn from_with_build_args_is_linted() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    for (dir, text) in [
        ("a", "ARG BASE\nFROM ${BASE}\nUSER 1\n"),
        (
            "b",
            "ARG PROJECT_ID\nARG TAG\nFROM gcr.io/${PROJECT_ID}/foo:${TAG}\nUSER 1\n",
        ),
        ("c", "FROM \"alpine:3.20\"\nUSER 1\n"),
        (
            "d",
            "FROM scratch AS binary-linux\nCOPY a /a\nFROM binary-$TARGETOS\nUSER 1\n",
        ),
    ] {
        write(d, &format!("{dir}/Dockerfile"), text);
        let out = run(drydock()
            .arg("lint")
            .arg(d.join(dir).join("Dockerfile"))
            .args(["--ignore", "DI001"]));
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{text:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    write(d, "e/Dockerfile", "FROM gcr.io/$PROJECT_ID/az\n");
    let out = run(drydock().arg("lint").arg(d.join("e/Dockerfile")));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("Dockerfile:1: FROM gcr.io//az: not a valid image reference")
            && err.contains("`ARG PROJECT_ID`"),
        "{err}"
    );
}
