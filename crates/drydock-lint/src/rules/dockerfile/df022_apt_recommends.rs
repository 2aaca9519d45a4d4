use super::{at_command, reaches_final, run_commands};
use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::DockerfileCtx;
use drydock_dockerfile::Keyword;

pub static RULE: Rule = Rule {
    code: "DF022",
    name: "apt-install-recommends",
    practice: "P2",
    severity: Severity::Info,
    hadolint: &["DL3015"],
    pod_security: None,
    doc: r#"
## What it does
Flags `apt-get install` without `--no-install-recommends`.

## Why is this bad?
Recommended packages are not dependencies: they roughly double what gets installed, and every
one is more to download, scan and patch.

## When it does not apply
- RUNs in stages whose layers do not reach the final image: a builder stage's extra packages
  never ship.
- The install refuses recommends on its own command line: `--no-install-recommends`, or an
  `APT::Install-Recommends` option (`-o APT::Install-Recommends=false`). A setting written to
  /etc/apt/apt.conf.d by an earlier RUN is not read. Dry runs (`-s`, `--simulate`) are not
  installs.

## Example
```dockerfile
RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*
```

Use instead:
```dockerfile
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
```

## References
- https://github.com/hadolint/hadolint/wiki/DL3015
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
        let install = cmds.iter().find(|c| {
            c.is_apt_install()
                && !c.has_flag(&["no-install-recommends"], &[])
                && !c
                    .words
                    .iter()
                    .any(|w| w.contains("APT::Install-Recommends"))
        });
        if let Some(c) = install {
            out.push(at_command(
                ctx,
                i,
                c,
                "`apt-get install` without `--no-install-recommends`".into(),
                Some("add `--no-install-recommends`".into()),
            ));
        }
    }
    out
}
