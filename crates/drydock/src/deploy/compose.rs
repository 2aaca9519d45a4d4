//! The one-machine deployment (`compose/`): a Compose file with the app behind an nginx TLS
//! terminator, and the nginx.conf. The app publishes no port; only the proxy does, and port 80
//! only redirects to HTTPS. Both containers run read-only, as a non-root user, with no
//! capabilities. The Swarm stack ([`super::swarm`]) builds on this bundle.

use std::collections::BTreeMap;
use std::path::Path;

use super::spec::{dur, ComposeFile, DependsOn, FileSource, Healthcheck, Port, SecretRef, Service};
use super::{nginx, yaml, Bundle, Context, DeployError, GeneratedFile};
use crate::project::Project;

/// The Compose bundle: compose/compose.yaml and compose/nginx.conf.
pub struct Compose;

impl Bundle for Compose {
    fn files(&self, cx: &Context) -> Result<Vec<GeneratedFile>, DeployError> {
        let (p, image, https_port) = (cx.project, cx.image, cx.https_port);
        let yaml = yaml::to_string(&compose(p, &image.local, https_port), yaml::Keys::Declared)
            .map_err(|e| DeployError::Yaml {
                what: "the Compose file".into(),
                message: e.to_string(),
            })?;
        let mut head = format!("# Compose bundle for {}, written by `drydock deploy`: the app behind an nginx TLS terminator.\n", p.name);
        head.push_str(&format!("#   docker compose up -d   # HTTPS on ${{HTTPS_PORT:-{https_port}}}, a redirect to it on ${{HTTP_PORT:-80}}\n# The redirect names port {https_port} (HTTPS_PORT when deploy ran): publishing HTTPS elsewhere\n# needs `HTTPS_PORT=N drydock deploy` again, since nginx cannot read the environment.\n"));
        match &image.digest {
            Some(d) => head.push_str(&format!("# The app image is the local engine's {} ({d}): load it first with\n#   drydock build --load docker\n", image.local)),
            None => head.push_str(&format!("# The app image: {}\n", image.local)),
        }
        head.push_str("# The proxy has no healthcheck (drydock lint's CP006 is ignored on it): nginx images carry no\n# probe tool. Compose restarts it if it exits");
        head.push_str(if p.image.helper {
            ", and the app behind it is health-checked.\n"
        } else {
            ". The app has no health check either: it was built\n# without drydock-helper (helper = false), and scratch has no probe tool; the proxy waits only\n# for it to start.\n"
        });
        head.push_str("# Put certs/tls.crt and certs/tls.key beside this file (`--tls self-signed` writes a development pair),\n# readable by uid 65532");
        head.push_str(&secrets_comment(p, ":\n"));
        let mut files = vec![
            GeneratedFile::new("compose/compose.yaml", format!("{head}{yaml}")),
            GeneratedFile::new("compose/nginx.conf", nginx_conf(p, https_port)),
        ];
        // An image of several: its own Compose project, named in .env (which docker-compose 1
        // reads too; a top-level `name:` it refuses), since every bundle's directory is
        // `compose/`, and one project would replace the other's containers.
        if let Some(project) = &p.deploy.compose_project {
            files.push(GeneratedFile::new(
                "compose/.env",
                format!("# Written by `drydock deploy`: each image of the repository is its own Compose project.\n# Set HTTPS_PORT and HTTP_PORT here too when several bundles run on one host.\nCOMPOSE_PROJECT_NAME={project}\n"),
            ));
        }
        Ok(files)
    }

    fn certificates(&self) -> Option<&'static str> {
        Some("compose/certs")
    }

    fn notes(&self, p: &Project) -> Vec<String> {
        secret_file_notes(p)
    }
}

