//! The Compose bundle, run for real: the example image from `drydock build` behind nginx (an
//! image made from Debian's nginx package), TLS with the generated certificate on loopback
//! ports, the client's address through X-Forwarded-For, no published app port, a clean down.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::*;

fn compose(
    dir: &Path,
    project: &str,
    env: &[(&str, String)],
    args: &[&str],
) -> std::process::Output {
    let mut c = Command::new("docker-compose");
    c.current_dir(dir)
        .env("COMPOSE_PROJECT_NAME", project)
        .args(["-f", "compose.yaml"])
        .args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    run(&mut c)
}

fn curl(args: &[&str]) -> String {
    run_ok(
        Command::new("curl")
            .args(["-sS", "--max-time", "5"])
            .args(args),
    )
}

#[test]
fn compose_bundle_serves_through_the_tls_proxy() {
    for t in ["docker", "docker-compose", "curl"] {
        require_tool(t);
    }
    run_ok(&mut Command::new(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/make-nginx-image"),
    ));
    let (_t, dir) = copy_example("gin-api");
    let cache = tempfile::tempdir().unwrap();
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
        % 1_000_000_000;
    let tag = format!("drydock-test/gin-api:compose{n}");
    build_json(&dir, cache.path(), &["--tag", &tag, "--load", "docker"]);
    let out = dir.join("deploy");
    let (https, http) = (free_port(), free_port());
    run_ok(
        drydock()
            .env("HTTPS_PORT", https.to_string())
            .arg("deploy")
            .arg(&dir)
            .args([
                "--target",
                "compose",
                "--tls",
                "self-signed",
                "--image",
                &tag,
                "--out",
            ])
            .arg(&out),
    );
    let cdir = out.join("compose");
    std::fs::create_dir_all(cdir.join("secrets")).unwrap();
    std::fs::write(cdir.join("secrets/api-token"), "compose-secret\n").unwrap();

    let project = format!("drydock{n}");
    let env = [
        ("NGINX_IMAGE", "drydock-test/nginx:debian".to_string()),
        ("BIND_ADDRESS", "127.0.0.1".to_string()),
        ("HTTPS_PORT", https.to_string()),
        ("HTTP_PORT", http.to_string()),
    ];
    struct Down<'a>(&'a Path, &'a str, &'a [(&'a str, String)]);
    impl Drop for Down<'_> {
        fn drop(&mut self) {
            let _ = compose(
                self.0,
                self.1,
                self.2,
                &["down", "--volumes", "--remove-orphans"],
            );
        }
    }
    let _down = Down(&cdir, &project, &env);
    let up = compose(&cdir, &project, &env, &["up", "-d"]);
    assert!(
        up.status.success(),
        "compose up: {}",
        String::from_utf8_lossy(&up.stderr)
    );

    let cacert = cdir.join("certs/tls.crt");
    let cacert = cacert.to_str().unwrap();
    let url = |path: &str| format!("https://localhost:{https}{path}");
    let health = eventually(
        "HTTPS /healthz through nginx",
        Duration::from_secs(60),
        || {
            let o = run(Command::new("curl").args([
                "-sS",
                "--max-time",
                "5",
                "--cacert",
                cacert,
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                &url("/healthz"),
            ]));
            (String::from_utf8_lossy(&o.stdout) == "200").then_some(())
        },
    );
    let _ = health;
    // Verified against the generated certificate (no -k anywhere).
    assert!(curl(&["--cacert", cacert, &url("/healthz")]).contains("\"ok\""));

    // The app sees the client's address, not nginx's, through X-Forwarded-For.
    let who: serde_json::Value =
        serde_json::from_str(&curl(&["--cacert", cacert, &url("/api/v1/whoami")])).unwrap();
    let proxy_id =
        String::from_utf8_lossy(&compose(&cdir, &project, &env, &["ps", "-q", "proxy"]).stdout)
            .trim()
            .to_string();
    let net = run_ok(engine("docker").args([
        "inspect",
        "--format",
        "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{.Gateway}}{{end}}",
        &proxy_id,
    ]));
    let (proxy_ip, gateway) = net.trim().split_once(' ').unwrap();
    assert_eq!(who["client_ip"], gateway, "{who}");
    assert!(
        who["remote_addr"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{proxy_ip}:")),
        "{who}"
    );
    // A forged header from the client does not pass through.
    let forged: serde_json::Value = serde_json::from_str(&curl(&[
        "--cacert",
        cacert,
        "-H",
        "X-Forwarded-For: 6.6.6.6",
        &url("/api/v1/whoami"),
    ]))
    .unwrap();
    assert_eq!(forged["client_ip"], gateway, "{forged}");

    // Plain HTTP only redirects, to the port HTTPS is published on (not 443).
    let redirect = curl(&[
        "-o",
        "/dev/null",
        "-w",
        "%{http_code} %{redirect_url}",
        &format!("http://127.0.0.1:{http}/healthz"),
    ]);
    assert_eq!(
        redirect,
        format!("301 https://127.0.0.1:{https}/healthz"),
        "{redirect}"
    );
    // Following it lands on the app.
    let followed = curl(&[
        "-L",
        "--cacert",
        cacert,
        &format!("http://localhost:{http}/healthz"),
    ]);
    assert!(followed.contains("\"ok\""), "{followed}");

    // The app's own port is not published.
    let app_id =
        String::from_utf8_lossy(&compose(&cdir, &project, &env, &["ps", "-q", "app"]).stdout)
            .trim()
            .to_string();
    assert_eq!(
        run_ok(engine("docker").args([
            "inspect",
            "--format",
            "{{json .HostConfig.PortBindings}}",
            &app_id
        ]))
        .trim(),
        "{}"
    );
    assert_eq!(run_ok(engine("docker").args(["port", &app_id])).trim(), "");
    assert_eq!(
        run_ok(engine("docker").args([
            "inspect",
            "--format",
            "{{.State.Health.Status}} {{.HostConfig.ReadonlyRootfs}} {{.Config.User}}",
            &app_id
        ]))
        .trim(),
        "healthy true 65532:65532"
    );

    let down = compose(
        &cdir,
        &project,
        &env,
        &["down", "--volumes", "--remove-orphans"],
    );
    assert!(
        down.status.success(),
        "compose down: {}",
        String::from_utf8_lossy(&down.stderr)
    );
    let left = run_ok(engine("docker").args([
        "ps",
        "-aq",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
    ]));
    assert!(left.trim().is_empty(), "containers left: {left}");
    let nets = run_ok(engine("docker").args([
        "network",
        "ls",
        "-q",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
    ]));
    assert!(nets.trim().is_empty(), "networks left: {nets}");
    let _ = run(engine("docker").args(["rmi", "-f", &tag]));
}

/// Without --image, the Compose bundle names what the local engine has after `build --load
/// docker`: the tag, with the digest in a comment, never `name:tag@digest`.
#[test]
fn compose_refers_to_the_local_tag() {
    let (_t, dir) = copy_example("gin-api");
    let cache = tempfile::tempdir().unwrap();
    let tag = format!("drydock-compose-ref:{}", std::process::id());
    let toml = dir.join("drydock.toml");
    let cfg = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(
        &toml,
        cfg.replace("[image]\n", &format!("[image]\ntag = \"{tag}\"\n")),
    )
    .unwrap();
    let built = build_json(&dir, cache.path(), &["--load", "docker"]);
    run_ok(test_env(
        drydock()
            .arg("deploy")
            .arg(&dir)
            .args(["--target", "compose"])
            .arg("--cache-dir")
            .arg(cache.path()),
    ));
    let text = std::fs::read_to_string(dir.join("deploy/compose/compose.yaml")).unwrap();
    let compose: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
    let image = compose["services"]
        .as_mapping()
        .unwrap()
        .values()
        .filter_map(|s| s["image"].as_str())
        .find(|i| i.starts_with("drydock-compose-ref"))
        .unwrap()
        .to_string();
    assert_eq!(image, tag, "{text}");
    assert!(
        text.contains(built["digest"].as_str().unwrap()),
        "digest in a comment: {text}"
    );
    run_ok(engine("docker").args(["image", "inspect", &image]));
    let _ = run(engine("docker").args(["rmi", "-f", &tag]));
}
