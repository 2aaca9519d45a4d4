use super::{at_command_word, at_word, final_stage, reaches_final, run_commands};
use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::dockerfile::{image_name, BaseImage, RUNTIME_IMAGES};
use crate::view::{DockerfileCtx, ImagePurpose};

pub static RULE: Rule = Rule {
    code: "DF016",
    name: "toolchain-in-final-stage",
    practice: "P1",
    severity: Severity::Warning,
    hadolint: &[],
    pod_security: None,
    doc: r#"
## What it does
Flags a final stage built on a compiler image (`golang`, `rust`, `gcc`, `maven`, `gradle`): a
single-stage build that ships its toolchain. Also flags a compiler installed by the package
manager in a stage whose layers reach the final image, in any language's image (`apt-get install
gcc` in a Python runtime, `apk add build-base`), unless the same RUN removes packages again (the
build-dependencies pattern: `apk add --virtual .build-deps gcc … && apk del .build-deps`).

## Why is this bad?
The compiler, the sources and the caches end up in production: hundreds of megabytes to pull,
and every tool an attacker needs. Build in one stage and copy only the binary into a minimal
final stage.

## When it does not apply
- The image's purpose is the toolchain or it is not an application (the shared judgement of what
  an image is for): a base image to build upon, a tool (a build, CI or dev-container image: a
  toolchain as its final stage with no server, a CLI as ENTRYPOINT, an image idling for
  `docker exec`), build output.
- It compiles at start: its ENTRYPOINT/CMD runs `go run`, `cargo run`, `make`, `mvn`, `gradle`,
  `dotnet run`, or a file watcher that rebuilds (`air`, `reflex`, `cargo watch`).
- Interpreters that are the runtime: `python`, `node`, `ruby`, `php`, `openjdk` and other JVM
  images run the app; they are not flagged as toolchains (a compiler installed into them is).
  Nor is `buildpack-deps`, which one picks for its build tools.
- A compiler installed and removed in the same RUN (`apk del .build-deps`), or installed in a
  stage the final image is not built FROM.

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

const TOOLCHAINS: &[&str] = &["golang", "rust", "gcc", "maven", "gradle"];

/// Programs that build the app when the container starts: the toolchain is what runs it.
const COMPILES_AT_START: &[&str] = &[
    "make",
    "mvn",
    "mvnw",
    "gradle",
    "gradlew",
    "air",
    "reflex",
    "compiledaemon",
    "cargo-watch",
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
    // A base image on a distribution that adds a compiler is a toolchain image on purpose
    // (a language's official image, a cross-compiling base); on a language runtime it is a
    // runtime carrying a compiler.
    let purpose = ctx.purpose().0;
    let on_runtime = ctx
        .root_base()
        .is_some_and(|r| RUNTIME_IMAGES.contains(&image_name(&r.base.to_ascii_lowercase())));
    if matches!(purpose, ImagePurpose::Tool | ImagePurpose::Artifact)
        || (purpose == ImagePurpose::Base && !on_runtime)
    {
        return vec![];
    }
    let cmd = ctx.command_words();
    let program = |w: &str| w.rsplit('/').next().unwrap_or(w).to_ascii_lowercase();
    let compiles_at_start = cmd.iter().enumerate().any(|(i, w)| {
        let p = program(w);
        let next = cmd.get(i + 1).map(String::as_str).unwrap_or("");
        COMPILES_AT_START.contains(&p.as_str())
            || (matches!(p.as_str(), "go" | "cargo" | "dotnet")
                && matches!(next, "run" | "watch" | "build"))
    });
    if compiles_at_start {
        return vec![];
    }
    let mut out = Vec::new();
    for (idx, ins) in ctx.df.instructions.iter().enumerate() {
        if !reaches_final(ctx, idx) {
            continue;
        }
        let cmds = run_commands(ins);
        if cmds.iter().any(|c| c.removes_packages()) {
            continue;
        }
        let compilers: Vec<(&drydock_dockerfile::shell::Command, String)> = cmds
            .iter()
            .flat_map(|c| c.installed_packages().into_iter().map(move |p| (c, p)))
            .filter(|(_, p)| is_compiler(p))
            .collect();
        if let Some((cmd, first)) = compilers.first() {
            let names: Vec<&str> = compilers.iter().map(|(_, p)| p.as_str()).collect();
            let word = cmd
                .words
                .iter()
                .find(|w| w.split(['=', '>', '<', '~']).next() == Some(first.as_str()))
                .cloned()
                .unwrap_or_else(|| first.clone());
            out.push(at_command_word(ctx, ins, cmd, &word, format!("`{}` is installed in a stage the final image is built from: the compiler ships to production", names.join("`, `")), Some("install it in a build stage and COPY --from only what it builds, or remove it in the same RUN".into())));
        }
    }
    // By the repository's name (`golang`, `localhost:5000/golang`), not a distroless image.
    let toolchain = BaseImage::parse(&s.base)
        .is_some_and(|b| TOOLCHAINS.contains(&b.name()) && !b.path().any(|c| c == "distroless"));
    if toolchain && !s.unresolved {
        let ins = &ctx.df.instructions[s.from];
        out.insert(0, at_word(ctx, ins, &s.base_raw, format!("the final stage is built on `{}`, a toolchain image", s.base), Some("build in a named stage and COPY --from it into a minimal base (scratch, distroless)".into())));
    }
    out
}
