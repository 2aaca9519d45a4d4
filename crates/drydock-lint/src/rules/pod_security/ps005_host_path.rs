use crate::diagnostic::{Finding, Severity};
use crate::policy::PodSecurity;
use crate::rule::{Check, Rule};
use crate::view::KubernetesCtx;

use super::{name, pods};

pub static RULE: Rule = Rule {
    code: "PS005",
    name: "pod-security-host-path",
    practice: "P11",
    severity: Severity::Error,
    hadolint: &[],
    pod_security: Some(PodSecurity::Baseline),
    doc: r#"
## What it does
Flags a `hostPath` volume (Pod Security baseline, "HostPath Volumes").

## Why is this bad?
A hostPath volume mounts the node's own files into the pod: the container runtime's socket,
kubelet's credentials, other pods' data.

## When it does not apply
- Pods held to the privileged profile: in a Namespace of the input labelled
  `pod-security.kubernetes.io/enforce: privileged`, or, for objects in no such labelled
  Namespace, with `[lint] pod_security = "privileged"` (`--pod-security privileged`).

Otherwise every `hostPath` volume is flagged, read-only or not, whatever the workload is for:
node agents that must read the node's files (log collectors, disk monitors) belong in a
Namespace that enforces privileged.

## Example
```yaml
volumes:
  - name: data
    hostPath: { path: /var/lib/app }
```

Use instead:
```yaml
volumes:
  - name: data
    persistentVolumeClaim: { claimName: app-data }
```

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
"#,
    check: Check::Kubernetes(check),
};

fn check(ctx: &KubernetesCtx<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for pod in pods(ctx, PodSecurity::Baseline) {
        for v in pod.spec.at("volumes").seq() {
            if let Some((k, _)) = v.entry("hostPath") {
                out.push(pod.finding(
                    k,
                    format!("volume `{}` is a hostPath volume", name(v)),
                    "use a persistentVolumeClaim, emptyDir, configMap or secret volume",
                ));
            }
        }
    }
    out
}
