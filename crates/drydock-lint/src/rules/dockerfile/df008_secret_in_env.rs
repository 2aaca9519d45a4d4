use super::at_word;
use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::rules::helpers::secret_finding;
use crate::view::DockerfileCtx;
use drydock_dockerfile::parser::Arg;
use drydock_dockerfile::Keyword;
use drydock_values::secret::{secret_literal, secret_problem};

pub static RULE: Rule = Rule {
    code: "DF008",
    name: "secret-in-env-or-arg",
    practice: "P12",
    severity: Severity::Error,
    hadolint: &[],
    pod_security: None,
    doc: r#"
## What it does
Flags `ENV` and `ARG` that give a literal value to a variable whose name says it holds a secret
(`*PASSWORD*`, `*SECRET*`, `*TOKEN*`, `*API_KEY*`, `*PRIVATE_KEY*`, `*CREDENTIALS*`).

## Why is this bad?
ENV values are stored in the image config and ARG values in its history: anyone who can pull
the image can read them, forever, whatever later layers do.

## When it does not apply
- The value is not a literal secret, by the judgement DF008, KS008 and CP007 share: a
  reference (`$VAR`, `${VAR}`, `$(cat file)`, `vault:…`, `arn:aws:secretsmanager:…`), an empty
  value or a boolean, a file path or name (`/run/secrets/db`, `key.json`), or a name that only
  looks secret (`DB_PASSWORD_FILE`, `SECRET_NAME`, `MAX_TOTAL_TOKENS`). A URL with a password in
  it is flagged whatever the name; an obvious placeholder (`changeme`, `xxx`) is an info note.
- `ARG NAME` without a default: its value comes with `--build-arg`, not from the file.

Every stage is checked, builder stages included: the file itself holds the value.

## Example
```dockerfile
ENV API_TOKEN=s3cr3t
```

Use instead:
```dockerfile
# Pass it at run time: docker run -e API_TOKEN, a Kubernetes secretKeyRef,
# or a BuildKit secret mount for build-time use:
RUN --mount=type=secret,id=api_token ./fetch-deps
```

## References
- https://docs.docker.com/build/building/secrets/
"#,
    check: Check::Dockerfile(check),
};

fn check(ctx: &DockerfileCtx<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for ins in &ctx.df.instructions {
        let vals: Vec<&str> = ins
            .args
            .iter()
            .filter_map(|a| {
                if let Arg::Value(v) = a {
                    Some(v.as_str())
                } else {
                    None
                }
            })
            .collect();
        let pairs: Vec<(&str, &str)> = match ins.kind() {
            Keyword::Env => vals
                .chunks(3)
                .filter(|c| c.len() == 3)
                .map(|c| (c[0], c[1]))
                .collect(),
            Keyword::Arg => vals.iter().filter_map(|v| v.split_once('=')).collect(),
            _ => continue,
        };
        for (k, v) in pairs {
            if let Some(kind) = secret_literal(k, v) {
                let problem = secret_problem(k, kind);
                let f = at_word(ctx, ins, k, format!("{} {problem}: it is readable by anyone who can pull the image", ins.kind()), Some("pass it at run time (docker run -e, Kubernetes secretKeyRef) or use a BuildKit secret mount".into()));
                out.push(secret_finding(f, kind));
            }
        }
    }
    out
}
