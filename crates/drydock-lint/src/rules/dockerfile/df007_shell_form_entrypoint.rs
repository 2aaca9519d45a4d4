use super::{at, body, final_stage, is_windows};
use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::{DockerfileCtx, ImagePurpose};
use drydock_dockerfile::shell::commands;
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

## When it does not apply
- The shell hands over to the program, so it is PID 1 after all: the command is one simple
  command (`CMD ./server --port 8080`: dash, bash and busybox sh exec the last command of
  `sh -c`), or ends in `exec` (`CMD cd /app && exec ./server`). Flagged still where there is no
  shell to start (`scratch`, distroless), and where the text is a broken exec form
  (`ENTRYPOINT ['/bin/app']`, JSON followed by a comment), which BuildKit runs as a shell command.
  An ENTRYPOINT in shell form is flagged even then: `/bin/sh -c` drops CMD and the arguments
  of `docker run`.
- The image is not an application (the shared judgement of what an image is for): a base image,
  a one-shot job, build output. And Windows images, whose shell and stop signal differ.

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
    if is_windows(ctx)
        || matches!(
            ctx.purpose().0,
            ImagePurpose::Base | ImagePurpose::Job | ImagePurpose::Artifact
        )
    {
        return vec![];
    }
    let no_shell = ctx.root_base().is_some_and(|r| {
        let b = r.base.to_ascii_lowercase();
        b == "scratch"
            || (b.contains("distroless") && !b.contains("debug"))
            || b.contains("chiseled")
    });
    body(ctx, s)
        .filter(|i| {
            matches!(i.kind(), Keyword::Cmd | Keyword::Entrypoint) && !i.json && !i.args.is_empty()
        })
        .filter(|i| {
            let text = i.values().join(" ");
            // A shell-form ENTRYPOINT drops CMD and `docker run`'s arguments even when the
            // shell hands over to the program.
            no_shell
                || text.trim_start().starts_with('[')
                || !hands_over(&text)
                || i.is(Keyword::Entrypoint)
        })
        .map(|i| {
            let text = i.values().join(" ");
            let kw = i.keyword.to_ascii_uppercase();
            if text.trim_start().starts_with('[') {
                return at(
                    ctx,
                    i,
                    format!("{kw} is not valid JSON, so it runs as a shell command: /bin/sh is PID 1 and the app never gets SIGTERM"),
                    Some("write the exec form as JSON: double quotes, nothing after the `]`".into()),
                );
            }
            let fix = if commands(&text).len() > 1 {
                "put the commands in a script that ends by `exec`ing the app, and run that in exec form".to_string()
            } else {
                let words: Vec<String> =
                    text.split_whitespace().map(|w| format!("\"{w}\"")).collect();
                format!("exec form: `{kw} [{}]`", words.join(", "))
            };
            let message = if !no_shell && hands_over(&text) {
                format!("{kw} in shell form: CMD and the arguments of `docker run` are ignored (`/bin/sh -c` takes none)")
            } else {
                format!("{kw} in shell form: /bin/sh is PID 1 and the app never gets SIGTERM")
            };
            at(ctx, i, message, Some(fix))
        })
        .collect()
}

/// Whether `sh -c TEXT` ends up running the program as PID 1: one simple command (the shells
/// exec it), or a list whose last command is `exec` with nothing piped or backgrounded.
fn hands_over(text: &str) -> bool {
    let cmds = commands(text);
    let Some(last) = cmds.last() else {
        return false;
    };
    // Pipes and background jobs keep the shell as their parent.
    let t = text.replace("||", "").replace("&&", "");
    let piped = t.contains('|') || t.contains('&');
    let substituted = text.contains("$(") || text.contains('`');
    if piped || substituted || text.contains("<<") {
        return false;
    }
    let simple =
        cmds.len() == 1 && !text.contains(';') && !text.contains("&&") && !text.contains("||");
    let keywords = ["while", "for", "until", "if", "case"];
    let compound = text
        .split_whitespace()
        .next()
        .is_some_and(|w| keywords.contains(&w));
    !compound && (simple || last.words.first().is_some_and(|w| w == "exec"))
}
