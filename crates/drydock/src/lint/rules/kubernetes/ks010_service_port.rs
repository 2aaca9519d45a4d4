use crate::lint::catalog::{Check, Rule};
use crate::lint::diagnostic::{Finding, Severity};
use crate::lint::kubernetes::{at, containers, KubernetesCtx};

pub static RULE: Rule = Rule {
    code: "KS010",
    name: "service-port-not-served",
    practice: "P9",
    severity: Severity::Error,
    hadolint: &[],
    doc: r#"
## What it does
Flags a Service `targetPort` that no container of the pods it selects declares (by number or
by name), when those pods are in the files linted.

## Why is this bad?
Traffic to the Service goes nowhere: connections are refused and the Service has no endpoints.

## Example
```yaml
ports: [{ port: 80, targetPort: 8000 }]   # the container listens on 8080
```

Use instead:
```yaml
ports: [{ port: 80, targetPort: http }]   # the container port's name
```

## References
- https://kubernetes.io/docs/concepts/services-networking/service/#defining-a-service
"#,
    check: Check::Kubernetes(check),
};

fn check(ctx: &KubernetesCtx<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for svc in ctx.objects.iter().filter(|o| o.kind == "Service") {
        let sel = svc.node.at("spec").at("selector");
        let crate::lint::yaml::Value::Map(sel_pairs) = &sel.value else { continue };
        if sel_pairs.is_empty() {
            continue;
        }
        // Pods of the workloads whose template labels match the selector.
        let pods: Vec<_> = ctx
            .objects
            .iter()
            .filter(|o| o.pod.is_some())
            .filter(|o| {
                let labels = if o.kind == "Pod" { o.node.at("metadata").at("labels") } else { o.node.at("spec").at("template").at("metadata").at("labels") };
                sel_pairs.iter().all(|(k, v)| labels.get(&k.text().unwrap_or_default()).and_then(|l| l.text()) == v.text())
            })
            .collect();
        if pods.is_empty() {
            continue;
        }
        let mut numbers = Vec::new();
        let mut names = Vec::new();
        for o in &pods {
            for (c, _) in containers(o.pod.unwrap_or(o.node)) {
                for p in c.at("ports").seq() {
                    numbers.extend(p.at("containerPort").as_i64());
                    names.extend(p.at("name").as_str().map(str::to_string));
                }
            }
        }
        for p in svc.node.at("spec").at("ports").seq() {
            let target = p.get("targetPort").or_else(|| p.get("port"));
            let Some(t) = target else { continue };
            let served = match (t.as_i64(), t.as_str()) {
                (Some(n), _) => numbers.contains(&n),
                (_, Some(name)) => names.iter().any(|x| x == name) || name.parse::<i64>().is_ok_and(|n| numbers.contains(&n)),
                _ => true,
            };
            if !served {
                out.push(at(svc.path, t, format!("Service {}: no selected container serves port {}", svc.name, t.text().unwrap_or_default()), Some("point targetPort at a containerPort (or its name)".into())));
            }
        }
    }
    out
}
