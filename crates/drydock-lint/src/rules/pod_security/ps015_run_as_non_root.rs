use crate::diagnostic::{Finding, Severity};
use crate::policy::PodSecurity;
use crate::rule::{Check, Rule};
use crate::view::KubernetesCtx;

use super::{name, name_anchor, pods, privileged};

pub static RULE: Rule = Rule {
    code: "PS015",
    name: "pod-security-run-as-non-root",
    practice: "P11",
    severity: Severity::Error,
    hadolint: &[],
    pod_security: Some(PodSecurity::Restricted),
    doc: r#"
## What it does
Flags a pod whose containers are not all required to run as non-root: `runAsNonRoot: true` on
the pod (and no container setting it false) or on every container (Pod Security restricted,
"Running as Non-root"). Pods in a user namespace (`hostUsers: false`) are exempt.

## Why is this bad?
With `runAsNonRoot: true` the kubelet refuses to start an image that would run as uid 0; without
it, an image's `USER root` runs as root.

## When it does not apply
- Pods in a user namespace (`hostUsers: false`).
- Privileged containers (`privileged: true`): they hold every capability of the node whatever
  user they run as; PS003's finding says it all, and one finding is what to fix.

## Example
```yaml
spec:
  containers:
    - name: app
      image: app:1.0
```

Use instead:
```yaml
spec:
  securityContext: { runAsNonRoot: true }
  containers:
    - name: app
      image: app:1.0
```

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
"#,
    check: Check::Kubernetes(check),
};

fn check(ctx: &KubernetesCtx<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for pod in pods(ctx, PodSecurity::Restricted) {
        if pod.user_namespaced() {
            continue;
        }
        let psc = pod.security();
        let pod_value = psc.entry("runAsNonRoot");
        if let Some((k, v)) = pod_value {
            if v.as_bool() != Some(true) {
                out.push(pod.finding(
                    k,
                    "the pod sets runAsNonRoot to false".into(),
                    "set runAsNonRoot: true",
                ));
            }
        }
        let pod_true = pod_value.is_some_and(|(_, v)| v.as_bool() == Some(true));
        for c in pod.containers().filter(|c| !(privileged(c))) {
            match c.at("securityContext").entry("runAsNonRoot") {
                Some((_, v)) if v.as_bool() == Some(true) => {}
                Some((k, _)) => out.push(pod.finding(k, format!("container `{}` sets runAsNonRoot to false", name(c)), "set runAsNonRoot: true")),
                // A pod-level false is reported once, above.
                None if pod_true || pod_value.is_some() || pod.object.partial => {}
                None => out.push(pod.finding(name_anchor(c), format!("container `{}` may run as root: runAsNonRoot is set neither on it nor on the pod", name(c)), "set securityContext.runAsNonRoot: true on the pod or the container")),
            }
        }
    }
    out
}
