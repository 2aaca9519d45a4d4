use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::ComposeCtx;
use crate::yaml::at;

pub static RULE: Rule = Rule {
    code: "CP007",
    name: "literal-secret-env",
    practice: "P12",
    severity: Severity::Error,
    hadolint: &[],
    pod_security: None,
    doc: r#"
## What it does
Flags an `environment` entry with a literal value for a variable whose name says it holds a secret (`*PASSWORD*`, `*SECRET*`, `*TOKEN*`, ...).

## Why is this bad?
The value sits in the Compose file, in version control and in `docker inspect`. Compose secrets mount it as a file instead.

## When it does not apply
- The value is no secret: a file path or name (`/run/secrets/db`, `kafka.pass`), a reference
  (`${DB_PASSWORD}`, `vault:…`), or the name only looks secret (`SECRET_LOCAL_HOSTNAME`); the
  same judgement as DF008 and KS008. An obvious placeholder (`changeme`) is an info note.
- The file is a test or CI stack: it lives in a folder named `test`, `tests`, `testing`, `e2e`,
  `ci` or `*_tests` (`integration_tests`), or
  its opening comments say it is for testing or development only ("do not use in production").
  Its credentials are the tests' own, which the test code must know: an info note, not an error.

## Example
```yaml
environment:
  API_TOKEN: s3cr3t
```

Use instead:
```yaml
environment:
  API_TOKEN_FILE: /run/secrets/api-token
secrets: [api-token]
```

## References
- https://docs.docker.com/reference/compose-file/services/
"#,
    check: Check::Compose(check),
};

fn check(ctx: &ComposeCtx<'_>) -> Vec<Finding> {
    use crate::rules::helpers::secret_finding;
    use crate::yaml::Value;
    use drydock_values::secret::{secret_literal, secret_problem};
    let mut out = Vec::new();
    for s in &ctx.services {
        let env = s.node.at("environment");
        let pairs: Vec<(String, &crate::yaml::Node, Option<String>)> = match &env.value {
            Value::Map(m) => m
                .iter()
                .map(|(k, v)| (k.text().unwrap_or_default(), v, v.text()))
                .collect(),
            Value::Seq(items) => items
                .iter()
                .filter_map(|i| i.as_str().map(|t| (i, t)))
                .map(|(i, t)| match t.split_once('=') {
                    Some((k, v)) => (k.to_string(), i, Some(v.to_string())),
                    None => (t.to_string(), i, None),
                })
                .collect(),
            _ => Vec::new(),
        };
        for (name, node, value) in pairs {
            let Some(value) = value else { continue };
            if let Some(kind) = secret_literal(&name, &value) {
                let f = at(
                    s.path,
                    node,
                    format!("service `{}`: {}", s.name, secret_problem(&name, kind)),
                    Some(
                        "use a Compose secret (a file) or pass it from the environment with ${VAR}"
                            .into(),
                    ),
                );
                // A test stack's credentials are the test's own: worth a note, not an error.
                let f = secret_finding(f, kind);
                out.push(if s.test_stack {
                    f.downgraded(crate::diagnostic::Severity::Info)
                } else {
                    f
                });
            }
        }
    }
    out
}
