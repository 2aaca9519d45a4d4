use super::{at_command, run_commands};
use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::DockerfileCtx;
use drydock_dockerfile::Keyword;

pub static RULE: Rule = Rule {
    code: "DF021",
    name: "cd-instead-of-workdir",
    practice: "correctness",
    severity: Severity::Info,
    hadolint: &["DL3003"],
    pod_security: None,
    doc: r#"
## What it does
Flags a `RUN` that starts with `cd DIR && ...`.

## Why is this bad?
The directory change lasts for that one RUN only, which misleads readers of the next
instruction. `WORKDIR` says it once, for every instruction after it.

## When it does not apply
A RUN in exec form (JSON), a RUN whose only command is `cd` (nothing follows it), and a `cd`
that is not the RUN's first command (`git clone … && cd repo && make`). Every stage is
checked.

## Example
```dockerfile
RUN cd /src && make
```

Use instead:
```dockerfile
WORKDIR /src
RUN make
```

## References
- https://github.com/hadolint/hadolint/wiki/DL3003
"#,
    check: Check::Dockerfile(check),
};

fn check(ctx: &DockerfileCtx<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for i in ctx
        .df
        .instructions
        .iter()
        .filter(|i| i.is(Keyword::Run) && !i.json)
    {
        let cmds = run_commands(i);
        if cmds.len() > 1 && cmds[0].is("cd") {
            out.push(at_command(
                ctx,
                i,
                &cmds[0],
                "RUN starts with `cd`; the change lasts for this instruction only".into(),
                Some("use WORKDIR".into()),
            ));
        }
    }
    out
}
