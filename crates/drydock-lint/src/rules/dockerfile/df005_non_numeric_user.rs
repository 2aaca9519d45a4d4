use super::{at, final_stage, is_windows};
use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::{DockerfileCtx, ImagePurpose};
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

## When it does not apply
- The user part is numeric: `USER 1001:app` (Kubernetes checks the uid, not the group).
- `USER $VAR` whose ARG or ENV value in the file is numeric (`ENV APP_UID=1654`, BuildKit writes
  the value into the image), or has no value here (it comes from the base image or a
  `--build-arg`).
- Desktop applications (DISPLAY set, or X11, Wayland, GTK, Qt, OpenGL or PulseAudio installed):
  they are run by hand with a display, not by a kubelet that checks `runAsNonRoot`.
- Build output (a scratch stage that only collects files) and Windows images (accounts, not
  uids).

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
    if is_windows(ctx) || ctx.is_desktop_app() || ctx.purpose().0 == ImagePurpose::Artifact {
        return vec![];
    }
    s.body
        .iter()
        .map(|&idx| (idx, &ctx.df.instructions[idx]))
        .filter(|(_, i)| i.is(Keyword::User))
        .filter(|(idx, i)| {
            i.values().first().is_some_and(|v| {
                let value = ctx.expand_at(*idx, v);
                let user = value.split(':').next().unwrap_or("").trim();
                let unknown = v.contains('$') && (user.is_empty() || user.contains('$'));
                let numeric = !user.is_empty() && user.bytes().all(|b| b.is_ascii_digit());
                !unknown && !numeric && !crate::rules::helpers::is_root(user)
            })
        })
        .map(|(_, i)| {
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
