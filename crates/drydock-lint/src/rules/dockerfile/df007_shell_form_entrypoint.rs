use super::{at, body, final_stage};
use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::DockerfileCtx;
use drydock_dockerfile::Keyword;

pub static RULE: Rule = Rule {
    code: "DF007",
    name: "shell-form-entrypoint",
    practice: "P13",
    severity: Severity::Warning,
    hadolint: &["DL3025"],
    pod_security: None,
    doc: r#"
## What it does
Flags `CMD` and `ENTRYPOINT` in shell form in the final stage.

## Why is this bad?
Shell form runs `/bin/sh -c "..."`: the shell is PID 1 and does not pass SIGTERM on, so
`docker stop` and Kubernetes wait out the grace period and SIGKILL the app, with no graceful
shutdown. In a `scratch` or distroless image there is no shell at all and the container cannot
start.

## Example
```dockerfile
CMD ./server --port 8080
```

Use instead:
```dockerfile
CMD ["./server", "--port", "8080"]
```

## References
- https://docs.docker.com/reference/dockerfile/#shell-and-exec-form
"#,
    check: Check::Dockerfile(check),
};

fn check(ctx: &DockerfileCtx<'_>) -> Vec<Finding> {
    let Some(s) = final_stage(ctx) else {
        return vec![];
    };
    body(ctx, s)
        .filter(|i| {
            matches!(i.kind(), Keyword::Cmd | Keyword::Entrypoint) && !i.json && !i.args.is_empty()
        })
        .map(|i| {
            let words: Vec<String> = i
                .values()
                .join(" ")
                .split_whitespace()
                .map(|w| format!("\"{w}\""))
                .collect();
            at(
                ctx,
                i,
                format!(
                    "{} in shell form: /bin/sh is PID 1 and the app never gets SIGTERM",
                    i.keyword.to_ascii_uppercase()
                ),
                Some(format!(
                    "exec form: `{} [{}]`",
                    i.keyword.to_ascii_uppercase(),
                    words.join(", ")
                )),
            )
        })
        .collect()
}
