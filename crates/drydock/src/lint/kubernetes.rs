//! Kubernetes manifests for `drydock lint`: every object of every document (and of `List`
//! kinds) across the files given, with the pod spec of workloads found wherever its kind keeps
//! it. Unknown kinds and custom resources are skipped, not errors. Rules see all files at once,
//! so a Deployment and the PodDisruptionBudget in another file meet.

use std::collections::BTreeSet;

use super::catalog::Check;
use super::diagnostic::{Diagnostic, Finding, Span};
use super::yaml::{self, Node};
use super::{LintError, LintOptions};

pub struct Object<'a> {
    pub path: &'a str,
    pub node: &'a Node,
    pub kind: String,
    pub name: String,
    /// The PodSpec of Pods and workload templates.
    pub pod: Option<&'a Node>,
    /// Codes suppressed by `drydock.dev/ignore` on the object or its pod template.
    pub ignored: BTreeSet<String>,
}

pub struct KubernetesCtx<'a> {
    pub objects: Vec<Object<'a>>,
    pub secret_env: super::SecretEnvStance,
}

/// One parsed YAML file.
pub struct YamlFile {
    pub path: String,
    pub docs: Vec<Node>,
}

fn ignored(meta: &Node) -> BTreeSet<String> {
    meta.at("annotations")
        .at("drydock.dev/ignore")
        .as_str()
        .map(super::parse_codes)
        .unwrap_or_default()
}

fn collect<'a>(path: &'a str, node: &'a Node, out: &mut Vec<Object<'a>>) {
    let Some(kind) = node.at("kind").as_str() else {
        return;
    };
    if kind.ends_with("List") {
        for item in node.at("items").seq() {
            collect(path, item, out);
        }
        return;
    }
    let (pod, template_meta) = match kind {
        "Pod" => (node.get("spec"), None),
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => (
            node.at("spec").at("template").get("spec"),
            node.at("spec").at("template").get("metadata"),
        ),
        "CronJob" => {
            let t = node.at("spec").at("jobTemplate").at("spec").at("template");
            (t.get("spec"), t.get("metadata"))
        }
        _ => (None, None),
    };
    let mut ign = ignored(node.at("metadata"));
    if let Some(m) = template_meta {
        ign.extend(ignored(m));
    }
    out.push(Object {
        path,
        node,
        kind: kind.to_string(),
        name: node
            .at("metadata")
            .at("name")
            .as_str()
            .unwrap_or("")
            .to_string(),
        pod,
        ignored: ign,
    });
}

/// Whether a YAML document looks like a Kubernetes object.
pub fn is_kubernetes(docs: &[Node]) -> bool {
    docs.iter()
        .any(|d| d.get("apiVersion").is_some() && d.get("kind").is_some())
}

pub fn parse_file(path: &str, text: &str) -> Result<YamlFile, LintError> {
    let docs = yaml::parse(text).map_err(|e| LintError::Yaml {
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

/// A label map (or selector) as owned pairs, to compare selectors with labels.
pub fn label_pairs(n: &Node) -> Vec<(String, String)> {
    match &n.value {
        yaml::Value::Map(m) => m
            .iter()
            .filter_map(|(k, v)| Some((k.text()?, v.text()?)))
            .collect(),
        _ => Vec::new(),
    }
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

/// The containers of a pod spec, init containers included, with whether each is an init one.
pub fn containers(pod: &Node) -> impl Iterator<Item = (&Node, bool)> {
    pod.at("containers")
        .seq()
        .iter()
        .map(|c| (c, false))
        .chain(pod.at("initContainers").seq().iter().map(|c| (c, true)))
}

/// A stable text for a node's value, ignoring positions (to compare two probes).
pub fn canonical(n: &Node) -> String {
    match &n.value {
        yaml::Value::Map(m) => {
            let mut items: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}={}", k.text().unwrap_or_default(), canonical(v)))
                .collect();
            items.sort();
            format!("{{{}}}", items.join(","))
        }
        yaml::Value::Seq(s) => format!(
            "[{}]",
            s.iter().map(canonical).collect::<Vec<_>>().join(",")
        ),
        _ => n.text().unwrap_or_default(),
    }
}

pub fn lint(files: &[YamlFile], opts: &LintOptions) -> Vec<Diagnostic> {
    let mut objects = Vec::new();
    for f in files {
        for d in &f.docs {
            collect(&f.path, d, &mut objects);
        }
    }
    let ctx = KubernetesCtx {
        objects,
        secret_env: opts.secret_env,
    };
    super::run_rules(
        opts,
        "",
        |rule| match rule.check {
            Check::Kubernetes(check) => Some(check(&ctx)),
            _ => None,
        },
        |rule, f, path| {
            ctx.objects.iter().any(|o| {
                o.path == path
                    && (o.node.line..=o.node.end_line).contains(&f.span.line)
                    && o.ignored.contains(rule.code)
            })
        },
    )
}
