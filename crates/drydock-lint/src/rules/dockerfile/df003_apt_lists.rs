use super::{at_command, reaches_final, run_commands};
use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::DockerfileCtx;
use drydock_dockerfile::Keyword;

pub static RULE: Rule = Rule {
    code: "DF003",
    name: "apt-lists-not-removed",
    practice: "P2",
    severity: Severity::Warning,
    hadolint: &["DL3009"],
    pod_security: None,
    doc: r#"
## What it does
Flags a `RUN` that installs with `apt-get install` (or `apt install`) but does not remove
`/var/lib/apt/lists` in the same instruction.

## Why is this bad?
The package lists are tens of megabytes. Removed in a later `RUN`, they still ship in the
earlier layer.

## Example
```dockerfile
RUN apt-get update && apt-get install -y curl
```

Use instead:
```dockerfile
RUN apt-get update && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/*
```

## References
- https://docs.docker.com/build/building/best-practices/#apt-get
"#,
    check: Check::Dockerfile(check),
};

fn check(ctx: &DockerfileCtx<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for (idx, i) in ctx.df.instructions.iter().enumerate() {
        // A builder stage's caches never reach the final image.
        if !i.is(Keyword::Run) || !reaches_final(ctx, idx) {
            continue;
        }
        let cmds = run_commands(i);
        // A cache mount keeps the lists out of the layer.
        if cmds.iter().any(|c| c.removes_apt_lists())
            || i.flags.iter().any(|f| f.contains("/var/lib/apt"))
        {
            continue;
        }
        if let Some(c) = cmds.iter().find(|c| c.is_apt_install()) {
            out.push(at_command(
                ctx,
                i,
                c,
                "packages are installed but /var/lib/apt/lists stays in the layer".into(),
                Some("end the same RUN with `&& rm -rf /var/lib/apt/lists/*`".into()),
            ));
        }
    }
    out
}
