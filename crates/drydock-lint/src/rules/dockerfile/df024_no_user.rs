use super::df004_root_user::{judge, Root};
use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::DockerfileCtx;

pub static RULE: Rule = Rule {
    code: "DF024",
    name: "no-user",
    practice: "P11",
    severity: Severity::Error,
    hadolint: &[],
    pod_security: None,
    doc: r#"
## What it does
Flags an image that runs an application and sets no `USER`, on a base image whose default user
is root: it runs as root without saying so. (An explicit `USER root` is DF004's.)

## Why is this bad?
A process that runs as root in the container is root on the host's kernel: a container escape
or a writable host mount becomes a host compromise. Kubernetes' `runAsNonRoot` refuses such
images.

## When it does not apply
Where DF004 does not (the same judgement): images that are not applications (base images,
tools, build output), images that drop root by themselves (gosu, su-exec, setpriv, a daemon
configured with its user), programs that need root by nature, Windows images, and a final stage
built FROM another stage. And where the base's default user is not known: another publisher's
image (it may set its own USER, which the Dockerfile does not show) or one given by
`--build-arg`; the rule judges `scratch`, official images, distroless, Microsoft's and Red Hat's
images, whose default user is known. Whether an image must drop root often depends on what runs
it (a CI builder, a development container), which a Dockerfile rarely says: that is why this
rule is opt-in.

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
    match judge(ctx) {
        Some(Root::Unset(f)) => vec![f],
        _ => vec![],
    }
}
