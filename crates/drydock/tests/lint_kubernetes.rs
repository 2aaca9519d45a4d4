//! Kubernetes rules: fixtures that must and must not trigger each one, findings at the exact
//! key or value, the `drydock.dev/ignore` annotation, and `drydock deploy`'s manifests clean.

mod common;

use common::*;
use drydock_lint::yaml::parse_file;
use drydock_lint::{lint_kubernetes, LintOptions};

/// A Deployment that passes every Kubernetes rule; fixtures change one thing in it.
const GOOD: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 2
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: RuntimeDefault } }
      containers:
      - name: api
        image: registry.example.com/api:1.0
        env:
        - name: API_TOKEN
          valueFrom: { secretKeyRef: { name: api, key: token } }
        resources:
          requests: { cpu: 250m, memory: 128Mi }
          limits: { cpu: \"1\", memory: 256Mi }
        livenessProbe: { httpGet: { path: /healthz, port: http }, periodSeconds: 10, timeoutSeconds: 3 }
        readinessProbe: { httpGet: { path: /readyz, port: http }, periodSeconds: 5, timeoutSeconds: 3 }
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities: { drop: [ALL] }
        ports: [{ name: http, containerPort: 8080 }]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: api }
spec: { maxUnavailable: 1, selector: { matchLabels: { app: api } } }
---
apiVersion: v1
kind: Service
metadata: { name: api }
spec:
  selector: { app: api }
  ports: [{ port: 80, targetPort: http }]
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: { name: api }
spec:
  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: api }
  minReplicas: 2
  maxReplicas: 5
  metrics: [{ type: Resource, resource: { name: cpu, target: { type: Utilization, averageUtilization: 70 } } }]
";

const INGRESS_GOOD: &str = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: { name: api }\nspec:\n  tls: [{ hosts: [api.example.com], secretName: api-tls }]\n  rules: [{ host: api.example.com }]\n";

fn lint_text(text: &str) -> Vec<drydock::lint::Diagnostic> {
    let f = parse_file("k.yaml", text).unwrap();
    lint_kubernetes(&[f], &LintOptions::default())
}

fn codes(text: &str) -> Vec<&'static str> {
    lint_text(text).into_iter().map(|d| d.code).collect()
}

#[test]
fn every_kubernetes_rule_triggers_on_its_bad_fixture_and_not_on_the_good_one() {
    assert_eq!(
        codes(GOOD),
        Vec::<&str>::new(),
        "the good Deployment is clean"
    );
    assert_eq!(codes(INGRESS_GOOD), Vec::<&str>::new());
    let cases: &[(&str, String)] = &[
        ("KS001", GOOD.replace("          limits: { cpu: \"1\", memory: 256Mi }\n", "")),
        ("KS002", GOOD.replace("memory: 256Mi", "memory: 64Mi")),
        ("KS002", GOOD.replace("cpu: 250m", "cpu: 500x")),
        ("KS003", GOOD.replace("        readinessProbe: { httpGet: { path: /readyz, port: http }, periodSeconds: 5, timeoutSeconds: 3 }\n", "")),
        ("KS004", GOOD.replace("path: /readyz, port: http }, periodSeconds: 5", "path: /healthz, port: http }, periodSeconds: 10")),
        ("KS004", GOOD.replace("periodSeconds: 5, timeoutSeconds: 3", "periodSeconds: 3, timeoutSeconds: 3")),
        ("PS014", GOOD.replace("allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true")),
        ("PS018", GOOD.replace("capabilities: { drop: [ALL] }", "capabilities: { drop: [NET_RAW] }")),
        ("PS016", GOOD.replace("runAsNonRoot: true, runAsUser: 65532", "runAsUser: 0")),
        ("PS002", GOOD.replace("      securityContext: { runAsNonRoot", "      hostNetwork: true\n      securityContext: { runAsNonRoot")),
        ("KS006", GOOD.replace("readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false")),
        ("KS007", INGRESS_GOOD.replace("  tls: [{ hosts: [api.example.com], secretName: api-tls }]\n", "")),
        ("KS007", INGRESS_GOOD.replace("rules: [{ host: api.example.com }]", "rules: [{ host: other.example.com }]")),
        ("KS008", GOOD.replace("valueFrom: { secretKeyRef: { name: api, key: token } }", "value: s3cr3t")),
        ("KS009", GOOD.replace("registry.example.com/api:1.0", "registry.example.com/api")),
        ("KS009", GOOD.replace("registry.example.com/api:1.0", "registry.example.com:5000/api:latest")),
        ("KS010", GOOD.replace("targetPort: http", "targetPort: 9090")),
        ("KS011", GOOD.replace("requests: { cpu: 250m, memory: 128Mi }", "requests: { memory: 128Mi }")),
        ("KS012", GOOD.replace("kind: PodDisruptionBudget", "kind: PodDisruptionBudgetX")),
        ("KS013", GOOD.replace("    metadata: { labels: { app: api } }", "    metadata: { labels: { app: api }, annotations: { drydock.dev/language: go } }")),
        ("KS013", GOOD.replace("        env:\n", "        env:\n        - { name: GOGC, value: \"50\" }\n")),
    ];
    for (code, bad) in cases {
        assert_ne!(bad, GOOD, "{code}: the fixture must change something");
        assert!(
            codes(bad).contains(code),
            "{code} must trigger (got {:?}) on:\n{bad}",
            codes(bad)
        );
    }
    // Handled: the Downward API, or the helper.
    let go = GOOD.replace(
        "    metadata: { labels: { app: api } }",
        "    metadata: { labels: { app: api }, annotations: { drydock.dev/language: go } }",
    );
    let downward = go.replace("        env:\n", "        env:\n        - { name: GOMAXPROCS, valueFrom: { resourceFieldRef: { resource: limits.cpu, divisor: \"1\" } } }\n");
    assert!(!codes(&downward).contains(&"KS013"));
    let helper = go.replace(
        "annotations: { drydock.dev/language: go }",
        "annotations: { drydock.dev/language: go, drydock.dev/helper: \"true\" }",
    );
    assert!(!codes(&helper).contains(&"KS013"));
    for r in drydock::lint::catalog::RULES
        .iter()
        .filter(|r| r.code.starts_with("KS"))
    {
        assert!(
            cases.iter().any(|(c, _)| *c == r.code),
            "{} has no fixture",
            r.code
        );
    }
}

