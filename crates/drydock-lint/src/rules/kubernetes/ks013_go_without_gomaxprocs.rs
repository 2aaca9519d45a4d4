use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::kubernetes::pod_containers;
use crate::view::KubernetesCtx;
use crate::yaml::at;

pub static RULE: Rule = Rule {
    code: "KS013",
    name: "go-cpu-limit-without-gomaxprocs",
    practice: "P7",
    severity: Severity::Warning,
    hadolint: &[],
    pod_security: None,
    doc: r#"
## What it does
Flags a Go container with a CPU limit and nothing that sets GOMAXPROCS: no `GOMAXPROCS`
variable (a value or a Downward API `resourceFieldRef` on `limits.cpu`), no drydock-helper in
the image.

A container counts as Go when its pod template is annotated `drydock.dev/language: go`
(`drydock deploy` writes it), or when it sets a Go runtime variable (`GOGC`, `GOMEMLIMIT`,
`GODEBUG`, `GOTRACEBACK`). It counts as handled when the template is annotated
`drydock.dev/helper: "true"`, when its command runs `drydock-helper --go`, or when it sets
`GOMAXPROCS`. Go 1.25 and later follow the CPU limit themselves: annotate such images
`drydock.dev/gomaxprocs: runtime`.

## Why is this bad?
Before Go 1.25, GOMAXPROCS is the node's CPU count: on a 64-core node with a 1-CPU limit the
runtime runs 64 threads that the kernel throttles every period, and tail latency explodes.

## When it does not apply
- Containers without a CPU limit: GOMAXPROCS then has no limit to follow.
- Containers not known to be Go: no `drydock.dev/language: go` on the pod (template) and no Go
  runtime variable in their `env`.
- GOMAXPROCS is taken care of: a `GOMAXPROCS` variable (a value or a reference), the pod
  (template) annotated `drydock.dev/helper: "true"` or `drydock.dev/gomaxprocs: runtime`, or a
  command that runs `drydock-helper` with `--go`. A binary that sets it itself (automaxprocs)
  cannot be seen from the manifest: annotate it `drydock.dev/gomaxprocs: runtime`.
- Kustomize patches.

## Example
```yaml
resources: { limits: { cpu: "1" } }
```

Use instead:
```yaml
env:
- name: GOMAXPROCS
  valueFrom: { resourceFieldRef: { resource: limits.cpu, divisor: "1" } }
```

## References
- https://github.com/uber-go/automaxprocs
- https://go.dev/blog/container-aware-gomaxprocs
"#,
    check: Check::Kubernetes(check),
};

fn check(ctx: &KubernetesCtx<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for o in ctx.objects.iter().filter(|o| !o.partial) {
        let Some(pod) = o.pod else { continue };
        let meta = if o.kind == "Pod" {
            o.node.at("metadata")
        } else if o.kind == "CronJob" {
            o.node
                .at("spec")
                .at("jobTemplate")
                .at("spec")
                .at("template")
                .at("metadata")
        } else {
            o.node.at("spec").at("template").at("metadata")
        };
        let ann = meta.at("annotations");
        let annotated_go = ann.at("drydock.dev/language").as_str() == Some("go");
        let helper = ann.at("drydock.dev/helper").text().as_deref() == Some("true")
            || ann.at("drydock.dev/gomaxprocs").as_str() == Some("runtime");
        for (c, _) in pod_containers(pod) {
            let Some(limit) = c.at("resources").at("limits").get("cpu") else {
                continue;
            };
            let env_names: Vec<&str> = c
                .at("env")
                .seq()
                .iter()
                .filter_map(|e| e.at("name").as_str())
                .collect();
            let go = annotated_go
                || env_names
                    .iter()
                    .any(|n| matches!(*n, "GOGC" | "GOMEMLIMIT" | "GODEBUG" | "GOTRACEBACK"));
            let command: Vec<String> = c
                .at("command")
                .seq()
                .iter()
                .chain(c.at("args").seq())
                .filter_map(|n| n.text())
                .collect();
            let handled = helper
                || env_names.contains(&"GOMAXPROCS")
                || (command.iter().any(|a| a.contains("drydock-helper"))
                    && command.iter().any(|a| a == "--go"));
            if go && !handled {
                out.push(at(o.path, limit, format!("{} {}: Go container `{}` has a CPU limit of {} but nothing sets GOMAXPROCS", o.kind, o.name, c.at("name").as_str().unwrap_or("?"), limit.text().unwrap_or_default()), Some("set GOMAXPROCS from the Downward API (resourceFieldRef limits.cpu), or build the image with drydock-helper".into())));
            }
        }
    }
    out
}
