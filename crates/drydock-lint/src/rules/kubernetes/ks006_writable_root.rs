use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::{Container, KubernetesCtx};
use crate::yaml::at;

pub static RULE: Rule = Rule {
    code: "KS006",
    name: "writable-root-filesystem",
    practice: "P11",
    severity: Severity::Warning,
    hadolint: &[],
    pod_security: None,
    doc: r#"
## What it does
Flags a container without `readOnlyRootFilesystem: true`.

## Why is this bad?
A writable root lets an attacker drop tools and change binaries; a service writes only to
volumes (an `emptyDir` at `/tmp`).

## When it does not apply
Kustomize patches (partial objects: the `securityContext` may come from the object they
patch). Otherwise it always applies, to every container, init containers and those of Jobs and
CronJobs included: any of them runs code that could change its image's files.

## Example
```yaml
securityContext: { allowPrivilegeEscalation: false }
```

Use instead:
```yaml
securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true }
volumeMounts: [{ name: tmp, mountPath: /tmp }]
```

## References
- https://kubernetes.io/docs/tasks/configure-pod-container/security-context/
"#,
    check: Check::Kubernetes(check),
};

fn check(ctx: &KubernetesCtx<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for Container {
        object: o, node: c, ..
    } in ctx.containers().filter(|c| !c.object.partial)
    {
        if c.at("securityContext")
            .at("readOnlyRootFilesystem")
            .as_bool()
            != Some(true)
        {
            // At `readOnlyRootFilesystem: false` when it is written, else where it belongs.
            let sc = c.at("securityContext");
            let anchor = sc
                .entry("readOnlyRootFilesystem")
                .map(|(k, _)| k)
                .or_else(|| c.entry("securityContext").map(|(k, _)| k))
                .or_else(|| c.entry("name").map(|(_, v)| v))
                .unwrap_or(c);
            out.push(at(
                o.path,
                anchor,
                format!(
                    "{} {}: container `{}` has a writable root filesystem",
                    o.kind,
                    o.name,
                    c.at("name").as_str().unwrap_or("?")
                ),
                Some(
                    "set readOnlyRootFilesystem: true and mount an emptyDir where it writes".into(),
                ),
            ));
        }
    }
    out
}
