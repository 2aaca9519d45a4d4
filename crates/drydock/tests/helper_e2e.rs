//! drydock-helper in real containers (Docker Engine and podman): GOMAXPROCS and GOMEMLIMIT from
//! the cgroup limits, graceful stop and zombie reaping as PID 1, the health check, and
//! `drydock run`.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

fn unique(name: &str) -> String {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("drydock-test/{name}:h{}", n % 1_000_000_000)
}

/// Builds `dir` into a docker archive and loads it into both engines; returns the references.
fn build_and_load(dir: &Path, cache: &Path, name: &str) -> (String, String) {
    require_tool("docker");
    require_tool("podman");
    let tag = unique(name);
    let archive = cache.join(format!("{name}.tar"));
    build_json(
        dir,
        cache,
        &[
            "--tag",
            &tag,
            "--output",
            &format!("docker-archive:{}", archive.display()),
        ],
    );
    run_ok(engine("docker").arg("load").arg("-i").arg(&archive));
    run_ok(engine("podman").arg("load").arg("-i").arg(&archive));
    (tag.clone(), format!("localhost/{tag}"))
}

fn goenv(eng: &str, image: &str, flags: &[&str]) -> serde_json::Value {
    let out = run(engine(eng).args(["run", "--rm"]).args(flags).arg(image));
    assert!(
        out.status.success(),
        "{eng} run {flags:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("drydock-helper: "),
        "the helper says what it decided: {said}"
    );
    v
}

#[test]
fn gomaxprocs_and_gomemlimit_follow_the_limits_in_docker_and_podman() {
    require_tool("go");
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("goenv");
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/goenv"),
        &dir,
    );
    let cache = tempfile::tempdir().unwrap();
    let (docker_ref, podman_ref) = build_and_load(&dir, cache.path(), "goenv");
    let cpus = std::thread::available_parallelism().unwrap().get() as i64;
    let mib256 = 256i64 << 20;
    for (eng, image) in [
        ("docker", docker_ref.as_str()),
        ("podman", podman_ref.as_str()),
    ] {
        // --cpus 1.5 rounds up to 2 (documented: like Go 1.25), capped at the machine's CPUs.
        let v = goenv(eng, image, &["--cpus", "1.5", "--memory", "256m"]);
        let want = 2.min(cpus);
        assert_eq!(v["GOMAXPROCS"], want.to_string(), "{eng}: {v}");
        assert_eq!(v["runtime_gomaxprocs"], want, "{eng}: {v}");
        let limit: i64 = v["GOMEMLIMIT"].as_str().unwrap().parse().unwrap();
        assert_eq!(
            limit,
            (mib256 as f64 * 0.9) as i64,
            "{eng}: about 0.9 × 256 MiB"
        );
        assert_eq!(
            v["runtime_memlimit"], limit,
            "{eng}: the Go runtime took it"
        );

        let v = goenv(eng, image, &["--cpus", "0.5", "--memory", "256m"]);
        assert_eq!(v["GOMAXPROCS"], "1", "{eng}: {v}");

        // Without limits both are left alone.
        let v = goenv(eng, image, &[]);
        assert_eq!(
            (v["GOMAXPROCS"].as_str(), v["GOMEMLIMIT"].as_str()),
            (Some(""), Some("")),
            "{eng}: {v}"
        );
        assert_eq!(v["runtime_gomaxprocs"], cpus);
        assert_eq!(v["runtime_memlimit"], i64::MAX);

        // The user's values win.
        let v = goenv(
            eng,
            image,
            &[
                "--cpus",
                "1.5",
                "--memory",
                "256m",
                "-e",
                "GOMAXPROCS=3",
                "-e",
                "GOMEMLIMIT=100MiB",
            ],
        );
        assert_eq!(
            (v["GOMAXPROCS"].as_str(), v["GOMEMLIMIT"].as_str()),
            (Some("3"), Some("100MiB")),
            "{eng}: {v}"
        );
        assert_eq!(v["runtime_gomaxprocs"], 3);
        let _ = run(engine(eng).args(["rmi", "-f", image]));
    }
}

