use crate::diagnostic::{Finding, Severity};
use crate::policy::PodSecurity;
use crate::rule::{Check, Rule};
use crate::view::KubernetesCtx;

use super::pods;

pub static RULE: Rule = Rule {
    code: "PS012",
    name: "pod-security-sysctls",
    practice: "P11",
    severity: Severity::Error,
    hadolint: &[],
    pod_security: Some(PodSecurity::Baseline),
    doc: r#"
## What it does
Flags a pod sysctl outside the safe set (kernel.shm_rmid_forced, net.ipv4.ip_local_port_range,
net.ipv4.ip_unprivileged_port_start, net.ipv4.tcp_syncookies, net.ipv4.ping_group_range,
net.ipv4.ip_local_reserved_ports, net.ipv4.tcp_keepalive_time, net.ipv4.tcp_fin_timeout,
net.ipv4.tcp_keepalive_intvl, net.ipv4.tcp_keepalive_probes, net.ipv4.tcp_rmem,
net.ipv4.tcp_wmem): Pod Security baseline, "Sysctls".

The set is the newest Standards' (Kubernetes 1.32 and later). A Namespace in the input that
pins an older version (`pod-security.kubernetes.io/enforce-version: v1.28`) holds its pods to
that version's set, as the admission controller does: the first five since 1.0,
`ip_local_reserved_ports` since 1.27, the four `tcp_keepalive_*`/`tcp_fin_timeout` since 1.29,
`tcp_rmem`/`tcp_wmem` since 1.32. Names with `/` separators are read as with dots.

## Why is this bad?
Other sysctls are not namespaced or not isolated: setting them changes the node for every pod.

## When it does not apply
- Pods held to the privileged profile: in a Namespace of the input labelled
  `pod-security.kubernetes.io/enforce: privileged`, or, for objects in no such labelled
  Namespace, with `[lint] pod_security = "privileged"` (`--pod-security privileged`).
- Sysctls in the safe set of the Standards' version the pod is held to: its Namespace's
  `enforce-version` when the Namespace is in the input, else the newest.

## Example
```yaml
securityContext:
  sysctls: [{ name: kernel.msgmax, value: "65536" }]
```

Use instead:
```yaml
securityContext:
  sysctls: [{ name: net.ipv4.ip_local_port_range, value: "1024 65535" }]
```

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
"#,
    check: Check::Kubernetes(check),
};

fn check(ctx: &KubernetesCtx<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for pod in pods(ctx, PodSecurity::Baseline) {
        let version = ctx.standards_version(pod.object);
        for s in pod.security().at("sysctls").seq() {
            let n = s.at("name").as_str().unwrap_or("");
            if !safe(n, version) {
                let anchor = s.get("name").unwrap_or(s);
                let standards = match version {
                    Some((major, minor)) => format!(" of the Standards v{major}.{minor}"),
                    None => String::new(),
                };
                out.push(pod.finding(
                    anchor,
                    format!("sysctl {n} is not in the safe set{standards}"),
                    "remove it, or set it on the node",
                ));
            }
        }
    }
    out
}

/// Whether a sysctl is in the safe set of the Standards `version` (None: the newest). The kubelet
/// accepts `/` as the separator too (`net/ipv4/tcp_syncookies`).
fn safe(name: &str, version: Option<(u32, u32)>) -> bool {
    let name = name.replace('/', ".");
    SAFE_SYSCTLS
        .iter()
        .any(|(n, since)| *n == name && version.is_none_or(|v| v >= *since))
}

/// The sysctls the Standards count as safe (namespaced and isolated per pod), with the version
/// that added each, as the PodSecurity admission's `sysctls` check lists them.
const SAFE_SYSCTLS: &[(&str, (u32, u32))] = &[
    ("kernel.shm_rmid_forced", (1, 0)),
    ("net.ipv4.ip_local_port_range", (1, 0)),
    ("net.ipv4.ip_unprivileged_port_start", (1, 0)),
    ("net.ipv4.tcp_syncookies", (1, 0)),
    ("net.ipv4.ping_group_range", (1, 0)),
    ("net.ipv4.ip_local_reserved_ports", (1, 27)),
    ("net.ipv4.tcp_keepalive_time", (1, 29)),
    ("net.ipv4.tcp_fin_timeout", (1, 29)),
    ("net.ipv4.tcp_keepalive_intvl", (1, 29)),
    ("net.ipv4.tcp_keepalive_probes", (1, 29)),
    ("net.ipv4.tcp_rmem", (1, 32)),
    ("net.ipv4.tcp_wmem", (1, 32)),
];
