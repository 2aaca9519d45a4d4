//! The Swarm stack, run for real on a single-node swarm the test creates (and leaves, when it
//! created it): replicas become healthy, requests through nginx reach every replica, a replica
//! made unhealthy is replaced by Swarm, a rolling update to a changed image under load fails no
//! request, and `docker stack rm` leaves no service, network, secret or config behind.

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;

fn docker(args: &[&str]) -> String {
    run_ok(engine("docker").args(args))
}

/// GET through nginx (TLS, self-signed): (status, body).
fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let o = Command::new("curl")
        .args(["-sk", "--max-time", "5", "-w", "\n%{http_code}"])
        .arg(format!("https://127.0.0.1:{port}{path}"))
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n')?;
    Some((code.trim().parse().ok()?, body.to_string()))
}

fn hostname(port: u16) -> Option<String> {
    let (code, body) = get(port, "/api/v1/whoami")?;
    if code != 200 {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(&body).ok()?;
    v["hostname"].as_str().map(str::to_string)
}

struct Stack {
    name: String,
    left_swarm: bool,
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = run(engine("docker").args(["stack", "rm", &self.name]));
        if self.left_swarm {
            std::thread::sleep(Duration::from_secs(5));
            let _ = run(engine("docker").args(["swarm", "leave", "--force"]));
        }
    }
}

fn service_running(stack: &str, service: &str, want: usize) -> bool {
    let out = docker(&[
        "service",
        "ps",
        &format!("{stack}_{service}"),
        "--filter",
        "desired-state=running",
        "--format",
        "{{.CurrentState}}",
    ]);
    out.lines().filter(|l| l.starts_with("Running")).count() == want
}