#[test]
fn the_secret_stance_is_configurable() {
    assert!(
        !codes(GOOD).contains(&"KS008"),
        "by reference is fine by default"
    );
    let opts = LintOptions {
        secret_env: drydock::lint::SecretEnvStance::Files,
        ..Default::default()
    };
    let f = parse_file("k.yaml", GOOD).unwrap();
    let d = lint_kubernetes(&[f], &opts);
    assert!(
        d.iter()
            .any(|d| d.code == "KS008" && d.message.contains("through the environment")),
        "{d:?}"
    );
}

#[test]
fn findings_point_at_the_exact_key_or_value() {
    let bad = GOOD.replace(
        "valueFrom: { secretKeyRef: { name: api, key: token } }",
        "value: s3cr3t",
    );
    let d = lint_text(&bad);
    let f = d.iter().find(|d| d.code == "KS008").unwrap();
    let line = bad
        .lines()
        .position(|l| l.contains("value: s3cr3t"))
        .unwrap()
        + 1;
    let col = bad.lines().nth(line - 1).unwrap().find("s3cr3t").unwrap() + 1;
    assert_eq!(
        (f.span.line, f.span.column, f.span.end_column),
        (line, col, col + 6)
    );
    let lim = GOOD.replace("memory: 256Mi", "memory: 64Mi");
    let f = lint_text(&lim)
        .into_iter()
        .find(|d| d.code == "KS002")
        .unwrap();
    let line = lim
        .lines()
        .position(|l| l.contains("memory: 64Mi"))
        .unwrap()
        + 1;
    assert_eq!(f.span.line, line);
    assert_eq!(
        lim.lines().nth(line - 1).unwrap()[f.span.column - 1..]
            .split_whitespace()
            .next(),
        Some("64Mi")
    );
}

#[test]
fn list_kinds_multi_documents_and_unknown_kinds() {
    let text = format!(
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {{ name: p }}\n  spec:\n    containers: [{{ name: c, image: x:1 }}]\n---\napiVersion: example.com/v1\nkind: Widget\nspec: {{ anything: true }}\n---\n{GOOD}"
    );
    let d = lint_text(&text);
    assert!(
        d.iter()
            .any(|d| d.code == "KS001" && d.message.starts_with("Pod p")),
        "{d:?}"
    );
    assert!(d.iter().all(|d| !d.message.contains("Widget")));
}

#[test]
fn the_ignore_annotation_suppresses_on_the_object_or_its_template() {
    let bad = GOOD.replace(
        "readOnlyRootFilesystem: true",
        "readOnlyRootFilesystem: false",
    );
    let on_template = bad.replace(
        "    metadata: { labels: { app: api } }",
        "    metadata: { labels: { app: api }, annotations: { drydock.dev/ignore: \"KS006\" } }",
    );
    assert!(!codes(&on_template).contains(&"KS006"));
    let on_object = bad.replace(
        "  name: api\nspec:",
        "  name: api\n  annotations: { drydock.dev/ignore: \"KS001,KS006\" }\nspec:",
    );
    assert!(!codes(&on_object).contains(&"KS006"));
    let opts = LintOptions {
        no_suppressions: true,
        ..Default::default()
    };
    let f = parse_file("k.yaml", &on_object).unwrap();
    assert!(lint_kubernetes(&[f], &opts)
        .iter()
        .any(|d| d.code == "KS006"));
}

#[test]
fn deploy_output_lints_clean_through_the_cli() {
    for ex in ["gin-api", "axum-api"] {
        let (_t, dir) = copy_example(ex);
        let cfg = std::fs::read_to_string(dir.join("drydock.toml"))
            .unwrap()
            .replace(
                &format!("# host = \"{ex}.example.com\""),
                &format!("host = \"{ex}.example.com\""),
            );
        std::fs::write(dir.join("drydock.toml"), cfg).unwrap();
        let out = dir.join("deploy");
        run_ok(drydock().arg("deploy").arg(&dir).args(["--image", "registry.example.com/app@sha256:0000000000000000000000000000000000000000000000000000000000000000", "--out"]).arg(&out));
        let o = run(drydock().arg("lint").arg(&out).args(["--format", "json"]));
        assert_eq!(
            String::from_utf8_lossy(&o.stdout).trim(),
            "[]",
            "{ex}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(o.status.code(), Some(0));
        // And a broken manifest in the same directory is found, at its line.
        std::fs::write(
            out.join("kubernetes/extra.yaml"),
            GOOD.replace(
                "readOnlyRootFilesystem: true",
                "readOnlyRootFilesystem: false",
            ),
        )
        .unwrap();
        let o = run(drydock().arg("lint").arg(&out));
        let text = String::from_utf8_lossy(&o.stdout);
        assert_eq!(o.status.code(), Some(1), "{text}");
        assert!(
            text.contains("extra.yaml:") && text.contains("KS006"),
            "{text}"
        );
    }
}
