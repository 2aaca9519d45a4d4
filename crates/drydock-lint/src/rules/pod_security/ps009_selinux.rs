use crate::diagnostic::{Finding, Severity};
use crate::policy::PodSecurity;
use crate::rule::{Check, Rule};
use crate::view::KubernetesCtx;

use super::{contexts, pods, set_str};

pub static RULE: Rule = Rule {
    code: "PS009",
    name: "pod-security-selinux",
    practice: "P11",
    severity: Severity::Error,
    hadolint: &[],
    pod_security: Some(PodSecurity::Baseline),
    doc: r#"
## What it does
Flags custom SELinux options: a `seLinuxOptions.type` other than `container_t`,
`container_init_t`, `container_kvm_t` or `container_engine_t`, or any `user` or `role`, on the pod
or a container (Pod Security baseline, "SELinux").

## Why is this bad?
A custom SELinux type, user or role can lift the labels that keep a container away from the
node's files and other containers.

## When it does not apply
- Pods held to the privileged profile: in a Namespace of the input labelled
  `pod-security.kubernetes.io/enforce: privileged`, or, for objects in no such labelled
  Namespace, with `[lint] pod_security = "privileged"` (`--pod-security privileged`).
- `seLinuxOptions.level`, which any profile allows; the allowed types (`container_t`,
  `container_init_t`, `container_kvm_t`, `container_engine_t`); empty values (unset).

## Example
```yaml
securityContext:
  seLinuxOptions: { type: spc_t }
```

Use instead:
```yaml
securityContext:
  seLinuxOptions: { level: "s0:c123,c456" }   # level is allowed
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
            let se = sc.at("seLinuxOptions");
            if let Some((v, t)) = set_str(se, "type") {
                if !ALLOWED_TYPES.contains(&t) {
                    out.push(pod.finding(
                        v,
                        format!("{who} sets SELinux type {t}"),
                        "leave seLinuxOptions.type unset or use container_t",
                    ));
                }
            }
            for key in ["user", "role"] {
                if let Some((_, val)) = set_str(se, key) {
                    let k = se.entry(key).map(|(k, _)| k).unwrap_or(se);
                    out.push(pod.finding(
                        k,
                        format!("{who} sets SELinux {key} {val}"),
                        &format!("remove seLinuxOptions.{key}"),
                    ));
                }
            }
        }
    }
    out
}

/// The SELinux types baseline allows.
const ALLOWED_TYPES: &[&str] = &[
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];
