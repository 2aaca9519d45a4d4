//! The view Compose rules see: each service of `compose.yaml`, `docker-compose.yml` and their
//! variants, with positions. A service's label `drydock.dev/ignore: CODE,CODE` suppresses
//! findings on it.

use std::collections::BTreeSet;

use crate::yaml::{Node, Value, YamlFile};

pub struct Service<'a> {
    pub path: &'a str,
    pub name: &'a str,
    /// The service's key in `services:`, for findings about the service as a whole.
    pub key: &'a Node,
    pub node: &'a Node,
    pub ignored: BTreeSet<String>,
}

impl Service<'_> {
    /// Reverse proxies are the services that are meant to publish ports.
    pub fn is_proxy(&self) -> bool {
        let image = self
            .node
            .at("image")
            .as_str()
            .unwrap_or("")
            .to_ascii_lowercase();
        let name = self.name.to_ascii_lowercase();
        ["nginx", "openresty", "traefik", "caddy", "haproxy", "envoy"]
            .iter()
            .any(|p| image.contains(p))
            || matches!(
                name.as_str(),
                "proxy"
                    | "nginx"
                    | "openresty"
                    | "traefik"
                    | "caddy"
                    | "haproxy"
                    | "envoy"
                    | "gateway"
                    | "ingress"
            )
    }
}

pub struct ComposeCtx<'a> {
    pub services: Vec<Service<'a>>,
}

impl<'a> ComposeCtx<'a> {
    /// Reads the services of the files.
    pub fn new(files: &'a [YamlFile]) -> ComposeCtx<'a> {
        let mut services = Vec::new();
        for f in files {
            for d in &f.docs {
                if let Value::Map(entries) = &d.at("services").value {
                    for (k, v) in entries {
                        services.push(Service {
                            path: &f.path,
                            name: k.as_str().unwrap_or(""),
                            key: k,
                            node: v,
                            ignored: labels_ignore(v),
                        });
                    }
                }
            }
        }
        ComposeCtx { services }
    }
}

fn labels_ignore(node: &Node) -> BTreeSet<String> {
    let labels = node.at("labels");
    let raw = match &labels.value {
        Value::Map(_) => labels.at("drydock.dev/ignore").as_str().map(str::to_string),
        Value::Seq(items) => items
            .iter()
            .filter_map(|i| i.as_str())
            .find_map(|s| s.strip_prefix("drydock.dev/ignore=").map(str::to_string)),
        _ => None,
    };
    raw.map(|s| crate::options::parse_codes(&s))
        .unwrap_or_default()
}

/// Published ports as (node, host ip if given, container port) from short or long syntax.
pub fn published<'a>(s: &Service<'a>) -> Vec<(&'a Node, Option<String>, String)> {
    let mut out = Vec::new();
    for p in s.node.at("ports").seq() {
        if let Some(t) = p.text() {
            // [HOST_IP:]HOST_PORT:CONTAINER_PORT[/proto], or just CONTAINER_PORT (a random host port).
            let t = t.split('/').next().unwrap_or(&t).to_string();
            let parts: Vec<&str> = rsplit_ports(&t);
            match parts.as_slice() {
                [c] => out.push((p, None, c.to_string())),
                [_, c] => out.push((p, None, c.to_string())),
                [ip, _, c] => out.push((
                    p,
                    Some(ip.trim_matches(['[', ']']).to_string()),
                    c.to_string(),
                )),
                _ => {}
            }
        } else if p.get("target").is_some() {
            let ip = p.at("host_ip").as_str().map(str::to_string);
            out.push((p, ip, p.at("target").text().unwrap_or_default()));
        }
    }
    out
}

/// Splits `ip:host:container` keeping `${VAR:-default}` and `[::1]` intact.
fn rsplit_ports(t: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, c) in t.char_indices() {
        match c {
            '{' | '[' => depth += 1,
            '}' | ']' => depth -= 1,
            ':' if depth == 0 => {
                parts.push(&t[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&t[start..]);
    parts
}
