use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::kubernetes::pod_containers;
use crate::view::KubernetesCtx;
use crate::yaml::at;

pub static RULE: Rule = Rule {
    code: "KS011",
    name: "hpa-target-without-cpu-requests",
    practice: "P13",
    severity: Severity::Error,
    hadolint: &[],
    pod_security: None,
    doc: r#"
## What it does
Flags a HorizontalPodAutoscaler that scales on CPU utilisation a workload (in the files linted)
whose containers have no CPU request.

## Why is this bad?
Utilisation is a percentage of the request: without one the autoscaler cannot compute it, and it
never scales ("missing request for cpu").

## When it does not apply
- The HorizontalPodAutoscaler does not scale on CPU: no `resource` metric named `cpu` and no
  `targetCPUUtilizationPercentage`.
- Its target is not in the files linted (found by kind and name, in the HPA's namespace or with
  no namespace on either side; the one nearest to the HPA's file when there are several), or is
  a kustomize patch.
- Init containers are not asked for a CPU request.

## Example
An HPA with `averageUtilization: 70` on a Deployment without `resources.requests.cpu`.

Use instead:
```yaml
resources:
  requests: { cpu: 250m }
```

## References
- https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/
"#,
    check: Check::Kubernetes(check),
};

fn check(ctx: &KubernetesCtx<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for hpa in ctx
        .objects
        .iter()
        .filter(|o| o.kind == "HorizontalPodAutoscaler")
    {
        let spec = hpa.node.at("spec");
        let cpu = spec
            .at("metrics")
            .seq()
            .iter()
            .any(|m| m.at("resource").at("name").as_str() == Some("cpu"))
            || spec.get("targetCPUUtilizationPercentage").is_some();
        if !cpu {
            continue;
        }
        let target = spec.at("scaleTargetRef");
        let (kind, name) = (
            target.at("kind").as_str().unwrap_or(""),
            target.at("name").as_str().unwrap_or(""),
        );
        // The target in the HPA's namespace, nearest to its file: a repository often holds
        // several Deployments of one name (kustomize bases and overlays, examples).
        let Some(w) = ctx
            .objects
            .iter()
            .filter(|o| o.kind == kind && o.name == name)
            .filter(|o| {
                o.namespace == hpa.namespace || o.namespace.is_none() || hpa.namespace.is_none()
            })
            .max_by_key(|o| shared_dirs(o.path, hpa.path))
        else {
            continue;
        };
        let Some(pod) = w.pod.filter(|_| !w.partial) else {
            continue;
        };
        let missing: Vec<String> = pod_containers(pod)
            .filter(|(c, init)| !init && c.at("resources").at("requests").get("cpu").is_none())
            .map(|(c, _)| c.at("name").as_str().unwrap_or("?").to_string())
            .collect();
        if !missing.is_empty() {
            let anchor = target.entry("name").map(|(_, v)| v).unwrap_or(target);
            out.push(at(hpa.path, anchor, format!("HorizontalPodAutoscaler {} scales {kind} {name} on CPU, but container(s) {} request no CPU", hpa.name, missing.join(", ")), Some("set resources.requests.cpu on every container".into())));
        }
    }
    out
}

/// How many leading folders two paths share.
fn shared_dirs(a: &str, b: &str) -> usize {
    let dirs = |p: &str| -> Vec<String> {
        let mut v: Vec<String> = p.split('/').map(str::to_string).collect();
        v.pop();
        v
    };
    dirs(a)
        .iter()
        .zip(dirs(b).iter())
        .take_while(|(x, y)| x == y)
        .count()
}
