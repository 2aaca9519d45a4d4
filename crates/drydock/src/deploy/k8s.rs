//! Kubernetes manifests (`kubernetes/`) from the typed API structs of k8s-openapi: a Deployment that passes
//! the Pod Security Standards "restricted" profile, a Service for the app port only, a
//! HorizontalPodAutoscaler, a PodDisruptionBudget, an Ingress with TLS and a NetworkPolicy that
//! admits only the ingress controller.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment,
};
use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, MetricSpec,
    MetricTarget, ResourceMetricSource,
};
use k8s_openapi::api::core::v1::{
    Capabilities, Container, ContainerPort, EmptyDirVolumeSource, EnvVar, EnvVarSource,
    HTTPGetAction, PodSecurityContext, PodSpec, PodTemplateSpec, Probe, ResourceFieldSelector,
    ResourceRequirements, SeccompProfile, SecretKeySelector, SecurityContext, Service, ServicePort,
    ServiceSpec, Volume, VolumeMount,
};
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule,
    IngressServiceBackend, IngressSpec, IngressTLS, NetworkPolicy, NetworkPolicyIngressRule,
    NetworkPolicyPeer, NetworkPolicyPort, NetworkPolicySpec, ServiceBackendPort,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{Bundle, Context, DeployError, GeneratedFile};
use crate::config::Language;
use crate::project::Project;
use crate::quantity::{format_cpu, format_memory};

/// The Kubernetes manifests: kubernetes/*.yaml, referring to the image as a cluster pulls it.
pub struct Kubernetes;

impl Bundle for Kubernetes {
    fn files(&self, cx: &Context) -> Result<Vec<GeneratedFile>, DeployError> {
        let manifests =
            manifests(cx.project, &cx.image.reference).map_err(|e| DeployError::Yaml {
                what: "Kubernetes manifests".into(),
                message: e.to_string(),
            })?;
        Ok(manifests
            .into_iter()
            .map(|(name, yaml)| GeneratedFile::new(format!("kubernetes/{name}"), yaml))
            .collect())
    }
}

/// The name of the container port, used by probes and the Service.
const PORT_NAME: &str = "http";

fn labels(p: &Project) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app.kubernetes.io/name".to_string(), p.name.clone()),
        (
            "app.kubernetes.io/managed-by".to_string(),
            "drydock".to_string(),
        ),
    ])
}

fn selector(p: &Project) -> BTreeMap<String, String> {
    BTreeMap::from([("app.kubernetes.io/name".to_string(), p.name.clone())])
}

fn meta(p: &Project, name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        labels: Some(labels(p)),
        ..Default::default()
    }
}

fn secs(d: std::time::Duration) -> i32 {
    d.as_secs().max(1).min(i32::MAX as u64) as i32
}

fn http_probe(path: &str, period: i32, timeout: i32, failures: i32) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.to_string()),
            port: IntOrString::String(PORT_NAME.into()),
            ..Default::default()
        }),
        period_seconds: Some(period),
        timeout_seconds: Some(timeout),
        failure_threshold: Some(failures),
        ..Default::default()
    }
}

