//! YAML with positions: every node keeps the line and column where it starts, so a finding can
//! point at the exact key or value (kube-score, kube-linter and Polaris cannot). Multi-document
//! files give one tree per document. Built on saphyr's marked loader.

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};

use crate::diagnostic::{Finding, Span};
use crate::error::LintError;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Keys in document order, each with its own position.
    Map(Vec<(Node, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// 1-based line and column.
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub value: Value,
}

static NULL: Node = Node {
    line: 0,
    column: 0,
    end_line: 0,
    end_column: 0,
    value: Value::Null,
};

impl Node {
    /// The value under `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The key node and the value under `key`.
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        match &self.value {
            Value::Map(m) => m
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(k, v)| (k, v)),
            _ => None,
        }
    }

    /// `get` that yields a null node when absent, for chaining.
    pub fn at(&self, key: &str) -> &Node {
        self.get(key).unwrap_or(&NULL)
    }

    pub fn as_str(&self) -> Option<&str> {
        if let Value::Str(s) = &self.value {
            Some(s)
        } else {
            None
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        if let Value::Bool(b) = self.value {
            Some(b)
        } else {
            None
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        if let Value::Int(i) = self.value {
            Some(i)
        } else {
            None
        }
    }

    pub fn seq(&self) -> &[Node] {
        if let Value::Seq(s) = &self.value {
            s
        } else {
            &[]
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// A scalar as text, whatever its type (`8080`, `true`, `"x"`).
    pub fn text(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct YamlError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Deeper nesting is refused: the tree is walked recursively, here and by the rules.
pub const MAX_DEPTH: usize = 512;

/// Parses every document of a YAML stream.
pub fn parse(text: &str) -> Result<Vec<Node>, YamlError> {
    check_depth(text)?;
    let docs = MarkedYaml::load_from_str(text).map_err(|e| YamlError {
        line: e.marker().line(),
        column: e.marker().col() + 1,
        message: e.info().to_string(),
    })?;
    Ok(docs.iter().map(convert).collect())
}

/// Block nesting needs indentation (or a `- `, `? `, `: ` prefix) per level, so text whose
/// lines never reach column 200 cannot nest past [`MAX_DEPTH`]; only deeper-looking text pays
/// for an exact count over the parser's events. (Flow nesting is limited by the parser itself.)
fn check_depth(text: &str) -> Result<(), YamlError> {
    let widest = text.lines().map(block_column).max().unwrap_or(0);
    if widest < 200 {
        return Ok(());
    }
    use saphyr_parser::{Event, Parser};
    let mut depth = 0usize;
    for ev in Parser::new_from_str(text) {
        match ev {
            Ok((Event::MappingStart(..) | Event::SequenceStart(..), span)) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(YamlError {
                        line: span.start.line(),
                        column: span.start.col() + 1,
                        message: format!("nesting deeper than {MAX_DEPTH} levels"),
                    });
                }
            }
            Ok((Event::MappingEnd | Event::SequenceEnd, _)) => depth = depth.saturating_sub(1),
            Ok(_) => {}
            // The loader reports syntax errors, with its own position.
            Err(_) => return Ok(()),
        }
    }
    Ok(())
}

/// The column a line's block content starts at, counting compact `- `/`? `/`: ` prefixes.
fn block_column(line: &str) -> usize {
    let b = line.as_bytes();
    let mut i = 0;
    loop {
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        if i + 1 < b.len() && matches!(b[i], b'-' | b'?' | b':') && b[i + 1] == b' ' {
            i += 2;
        } else {
            return i;
        }
    }
}

fn convert(y: &MarkedYaml<'_>) -> Node {
    let (s, e) = (y.span.start, y.span.end);
    let value = match &y.data {
        YamlData::Value(Scalar::Null) => Value::Null,
        YamlData::Value(Scalar::Boolean(b)) => Value::Bool(*b),
        YamlData::Value(Scalar::Integer(i)) => Value::Int(*i),
        YamlData::Value(Scalar::FloatingPoint(f)) => Value::Float(f.into_inner()),
        YamlData::Value(Scalar::String(s)) => Value::Str(s.to_string()),
        YamlData::Representation(s, _, _) => Value::Str(s.to_string()),
        YamlData::Sequence(items) => Value::Seq(items.iter().map(convert).collect()),
        YamlData::Mapping(m) => {
            Value::Map(m.iter().map(|(k, v)| (convert(k), convert(v))).collect())
        }
        YamlData::Tagged(_, inner) => return convert(inner),
        _ => Value::Null,
    };
    Node {
        line: s.line(),
        column: s.col() + 1,
        end_line: e.line(),
        end_column: e.col() + 1,
        value,
    }
}

/// One parsed YAML file.
pub struct YamlFile {
    pub path: String,
    pub docs: Vec<Node>,
}

pub fn parse_file(path: &str, text: &str) -> Result<YamlFile, LintError> {
    let docs = parse(text).map_err(|e| LintError::Yaml {
        path: path.to_string(),
        line: e.line,
        column: e.column,
        message: e.message,
    })?;
    Ok(YamlFile {
        path: path.to_string(),
        docs,
    })
}

/// A finding on a node (a key or a value).
pub fn at(path: &str, node: &Node, message: String, fix: Option<String>) -> Finding {
    let (end_line, end_column) = if node.end_line == node.line && node.end_column > node.column {
        (node.end_line, node.end_column)
    } else {
        (node.line, node.column + 1)
    };
    Finding {
        span: Span {
            line: node.line,
            column: node.column,
            end_line,
            end_column,
        },
        message,
        fix,
        path: Some(path.to_string()),
    }
}

/// A stable text for a node's value, ignoring positions (to compare two probes).
pub fn canonical(n: &Node) -> String {
    match &n.value {
        Value::Map(m) => {
            let mut items: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}={}", k.text().unwrap_or_default(), canonical(v)))
                .collect();
            items.sort();
            format!("{{{}}}", items.join(","))
        }
        Value::Seq(s) => format!(
            "[{}]",
            s.iter().map(canonical).collect::<Vec<_>>().join(",")
        ),
        _ => n.text().unwrap_or_default(),
    }
}

/// A label map (or selector) as owned pairs, to compare selectors with labels.
pub fn label_pairs(n: &Node) -> Vec<(String, String)> {
    match &n.value {
        Value::Map(m) => m
            .iter()
            .filter_map(|(k, v)| Some((k.text()?, v.text()?)))
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_of_keys_and_values() {
        let docs = parse("a: 1\nb:\n  c: [x, y]\n  d: \"q\"\n---\nkind: Pod\n").unwrap();
        assert_eq!(docs.len(), 2);
        let (k, v) = docs[0].at("b").entry("d").unwrap();
        assert_eq!((k.line, k.column, v.line, v.column), (4, 3, 4, 6));
        assert_eq!(v.as_str(), Some("q"));
        assert_eq!(docs[0].at("b").at("c").seq()[1].column, 10);
        assert_eq!(docs[1].at("kind").as_str(), Some("Pod"));
        assert_eq!(docs[0].at("a").as_i64(), Some(1));
        assert!(parse("a: [1, 2\n").is_err());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let mut block = String::new();
        for i in 0..3_000 {
            block.push_str(&" ".repeat(i));
            block.push_str("a:\n");
        }
        let e = parse(&block).unwrap_err();
        assert!(e.message.contains("nesting deeper than"), "{e}");
        let compact = format!("{}x\n", "- ".repeat(10_000));
        assert!(parse(&compact).unwrap_err().message.contains("nesting"));
        let flow = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(parse(&flow).is_err());
        // Deep indentation without deep nesting is fine.
        let scalar = format!("a: |\n{}text\n", " ".repeat(300));
        assert!(parse(&scalar).is_ok());
    }
}