#[test]
fn stop_is_graceful_and_orphaned_zombies_are_reaped() {
    require_tool("go");
    let (_t, dir) = copy_example("gin-api");
    let cache = tempfile::tempdir().unwrap();
    let (docker_ref, podman_ref) = build_and_load(&dir, cache.path(), "gin-api");
    for (eng, image) in [
        ("docker", docker_ref.as_str()),
        ("podman", podman_ref.as_str()),
    ] {
        for with_helper in [true, false] {
            let port = free_port();
            let publish = format!("127.0.0.1:{port}:8080");
            let mut args = vec![
                "-p",
                publish.as_str(),
                "-e",
                "API_TOKEN=t",
                "-e",
                "ADMIN_ENABLED=true",
            ];
            if !with_helper {
                // The control: the Go app as PID 1 reaps nobody but its own children.
                args.extend(["--entrypoint", "/app/gin-api"]);
            }
            args.push(image);
            let c = Container::run(eng, &args);
            wait_http(port, "/healthz", 200, Duration::from_secs(30))
                .unwrap_or_else(|e| panic!("{e}\n{}", c.logs()));
            let init: u32 = c.inspect("{{.State.Pid}}").parse().unwrap();
            assert_eq!(
                http_post(port, "/admin/orphan").map(|r| r.0),
                Some(200),
                "{eng}"
            );
            // The grandchild sleeps 200 ms, then exits as an orphan of the container's PID 1.
            std::thread::sleep(Duration::from_millis(1500));
            let z = zombies_of(init);
            if with_helper {
                assert!(z.is_empty(), "{eng}: zombies left under the helper: {z:?}");
            } else {
                assert!(
                    !z.is_empty(),
                    "{eng}: the control (no helper) should show the zombie the helper reaps"
                );
                continue;
            }
            let start = Instant::now();
            run_ok(engine(eng).args(["stop", "-t", "10", &c.id]));
            let took = start.elapsed();
            let code = c.inspect("{{.State.ExitCode}}");
            let logs = c.logs();
            eprintln!("{eng}: stop took {took:?}, exit code {code}");
            assert_eq!(code, "0", "{eng}: graceful exit, not 143 or 137\n{logs}");
            assert!(
                logs.contains("received terminated") && logs.contains("shut down cleanly"),
                "{eng}: SIGTERM reached the app\n{logs}"
            );
            // Well inside the 10 s after which the engine would SIGKILL.
            assert!(took < Duration::from_secs(5), "{eng}: stop took {took:?}");
        }
    }
}

