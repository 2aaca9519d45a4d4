use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::compose::Field;
use crate::view::ComposeCtx;
use crate::yaml::at;

pub static RULE: Rule = Rule {
    code: "CP005",
    name: "no-resource-limits",
    practice: "P6",
    severity: Severity::Warning,
    hadolint: &[],
    pod_security: None,
    doc: r#"
## What it does
Flags a service with no CPU or no memory limit (`cpus`/`mem_limit`, or `deploy.resources.limits`).

## Why is this bad?
Without limits one service can take the machine's CPU or memory from the others, and the Go runtime cannot size itself to a limit that does not exist.

## When it does not apply
Limits keep a service that runs for good from taking the machine; the rule skips services that are not long-running, as the Compose view decides once
for every rule:
- toolboxes: never started (`deploy.replicas: 0`, a client for `docker compose run`), or a
  command that only keeps the container alive (`sleep infinity`, `tail -f /dev/null`);
- one-shot jobs: a service another one waits for with
  `condition: service_completed_successfully`; or one not told to restart forever (`restart`
  unset, `"no"` or `on-failure`) whose command's last step is a program that finishes (`echo`,
  `mc mb`, `psql < x.sql`, `go build`…) or that publishes no port and whose name says it runs
  once (`*-init`, `setup`, `migrate`, `prepare_*`, `createbuckets`).

A service with `restart: always` or `unless-stopped` is always long-running. Limits inherited
with `extends:` count, from a service of the same file or of another file linted with it
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
    cpus: "1"
    mem_limit: 256m
```

## References
- https://docs.docker.com/reference/compose-file/services/
"#,
    check: Check::Compose(check),
};

fn check(ctx: &ComposeCtx<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for s in ctx.services.iter().filter(|s| s.purpose.is_service()) {
        // Extends a service of another file: its limits are not in the input.
        let fields = [
            ctx.field(s, "cpus"),
            ctx.field(s, "mem_limit"),
            ctx.field(s, "deploy"),
        ];
        if fields.iter().any(|f| matches!(f, Field::Unknown)) {
            continue;
        }
        let set = |f: &Field<'_>| matches!(f, Field::Set(_));
        let limits = match fields[2] {
            Field::Set(d) => Some(d.at("resources").at("limits")),
            _ => None,
        };
        let cpu = set(&fields[0]) || limits.is_some_and(|l| l.get("cpus").is_some());
        let mem = set(&fields[1]) || limits.is_some_and(|l| l.get("memory").is_some());
        if !cpu || !mem {
            let missing = match (cpu, mem) {
                (false, false) => "CPU and memory limits",
                (false, true) => "a CPU limit",
                _ => "a memory limit",
            };
            out.push(at(
                s.path,
                s.key,
                format!("service `{}` has no {missing}", s.name),
                Some("set `cpus` and `mem_limit`".into()),
            ));
        }
    }
    out
}
