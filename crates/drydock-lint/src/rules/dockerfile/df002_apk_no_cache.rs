use super::{at_command, reaches_final, run_commands};
use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::DockerfileCtx;
use drydock_dockerfile::Keyword;

pub static RULE: Rule = Rule {
    code: "DF002",
    name: "apk-add-without-no-cache",
    practice: "P2",
    severity: Severity::Warning,
    hadolint: &["DL3019"],
    pod_security: None,
    doc: r#"
## What it does
Flags `apk add` without `--no-cache`.

## Why is this bad?
Without it, apk keeps its package index in `/var/cache/apk` and the layer ships it: megabytes
that the running container never uses.

## When it does not apply
- The same RUN empties the cache (`rm -rf /var/cache/apk/*`, `rm -rf /var/cache/apk`,
  `apk cache clean`), or mounts a cache at /var/cache/apk: nothing stays in the layer.
- `apk add --no-network`, which fetches no index.
- A stage the final image is not built FROM: its layers never ship.

## Example
```dockerfile
RUN apk add ca-certificates
```

Use instead:
```dockerfile
RUN apk add --no-cache ca-certificates
```

## References
- https://github.com/hadolint/hadolint/wiki/DL3019
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
        if cmds.iter().any(|c| c.removes_apk_cache())
            || i.flags.iter().any(|f| f.contains("/var/cache/apk"))
        {
            continue;
        }
        let add = cmds.iter().find(|c| {
            let c = c.unwrapped();
            // --no-network fetches no index, so there is none to leave behind.
            c.has_args("apk", "add") && !c.has_flag(&["no-cache", "no-network"], &[])
        });
        if let Some(c) = add {
            out.push(at_command(
                ctx,
                i,
                c,
                "`apk add` without `--no-cache` leaves the package index in the layer".into(),
                Some("use `apk add --no-cache ...`".into()),
            ));
        }
    }
    out
}
