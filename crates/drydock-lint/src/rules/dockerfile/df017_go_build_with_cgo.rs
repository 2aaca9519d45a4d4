use super::{at, body, run_commands};
use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::DockerfileCtx;
use drydock_dockerfile::Keyword;

pub static RULE: Rule = Rule {
    code: "DF017",
    name: "go-build-without-cgo-disabled",
    practice: "P4",
    severity: Severity::Error,
    hadolint: &[],
    pod_security: None,
    doc: r#"
## What it does
Flags `go build` without `CGO_ENABLED=0` in a build whose final stage is `scratch`, distroless
static or alpine.

## Why is this bad?
With cgo on (Go's default wherever a C compiler exists, as in the `golang` images), the binary
links glibc dynamically. It then fails to start on `scratch` ("no such file or directory") and
misbehaves on alpine's musl.

## Example
```dockerfile
FROM golang:1.22 AS build
RUN go build -o /out/app .
FROM scratch
COPY --from=build /out/app /app
```

Use instead:
```dockerfile
RUN CGO_ENABLED=0 go build -o /out/app .
```

## References
- https://pkg.go.dev/cmd/cgo
"#,
    check: Check::Dockerfile(check),
};

fn check(ctx: &DockerfileCtx<'_>) -> Vec<Finding> {
    let Some(last) = ctx.stages.last() else {
        return vec![];
    };
    let base = last.base.to_ascii_lowercase();
    if !(base == "scratch"
        || base.contains("distroless/static")
        || base.starts_with("alpine")
        || base.contains("/alpine"))
    {
        return vec![];
    }
    let mut out = Vec::new();
    for s in &ctx.stages {
        let env_off = body(ctx, s).any(|i| {
            matches!(i.kind(), Keyword::Env | Keyword::Arg)
                && i.values()
                    .windows(2)
                    .any(|w| w[0] == "CGO_ENABLED" && w[1] == "0")
                || i.values().iter().any(|v| *v == "CGO_ENABLED=0")
        });
        for i in body(ctx, s).filter(|i| i.is(Keyword::Run)) {
            let cmds = run_commands(i);
            let exported = cmds
                .iter()
                .any(|c| c.is("export") && c.sets("CGO_ENABLED", "0"));
            let cgo_build = cmds
                .iter()
                .any(|c| c.unwrapped().has_args("go", "build") && !c.sets("CGO_ENABLED", "0"));
            if cgo_build && !exported && !env_off {
                out.push(at(ctx, i, format!("`go build` with cgo enabled feeds a `{}` final stage: the binary will link libc dynamically", last.base), Some("set CGO_ENABLED=0 (e.g. `RUN CGO_ENABLED=0 go build ...`)".into())));
            }
        }
    }
    out
}
