use super::{at, body, final_stage, is_windows};
use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::DockerfileCtx;
use drydock_dockerfile::Keyword;

pub static RULE: Rule = Rule {
    code: "DF005",
    name: "non-numeric-user",
    practice: "P11",
    severity: Severity::Warning,
    hadolint: &[],
    pod_security: None,
    doc: r#"
## What it does
Flags a `USER` in the final stage given by name rather than by number.

## Why is this bad?
Kubernetes cannot check that a named user is not root, so with `runAsNonRoot: true` the kubelet
refuses to start the container ("image has non-numeric user"). A `scratch` image also has no
`/etc/passwd` to look the name up in.

## Example
```dockerfile
USER nonroot
```

Use instead:
```dockerfile
USER 65532:65532
```

## References
- https://kubernetes.io/docs/tasks/configure-pod-container/security-context/
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
    body(ctx, s)
        .filter(|i| i.is(Keyword::User))
        .filter(|i| {
            i.values().first().is_some_and(|v| {
                !crate::rules::helpers::is_root(v)
                    && !v
                        .split(':')
                        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
            })
        })
        .map(|i| {
            at(
                ctx,
                i,
                format!(
                    "USER `{}` is a name; Kubernetes cannot verify it is not root",
                    i.values().join(" ")
                ),
                Some("use the numeric uid:gid, e.g. `USER 65532:65532`".into()),
            )
        })
        .collect()
}
