use super::{at_word, body, final_stage, run_commands, run_text};
use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::DockerfileCtx;
use drydock_dockerfile::Keyword;

pub static RULE: Rule = Rule {
    code: "DF018",
    name: "heavy-base-for-static-binary",
    practice: "P2",
    severity: Severity::Warning,
    hadolint: &[],
    pod_security: None,
    doc: r#"
## What it does
Flags a final stage on a full distribution image (debian, ubuntu, centos, fedora, ...) when an
earlier stage builds a static binary (`CGO_ENABLED=0 go build`, Rust `+crt-static` or a musl
target).

## Why is this bad?
A static binary needs no libc and no package manager: `scratch` (with CA certificates) or
distroless static runs it. The distribution adds tens of megabytes to pull and hundreds of
packages to patch.

## When it does not apply
- The final stage is not on one of the full distributions the rule knows, by repository name
  (debian, ubuntu, centos, fedora, rockylinux, almalinux, amazonlinux, opensuse/leap,
  oraclelinux, buildpack-deps): scratch, distroless, alpine, language images and a final stage
  FROM another stage are not judged.
- No earlier stage visibly builds a static binary: a RUN with `CGO_ENABLED=0` on its `go build`
  (or exported in that RUN), `+crt-static`, or a `-linux-musl` target. A `CGO_ENABLED=0` set by
  ENV is not read, nor a build in the final stage itself.

## Example
```dockerfile
FROM golang:1.22 AS build
RUN CGO_ENABLED=0 go build -o /out/app .
FROM debian:12
COPY --from=build /out/app /app
```

Use instead:
```dockerfile
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/app /app
```

## References
- https://github.com/GoogleContainerTools/distroless
"#,
    check: Check::Dockerfile(check),
};

const HEAVY: &[&str] = &[
    "debian",
    "ubuntu",
    "centos",
    "fedora",
    "rockylinux",
    "almalinux",
    "amazonlinux",
    "opensuse/leap",
    "oraclelinux",
    "buildpack-deps",
];

fn check(ctx: &DockerfileCtx<'_>) -> Vec<Finding> {
    let Some(last) = final_stage(ctx) else {
        return vec![];
    };
    let repo = last.base.split([':', '@']).next().unwrap_or("");
    let repo = repo
        .trim_start_matches("docker.io/")
        .trim_start_matches("library/");
    if !HEAVY.contains(&repo) {
        return vec![];
    }
    let static_build = ctx.stages[..ctx.stages.len() - 1].iter().any(|s| {
        body(ctx, s).filter(|i| i.is(Keyword::Run)).any(|i| {
            let cmds = run_commands(i);
            let exported = cmds
                .iter()
                .any(|c| c.is("export") && c.sets("CGO_ENABLED", "0"));
            // Rust's static flags are values (RUSTFLAGS, --target), not command structure.
            let t = run_text(i);
            cmds.iter().any(|c| {
                c.unwrapped().has_args("go", "build") && (exported || c.sets("CGO_ENABLED", "0"))
            }) || t.contains("+crt-static")
                || t.contains("-linux-musl")
        })
    });
    if !static_build {
        return vec![];
    }
    let ins = &ctx.df.instructions[last.from];
    vec![at_word(
        ctx,
        ins,
        &last.base_raw,
        format!(
            "`{}` carries a whole distribution for a static binary",
            last.base
        ),
        Some(
            "use `scratch` (plus CA certificates) or `gcr.io/distroless/static-debian12:nonroot`"
                .into(),
        ),
    )]
}
