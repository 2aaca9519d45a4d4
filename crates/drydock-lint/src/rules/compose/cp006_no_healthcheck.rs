use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::compose::Field;
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

## When it does not apply
A health check tells whether a running service still works; the rule skips services that are not long-running, as the Compose view decides once
for every rule:
- toolboxes: never started (`deploy.replicas: 0`, a client for `docker compose run`), or a
  command that only keeps the container alive (`sleep infinity`, `tail -f /dev/null`);
- one-shot jobs: a service another one waits for with
  `condition: service_completed_successfully`; or one not told to restart forever (`restart`
  unset, `"no"` or `on-failure`) whose command's last step is a program that finishes (`echo`,
  `mc mb`, `psql < x.sql`, `go build`…) or that publishes no port and whose name says it runs
  once (`*-init`, `setup`, `migrate`, `prepare_*`, `createbuckets`).

A service with `restart: always` or `unless-stopped` is always long-running. A health check
with `extends:` counts, from a service of the same file or of another file linted with it
(`extends: {file: …}`); a service extending one of a file not in the input is not judged.

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
        .filter(|s| s.purpose.is_service())
        .filter(|s| match ctx.field(s, "healthcheck") {
            Field::Absent => true,
            Field::Set(h) => h.at("disable").as_bool() == Some(true),
            // Extends a service of another file: its health check is not in the input.
            Field::Unknown => false,
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
