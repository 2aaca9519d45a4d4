use super::file_start;
use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::DockerfileCtx;
use drydock_dockerignore::context::{looks_like_secret, EntryKind};
use drydock_values::units::human_bytes as human;

pub static RULE: Rule = Rule {
    code: "DI002",
    name: "context-ships-unwanted-files",
    practice: "P3",
    severity: Severity::Warning,
    hadolint: &[],
    pod_security: None,
    doc: r#"
## What it does
Flags a build context (after `.dockerignore`) that still holds version control (`.git`),
dependency folders (`node_modules`), build outputs (`target/`, `dist/`, `bin/`), or files that
look like secrets (`.env*`, `*.pem`, `*.key`, `id_rsa*`, credential files). The message gives
the context's size and its largest entries.

## Why is this bad?
They are uploaded on every build, they break the cache when they change, and `COPY . .` puts them
in a layer, where secrets stay readable forever.

## When it does not apply
- What `.dockerignore` already leaves out: the rule sees the context as `docker build` sends it.
- Folders below the context's top (`web/node_modules`): only a top-level `.git`,
  `node_modules`, `target`, `dist`, `bin`, `.venv`, `__pycache__` or `.terraform` is judged.
  Secret-looking files are judged anywhere in the context.
- A Dockerfile whose build context lint cannot tell: read from stdin, or one whose COPY sources
  are neither in its own folder nor in its drydock project's root, when no Compose `build:`
  names its context.

## Example
```
# .dockerignore
*.log
```

Use instead:
```
# .dockerignore
*.log
.git
.env*
*.key
target/
```

## References
- https://docs.docker.com/build/concepts/context/#dockerignore-files
"#,
    check: Check::Dockerfile(check),
};

const UNWANTED_DIRS: &[&str] = &[
    ".git",
    "node_modules",
    "target",
    "dist",
    "bin",
    ".venv",
    "__pycache__",
    ".terraform",
];

fn check(ctx: &DockerfileCtx<'_>) -> Vec<Finding> {
    let Some(c) = ctx.context else { return vec![] };
    let top = |p: &str| p.split('/').next().unwrap_or(p).to_string();
    let mut found: Vec<String> = Vec::new();
    for d in UNWANTED_DIRS {
        if c.entries
            .iter()
            .any(|e| e.path == *d && e.kind == EntryKind::Dir)
        {
            found.push(format!("{d}/"));
        }
    }
    // Secret-looking files: the context's own filter moved them aside, but docker build would send them.
    let secrets: Vec<&String> = c
        .secrets_excluded
        .iter()
        .chain(c.secrets_allowed.iter())
        .filter(|p| looks_like_secret(p))
        .collect();
    found.extend(secrets.iter().map(|s| s.to_string()));
    if found.is_empty() {
        return vec![];
    }
    // The largest top-level entries, for the message.
    let mut sizes: std::collections::BTreeMap<String, u64> = Default::default();
    for e in &c.entries {
        if let EntryKind::File { size, .. } = e.kind {
            *sizes.entry(top(&e.path)).or_default() += size;
        }
    }
    let mut largest: Vec<(String, u64)> = sizes.into_iter().collect();
    largest.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let largest: Vec<String> = largest
        .iter()
        .take(3)
        .map(|(p, s)| format!("{p} {}", human(*s)))
        .collect();
    vec![file_start(
        format!(
            "the build context sends {}: {} in total; largest: {}",
            found.join(", "),
            human(c.total_size()),
            largest.join(", ")
        ),
        Some(format!("add to .dockerignore: {}", found.join(" "))),
    )]
}
