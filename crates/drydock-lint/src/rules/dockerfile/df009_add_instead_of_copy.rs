use super::at;
use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::DockerfileCtx;
use drydock_dockerfile::Keyword;

pub static RULE: Rule = Rule {
    code: "DF009",
    name: "add-instead-of-copy",
    practice: "P1",
    severity: Severity::Warning,
    hadolint: &["DL3020"],
    pod_security: None,
    doc: r#"
## What it does
Flags `ADD` of local files that are not archives.

## Why is this bad?
`ADD` also fetches URLs and unpacks archives, so what it does depends on what the source turns
out to be. `COPY` does one thing: it copies.

## When it does not apply
`ADD` of an archive (which ADD unpacks), of a URL or a git repository (which ADD fetches), of a
heredoc, and of a `$VAR` source whose ARG or ENV value is a URL or an archive, or which has no
value in the file (given by `--build-arg`, so unknown here).

## Example
```dockerfile
ADD config.yaml /etc/app/
```

Use instead:
```dockerfile
COPY config.yaml /etc/app/
```

## References
- https://docs.docker.com/build/building/best-practices/#add-or-copy
"#,
    check: Check::Dockerfile(check),
};

fn check(ctx: &DockerfileCtx<'_>) -> Vec<Finding> {
    let archive = |s: &str| {
        [
            ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar.zst", ".txz",
        ]
        .iter()
        .any(|e| s.ends_with(e))
    };
    let remote = |s: &str| s.contains("://") || s.starts_with("git@");
    ctx.df
        .instructions
        .iter()
        .enumerate()
        .filter(|(_, i)| i.is(Keyword::Add) && i.heredocs.is_empty())
        .filter(|(idx, i)| {
            let v = i.values();
            v.len() >= 2
                && v[..v.len() - 1].iter().all(|s| {
                    let value = ctx.expand_at(*idx, s);
                    // A source that is only a variable with no value here is unknown.
                    let unknown = s.contains('$') && value.trim_matches('"').is_empty();
                    !unknown && !archive(&value) && !remote(&value)
                })
        })
        .map(|(_, i)| {
            at(
                ctx,
                i,
                "ADD copies local files here: COPY says exactly that".into(),
                Some("use COPY".into()),
            )
        })
        .collect()
}
