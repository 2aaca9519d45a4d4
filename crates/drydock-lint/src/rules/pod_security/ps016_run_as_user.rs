use crate::diagnostic::{Finding, Severity};
use crate::policy::PodSecurity;
use crate::rule::{Check, Rule};
use crate::view::KubernetesCtx;

use super::{contexts, pods};

pub static RULE: Rule = Rule {
    code: "PS016",
    name: "pod-security-run-as-user-root",
    practice: "P11",
    severity: Severity::Error,
    hadolint: &[],
    pod_security: Some(PodSecurity::Restricted),
    doc: r#"
## What it does
Flags `runAsUser: 0` on the pod or a container (Pod Security restricted, "Running as Non-root
user"). Pods in a user namespace (`hostUsers: false`) are exempt.

## Why is this bad?
uid 0 is root; with the node's user namespace it is the node's root once out of the container.

## When it does not apply
- Pods held to a lower profile: in a Namespace of the input labelled
  `pod-security.kubernetes.io/enforce: baseline` or `privileged`, or, for objects in no such
  labelled Namespace, with `[lint] pod_security` (`--pod-security`) set to either.
- Pods in a user namespace (`hostUsers: false`): uid 0 there is not the node's root.

Otherwise `runAsUser: 0` on the pod or on any container (init and ephemeral ones included) is
flagged.

## Example
```yaml
securityContext:
  runAsUser: 0
```

Use instead:
```yaml
securityContext:
  runAsUser: 65532
```

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
"#,
    check: Check::Kubernetes(check),
};

fn check(ctx: &KubernetesCtx<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for pod in pods(ctx, PodSecurity::Restricted) {
        if pod.user_namespaced() {
            continue;
        }
        for (who, sc) in contexts(&pod) {
            if let Some((k, v)) = sc.entry("runAsUser") {
                if v.as_i64() == Some(0) {
                    out.push(pod.finding(
                        k,
                        format!("{who} runs as uid 0 (root)"),
                        "run as a non-zero uid, e.g. 65532",
                    ));
                }
            }
        }
    }
    out
}
