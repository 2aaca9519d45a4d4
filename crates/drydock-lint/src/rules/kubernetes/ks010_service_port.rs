use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::kubernetes::pod_containers;
use crate::view::KubernetesCtx;
use crate::yaml::{at, label_pairs};

pub static RULE: Rule = Rule {
    code: "KS010",
    name: "service-port-not-served",
    practice: "P9",
    severity: Severity::Error,
    hadolint: &[],
    pod_security: None,
    doc: r#"
## What it does
Flags a Service `targetPort` that no container of the pods it selects declares (by number or
by name), when those pods are in the files linted and declare ports at all (`containerPort` is
optional; a pod that declares none is not judged).

## Why is this bad?
Traffic to the Service goes nowhere: connections are refused and the Service has no endpoints.

## When it does not apply
`containerPort` is informational: a container may listen on ports it does not declare. So a
numeric `targetPort` is not flagged when a selected container is told that port in its
`command`, `args` or an `env` value (`--port=18080`, `COLLECTOR_PORT=14268`), nor behind a
headless Service (`clusterIP: None`), which forwards nothing. A named `targetPort` that no
container port has is always flagged: the Service then has no endpoints.

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
    // Every pod template once: its labels, and the ports its containers declare.
    // The words of its containers' command, args and env values, where a program told which
    // port to listen on says it (`--port=18080`, `COLLECTOR_PORT=14268`).
    type PodPorts = (Vec<(String, String)>, Vec<i64>, Vec<String>, Vec<i64>);
    let pods: Vec<PodPorts> = ctx
        .objects
        .iter()
        .filter_map(|o| {
            let pod = o.pod?;
            let labels = if o.kind == "Pod" {
                o.node.at("metadata").at("labels")
            } else {
                o.node.at("spec").at("template").at("metadata").at("labels")
            };
            let mut numbers = Vec::new();
            let mut names = Vec::new();
            let mut told = Vec::new();
            for (c, _) in pod_containers(pod) {
                for p in c.at("ports").seq() {
                    numbers.extend(p.at("containerPort").as_i64());
                    names.extend(p.at("name").as_str().map(str::to_string));
                }
                let texts = c
                    .at("command")
                    .seq()
                    .iter()
                    .chain(c.at("args").seq())
                    .filter_map(|n| n.text())
                    .chain(
                        c.at("env")
                            .seq()
                            .iter()
                            .filter_map(|e| e.at("value").text()),
                    );
                for t in texts {
                    told.extend(
                        t.split(|ch: char| !ch.is_ascii_digit())
                            .filter_map(|w| w.parse::<i64>().ok()),
                    );
                }
            }
            Some((label_pairs(labels), numbers, names, told))
        })
        .collect();
    let mut out = Vec::new();
    for svc in ctx.objects.iter().filter(|o| o.kind == "Service") {
        let sel = label_pairs(svc.node.at("spec").at("selector"));
        if sel.is_empty() {
            continue;
        }
        let selected: Vec<_> = pods
            .iter()
            .filter(|(labels, _, _, _)| sel.iter().all(|kv| labels.contains(kv)))
            .collect();
        if selected.is_empty() {
            continue;
        }
        let numbers: Vec<i64> = selected
            .iter()
            .flat_map(|(_, n, _, _)| n.iter().copied())
            .collect();
        let names: Vec<&String> = selected.iter().flat_map(|(_, _, n, _)| n.iter()).collect();
        let told: Vec<i64> = selected
            .iter()
            .flat_map(|(_, _, _, t)| t.iter().copied())
            .collect();
        // A headless Service (`clusterIP: None`) forwards nothing: its ports only name DNS SRV
        // records, so only a named targetPort that matches no container is a mistake there.
        let headless = svc.node.at("spec").at("clusterIP").as_str() == Some("None");
        // containerPort is optional (informational): with none declared there is nothing to
        // check the Service against.
        if numbers.is_empty() && names.is_empty() {
            continue;
        }
        for p in svc.node.at("spec").at("ports").seq() {
            let Some(t) = p.get("targetPort").or_else(|| p.get("port")) else {
                continue;
            };
            let served = match (t.as_i64(), t.as_str()) {
                // `containerPort` is informational: a number the containers are told to listen
                // on, or any number behind a headless Service, may well be served.
                (Some(n), _) => numbers.contains(&n) || told.contains(&n) || headless,
                (_, Some(name)) => {
                    names.iter().any(|x| *x == name)
                        || name.parse::<i64>().is_ok_and(|n| numbers.contains(&n))
                }
                _ => true,
            };
            if !served {
                out.push(at(
                    svc.path,
                    t,
                    format!(
                        "Service {}: no selected container serves port {}",
                        svc.name,
                        t.text().unwrap_or_default()
                    ),
                    Some("point targetPort at a containerPort (or its name)".into()),
                ));
            }
        }
    }
    out
}
