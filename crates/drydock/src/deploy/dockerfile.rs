//! A best-practice Dockerfile (`docker/`), for teams that keep `docker build`: multi-stage, a
//! static binary, dependency layers before sources, a minimal non-root base, the service port
//! only.

use super::{Bundle, Context, DeployError, GeneratedFile};
use std::path::Path;

use crate::config::Language;
use crate::project::Project;

/// The Dockerfile and its .dockerignore: docker/Dockerfile, docker/Dockerfile.dockerignore.
pub struct Dockerfile;

impl Bundle for Dockerfile {
    fn files(&self, cx: &Context) -> Result<Vec<GeneratedFile>, DeployError> {
        Ok(vec![
            GeneratedFile::new(
                "docker/Dockerfile",
                dockerfile(cx.project, &cx.out_from_root.join("docker/Dockerfile")),
            ),
            // BuildKit reads <Dockerfile>.dockerignore beside the Dockerfile before the
            // context's own .dockerignore.
            GeneratedFile::new(
                "docker/Dockerfile.dockerignore",
                crate::init::render_dockerignore(cx.project.build.language),
            ),
        ])
    }

    fn notes(&self, p: &Project) -> Vec<String> {
        dockerfile_note(p).into_iter().collect()
    }
}

/// The minimal runtime base: CA certificates, tzdata, /tmp and the nonroot user (65532).
pub const RUNTIME_BASE: &str = "gcr.io/distroless/static-debian12:nonroot";

/// The Go version: go.mod's `go` directive, else the local toolchain's, else a current one.
fn go_version(p: &Project) -> String {
    let from_mod = std::fs::read_to_string(p.root.join("go.mod"))
        .ok()
        .and_then(|t| {
            t.lines().find_map(|l| {
                l.trim()
                    .strip_prefix("go ")
                    .map(|v| v.trim().split('.').take(2).collect::<Vec<_>>().join("."))
            })
        });
    from_mod
        .or_else(|| {
            let out = std::process::Command::new("go")
                .args(["env", "GOVERSION"])
                .output()
                .ok()?;
            let v = String::from_utf8_lossy(&out.stdout);
            let v = v.trim().strip_prefix("go")?;
            Some(v.split('.').take(2).collect::<Vec<_>>().join("."))
        })
        .unwrap_or_else(|| "1.22".into())
}

fn rust_version() -> String {
    std::process::Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .nth(1)
                .map(|v| v.split('.').take(2).collect::<Vec<_>>().join("."))
        })
        .unwrap_or_else(|| "1.85".into())
}

/// Whether the project builds in GOPATH mode, as drydock's own build decides it: no go.mod, or
/// GO111MODULE=off in [build] env or in the environment.
fn gopath_mode(p: &Project) -> bool {
    let off = p
        .build
        .env
        .get("GO111MODULE")
        .cloned()
        .or_else(|| std::env::var("GO111MODULE").ok())
        .is_some_and(|v| v == "off");
    off || !p.root.join("go.mod").is_file()
}

/// Whether `go get` still fetches in GOPATH mode: it does before Go 1.22.
fn go_get_works(version: &str) -> bool {
    let mut parts = version.split('.').map(|n| n.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(1), parts.next().unwrap_or(0));
    major == 1 && minor < 22
}

fn summary(deps: &[String]) -> String {
    let mut s = deps.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
    if deps.len() > 3 {
        s.push_str(&format!(" and {} more", deps.len() - 3));
    }
    s
}

