use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::KubernetesCtx;
use crate::yaml::{at, label_pairs};

pub static RULE: Rule = Rule {
    code: "KS012",
    name: "replicas-without-disruption-budget",
    practice: "P13",
    severity: Severity::Info,
    hadolint: &[],
    pod_security: None,
    doc: r#"
## What it does
Flags a Deployment or StatefulSet with more than one replica that no PodDisruptionBudget in the
files linted selects.

## Why is this bad?
A node drain may evict every replica at once: the replicas exist for availability, and the
budget is what keeps some of them running during maintenance.

## When it does not apply
- Workloads other than Deployments and StatefulSets, and those whose `replicas` is unset (an
  autoscaled Deployment may leave it out), below 2, or not a number (a variable).
- Workloads that a PodDisruptionBudget of the input selects: all of its `matchLabels` are
  among the pod template's labels. (A budget with only `matchExpressions` is not read.)
- Kustomize patches.

It is an info note.

## Example
A Deployment with `replicas: 3` and no PodDisruptionBudget.

Use instead:
```yaml
apiVersion: policy/v1
kind: PodDisruptionBudget
spec:
  maxUnavailable: 1
  selector: { matchLabels: { app: api } }
```

## References
- https://kubernetes.io/docs/tasks/run-application/configure-pdb/
"#,
    check: Check::Kubernetes(check),
};

fn check(ctx: &KubernetesCtx<'_>) -> Vec<Finding> {
    let pdb_selectors: Vec<_> = ctx
        .objects
        .iter()
        .filter(|o| o.kind == "PodDisruptionBudget")
        .map(|o| label_pairs(o.node.at("spec").at("selector").at("matchLabels")))
        .filter(|sel| !sel.is_empty())
        .collect();
    let mut out = Vec::new();
    for o in ctx
        .objects
        .iter()
        .filter(|o| !o.partial && matches!(o.kind.as_str(), "Deployment" | "StatefulSet"))
    {
        let Some(replicas) = o.node.at("spec").get("replicas") else {
            continue;
        };
        if replicas.as_i64().unwrap_or(1) < 2 {
            continue;
        }
        let labels = o.node.at("spec").at("template").at("metadata").at("labels");
        let labels = label_pairs(labels);
        let covered = pdb_selectors
            .iter()
            .any(|sel| sel.iter().all(|kv| labels.contains(kv)));
        if !covered {
            out.push(at(
                o.path,
                replicas,
                format!(
                    "{} {} runs {} replicas and no PodDisruptionBudget selects them",
                    o.kind,
                    o.name,
                    replicas.as_i64().unwrap_or(0)
                ),
                Some("add a PodDisruptionBudget with maxUnavailable: 1".into()),
            ));
        }
    }
    out
}
