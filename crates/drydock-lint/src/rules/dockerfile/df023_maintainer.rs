use super::at;
use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::DockerfileCtx;
use drydock_dockerfile::Keyword;

pub static RULE: Rule = Rule {
    code: "DF023",
    name: "maintainer-deprecated",
    practice: "correctness",
    severity: Severity::Info,
    hadolint: &["DL4000"],
    pod_security: None,
    doc: r#"
## What it does
Flags the deprecated `MAINTAINER` instruction.

## Why is this bad?
It is deprecated, and tools read the `org.opencontainers.image.authors` label instead.

## When it does not apply
Always applies, in every stage and whatever the image is for: `MAINTAINER` is deprecated, and
`LABEL org.opencontainers.image.authors` says the same with nothing lost. It is an info note.

## Example
```dockerfile
MAINTAINER team@example.com
```

Use instead:
```dockerfile
LABEL org.opencontainers.image.authors="team@example.com"
```

## References
- https://docs.docker.com/reference/dockerfile/#maintainer-deprecated
"#,
    check: Check::Dockerfile(check),
};

fn check(ctx: &DockerfileCtx<'_>) -> Vec<Finding> {
    ctx.df
        .instructions
        .iter()
        .filter(|i| i.is(Keyword::Maintainer))
        .map(|i| {
            at(
                ctx,
                i,
                "MAINTAINER is deprecated".into(),
                Some(format!(
                    "`LABEL org.opencontainers.image.authors=\"{}\"`",
                    i.values().join(" ").replace('"', "")
                )),
            )
        })
        .collect()
}
