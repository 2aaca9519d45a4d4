//! The YAML writer of the Compose and Swarm files: serde_yaml_ng's block layout and quoting,
//! and one rule more. serde_yaml_ng quotes a string that YAML 1.2 would read as another type
//! (`'8080'`, `'true'`), but not `65532:65532`, which YAML 1.1 parsers (PyYAML, so
//! docker-compose v1) read as a base-60 integer; and serde_yaml_ng cannot be asked to quote a
//! string. So the document is laid out here, from serde_yaml_ng's [`Value`], with every scalar
//! rendered by serde_yaml_ng, and a string value YAML 1.1 would read as sexagesimal quoted.

use serde::Serialize;
use serde_yaml_ng::{Mapping, Value};

/// The order of each mapping's keys.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Keys {
    /// As the types declare their fields (and maps hold their keys).
    Declared,
    /// Alphabetical, at every level.
    Sorted,
}

/// `value` as a YAML document, laid out as serde_yaml_ng lays it out.
pub fn to_string<T: Serialize>(value: &T, keys: Keys) -> Result<String, serde_yaml_ng::Error> {
    let value = serde_yaml_ng::to_value(value)?;
    let mut w = Writer {
        out: String::new(),
        keys,
    };
    match &value {
        Value::Mapping(m) if !m.is_empty() => w.mapping(m, 0, false)?,
        Value::Sequence(s) if !s.is_empty() => w.sequence(s, 0, false)?,
        _ => w.out = serde_yaml_ng::to_string(&value)?,
    }
    Ok(w.out)
}

/// Whether YAML 1.1 reads `v`, unquoted, as a base-60 integer (`1:30`, `65532:65532`).
fn is_sexagesimal(v: &str) -> bool {
    v.contains(':')
        && v.split(':')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

fn error(message: &str) -> serde_yaml_ng::Error {
    <serde_yaml_ng::Error as serde::ser::Error>::custom(message)
}

struct Writer {
    out: String,
    keys: Keys,
}

impl Writer {
    fn indent(&mut self, n: usize) {
        self.out.extend(std::iter::repeat_n(' ', n));
    }

    /// The entries of `m` at column `indent`; `inline` when the first one continues the
    /// current line (after a sequence's `- `).
    fn mapping(
        &mut self,
        m: &Mapping,
        indent: usize,
        mut inline: bool,
    ) -> Result<(), serde_yaml_ng::Error> {
        let mut entries: Vec<(&Value, &Value)> = m.iter().collect();
        if self.keys == Keys::Sorted {
            entries.sort_by(|a, b| a.0.as_str().cmp(&b.0.as_str()));
        }
        for (k, v) in entries {
            if !std::mem::take(&mut inline) {
                self.indent(indent);
            }
            if matches!(k, Value::Mapping(_) | Value::Sequence(_) | Value::Tagged(_)) {
                return Err(error("a key that is not a scalar"));
            }
            let key = serde_yaml_ng::to_string(k)?;
            let key = key.strip_suffix('\n').unwrap_or(&key);
            if key.contains('\n') {
                return Err(error("a key of several lines"));
            }
            self.out.push_str(key);
            self.out.push(':');
            self.value(v, indent, true)?;
        }
        Ok(())
    }

    /// The items of `s` at column `indent`; `inline` as for [`Writer::mapping`].
    fn sequence(
        &mut self,
        s: &[Value],
        indent: usize,
        mut inline: bool,
    ) -> Result<(), serde_yaml_ng::Error> {
        for item in s {
            if !std::mem::take(&mut inline) {
                self.indent(indent);
            }
            self.out.push('-');
            self.value(item, indent, false)?;
        }
        Ok(())
    }

    /// What follows `key:` (`in_mapping`) or `-` at column `indent`, to the end of its lines.
    fn value(
        &mut self,
        v: &Value,
        indent: usize,
        in_mapping: bool,
    ) -> Result<(), serde_yaml_ng::Error> {
        match v {
            Value::Mapping(m) if !m.is_empty() => {
                if in_mapping {
                    self.out.push('\n');
                    self.mapping(m, indent + 2, false)
                } else {
                    self.out.push(' ');
                    self.mapping(m, indent + 2, true)
                }
            }
            // A sequence in a mapping is not indented further than its key.
            Value::Sequence(s) if !s.is_empty() => {
                if in_mapping {
                    self.out.push('\n');
                    self.sequence(s, indent, false)
                } else {
                    self.out.push(' ');
                    self.sequence(s, indent + 2, true)
                }
            }
            _ => {
                let text = serde_yaml_ng::to_string(v)?;
                self.out.push(' ');
                match v {
                    Value::String(s) if text.strip_suffix('\n') == Some(s) && is_sexagesimal(s) => {
                        self.out.push_str(&format!("'{s}'\n"));
                    }
                    _ => {
                        // A block scalar's lines are indented one step more than its key or
                        // dash; serde_yaml_ng renders them one step from column 0.
                        let mut lines = text.split_inclusive('\n');
                        self.out.push_str(lines.next().unwrap_or("\n"));
                        for line in lines {
                            if line != "\n" {
                                self.indent(indent);
                            }
                            self.out.push_str(line);
                        }
                    }
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(y: &str) -> Value {
        serde_yaml_ng::from_str(y).unwrap()
    }

    /// Without a sexagesimal value, the layout is serde_yaml_ng's own, byte for byte.
    #[test]
    fn lays_out_as_serde_yaml_ng() {
        let docs = [
            "a: 1\nb: [x, 'y z', '', '8080', true, null, 0.5, -3]\n",
            "outer:\n  k: \"multi\\nline\"\n  trail: \"a\\n\\nb\\n\"\n  lead: \" x\\ny\"\n  e: []\n  m: {}\n  seq:\n  - \"multi\\nline\"\n  - [1, [2, 3], {a: 1}]\n  - {a: 1, b: [3], c: {d: null}}\n  'a b: c': true\n  '1:2': x\n",
            "- a\n- [b, c]\n- {d: e, f: [g]}\n",
            "s: \"tab\\there\"\nq: \"'q'\"\nh: '#x'\nu: é\n",
            "just a string\n",
        ];
        for d in docs {
            let v = parse(d);
            assert_eq!(
                to_string(&v, Keys::Declared).unwrap(),
                serde_yaml_ng::to_string(&v).unwrap(),
                "{d}"
            );
        }
    }

    #[test]
    fn sexagesimal_values_are_quoted() {
        let v = parse("a:\n  user: 65532:65532\n  ports:\n  - 8080:80\n  - ${X:-1}:2\n  name: app\n  text: \"1:2\\n- 3:4\"\n");
        assert_eq!(
            to_string(&v, Keys::Declared).unwrap(),
            "a:\n  user: '65532:65532'\n  ports:\n  - '8080:80'\n  - ${X:-1}:2\n  name: app\n  text: |-\n    1:2\n    - 3:4\n"
        );
    }

    #[test]
    fn sorted_keys_at_every_level() {
        let v = parse("b: {d: 1, c: [{f: 1, e: 2}]}\na: 1\n");
        assert_eq!(
            to_string(&v, Keys::Sorted).unwrap(),
            "a: 1\nb:\n  c:\n  - e: 2\n    f: 1\n  d: 1\n"
        );
    }
}
