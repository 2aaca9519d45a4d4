use crate::diagnostic::{Finding, Severity};
use crate::policy::PodSecurity;
use crate::rule::{Check, Rule};
use crate::view::KubernetesCtx;

use super::{name, name_anchor, pods, privileged};

pub static RULE: Rule = Rule {
    code: "PS017",
    name: "pod-security-seccomp-required",
    practice: "P11",
    severity: Severity::Error,
    hadolint: &[],
    pod_security: Some(PodSecurity::Restricted),
    doc: r#"
## What it does
Flags a container with no seccomp profile: neither it nor the pod sets `seccompProfile.type`
(`RuntimeDefault` or `Localhost`): Pod Security restricted, "Seccomp". A profile that is set but
not allowed is reported by PS011. Windows pods are exempt.

## Why is this bad?
Restricted requires a seccomp profile to be chosen explicitly, so that no container runs with
every system call open where the runtime's default is `Unconfined`.

## When it does not apply
- Windows pods, and kustomize patches (partial objects).
- Privileged containers (`privileged: true`): the runtime runs them without seccomp whatever
  profile is set, so the profile would change nothing; PS003 reports the container.

## Example
```yaml
securityContext:
  runAsNonRoot: true
```

Use instead:
```yaml
securityContext:
  runAsNonRoot: true
  seccompProfile: { type: RuntimeDefault }
```

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
"#,
    check: Check::Kubernetes(check),
};

fn check(ctx: &KubernetesCtx<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for pod in pods(ctx, PodSecurity::Restricted) {
        if pod.is_windows() || pod.object.partial {
            continue;
        }
        let has_profile = |sc: &crate::yaml::Node| sc.at("seccompProfile").get("type").is_some();
        if has_profile(pod.security()) {
            continue;
        }
        for c in pod.containers().filter(|c| !(privileged(c))) {
            if !has_profile(c.at("securityContext")) {
                out.push(pod.finding(
                    name_anchor(c),
                    format!(
                        "container `{}` has no seccomp profile (none on the pod either)",
                        name(c)
                    ),
                    "set securityContext.seccompProfile.type: RuntimeDefault on the pod",
                ));
            }
        }
    }
    out
}