/// The third-party packages a GOPATH-mode project imports (a first path element with a dot,
/// not the project's own import path), from its .go files outside vendor/ and testdata/.
pub fn gopath_dependencies(p: &Project) -> Vec<String> {
    let own = p.build.go_module.clone().unwrap_or_else(|| p.name.clone());
    let mut deps = std::collections::BTreeSet::new();
    let mut stack = vec![p.root.clone()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                if !name.starts_with(['.', '_'])
                    && !["vendor", "testdata", "deploy"].contains(&name.as_str())
                {
                    stack.push(e.path());
                }
            } else if name.ends_with(".go") && !name.ends_with("_test.go") {
                let Ok(text) = std::fs::read_to_string(e.path()) else {
                    continue;
                };
                let mut in_block = false;
                for line in text.lines() {
                    let l = line.trim();
                    let spec = if in_block {
                        if l.starts_with(')') {
                            in_block = false;
                            continue;
                        }
                        l
                    } else if let Some(rest) = l.strip_prefix("import") {
                        let rest = rest.trim();
                        if rest.starts_with('(') {
                            in_block = true;
                            rest.trim_start_matches('(')
                        } else {
                            rest
                        }
                    } else {
                        continue;
                    };
                    if let Some(path) = spec.split('"').nth(1) {
                        let first = path.split('/').next().unwrap_or("");
                        if first.contains('.')
                            && path != own
                            && !path.starts_with(&format!("{own}/"))
                        {
                            deps.insert(path.to_string());
                        }
                    }
                }
            }
        }
    }
    deps.into_iter().collect()
}

/// What deploy says about the Dockerfile, when the build it describes needs something the
/// project does not give it (GOPATH-mode dependencies that are not vendored).
pub fn dockerfile_note(p: &Project) -> Option<String> {
    if p.build.language != Language::Go || !gopath_mode(p) || p.root.join("vendor").is_dir() {
        return None;
    }
    let deps = gopath_dependencies(p);
    if deps.is_empty() {
        return None;
    }
    let v = go_version(p);
    Some(if go_get_works(&v) {
        format!("docker/Dockerfile: a GOPATH-mode project with no vendor/: `docker build` fetches {} with `go get` at their newest commits (network and git needed; not reproducible); vendor them, or move to modules (go mod init && go mod tidy)", summary(&deps))
    } else {
        format!("docker/Dockerfile: a GOPATH-mode project with no vendor/, and Go {v} cannot fetch in GOPATH mode: `docker build` finds {} only if the builder's GOPATH has them; vendor them, or move to modules (go mod init && go mod tidy)", summary(&deps))
    })
}

