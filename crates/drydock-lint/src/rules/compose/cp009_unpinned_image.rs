use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::ComposeCtx;
use crate::yaml::at;

pub static RULE: Rule = Rule {
    code: "CP009",
    name: "unpinned-image",
    practice: "P2",
    severity: Severity::Warning,
    hadolint: &[],
    pod_security: None,
    doc: r#"
## What it does
Flags a service whose `image:` has no tag, or the `latest` tag, and no digest: the image Compose
pulls. (DF001 does the same for a Dockerfile's `FROM`, KS009 for a Kubernetes container.)

## Why is this bad?
`latest` moves: `docker compose pull` next week runs different code from the same file, two
hosts running one file can run different versions, and going back to the version that worked
means finding out which one it was.

## When it does not apply
- Services with `build:`: their `image:` names the image Compose builds and tags, not one it
  pulls; nor do other services of the file that run that same image.
- Digest-pinned images (`redis@sha256:…`, `redis:7.4@sha256:…`) and any version tag
  (`redis:7.4`, `nginx:1.27-alpine`; moving tags other than `latest`, such as `stable`, are
  not judged).
- Tags or whole images given by a variable (`nats:${NATS_VERSION}`, `${IMAGE}`): the file lets
  whoever runs it choose.

## Example
```yaml
services:
  cache:
    image: redis
```

Use instead:
```yaml
services:
  cache:
    image: redis:7.4-alpine   # or redis@sha256:…
```

## References
- https://docs.docker.com/reference/compose-file/services/#image
"#,
    check: Check::Compose(check),
};

fn check(ctx: &ComposeCtx<'_>) -> Vec<Finding> {
    // Images some service of the same file builds: the others that name them run that build.
    let built: Vec<(&str, &str)> = ctx
        .services
        .iter()
        .filter(|s| s.node.get("build").is_some())
        .filter_map(|s| Some((s.path, s.node.at("image").as_str()?.trim())))
        .collect();
    let mut out = Vec::new();
    for s in &ctx.services {
        if s.node.get("build").is_some() {
            continue;
        }
        let Some(node) = s.node.get("image") else {
            continue;
        };
        let Some(image) = node.as_str().map(str::trim) else {
            continue;
        };
        if built.contains(&(s.path, image)) {
            continue;
        }
        let problem = match tag(image) {
            Tag::None => "has no tag, so it means `latest`",
            Tag::Latest => "uses the `latest` tag",
            Tag::Pinned | Tag::Variable => continue,
        };
        out.push(at(
            s.path,
            node,
            format!("service `{}`: image `{image}` {problem}", s.name),
            Some(format!(
                "pin a version: `{}:<version>` (or a digest)",
                name_part(image)
            )),
        ));
    }
    out
}

enum Tag {
    None,
    Latest,
    Pinned,
    Variable,
}

/// The tag of an image reference, past a registry's `host:port/`.
fn tag(image: &str) -> Tag {
    if image.is_empty() || image.contains('@') {
        return Tag::Pinned;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        _ if last.starts_with('$') && !last.contains(':') => Tag::Variable,
        Some((_, t)) if t.contains('$') => Tag::Variable,
        Some((_, "latest")) => Tag::Latest,
        Some(_) => Tag::Pinned,
        None if last.contains('$') => Tag::Variable,
        None => Tag::None,
    }
}

fn name_part(image: &str) -> &str {
    let slash = image.rfind('/').map(|i| i + 1).unwrap_or(0);
    match image[slash..].find(':') {
        Some(i) => &image[..slash + i],
        None => image,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags() {
        assert!(matches!(tag("redis"), Tag::None));
        assert!(matches!(tag("redis:latest"), Tag::Latest));
        assert!(matches!(tag("localhost:5000/app"), Tag::None));
        assert!(matches!(tag("localhost:5000/app:1.2"), Tag::Pinned));
        assert!(matches!(tag("redis@sha256:abc"), Tag::Pinned));
        assert!(matches!(tag("nats:${V}"), Tag::Variable));
        assert!(matches!(tag("${IMAGE}"), Tag::Variable));
        assert!(matches!(tag("${REGISTRY}/app"), Tag::None));
        assert_eq!(name_part("localhost:5000/app:latest"), "localhost:5000/app");
    }
}
