//! The Docker Swarm stack: the compose bundle's app and TLS proxy as Swarm services, with what a
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

use serde_json::{json, Value};

use super::compose::{dur, HealthcheckDef};
use crate::project::Project;

fn hardened(image: &str, user: &str) -> Value {
    json!({
        "image": image,
        "user": user,
        "read_only": true,
        "cap_drop": ["ALL"],
        "networks": ["backend"],
    })
}

fn tmpfs(size: u64) -> Value {
    json!({"type": "tmpfs", "target": "/tmp", "tmpfs": {"size": size}})
}

/// How long nginx may still send to a replica Swarm has begun to stop: its resolver keeps an
/// answer for 2 s (`valid=2s` below). The helper holds the stop signal this long, so the app
/// keeps serving until nginx has stopped sending to it; a connection to a task whose address
/// is already gone would otherwise wait out nginx's connect timeout.
const DRAIN: std::time::Duration = std::time::Duration::from_secs(3);

/// The stack file (`docker stack deploy -c stack.yaml NAME`).
pub fn stack(p: &Project, image: &str, https_port: u16) -> Value {
    let r = &p.runtime.resources;
    let mut app = hardened(image, &format!("{}:{}", p.image.user.0, p.image.user.1));
    let mut env: serde_json::Map<String, Value> = p
        .image
        .env
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    let mut secrets = serde_json::Map::new();
    let mut app_secrets = Vec::new();
    for s in &p.deploy.secrets {
        env.insert(
            format!("{}_FILE", s.env),
            json!(format!("/run/secrets/{}", s.key)),
        );
        app_secrets.push(json!(s.key));
        secrets.insert(
            s.key.clone(),
            json!({"file": format!("./secrets/{}", s.key)}),
        );
    }
    if p.image.helper {
        env.insert("DRYDOCK_DRAIN_DELAY".into(), json!(dur(DRAIN)));
    }
    app["environment"] = Value::Object(env);
    if !app_secrets.is_empty() {
        app["secrets"] = json!(app_secrets);
    }
    app["volumes"] = json!([tmpfs(64 << 20)]);
    if p.image.helper {
        let hc = HealthcheckDef::helper_probe(p);
        app["healthcheck"] = serde_json::to_value(hc).expect("a health check serialises");
    } else {
        // No probe tool in a scratch image without the helper (as in the Compose bundle).
        app["labels"] = json!({"drydock.dev/ignore": "CP006"});
    }
    // The drain comes before the app's own grace (SIGTERM reaches it only after the drain).
    let grace = p.runtime.shutdown_grace
        + if p.image.helper {
            DRAIN
        } else {
            Default::default()
        };
    app["stop_grace_period"] = json!(dur(grace));
    app["deploy"] = json!({
        "mode": "replicated",
        "replicas": p.deploy.scaling.min_replicas,
        "endpoint_mode": "dnsrr",
        "resources": {
            "limits": {"cpus": crate::quantity::cpus_flag(r.cpu_limit_milli), "memory": format!("{}b", r.memory_limit)},
            "reservations": {"cpus": crate::quantity::cpus_flag(r.cpu_request_milli), "memory": format!("{}b", r.memory_request)},
        },
        "restart_policy": {"condition": "any", "delay": "1s", "window": "10s"},
        "update_config": {
            "parallelism": 1,
            "delay": "2s",
            "order": "start-first",
            "failure_action": "rollback",
            "monitor": "15s",
        },
        "rollback_config": {"parallelism": 1, "order": "start-first"},
    });

    let mut proxy = hardened("${NGINX_IMAGE:-nginx:1.27}", "65532:65532");
    proxy["ports"] = json!([
        {"target": 8443, "published": format!("${{HTTPS_PORT:-{https_port}}}"), "protocol": "tcp", "mode": "host"},
        {"target": 8080, "published": "${HTTP_PORT:-80}", "protocol": "tcp", "mode": "host"},
    ]);
    proxy["configs"] = json!([{"source": "nginx_conf", "target": "/etc/nginx/nginx.conf"}]);
    proxy["secrets"] = json!([
        {"source": "tls_crt", "target": "tls.crt", "uid": "65532", "gid": "65532", "mode": 0o444},
        {"source": "tls_key", "target": "tls.key", "uid": "65532", "gid": "65532", "mode": 0o400},
    ]);
    proxy["volumes"] = json!([tmpfs(16 << 20)]);
    proxy["deploy"] = json!({
        "replicas": 1,
        "resources": {"limits": {"cpus": "0.5", "memory": "64M"}},
        "restart_policy": {"condition": "any", "delay": "1s"},
    });
    // nginx images carry no probe tool (as in the Compose bundle).
    proxy["labels"] = json!({"drydock.dev/ignore": "CP006"});

    secrets.insert("tls_crt".into(), json!({"file": "./certs/tls.crt"}));
    secrets.insert("tls_key".into(), json!({"file": "./certs/tls.key"}));
    json!({
        "version": "3.8",
        "services": {"app": app, "proxy": proxy},
        "networks": {"backend": {"driver": "overlay"}},
        "configs": {"nginx_conf": {"file": "./nginx.conf"}},
        "secrets": secrets,
    })
}

/// nginx for the stack: the Compose bundle's, with the app's replicas found through Swarm's DNS.
pub fn nginx_conf(p: &Project, https_port: u16) -> String {
    super::compose::nginx_conf(p, https_port)
        .replace(
            "# It runs as a non-root user on a read-only filesystem, so everything it writes goes to /tmp.",
            "# It runs as a non-root user on a read-only filesystem, so everything it writes goes to /tmp.\n# In the Swarm stack it finds the app's replicas through Swarm's DNS (tasks.app), resolved\n# again every 2 s, and tries the next replica when one refuses (a task stopping in an update).",
        )
        .replace(
            &format!("    upstream app {{\n        server app:{};\n        keepalive 16;\n    }}\n\n", p.port),
            "    resolver 127.0.0.11 valid=2s ipv6=off;\n\n",
        )
        .replace("/etc/nginx/certs/tls.crt", "/run/secrets/tls.crt")
        .replace("/etc/nginx/certs/tls.key", "/run/secrets/tls.key")
        .replace(
            "            proxy_pass http://app;\n            proxy_http_version 1.1;\n            proxy_set_header Connection \"\";\n",
            &format!("            # A variable makes nginx resolve the name at run time, as replicas come and go.\n            set $app http://tasks.app:{};\n            proxy_pass $app;\n            proxy_next_upstream error timeout http_502 http_503;\n            proxy_next_upstream_tries 3;\n            proxy_connect_timeout 2s;\n", p.port),
        )
}
