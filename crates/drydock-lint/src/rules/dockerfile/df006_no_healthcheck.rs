use super::{at, body, final_stage};
use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::DockerfileCtx;
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
Flags a final stage with no `HEALTHCHECK`.

## Why is this bad?
Without one, Docker and Compose consider a hung service healthy and never restart it, and
`depends_on: condition: service_healthy` cannot work. (Kubernetes ignores HEALTHCHECK and uses
its probes; if the image only runs there, ignore this rule in drydock.toml.)

## Example
```dockerfile
ENTRYPOINT ["/app/api"]
```

Use instead:
```dockerfile
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
    if body(ctx, s).any(|i| i.is(Keyword::Healthcheck)) {
        return vec![];
    }
    vec![at(
        ctx,
        &ctx.df.instructions[s.from],
        "the final stage has no HEALTHCHECK".into(),
        Some("add an exec-form HEALTHCHECK that probes the service".into()),
    )]
}
