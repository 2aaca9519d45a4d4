use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::{Container, KubernetesCtx};
use crate::yaml::at;
use drydock_values::units::{parse_cpu, parse_memory};

pub static RULE: Rule = Rule {
    code: "KS002",
    name: "limit-below-request",
    practice: "P6",
    severity: Severity::Error,
    hadolint: &[],
    pod_security: None,
    doc: r#"
## What it does
Flags a container whose CPU or memory limit is below its request, or whose quantities do not
parse.

## Why is this bad?
The API server rejects the pod ("must be less than or equal to ... limit"): the rollout stops.

## When it does not apply
Always applies, to every container (init containers included) whatever the workload is for:
the API server rejects a limit below its request, and a quantity it cannot parse. A request or
limit of zero (`0`, `0m`) is not compared, nor is a resource with only one of the two set (with
only a limit, the request defaults to it).

## Example
```yaml
resources:
  requests: { memory: 512Mi }
  limits: { memory: 256Mi }
```

Use instead:
```yaml
resources:
  requests: { memory: 256Mi }
  limits: { memory: 512Mi }
```

## References
- https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/
"#,
    check: Check::Kubernetes(check),
};

fn check(ctx: &KubernetesCtx<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for Container {
        object: o, node: c, ..
    } in ctx.containers()
    {
        let r = c.at("resources");
        for (res, parse) in [
            ("cpu", parse_cpu as fn(&str) -> Result<u64, String>),
            ("memory", parse_memory),
        ] {
            // Zero (`0`, `0m`, `0Mi`) is a quantity the API server takes (a BestEffort-style
            // request); nothing is below it.
            let req = r.at("requests").get(res).filter(|n| !zero(n));
            let lim = r.at("limits").get(res).filter(|n| !zero(n));
            for n in [req, lim].into_iter().flatten() {
                if let Some(t) = n.text() {
                    if let Err(e) = parse(&t) {
                        out.push(at(o.path, n, e, None));
                    }
                }
            }
            if let (Some(rq), Some(lm)) = (req, lim) {
                if let (Some(Ok(a)), Some(Ok(b))) =
                    (rq.text().map(|t| parse(&t)), lm.text().map(|t| parse(&t)))
                {
                    if b < a {
                        out.push(at(
                            o.path,
                            lm,
                            format!(
                                "{res} limit {} is below the request {}",
                                lm.text().unwrap_or_default(),
                                rq.text().unwrap_or_default()
                            ),
                            Some("raise the limit or lower the request".into()),
                        ));
                    }
                }
            }
        }
    }
    out
}

/// A zero quantity: `0`, `0m`, `0Mi`, `0.0`.
fn zero(n: &&crate::yaml::Node) -> bool {
    n.text().is_some_and(|t| {
        t.trim()
            .trim_end_matches(|c: char| c.is_ascii_alphabetic())
            .parse::<f64>()
            == Ok(0.0)
    })
}
