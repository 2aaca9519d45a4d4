use super::{at_word, final_stage};
use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::DockerfileCtx;

pub static RULE: Rule = Rule {
    code: "DF016",
    name: "toolchain-in-final-stage",
    practice: "P1",
    severity: Severity::Warning,
    hadolint: &[],
    pod_security: None,
    doc: r#"
## What it does
Flags a final stage built on a compiler image (`golang`, `rust`, `gcc`, `maven`, `node`, ...):
a single-stage build that ships its toolchain.

## Why is this bad?
The compiler, the sources and the caches end up in production: hundreds of megabytes to pull,
and every tool an attacker needs. Build in one stage and copy only the binary into a minimal
final stage.

## Example
```dockerfile
FROM golang:1.22
COPY . .
RUN go build -o /app .
CMD ["/app"]
```

Use instead:
```dockerfile
FROM golang:1.22 AS build
COPY . .
RUN CGO_ENABLED=0 go build -o /out/app .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/app /app
CMD ["/app"]
```

## References
- https://docs.docker.com/build/building/multi-stage/
"#,
    check: Check::Dockerfile(check),
};

const TOOLCHAINS: &[&str] = &[
    "golang",
    "rust",
    "gcc",
    "maven",
    "gradle",
    "openjdk",
    "node",
    "python",
    "buildpack-deps",
];

fn check(ctx: &DockerfileCtx<'_>) -> Vec<Finding> {
    let Some(s) = final_stage(ctx) else {
        return vec![];
    };
    let repo = s.base.split(['@', ':']).next().unwrap_or("");
    let name = repo.rsplit('/').next().unwrap_or(repo);
    if TOOLCHAINS.contains(&name) && !s.base.contains("-slim") && !s.base.contains("distroless") {
        let ins = &ctx.df.instructions[s.from];
        return vec![at_word(ctx, ins, &s.base_raw, format!("the final stage is built on `{}`, a toolchain image", s.base), Some("build in a named stage and COPY --from it into a minimal base (scratch, distroless)".into()))];
    }
    vec![]
}
