use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::{Container, KubernetesCtx};
use crate::yaml::at;

pub static RULE: Rule = Rule {
    code: "KS009",
    name: "image-latest-or-untagged",
    practice: "P2",
    severity: Severity::Warning,
    hadolint: &[],
    pod_security: None,
    doc: r#"
## What it does
Flags a container image with no tag, or the `latest` tag, and no digest.

## Why is this bad?
Which image runs depends on when each node pulled it: two pods of one Deployment can run
different code, and a rollback cannot bring the old version back.

## When it does not apply
Images pinned by digest (`app@sha256:…`) and any tag other than `latest` (moving tags such as
`stable` are not judged). A port in the registry's address is not a tag (`registry:5000/app`
has none). Otherwise it always applies, to every container, init containers and one-shot jobs
included.

## Example
```yaml
image: registry.example.com/api
```

Use instead:
```yaml
image: registry.example.com/api@sha256:...   # or :1.4.2
```

## References
- https://kubernetes.io/docs/concepts/containers/images/#image-names
"#,
    check: Check::Kubernetes(check),
};

fn check(ctx: &KubernetesCtx<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for Container {
        object: o, node: c, ..
    } in ctx.containers()
    {
        let Some(img) = c.get("image") else { continue };
        let Some(s) = img.as_str() else { continue };
        if s.contains('@') {
            continue;
        }
        let last = s.rsplit('/').next().unwrap_or(s);
        match last.split_once(':').map(|(_, t)| t) {
            None => out.push(at(
                o.path,
                img,
                format!("image `{s}` has no tag, so it means `latest`"),
                Some("pin a version tag or a digest".into()),
            )),
            Some("latest") => out.push(at(
                o.path,
                img,
                format!("image `{s}` uses the `latest` tag"),
                Some("pin a version tag or a digest".into()),
            )),
            Some(_) => {}
        }
    }
    out
}
