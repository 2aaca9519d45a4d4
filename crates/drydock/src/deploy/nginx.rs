//! The nginx.conf of the TLS proxy in front of the app, for the Compose bundle and the Swarm
//! stack alike: each says how nginx reaches the app and where the key pair is ([`Backend`]).

use crate::project::Project;

/// How nginx reaches the app, and where it reads its key pair.
pub struct Backend {
    /// Comment lines (each ending in a newline) on how it finds the app, or nothing.
    pub note: &'static str,
    /// What comes before the servers in `http {}` (an `upstream app`, a resolver), with the
    /// blank line after it.
    pub upstream: String,
    /// The directory of tls.crt and tls.key.
    pub certs: &'static str,
    /// The first lines of `location /`: where a request goes.
    pub pass: String,
}

/// The redirect's target: `https://$host` and the port HTTPS is published on, unless 443.
fn https_origin(https_port: u16) -> String {
    if https_port == 443 {
        "https://$host".into()
    } else {
        format!("https://$host:{https_port}")
    }
}

/// The nginx.conf. `https_port` is the port HTTPS is published on, which the redirect names:
/// nginx cannot read the environment, so it is fixed when deploy writes the file
/// (`HTTPS_PORT` then; see [`super::https_port`]).
pub fn conf(p: &Project, https_port: u16, backend: &Backend) -> String {
    format!(
        r#"# nginx for {name}, written by `drydock deploy`: terminates TLS on 8443 (published as
# ${{HTTPS_PORT:-{https_port}}}), redirects plain HTTP to HTTPS on port {https_port}, and proxies to the app,
# which publishes no port. nginx cannot read the environment: the redirect's port is the one
# deploy was given (HTTPS_PORT={https_port}); to publish HTTPS elsewhere, deploy again with that HTTPS_PORT.
# It runs as a non-root user on a read-only filesystem, so everything it writes goes to /tmp.
{note}worker_processes auto;
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

{upstream}    server {{
        listen 8080;
        location / {{
            return 301 {origin}$request_uri;
        }}
    }}

    server {{
        listen 8443 ssl;
        ssl_certificate {certs}/tls.crt;
        ssl_certificate_key {certs}/tls.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        add_header Strict-Transport-Security "max-age=31536000" always;

        location / {{
{pass}            proxy_set_header Host $host;
            # nginx is the edge: what the client claims is replaced, not appended to.
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Real-IP $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}
    }}
}}
"#,
        name = p.name,
        origin = https_origin(https_port),
        note = backend.note,
        upstream = backend.upstream,
        certs = backend.certs,
        pass = backend.pass,
    )
}
