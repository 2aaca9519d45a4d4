use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::ComposeCtx;
use crate::yaml::at;

pub static RULE: Rule = Rule {
    code: "CP002",
    name: "port-on-all-interfaces",
    practice: "P9",
    severity: Severity::Info,
    hadolint: &[],
    pod_security: None,
    doc: r#"
## What it does
Flags a reverse proxy's published port that names no host address, so Docker binds it on every
interface. (An application service's published port is CP001's, once.)

## Why is this bad?
A port published on all interfaces is reachable from every network the host is on, and Docker's rules bypass the host firewall. Say which address: 127.0.0.1 for local use, or an explicit address (or a variable) for the proxy.

## When it does not apply
- Services that are not reverse proxies: their published ports are CP001's (opt-in). A proxy is
  told by its image or build (nginx, openresty, traefik, caddy, haproxy, envoy) or a word of its
  name (`proxy`, `gateway`, `ingress`, `lb`…), except a proxy of something else (a name or image
  with `socket`, `sql` or `squid`).
- Ports that name a host address: `127.0.0.1:80:80`, `0.0.0.0:80:80` (every interface, said on
  purpose), a variable (`${BIND:-0.0.0.0}:80:80`), or `host_ip` in the long syntax.

It is an info note.

## Example
```yaml
ports: ["443:8443"]
```

Use instead:
```yaml
ports: ["${BIND_ADDRESS:-127.0.0.1}:443:8443"]
```

## References
- https://docs.docker.com/reference/compose-file/services/
"#,
    check: Check::Compose(check),
};

fn check(ctx: &ComposeCtx<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    // An application's published ports are CP001's: one finding per port.
    for s in ctx.services.iter().filter(|s| s.is_proxy()) {
        for (node, ip, port) in crate::view::compose::published(s) {
            if ip.is_none() {
                out.push(at(
                    s.path,
                    node,
                    format!(
                        "service `{}` publishes port {port} on all interfaces without saying so",
                        s.name
                    ),
                    Some("prefix the host address, e.g. \"127.0.0.1:8080:8080\"".into()),
                ));
            }
        }
    }
    out
}
