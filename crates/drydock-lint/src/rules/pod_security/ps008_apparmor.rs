use crate::diagnostic::{Finding, Severity};
use crate::policy::PodSecurity;
use crate::rule::{Check, Rule};
use crate::view::KubernetesCtx;
use crate::yaml::Value;

use super::{disallowed_profiles, pods};

pub static RULE: Rule = Rule {
    code: "PS008",
    name: "pod-security-apparmor",
    practice: "P11",
    severity: Severity::Error,
    hadolint: &[],
    pod_security: Some(PodSecurity::Baseline),
    doc: r#"
## What it does
Flags an AppArmor profile other than the runtime default or a node-local one: an
`appArmorProfile.type` other than `RuntimeDefault` or `Localhost` on the pod or a container, or a
`container.apparmor.security.beta.kubernetes.io/*` annotation other than `runtime/default` or
`localhost/*` (Pod Security baseline, "AppArmor").

## Why is this bad?
`Unconfined` turns off the confinement that blocks mounts, raw sockets and writes under /proc.

## When it does not apply
- Pods held to the privileged profile: in a Namespace of the input labelled
  `pod-security.kubernetes.io/enforce: privileged`, or, for objects in no such labelled
  Namespace, with `[lint] pod_security = "privileged"` (`--pod-security privileged`).
- Profiles that are unset or empty, `RuntimeDefault`, `Localhost`, and annotations set to
  `runtime/default` or `localhost/NAME`.

## Example
```yaml
securityContext:
  appArmorProfile: { type: Unconfined }
```

Use instead:
```yaml
securityContext:
  appArmorProfile: { type: RuntimeDefault }
```

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
"#,
    check: Check::Kubernetes(check),
};

fn check(ctx: &KubernetesCtx<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for pod in pods(ctx, PodSecurity::Baseline) {
        for (who, v, t) in disallowed_profiles(&pod, "appArmorProfile") {
            out.push(pod.finding(
                v,
                format!("{who} sets AppArmor profile {t}"),
                "use appArmorProfile type RuntimeDefault (or Localhost)",
            ));
        }
        let annotations = pod.object.pod_meta.map(|m| &m.at("annotations").value);
        if let Some(Value::Map(annotations)) = annotations {
            for (k, v) in annotations {
                let key = k.as_str().unwrap_or("");
                let value = v.as_str().unwrap_or("");
                if key.starts_with("container.apparmor.security.beta.kubernetes.io/")
                    && !(value.is_empty()
                        || value == "runtime/default"
                        || value.starts_with("localhost/"))
                {
                    out.push(pod.finding(k, format!("annotation {key} sets AppArmor profile {value}"), "use runtime/default (or localhost/NAME), or appArmorProfile RuntimeDefault"));
                }
            }
        }
    }
    out
}
