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
- A DaemonSet's hostPath volumes, unless its Namespace in the input enforces a profile (its
  `pod-security.kubernetes.io/enforce` label). A DaemonSet runs one pod on each node to work on
  that node: collect its logs, export its metrics, serve a CSI or device plugin, keep per-node
  state. Reading the node's files is what it is for, and a DaemonSet has no
  `volumeClaimTemplates`, so no volume can replace them. The Standards' privileged profile is
  for such system workloads: run it in a Namespace labelled
  `pod-security.kubernetes.io/enforce: privileged`. In a Namespace of the input that enforces
  baseline or restricted, the admission controller refuses it, and that is reported.

Otherwise every `hostPath` volume is flagged, read-only or not.

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
        let o = pod.object;
        // A node agent: reported only where a Namespace of the input enforces a profile.
        let node_agent = o.kind == "DaemonSet";
        let enforced = o
            .namespace
            .as_deref()
            .is_some_and(|n| ctx.namespaces.contains_key(n));
        if node_agent && !enforced {
            continue;
        }
        let fix = if node_agent {
            "a node agent reads the node's files: run it in a Namespace labelled \
             `pod-security.kubernetes.io/enforce: privileged`"
        } else {
            "use a persistentVolumeClaim, emptyDir, configMap or secret volume"
        };
        for v in pod.spec.at("volumes").seq() {
            if let Some((k, _)) = v.entry("hostPath") {
                out.push(pod.finding(k, format!("volume `{}` is a hostPath volume", name(v)), fix));
            }
        }
    }
    out
}
