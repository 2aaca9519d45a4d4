use crate::diagnostic::{Finding, Severity};
use crate::options::PodSecurity;
use crate::rule::{Check, Rule};
use crate::view::KubernetesCtx;

use super::{name, pods, set_str};

pub static RULE: Rule = Rule {
    code: "PS010",
    name: "pod-security-proc-mount",
    practice: "P11",
    severity: Severity::Error,
    hadolint: &[],
    pod_security: Some(PodSecurity::Baseline),
    doc: r#"
## What it does
Flags a container with a `procMount` other than `Default` (Pod Security baseline, "/proc Mount
Type").

## Why is this bad?
The default /proc mount masks and makes read-only the paths that expose the node; `Unmasked`
removes that.

## Example
```yaml
securityContext:
  procMount: Unmasked
```

Use instead:
```yaml
securityContext: {}   # procMount Default
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
            if let Some((v, m)) = set_str(c.at("securityContext"), "procMount") {
                if m != "Default" {
                    out.push(pod.finding(
                        v,
                        format!("container `{}` mounts /proc {m}", name(c)),
                        "remove procMount (Default)",
                    ));
                }
            }
        }
    }
    out
}
