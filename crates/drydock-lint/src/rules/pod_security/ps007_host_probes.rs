use crate::diagnostic::{Finding, Severity};
use crate::policy::PodSecurity;
use crate::rule::{Check, Rule};
use crate::view::KubernetesCtx;

use super::{name, pods, set_str};

pub static RULE: Rule = Rule {
    code: "PS007",
    name: "pod-security-host-probes",
    practice: "P11",
    severity: Severity::Error,
    hadolint: &[],
    pod_security: Some(PodSecurity::Baseline),
    doc: r#"
## What it does
Flags a probe (`livenessProbe`, `readinessProbe`, `startupProbe`) or lifecycle hook
(`postStart`, `preStop`) whose `httpGet` or `tcpSocket` names a `host` (Pod Security baseline,
"Host Probes / Lifecycle Hooks", Kubernetes 1.34+).

## Why is this bad?
The kubelet makes these requests from the node: a host field turns the pod spec into a way to
reach addresses only the node can reach.

## When it does not apply
- Pods held to the privileged profile: in a Namespace of the input labelled
  `pod-security.kubernetes.io/enforce: privileged`, or, for objects in no such labelled
  Namespace, with `[lint] pod_security = "privileged"` (`--pod-security privileged`).
- A `host` that is empty (`""` counts as unset).

Otherwise it applies to every probe and lifecycle hook of every container. It checks the
newest Standards, whatever `enforce-version` a Namespace pins.

## Example
```yaml
livenessProbe:
  httpGet: { host: 169.254.169.254, path: /, port: 80 }
```

Use instead:
```yaml
livenessProbe:
  httpGet: { path: /healthz, port: 8080 }
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
            let handlers = ["livenessProbe", "readinessProbe", "startupProbe"]
                .into_iter()
                .map(|p| (p, c.at(p)))
                .chain(
                    ["postStart", "preStop"]
                        .into_iter()
                        .map(|h| (h, c.at("lifecycle").at(h))),
                );
            for (what, handler) in handlers {
                for kind in ["httpGet", "tcpSocket"] {
                    if let Some((v, host)) = set_str(handler.at(kind), "host") {
                        let key = handler.at(kind).entry("host").map(|(k, _)| k).unwrap_or(v);
                        out.push(pod.finding(
                            key,
                            format!("container `{}`: {what} {kind} goes to host {host}", name(c)),
                            "remove host: the kubelet then uses the pod's IP",
                        ));
                    }
                }
            }
        }
    }
    out
}
