use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::yaml::{at, YamlFile};

pub static RULE: Rule = Rule {
    code: "YM001",
    name: "duplicate-key",
    practice: "correctness",
    severity: Severity::Warning,
    hadolint: &[],
    pod_security: None,
    doc: r#"
## What it does
Flags a key given twice in one YAML mapping. kubectl and docker compose keep the last value and
say nothing (go-yaml v3 itself refuses the file); drydock reads the file as they do, keeping the
last value, and points at the duplicate.

## Why is this bad?
The first value is silently thrown away: a reviewer reading the first `resources:` or `env:`
sees settings that never reach the cluster.

## When it does not apply
Always applies to every Kubernetes manifest and Compose file drydock reads (templates and
other YAML are not read): the first value of a repeated key never takes effect. Keys that a
merge key (`<<: *base`) brings in and the mapping sets itself are not duplicates (the mapping's
own value wins, as in go-yaml); two `<<` keys in one mapping are. Keys are compared by their
text, as kubectl compares them (`1` and `"1"` are one key).

## Example
```yaml
resources:
  limits: { memory: 256Mi }
resources:
  requests: { cpu: 100m }
```

Use instead:
```yaml
resources:
  limits: { memory: 256Mi }
  requests: { cpu: 100m }
```

## References
- https://yaml.org/spec/1.2.2/#mapping (keys of a mapping are unique)
"#,
    check: Check::Yaml(check),
};

fn check(file: &YamlFile) -> Vec<Finding> {
    file.duplicates
        .iter()
        .map(|d| {
            let key = d.key.text().unwrap_or_default();
            at(
                &file.path,
                &d.key,
                format!(
                    "key `{key}` is given again (first on line {}); only this value is used",
                    d.first_line
                ),
                Some("merge the two entries into one".into()),
            )
        })
        .collect()
}
