use crate::diagnostic::{Finding, Severity};
use crate::policy::PodSecurity;
use crate::rule::{Check, Rule};
use crate::view::KubernetesCtx;

use super::{name, pods};

pub static RULE: Rule = Rule {
    code: "PS004",
    name: "pod-security-capabilities-baseline",
    practice: "P11",
    severity: Severity::Error,
    hadolint: &[],
    pod_security: Some(PodSecurity::Baseline),
    doc: r#"
## What it does
Flags a capability added beyond the container runtime's default set (AUDIT_WRITE, CHOWN,
DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID,
SYS_CHROOT): Pod Security baseline, "Capabilities".

## Why is this bad?
Capabilities such as NET_ADMIN, SYS_ADMIN or SYS_PTRACE are ways out of the container.

## When it does not apply
- Pods held to the privileged profile: in a Namespace of the input labelled
  `pod-security.kubernetes.io/enforce: privileged`, or, for objects in no such labelled
  Namespace, with `[lint] pod_security = "privileged"` (`--pod-security privileged`).

Otherwise every capability in a container's `add` (init and ephemeral containers included) that
is not in the runtime's default set is flagged, whatever the workload is for. `drop` is not
judged here (PS018 asks for `drop: [ALL]` under restricted).

## Example
```yaml
securityContext:
  capabilities: { add: [NET_ADMIN] }
```

Use instead:
```yaml
securityContext:
  capabilities: { drop: [ALL], add: [NET_BIND_SERVICE] }
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
            for cap in c.at("securityContext").at("capabilities").at("add").seq() {
                let text = cap.text().unwrap_or_default();
                if !BASELINE_CAPABILITIES.contains(&text.as_str()) {
                    out.push(pod.finding(cap, format!("container `{}` adds capability {text}, beyond the baseline set", name(c)), "remove it; the baseline profile allows only the runtime's default capabilities"));
                }
            }
        }
    }
    out
}

/// The container runtime's default capabilities, which baseline allows adding back.
pub(crate) const BASELINE_CAPABILITIES: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];
