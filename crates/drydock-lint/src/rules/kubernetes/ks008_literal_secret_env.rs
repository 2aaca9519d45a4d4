use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::rules::helpers::secret_finding;
use crate::view::{Container, KubernetesCtx};
use crate::yaml::at;
use drydock_values::secret::{secret_literal, secret_problem};

pub static RULE: Rule = Rule {
    code: "KS008",
    name: "literal-secret-in-env",
    practice: "P12",
    severity: Severity::Error,
    hadolint: &[],
    pod_security: None,
    doc: r#"
## What it does
Flags an `env` entry with a literal `value` for a variable whose name says it holds a secret
(`*PASSWORD*`, `*SECRET*`, `*TOKEN*`, `*API_KEY*`, ...). drydock's default stance is that
secrets come by reference (`valueFrom.secretKeyRef`). Checkov's CKV_K8S_35 takes the other one:
secrets only as mounted files, never in the environment. Set `secret_env = "files"` under
`[lint]` in drydock.toml (or `--secret-env files`) to take that stance: then every
`secretKeyRef` in `env` is flagged as well.

## Why is this bad?
The value sits in the manifest, in version control and in every `kubectl get -o yaml`.

## When it does not apply
- The value is not a literal secret, by the judgement DF008, KS008 and CP007 share: a
  reference (`$(DB_PASSWORD)`, `${VAR}`, `vault:…`), an empty value or a boolean, a file path
  or name (`/etc/secrets/db`, `tls.key`), or a name that only looks secret
  (`DB_PASSWORD_FILE`, `SECRET_NAME`). A URL with a password in it is flagged whatever the
  name; an obvious placeholder (`changeme`, `xxx`) is an info note.
- Entries given by `valueFrom` (`secretKeyRef`, `configMapKeyRef`) hold no literal; only with
  `secret_env = "files"` is a `secretKeyRef` flagged.

Every container is checked, init containers and one-shot jobs included.

## Example
```yaml
env:
- name: API_TOKEN
  value: s3cr3t
```

Use instead:
```yaml
env:
- name: API_TOKEN
  valueFrom: { secretKeyRef: { name: api, key: api-token } }
```

## References
- https://kubernetes.io/docs/concepts/configuration/secret/
"#,
    check: Check::Kubernetes(check),
};

fn check(ctx: &KubernetesCtx<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for Container {
        object: o, node: c, ..
    } in ctx.containers()
    {
        for e in c.at("env").seq() {
            let name = e.at("name").as_str().unwrap_or("");
            if let Some(v) = e.get("value") {
                let text = v.text().unwrap_or_default();
                if let Some(kind) = secret_literal(name, &text) {
                    let f = at(
                        o.path,
                        v,
                        format!(
                            "{} {}: {} in the manifest",
                            o.kind,
                            o.name,
                            secret_problem(name, kind)
                        ),
                        Some("use valueFrom.secretKeyRef".into()),
                    );
                    out.push(secret_finding(f, kind));
                }
            }
            if ctx.secret_env == crate::SecretEnvStance::Files {
                if let Some((k, _)) = e.at("valueFrom").entry("secretKeyRef") {
                    out.push(at(o.path, k, format!("{} {}: {name} takes a Secret through the environment (secret_env = \"files\")", o.kind, o.name), Some("mount the Secret as a volume and read the file".into())));
                }
            }
        }
    }
    out
}
