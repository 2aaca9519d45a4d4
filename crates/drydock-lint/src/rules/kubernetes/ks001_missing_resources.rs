use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::{Container, KubernetesCtx};
use crate::yaml::at;

pub static RULE: Rule = Rule {
    code: "KS001",
    name: "missing-requests-or-limits",
    practice: "P6",
    severity: Severity::Warning,
    hadolint: &[],
    pod_security: None,
    doc: r#"
## What it does
Flags a container that lacks any of its CPU and memory requests and limits.

## Why is this bad?
Without requests the scheduler packs pods blindly and the HorizontalPodAutoscaler cannot compute
utilisation; without a memory limit one leaking pod takes the node's memory from its neighbours.

## When it does not apply
Kustomize patches (partial objects: their resources come from the object they patch).
Otherwise it always applies, to every container of every pod, init containers and those of Jobs
and CronJobs included: each takes a node's CPU and memory while it runs. All four values are
required; there is no option to leave the CPU limit out.

## Example
```yaml
containers:
- name: api
  image: api:1.0
```

Use instead:
```yaml
containers:
- name: api
  image: api:1.0
  resources:
    requests: { cpu: 250m, memory: 128Mi }
    limits: { cpu: "1", memory: 256Mi }
```

## References
- https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/
"#,
    check: Check::Kubernetes(check),
};

fn check(ctx: &KubernetesCtx<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for Container {
        object: o, node: c, ..
    } in ctx.containers().filter(|c| !c.object.partial)
    {
        let r = c.at("resources");
        let missing: Vec<&str> = [
            ("requests", "cpu"),
            ("requests", "memory"),
            ("limits", "cpu"),
            ("limits", "memory"),
        ]
        .iter()
        .filter(|(k, res)| r.at(k).get(res).is_none())
        .map(|(k, res)| {
            if *k == "requests" {
                if *res == "cpu" {
                    "requests.cpu"
                } else {
                    "requests.memory"
                }
            } else if *res == "cpu" {
                "limits.cpu"
            } else {
                "limits.memory"
            }
        })
        .collect();
        if missing.is_empty() {
            continue;
        }
        let anchor = c
            .entry("resources")
            .map(|(k, _)| k)
            .or_else(|| c.entry("name").map(|(_, v)| v))
            .unwrap_or(c);
        out.push(at(
            o.path,
            anchor,
            format!(
                "{} {}: container `{}` has no {}",
                o.kind,
                o.name,
                c.at("name").as_str().unwrap_or("?"),
                missing.join(", ")
            ),
            Some("set resources.requests and resources.limits for cpu and memory".into()),
        ));
    }
    out
}
