use super::{at_word, is_stage_ref};
use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::DockerfileCtx;

pub static RULE: Rule = Rule {
    code: "DF001",
    name: "unpinned-base-image",
    practice: "P2",
    severity: Severity::Warning,
    hadolint: &["DL3006", "DL3007"],
    pod_security: None,
    doc: r#"
## What it does
Flags a `FROM` whose image has no tag, or the `latest` tag, after expanding ARG defaults (so
`FROM ${BASE}` with `ARG BASE=alpine:3.20` is judged by `alpine:3.20`).

## Why is this bad?
`latest` moves: the same Dockerfile builds a different image next week, and a rebuild can pick up
a breaking base change without any change in your repository. Pin a version tag, or a digest.

## When it does not apply
`scratch`, an earlier stage, a digest (`@sha256:…`), and a tag written as a build argument
(`FROM node:${NODE_VERSION}`), whatever its default: the build sets it. A whole reference from a
build argument (`FROM ${BASE_IMAGE}`) is judged by its default when it has one, as written when
it has none (`gcr.io/${PROJECT}/app` has no tag).

## Example
```dockerfile
FROM alpine
```

Use instead:
```dockerfile
FROM alpine:3.20
```

## References
- https://docs.docker.com/build/building/best-practices/#from
"#,
    check: Check::Dockerfile(check),
};

fn check(ctx: &DockerfileCtx<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for s in &ctx.stages {
        // A base given by `--build-arg` is judged as written: `gcr.io/${PROJECT}/app` has no tag
        // whatever the project, `node:${NODE_VERSION}` has one.
        // A tag written as a build argument (`node:${NODE_VERSION}`) is set by the build, whatever
        // its default (often `latest`, for builds that always pass it).
        let raw_last = s.base_raw.rsplit('/').next().unwrap_or(&s.base_raw);
        if raw_last
            .split_once(':')
            .is_some_and(|(_, tag)| tag.contains('$'))
        {
            continue;
        }
        let base = if s.unresolved {
            let last = s.base_raw.rsplit('/').next().unwrap_or(&s.base_raw);
            if last.contains('$') || last.contains(':') || s.base_raw.contains('@') {
                continue;
            }
            s.base_raw.as_str()
        } else {
            s.base.as_str()
        };
        if base.is_empty()
            || base.eq_ignore_ascii_case("scratch")
            || base.contains('@')
            || is_stage_ref(ctx, base)
        {
            continue;
        }
        let last = base.rsplit('/').next().unwrap_or(base);
        let tag = last.split_once(':').map(|(_, t)| t);
        let problem = match tag {
            None => "has no tag, so it means `latest`",
            Some("latest") => "uses the `latest` tag",
            Some(_) => continue,
        };
        let ins = &ctx.df.instructions[s.from];
        out.push(at_word(
            ctx,
            ins,
            &s.base_raw,
            format!("base image `{base}` {problem}"),
            Some(format!(
                "pin a version: `FROM {}:<version>` (or a digest)",
                base.split(':').next().unwrap_or(base)
            )),
        ));
    }
    out
}
