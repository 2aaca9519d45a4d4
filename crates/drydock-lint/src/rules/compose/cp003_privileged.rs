use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::ComposeCtx;
use crate::yaml::at;

pub static RULE: Rule = Rule {
    code: "CP003",
    name: "privileged",
    practice: "P11",
    severity: Severity::Error,
    hadolint: &[],
    pod_security: None,
    doc: r#"
## What it does
Flags `privileged: true`.

## Why is this bad?
A privileged container has every capability and every device of the host: it is root on the host.

## When it does not apply
Always applies, to every service with `privileged: true`, whatever it is for (CI, test and
one-shot services included): the container is root on the host all the same. `privileged:
false` or unset is fine.

## Example
```yaml
privileged: true
```

Use instead:
```yaml
cap_drop: [ALL]
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
                .get("privileged")
                .filter(|n| n.as_bool() == Some(true))
                .map(|n| {
                    at(
                        s.path,
                        n,
                        format!("service `{}` is privileged", s.name),
                        Some("remove privileged; add only the capabilities it needs".into()),
                    )
                })
        })
        .collect()
}
