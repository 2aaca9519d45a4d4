use crate::diagnostic::{Finding, Severity};
use crate::policy::PodSecurity;
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

## When it does not apply
Pods in a user namespace (`hostUsers: false`) may set `Unmasked`: the container's /proc belongs
to its own user namespace, and the PodSecurity admission relaxes this control for such pods, as
it relaxes PS015 and PS016. This follows Kubernetes 1.35, where that relaxation is no longer
behind the `UserNamespacesPodSecurityStandards` feature gate (before, it was off by default).

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
        // A user-namespaced pod's /proc is its own: the admission controller allows any
        // procMount there (UserNamespacesPodSecurityStandards), as it relaxes the non-root
        // controls.
        if pod.user_namespaced() {
            continue;
        }
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
