use crate::diagnostic::{Finding, Severity};
use crate::policy::PodSecurity;
use crate::rule::{Check, Rule};
use crate::view::KubernetesCtx;

use super::{name, pods, true_key};

pub static RULE: Rule = Rule {
    code: "PS003",
    name: "pod-security-privileged",
    practice: "P11",
    severity: Severity::Error,
    hadolint: &[],
    pod_security: Some(PodSecurity::Baseline),
    doc: r#"
## What it does
Flags a container with `securityContext.privileged: true` (Pod Security baseline, "Privileged
Containers").

## Why is this bad?
A privileged container has every capability and every device of the node, and no seccomp or
AppArmor confinement: it is root on the node.

## When it does not apply
- Pods held to the privileged profile: in a Namespace of the input labelled
  `pod-security.kubernetes.io/enforce: privileged`, or, for objects in no such labelled
  Namespace, with `[lint] pod_security = "privileged"` (`--pod-security privileged`).

Otherwise it always applies, to every container with `privileged: true`, init and ephemeral
ones included. It is the one finding for such a container: PS014, PS015, PS017 and PS018 leave
privileged containers to it.

## Example
```yaml
securityContext:
  privileged: true
```

Use instead:
```yaml
securityContext:
  privileged: false
  capabilities: { drop: [ALL] }
```

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
"#,
    check: Check::Kubernetes(check),
};

fn check(ctx: &KubernetesCtx<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for pod in pods(ctx, PodSecurity::Baseline) {
        for c in pod.containers() {
            if let Some(k) = true_key(c.at("securityContext"), "privileged") {
                out.push(pod.finding(
                    k,
                    format!("container `{}` is privileged", name(c)),
                    "remove privileged: true; add only the capability it needs",
                ));
            }
        }
    }
    out
}
