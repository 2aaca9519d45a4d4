use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
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
Flags a long-running container without a liveness or a readiness probe.

## Why is this bad?
Without readiness, traffic reaches pods that are still starting or have lost their database;
without liveness, a deadlocked process keeps its place forever.

## When it does not apply
Probes are for containers that run until stopped. The rule skips what the container is for says
otherwise (decided once for every rule, in the Kubernetes view):
- one-shot jobs: the containers of a Job or a CronJob, and of a pod whose `restartPolicy` is
  `Never` or `OnFailure`;
- init helpers: init containers, except sidecars (`restartPolicy: Always`), which run alongside
  the app and are checked;
- toolboxes: containers whose `command`/`args` only keep them alive (`sleep infinity`,
  `tail -f /dev/null`, a sleep of a day or more), kept for `kubectl exec`.

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
    for c in ctx
        .containers()
        .filter(|c| !c.object.partial && c.purpose().is_service())
    {
        let (o, node) = (c.object, c.node);
        let missing: Vec<&str> = ["livenessProbe", "readinessProbe"]
            .into_iter()
            .filter(|p| node.get(p).is_none())
            .collect();
        if !missing.is_empty() {
            let anchor = node.entry("name").map(|(_, v)| v).unwrap_or(node);
            out.push(at(
                o.path,
                anchor,
                format!(
                    "{} {}: container `{}` has no {}",
                    o.kind,
                    o.name,
                    node.at("name").as_str().unwrap_or("?"),
                    missing.join(" or ")
                ),
                Some("add HTTP probes: liveness on /healthz, readiness on /readyz".into()),
            ));
        }
    }
    out
}
