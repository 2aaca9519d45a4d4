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
