//! The one-machine deployment: a Compose file with the app behind an nginx TLS terminator, and
//! the nginx.conf. The app publishes no port; only the proxy does, and port 80 only redirects to
//! HTTPS. Both containers run read-only, as a non-root user, with no capabilities.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::image::helper::HELPER_PATH;
use crate::project::Project;

/// The fields of the Compose Specification that drydock writes.
#[derive(Serialize)]
pub struct ComposeFile {
    pub services: BTreeMap<String, ServiceDef>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub secrets: BTreeMap<String, SecretDef>,
}

#[derive(Serialize, Default)]
pub struct ServiceDef {
    pub image: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    pub read_only: bool,
    pub cap_drop: Vec<String>,
    pub security_opt: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tmpfs: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpus: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_limit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_reservation: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub environment: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expose: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<HealthcheckDef>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub depends_on: BTreeMap<String, DependsOn>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_grace_period: Option<String>,
    pub restart: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

#[derive(Serialize)]
pub struct HealthcheckDef {
    pub test: Vec<String>,
    pub interval: String,
    pub timeout: String,
    pub start_period: String,
    pub retries: u32,
}

impl HealthcheckDef {
    /// The helper's probe of the app's health path, on the project's timings (Compose and Swarm).
    pub fn helper_probe(p: &Project) -> HealthcheckDef {
        let h = &p.image.health;
        HealthcheckDef {
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

#[derive(Serialize)]
pub struct DependsOn {
    pub condition: String,
}

#[derive(Serialize)]
pub struct SecretDef {
    pub file: String,
}

pub fn dur(d: std::time::Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

fn hardened(image: String) -> ServiceDef {
    ServiceDef {
        image,
        user: Some("65532:65532".into()),
        read_only: true,
        cap_drop: vec!["ALL".into()],
        security_opt: vec!["no-new-privileges:true".into()],
        restart: "unless-stopped".into(),
        ..Default::default()
    }
}

pub fn compose(p: &Project, image: &str, https_port: u16) -> ComposeFile {
    let r = &p.runtime.resources;
    let mut app = hardened(image.to_string());
    app.user = Some(format!("{}:{}", p.image.user.0, p.image.user.1));
    app.tmpfs = vec!["/tmp:size=64m,mode=1777".into()];
    app.cpus = Some(crate::quantity::cpus_flag(r.cpu_limit_milli));
    app.mem_limit = Some(format!("{}b", r.memory_limit));
    app.mem_reservation = Some(format!("{}b", r.memory_request));
    app.environment = p.image.env.clone();
    let mut secrets = BTreeMap::new();
    for s in &p.deploy.secrets {
        // Compose mounts secrets as files; the app reads <VAR>_FILE (as the examples do).
        app.environment
            .insert(format!("{}_FILE", s.env), format!("/run/secrets/{}", s.key));
        app.secrets.push(s.key.clone());
        secrets.insert(
            s.key.clone(),
            SecretDef {
                file: format!("./secrets/{}", s.key),
            },
        );
    }
    app.expose = vec![p.port.to_string()];
    if p.image.helper {
        app.healthcheck = Some(HealthcheckDef::helper_probe(p));
    } else {
        // Without the helper the image has no probe tool; the header of compose.yaml says so.
        app.labels = BTreeMap::from([("drydock.dev/ignore".to_string(), "CP006".to_string())]);
    }
    app.stop_grace_period = Some(dur(p.runtime.shutdown_grace));

    let mut proxy = hardened("${NGINX_IMAGE:-nginx:1.27}".into());
    proxy.tmpfs = vec!["/tmp:size=16m,mode=1777".into()];
    proxy.ports = vec![
        format!("${{BIND_ADDRESS:-0.0.0.0}}:${{HTTPS_PORT:-{https_port}}}:8443"),
        "${BIND_ADDRESS:-0.0.0.0}:${HTTP_PORT:-80}:8080".into(),
    ];
    proxy.volumes = vec![
        "./nginx.conf:/etc/nginx/nginx.conf:ro".into(),
        "./certs:/etc/nginx/certs:ro".into(),
    ];
    proxy.cpus = Some("0.5".into());
    proxy.mem_limit = Some("64m".into());
    let condition = if p.image.helper {
        "service_healthy"
    } else {
        "service_started"
    };
    proxy.depends_on = BTreeMap::from([(
        "app".to_string(),
        DependsOn {
            condition: condition.into(),
        },
    )]);
    // nginx images carry no probe tool; the header of compose.yaml says so.
    proxy.labels = BTreeMap::from([("drydock.dev/ignore".to_string(), "CP006".to_string())]);

    ComposeFile {
        services: BTreeMap::from([("app".to_string(), app), ("proxy".to_string(), proxy)]),
        secrets,
    }
}

/// The redirect's target: `https://$host` and the port HTTPS is published on, unless 443.
fn https_origin(https_port: u16) -> String {
    if https_port == 443 {
        "https://$host".into()
    } else {
        format!("https://$host:{https_port}")
    }
}

/// nginx for the bundle. `https_port` is the port HTTPS is published on, which the redirect
/// names: nginx cannot read the environment, so it is fixed when deploy writes the file
/// (`HTTPS_PORT` then; see [`super::https_port`]).
pub fn nginx_conf(p: &Project, https_port: u16) -> String {
    format!(
        r#"# nginx for {name}, written by `drydock deploy`: terminates TLS on 8443 (published as
# ${{HTTPS_PORT:-{https_port}}}), redirects plain HTTP to HTTPS on port {https_port}, and proxies to the app,
# which publishes no port. nginx cannot read the environment: the redirect's port is the one
# deploy was given (HTTPS_PORT={https_port}); to publish HTTPS elsewhere, deploy again with that HTTPS_PORT.
# It runs as a non-root user on a read-only filesystem, so everything it writes goes to /tmp.
worker_processes auto;
pid /tmp/nginx.pid;
error_log /dev/stderr warn;

events {{
    worker_connections 1024;
}}

http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log /dev/stdout;
    server_tokens off;
    client_body_temp_path /tmp/client_body;
    proxy_temp_path /tmp/proxy;
    fastcgi_temp_path /tmp/fastcgi;
    uwsgi_temp_path /tmp/uwsgi;
    scgi_temp_path /tmp/scgi;

    upstream app {{
        server app:{port};
        keepalive 16;
    }}

    server {{
        listen 8080;
        location / {{
            return 301 {origin}$request_uri;
        }}
    }}

    server {{
        listen 8443 ssl;
        ssl_certificate /etc/nginx/certs/tls.crt;
        ssl_certificate_key /etc/nginx/certs/tls.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        add_header Strict-Transport-Security "max-age=31536000" always;

        location / {{
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            # nginx is the edge: what the client claims is replaced, not appended to.
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Real-IP $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}
    }}
}}
"#,
        name = p.name,
        port = p.port,
        origin = https_origin(https_port),
    )
}

/// A development certificate and key for localhost, 127.0.0.1 and `hosts`.
pub fn self_signed(hosts: &[String]) -> Result<(String, String), rcgen::Error> {
    let mut names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    names.extend(hosts.iter().cloned());
    let ck = rcgen::generate_simple_self_signed(names)?;
    Ok((ck.cert.pem(), ck.signing_key.serialize_pem()))
}

/// Quotes plain scalars like `65532:65532`: YAML 1.2 reads them as strings, but YAML 1.1
/// parsers (PyYAML, and so docker-compose v1) read them as base-60 integers.
pub fn quote_sexagesimal(yaml: &str) -> String {
    let is_sexagesimal = |v: &str| {
        v.contains(':')
            && v.split(':')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    };
    yaml.lines()
        .map(|line| {
            let (head, value) = match line.rsplit_once(": ") {
                Some((h, v)) => (format!("{h}: "), v),
                None => match line.trim_start().strip_prefix("- ") {
                    Some(v) => (line[..line.len() - v.len()].to_string(), v),
                    None => return line.to_string(),
                },
            };
            if is_sexagesimal(value) {
                format!("{head}'{value}'")
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sexagesimal_values_are_quoted() {
        let y = "a:\n  user: 65532:65532\n  ports:\n  - 8080:80\n  - ${X:-1}:2\n  name: app\n";
        assert_eq!(
            quote_sexagesimal(y),
            "a:\n  user: '65532:65532'\n  ports:\n  - '8080:80'\n  - ${X:-1}:2\n  name: app\n"
        );
    }
}
