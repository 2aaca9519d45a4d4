//! The Docker Swarm stack (`swarm/`): the Compose bundle's app and TLS proxy as Swarm services, with what a
//! cluster adds: replicas with reservations and limits, restarts, rolling updates that start the
//! new task first and roll back on failure, secrets as Swarm secrets (read through `<VAR>_FILE`),
//! nginx's configuration as a Swarm config.
//!
//! Networking for what this project's machines can run: the routing mesh (IPVS) is not
//! available, so nginx publishes its ports in `mode: host`, and reaches the app's replicas
//! through Swarm's DNS: the app uses `endpoint_mode: dnsrr`, and nginx resolves `tasks.app`
//! again every few seconds, sending each request to one of the replicas and the next one when a
//! replica refuses (a task stopping during an update). On a multi-node swarm with the routing
//! mesh, publish nginx's ports in `mode: ingress` and run it with `mode: global` or several
//! replicas; the app can then keep the default `endpoint_mode: vip`.

use std::collections::BTreeMap;

use super::compose::{secret_file_notes, secrets_comment};
use super::spec::{
    dur, ComposeFile, ConfigRef, Deploy, FileSource, Healthcheck, Network, Port, ResourceSpec,
    Resources, RestartPolicy, RollbackConfig, SecretRef, Service, UpdateConfig, Volume,
};
use super::{nginx, yaml, Bundle, Context, DeployError, GeneratedFile};
use crate::project::Project;

/// The Swarm stack: swarm/stack.yaml and swarm/nginx.conf.
pub struct Swarm;

impl Bundle for Swarm {
    fn files(&self, cx: &Context) -> Result<Vec<GeneratedFile>, DeployError> {
        let (p, image, https_port) = (cx.project, cx.image, cx.https_port);
        // The stack file has listed its keys in alphabetical order since its first version.
        let yaml = yaml::to_string(&stack(p, &image.local, https_port), yaml::Keys::Sorted)
            .map_err(|e| DeployError::Yaml {
                what: "the Swarm stack".into(),
                message: e.to_string(),
            })?;
        let mut head = format!("# Docker Swarm stack for {}, written by `drydock deploy`: the app's replicas behind an nginx TLS terminator.\n", p.name);
        head.push_str(&format!("#   docker stack deploy -c stack.yaml {}   # HTTPS on ${{HTTPS_PORT:-{https_port}}} of the node running nginx\n# The HTTP redirect names port {https_port} (HTTPS_PORT when deploy ran; deploy again to change it).\n", p.name));
        head.push_str(&format!("# The app image: {} (on one node a local image works: add --resolve-image never; on\n# several, push it: drydock build --push REF, and deploy with --image REF@sha256:…).\n", image.local));
        head.push_str("# nginx publishes its ports in host mode and finds the replicas through Swarm's DNS: the\n# routing mesh is not needed. Put certs/tls.crt and certs/tls.key beside this file\n# (`--tls self-signed` writes a development pair)");
        head.push_str(&secrets_comment(p, "\n# (they become Swarm secrets):\n"));
        Ok(vec![
            GeneratedFile::new("swarm/stack.yaml", format!("{head}{yaml}")),
            GeneratedFile::new("swarm/nginx.conf", nginx_conf(p, https_port)),
        ])
    }

    fn certificates(&self) -> Option<&'static str> {
        Some("swarm/certs")
    }

    fn notes(&self, p: &Project) -> Vec<String> {
        secret_file_notes(p)
    }
}

/// A Swarm service read-only as `user`, with no capabilities, on the stack's network.
fn hardened(image: &str, user: &str) -> Service {
    Service {
        networks: vec!["backend".into()],
        ..Service::hardened(image, user)
    }
}

/// How long nginx may still send to a replica Swarm has begun to stop: its resolver keeps an
/// answer for 2 s (`valid=2s` below). The helper holds the stop signal this long, so the app
/// keeps serving until nginx has stopped sending to it; a connection to a task whose address
/// is already gone would otherwise wait out nginx's connect timeout.
const DRAIN: std::time::Duration = std::time::Duration::from_secs(3);

