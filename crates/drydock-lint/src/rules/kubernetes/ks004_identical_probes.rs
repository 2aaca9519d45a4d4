use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::{Container, KubernetesCtx};
use crate::yaml::{at, canonical};

pub static RULE: Rule = Rule {
    code: "KS004",
    name: "identical-or-mistimed-probes",
    practice: "P8",
    severity: Severity::Warning,
    hadolint: &[],
    pod_security: None,
    doc: r#"
## What it does
Flags a container whose liveness and readiness probes are identical, and probes whose
`timeoutSeconds` is at or above their `periodSeconds`.

## Why is this bad?
When a dependency is down, readiness should take the pod out of the Service while liveness
leaves it running; identical probes restart every pod at once instead, a cascading failure.
A timeout as long as the period means probes overlap.

## When it does not apply
A container with only one of the two probes, or with two that differ in anything (handler,
path, port, thresholds, timing). A probe without `timeoutSeconds` is not judged for timing
(Kubernetes' default is 1 second); one without `periodSeconds` has Kubernetes' default period,
10 seconds. There is no exception by what the workload is for: a container that has probes is
checked.

## Example
```yaml
livenessProbe: { httpGet: { path: /health, port: http } }
readinessProbe: { httpGet: { path: /health, port: http } }
```

Use instead:
```yaml
livenessProbe: { httpGet: { path: /healthz, port: http } }
readinessProbe: { httpGet: { path: /readyz, port: http }, periodSeconds: 5 }
```

## References
- https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/
"#,
    check: Check::Kubernetes(check),
};

fn check(ctx: &KubernetesCtx<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for Container {
        object: o, node: c, ..
    } in ctx.containers()
    {
        if let (Some((lk, l)), Some(r)) = (c.entry("livenessProbe"), c.get("readinessProbe")) {
            if canonical(l) == canonical(r) {
                out.push(at(o.path, lk, format!("{} {}: liveness and readiness probes are identical", o.kind, o.name), Some("probe liveness on /healthz (the process) and readiness on /readyz (its dependencies)".into())));
            }
        }
        for p in ["livenessProbe", "readinessProbe", "startupProbe"] {
            let probe = c.at(p);
            let period = probe.at("periodSeconds").as_i64().unwrap_or(10);
            if let Some(t) = probe.get("timeoutSeconds") {
                if t.as_i64().is_some_and(|t| t >= period) {
                    out.push(at(
                        o.path,
                        t,
                        format!(
                            "{p} timeoutSeconds {} is not below periodSeconds {period}",
                            t.as_i64().unwrap_or(0)
                        ),
                        Some("make the timeout shorter than the period".into()),
                    ));
                }
            }
        }
    }
    out
}
