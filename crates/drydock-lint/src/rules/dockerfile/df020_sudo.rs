use super::{at_command, run_commands};
use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::DockerfileCtx;
use drydock_dockerfile::Keyword;

pub static RULE: Rule = Rule {
    code: "DF020",
    name: "sudo-in-run",
    practice: "P11",
    severity: Severity::Warning,
    hadolint: &["DL3004"],
    pod_security: None,
    doc: r#"
## What it does
Flags `sudo` in `RUN`.

## Why is this bad?
Build steps already run as the current `USER`; switch with `USER root` for the steps that need
it and back. `sudo` in an image means a setuid binary and a sudoers policy that the running
container keeps.

## When it does not apply
Only a command that runs `sudo` is flagged (`sudo apt-get …`, `/usr/bin/sudo …`): installing
the sudo package or writing a sudoers file is not. There is no exception by stage or by what the
image is for: every RUN of every stage is checked, since `USER root` does the same job in any of
them.

## Example
```dockerfile
RUN sudo apt-get update
```

Use instead:
```dockerfile
USER root
RUN apt-get update
USER 65532:65532
```

## References
- https://github.com/hadolint/hadolint/wiki/DL3004
"#,
    check: Check::Dockerfile(check),
};

fn check(ctx: &DockerfileCtx<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for i in ctx.df.instructions.iter().filter(|i| i.is(Keyword::Run)) {
        // Running sudo, not installing a package named sudo.
        if let Some(c) = run_commands(i).iter().find(|c| c.is("sudo")) {
            out.push(at_command(
                ctx,
                i,
                c,
                "`sudo` in a build step".into(),
                Some("use `USER root` for the steps that need it".into()),
            ));
        }
    }
    out
}
