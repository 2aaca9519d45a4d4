use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::ComposeCtx;
use crate::yaml::at;

pub static RULE: Rule = Rule {
    code: "CP004",
    name: "root-user",
    practice: "P11",
    severity: Severity::Error,
    hadolint: &[],
    pod_security: None,
    doc: r#"
## What it does
Flags a service that sets `user` to root (`root`, `0`, `0:0`).

## Why is this bad?
A process running as root in the container is root on the host's kernel: an escape becomes a host compromise.

## When it does not apply
Only a `user` the file writes as root is flagged (`root`, `0`, `0:0`, `root:staff`): a service
that sets no `user` is not (its image's USER is DF004's and DF024's, in its Dockerfile), nor one
whose `user` comes from a variable (`${UID}`). There is no exception by what the service is for:
test and one-shot services are checked too.

## Example
```yaml
user: root
```

Use instead:
```yaml
user: "65532:65532"
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
            let u = s.node.get("user")?;
            let t = u.text()?;
            let first = t.split(':').next().unwrap_or("");
            (first == "root" || first == "0").then(|| {
                at(
                    s.path,
                    u,
                    format!("service `{}` runs as root", s.name),
                    Some("use a numeric non-root user, e.g. \"65532:65532\"".into()),
                )
            })
        })
        .collect()
}
