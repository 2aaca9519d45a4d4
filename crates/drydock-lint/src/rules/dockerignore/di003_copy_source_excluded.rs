use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::rules::dockerfile::at_word;
use crate::view::DockerfileCtx;
use drydock_dockerfile::Keyword;

pub static RULE: Rule = Rule {
    code: "DI003",
    name: "copy-source-excluded",
    practice: "P3",
    severity: Severity::Error,
    hadolint: &[],
    pod_security: None,
    doc: r#"
## What it does
Flags a `COPY` or `ADD` whose source exists in the directory but is excluded by
`.dockerignore` (judged with Docker's own matching rules).

## Why is this bad?
The build fails with "not found", or a wildcard silently copies less than you think.

## When it does not apply
- Sources that are not plain paths in the context: wildcards (`*`, `?`, `[`), variables
  (`$VAR`), URLs, `.` (the whole context), `COPY --from`, heredocs.
- Sources that do not exist in the context folder: the rule judges only what `.dockerignore`
  hides, not a missing file.
- A Dockerfile whose build context lint cannot tell (as for DI002: read from stdin, or built
  from a folder lint does not guess).

## Example
```
# .dockerignore
config/
```
```dockerfile
COPY config/app.yaml /etc/app/
```

Use instead: re-include it (`!config/app.yaml`) or stop ignoring `config/`.

## References
- https://docs.docker.com/build/concepts/context/#dockerignore-files
"#,
    check: Check::Dockerfile(check),
};

fn check(ctx: &DockerfileCtx<'_>) -> Vec<Finding> {
    let Some(c) = ctx.context else { return vec![] };
    let mut out = Vec::new();
    for ins in &ctx.df.instructions {
        if !matches!(ins.kind(), Keyword::Copy | Keyword::Add)
            || ins.flags.iter().any(|f| f.starts_with("--from"))
            || !ins.heredocs.is_empty()
        {
            continue;
        }
        let v = ins.values();
        if v.len() < 2 {
            continue;
        }
        for src in &v[..v.len() - 1] {
            let rel = drydock_dockerignore::clean_path(src.trim_start_matches('/'));
            if rel == "." || rel.contains(['*', '?', '[', '$']) || src.contains("://") {
                continue;
            }
            if c.root.join(&rel).exists() && c.matcher.matched(&rel) {
                let line = c.matcher.decision(&rel).line.unwrap_or(0);
                out.push(at_word(ctx, ins, src, format!("`{src}` is excluded by .dockerignore (line {line}), so the build cannot see it"), Some(format!("re-include it with `!{rel}` in .dockerignore, or stop excluding it"))));
            }
        }
    }
    out
}
