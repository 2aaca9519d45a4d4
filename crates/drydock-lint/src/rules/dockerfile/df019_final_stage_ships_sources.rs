use super::{at, body, final_stage};
use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::DockerfileCtx;
use drydock_dockerfile::Keyword;

pub static RULE: Rule = Rule {
    code: "DF019",
    name: "final-stage-ships-sources",
    practice: "P1",
    severity: Severity::Warning,
    hadolint: &[],
    pod_security: None,
    doc: r#"
## What it does
Flags, in a multi-stage build, a final stage that copies the whole build context (`COPY . ...`)
or a whole filesystem from another stage (`COPY --from=build / ...`).

## Why is this bad?
The point of the build stage is that only the artifact reaches the image. Copying everything
brings the sources, the toolchain's caches and whatever secrets the context holds back in.

## Example
```dockerfile
FROM golang:1.22 AS build
RUN CGO_ENABLED=0 go build -o /out/app .
FROM scratch
COPY --from=build / /
```

Use instead:
```dockerfile
COPY --from=build /out/app /app
```

## References
- https://docs.docker.com/build/building/multi-stage/
"#,
    check: Check::Dockerfile(check),
};

fn check(ctx: &DockerfileCtx<'_>) -> Vec<Finding> {
    if ctx.stages.len() < 2 {
        return vec![];
    }
    let Some(last) = final_stage(ctx) else {
        return vec![];
    };
    body(ctx, last)
        .filter(|i| matches!(i.kind(), Keyword::Copy | Keyword::Add) && i.heredocs.is_empty())
        .filter_map(|i| {
            let v = i.values();
            if v.len() < 2 {
                return None;
            }
            let from = i.flags.iter().any(|f| f.starts_with("--from"));
            let srcs = &v[..v.len() - 1];
            if !from && srcs.iter().any(|s| matches!(*s, "." | "./")) {
                Some(at(
                    ctx,
                    i,
                    "the final stage copies the whole build context".into(),
                    Some(
                        "copy only what the app needs at run time (the binary, its assets)".into(),
                    ),
                ))
            } else if from && srcs.iter().any(|s| *s == "/") {
                Some(at(
                    ctx,
                    i,
                    "the final stage copies another stage's whole filesystem".into(),
                    Some(
                        "copy only the built artifact, e.g. `COPY --from=build /out/app /app`"
                            .into(),
                    ),
                ))
            } else {
                None
            }
        })
        .collect()
}
