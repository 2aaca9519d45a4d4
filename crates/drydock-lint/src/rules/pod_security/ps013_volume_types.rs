use crate::diagnostic::{Finding, Severity};
use crate::policy::PodSecurity;
use crate::rule::{Check, Rule};
use crate::view::KubernetesCtx;
use crate::yaml::Value;

use super::{name, pods};

pub static RULE: Rule = Rule {
    code: "PS013",
    name: "pod-security-volume-types",
    practice: "P11",
    severity: Severity::Error,
    hadolint: &[],
    pod_security: Some(PodSecurity::Restricted),
    doc: r#"
## What it does
Flags a volume of a type other than configMap, csi, downwardAPI, emptyDir, ephemeral, image,
persistentVolumeClaim, projected or secret (Pod Security restricted, "Volume Types"). hostPath is
reported by PS005.

## Why is this bad?
Other volume types (nfs, iscsi, rbd, gitRepo, cloud disks…) are mounted by the node with the
node's credentials; restricted pods get storage through PersistentVolumeClaims.

## When it does not apply
- Pods held to a lower profile: in a Namespace of the input labelled
  `pod-security.kubernetes.io/enforce: baseline` or `privileged`, or, for objects in no such
  labelled Namespace, with `[lint] pod_security` (`--pod-security`) set to either.
- `hostPath` volumes: PS005 reports them (baseline).

Otherwise every volume of another type than the allowed ones is flagged, whatever the workload
is for.

## Example
```yaml
volumes:
  - name: shared
    nfs: { server: nfs.example, path: /exports }
```

Use instead:
```yaml
volumes:
  - name: shared
    persistentVolumeClaim: { claimName: shared }
```

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
"#,
    check: Check::Kubernetes(check),
};

fn check(ctx: &KubernetesCtx<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for pod in pods(ctx, PodSecurity::Restricted) {
        for v in pod.spec.at("volumes").seq() {
            let Value::Map(entries) = &v.value else {
                continue;
            };
            for (k, _) in entries {
                let key = k.as_str().unwrap_or("");
                if key != "name" && key != "hostPath" && !ALLOWED_VOLUMES.contains(&key) {
                    out.push(pod.finding(k, format!("volume `{}` is of type {key}", name(v)), "use a persistentVolumeClaim (or configMap, secret, emptyDir, projected, csi, ephemeral, image)"));
                }
            }
        }
    }
    out
}

/// The volume types restricted allows.
const ALLOWED_VOLUMES: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "image",
    "persistentVolumeClaim",
    "projected",
    "secret",
];
