use super::{at_command, body, run_commands};
use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::dockerfile::BaseImage;
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
static or alpine, each such command of a RUN on its own. Not flagged: a build on a
`golang:*-alpine` image of Go 1.20 or later with no C compiler installed (Go then turns cgo off
by itself), and a musl build on alpine whose final stage is alpine too (the binary finds musl
there).

## Why is this bad?
With cgo on (Go's default wherever a C compiler exists, as in the `golang` images), the binary
links glibc dynamically. It then fails to start on `scratch` ("no such file or directory") and
misbehaves on alpine's musl.

## When it does not apply
- The final stage is not `scratch`, distroless static or alpine-based (`alpine:3.20`,
  `node:20-alpine`, `alpine/git`): other final images are taken to have the glibc that a cgo
  binary links.
- cgo is off or the binary is static: `CGO_ENABLED=0` by ENV or ARG in the building stage or a
  stage it is built FROM, on the `go build` command, or exported in the same RUN; or
  `-ldflags '-extldflags -static'`.
- The build runs on `golang:*-alpine` of Go 1.20 or later with no C compiler installed (gcc,
  g++, clang, build-base, musl-dev), or it is a musl build (on alpine or `golang:*-alpine`) and
  the final stage is alpine too.
- Stages the final image takes nothing from: when it COPYs from some stages, only those (and
  the stages they are built FROM) are judged.

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
    let final_image = BaseImage::parse(&base);
    let static_final = match &final_image {
        None => base == "scratch",
        Some(b) => is_distroless_static(b) || is_alpine_image(b),
    };
    if !static_final {
        return vec![];
    }
    let final_alpine = final_image.as_ref().is_some_and(is_alpine);
    let mut out = Vec::new();
    for si in ctx.stages_for_final() {
        let s = &ctx.stages[si];
        let chain: Vec<&drydock_dockerfile::Stage> = ctx
            .stage_chain(si)
            .iter()
            .map(|&k| &ctx.stages[k])
            .collect();
        let root = chain
            .last()
            .and_then(|r| BaseImage::parse(&r.base.to_ascii_lowercase()));
        let alpine_go = root.as_ref().is_some_and(is_alpine_golang);
        let musl = alpine_go || root.as_ref().is_some_and(is_alpine);
        let has_c_compiler = chain.iter().any(|st| {
            body(ctx, st).any(|i| {
                run_commands(i).iter().any(|c| {
                    c.installed_packages().iter().any(|p| {
                        matches!(
                            p.as_str(),
                            "gcc" | "build-base" | "clang" | "musl-dev" | "g++"
                        )
                    })
                })
            })
        });
        // Go ≥ 1.20 disables cgo when no C compiler is found, and golang:*-alpine has none.
        if alpine_go && !has_c_compiler && root.as_ref().is_some_and(go_at_least_1_20) {
            continue;
        }
        // Linked against musl on alpine, run on alpine: the loader and libc are there.
        if musl && final_alpine {
            continue;
        }
        let env_off = chain.iter().any(|st| {
            body(ctx, st).any(|i| {
                matches!(i.kind(), Keyword::Env | Keyword::Arg)
                    && i.values()
                        .windows(2)
                        .any(|w| w[0] == "CGO_ENABLED" && w[1] == "0")
                    || i.values().contains(&"CGO_ENABLED=0")
            })
        });
        for i in body(ctx, s).filter(|i| i.is(Keyword::Run)) {
            let cmds = run_commands(i);
            let exported = cmds
                .iter()
                .any(|c| c.is("export") && c.sets("CGO_ENABLED", "0"));
            let cgo_build = cmds.iter().find(|c| {
                let u = c.unwrapped();
                u.has_args("go", "build") && !c.sets("CGO_ENABLED", "0") && !links_static(&u.words)
            });
            if let Some(c) = cgo_build.filter(|_| !exported && !env_off) {
                out.push(at_command(ctx, i, c, format!("`go build` with cgo enabled feeds a `{}` final stage: the binary will link libc dynamically", last.base), Some("set CGO_ENABLED=0 (e.g. `RUN CGO_ENABLED=0 go build ...`)".into())));
            }
        }
    }
    out
}

/// `-ldflags '-extldflags -static'`, `-ldflags "-linkmode external -extldflags \"-static\""`:
/// the external linker links libc in, so the binary needs none at run time.
fn links_static(words: &[String]) -> bool {
    words.iter().any(|w| {
        w.contains("-extldflags")
            && w.split("-extldflags").nth(1).is_some_and(|rest| {
                rest.trim_start_matches(['=', ' ', '"', '\'', '\\'])
                    .starts_with("-static")
            })
    }) || words
        .windows(2)
        .any(|p| p[0] == "-extldflags" && p[1].trim_matches(['"', '\'']).starts_with("-static"))
}

/// Distroless's static image (`gcr.io/distroless/static`, `static-debian12`).
fn is_distroless_static(b: &BaseImage) -> bool {
    let name = b.name();
    b.path().any(|c| c == "distroless") && (name == "static" || name.starts_with("static-"))
}

/// Alpine itself, or an image named as built on it: `alpine:3.20`, `registry.example.com/alpine`,
/// `mhart/alpine-node`, and the images of Docker Hub's `alpine` and `alpinelinux` namespaces
/// (`alpine/git`).
fn is_alpine_image(b: &BaseImage) -> bool {
    b.name().split('-').any(|w| w == "alpine")
        || matches!(b.path().next(), Some("alpine" | "alpinelinux"))
}

/// Whether a tag names an alpine variant: `20-alpine`, `alpine3.20`, `1.22-alpine3.19`.
fn alpine_tag(tag: &str) -> bool {
    tag.split('-').any(|part| {
        part.strip_prefix("alpine")
            .is_some_and(|v| v.is_empty() || v.starts_with(|c: char| c.is_ascii_digit()))
    })
}

/// An alpine image, or an image built on it (`alpine:3.20`, `node:20-alpine`).
fn is_alpine(b: &BaseImage) -> bool {
    is_alpine_image(b) || alpine_tag(b.tag())
}

/// `golang:1.22-alpine`, `golang:alpine3.20`, `docker.io/library/golang:1-alpine`.
fn is_alpine_golang(b: &BaseImage) -> bool {
    b.name() == "golang" && alpine_tag(b.tag())
}

/// Whether a golang image tag is Go 1.20 or later (`1.22-alpine`, `1-alpine` and `alpine`, the
/// newest, included).
fn go_at_least_1_20(b: &BaseImage) -> bool {
    let version = b.tag().split('-').next().unwrap_or("");
    if version.starts_with("alpine") || version.is_empty() {
        return true;
    }
    let mut parts = version.split('.').map(|p| p.parse::<u32>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(1), Some(minor)) => minor >= 20,
        (Some(1), None) => true,
        (Some(major), _) => major > 1,
        _ => false,
    }
}
