use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::ComposeCtx;
use crate::yaml::at;

pub static RULE: Rule = Rule {
    code: "CP008",
    name: "host-network",
    practice: "P9",
    severity: Severity::Error,
    hadolint: &[],
    pod_security: None,
    doc: r#"
## What it does
Flags `network_mode: host`.

## Why is this bad?
The container shares the host's network stack: every port it opens is open on the host, and it sees the host's traffic.

## When it does not apply
A service that also adds the `NET_ADMIN` capability (`cap_add`): with the host's network
stack, NET_ADMIN configures the host's own interfaces, routes and firewall, which is then
what the service is for (a firewall or ban manager such as fail2ban, a VPN, a DHCP server,
device discovery), and published ports cannot do it. (NET_RAW alone says nothing: Docker
grants it by default.)

## Example
```yaml
network_mode: host
```

Use instead:
```yaml
ports: ["127.0.0.1:8080:8080"]
```

## References
- https://docs.docker.com/reference/compose-file/services/
"#,
    check: Check::Compose(check),
};

fn check(ctx: &ComposeCtx<'_>) -> Vec<Finding> {
    ctx.services
        .iter()
        // A service that manages the host's network (NET_ADMIN) needs its stack.
        .filter(|s| {
            !s.node.at("cap_add").seq().iter().any(|c| {
                c.as_str().is_some_and(|c| {
                    let c = c.to_ascii_uppercase();
                    matches!(c.trim_start_matches("CAP_"), "NET_ADMIN" | "ALL")
                })
            })
        })
        .filter_map(|s| {
            s.node
                .get("network_mode")
                .filter(|n| n.as_str() == Some("host"))
                .map(|n| {
                    at(
                        s.path,
                        n,
                        format!("service `{}` uses the host network", s.name),
                        Some("use the Compose network and publish what must be published".into()),
                    )
                })
        })
        .collect()
}