#[test]
fn a_swarm_stack_serves_heals_and_updates_without_failing_a_request() {
    require_tool("curl");
    run_ok(&mut Command::new(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/make-nginx-image"),
    ));
    let created = docker(&["info", "--format", "{{.Swarm.LocalNodeState}}"]).trim() != "active";
    if created {
        docker(&["swarm", "init", "--advertise-addr", "127.0.0.1"]);
    }
    let name = format!("dd{}", std::process::id());
    let stack = Stack {
        name: name.clone(),
        left_swarm: created,
    };

    let (_t, dir) = copy_example("gin-api");
    let cache = tempfile::tempdir().unwrap();
    let tag1 = format!("drydock-test/swarm-gin:{name}-1");
    build_json(&dir, cache.path(), &["--tag", &tag1, "--load", "docker"]);
    let out = dir.join("deploy");
    run_ok(
        drydock()
            .arg("deploy")
            .arg(&dir)
            .args([
                "--target",
                "swarm",
                "--tls",
                "self-signed",
                "--image",
                &tag1,
                "--out",
            ])
            .arg(&out),
    );
    let swarm = out.join("swarm");
    std::fs::create_dir_all(swarm.join("secrets")).unwrap();
    std::fs::write(swarm.join("secrets/api-token"), "swarm-token").unwrap();
    // For the test: the admin endpoint (to make a replica unhealthy) and a faster health check.
    let stack_file = std::fs::read_to_string(swarm.join("stack.yaml")).unwrap();
    let stack_file = stack_file
        .replace(
            "      API_TOKEN_FILE: /run/secrets/api-token\n",
            "      API_TOKEN_FILE: /run/secrets/api-token\n      ADMIN_ENABLED: 'true'\n",
        )
        .replace("      interval: 10s\n", "      interval: 2s\n")
        .replace("      timeout: 3s\n", "      timeout: 1s\n");
    assert!(stack_file.contains("ADMIN_ENABLED") && stack_file.contains("interval: 2s"));
    std::fs::write(swarm.join("stack.yaml"), stack_file).unwrap();
    let https = free_port();
    let http = free_port();
    run_ok(
        engine("docker")
            .args([
                "stack",
                "deploy",
                "--resolve-image",
                "never",
                "-c",
                "stack.yaml",
                &name,
            ])
            .current_dir(&swarm)
            .env("NGINX_IMAGE", "drydock-test/nginx:debian")
            .env("HTTPS_PORT", https.to_string())
            .env("HTTP_PORT", http.to_string()),
    );

    // Both replicas healthy, and nginx reaches each of them.
    eventually("two healthy replicas", Duration::from_secs(90), || {
        service_running(&name, "app", 2).then_some(())
    });
    eventually("nginx serves", Duration::from_secs(60), || {
        get(https, "/healthz").filter(|(c, _)| *c == 200)
    });
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..40 {
        if let Some(h) = hostname(https) {
            seen.insert(h);
        }
    }
    assert_eq!(seen.len(), 2, "requests reach every replica: {seen:?}");

    // A replica made unhealthy is replaced.
    let (code, _) = eventually("fail one replica's health", Duration::from_secs(20), || {
        let o = Command::new("curl")
            .args(["-sk", "-X", "POST", "-o", "/dev/null", "-w", "%{http_code}"])
            .arg(format!("https://127.0.0.1:{https}/admin/fail-health"))
            .output()
            .ok()?;
        let code: u16 = String::from_utf8_lossy(&o.stdout).trim().parse().ok()?;
        (code < 500).then_some((code, ()))
    });
    assert!(code < 300, "fail-health answered {code}");
    eventually(
        "Swarm replaces the unhealthy task",
        Duration::from_secs(90),
        || {
            let all = docker(&[
                "service",
                "ps",
                &format!("{name}_app"),
                "--format",
                "{{.DesiredState}} {{.CurrentState}}",
            ]);
            let replaced = all.lines().any(|l| l.starts_with("Shutdown"));
            (replaced && service_running(&name, "app", 2)).then_some(())
        },
    );

    // A rolling update to a changed image, under load: no request fails.
    let main = dir.join("main.go");
    let src = std::fs::read_to_string(&main).unwrap();
    std::fs::write(
        &main,
        src.replacen("shut down cleanly", "shut down cleanly (v2)", 1),
    )
    .unwrap();
    let tag2 = format!("drydock-test/swarm-gin:{name}-2");
    build_json(&dir, cache.path(), &["--tag", &tag2, "--load", "docker"]);
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let load = {
        let (stop, ok, failed) = (stop.clone(), ok.clone(), failed.clone());
        std::thread::spawn(move || {
            let mut failures = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                match get(https, "/api/v1/items") {
                    Some((200, _)) => {
                        ok.fetch_add(1, Ordering::SeqCst);
                    }
                    other => {
                        failed.fetch_add(1, Ordering::SeqCst);
                        failures.push(format!("{other:?}"));
                    }
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            failures
        })
    };
    docker(&[
        "service",
        "update",
        "--detach",
        "--no-resolve-image",
        "--image",
        &tag2,
        &format!("{name}_app"),
    ]);
    eventually("the update completes", Duration::from_secs(180), || {
        let s = docker(&[
            "service",
            "inspect",
            &format!("{name}_app"),
            "--format",
            "{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}",
        ]);
        (s.trim() == "completed").then_some(())
    });
    stop.store(true, Ordering::SeqCst);
    let failures = load.join().unwrap();
    assert!(ok.load(Ordering::SeqCst) > 20, "the load ran");
    assert_eq!(
        failed.load(Ordering::SeqCst),
        0,
        "requests failed during the update: {failures:?}"
    );
    let images = docker(&[
        "service",
        "ps",
        &format!("{name}_app"),
        "--filter",
        "desired-state=running",
        "--format",
        "{{.Image}}",
    ]);
    assert!(images.lines().all(|l| l == tag2), "{images}");

    // Removing the stack leaves nothing of it.
    docker(&["stack", "rm", &name]);
    eventually("the stack is gone", Duration::from_secs(60), || {
        let left = [
            docker(&["service", "ls", "--format", "{{.Name}}"]),
            docker(&["network", "ls", "--format", "{{.Name}}"]),
            docker(&["secret", "ls", "--format", "{{.Name}}"]),
            docker(&["config", "ls", "--format", "{{.Name}}"]),
        ];
        left.iter()
            .all(|l| !l.lines().any(|n| n.starts_with(&format!("{name}_"))))
            .then_some(())
    });
    drop(stack);
    if created {
        eventually("the swarm is left", Duration::from_secs(30), || {
            (docker(&["info", "--format", "{{.Swarm.LocalNodeState}}"]).trim() == "inactive")
                .then_some(())
        });
    }
    for t in [&tag1, &tag2] {
        let _ = run(engine("docker").args(["rmi", "-f", t]));
    }
}
