//! Compose files as `docker compose` combines them. In one folder, the base file (`compose.yaml`,
//! `compose.yml`, `docker-compose.yaml` or `docker-compose.yml`) is read with its override
//! (`compose.override.yaml`, …) on top, as `docker compose up` reads them without `-f`; every
//! other `compose.<name>.yaml` or `docker-compose.<name>.yml` there is read on top of the base, as
//! `-f compose.yaml -f compose.<name>.yaml` reads it. The rules then judge what would run: a
//! healthcheck the override adds is there, a port it publishes is reported in its own file.
//!
//! Merging follows the Compose specification's merge rules: mappings merge key by key and the
//! later file's scalars win; `command`, `entrypoint` and `healthcheck.test` are replaced;
//! `environment` and `labels` lists merge by variable name; other sequences (`ports`, `volumes`,
//! `expose`, …) are appended, an item already there not twice.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use crate::yaml::{canonical, Node, Value, YamlFile};

const BASES: &[&str] = &[
    "compose.yaml",
    "compose.yml",
    "docker-compose.yaml",
    "docker-compose.yml",
];

/// The files to lint together: each base merged with its override, and with each other variant
/// of its folder; files with no base in their folder stand alone.
pub fn combine(files: Vec<YamlFile>) -> Vec<YamlFile> {
    let mut by_dir: BTreeMap<String, Vec<YamlFile>> = BTreeMap::new();
    for f in files {
        let dir = Path::new(&f.path)
            .parent()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        by_dir.entry(dir).or_default().push(f);
    }
    let mut out = Vec::new();
    for (_, mut group) in by_dir {
        let base_at = BASES
            .iter()
            .find_map(|b| group.iter().position(|f| file_name(&f.path) == *b));
        let Some(base_at) = base_at else {
            out.extend(group);
            continue;
        };
        let base = group.remove(base_at);
        if group.is_empty() {
            out.push(base);
            continue;
        }
        // The override, if any, is what `docker compose up` applies; each other file is a
        // `-f` variant of the same base.
        for over in &group {
            out.push(merge_files(&base, over));
        }
        if !group.iter().any(|f| is_override(&f.path)) {
            out.push(base);
        }
    }
    out
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn is_override(path: &str) -> bool {
    let n = file_name(path);
    n.starts_with("compose.override.") || n.starts_with("docker-compose.override.")
}

/// `base` with `over` applied on top; nodes from `over` remember their file.
pub fn merge_files(base: &YamlFile, over: &YamlFile) -> YamlFile {
    let over_path: Arc<str> = Arc::from(over.path.as_str());
    let docs = match (base.docs.first(), over.docs.first()) {
        (Some(b), Some(o)) => vec![merge(b, o, &over_path, "")],
        (Some(b), None) => vec![b.clone()],
        (None, Some(o)) => vec![stamp(o, &over_path)],
        (None, None) => Vec::new(),
    };
    let mut duplicates = base.duplicates.clone();
    duplicates.extend(over.duplicates.iter().map(|d| {
        let mut d = d.clone();
        d.key = stamp(&d.key, &over_path);
        d
    }));
    YamlFile {
        path: base.path.clone(),
        docs,
        duplicates,
        partial: false,
        header: base.header.clone(),
    }
}

/// A copy of `n` whose nodes name `file` as theirs.
fn stamp(n: &Node, file: &Arc<str>) -> Node {
    let mut n = n.clone();
    stamp_in_place(&mut n, file);
    n
}

fn stamp_in_place(n: &mut Node, file: &Arc<str>) {
    if n.file.is_none() {
        n.file = Some(file.clone());
    }
    match &mut n.value {
        Value::Seq(items) => items.iter_mut().for_each(|i| stamp_in_place(i, file)),
        Value::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
            stamp_in_place(k, file);
            stamp_in_place(v, file);
        }),
        _ => {}
    }
}

fn merge(base: &Node, over: &Node, file: &Arc<str>, key: &str) -> Node {
    match (&base.value, &over.value) {
        (Value::Map(b), Value::Map(o)) => {
            let mut entries = b.clone();
            for (ok, ov) in o {
                let name = ok.text().unwrap_or_default();
                match entries
                    .iter_mut()
                    .find(|(bk, _)| bk.text().as_deref() == Some(name.as_str()))
                {
                    Some((_, bv)) => *bv = merge(bv, ov, file, &name),
                    None => entries.push((stamp(ok, file), stamp(ov, file))),
                }
            }
            Node {
                value: Value::Map(entries),
                ..base.clone()
            }
        }
        (Value::Seq(b), Value::Seq(o)) if !matches!(key, "command" | "entrypoint" | "test") => {
            let mut items = b.clone();
            if matches!(key, "environment" | "labels") {
                for oi in o {
                    let name = var_name(oi);
                    match items
                        .iter_mut()
                        .find(|bi| name.is_some() && var_name(bi) == name)
                    {
                        Some(bi) => *bi = stamp(oi, file),
                        None => items.push(stamp(oi, file)),
                    }
                }
            } else {
                for oi in o {
                    if !items.iter().any(|bi| canonical(bi) == canonical(oi)) {
                        items.push(stamp(oi, file));
                    }
                }
            }
            Node {
                value: Value::Seq(items),
                ..base.clone()
            }
        }
        _ => stamp(over, file),
    }
}

/// `NAME` of a `NAME=value` (or bare `NAME`) list item.
fn var_name(n: &Node) -> Option<String> {
    let t = n.as_str()?;
    Some(t.split('=').next().unwrap_or(t).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_file;

    #[test]
    fn an_override_merges_as_docker_compose_merges() {
        let base = parse_file(
            "d/compose.yaml",
            "services:\n  app:\n    image: app:1\n    command: [serve]\n    environment: [A=1, B=2]\n    ports: [\"127.0.0.1:8080:8080\"]\n",
        )
        .unwrap();
        let over = parse_file(
            "d/compose.override.yaml",
            "services:\n  app:\n    image: app:2\n    command: [debug]\n    environment: [B=3, C=4]\n    ports: [\"9090:9090\"]\n    healthcheck: { test: [CMD, /probe] }\n",
        )
        .unwrap();
        let units = combine(vec![base, over]);
        assert_eq!(units.len(), 1, "the base is read with its override only");
        let app = units[0].docs[0].at("services").at("app");
        assert_eq!(app.at("image").as_str(), Some("app:2"));
        assert_eq!(app.at("command").seq().len(), 1);
        let env: Vec<&str> = app
            .at("environment")
            .seq()
            .iter()
            .filter_map(Node::as_str)
            .collect();
        assert_eq!(env, ["A=1", "B=3", "C=4"]);
        assert_eq!(app.at("ports").seq().len(), 2);
        // What came from the override says so.
        assert_eq!(
            app.at("ports").seq()[1].file.as_deref(),
            Some("d/compose.override.yaml")
        );
        assert_eq!(app.at("ports").seq()[0].file, None);
        assert!(app.get("healthcheck").is_some());
    }
}
