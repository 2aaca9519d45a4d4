use crate::diagnostic::{Finding, Severity};
use crate::policy::PodSecurity;
use crate::rule::{Check, Rule};
use crate::view::KubernetesCtx;

use super::{adds_sys_admin, name, name_anchor, pods, privileged};

pub static RULE: Rule = Rule {
    code: "PS014",
    name: "pod-security-privilege-escalation",
    practice: "P11",
    severity: Severity::Error,
    hadolint: &[],
    pod_security: Some(PodSecurity::Restricted),
    doc: r#"
## What it does
Flags a container that does not set `allowPrivilegeEscalation: false` (Pod Security
restricted, "Privilege Escalation"). Windows pods are exempt.

## Why is this bad?
Unless it is false, a setuid binary in the image (or one the process writes) can gain
privileges the container was not started with.

## When it does not apply
- Windows pods (`spec.os.name: windows`).
- Privileged containers (`privileged: true`): the API server refuses
  `allowPrivilegeEscalation: false` beside `privileged: true`, so the fix this rule asks for
  cannot be applied; PS003 reports the container.
- Containers that add `SYS_ADMIN`: the API server refuses `allowPrivilegeEscalation: false`
  beside it too; PS004 reports the capability.

## Example
```yaml
securityContext:
  runAsNonRoot: true
```

Use instead:
```yaml
securityContext:
  runAsNonRoot: true
  allowPrivilegeEscalation: false
```

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
"#,
    check: Check::Kubernetes(check),
};

fn check(ctx: &KubernetesCtx<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for pod in pods(ctx, PodSecurity::Restricted) {
        if pod.is_windows() {
            continue;
        }
        for c in pod
            .containers()
            .filter(|c| !(privileged(c) || adds_sys_admin(c)))
        {
            let sc = c.at("securityContext");
            match sc.entry("allowPrivilegeEscalation") {
                Some((_, v)) if v.as_bool() == Some(false) => {}
                Some((k, _)) => out.push(pod.finding(
                    k,
                    format!("container `{}` allows privilege escalation", name(c)),
                    "set allowPrivilegeEscalation: false",
                )),
                None if pod.object.partial => {}
                None => out.push(pod.finding(
                    name_anchor(c),
                    format!(
                        "container `{}` does not set allowPrivilegeEscalation: false",
                        name(c)
                    ),
                    "set securityContext.allowPrivilegeEscalation: false",
                )),
            }
        }
    }
    out
}