/// The Dockerfile, written at `path` (as the project's root sees it, which is the context
/// `docker build` gets).
pub fn dockerfile(p: &Project, path: &Path) -> String {
    let name = &p.name;
    let mut d = format!(
        "# Dockerfile for {name}, written by `drydock deploy`, for teams that build with `docker build`:\n\
         #   docker build -f {} -t {name} .\n\
         # The toolchain stays in the build stage; the image holds the static binary, the assets and\n\
         # nothing else, and runs as a numeric non-root user.\n",
        path.display()
    );
    match p.build.language {
        Language::Go if gopath_mode(p) => {
            let import = p.build.go_module.clone().unwrap_or_else(|| name.clone());
            let v = go_version(p);
            let deps = gopath_dependencies(p);
            let fetch = if deps.is_empty() || p.root.join("vendor").is_dir() {
                String::new()
            } else if go_get_works(&v) {
                format!(
                    "# GOPATH mode has no lock file: `go get -d` fetches each dependency the builder's GOPATH\n\
                     # lacks ({}) at its newest commit, over the network\n\
                     # with git. That build is not reproducible: vendor them (vendor/), or move to modules\n\
                     # (go mod init && go mod tidy) and deploy again.\n\
                     RUN GOPATH=\"/go:$GOPATH\" go get -d ./...\n",
                    summary(&deps)
                )
            } else {
                format!(
                    "# Go {v} cannot fetch dependencies in GOPATH mode (`go get` there ended with Go 1.22):\n\
                     # {} must be in vendor/ or in the builder's GOPATH. Vendor them, or move to modules\n\
                     # (go mod init && go mod tidy) and deploy again.\n",
                    summary(&deps)
                )
            };
            d.push_str(&format!(
                "FROM golang:{v}-bookworm AS build\n\
                 # GOPATH mode, as this project builds: imports resolve from vendor/ and GOPATH.\n\
                 ENV GO111MODULE=off\n\
                 WORKDIR /go/src/{import}\n\
                 COPY . .\n\
                 {fetch}\
                 RUN CGO_ENABLED=0 GOOS=linux GOPATH=\"/go:$GOPATH\" go build -trimpath -ldflags=\"-s -w\" -o /out/{name} {main}\n\n",
                main = p.build.main,
            ));
        }
        Language::Go => {
            let has_sum = p.root.join("go.sum").is_file();
            let (sum, note) = if has_sum {
                (" go.sum", "")
            } else {
                ("", "# There is no go.sum yet: run `go mod tidy` and add it here, so builds are verified.\n")
            };
            d.push_str(&format!(
                "FROM golang:{v}-bookworm AS build\n\
                 WORKDIR /src\n\
                 # Dependencies first: this layer is rebuilt only when go.mod or go.sum change.\n\
                 {note}\
                 COPY go.mod{sum} ./\n\
                 RUN go mod download\n\
                 COPY . .\n\
                 RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags=\"-s -w\" -o /out/{name} {main}\n\n",
                v = go_version(p),
                main = p.build.main,
            ));
        }
        Language::Rust => {
            let flags = "RUSTFLAGS=\"-C target-feature=+crt-static\"";
            let target = "x86_64-unknown-linux-gnu";
            // With a Cargo.lock, builds use exactly it; without one, cargo resolves afresh.
            let (lock, locked, until) = if p.root.join("Cargo.lock").is_file() {
                (
                    " Cargo.lock",
                    " --locked",
                    "Cargo.toml or Cargo.lock change",
                )
            } else {
                ("", "", "Cargo.toml changes")
            };
            d.push_str(&format!(
                "FROM rust:{v}-bookworm AS build\n\
                 WORKDIR /src\n\
                 # Dependencies first: a stub main builds them, cached until {until}.\n\
                 COPY Cargo.toml{lock} ./\n\
                 RUN mkdir src && echo 'fn main() {{}}' > src/main.rs \\\n    && {flags} cargo build --release{locked} --target {target} \\\n    && rm -rf src\n\
                 COPY . .\n\
                 RUN touch src/main.rs \\\n    && {flags} cargo build --release{locked} --target {target} --bin {bin} \\\n    && mkdir -p /out && cp target/{target}/release/{bin} /out/{name}\n\n",
                v = rust_version(),
                bin = p.build.main,
            ));
        }
    }
    d.push_str(&format!(
        "# drydock:ignore DF006 distroless has no shell or curl to probe with; the Kubernetes probes and the Compose healthcheck check health\n\
         FROM {RUNTIME_BASE}\nWORKDIR /app\n"
    ));
    // Assets change less often than the binary: their layer comes first.
    for a in &p.image.assets {
        d.push_str(&format!("COPY {} {}\n", a.src.trim_end_matches('/'), a.dst));
    }
    d.push_str(&format!("COPY --from=build /out/{name} /app/{name}\n"));
    let mut env: Vec<String> = Vec::new();
    if p.build.gin && !p.image.env.contains_key("GIN_MODE") {
        env.push("GIN_MODE=release".into());
    }
    env.extend(
        p.image
            .env
            .iter()
            .map(|(k, v)| format!("{k}={}", quote_env(v))),
    );
    if !env.is_empty() {
        d.push_str(&format!("ENV {}\n", env.join(" ")));
    }
    d.push_str(&format!(
        "USER {}:{}\n\
         EXPOSE {}\n\
         # Exec form: the app is PID 1 and gets SIGTERM. The base has no shell and no curl, so the\n\
         # health checks are the orchestrator's (the Kubernetes probes, the Compose healthcheck).\n\
         ENTRYPOINT [\"/app/{name}\"]\n",
        p.image.user.0, p.image.user.1, p.port
    ));
    d
}

fn quote_env(v: &str) -> String {
    if !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@,+".contains(c))
    {
        v.to_string()
    } else {
        format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
    }
}
