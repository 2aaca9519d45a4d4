use super::{at, body, final_chain, final_stage};
use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::{DockerfileCtx, ImagePurpose};
use drydock_dockerfile::Keyword;

pub static RULE: Rule = Rule {
    code: "DF006",
    name: "missing-healthcheck",
    practice: "P8",
    severity: Severity::Info,
    hadolint: &[],
    pod_security: None,
    doc: r#"
## What it does
Flags an image that runs a service and has no `HEALTHCHECK` (in the final stage or the stages it
is built FROM).

An image runs a service when it `EXPOSE`s a port or its ENTRYPOINT/CMD starts a known server
(nginx, httpd, gunicorn, uvicorn, php-fpm, java, node, … or a command with `serve`, `server`,
`daemon`, `--port`, `--bind`). It does not when it is a base image (no ENTRYPOINT, CMD or EXPOSE), or
runs a CLI or a shell: `CMD ["--help"]`, `--version`, a bare shell or REPL (`bash`, `python3`,
`node`, `php -a`, `irb`), or neither EXPOSE nor a server command. Those are left alone.

## Why is this bad?
Without one, Docker and Compose consider a hung service healthy and never restart it, and
`depends_on: condition: service_healthy` cannot work. (Kubernetes ignores HEALTHCHECK and uses
its probes; if the image only runs there, ignore this rule in drydock.toml.)

## When it does not apply
- The image does not run a service, by the shared judgement of what an image is for (from its
  final stage): a base image, a tool (a CLI as ENTRYPOINT, `--help`, a build or CI image, an
  image idling for `docker exec`), a one-shot job (tests, a migration), build output, or a
  program that neither EXPOSEs a port nor starts a known server (`CMD ["/app"]`).
- The final stage or a stage it is built FROM has a `HEALTHCHECK`, `HEALTHCHECK NONE` included
  (health checking turned off on purpose).

## Example
```dockerfile
EXPOSE 8080
ENTRYPOINT ["/app/api"]
```

Use instead:
```dockerfile
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD ["/usr/local/bin/drydock-helper", "probe", "http://127.0.0.1:8080/healthz"]
ENTRYPOINT ["/app/api"]
```

## References
- https://docs.docker.com/reference/dockerfile/#healthcheck
"#,
    check: Check::Dockerfile(check),
};

fn check(ctx: &DockerfileCtx<'_>) -> Vec<Finding> {
    let Some(s) = final_stage(ctx) else {
        return vec![];
    };
    let chain = final_chain(ctx);
    let has = |k: Keyword| chain.iter().any(|st| body(ctx, st).any(|i| i.is(k)));
    // The shared judgement of what the image is for: only a service is probed.
    if has(Keyword::Healthcheck) || ctx.purpose().0 != ImagePurpose::Service {
        return vec![];
    }
    vec![at(
        ctx,
        &ctx.df.instructions[s.from],
        "the image runs a service and has no HEALTHCHECK".into(),
        Some("add an exec-form HEALTHCHECK that probes the service".into()),
    )]
}
