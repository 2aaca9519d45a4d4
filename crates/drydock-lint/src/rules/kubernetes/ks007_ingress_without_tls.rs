use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::KubernetesCtx;
use crate::yaml::at;

pub static RULE: Rule = Rule {
    code: "KS007",
    name: "ingress-without-tls",
    practice: "P10",
    severity: Severity::Error,
    hadolint: &[],
    pod_security: None,
    doc: r#"
## What it does
Flags an Ingress with no `tls` section, or whose rules name hosts that no `tls` entry covers.

## Why is this bad?
The service is reachable over plain HTTP: tokens and cookies cross the network in clear.

## When it does not apply
Minions of NGINX Ingress Controller's mergeable Ingresses
(`nginx.org/mergeable-ingress-type: minion`): TLS belongs to their master, and the controller
ignores it on a minion. The master is checked.

## Example
```yaml
spec:
  rules: [{ host: api.example.com, http: { ... } }]
```

Use instead:
```yaml
spec:
  tls: [{ hosts: [api.example.com], secretName: api-tls }]
  rules: [{ host: api.example.com, http: { ... } }]
```

## References
- https://kubernetes.io/docs/concepts/services-networking/ingress/#tls
"#,
    check: Check::Kubernetes(check),
};

fn check(ctx: &KubernetesCtx<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for o in ctx
        .objects
        .iter()
        .filter(|o| o.kind == "Ingress" && !minion(o))
    {
        let spec = o.node.at("spec");
        let tls_hosts: Vec<&str> = spec
            .at("tls")
            .seq()
            .iter()
            .flat_map(|t| t.at("hosts").seq().iter().filter_map(|h| h.as_str()))
            .collect();
        if spec.at("tls").seq().is_empty() {
            let anchor = o.node.entry("spec").map(|(k, _)| k).unwrap_or(o.node);
            out.push(at(
                o.path,
                anchor,
                format!("Ingress {} has no TLS", o.name),
                Some("add spec.tls with the hosts and a certificate Secret".into()),
            ));
            continue;
        }
        for r in spec.at("rules").seq() {
            if let Some(h) = r.get("host") {
                if h.as_str().is_some_and(|h| !tls_hosts.contains(&h)) {
                    out.push(at(
                        o.path,
                        h,
                        format!(
                            "Ingress {}: host {} is not covered by spec.tls",
                            o.name,
                            h.as_str().unwrap_or("")
                        ),
                        Some("list it under spec.tls[].hosts".into()),
                    ));
                }
            }
        }
    }
    out
}

/// A minion of NGINX Ingress Controller's mergeable Ingresses
/// (`nginx.org/mergeable-ingress-type: minion`): its master holds the TLS, and a minion may not
/// set it.
fn minion(o: &crate::view::Object<'_>) -> bool {
    o.node
        .at("metadata")
        .at("annotations")
        .at("nginx.org/mergeable-ingress-type")
        .as_str()
        == Some("minion")
}
