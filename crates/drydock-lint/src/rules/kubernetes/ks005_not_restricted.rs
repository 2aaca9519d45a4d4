use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::kubernetes::pod_containers;
use crate::view::KubernetesCtx;
use crate::yaml::at;

pub static RULE: Rule = Rule {
    code: "KS005",
    name: "pod-security-not-restricted",
    practice: "P11",
    severity: Severity::Error,
    hadolint: &[],
    doc: r#"
## What it does
Checks pods against the Pod Security Standards "restricted" profile: `runAsNonRoot: true`, no
`runAsUser: 0`, `allowPrivilegeEscalation: false`, capabilities dropping `ALL` (adding at most
`NET_BIND_SERVICE`), a `RuntimeDefault` or `Localhost` seccomp profile, no `privileged`, no
host namespaces (`hostNetwork`, `hostPID`, `hostIPC`) and no `hostPort`.

## Why is this bad?
Each one is a way out of the container. Namespaces that enforce "restricted" reject the pod.

## Example
```yaml
securityContext:
  privileged: true
```

Use instead:
```yaml
securityContext:
  runAsNonRoot: true
  allowPrivilegeEscalation: false
  capabilities: { drop: [ALL] }
  seccompProfile: { type: RuntimeDefault }
```

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
"#,
    check: Check::Kubernetes(check),
};

fn check(ctx: &KubernetesCtx<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for o in &ctx.objects {
        let Some(pod) = o.pod else { continue };
        let psc = pod.at("securityContext");
        let who = format!("{} {}", o.kind, o.name);
        for host in ["hostNetwork", "hostPID", "hostIPC"] {
            if let Some(n) = pod.get(host).filter(|n| n.as_bool() == Some(true)) {
                out.push(at(
                    o.path,
                    n,
                    format!("{who}: {host} shares the node's namespace"),
                    Some(format!("remove {host}")),
                ));
            }
        }
        if let Some(n) = psc.get("runAsUser").filter(|n| n.as_i64() == Some(0)) {
            out.push(at(
                o.path,
                n,
                format!("{who}: runAsUser 0 is root"),
                Some("run as a non-zero uid, e.g. 65532".into()),
            ));
        }
        let seccomp_ok = |sc: &crate::yaml::Node| {
            matches!(
                sc.at("seccompProfile").at("type").as_str(),
                Some("RuntimeDefault" | "Localhost")
            )
        };
        for (c, _) in pod_containers(pod) {
            let sc = c.at("securityContext");
            let anchor = c
                .entry("securityContext")
                .map(|(k, _)| k)
                .or_else(|| c.entry("name").map(|(_, v)| v))
                .unwrap_or(c);
            let name = c.at("name").as_str().unwrap_or("?");
            let mut problems = Vec::new();
            if sc.at("privileged").as_bool() == Some(true) {
                problems.push("privileged");
            }
            if sc.at("allowPrivilegeEscalation").as_bool() != Some(false) {
                problems.push("allowPrivilegeEscalation is not false");
            }
            if sc.at("runAsNonRoot").as_bool() != Some(true)
                && !(sc.get("runAsNonRoot").is_none()
                    && psc.at("runAsNonRoot").as_bool() == Some(true))
            {
                problems.push("runAsNonRoot is not true");
            }
            if sc.at("runAsUser").as_i64() == Some(0) {
                problems.push("runAsUser 0");
            }
            if !sc
                .at("capabilities")
                .at("drop")
                .seq()
                .iter()
                .any(|d| d.as_str() == Some("ALL"))
            {
                problems.push("capabilities do not drop ALL");
            }
            if sc
                .at("capabilities")
                .at("add")
                .seq()
                .iter()
                .any(|a| a.as_str() != Some("NET_BIND_SERVICE"))
            {
                problems.push("capabilities add more than NET_BIND_SERVICE");
            }
            if !seccomp_ok(sc) && !(sc.get("seccompProfile").is_none() && seccomp_ok(psc)) {
                problems.push("no RuntimeDefault seccomp profile");
            }
            if c.at("ports")
                .seq()
                .iter()
                .any(|p| p.at("hostPort").as_i64().unwrap_or(0) != 0)
            {
                problems.push("hostPort");
            }
            if !problems.is_empty() {
                out.push(at(o.path, anchor, format!("{who}: container `{name}` is not \"restricted\": {}", problems.join(", ")), Some("runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities.drop [ALL], seccompProfile RuntimeDefault".into())));
            }
        }
    }
    out
}
