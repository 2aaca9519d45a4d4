use super::at;
use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::DockerfileCtx;

pub static RULE: Rule = Rule {
    code: "DF013",
    name: "duplicate-stage-name",
    practice: "correctness",
    severity: Severity::Error,
    hadolint: &["DL3024"],
    pod_security: None,
    doc: r#"
## What it does
Flags two stages with the same name (`FROM ... AS build` twice).

## Why is this bad?
BuildKit refuses the Dockerfile; older builders silently use one of them for `COPY --from`.

## When it does not apply
Always applies: BuildKit refuses a Dockerfile whose stages share a name, whatever the stages
are for. Names are compared ignoring case, as BuildKit does (`AS Build` and `AS build` clash);
stages without a name never clash.

## Example
```dockerfile
FROM golang:1.22 AS build
FROM golang:1.22 AS build
```

Use instead:
```dockerfile
FROM golang:1.22 AS build
FROM golang:1.22 AS test
```

## References
- https://github.com/hadolint/hadolint/wiki/DL3024
"#,
    check: Check::Dockerfile(check),
};

fn check(ctx: &DockerfileCtx<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for (n, s) in ctx.stages.iter().enumerate() {
        if let Some(a) = &s.alias {
            if let Some(first) = ctx.stages[..n].iter().find(|o| o.alias.as_ref() == Some(a)) {
                let line = ctx.df.instructions[first.from].start_line;
                out.push(at(
                    ctx,
                    &ctx.df.instructions[s.from],
                    format!("stage name `{a}` is already used on line {line}"),
                    Some("give each stage its own name".into()),
                ));
            }
        }
    }
    out
}
