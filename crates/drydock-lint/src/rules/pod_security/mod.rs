//! The Kubernetes Pod Security Standards, one rule per control, as the standard lists them
//! (https://kubernetes.io/docs/concepts/security/pod-security-standards/) and as the PodSecurity
//! admission controller reads a pod: pod-level and container-level settings combined, init and
//! ephemeral containers included, Windows pods exempt from the Linux-only controls. Each rule's
//! catalog entry names the profile that requires it; a pod is checked against the profile of its
//! Namespace (its `pod-security.kubernetes.io/enforce` label, when the Namespace is in the input)
//! or else `[lint] pod_security` (default restricted). A control that is part of baseline is not
//! reported a second time by a restricted one.

pub mod ps001_host_process;
pub mod ps002_host_namespaces;
pub mod ps003_privileged;
pub mod ps004_capabilities_baseline;
pub mod ps005_host_path;
pub mod ps006_host_ports;
pub mod ps007_host_probes;
pub mod ps008_apparmor;
pub mod ps009_selinux;
pub mod ps010_proc_mount;
pub mod ps011_seccomp_baseline;
pub mod ps012_sysctls;
pub mod ps013_volume_types;
pub mod ps014_privilege_escalation;
pub mod ps015_run_as_non_root;
pub mod ps016_run_as_user;
pub mod ps017_seccomp_restricted;
pub mod ps018_capabilities_restricted;

use crate::diagnostic::Finding;
use crate::policy::PodSecurity;
use crate::view::{KubernetesCtx, Object};
use crate::yaml::{at, Node};

/// One pod held to a profile that includes `level`.
pub(crate) struct Pod<'a> {
    pub object: &'a Object<'a>,
    pub spec: &'a Node,
}

impl<'a> Pod<'a> {
    /// Every container: regular, init and ephemeral.
    pub fn containers(&self) -> impl Iterator<Item = &'a Node> {
        let spec = self.spec;
        ["containers", "initContainers", "ephemeralContainers"]
            .into_iter()
            .flat_map(move |k| spec.at(k).seq().iter())
    }

    /// `spec.os.name: windows`: the Linux-only controls do not apply.
    pub fn is_windows(&self) -> bool {
        self.spec.at("os").at("name").as_str() == Some("windows")
    }

    /// `spec.hostUsers: false`: the pod runs in a user namespace, where uid 0 is not the
    /// node's root, so the non-root controls are relaxed.
    pub fn user_namespaced(&self) -> bool {
        self.spec.at("hostUsers").as_bool() == Some(false)
    }

    /// The pod-level security context.
    pub fn security(&self) -> &'a Node {
        self.spec.at("securityContext")
    }

    /// A finding on `node` in this pod's file.
    pub fn finding(&self, node: &Node, problem: String, fix: &str) -> Finding {
        let o = self.object;
        at(
            o.path,
            node,
            format!("{} {}: {problem}", o.kind, o.name),
            Some(fix.to_string()),
        )
    }
}

/// The pods that a profile including `level` applies to.
pub(crate) fn pods<'a>(
    ctx: &'a KubernetesCtx<'a>,
    level: PodSecurity,
) -> impl Iterator<Item = Pod<'a>> + 'a {
    ctx.objects.iter().filter_map(move |o| {
        let spec = o.pod?;
        (ctx.profile(o) >= level).then_some(Pod { object: o, spec })
    })
}

/// `securityContext.privileged: true`: the container has every capability and no seccomp or
/// AppArmor confinement whatever else its context says, so the restricted controls about those
/// (PS014, PS015, PS017, PS018) say nothing PS003 does not, and one of their fixes is refused by
/// the API server (`allowPrivilegeEscalation: false` with `privileged: true` fails validation).
pub(crate) fn privileged(c: &Node) -> bool {
    c.at("securityContext").at("privileged").as_bool() == Some(true)
}

/// Adds `SYS_ADMIN`: the API server refuses `allowPrivilegeEscalation: false` beside it (PS004
/// reports the capability).
pub(crate) fn adds_sys_admin(c: &Node) -> bool {
    c.at("securityContext")
        .at("capabilities")
        .at("add")
        .seq()
        .iter()
        .filter_map(|x| x.as_str())
        .any(|x| matches!(x.trim_start_matches("CAP_"), "SYS_ADMIN"))
}

/// A container's name for messages.
pub(crate) fn name(c: &Node) -> &str {
    c.at("name").as_str().unwrap_or("?")
}

/// Where a finding about a field a container lacks goes: its `name:` key.
pub(crate) fn name_anchor(c: &Node) -> &Node {
    c.entry("name").map(|(k, _)| k).unwrap_or(c)
}

/// The key of `map.key` when its value is `true`.
pub(crate) fn true_key<'n>(map: &'n Node, key: &str) -> Option<&'n Node> {
    map.entry(key)
        .filter(|(_, v)| v.as_bool() == Some(true))
        .map(|(k, _)| k)
}

/// A string field that is set and not empty (`""` counts as unset, as the standard says).
pub(crate) fn set_str<'n>(map: &'n Node, key: &str) -> Option<(&'n Node, &'n str)> {
    let v = map.get(key)?;
    let s = v.as_str()?;
    (!s.is_empty()).then_some((v, s))
}

/// The `FIELD.type` values (`appArmorProfile`, `seccompProfile`) of the pod and its containers
/// that are neither `RuntimeDefault` nor `Localhost`, with who sets them.
pub(crate) fn disallowed_profiles<'a>(
    pod: &Pod<'a>,
    field: &str,
) -> Vec<(String, &'a Node, &'a str)> {
    contexts(pod)
        .into_iter()
        .filter_map(|(who, sc)| {
            let (v, t) = set_str(sc.at(field), "type")?;
            (!matches!(t, "RuntimeDefault" | "Localhost")).then_some((who, v, t))
        })
        .collect()
}

/// The pod's and each container's security context, with who it belongs to for messages.
pub(crate) fn contexts<'a>(pod: &Pod<'a>) -> Vec<(String, &'a Node)> {
    let mut out = vec![("the pod".to_string(), pod.security())];
    out.extend(
        pod.containers()
            .map(|c| (format!("container `{}`", name(c)), c.at("securityContext"))),
    );
    out
}
