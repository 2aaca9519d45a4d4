use crate::diagnostic::{Finding, Severity};
use crate::policy::PodSecurity;
use crate::rule::{Check, Rule};
use crate::view::KubernetesCtx;

use super::{contexts, pods, true_key};

pub static RULE: Rule = Rule {
    code: "PS001",
    name: "pod-security-host-process",
    practice: "P11",
    severity: Severity::Error,
    hadolint: &[],
    pod_security: Some(PodSecurity::Baseline),
    doc: r#"
## What it does
Flags `windowsOptions.hostProcess: true` on a pod or a container (Pod Security baseline, "HostProcess").

## Why is this bad?
A HostProcess container runs on the Windows node itself, with the node's privileges: it is not
isolated at all.

## When it does not apply
- Pods held to the privileged profile: in a Namespace of the input labelled
  `pod-security.kubernetes.io/enforce: privileged`, or, for objects in no such labelled
  Namespace, with `[lint] pod_security = "privileged"` (`--pod-security privileged`).

Otherwise it always applies: `hostProcess: true` on the pod or on any container (init and
ephemeral ones included) is flagged whatever the workload is for; `false` is not.

## Example
```yaml
securityContext:
  windowsOptions: { hostProcess: true }
```

Use instead:
```yaml
securityContext:
  windowsOptions: { runAsUserName: ContainerUser }
```

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
"#,
    check: Check::Kubernetes(check),
};

fn check(ctx: &KubernetesCtx<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for pod in pods(ctx, PodSecurity::Baseline) {
        for (who, sc) in contexts(&pod) {
            if let Some(k) = true_key(sc.at("windowsOptions"), "hostProcess") {
                out.push(pod.finding(
                    k,
                    format!("{who} is a Windows HostProcess container"),
                    "remove windowsOptions.hostProcess",
                ));
            }
        }
    }
    out
}