#[test]
fn docker_and_podman_report_health_from_the_helper_probe() {
    require_tool("go");
    let (_t, dir) = copy_example("gin-api");
    let cfg = std::fs::read_to_string(dir.join("drydock.toml")).unwrap();
    let fast = cfg
        .replace("interval = \"10s\"", "interval = \"1s\"")
        .replace("timeout = \"3s\"", "timeout = \"900ms\"")
        .replace("start_period = \"5s\"", "start_period = \"1s\"")
        .replace("retries = 3", "retries = 1");
    assert_ne!(
        fast, cfg,
        "the example's [health] settings are where this test expects them"
    );
    std::fs::write(dir.join("drydock.toml"), fast).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let (docker_ref, podman_ref) = build_and_load(&dir, cache.path(), "gin-api-health");

    let port = free_port();
    let publish = format!("127.0.0.1:{port}:8080");
    let c = Container::run(
        "docker",
        &[
            "-p",
            &publish,
            "-e",
            "API_TOKEN=t",
            "-e",
            "ADMIN_ENABLED=true",
            &docker_ref,
        ],
    );
    let hc = c.inspect("{{json .Config.Healthcheck}}");
    assert!(
        hc.contains("drydock-helper") && hc.contains("probe"),
        "{hc}"
    );
    eventually("docker to report healthy", Duration::from_secs(30), || {
        (c.inspect("{{.State.Health.Status}}") == "healthy").then_some(())
    });
    assert_eq!(
        http_post(port, "/admin/fail-health").map(|r| r.0),
        Some(200)
    );
    eventually(
        "docker to report unhealthy",
        Duration::from_secs(30),
        || (c.inspect("{{.State.Health.Status}}") == "unhealthy").then_some(()),
    );
    let log = c.inspect("{{json .State.Health.Log}}");
    assert!(log.contains("answered 503"), "{log}");
    drop(c);

    let port = free_port();
    let publish = format!("127.0.0.1:{port}:8080");
    let c = Container::run(
        "podman",
        &[
            "-p",
            &publish,
            "-e",
            "API_TOKEN=t",
            "-e",
            "ADMIN_ENABLED=true",
            &podman_ref,
        ],
    );
    wait_http(port, "/healthz", 200, Duration::from_secs(30)).unwrap();
    // podman kept the health check: the archive is in the Docker format.
    assert_eq!(
        run(engine("podman").args(["healthcheck", "run", &c.id]))
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        http_post(port, "/admin/fail-health").map(|r| r.0),
        Some(200)
    );
    assert_eq!(
        run(engine("podman").args(["healthcheck", "run", &c.id]))
            .status
            .code(),
        Some(1)
    );
    drop(c);
    let _ = run(engine("docker").args(["rmi", "-f", &docker_ref]));
    let _ = run(engine("podman").args(["rmi", "-f", &podman_ref]));
}

/// `drydock run` in `eng`: healthy, then SIGINT, then a clean stop and no container left.
fn run_and_interrupt(eng: &'static str, dir: &std::path::Path, cache: &std::path::Path) {
    require_tool(eng);
    let port = free_port();
    let tag = unique("gin-api-run");
    let hp = port.to_string();
    let (mut child, rx, reader) = spawn_run(
        dir,
        cache,
        &[
            "--engine",
            eng,
            "-e",
            "API_TOKEN=dev",
            "--host-port",
            &hp,
            "--tag",
            &tag,
        ],
        "is healthy on",
    );
    rx.recv_timeout(Duration::from_secs(120))
        .unwrap_or_else(|_| panic!("{eng}: drydock run reports the service healthy"));
    assert_eq!(http_get(port, "/healthz").map(|r| r.0), Some(200), "{eng}");
    run_ok(Command::new("kill").args(["-INT", &child.id().to_string()]));
    let status = child.wait().unwrap();
    let out = reader.join().unwrap();
    assert!(status.success(), "{eng}: {status}\n{out}");
    assert!(
        out.contains("shut down cleanly") && out.contains("exited with code 0"),
        "{eng}: {out}"
    );
    assert!(
        out.contains("--cpus 1 --memory 268435456b"),
        "limits from drydock.toml's defaults: {out}"
    );
    let left = run_ok(engine(eng).args([
        "ps",
        "-aq",
        "--filter",
        &format!("name=drydock-gin-api-{}", child.id()),
    ]));
    assert!(left.trim().is_empty(), "{eng}: container removed");
    let image = if eng == "podman" {
        format!("localhost/{tag}")
    } else {
        tag
    };
    let _ = run(engine(eng).args(["rmi", "-f", &image]));
}

