use crate::diagnostic::{Finding, Severity};
use crate::policy::PodSecurity;
use crate::rule::{Check, Rule};
use crate::view::KubernetesCtx;

use super::{name, pods};

pub static RULE: Rule = Rule {
    code: "PS006",
    name: "pod-security-host-ports",
    practice: "P11",
    severity: Severity::Error,
    hadolint: &[],
    pod_security: Some(PodSecurity::Baseline),
    doc: r#"
## What it does
Flags a container port with a `hostPort` other than 0 (Pod Security baseline, "Host Ports").

## Why is this bad?
A host port binds the node's own address, bypassing Services and NetworkPolicies, and limits
the pod to one per node.

## When it does not apply
- Pods held to the privileged profile: in a Namespace of the input labelled
  `pod-security.kubernetes.io/enforce: privileged`, or, for objects in no such labelled
  Namespace, with `[lint] pod_security = "privileged"` (`--pod-security privileged`).
- `hostPort: 0`, which means no host port.

Otherwise every other `hostPort` of any container (init and ephemeral ones included) is
flagged.

## Example
```yaml
ports:
  - containerPort: 8080
    hostPort: 8080
```

Use instead:
```yaml
ports:
  - containerPort: 8080   # and a Service in front
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
            for p in c.at("ports").seq() {
                if let Some((k, v)) = p.entry("hostPort") {
                    if v.text().is_some_and(|t| t != "0") {
                        out.push(pod.finding(
                            k,
                            format!(
                                "container `{}` binds host port {}",
                                name(c),
                                v.text().unwrap_or_default()
                            ),
                            "remove hostPort and reach the pod through a Service",
                        ));
                    }
                }
            }
        }
    }
    out
}
