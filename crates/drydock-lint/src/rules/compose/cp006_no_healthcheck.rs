use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::ComposeCtx;
use crate::yaml::at;

pub static RULE: Rule = Rule {
    code: "CP006",
    name: "no-healthcheck",
    practice: "P8",
    severity: Severity::Warning,
    hadolint: &[],
    pod_security: None,
    doc: r#"
## What it does
Flags a service with no `healthcheck`, or with `healthcheck: { disable: true }` (an image's own HEALTHCHECK counts only when Compose can see it, so say it here).

## Why is this bad?
Without a health check Compose cannot wait for a service to be ready (`depends_on: condition: service_healthy`), and a hung service is never noticed.

## Example
```yaml
services:
  app:
    image: app:1.0
```

Use instead:
```yaml
services:
  app:
    image: app:1.0
    healthcheck:
      test: ["CMD", "/usr/local/bin/drydock-helper", "probe", "http://127.0.0.1:8080/healthz"]
```

## References
- https://docs.docker.com/reference/compose-file/services/
"#,
    check: Check::Compose(check),
};

fn check(ctx: &ComposeCtx<'_>) -> Vec<Finding> {
    ctx.services
        .iter()
        .filter(|s| {
            s.node.get("healthcheck").is_none()
                || s.node.at("healthcheck").at("disable").as_bool() == Some(true)
        })
        .map(|s| {
            at(
                s.path,
                s.key,
                format!("service `{}` has no health check", s.name),
                Some("add a healthcheck (exec form)".into()),
            )
        })
        .collect()
}