/// The Compose file, running `image` (what the local engine has).
pub fn compose(p: &Project, image: &str, https_port: u16) -> ComposeFile {
    let r = &p.runtime.resources;
    let mut app = hardened(image, &format!("{}:{}", p.image.user.0, p.image.user.1));
    app.tmpfs = vec!["/tmp:size=64m,mode=1777".into()];
    app.cpus = Some(crate::quantity::cpus_flag(r.cpu_limit_milli));
    app.mem_limit = Some(format!("{}b", r.memory_limit));
    app.mem_reservation = Some(format!("{}b", r.memory_request));
    let mut environment = p.image.env.clone();
    let mut secrets = BTreeMap::new();
    for s in &p.deploy.secrets {
        // Compose mounts secrets as files; the app reads <VAR>_FILE (as the examples do).
        environment.insert(format!("{}_FILE", s.env), format!("/run/secrets/{}", s.key));
        app.secrets.push(SecretRef::Name(s.key.clone()));
        secrets.insert(
            s.key.clone(),
            FileSource {
                file: format!("./secrets/{}", s.key),
            },
        );
    }
    app.environment = Some(environment).filter(|e| !e.is_empty());
    app.expose = vec![p.port.to_string()];
    if p.image.helper {
        app.healthcheck = Some(Healthcheck::helper_probe(p));
    } else {
        // Without the helper the image has no probe tool; the header of compose.yaml says so.
        app.labels = super::spec::no_probe_label();
    }
    app.stop_grace_period = Some(dur(p.runtime.shutdown_grace));

    let mut proxy = hardened("${NGINX_IMAGE:-nginx:1.27}", "65532:65532");
    proxy.tmpfs = vec!["/tmp:size=16m,mode=1777".into()];
    proxy.ports = vec![
        Port::Short(format!(
            "${{BIND_ADDRESS:-0.0.0.0}}:${{HTTPS_PORT:-{https_port}}}:8443"
        )),
        Port::Short("${BIND_ADDRESS:-0.0.0.0}:${HTTP_PORT:-80}:8080".into()),
    ];
    proxy.volumes = vec![
        super::spec::Volume::Bind("./nginx.conf:/etc/nginx/nginx.conf:ro".into()),
        super::spec::Volume::Bind("./certs:/etc/nginx/certs:ro".into()),
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
    proxy.labels = super::spec::no_probe_label();

    ComposeFile {
        services: BTreeMap::from([("app".to_string(), app), ("proxy".to_string(), proxy)]),
        secrets,
        ..Default::default()
    }
}

/// A Compose service read-only as `user`, with no capabilities, no new privileges, and
/// restarted unless stopped.
fn hardened(image: &str, user: &str) -> Service {
    Service {
        security_opt: vec!["no-new-privileges:true".into()],
        restart: Some("unless-stopped".into()),
        ..Service::hardened(image, user)
    }
}

/// nginx for the bundle: the app's one container, by its service name.
pub fn nginx_conf(p: &Project, https_port: u16) -> String {
    let backend = nginx::Backend {
        note: "",
        upstream: format!(
            "    upstream app {{\n        server app:{};\n        keepalive 16;\n    }}\n\n",
            p.port
        ),
        certs: "/etc/nginx/certs",
        pass: "            proxy_pass http://app;\n            proxy_http_version 1.1;\n            proxy_set_header Connection \"\";\n".into(),
    };
    nginx::conf(p, https_port, &backend)
}

/// The end of a bundle's header sentence: where each secret's value goes, and the variable the
/// app reads it through (`lead` introduces the list). The Swarm stack's header ends the same.
pub(super) fn secrets_comment(p: &Project, lead: &str) -> String {
    if p.deploy.secrets.is_empty() {
        return ".\n".into();
    }
    let mut out = format!(", and each secret's value in secrets/<key>{lead}");
    for s in &p.deploy.secrets {
        out.push_str(&format!(
            "#   secrets/{}  ->  {} (the app reads {}_FILE)\n",
            s.key, s.env, s.env
        ));
    }
    out
}

/// Compose and Swarm deliver each secret as a file and set `<VAR>_FILE` to its path, never
/// `<VAR>` itself: an app that reads only `<VAR>` gets nothing. Says so for each secret, more
/// loudly when the app's sources never mention `<VAR>_FILE`.
pub(super) fn secret_file_notes(p: &Project) -> Vec<String> {
    let sources = source_text(&p.root);
    p.deploy.secrets
        .iter()
        .map(|s| {
            let file_var = format!("{}_FILE", s.env);
            if sources.contains(&file_var) {
                format!(
                    "compose/swarm: secret {} reaches the app as the file /run/secrets/{}, whose path is in {file_var} (not {}); the app reads {file_var}",
                    s.key, s.key, s.env
                )
            } else {
                format!(
                    "compose/swarm: secret {} reaches the app as the file /run/secrets/{}, whose path is in {file_var}; {} itself is not set, and the app's sources never mention {file_var}, so it will get nothing: make it read the file named by {file_var} (Kubernetes sets {} directly)",
                    s.key, s.key, s.env, s.env
                )
            }
        })
        .collect()
}

/// The Go and Rust sources under `root` (vendor/, target/ and hidden folders skipped), joined,
/// for [`secret_file_notes`]'s look for a variable's name.
fn source_text(root: &Path) -> String {
    let mut text = String::new();
    let mut stack = vec![root.to_path_buf()];
    let mut budget = 4000usize;
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            if budget == 0 {
                return text;
            }
            budget -= 1;
            let name = e.file_name().to_string_lossy().into_owned();
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                if !name.starts_with('.')
                    && !["vendor", "target", "node_modules", "deploy"].contains(&name.as_str())
                {
                    stack.push(e.path());
                }
            } else if ft.is_file() && (name.ends_with(".go") || name.ends_with(".rs")) {
                if let Ok(t) = std::fs::read_to_string(e.path()) {
                    text.push_str(&t);
                }
            }
        }
    }
    text
}
