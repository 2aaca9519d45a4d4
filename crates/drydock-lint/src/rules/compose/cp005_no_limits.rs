use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
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
    for s in &ctx.services {
        let limits = s.node.at("deploy").at("resources").at("limits");
        let cpu = s.node.get("cpus").is_some() || limits.get("cpus").is_some();
        let mem = s.node.get("mem_limit").is_some() || limits.get("memory").is_some();
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
