use super::{at, body, final_stage, is_windows};
use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::rules::helpers::is_root;
use crate::view::DockerfileCtx;
use drydock_dockerfile::Keyword;

pub static RULE: Rule = Rule {
    code: "DF004",
    name: "runs-as-root",
    practice: "P11",
    severity: Severity::Error,
    hadolint: &["DL3002"],
    pod_security: None,
    doc: r#"
## What it does
Flags a final stage that sets no `USER`, or whose last `USER` is root (`root`, `0`, `0:0`).

## Why is this bad?
A process that runs as root in the container is root on the host's kernel: a container escape
or a writable host mount becomes a host compromise. Kubernetes' `runAsNonRoot` refuses such
images.

## Example
```dockerfile
FROM gcr.io/distroless/static-debian12
COPY app /app
```

Use instead:
```dockerfile
FROM gcr.io/distroless/static-debian12
COPY app /app
USER 65532:65532
```

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
"#,
    check: Check::Dockerfile(check),
};

fn check(ctx: &DockerfileCtx<'_>) -> Vec<Finding> {
    let Some(s) = final_stage(ctx) else {
        return vec![];
    };
    // Windows images have accounts, not uids; root does not apply.
    if is_windows(ctx) {
        return vec![];
    }
    // A final stage built FROM another stage inherits its USER.
    if ctx
        .stages
        .iter()
        .any(|o| o.alias.as_deref() == Some(&s.base.to_ascii_lowercase()))
    {
        return vec![];
    }
    let last_user = body(ctx, s).filter(|i| i.is(Keyword::User)).last();
    match last_user {
        Some(u) if u.values().first().is_some_and(|v| is_root(v)) => {
            vec![at(
                ctx,
                u,
                "the final stage runs as root".into(),
                Some("`USER 65532:65532` (a numeric non-root user)".into()),
            )]
        }
        Some(_) => vec![],
        None => vec![at(
            ctx,
            &ctx.df.instructions[s.from],
            "the final stage sets no USER, so it runs as root".into(),
            Some("add `USER 65532:65532` before CMD/ENTRYPOINT".into()),
        )],
    }
}
