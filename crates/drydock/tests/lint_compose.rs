//! Compose rules: fixtures that must and must not trigger each one, positions, the
//! `drydock.dev/ignore` label, and `drydock deploy`'s Compose bundle clean.

mod common;

use common::*;
use drydock_lint::yaml::parse_file;
use drydock_lint::{lint_compose, LintOptions};

const GOOD: &str = "\
services:
  app:
    image: registry.example.com/api:1.0
    user: \"65532:65532\"
    read_only: true
    cpus: \"1\"
    mem_limit: 256m
    expose: [\"8080\"]
    environment:
      API_TOKEN_FILE: /run/secrets/api-token
      LOG_LEVEL: info
    healthcheck:
      test: [\"CMD\", \"/usr/local/bin/drydock-helper\", \"probe\", \"http://127.0.0.1:8080/healthz\"]
  proxy:
    image: nginx:1.27
    ports: [\"${BIND_ADDRESS:-0.0.0.0}:443:8443\", \"127.0.0.1:8080:8080\"]
    deploy: { resources: { limits: { cpus: \"0.5\", memory: 64M } } }
    healthcheck: { test: [\"CMD\", \"curl\", \"-fsk\", \"https://127.0.0.1:8443/\"] }
";

/// Every rule, the opt-in ones too (CP001, CP005, CP006): these tests are about the rules.
fn all_rules() -> LintOptions {
    LintOptions {
        select: drydock_lint::catalog::RULES
            .iter()
            .map(|r| r.code.to_string())
            .collect(),
        ..LintOptions::default()
    }
}

fn codes(text: &str) -> Vec<&'static str> {
    let f = parse_file("compose.yaml", text).unwrap();
    lint_compose(&[f], &all_rules())
        .into_iter()
        .map(|d| d.code)
        .collect()
}

#[test]
fn every_compose_rule_triggers_on_its_bad_fixture_and_not_on_the_good_one() {
    assert_eq!(codes(GOOD), Vec::<&str>::new());
    let cases: &[(&str, String)] = &[
        ("CP001", GOOD.replace("expose: [\"8080\"]", "ports: [\"8080:8080\"]")),
        ("CP001", GOOD.replace("expose: [\"8080\"]", "ports: [{ target: 8080, published: 8080 }]")),
        ("CP002", GOOD.replace("\"127.0.0.1:8080:8080\"", "\"8080:8080\"")),
        ("CP003", GOOD.replace("read_only: true", "read_only: true\n    privileged: true")),
        ("CP004", GOOD.replace("user: \"65532:65532\"", "user: root")),
        ("CP005", GOOD.replace("    mem_limit: 256m\n", "")),
        ("CP006", GOOD.replace("    healthcheck: { test: [\"CMD\", \"curl\", \"-fsk\", \"https://127.0.0.1:8443/\"] }\n", "")),
        ("CP007", GOOD.replace("LOG_LEVEL: info", "DB_PASSWORD: hunter2")),
        ("CP007", GOOD.replace("      API_TOKEN_FILE: /run/secrets/api-token\n      LOG_LEVEL: info", "      - API_TOKEN=abc")),
        ("CP008", GOOD.replace("read_only: true", "read_only: true\n    network_mode: host")),
        ("CP009", GOOD.replace("image: nginx:1.27", "image: nginx")),
        ("CP009", GOOD.replace("image: nginx:1.27", "image: nginx:latest")),
    ];
    for (code, bad) in cases {
        assert_ne!(bad, GOOD, "{code}: the fixture must change something");
        assert!(
            codes(bad).contains(code),
            "{code} must trigger (got {:?}) on:\n{bad}",
            codes(bad)
        );
    }
    for r in drydock::lint::catalog::RULES
        .iter()
        .filter(|r| r.code.starts_with("CP"))
    {
        assert!(
            cases.iter().any(|(c, _)| *c == r.code),
            "{} has no fixture",
            r.code
        );
    }
    // A variable in the value is not a literal secret.
    assert!(
        !codes(&GOOD.replace("LOG_LEVEL: info", "DB_PASSWORD: ${DB_PASSWORD}")).contains(&"CP007")
    );
}

#[test]
fn positions_and_the_ignore_label() {
    let bad = GOOD.replace("expose: [\"8080\"]", "ports: [\"8080:8080\"]");
    let f = parse_file("compose.yaml", &bad).unwrap();
    let d = lint_compose(&[f], &all_rules());
    let p = d.iter().find(|d| d.code == "CP001").unwrap();
    let line = bad
        .lines()
        .position(|l| l.contains("ports: [\"8080:8080\"]"))
        .unwrap()
        + 1;
    let col = bad
        .lines()
        .nth(line - 1)
        .unwrap()
        .find("\"8080:8080\"")
        .unwrap()
        + 1;
    assert_eq!((p.span.line, p.span.column), (line, col));
    let ignored = bad.replace(
        "  app:\n",
        "  app:\n    labels: { drydock.dev/ignore: \"CP001\" }\n",
    );
    assert!(!codes(&ignored).contains(&"CP001"));
    let list_label = bad.replace(
        "  app:\n",
        "  app:\n    labels: [\"drydock.dev/ignore=CP001\"]\n",
    );
    assert!(!codes(&list_label).contains(&"CP001"));
}

#[test]
fn deploy_compose_bundle_lints_clean_and_files_are_found_by_name() {
    let (_t, dir) = copy_example("gin-api");
    let out = dir.join("deploy");
    run_ok(drydock().arg("deploy").arg(&dir).args(["--target", "compose", "--tls", "self-signed", "--image", "registry.example.com/app@sha256:0000000000000000000000000000000000000000000000000000000000000000", "--out"]).arg(&out));
    let o = run(drydock().arg("lint").arg(&out).args(["--format", "json"]));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "[]",
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    std::fs::write(
        out.join("docker-compose.override.yml"),
        "services:\n  db:\n    image: postgres:16\n    network_mode: host\n",
    )
    .unwrap();
    let o = run(drydock().arg("lint").arg(&out));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("docker-compose.override.yml:4:19: CP008"),
        "{text}"
    );
}

/// `extends: {file: …}` is followed into another file linted with it, relative to the
/// extending file: a base with limits and a health check satisfies CP005 and CP006, a base
/// without them does not, and a base that is not in the input is not judged.
#[test]
fn extends_follows_another_file_of_the_input() {
    let base = |body: &str| {
        parse_file(
            "proj/docker/docker-compose.yml",
            &format!("services:\n  db:\n    image: postgres:16\n{body}"),
        )
        .unwrap()
    };
    let user = || {
        parse_file(
            "proj/tests/it/docker-compose.yml",
            "services:\n  db:\n    extends:\n      file: ../../docker/docker-compose.yml\n      service: db\n    restart: always\n",
        )
        .unwrap()
    };
    let of_user = |files: &[drydock_lint::yaml::YamlFile]| -> Vec<&'static str> {
        let mut v: Vec<&'static str> = lint_compose(files, &all_rules())
            .into_iter()
            .filter(|d| d.path.starts_with("proj/tests"))
            .map(|d| d.code)
            .filter(|c| matches!(*c, "CP005" | "CP006"))
            .collect();
        v.sort();
        v
    };
    let full = base("    mem_limit: 256m\n    cpus: \"1\"\n    healthcheck:\n      test: [\"CMD\", \"pg_isready\"]\n");
    assert_eq!(of_user(&[full, user()]), Vec::<&str>::new());
    assert_eq!(of_user(&[base(""), user()]), ["CP005", "CP006"]);
    assert_eq!(
        of_user(&[user()]),
        Vec::<&str>::new(),
        "a base outside the input is not judged"
    );
}

/// A test or CI stack's credentials are the tests' own: CP007 says so as an info note where the
/// file lives in a test or CI folder or says it is for testing or development only, and stays
/// an error in a deployment's file.
#[test]
fn credentials_of_a_test_stack_are_a_note() {
    let body = "services:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_PASSWORD: toor\n";
    let severity = |path: &str, text: &str| -> Vec<String> {
        let f = parse_file(path, text).unwrap();
        lint_compose(&[f], &all_rules())
            .into_iter()
            .filter(|d| d.code == "CP007")
            .map(|d| d.severity.as_str().to_string())
            .collect()
    };
    assert_eq!(severity("deploy/compose.yaml", body), ["error"]);
    assert_eq!(
        severity("tests/integration/mongo/compose.yaml", body),
        ["info"]
    );
    assert_eq!(severity("ci/docker-compose.yml", body), ["info"]);
    assert_eq!(
        severity("integration_tests/kafka/docker-compose.yml", body),
        ["info"]
    );
    assert_eq!(
        severity("contest/compose.yaml", body),
        ["error"],
        "a word, not a suffix"
    );
    let dev_only = format!("# FOR TEST AND DEVELOPMENT ONLY, DO NOT USE IN PRODUCTION\n{body}");
    assert_eq!(severity("compose.yaml", &dev_only), ["info"]);
    let other_comment = format!("# the database of the shop\n{body}");
    assert_eq!(severity("compose.yaml", &other_comment), ["error"]);
}