/// The container's environment: plain values, secrets by reference, and, for Go apps in images
/// without drydock-helper, GOMAXPROCS and GOMEMLIMIT from the Downward API.
fn env(p: &Project, go: bool) -> Vec<EnvVar> {
    let mut env: Vec<EnvVar> = p
        .image
        .env
        .iter()
        .map(|(k, v)| EnvVar {
            name: k.clone(),
            value: Some(v.clone()),
            ..Default::default()
        })
        .collect();
    for s in &p.deploy.secrets {
        env.push(EnvVar {
            name: s.env.clone(),
            value_from: Some(EnvVarSource {
                secret_key_ref: Some(SecretKeySelector {
                    name: s.secret.clone(),
                    key: s.key.clone(),
                    optional: Some(false),
                }),
                ..Default::default()
            }),
            ..Default::default()
        });
    }
    if go && !p.image.helper {
        // limits.cpu with divisor 1 is rounded up to whole cores, like the helper does.
        for (name, resource) in [
            ("GOMAXPROCS", "limits.cpu"),
            ("GOMEMLIMIT", "limits.memory"),
        ] {
            env.push(EnvVar {
                name: name.into(),
                value_from: Some(EnvVarSource {
                    resource_field_ref: Some(ResourceFieldSelector {
                        resource: resource.into(),
                        divisor: Some(Quantity("1".into())),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            });
        }
    }
    env
}

pub fn deployment(p: &Project, image: &str) -> Deployment {
    let r = &p.runtime.resources;
    let h = &p.image.health;
    let quantities = |cpu: u64, mem: u64| {
        BTreeMap::from([
            ("cpu".to_string(), Quantity(format_cpu(cpu))),
            ("memory".to_string(), Quantity(format_memory(mem))),
        ])
    };
    let go = p.build.language == Language::Go;
    let container = Container {
        name: p.name.clone(),
        image: Some(image.to_string()),
        image_pull_policy: Some("IfNotPresent".into()),
        ports: Some(vec![ContainerPort {
            name: Some(PORT_NAME.into()),
            container_port: p.port as i32,
            protocol: Some("TCP".into()),
            ..Default::default()
        }]),
        env: Some(env(p, go)).filter(|e| !e.is_empty()),
        resources: Some(ResourceRequirements {
            requests: Some(quantities(r.cpu_request_milli, r.memory_request)),
            limits: Some(quantities(r.cpu_limit_milli, r.memory_limit)),
            ..Default::default()
        }),
        // Startup: up to a minute to come up, probed more often than the period lasts; then
        // liveness and readiness take over.
        startup_probe: Some({
            let period = (secs(h.timeout) + 1).max(2);
            http_probe(&h.path, period, secs(h.timeout), (60 + period - 1) / period)
        }),
        liveness_probe: Some(http_probe(
            &h.path,
            secs(h.interval),
            secs(h.timeout),
            h.retries as i32,
        )),
        readiness_probe: Some({
            let period = (secs(h.interval) / 2).max(secs(h.timeout) + 1);
            http_probe(&h.ready_path, period, secs(h.timeout), 3)
        }),
        security_context: Some(SecurityContext {
            allow_privilege_escalation: Some(false),
            read_only_root_filesystem: Some(true),
            run_as_non_root: Some(true),
            capabilities: Some(Capabilities {
                drop: Some(vec!["ALL".into()]),
                ..Default::default()
            }),
            seccomp_profile: Some(SeccompProfile {
                type_: "RuntimeDefault".into(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        volume_mounts: Some(vec![VolumeMount {
            name: "tmp".into(),
            mount_path: "/tmp".into(),
            ..Default::default()
        }]),
        ..Default::default()
    };
    let pod = PodSpec {
        automount_service_account_token: Some(false),
        termination_grace_period_seconds: Some(p.runtime.shutdown_grace.as_secs().max(1) as i64),
        security_context: Some(PodSecurityContext {
            run_as_non_root: Some(true),
            run_as_user: Some(p.image.user.0 as i64),
            run_as_group: Some(p.image.user.1 as i64),
            fs_group: Some(p.image.user.1 as i64),
            seccomp_profile: Some(SeccompProfile {
                type_: "RuntimeDefault".into(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        containers: vec![container],
        volumes: Some(vec![Volume {
            name: "tmp".into(),
            empty_dir: Some(EmptyDirVolumeSource {
                size_limit: Some(Quantity("64Mi".into())),
                ..Default::default()
            }),
            ..Default::default()
        }]),
        ..Default::default()
    };
    Deployment {
        metadata: meta(p, &p.name),
        spec: Some(DeploymentSpec {
            replicas: Some(p.deploy.scaling.min_replicas as i32),
            selector: LabelSelector {
                match_labels: Some(selector(p)),
                ..Default::default()
            },
            // Never below the wanted capacity during a rollout: one extra pod at a time.
            strategy: Some(DeploymentStrategy {
                type_: Some("RollingUpdate".into()),
                rolling_update: Some(RollingUpdateDeployment {
                    max_unavailable: Some(IntOrString::Int(0)),
                    max_surge: Some(IntOrString::Int(1)),
                }),
            }),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels(p)),
                    // What `drydock lint` needs to judge GOMAXPROCS handling (KS013).
                    annotations: Some(BTreeMap::from([
                        (
                            "drydock.dev/language".to_string(),
                            if go { "go" } else { "rust" }.to_string(),
                        ),
                        ("drydock.dev/helper".to_string(), p.image.helper.to_string()),
                    ])),
                    ..Default::default()
                }),
                spec: Some(pod),
            },
            ..Default::default()
        }),
        ..Default::default()
    }
}

pub fn service(p: &Project) -> Service {
    Service {
        metadata: meta(p, &p.name),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".into()),
            selector: Some(selector(p)),
            ports: Some(vec![ServicePort {
                name: Some(PORT_NAME.into()),
                port: p.port as i32,
                target_port: Some(IntOrString::String(PORT_NAME.into())),
                protocol: Some("TCP".into()),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

pub fn hpa(p: &Project) -> HorizontalPodAutoscaler {
    HorizontalPodAutoscaler {
        metadata: meta(p, &p.name),
        spec: Some(HorizontalPodAutoscalerSpec {
            scale_target_ref: CrossVersionObjectReference {
                api_version: Some("apps/v1".into()),
                kind: "Deployment".into(),
                name: p.name.clone(),
            },
            min_replicas: Some(p.deploy.scaling.min_replicas as i32),
            max_replicas: p.deploy.scaling.max_replicas as i32,
            metrics: Some(vec![MetricSpec {
                type_: "Resource".into(),
                resource: Some(ResourceMetricSource {
                    name: "cpu".into(),
                    target: MetricTarget {
                        type_: "Utilization".into(),
                        average_utilization: Some(p.deploy.scaling.cpu_target as i32),
                        ..Default::default()
                    },
                }),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

pub fn pdb(p: &Project) -> PodDisruptionBudget {
    PodDisruptionBudget {
        metadata: meta(p, &p.name),
        spec: Some(PodDisruptionBudgetSpec {
            // One pod at a time may be evicted, whatever the replica count.
            max_unavailable: Some(IntOrString::Int(1)),
            selector: Some(LabelSelector {
                match_labels: Some(selector(p)),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The Ingress, when drydock.toml names a host.
pub fn ingress(p: &Project) -> Option<Ingress> {
    let host = p.deploy.ingress.host.clone()?;
    let tls_secret = p
        .deploy
        .ingress
        .tls_secret
        .clone()
        .unwrap_or_else(|| format!("{}-tls", p.name));
    let mut m = meta(p, &p.name);
    if let Some(issuer) = &p.deploy.ingress.cert_manager_issuer {
        m.annotations = Some(BTreeMap::from([(
            "cert-manager.io/cluster-issuer".to_string(),
            issuer.clone(),
        )]));
    }
    Some(Ingress {
        metadata: m,
        spec: Some(IngressSpec {
            ingress_class_name: p.deploy.ingress.class.clone(),
            tls: Some(vec![IngressTLS {
                hosts: Some(vec![host.clone()]),
                secret_name: Some(tls_secret),
            }]),
            rules: Some(vec![IngressRule {
                host: Some(host),
                http: Some(HTTPIngressRuleValue {
                    paths: vec![HTTPIngressPath {
                        path: Some("/".into()),
                        path_type: "Prefix".into(),
                        backend: IngressBackend {
                            service: Some(IngressServiceBackend {
                                name: p.name.clone(),
                                port: Some(ServiceBackendPort {
                                    name: Some(PORT_NAME.into()),
                                    ..Default::default()
                                }),
                            }),
                            ..Default::default()
                        },
                    }],
                }),
            }]),
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// Who may reach the app's port. With an Ingress, only the ingress controller's namespace: the
/// Ingress is the way in. Without one, the app is reached from inside the cluster, so the pods
/// of its own namespace (and the controller's namespace, when `[ingress] controller_namespace`
/// names one); never the whole cluster, never other ports.
pub fn network_policy(p: &Project) -> NetworkPolicy {
    let namespace = |ns: String| NetworkPolicyPeer {
        namespace_selector: Some(LabelSelector {
            match_labels: Some(BTreeMap::from([(
                "kubernetes.io/metadata.name".to_string(),
                ns,
            )])),
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut from = Vec::new();
    if p.deploy.ingress.host.is_some() {
        from.push(namespace(
            p.deploy
                .ingress
                .controller_namespace
                .clone()
                .unwrap_or_else(|| "ingress-nginx".into()),
        ));
    } else {
        // An empty pod selector with no namespace selector: every pod of this namespace.
        from.push(NetworkPolicyPeer {
            pod_selector: Some(LabelSelector::default()),
            ..Default::default()
        });
        if let Some(ns) = p.deploy.ingress.controller_namespace.clone() {
            from.push(namespace(ns));
        }
    }
    NetworkPolicy {
        metadata: meta(p, &p.name),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(LabelSelector {
                match_labels: Some(selector(p)),
                ..Default::default()
            }),
            policy_types: Some(vec!["Ingress".into()]),
            ingress: Some(vec![NetworkPolicyIngressRule {
                from: Some(from),
                ports: Some(vec![NetworkPolicyPort {
                    port: Some(IntOrString::Int(p.port as i32)),
                    protocol: Some("TCP".into()),
                    ..Default::default()
                }]),
            }]),
            ..Default::default()
        }),
    }
}

/// What the NetworkPolicy admits, for its header.
fn network_policy_comment(p: &Project) -> String {
    let port = p.port;
    match (&p.deploy.ingress.host, &p.deploy.ingress.controller_namespace) {
        (Some(_), ns) => format!(
            "# It admits only the ingress controller's namespace ({}) to port {port}: the Ingress is the way in.\n",
            ns.as_deref().unwrap_or("ingress-nginx")
        ),
        (None, None) => format!(
            "# There is no Ingress ([ingress] host is not set), so it admits the pods of this namespace to\n# port {port}, and nothing from other namespaces. Set [ingress] host for an Ingress, or\n# [ingress] controller_namespace to admit that namespace as well.\n"
        ),
        (None, Some(ns)) => format!(
            "# There is no Ingress ([ingress] host is not set), so it admits the pods of this namespace and\n# of {ns} to port {port}, and nothing else.\n"
        ),
    }
}

/// Every manifest, as (file name, YAML).
pub fn manifests(p: &Project, image: &str) -> Result<Vec<(String, String)>, serde_yaml_ng::Error> {
    let header = |what: &str| format!("# {what} for {}, written by `drydock deploy`.\n", p.name);
    let mut out = vec![
        (
            "deployment.yaml".to_string(),
            format!(
                "{}{}",
                header("Deployment"),
                serde_yaml_ng::to_string(&deployment(p, image))?
            ),
        ),
        (
            "service.yaml".to_string(),
            format!(
                "{}{}",
                header("Service"),
                serde_yaml_ng::to_string(&service(p))?
            ),
        ),
        (
            "hpa.yaml".to_string(),
            format!(
                "{}{}",
                header("HorizontalPodAutoscaler"),
                serde_yaml_ng::to_string(&hpa(p))?
            ),
        ),
        (
            "pdb.yaml".to_string(),
            format!(
                "{}{}",
                header("PodDisruptionBudget"),
                serde_yaml_ng::to_string(&pdb(p))?
            ),
        ),
        (
            "networkpolicy.yaml".to_string(),
            format!(
                "{}{}",
                header("NetworkPolicy") + &network_policy_comment(p),
                serde_yaml_ng::to_string(&network_policy(p))?
            ),
        ),
    ];
    if let Some(i) = ingress(p) {
        out.push((
            "ingress.yaml".to_string(),
            format!("{}{}", header("Ingress"), serde_yaml_ng::to_string(&i)?),
        ));
    }
    Ok(out)
}
