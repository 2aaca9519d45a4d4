use super::{at, body};
use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::DockerfileCtx;
use drydock_dockerfile::Keyword;

pub static RULE: Rule = Rule {
    code: "DF012",
    name: "repeated-cmd-entrypoint-healthcheck",
    practice: "correctness",
    severity: Severity::Warning,
    hadolint: &["DL4003", "DL4004"],
    pod_security: None,
    doc: r#"
## What it does
Flags a stage with more than one `CMD`, `ENTRYPOINT` or `HEALTHCHECK`.

## Why is this bad?
Only the last one counts: the others are dead code that misleads whoever reads the file.

## When it does not apply
Always applies, in every stage and whatever the image is for: only the last `CMD`,
`ENTRYPOINT` or `HEALTHCHECK` of a stage takes effect. Each stage is counted on its own, so an
instruction that overrides one of the base image or of the stage it is built FROM is not
flagged, nor is a `CMD` beside an `ENTRYPOINT` (they work together).

## Example
```dockerfile
CMD ["./a"]
CMD ["./b"]
```

Use instead:
```dockerfile
CMD ["./b"]
```

## References
- https://docs.docker.com/reference/dockerfile/#cmd
"#,
    check: Check::Dockerfile(check),
};

fn check(ctx: &DockerfileCtx<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for s in &ctx.stages {
        for kw in [Keyword::Cmd, Keyword::Entrypoint, Keyword::Healthcheck] {
            let all: Vec<_> = body(ctx, s).filter(|i| i.is(kw)).collect();
            for i in all.iter().take(all.len().saturating_sub(1)) {
                out.push(at(
                    ctx,
                    i,
                    format!(
                        "{} is overridden by a later one in the same stage (line {})",
                        kw,
                        all.last().map(|l| l.start_line).unwrap_or(0)
                    ),
                    Some("remove it".into()),
                ));
            }
        }
    }
    out
}
