use super::{at, body, run_commands};
use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::DockerfileCtx;
use drydock_dockerfile::Keyword;

pub static RULE: Rule = Rule {
    code: "DF010",
    name: "copy-all-before-dependencies",
    practice: "P5",
    severity: Severity::Warning,
    hadolint: &[],
    pod_security: None,
    doc: r#"
## What it does
Flags `COPY . .` (the whole context) that comes before the dependency download in the same
stage (`go mod download`, `cargo fetch`, `npm ci`, `pip install -r`, ...).

## Why is this bad?
Any change to any file invalidates the cache from that COPY on, so every one-line change
downloads and builds all dependencies again. Copy the dependency manifests first, download,
then copy the sources.

## When it does not apply
- The whole context is copied after the dependency download, or in another stage: only a
  `COPY` or `ADD` whose sources include `.`, `./` or `*` counts, never `COPY --from`, and only
  a download in a later RUN of the same stage.
- No later RUN of the stage runs a known download (`go mod download`, `cargo fetch`, `npm ci`,
  `npm install`, `yarn install`, `pnpm install`, `pip install -r`, `poetry install`,
  `pipenv install`, `uv sync`, `bundle install`, `composer install`,
  `mvn dependency:go-offline`, `gradle dependencies`, `dotnet restore`, `mix deps.get`): a stage
  that only compiles after `COPY . .` is not flagged.

## Example
```dockerfile
COPY . .
RUN go mod download
```

Use instead:
```dockerfile
COPY go.mod go.sum ./
RUN go mod download
COPY . .
```

## References
- https://docs.docker.com/build/cache/optimize/
"#,
    check: Check::Dockerfile(check),
};

const DEPS: &[&str] = &[
    "go mod download",
    "cargo fetch",
    "npm ci",
    "npm install",
    "npm i",
    "yarn install",
    "yarn --frozen-lockfile",
    "pnpm install",
    "pip install -r",
    "pip3 install -r",
    "python -m pip install -r",
    "python3 -m pip install -r",
    "poetry install",
    "pipenv install",
    "uv sync",
    "bundle install",
    "composer install",
    "mvn dependency:go-offline",
    "mvn -B dependency:go-offline",
    "gradle dependencies",
    "dotnet restore",
    "mix deps.get",
];

fn check(ctx: &DockerfileCtx<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for s in &ctx.stages {
        let mut copy_all = None;
        for i in body(ctx, s) {
            match i.kind() {
                Keyword::Copy | Keyword::Add
                    if copy_all.is_none() && i.flags.iter().all(|f| !f.starts_with("--from")) =>
                {
                    let v = i.values();
                    if v.len() >= 2
                        && v[..v.len() - 1]
                            .iter()
                            .any(|src| matches!(*src, "." | "./" | "*"))
                    {
                        copy_all = Some(i);
                    }
                }
                Keyword::Run => {
                    if let Some(c) = copy_all {
                        let cmds: Vec<Vec<String>> = run_commands(i)
                            .iter()
                            .map(|c| c.unwrapped().words)
                            .collect();
                        if let Some(dep) = DEPS.iter().find(|d| cmds.iter().any(|c| runs(c, d))) {
                            out.push(at(ctx, c, format!("the whole context is copied before `{dep}`: every source change downloads the dependencies again"), Some("copy the dependency manifests first, download, then `COPY . .`".into())));
                            break;
                        }
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// Whether a command's words run `dep` (`pip install -r`): the same program, then the other
/// words in order, options allowed between them (`pip install --no-cache-dir -r req.txt`).
fn runs(words: &[String], dep: &str) -> bool {
    let mut want = dep.split(' ');
    let Some(program) = want.next() else {
        return false;
    };
    let Some(first) = words.first() else {
        return false;
    };
    if first.rsplit('/').next() != Some(program) {
        return false;
    }
    let mut rest = words[1..].iter();
    want.all(|w| rest.any(|x| x == w))
}
