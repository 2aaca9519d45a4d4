//! The view Kubernetes rules see: every object of every document (and of `List` kinds) across
//! the files given, with the pod spec of workloads found wherever its kind keeps it, and each
//! container. Unknown kinds and custom resources are objects without a pod. Rules see all files
//! at once, so a Deployment and the PodDisruptionBudget in another file meet.

use std::collections::{BTreeSet, HashMap};

use super::purpose::{self, Purpose};
use crate::policy::{PodSecurity, SecretEnvStance};
use crate::yaml::{Node, YamlFile};

/// The label by which a Namespace tells the admission controller which profile to enforce.
pub const ENFORCE_LABEL: &str = "pod-security.kubernetes.io/enforce";

/// The label by which a Namespace pins the version of the Standards enforced (`v1.29`, `latest`).
pub const ENFORCE_VERSION_LABEL: &str = "pod-security.kubernetes.io/enforce-version";

pub struct Object<'a> {
    pub path: &'a str,
    pub node: &'a Node,
    pub kind: String,
    pub name: String,
    /// `metadata.namespace`.
    pub namespace: Option<String>,
    /// The PodSpec of Pods and workload templates.
    pub pod: Option<&'a Node>,
    /// The pod's metadata: the object's own for a Pod, the template's for a workload.
    pub pod_meta: Option<&'a Node>,
    /// Codes suppressed by `drydock.dev/ignore` on the object or its pod template, as written
    /// (upper case): the runner expands families and retired codes.
    pub ignored: BTreeSet<String>,
    /// From a kustomize patch: a partial object, so rules about absent fields skip it.
    pub partial: bool,
}

pub struct KubernetesCtx<'a> {
    pub objects: Vec<Object<'a>>,
    pub secret_env: SecretEnvStance,
    /// The profile of objects in no labelled Namespace.
    pub pod_security: PodSecurity,
    /// Namespaces of the input whose enforce label names a profile.
    pub namespaces: HashMap<String, PodSecurity>,
    /// Namespaces of the input whose enforce-version label pins a version (`v1.29`): the
    /// Standards as that Kubernetes release defines them. Absent or `latest`: the newest.
    pub versions: HashMap<String, (u32, u32)>,
}

/// One container of a pod, with the object it belongs to.
#[derive(Clone, Copy)]
pub struct Container<'a> {
    pub object: &'a Object<'a>,
    pub node: &'a Node,
    /// An init container (runs to completion before the others start).
    pub init: bool,
}

impl Container<'_> {
    /// What the container is for, decided once for every rule:
    /// - an init helper: an init container, unless it is a sidecar (`restartPolicy: Always`);
    /// - a one-shot job: a container of a Job or CronJob, or of a pod whose `restartPolicy` is
    ///   `Never` or `OnFailure` (it is meant to finish);
    /// - a toolbox: its `command`/`args` only keep it alive (`sleep infinity`,
    ///   `tail -f /dev/null`);
    /// - a long-running service otherwise.
    pub fn purpose(&self) -> Purpose {
        if self.init && self.node.at("restartPolicy").as_str() != Some("Always") {
            return Purpose::InitHelper;
        }
        if matches!(self.object.kind.as_str(), "Job" | "CronJob")
            || self.object.pod.is_some_and(|p| {
                matches!(p.at("restartPolicy").as_str(), Some("Never" | "OnFailure"))
            })
        {
            return Purpose::OneShot;
        }
        let mut argv = purpose::argv(self.node.at("command"));
        argv.extend(purpose::argv(self.node.at("args")));
        if purpose::runs(&argv) == purpose::Runs::KeepAlive {
            return Purpose::Toolbox;
        }
        Purpose::Service
    }
}

impl<'a> KubernetesCtx<'a> {
    /// Reads the objects of the files; `secret_env` and `pod_security` are the options' stances.
    pub fn new(
        files: &'a [YamlFile],
        secret_env: SecretEnvStance,
        pod_security: PodSecurity,
    ) -> KubernetesCtx<'a> {
        let mut objects = Vec::new();
        for f in files {
            for d in &f.docs {
                let from = objects.len();
                collect(&f.path, d, &mut objects);
                for o in &mut objects[from..] {
                    o.partial = f.partial;
                }
            }
        }
        let namespaces = objects
            .iter()
            .filter(|o| o.kind == "Namespace")
            .filter_map(|o| {
                let level = o
                    .node
                    .at("metadata")
                    .at("labels")
                    .at(ENFORCE_LABEL)
                    .as_str()?;
                Some((o.name.clone(), PodSecurity::from_label(level)?))
            })
            .collect();
        let versions = objects
            .iter()
            .filter(|o| o.kind == "Namespace")
            .filter_map(|o| {
                let v = o
                    .node
                    .at("metadata")
                    .at("labels")
                    .at(ENFORCE_VERSION_LABEL)
                    .as_str()?;
                Some((o.name.clone(), parse_version(v)?))
            })
            .collect();
        KubernetesCtx {
            objects,
            secret_env,
            pod_security,
            namespaces,
            versions,
        }
    }

    /// The Pod Security profile an object is held to: its Namespace's enforce label when the
    /// Namespace is in the input, as the admission controller applies it, else the configured one.
    pub fn profile(&self, o: &Object<'_>) -> PodSecurity {
        o.namespace
            .as_deref()
            .and_then(|n| self.namespaces.get(n).copied())
            .unwrap_or(self.pod_security)
    }

    /// The version of the Standards an object is held to: its Namespace's enforce-version label
    /// when the Namespace is in the input; `None` is the newest.
    pub fn standards_version(&self, o: &Object<'_>) -> Option<(u32, u32)> {
        o.namespace
            .as_deref()
            .and_then(|n| self.versions.get(n).copied())
    }

    /// Every container of every pod, init containers included.
    pub fn containers(&self) -> impl Iterator<Item = Container<'_>> + '_ {
        self.objects.iter().flat_map(|o| {
            o.pod
                .into_iter()
                .flat_map(pod_containers)
                .map(move |(node, init)| Container {
                    object: o,
                    node,
                    init,
                })
        })
    }
}

/// `v1.29` or `1.29` as (1, 29); `latest` and anything else as the newest (None).
fn parse_version(v: &str) -> Option<(u32, u32)> {
    let (major, minor) = v.trim().trim_start_matches('v').split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

fn ignored(meta: &Node) -> BTreeSet<String> {
    meta.at("annotations")
        .at("drydock.dev/ignore")
        .as_str()
        .map(crate::suppress::split_codes)
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
        "PodTemplate" => (
            node.at("template").get("spec"),
            node.at("template").get("metadata"),
        ),
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "ReplicationController"
        | "Job" => (
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
    let pod_meta = if kind == "Pod" {
        node.get("metadata")
    } else {
        template_meta
    };
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
        namespace: node
            .at("metadata")
            .at("namespace")
            .as_str()
            .map(str::to_string),
        pod,
        pod_meta,
        ignored: ign,
        partial: false,
    });
}

/// Whether YAML documents look like Kubernetes objects.
pub fn is_kubernetes(docs: &[Node]) -> bool {
    docs.iter()
        .any(|d| d.get("apiVersion").is_some() && d.get("kind").is_some())
}

/// The containers of one pod spec, init containers included, with whether each is an init one.
pub fn pod_containers(pod: &Node) -> impl Iterator<Item = (&Node, bool)> {
    pod.at("containers")
        .seq()
        .iter()
        .map(|c| (c, false))
        .chain(pod.at("initContainers").seq().iter().map(|c| (c, true)))
}
