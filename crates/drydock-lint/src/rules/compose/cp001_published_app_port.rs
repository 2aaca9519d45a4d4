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
Flags an application service (not a reverse proxy such as nginx, traefik, caddy or envoy) that
publishes a port on an interface other than loopback. With a proxy in the file, any such port
is an error: it goes around the proxy. With no proxy, a port published on all interfaces (no
host address, `0.0.0.0` or `::`) is a warning: it is reachable from every network the host is
on, over whatever the application speaks.

## Why is this bad?
Published application ports bypass the TLS proxy: clients reach the app over plain HTTP, without the proxy's headers and limits. Only the proxy publishes ports; the app is reached over the Compose network.

## When it does not apply
- Reverse proxies (CP002 is theirs): a service whose image, name (`proxy`, `gateway`,
  `front-envoy`, `nginx`…) or build (`dockerfile: envoy/Dockerfile`) says it is one.
- Ports bound to loopback (`127.0.0.1:8080:8080`, `[::1]:…`).
- In a file with no proxy, ports bound to an address the file chooses: a specific address or a
  variable (`${BIND_ADDRESS:-0.0.0.0}:8080:8080`).
- Services that are never started (`deploy.replicas: 0`).
- UDP ports (`27015:27015/udp`, `protocol: udp`): games, VPNs and DNS are reached directly; no
  HTTP proxy can stand in front of them.

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
    // The proxy of the same Compose file (with its overrides): the input may hold many.
    let proxy_of = |path: &str| {
        ctx.services
            .iter()
            .find(|p| p.path == path && p.is_proxy())
            .map(|p| p.name)
    };
    let mut out = Vec::new();
    // A service that is never started (`deploy.replicas: 0`) publishes nothing.
    let started = |s: &&crate::view::Service<'_>| {
        let never_started = s.purpose == crate::view::Purpose::Toolbox
            && s.node.at("deploy").at("replicas").as_i64() == Some(0);
        !s.is_proxy() && !never_started
    };
    for s in ctx.services.iter().filter(started) {
        for (node, ip, port) in crate::view::compose::published(s) {
            let ip = ip.as_deref().unwrap_or("");
            if ip.starts_with("127.") || ip == "::1" || ip == "localhost" {
                continue;
            }
            // UDP (games, VPNs, DNS): no HTTP proxy can stand in front of it; publishing it is
            // the service's point.
            let udp = node.text().is_some_and(|t| t.ends_with("/udp"))
                || node.at("protocol").as_str() == Some("udp");
            if udp {
                continue;
            }
            match proxy_of(s.path) {
                Some(p) => out.push(at(
                    s.path,
                    node,
                    format!(
                        "service `{}` publishes port {port}, so clients can go around the proxy `{p}`: application ports belong behind it",
                        s.name
                    ),
                    Some("remove `ports` (use `expose`), or bind it to 127.0.0.1 for local use".into()),
                )),
                // No proxy: what matters is where the port is reachable from. An address the
                // file chooses (a variable, a LAN address) is the author's decision.
                None if matches!(ip, "" | "0.0.0.0" | "::" | "[::]") => out.push(
                    at(
                        s.path,
                        node,
                        format!(
                            "service `{}` publishes port {port} on all interfaces, with no proxy in front: it is reachable from every network the host is on",
                            s.name
                        ),
                        Some(format!(
                            "bind it to 127.0.0.1 (\"127.0.0.1:{port}:{port}\") for local use, or publish only a TLS proxy"
                        )),
                    )
                    .downgraded(Severity::Warning),
                ),
                None => {}
            }
        }
    }
    out
}
