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
Only `network_mode: host` is flagged: `bridge`, `none`, `service:NAME` and `container:NAME`
are not. There is no exception by what the service is for: programs that need the host's
network by nature (fail2ban, Home Assistant's device discovery) are flagged too; suppress it on
such a service with the label `drydock.dev/ignore: CP008`.

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
