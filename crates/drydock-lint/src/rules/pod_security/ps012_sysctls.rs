use crate::diagnostic::{Finding, Severity};
use crate::options::PodSecurity;
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

## Why is this bad?
Other sysctls are not namespaced or not isolated: setting them changes the node for every pod.

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
        for s in pod.security().at("sysctls").seq() {
            let n = s.at("name").as_str().unwrap_or("");
            if !SAFE_SYSCTLS.contains(&n) {
                let anchor = s.get("name").unwrap_or(s);
                out.push(pod.finding(
                    anchor,
                    format!("sysctl {n} is not in the safe set"),
                    "remove it, or set it on the node",
                ));
            }
        }
    }
    out
}

/// The sysctls the standard counts as safe (namespaced and isolated per pod).
const SAFE_SYSCTLS: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_wmem",
];
