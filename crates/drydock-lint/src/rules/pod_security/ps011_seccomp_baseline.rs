use crate::diagnostic::{Finding, Severity};
use crate::policy::PodSecurity;
use crate::rule::{Check, Rule};
use crate::view::KubernetesCtx;

use super::{disallowed_profiles, pods};

pub static RULE: Rule = Rule {
    code: "PS011",
    name: "pod-security-seccomp-unconfined",
    practice: "P11",
    severity: Severity::Error,
    hadolint: &[],
    pod_security: Some(PodSecurity::Baseline),
    doc: r#"
## What it does
Flags a seccomp profile other than `RuntimeDefault` or `Localhost` (i.e. `Unconfined`) on the
pod or a container (Pod Security baseline, "Seccomp").

## Why is this bad?
Without seccomp every system call reaches the kernel, including the ones container escapes use.

## When it does not apply
- Pods held to the privileged profile: in a Namespace of the input labelled
  `pod-security.kubernetes.io/enforce: privileged`, or, for objects in no such labelled
  Namespace, with `[lint] pod_security = "privileged"` (`--pod-security privileged`).
- A profile left unset: baseline allows it (restricted requires one, and PS017 flags it).
  `RuntimeDefault` and `Localhost` are allowed.

## Example
```yaml
securityContext:
  seccompProfile: { type: Unconfined }
```

Use instead:
```yaml
securityContext:
  seccompProfile: { type: RuntimeDefault }
```

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
"#,
    check: Check::Kubernetes(check),
};

fn check(ctx: &KubernetesCtx<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for pod in pods(ctx, PodSecurity::Baseline) {
        for (who, v, t) in disallowed_profiles(&pod, "seccompProfile") {
            out.push(pod.finding(
                v,
                format!("{who} sets seccomp profile {t}"),
                "use seccompProfile type RuntimeDefault (or Localhost)",
            ));
        }
    }
    out
}