#[test]
fn drydock_run_comes_up_healthy_and_stops_cleanly_on_sigint() {
    let (_t, dir) = copy_example("gin-api");
    let cache = tempfile::tempdir().unwrap();
    run_and_interrupt("docker", &dir, cache.path());
    run_and_interrupt("podman", &dir, cache.path());

    // A service that cannot start: drydock says why, with its last log lines.
    let out = run(drydock()
        .arg("run")
        .arg(&dir)
        .args([
            "--engine",
            "docker",
            "--host-port",
            &free_port().to_string(),
        ])
        .arg("--cache-dir")
        .arg(cache.path())
        .env_remove("API_TOKEN"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("exited with code 2 before it became healthy")
            && err.contains("API_TOKEN is not set"),
        "{err}"
    );
}

/// `drydock run DIR ARGS` in the background: the child, a signal when a stderr line contains
/// `marker`, and the whole of stderr once it exits.
fn spawn_run(
    dir: &std::path::Path,
    cache: &std::path::Path,
    args: &[&str],
    marker: &'static str,
) -> (
    std::process::Child,
    std::sync::mpsc::Receiver<()>,
    std::thread::JoinHandle<String>,
) {
    let mut child = drydock()
        .arg("run")
        .arg(dir)
        .args(args)
        .arg("--cache-dir")
        .arg(cache)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines() {
            let line = line.unwrap_or_default();
            if line.contains(marker) {
                let _ = tx.send(());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    (child, rx, reader)
}

/// Ctrl-C before the service is healthy: "interrupted", exit 130, the container removed. A
/// host port in use: which port and how to pick another, exit 2, no container left. And the
/// stop honours [lifecycle] shutdown_grace.
#[test]
fn drydock_run_interrupted_port_in_use_and_grace() {
    let (_t, dir) = copy_example("gin-api");
    let cache = tempfile::tempdir().unwrap();
    let toml = dir.join("drydock.toml");
    let cfg = std::fs::read_to_string(&toml).unwrap();
    let cfg = cfg.replace("shutdown_grace = \"15s\"", "shutdown_grace = \"2s\"");
    // Probed on a port the app does not listen on: it never becomes healthy.
    std::fs::write(&toml, cfg.replace("port = 8080", "port = 9999")).unwrap();
    let port = free_port();
    let hp = port.to_string();
    let (mut child, rx, reader) = spawn_run(
        &dir,
        cache.path(),
        &[
            "--engine",
            "docker",
            "-e",
            "API_TOKEN=dev",
            "-e",
            "PORT=8080",
            "--host-port",
            &hp,
        ],
        "started ",
    );
    rx.recv_timeout(Duration::from_secs(120))
        .expect("drydock run starts the container");
    std::thread::sleep(Duration::from_secs(2));
    run_ok(Command::new("kill").args(["-INT", &child.id().to_string()]));
    let status = child.wait().unwrap();
    let out = reader.join().unwrap();
    assert_eq!(status.code(), Some(130), "{out}");
    assert!(
        out.contains("interrupted before") && !out.contains("is healthy"),
        "{out}"
    );
    let left = run_ok(engine("docker").args([
        "ps",
        "-aq",
        "--filter",
        &format!("name=drydock-gin-api-{}", child.id()),
    ]));
    assert!(left.trim().is_empty(), "container removed: {left}");

    // The grace period: healthy this time, then SIGINT.
    std::fs::write(&toml, &cfg).unwrap();
    let (mut child, rx, reader) = spawn_run(
        &dir,
        cache.path(),
        &[
            "--engine",
            "docker",
            "-e",
            "API_TOKEN=dev",
            "--host-port",
            &hp,
        ],
        "is healthy on",
    );
    rx.recv_timeout(Duration::from_secs(120)).expect("healthy");
    run_ok(Command::new("kill").args(["-INT", &child.id().to_string()]));
    let status = child.wait().unwrap();
    let out = reader.join().unwrap();
    assert!(status.success(), "{out}");
    assert!(out.contains("SIGTERM, then SIGKILL after 2 s"), "{out}");

    // A port in use.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy_port = busy.local_addr().unwrap().port();
    let child = drydock()
        .arg("run")
        .arg(&dir)
        .args(["--engine", "docker", "-e", "API_TOKEN=dev"])
        .args(["--host-port", &busy_port.to_string()])
        .arg("--cache-dir")
        .arg(cache.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("port {busy_port} on 127.0.0.1 is already in use"))
            && err.contains("--host-port"),
        "{err}"
    );
    let left = run_ok(engine("docker").args([
        "ps",
        "-aq",
        "--filter",
        &format!("name=drydock-gin-api-{pid}"),
    ]));
    assert!(
        left.trim().is_empty(),
        "no container left in Created: {left}"
    );
    drop(busy);
}

/// `drydock run -e KEY` and `-e KEY=VALUE`: the container gets both values, yet no engine
/// command line ever holds one (every `docker` invocation is recorded by a wrapper that execs
/// the real Docker), the env file is 0600 while the engine reads it and gone afterwards, and
/// `-e KEY` with KEY unset is a usage error naming KEY.
#[test]
fn drydock_run_keeps_env_values_off_command_lines() {
    require_tool("docker");
    let (_t, dir) = copy_example("gin-api");
    let cache = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let bin = work.path().join("bin");
    let tmp = work.path().join("tmp");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(&tmp).unwrap();
    let real = run_ok(Command::new("sh").args(["-c", "command -v docker"]));
    let log = work.path().join("argv.log");
    let wrapper = bin.join("docker");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nprintf 'ARGV %s\\n' \"$*\" >> {log}\nprev=\nfor a; do\n  if [ \"$prev\" = --env-file ]; then stat -c 'MODE %a' \"$a\" >> {log}; fi\n  prev=$a\ndone\nexec {real} \"$@\"\n",
            log = log.display(),
            real = real.trim()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let token = "tok-7f3a9c1e-from-env";
    let extra = "xtra-44b2d0e8-inline";

    // KEY unset: exit 2, before anything is built.
    let out = run(drydock()
        .arg("run")
        .arg(&dir)
        .args(["--engine", "docker", "-e", "DRYDOCK_TEST_UNSET_KEY"])
        .arg("--cache-dir")
        .arg(cache.path())
        .env_remove("DRYDOCK_TEST_UNSET_KEY"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("DRYDOCK_TEST_UNSET_KEY is not set in drydock's environment")
            && err.contains("fix: export DRYDOCK_TEST_UNSET_KEY"),
        "{err}"
    );

    let port = free_port();
    let mut child = drydock()
        .arg("run")
        .arg(&dir)
        .args(["--engine", "docker", "-e", "API_TOKEN", "-e"])
        .arg(format!("EXTRA_SETTING={extra}"))
        .args(["--host-port", &port.to_string()])
        .arg("--cache-dir")
        .arg(cache.path())
        .env("PATH", &path)
        .env("TMPDIR", &tmp)
        .env("API_TOKEN", token)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines() {
            let line = line.unwrap_or_default();
            if line.contains("is healthy on") {
                let _ = tx.send(());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let healthy = rx.recv_timeout(Duration::from_secs(120));
    let name = format!("drydock-gin-api-{}", child.id());
    let env = run(engine("docker").args(["inspect", "--format", "{{json .Config.Env}}", &name]));
    run_ok(Command::new("kill").args(["-INT", &child.id().to_string()]));
    let status = child.wait().unwrap();
    let said = reader.join().unwrap();
    assert!(healthy.is_ok(), "healthy: {said}");
    assert!(status.success(), "{said}");
    let env = String::from_utf8_lossy(&env.stdout);
    assert!(
        env.contains(&format!("API_TOKEN={token}"))
            && env.contains(&format!("EXTRA_SETTING={extra}")),
        "the container got both values: {env}"
    );
    let argv = std::fs::read_to_string(&log).unwrap();
    assert!(
        argv.contains("ARGV run -d") && argv.contains("MODE 600"),
        "the engine was given a 0600 env file: {argv}"
    );
    assert!(
        !argv.contains(token) && !argv.contains(extra),
        "a value reached an engine command line: {argv}"
    );
    assert!(!said.contains(token) && !said.contains(extra), "{said}");
    let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().flatten().collect();
    assert!(left.is_empty(), "the env file is removed: {left:?}");
}
