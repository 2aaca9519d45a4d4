use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::ComposeCtx;
use crate::yaml::at;

pub static RULE: Rule = Rule {
    code: "CP001",
    name: "published-app-port",
    practice: "P9",
    severity: Severity::Error,
    hadolint: &[],
    pod_security: None,
    doc: r#"
## What it does
Flags an application service (not a reverse proxy such as nginx, traefik or caddy) that publishes a port on an interface other than loopback.

## Why is this bad?
Published application ports bypass the TLS proxy: clients reach the app over plain HTTP, without the proxy's headers and limits. Only the proxy publishes ports; the app is reached over the Compose network.

## Example
```yaml
services:
  app:
    ports: ["8080:8080"]
```

Use instead:
```yaml
services:
  app:
    expose: ["8080"]
  proxy:
    ports: ["443:8443"]
```

## References
- https://docs.docker.com/reference/compose-file/services/
"#,
    check: Check::Compose(check),
};

fn check(ctx: &ComposeCtx<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for s in ctx.services.iter().filter(|s| !s.is_proxy()) {
        for (node, ip, port) in crate::view::compose::published(s) {
            let loopback = ip
                .as_deref()
                .is_some_and(|i| i.starts_with("127.") || i == "::1" || i == "localhost");
            if !loopback {
                out.push(at(s.path, node, format!("service `{}` publishes port {port}: application ports belong behind the proxy", s.name), Some("remove `ports` (use `expose`), or bind it to 127.0.0.1 for local use".into())));
            }
        }
    }
    out
}