/// The stack file (`docker stack deploy -c stack.yaml NAME`), running `image`.
pub fn stack(p: &Project, image: &str, https_port: u16) -> ComposeFile {
    let r = &p.runtime.resources;
    let mut app = hardened(image, &format!("{}:{}", p.image.user.0, p.image.user.1));
    let mut env = p.image.env.clone();
    let mut secrets = BTreeMap::new();
    for s in &p.deploy.secrets {
        env.insert(format!("{}_FILE", s.env), format!("/run/secrets/{}", s.key));
        app.secrets.push(SecretRef::Name(s.key.clone()));
        secrets.insert(
            s.key.clone(),
            FileSource {
                file: format!("./secrets/{}", s.key),
            },
        );
    }
    if p.image.helper {
        env.insert("DRYDOCK_DRAIN_DELAY".into(), dur(DRAIN));
    }
    app.environment = Some(env);
    app.volumes = vec![Volume::tmpfs("/tmp", 64 << 20)];
    if p.image.helper {
        app.healthcheck = Some(Healthcheck::helper_probe(p));
    } else {
        // No probe tool in a scratch image without the helper (as in the Compose bundle).
        app.labels = super::spec::no_probe_label();
    }
    // The drain comes before the app's own grace (SIGTERM reaches it only after the drain).
    let grace = p.runtime.shutdown_grace
        + if p.image.helper {
            DRAIN
        } else {
            Default::default()
        };
    app.stop_grace_period = Some(dur(grace));
    app.deploy = Some(Deploy {
        mode: Some("replicated".into()),
        replicas: p.deploy.scaling.min_replicas,
        endpoint_mode: Some("dnsrr".into()),
        resources: Resources {
            limits: Some(ResourceSpec {
                cpus: crate::quantity::cpus_flag(r.cpu_limit_milli),
                memory: format!("{}b", r.memory_limit),
            }),
            reservations: Some(ResourceSpec {
                cpus: crate::quantity::cpus_flag(r.cpu_request_milli),
                memory: format!("{}b", r.memory_request),
            }),
        },
        restart_policy: RestartPolicy {
            condition: "any".into(),
            delay: "1s".into(),
            window: Some("10s".into()),
        },
        update_config: Some(UpdateConfig {
            parallelism: 1,
            delay: "2s".into(),
            order: "start-first".into(),
            failure_action: "rollback".into(),
            monitor: "15s".into(),
        }),
        rollback_config: Some(RollbackConfig {
            parallelism: 1,
            order: "start-first".into(),
        }),
    });

    let mut proxy = hardened("${NGINX_IMAGE:-nginx:1.27}", "65532:65532");
    let host_port = |target: u16, published: String| Port::Long {
        target,
        published,
        protocol: "tcp".into(),
        mode: "host".into(),
    };
    proxy.ports = vec![
        host_port(8443, format!("${{HTTPS_PORT:-{https_port}}}")),
        host_port(8080, "${HTTP_PORT:-80}".into()),
    ];
    proxy.configs = vec![ConfigRef {
        source: "nginx_conf".into(),
        target: "/etc/nginx/nginx.conf".into(),
    }];
    let proxy_secret = |name: &str, mode: u32| SecretRef::Long {
        source: name.replace('.', "_"),
        target: name.into(),
        uid: "65532".into(),
        gid: "65532".into(),
        mode,
    };
    proxy.secrets = vec![
        proxy_secret("tls.crt", 0o444),
        proxy_secret("tls.key", 0o400),
    ];
    proxy.volumes = vec![Volume::tmpfs("/tmp", 16 << 20)];
    proxy.deploy = Some(Deploy {
        mode: None,
        replicas: 1,
        endpoint_mode: None,
        resources: Resources {
            limits: Some(ResourceSpec {
                cpus: "0.5".into(),
                memory: "64M".into(),
            }),
            reservations: None,
        },
        restart_policy: RestartPolicy {
            condition: "any".into(),
            delay: "1s".into(),
            window: None,
        },
        update_config: None,
        rollback_config: None,
    });
    // nginx images carry no probe tool (as in the Compose bundle).
    proxy.labels = super::spec::no_probe_label();

    for name in ["tls.crt", "tls.key"] {
        secrets.insert(
            name.replace('.', "_"),
            FileSource {
                file: format!("./certs/{name}"),
            },
        );
    }
    ComposeFile {
        version: Some("3.8".into()),
        services: BTreeMap::from([("app".to_string(), app), ("proxy".to_string(), proxy)]),
        networks: BTreeMap::from([(
            "backend".to_string(),
            Network {
                driver: "overlay".into(),
            },
        )]),
        configs: BTreeMap::from([(
            "nginx_conf".to_string(),
            FileSource {
                file: "./nginx.conf".into(),
            },
        )]),
        secrets,
    }
}

/// nginx for the stack: the app's replicas found through Swarm's DNS, the key pair as Swarm
/// secrets.
pub fn nginx_conf(p: &Project, https_port: u16) -> String {
    let backend = nginx::Backend {
        note: "# In the Swarm stack it finds the app's replicas through Swarm's DNS (tasks.app), resolved\n# again every 2 s, and tries the next replica when one refuses (a task stopping in an update).\n",
        upstream: "    resolver 127.0.0.11 valid=2s ipv6=off;\n\n".into(),
        certs: "/run/secrets",
        pass: format!("            # A variable makes nginx resolve the name at run time, as replicas come and go.\n            set $app http://tasks.app:{};\n            proxy_pass $app;\n            proxy_next_upstream error timeout http_502 http_503;\n            proxy_next_upstream_tries 3;\n            proxy_connect_timeout 2s;\n", p.port),
    };
    nginx::conf(p, https_port, &backend)
}
