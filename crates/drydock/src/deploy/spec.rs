//! The fields of the Compose Specification that drydock writes, for the Compose bundle and the
//! Swarm stack alike (the `deploy:` section and the long forms of ports, secrets and volumes
//! are the Swarm stack's). Written out by [`super::yaml`].

use std::collections::BTreeMap;

use serde::Serialize;

use crate::image::helper::HELPER_PATH;
use crate::project::Project;

#[derive(Serialize, Default)]
pub struct ComposeFile {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub services: BTreeMap<String, Service>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub networks: BTreeMap<String, Network>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub configs: BTreeMap<String, FileSource>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub secrets: BTreeMap<String, FileSource>,
}

#[derive(Serialize, Default)]
pub struct Service {
    pub image: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    pub read_only: bool,
    pub cap_drop: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub security_opt: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tmpfs: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpus: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_limit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_reservation: Option<String>,
    /// Absent when `None`; `Some` of an empty map is written (`environment: {}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<SecretRef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub configs: Vec<ConfigRef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expose: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<Port>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<Volume>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub networks: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Healthcheck>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub depends_on: BTreeMap<String, DependsOn>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_grace_period: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restart: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deploy: Option<Deploy>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

impl Service {
    /// A service that runs read-only as `user`, with no capabilities.
    pub fn hardened(image: &str, user: &str) -> Service {
        Service {
            image: image.into(),
            user: Some(user.into()),
            read_only: true,
            cap_drop: vec!["ALL".into()],
            ..Default::default()
        }
    }
}

/// The label that tells `drydock lint` a service has no health check on purpose (CP006).
pub fn no_probe_label() -> BTreeMap<String, String> {
    BTreeMap::from([("drydock.dev/ignore".to_string(), "CP006".to_string())])
}

#[derive(Serialize)]
pub struct Healthcheck {
    pub test: Vec<String>,
    pub interval: String,
    pub timeout: String,
    pub start_period: String,
    pub retries: u32,
}

impl Healthcheck {
    /// The helper's probe of the app's health path, on the project's timings.
    pub fn helper_probe(p: &Project) -> Healthcheck {
        let h = &p.image.health;
        Healthcheck {
            test: vec![
                "CMD".into(),
                HELPER_PATH.into(),
                "probe".into(),
                format!("http://127.0.0.1:{}{}", p.port, h.path),
            ],
            interval: dur(h.interval),
            timeout: dur(h.timeout),
            start_period: dur(h.start_period),
            retries: h.retries,
        }
    }
}

/// A duration as Compose reads it: whole seconds, else milliseconds.
pub fn dur(d: std::time::Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

#[derive(Serialize)]
pub struct DependsOn {
    pub condition: String,
}

/// A top-level secret or config, read from a file beside the Compose file.
#[derive(Serialize)]
pub struct FileSource {
    pub file: String,
}

#[derive(Serialize)]
pub struct Network {
    pub driver: String,
}

/// A service's secret: by name (mounted at /run/secrets/NAME), or with its target and owner.
#[derive(Serialize)]
#[serde(untagged)]
pub enum SecretRef {
    Name(String),
    Long {
        source: String,
        target: String,
        uid: String,
        gid: String,
        mode: u32,
    },
}

#[derive(Serialize)]
pub struct ConfigRef {
    pub source: String,
    pub target: String,
}

/// A published port: `[HOST:]PUBLISHED:TARGET`, or the long form with its mode.
#[derive(Serialize)]
#[serde(untagged)]
pub enum Port {
    Short(String),
    Long {
        target: u16,
        published: String,
        protocol: String,
        mode: String,
    },
}

/// A volume: a bind mount `SOURCE:TARGET[:MODE]`, or a tmpfs of `size` bytes.
#[derive(Serialize)]
#[serde(untagged)]
pub enum Volume {
    Bind(String),
    Tmpfs {
        #[serde(rename = "type")]
        kind: TmpfsKind,
        target: String,
        tmpfs: TmpfsOptions,
    },
}

impl Volume {
    pub fn tmpfs(target: &str, size: u64) -> Volume {
        Volume::Tmpfs {
            kind: TmpfsKind::Tmpfs,
            target: target.into(),
            tmpfs: TmpfsOptions { size },
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TmpfsKind {
    Tmpfs,
}

#[derive(Serialize)]
pub struct TmpfsOptions {
    pub size: u64,
}

/// A service's `deploy:` section (Swarm).
#[derive(Serialize)]
pub struct Deploy {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    pub replicas: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint_mode: Option<String>,
    pub resources: Resources,
    pub restart_policy: RestartPolicy,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_config: Option<UpdateConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollback_config: Option<RollbackConfig>,
}

#[derive(Serialize)]
pub struct Resources {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limits: Option<ResourceSpec>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reservations: Option<ResourceSpec>,
}

#[derive(Serialize)]
pub struct ResourceSpec {
    pub cpus: String,
    pub memory: String,
}

#[derive(Serialize)]
pub struct RestartPolicy {
    pub condition: String,
    pub delay: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<String>,
}

#[derive(Serialize)]
pub struct UpdateConfig {
    pub parallelism: u32,
    pub delay: String,
    pub order: String,
    pub failure_action: String,
    pub monitor: String,
}

#[derive(Serialize)]
pub struct RollbackConfig {
    pub parallelism: u32,
    pub order: String,
}
