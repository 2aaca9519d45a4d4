use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::kubernetes::pod_containers;
use crate::view::KubernetesCtx;
use crate::yaml::at;

pub static RULE: Rule = Rule {
    code: "KS003",
    name: "missing-probes",
    practice: "P8",
    severity: Severity::Warning,
    hadolint: &[],
    pod_security: None,
    doc: r#"
## What it does
Flags a long-running container (not an init container, not a Job's) without a liveness or a
readiness probe.

## Why is this bad?
Without readiness, traffic reaches pods that are still starting or have lost their database;
without liveness, a deadlocked process keeps its place forever.

## Example
```yaml
- name: api
  image: api:1.0
```

Use instead:
```yaml
- name: api
  image: api:1.0
  livenessProbe: { httpGet: { path: /healthz, port: http } }
  readinessProbe: { httpGet: { path: /readyz, port: http } }
```

## References
- https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/
"#,
    check: Check::Kubernetes(check),
};

fn check(ctx: &KubernetesCtx<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for o in ctx
        .objects
        .iter()
        .filter(|o| !o.partial && !matches!(o.kind.as_str(), "Job" | "CronJob"))
    {
        let Some(pod) = o.pod else { continue };
        for (c, init) in pod_containers(pod) {
            if init {
                continue;
            }
            let missing: Vec<&str> = ["livenessProbe", "readinessProbe"]
                .into_iter()
                .filter(|p| c.get(p).is_none())
                .collect();
            if !missing.is_empty() {
                let anchor = c.entry("name").map(|(_, v)| v).unwrap_or(c);
                out.push(at(
                    o.path,
                    anchor,
                    format!(
                        "{} {}: container `{}` has no {}",
                        o.kind,
                        o.name,
                        c.at("name").as_str().unwrap_or("?"),
                        missing.join(" or ")
                    ),
                    Some("add HTTP probes: liveness on /healthz, readiness on /readyz".into()),
                ));
            }
        }
    }
    out
}
