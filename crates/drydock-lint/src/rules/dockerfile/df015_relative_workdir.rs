use super::at;
use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::DockerfileCtx;
use drydock_dockerfile::Keyword;

pub static RULE: Rule = Rule {
    code: "DF015",
    name: "relative-workdir",
    practice: "correctness",
    severity: Severity::Warning,
    hadolint: &["DL3000"],
    pod_security: None,
    doc: r#"
## What it does
Flags `WORKDIR` with a relative path.

## Why is this bad?
A relative WORKDIR depends on the previous one, which may come from the base image and change
with it.

## Example
```dockerfile
WORKDIR app
```

Use instead:
```dockerfile
WORKDIR /app
```

## References
- https://docs.docker.com/reference/dockerfile/#workdir
"#,
    check: Check::Dockerfile(check),
};

fn check(ctx: &DockerfileCtx<'_>) -> Vec<Finding> {
    ctx.df
        .instructions
        .iter()
        .filter(|i| i.is(Keyword::Workdir))
        .filter(|i| {
            i.values().first().is_some_and(|p| {
                let p = p.trim_matches('"');
                !p.starts_with('/')
                    && !p.starts_with('$')
                    && !(p.len() > 2 && p.as_bytes()[1] == b':')
            })
        })
        .map(|i| {
            at(
                ctx,
                i,
                format!("WORKDIR `{}` is relative", i.values().join(" ")),
                Some(format!(
                    "use an absolute path, e.g. `WORKDIR /{}`",
                    i.values().join(" ").trim_matches('"')
                )),
            )
        })
        .collect()
}
