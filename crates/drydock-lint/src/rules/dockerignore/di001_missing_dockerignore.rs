use super::file_start;
use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::DockerfileCtx;
use drydock_values::units::human_bytes as human;

pub static RULE: Rule = Rule {
    code: "DI001",
    name: "missing-dockerignore",
    practice: "P3",
    severity: Severity::Warning,
    hadolint: &[],
    pod_security: None,
    doc: r#"
## What it does
Flags a Dockerfile that reads its whole build context (`COPY . .`, `ADD . /app`, a `RUN --mount`
binding the context's root) when the context has no `.dockerignore` (nor a
`<Dockerfile>.dockerignore` beside it).

## Why is this bad?
Without one, the build gets everything: `.git`, local environment files, keys, build outputs.
The upload is slow, the cache breaks on files the image never uses, and `COPY . .` puts
secrets into layers.

## When it does not apply
- A Dockerfile that names what it reads (`COPY go.mod go.sum ./`, `COPY src/ /app/src/`,
  `COPY vector_*.deb ./`, `COPY ${CERT_FILE} /certs/`): BuildKit sends such a build only the
  paths its COPY, ADD and bind mounts name, not the rest of the context, so a .dockerignore
  changes little.
- A Dockerfile that reads nothing from its build context: only `COPY --from` another stage or
  image, `ADD` of a URL or git repository, heredocs. (Sources given as `$VAR` are judged by
  the ARG or ENV value.)
- A Dockerfile whose build context is not known: one that copies what its folder does not
  hold, or runs from the copied context a script its folder does not hold (`COPY . .` then
  `RUN scripts/build.sh`), is built from elsewhere (a repository's root, a folder of build
  outputs), whose .dockerignore is not the folder's. A Compose file's `build:` says where.

## Example
A directory with a Dockerfile and no .dockerignore.

Use instead:
```
# .dockerignore
.git
.env*
*.pem
*.key
target/
node_modules
```
(`drydock init` writes one suited to the language.)

## References
- https://docs.docker.com/build/concepts/context/#dockerignore-files
"#,
    check: Check::Dockerfile(check),
};

fn check(ctx: &DockerfileCtx<'_>) -> Vec<Finding> {
    match ctx.context {
        Some(c) if c.dockerignore.is_none() && ctx.reads_whole_context() => vec![file_start(
            format!(
                "the build context {} has no .dockerignore: all {} files ({}) are sent",
                c.root.display(),
                c.file_count() + c.secrets_excluded.len(),
                human(c.total_size())
            ),
            Some("add a .dockerignore (`drydock init` writes one)".into()),
        )],
        _ => vec![],
    }
}
