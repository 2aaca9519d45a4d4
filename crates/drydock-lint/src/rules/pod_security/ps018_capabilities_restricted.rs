use crate::diagnostic::{Finding, Severity};
use crate::policy::PodSecurity;
use crate::rule::{Check, Rule};
use crate::view::KubernetesCtx;

use super::ps004_capabilities_baseline::BASELINE_CAPABILITIES;

use super::{name, name_anchor, pods, privileged};

pub static RULE: Rule = Rule {
    code: "PS018",
    name: "pod-security-capabilities-restricted",
    practice: "P11",
    severity: Severity::Error,
    hadolint: &[],
    pod_security: Some(PodSecurity::Restricted),
    doc: r#"
## What it does
Flags a container that does not drop `ALL` capabilities, or adds one other than
`NET_BIND_SERVICE` (Pod Security restricted, "Capabilities"). Capabilities beyond the baseline
set are reported by PS004. Windows pods are exempt.

## Why is this bad?
Even the runtime's default capabilities (CHOWN, DAC_OVERRIDE, SETUID…) are more than a service
needs; dropping them all leaves a compromised process with none.

## When it does not apply
- Windows pods.
- Privileged containers (`privileged: true`): they get every capability whatever `drop` says;
  PS003 reports the container.

## Example
```yaml
securityContext:
  capabilities: { add: [CHOWN] }
```

Use instead:
```yaml
securityContext:
  capabilities: { drop: [ALL], add: [NET_BIND_SERVICE] }
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
        for c in pod.containers().filter(|c| !(privileged(c))) {
            let caps = c.at("securityContext").at("capabilities");
            match caps.entry("drop") {
                Some((_, d)) if d.seq().iter().any(|x| x.as_str() == Some("ALL")) => {}
                Some((k, _)) => out.push(pod.finding(
                    k,
                    format!("container `{}` does not drop ALL capabilities", name(c)),
                    "add ALL to capabilities.drop",
                )),
                None if pod.object.partial => {}
                None => out.push(pod.finding(
                    name_anchor(c),
                    format!("container `{}` does not drop ALL capabilities", name(c)),
                    "set securityContext.capabilities.drop: [ALL]",
                )),
            }
            for cap in caps.at("add").seq() {
                let text = cap.text().unwrap_or_default();
                if text != "NET_BIND_SERVICE" && BASELINE_CAPABILITIES.contains(&text.as_str()) {
                    out.push(pod.finding(
                        cap,
                        format!("container `{}` adds capability {text}", name(c)),
                        "add only NET_BIND_SERVICE",
                    ));
                }
            }
        }
    }
    out
}
