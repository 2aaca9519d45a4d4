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
Flags a `RUN` that downloads package lists with `apt-get update` (or `apt update`) but does not
remove `/var/lib/apt/lists` in the same instruction; the finding points at its `apt-get install`
when it has one.

## Why is this bad?
The package lists are tens of megabytes. Removed in a later `RUN`, they still ship in the
earlier layer.

## When it does not apply
- A RUN that installs without `apt-get update` after an earlier RUN that ran it (or ran a
  script, which may have): it uses the lists that layer downloaded and adds none to its own; the
  earlier RUN is the one flagged.
- Stages whose layers do not reach the final image, RUNs that keep the lists out of the layer
  with a cache mount on /var/lib/apt, and RUNs that run a script after the download (a `*.sh`
  or a `*clean*` program: `&& /scripts/cleanup.sh`), which may remove them.

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
    // Whether an earlier RUN of the build could have downloaded the lists.
    let mut lists_from_earlier = false;
    for (idx, i) in ctx.df.instructions.iter().enumerate() {
        // A builder stage's caches never reach the final image.
        if !i.is(Keyword::Run) || !reaches_final(ctx, idx) {
            continue;
        }
        let cmds = run_commands(i);
        let earlier = lists_from_earlier;
        lists_from_earlier = lists_from_earlier
            || cmds
                .iter()
                .any(|c| c.updates_apt_lists() || c.words.iter().any(|w| w.ends_with(".sh")));
        // A cache mount keeps the lists out of the layer. A script run after the download
        // (`&& /scripts/cleanup.sh`) may remove them: what it does is not in the Dockerfile.
        let download = cmds
            .iter()
            .position(|c| c.updates_apt_lists() || c.is_apt_install());
        let script_after = download.is_some_and(|at| {
            cmds[at + 1..].iter().any(|c| {
                c.words.first().is_some_and(|w| {
                    let name = w.rsplit('/').next().unwrap_or(w);
                    name.ends_with(".sh") || name.contains("clean")
                })
            })
        });
        if script_after
            || cmds.iter().any(|c| c.removes_apt_lists())
            || i.flags.iter().any(|f| f.contains("/var/lib/apt"))
        {
            continue;
        }
        // The lists are written by `apt-get update`. A RUN that installs without it uses lists
        // an earlier layer downloaded (an earlier `apt-get update`, or a script that ran one) and
        // adds none to its own: that earlier RUN is the one to flag.
        let fix = Some("end the same RUN with `&& rm -rf /var/lib/apt/lists/*`".into());
        let update = cmds.iter().find(|c| c.updates_apt_lists());
        match cmds.iter().find(|c| c.is_apt_install()) {
            Some(c) if update.is_some() || !earlier => out.push(at_command(
                ctx,
                i,
                c,
                "packages are installed but /var/lib/apt/lists stays in the layer".into(),
                fix,
            )),
            Some(_) => {}
            None => {
                if let Some(u) = update {
                    out.push(at_command(
                        ctx,
                        i,
                        u,
                        "`apt-get update` downloads package lists that stay in the layer".into(),
                        fix,
                    ))
                }
            }
        }
    }
    out
}
