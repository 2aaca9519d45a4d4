use super::{at, reaches_final, run_commands};
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
    ctx.df
        .instructions
        .iter()
        .enumerate()
        // A builder stage's caches never reach the final image.
        .filter(|(idx, i)| i.is(Keyword::Run) && reaches_final(ctx, *idx))
        .map(|(_, i)| i)
        .filter(|i| {
            let cmds = run_commands(i);
            cmds.iter().any(|c| c.is_apt_install())
                && !cmds.iter().any(|c| c.removes_apt_lists())
                // A cache mount keeps the lists out of the layer.
                && !i.flags.iter().any(|f| f.contains("/var/lib/apt"))
        })
        .map(|i| {
            at(
                ctx,
                i,
                "packages are installed but /var/lib/apt/lists stays in the layer".into(),
                Some("end the same RUN with `&& rm -rf /var/lib/apt/lists/*`".into()),
            )
        })
        .collect()
}
