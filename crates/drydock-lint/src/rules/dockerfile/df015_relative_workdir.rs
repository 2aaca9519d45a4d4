use super::at;
use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::DockerfileCtx;
use drydock_dockerfile::Keyword;

pub static RULE: Rule = Rule {
    code: "DF015",
    name: "relative-workdir",
    practice: "correctness",
    severity: Severity::Warning,
    hadolint: &["DL3000"],
    pod_security: None,
    doc: r#"
## What it does
Flags `WORKDIR` with a relative path.

## Why is this bad?
A relative WORKDIR depends on the previous one, which may come from the base image and change
with it.

## When it does not apply
After an absolute `WORKDIR` in the same stage (`WORKDIR /src` then `WORKDIR build`): the
relative one resolves against it, not against the base image. Paths that start with a variable
are not judged.

## Example
```dockerfile
WORKDIR app
```

Use instead:
```dockerfile
WORKDIR /app
```

## References
- https://docs.docker.com/reference/dockerfile/#workdir
"#,
    check: Check::Dockerfile(check),
};

fn check(ctx: &DockerfileCtx<'_>) -> Vec<Finding> {
    let relative = |p: &str| {
        let p = p.trim_matches('"');
        !p.starts_with('/') && !p.starts_with('$') && !(p.len() > 2 && p.as_bytes()[1] == b':')
    };
    let mut out = Vec::new();
    // After an absolute WORKDIR in the same stage, a relative one resolves against it: it no
    // longer depends on the base image.
    let mut anchored = false;
    for i in &ctx.df.instructions {
        if i.is(Keyword::From) {
            anchored = false;
        }
        if !i.is(Keyword::Workdir) {
            continue;
        }
        let Some(p) = i.values().first().cloned() else {
            continue;
        };
        if !relative(&p) {
            anchored = true;
        } else if !anchored {
            out.push(at(
                ctx,
                i,
                format!("WORKDIR `{}` is relative", i.values().join(" ")),
                Some(format!(
                    "use an absolute path, e.g. `WORKDIR /{}`",
                    i.values().join(" ").trim_matches('"')
                )),
            ));
        }
    }
    out
}
