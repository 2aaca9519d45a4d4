use super::{at_word, final_stage, reaches_final, run_commands};
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
a single-stage build that ships its toolchain. Also flags a compiler installed by the package
manager in a stage whose layers reach the final image, in any language's image (`apt-get install
gcc` in a Python runtime, `apk add build-base`), unless the same RUN removes packages again (the
build-dependencies pattern: `apk add --virtual .build-deps gcc … && apk del .build-deps`).

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

/// Packages that are compilers (or pull one in).
const COMPILERS: &[&str] = &[
    "gcc",
    "g++",
    "cc",
    "c++",
    "clang",
    "build-essential",
    "build-base",
    "gfortran",
    "golang",
    "golang-go",
    "go",
    "rustc",
    "cargo",
    "rust",
    "gcc-c++",
    "llvm",
    "tcc",
];

fn is_compiler(pkg: &str) -> bool {
    // Versioned names too: gcc-12, g++-12, clang-17, golang-1.22.
    COMPILERS.contains(&pkg)
        || ["gcc-", "g++-", "clang-", "golang-1", "llvm-"]
            .iter()
            .any(|p| {
                pkg.strip_prefix(p)
                    .is_some_and(|v| v.starts_with(|c: char| c.is_ascii_digit()))
            })
}

fn check(ctx: &DockerfileCtx<'_>) -> Vec<Finding> {
    let Some(s) = final_stage(ctx) else {
        return vec![];
    };
    let mut out = Vec::new();
    for (idx, ins) in ctx.df.instructions.iter().enumerate() {
        if !reaches_final(ctx, idx) {
            continue;
        }
        let cmds = run_commands(ins);
        if cmds.iter().any(|c| c.removes_packages()) {
            continue;
        }
        let compilers: Vec<String> = cmds
            .iter()
            .flat_map(|c| c.installed_packages())
            .filter(|p| is_compiler(p))
            .collect();
        if let Some(first) = compilers.first() {
            out.push(at_word(ctx, ins, first, format!("`{}` is installed in a stage the final image is built from: the compiler ships to production", compilers.join("`, `")), Some("install it in a build stage and COPY --from only what it builds, or remove it in the same RUN".into())));
        }
    }
    let repo = s.base.split(['@', ':']).next().unwrap_or("");
    let name = repo.rsplit('/').next().unwrap_or(repo);
    let tag = s.base.rsplit_once(':').map_or("", |(_, t)| t);
    // The interpreters' slim and alpine variants carry no compiler (the full ones are built on
    // buildpack-deps, gcc included); a JRE is not a JDK. Go's and Rust's are compilers in every
    // variant.
    let runtime_variant = (matches!(name, "python" | "node")
        && (tag.contains("slim") || tag.contains("alpine")))
        || (name == "openjdk" && tag.contains("jre"));
    if TOOLCHAINS.contains(&name) && !runtime_variant && !s.base.contains("distroless") {
        let ins = &ctx.df.instructions[s.from];
        out.insert(0, at_word(ctx, ins, &s.base_raw, format!("the final stage is built on `{}`, a toolchain image", s.base), Some("build in a named stage and COPY --from it into a minimal base (scratch, distroless)".into())));
    }
    out
}
