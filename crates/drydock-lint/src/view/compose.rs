//! The view Compose rules see: each service of `compose.yaml`, `docker-compose.yml` and their
//! variants, with positions. A service's label `drydock.dev/ignore: CODE,CODE` suppresses
//! findings on it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::discover::normalize;

use super::purpose::{self as purposes, Purpose, Runs};
use crate::yaml::{Node, Value, YamlFile};

pub struct Service<'a> {
    pub path: &'a str,
    pub name: &'a str,
    /// The service's key in `services:`, for findings about the service as a whole.
    pub key: &'a Node,
    pub node: &'a Node,
    /// Codes suppressed by the `drydock.dev/ignore` label, as written (upper case): the runner
    /// expands families and retired codes.
    pub ignored: BTreeSet<String>,
    /// What the service is for (see [`purpose`]).
    pub purpose: Purpose,
    /// Its file is a test or CI stack, by its own word or its place (see [`test_stack`]).
    pub test_stack: bool,
}

impl Service<'_> {
    /// Reverse proxies are the services that are meant to publish ports: by image, by a word of
    /// the name (`proxy`, `front-envoy`, `api_gateway`), or by the Dockerfile they build.
    pub fn is_proxy(&self) -> bool {
        const PROXIES: [&str; 6] = ["nginx", "openresty", "traefik", "caddy", "haproxy", "envoy"];
        let image = self
            .node
            .at("image")
            .as_str()
            .unwrap_or("")
            .to_ascii_lowercase();
        let build = self.node.at("build");
        let built = format!(
            "{} {}",
            build.at("dockerfile").as_str().unwrap_or(""),
            build
                .at("context")
                .as_str()
                .or(build.as_str())
                .unwrap_or("")
        )
        .to_ascii_lowercase();
        let name = self.name.to_ascii_lowercase();
        // Proxies of something else than the service's HTTP clients: the Docker socket, a
        // database (cloud-sql-proxy), outbound traffic (squid).
        if ["socket", "sql", "squid"]
            .iter()
            .any(|w| name.contains(w) || image.contains(w))
        {
            return false;
        }
        PROXIES
            .iter()
            .any(|p| image.contains(p) || built.contains(p))
            || name.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| {
                PROXIES.contains(&w)
                    || matches!(w, "proxy" | "reverseproxy" | "gateway" | "ingress" | "lb")
            })
    }
}

pub struct ComposeCtx<'a> {
    pub services: Vec<Service<'a>>,
}

