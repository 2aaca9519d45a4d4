use super::at_word;
use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::DockerfileCtx;
use drydock_dockerfile::Keyword;

pub static RULE: Rule = Rule {
    code: "DF014",
    name: "copy-from-unknown-stage",
    practice: "correctness",
    severity: Severity::Error,
    hadolint: &["DL3022", "DL3023"],
    pod_security: None,
    doc: r#"
## What it does
Flags `COPY --from=NAME` where NAME is neither an earlier stage's name nor an earlier stage's
index, and `COPY --from` that names the stage it is in.

## Why is this bad?
A misspelt stage name is taken as an image to pull: the build fails offline, or silently copies
from whatever image that name happens to be.

## When it does not apply
A `--from` that names an image rather than a stage is not judged: one with a `/` or a `:`
(`--from=nginx:1.27`, `--from=ghcr.io/org/tool`) or a variable (`--from=$BUILDER`), which the
build resolves. A bare name (`--from=builder`) or a number must be an earlier stage; a stage
defined later in the file is flagged too. Only `COPY --from` is judged, not
`RUN --mount=from=`.

## Example
```dockerfile
FROM golang:1.22 AS build
FROM scratch
COPY --from=bulid /out/app /app
```

Use instead:
```dockerfile
COPY --from=build /out/app /app
```

## References
- https://github.com/hadolint/hadolint/wiki/DL3022
"#,
    check: Check::Dockerfile(check),
};

fn check(ctx: &DockerfileCtx<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for (n, s) in ctx.stages.iter().enumerate() {
        for &idx in &s.body {
            let ins = &ctx.df.instructions[idx];
            if !ins.is(Keyword::Copy) {
                continue;
            }
            for f in &ins.flags {
                let Some(from) = f.strip_prefix("--from=") else {
                    continue;
                };
                let lower = from.to_ascii_lowercase();
                let earlier = &ctx.stages[..n];
                let known = earlier.iter().any(|e| e.alias.as_deref() == Some(&lower))
                    || from.parse::<usize>().is_ok_and(|k| k < n);
                let image_like = from.contains('/') || from.contains(':') || from.contains('$');
                if s.alias.as_deref() == Some(&lower) {
                    out.push(at_word(
                        ctx,
                        ins,
                        from,
                        format!("COPY --from={from} names the stage it is in"),
                        None,
                    ));
                } else if !known && !image_like {
                    out.push(at_word(
                        ctx,
                        ins,
                        from,
                        format!("no earlier stage is called `{from}`"),
                        Some("use an earlier stage's name (FROM ... AS name) or index".into()),
                    ));
                }
            }
        }
    }
    out
}
