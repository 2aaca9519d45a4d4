use crate::diagnostic::{Finding, Severity};
use crate::policy::PodSecurity;
use crate::rule::{Check, Rule};
use crate::view::KubernetesCtx;

use super::{pods, true_key};

pub static RULE: Rule = Rule {
    code: "PS002",
    name: "pod-security-host-namespaces",
    practice: "P11",
    severity: Severity::Error,
    hadolint: &[],
    pod_security: Some(PodSecurity::Baseline),
    doc: r#"
## What it does
Flags `hostNetwork`, `hostPID` or `hostIPC` set to true (Pod Security baseline, "Host Namespaces").

## Why is this bad?
Sharing the node's network, process or IPC namespace lets the pod see and reach what the node
runs: other pods' traffic, processes and shared memory.

## When it does not apply
- Pods held to the privileged profile: in a Namespace of the input labelled
  `pod-security.kubernetes.io/enforce: privileged`, or, for objects in no such labelled
  Namespace, with `[lint] pod_security = "privileged"` (`--pod-security privileged`).

Otherwise it always applies: `hostNetwork`, `hostPID` or `hostIPC` set to `true` is flagged
whatever the workload is for (node agents and CNI plugins included: they belong in a Namespace
that enforces privileged); `false` or unset is fine.

## Example
```yaml
spec:
  hostNetwork: true
```

Use instead:
```yaml
spec:
  hostNetwork: false   # or leave it out
```

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
"#,
    check: Check::Kubernetes(check),
};

fn check(ctx: &KubernetesCtx<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for pod in pods(ctx, PodSecurity::Baseline) {
        for key in ["hostNetwork", "hostPID", "hostIPC"] {
            if let Some(k) = true_key(pod.spec, key) {
                out.push(pod.finding(
                    k,
                    format!("{key} shares the node's namespace"),
                    &format!("remove {key}"),
                ));
            }
        }
    }
    out
}