impl<'a> ComposeCtx<'a> {
    /// A service's `key`, or the one it inherits through `extends:` from a service of the same
    /// file or of another file of the input (`extends: {file: …}`, relative to the extending
    /// file, as Compose reads it). [`Field::Unknown`] when the service it extends is not in the
    /// input: rules about an absent field then cannot tell.
    pub fn field(&self, s: &Service<'a>, key: &str) -> Field<'a> {
        let mut node = s.node;
        let mut path = PathBuf::from(s.path);
        for _ in 0..8 {
            if let Some(v) = node.get(key) {
                return Field::Set(v);
            }
            let ext = node.at("extends");
            if ext.is_null() {
                return Field::Absent;
            }
            if let Some(file) = ext.at("file").as_str() {
                path = normalize(&path.parent().unwrap_or(Path::new("")).join(file));
            }
            let base = ext.as_str().or(ext.at("service").as_str()).unwrap_or("");
            match self
                .services
                .iter()
                .find(|o| o.name == base && normalize(Path::new(o.path)) == normalize(&path))
            {
                Some(o) => node = o.node,
                None => return Field::Unknown,
            }
        }
        Field::Absent
    }
}

/// A Compose service's field, as [`ComposeCtx::field`] finds it.
#[derive(Clone, Copy)]
pub enum Field<'a> {
    Set(&'a Node),
    Absent,
    /// Maybe inherited from another file's service.
    Unknown,
}

/// A Compose file that runs a project's tests or CI, not a deployment: it lives in a folder
/// named `test`, `tests`, `testing`, `e2e`, `ci` or `*_tests` (`integration_tests`: the
/// conventions of test suites and CI configuration),
/// or its opening comments say it is for testing or development only. Its credentials are the
/// test's own, which the test code must know.
pub fn test_stack(f: &YamlFile) -> bool {
    let in_test_folder = Path::new(&f.path)
        .parent()
        .into_iter()
        .flat_map(Path::components)
        .any(|c| {
            let name = c.as_os_str().to_string_lossy().to_ascii_lowercase();
            matches!(name.as_str(), "test" | "tests" | "testing" | "e2e" | "ci")
                || ["_tests", "-tests", "_test", "-test"]
                    .iter()
                    .any(|s| name.ends_with(s))
        });
    let header = f.header.to_ascii_lowercase();
    let says_so = [
        "not use in production",
        "not for production",
        "development only",
        "testing only",
        "test and development",
    ]
    .iter()
    .any(|w| header.contains(w));
    in_test_folder || says_so
}

impl<'a> ComposeCtx<'a> {
    /// Reads the services of the files.
    pub fn new(files: &'a [YamlFile]) -> ComposeCtx<'a> {
        let mut services = Vec::new();
        for f in files {
            let test = test_stack(f);
            for d in &f.docs {
                if let Value::Map(entries) = &d.at("services").value {
                    for (k, v) in entries {
                        services.push(Service {
                            path: &f.path,
                            name: k.as_str().unwrap_or(""),
                            key: k,
                            node: v,
                            ignored: labels_ignore(v),
                            purpose: Purpose::Service,
                            test_stack: test,
                        });
                    }
                }
            }
        }
        // Per Compose file: the input may hold many projects.
        let completed: BTreeSet<(&str, String)> = services
            .iter()
            .flat_map(|s| {
                waits_for_completion(s.node)
                    .into_iter()
                    .map(|n| (s.path, n))
            })
            .collect();
        for s in &mut services {
            s.purpose = purpose(
                s.name,
                s.node,
                completed.contains(&(s.path, s.name.to_string())),
            );
        }
        ComposeCtx { services }
    }
}

/// The services `node` waits for with `condition: service_completed_successfully`.
fn waits_for_completion(node: &Node) -> Vec<String> {
    match &node.at("depends_on").value {
        Value::Map(m) => m
            .iter()
            .filter(|(_, v)| v.at("condition").as_str() == Some("service_completed_successfully"))
            .filter_map(|(k, _)| k.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// What a Compose service is for, decided once for every rule:
/// - a toolbox when it is never started (`deploy.replicas: 0`, a client to `docker compose run`)
///   or its command only keeps it alive (`sleep infinity`, `tail -f /dev/null`);
/// - a one-shot job when another service waits for it to complete
///   (`condition: service_completed_successfully`), or when it is not told to restart forever
///   (`restart` unset, `"no"` or `on-failure`) and either its command's last step is a program
///   that finishes (`echo`, `mc mb`, `psql < x.sql`, `go build`…) or, publishing no port, its
///   name says it runs once (`*-init`, `setup`, `migrate`, `prepare_*`, `createbuckets`);
/// - a long-running service otherwise (`restart: always` or `unless-stopped` always is one).
pub fn purpose(name: &str, node: &Node, completion_awaited: bool) -> Purpose {
    if node.at("deploy").at("replicas").as_i64() == Some(0) || node.at("scale").as_i64() == Some(0)
    {
        return Purpose::Toolbox;
    }
    let mut argv = purposes::argv(node.at("entrypoint"));
    argv.extend(purposes::argv(node.at("command")));
    let runs = purposes::runs(&argv);
    if runs == Runs::KeepAlive {
        return Purpose::Toolbox;
    }
    if completion_awaited {
        return Purpose::OneShot;
    }
    let restart = node.at("restart").text().unwrap_or_default();
    let forever = matches!(restart.as_str(), "always" | "unless-stopped")
        || matches!(
            node.at("deploy")
                .at("restart_policy")
                .at("condition")
                .as_str(),
            Some("any")
        );
    if forever {
        return Purpose::Service;
    }
    let publishes = !node.at("ports").seq().is_empty();
    if runs == Runs::ToCompletion || (!publishes && purposes::name_says_one_shot(name)) {
        return Purpose::OneShot;
    }
    Purpose::Service
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
    raw.map(|s| crate::suppress::split_codes(&s))
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
