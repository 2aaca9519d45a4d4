use super::{at, body, final_stage, run_commands, stage_named};
use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::DockerfileCtx;
use drydock_dockerfile::stages::Stage;
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
Flags, in a multi-stage build, a final stage that copies the whole build context (`COPY . ...`),
a whole filesystem from another stage (`COPY --from=build / ...`), or the source tree a build
stage copied the context into (`WORKDIR /src` + `COPY . .` there, then `COPY --from=build /src
/app` here).

## Why is this bad?
The point of the build stage is that only the artifact reaches the image. Copying everything
brings the sources, the toolchain's caches and whatever secrets the context holds back in.

## When it does not apply
- An app that runs from its sources on an interpreter (the final image is built on python,
  node, ruby, php, perl or their distroless variants): its sources are the app.
- `COPY --from=STAGE / /` into `scratch`: the whole filesystem of a stage flattened into one
  layer on purpose (a squash), not a build stage's leftovers.

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
    let runs_sources = ctx.runs_sources();
    let squash_into_scratch = last.base.eq_ignore_ascii_case("scratch");
    body(ctx, last)
        .filter(|i| matches!(i.kind(), Keyword::Copy | Keyword::Add) && i.heredocs.is_empty())
        .filter_map(|i| {
            let v = i.values();
            if v.len() < 2 {
                return None;
            }
            let from = i.flags.iter().any(|f| f.starts_with("--from"));
            let srcs = &v[..v.len() - 1];
            if !from && !runs_sources && srcs.iter().any(|s| matches!(*s, "." | "./")) {
                Some(at(
                    ctx,
                    i,
                    "the final stage copies the whole build context".into(),
                    Some(
                        "copy only what the app needs at run time (the binary, its assets)".into(),
                    ),
                ))
            } else if let Some(src) = from
                .then(|| {
                    let stage = i
                        .flags
                        .iter()
                        .find_map(|f| f.strip_prefix("--from="))
                        .and_then(|n| stage_named(ctx, n))?;
                    // An interpreted app runs its sources, unless the stage built something
                    // else from them (`npm run build`, `tsc`).
                    if runs_sources && !builds(ctx, stage) {
                        return None;
                    }
                    let trees = source_trees(ctx, stage);
                    srcs.iter().find(|s| trees.contains(&normalize(s))).copied()
                })
                .flatten()
            {
                Some(at(
                    ctx,
                    i,
                    format!("the final stage copies {src}, the build stage's copy of the sources"),
                    Some(
                        "copy only the built artifact, e.g. `COPY --from=build /out/app /app`"
                            .into(),
                    ),
                ))
            } else if from
                && srcs.iter().any(|s| *s == "/")
                && !(squash_into_scratch && v[v.len() - 1] == "/" && from_distribution(ctx, i))
            {
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

/// Whether a stage builds something from its sources (`npm run build`, `tsc`, `webpack`).
fn builds(ctx: &DockerfileCtx<'_>, stage: &Stage) -> bool {
    body(ctx, stage).any(|i| {
        run_commands(i).iter().any(|c| {
            let c = c.unwrapped();
            matches!(
                c.name(),
                "tsc" | "webpack" | "vite" | "esbuild" | "rollup" | "parcel"
            ) || (matches!(c.name(), "npm" | "yarn" | "pnpm" | "bun")
                && c.args().chain(c.subcommand()).any(|a| a == "build"))
        })
    })
}

/// Whether a `COPY --from` takes from a stage built on a distribution (debian, ubuntu, alpine…)
/// rather than a toolchain image: flattening such a stage into scratch is a squash.
fn from_distribution(ctx: &DockerfileCtx<'_>, copy: &drydock_dockerfile::Instruction) -> bool {
    let Some(i) = copy
        .flags
        .iter()
        .find_map(|f| f.strip_prefix("--from="))
        .and_then(|n| ctx.stage_index(n))
    else {
        return false;
    };
    let chain = ctx.stage_chain(i);
    let Some(root) = chain.last().map(|&k| &ctx.stages[k]) else {
        return false;
    };
    let name = crate::view::dockerfile::image_name(&root.base.to_ascii_lowercase()).to_string();
    [
        "debian",
        "ubuntu",
        "alpine",
        "centos",
        "fedora",
        "rockylinux",
        "almalinux",
        "busybox",
        "archlinux",
        "amazonlinux",
        "leap",
        "oraclelinux",
    ]
    .contains(&name.as_str())
}

/// `/src/` and `/src/.` as `/src`.
fn normalize(p: &str) -> String {
    let t = p.trim_end_matches("/.").trim_end_matches('/');
    if t.is_empty() {
        "/".into()
    } else {
        t.to_string()
    }
}

/// The directories a stage copies the whole build context into (`COPY . /src`, or `COPY . .`
/// under a WORKDIR), absolute.
fn source_trees(ctx: &DockerfileCtx<'_>, stage: &Stage) -> Vec<String> {
    let mut workdir = String::from("/");
    let mut out = Vec::new();
    for i in body(ctx, stage) {
        match i.kind() {
            Keyword::Workdir => {
                if let Some(w) = i.values().first() {
                    workdir = if w.starts_with('/') {
                        normalize(w)
                    } else {
                        normalize(&format!("{}/{w}", workdir.trim_end_matches('/')))
                    };
                }
            }
            Keyword::Copy | Keyword::Add if !i.flags.iter().any(|f| f.starts_with("--from")) => {
                let v = i.values();
                if v.len() >= 2 && v[..v.len() - 1].iter().any(|s| matches!(*s, "." | "./")) {
                    let dest = v[v.len() - 1];
                    let abs = if dest.starts_with('/') {
                        normalize(dest)
                    } else if matches!(dest, "." | "./") {
                        workdir.clone()
                    } else {
                        normalize(&format!("{}/{dest}", workdir.trim_end_matches('/')))
                    };
                    if abs != "/" {
                        out.push(abs);
                    }
                }
            }
            _ => {}
        }
    }
    out
}
