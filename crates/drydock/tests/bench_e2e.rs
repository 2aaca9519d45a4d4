//! `drydock bench` on examples/gin-api, for real: the binary as a process, the image in Docker
//! and podman, the Compose bundle and the Swarm stack behind nginx, each loaded, measured,
//! killed and brought back by its own mechanism (or not, for the process), then removed.

mod common;

use common::*;

/// The tests take turns: each counts the containers it leaves, and shares the machine's cores.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Does an engine's line name something of the bench run `pid` (its containers, Compose
/// project, stack, networks, volumes and image tags are all called drydock-bench-PID…, its
/// containers labelled drydock.bench=PID, its rolling update's image tagged update-PID)?
fn of_run(line: &str, pid: u32) -> bool {
    [
        format!("drydock-bench-{pid}"),
        format!("drydock.bench={pid}"),
        format!(":update-{pid}"),
    ]
    .iter()
    .any(|m| {
        line.match_indices(m.as_str()).any(|(i, _)| {
            !line[i + m.len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit())
        })
    })
}

/// What the bench run `pid` made that the engines still hold, and its temporary directories
/// left in `tmp` (its TMPDIR), to check that a run leaves nothing behind. Only that run's: the
/// engines are shared with other tests and engineers, whose benches come and go meanwhile
/// (comparing every drydock-bench… object made this check fail for what others did, the flake
/// "bench removes what it started").
fn left_by(pid: u32, tmp: &std::path::Path) -> Vec<String> {
    let list = |e: &str, args: &[&str]| {
        let mut v: Vec<String> = run_ok(engine(e).args(args))
            .lines()
            .filter(|l| of_run(l, pid))
            .map(|l| format!("{e} {}: {l}", args[..args.len() - 2].join(" ")))
            .collect();
        v.sort();
        v
    };
    let mut s = Vec::new();
    s.extend(list(
        "docker",
        &["ps", "-a", "--format", "{{.ID}} {{.Names}} {{.Labels}}"],
    ));
    s.extend(list("docker", &["network", "ls", "--format", "{{.Name}}"]));
    s.extend(list("docker", &["volume", "ls", "--format", "{{.Name}}"]));
    s.extend(list(
        "docker",
        &["images", "--format", "{{.Repository}}:{{.Tag}}"],
    ));
    s.extend(list(
        "podman",
        &["ps", "-a", "--format", "{{.ID}} {{.Names}} {{.Labels}}"],
    ));
    s.extend(list(
        "podman",
        &["images", "--format", "{{.Repository}}:{{.Tag}}"],
    ));
    s.extend(
        std::fs::read_dir(tmp)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("drydock-bench-")),
    );
    s
}

/// The swarm's state, and whether the docker_gwbridge network (which `swarm init` makes and
/// `swarm leave` keeps) is there: a swarm bench made for its run is left again, with its bridge.
fn swarm_and_bridge() -> (String, bool) {
    let state = run_ok(engine("docker").args(["info", "--format", "{{.Swarm.LocalNodeState}}"]));
    let bridge = run(engine("docker").args(["network", "inspect", "docker_gwbridge"]))
        .status
        .success();
    (state.trim().to_string(), bridge)
}

#[test]
fn a_runs_leftovers_are_told_from_other_runs() {
    assert!(of_run(
        "abc drydock-bench-123-docker drydock.bench=123",
        123
    ));
    assert!(of_run("drydock-bench-123_app.1.x8k", 123));
    assert!(of_run("drydock-bench/gin-api:update-123", 123));
    assert!(of_run("localhost/gin-api:drydock-bench-123", 123));
    assert!(!of_run("drydock-bench-1234-docker drydock.bench=1234", 123));
    assert!(!of_run(
        "drydock-bench/gin-api:update-1234 gin-api:latest",
        123
    ));
    assert!(!of_run("other-123", 123));
}

#[test]
fn bench_measures_every_mode_with_its_recovery_and_leaves_nothing_behind() {
    let _turn = serial();
    require_tool("docker-compose");
    run_ok(&mut std::process::Command::new(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/make-nginx-image"),
    ));
    let (_t, dir) = copy_example("gin-api");
    let cache = tempfile::tempdir().unwrap();
    // The image is built and loaded first: bench's tag is then a second name of an image the
    // engines hold (removing the tag leaves it), and bench's build a cached one.
    build_json(
        &dir,
        cache.path(),
        &["--load", "docker", "--load", "podman"],
    );
    let swarm_before = swarm_and_bridge();
    // bench's temporary directories go here, where no other run's do.
    let tmp = tempfile::tempdir().unwrap();
    let plot = dir.join("bench.png");
    // No --modes: every mode that works here, which on these machines is all of them.
    let child = drydock()
        .arg("bench")
        .arg(&dir)
        .env("NGINX_IMAGE", "drydock-test/nginx:debian")
        .env("TMPDIR", tmp.path())
        .args([
            "--duration",
            "1s",
            "--warmup",
            "300ms",
            "--rounds",
            "2",
            "--rate",
            "100",
            "--format",
            "json",
            "--plot",
        ])
        .arg(&plot)
        .arg("--cache-dir")
        .arg(cache.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let o = child.wait_with_output().unwrap();
    // What it left is said first, also when it failed.
    let left = left_by(pid, tmp.path());
    assert!(
        o.status.success(),
        "drydock bench failed: {}\nstdout: {}\nstderr: {}\nleft behind: {left:?}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let out = String::from_utf8(o.stdout).unwrap();
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    let modes = r["modes"].as_array().unwrap();
    let names: Vec<&str> = modes.iter().map(|m| m["mode"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["process", "docker", "podman", "compose", "swarm"],
        "{r}"
    );
    assert_eq!(r["rounds"], 2, "{r}");
    for m in modes {
        let mode = m["mode"].as_str().unwrap();
        assert_eq!(m["rounds"].as_array().unwrap().len(), 2, "{mode}: {m}");
        let fixed = &m["fixed_rate"];
        assert_eq!(fixed["errors"]["connect"], 0, "{mode}: {m}");
        assert!(
            fixed["throughput"].as_f64().unwrap() > 50.0,
            "{mode}: about 100/s at the fixed rate: {m}"
        );
        assert!(
            m["max"]["throughput"].as_f64().unwrap() > fixed["throughput"].as_f64().unwrap(),
            "{mode}: max above the fixed rate"
        );
        let lat = &fixed["latency_ms"];
        assert!(
            lat["p50"].as_f64().unwrap() > 0.0
                && lat["p99"].as_f64().unwrap() >= lat["p50"].as_f64().unwrap()
        );
        assert!(
            m["peak_memory_bytes"].as_u64().unwrap() > 1 << 20,
            "{mode}: {m}"
        );
        assert!(m["service_cpu"].as_f64().unwrap() > 0.0);
        assert!(m["cold_start_ms"].as_f64().unwrap() > 0.0);
        assert_eq!(
            m["tls"].as_bool().unwrap(),
            matches!(mode, "compose" | "swarm"),
            "{mode}: through nginx over TLS exactly when there is a proxy"
        );
        let rec = &m["recovery"];
        assert!(
            rec["requests"].as_u64().unwrap() > 0,
            "{mode}: loaded while killed: {rec}"
        );
        let back = rec["serving_again_ms"].as_f64();
        match mode {
            "process" => {
                assert!(back.is_none(), "a bare process does not come back: {m}");
                assert!(rec["failed_requests"].as_u64().unwrap() > 0, "{rec}");
            }
            "swarm" => {
                assert!(back.is_some(), "the other replica serves: {rec}");
                assert!(
                    rec["replaced_ms"].as_f64().is_some_and(|ms| ms > 0.0),
                    "Swarm replaces the killed task: {rec}"
                );
                assert_eq!(m["replicas"], 2, "[scaling] min_replicas");
                let u = &m["update"];
                assert_eq!(u["state"], "completed", "{u}");
                assert!(u["requests"].as_u64().unwrap() > 100, "under load: {u}");
                assert_eq!(
                    u["failed_requests"], 0,
                    "a start-first update fails nothing: {u}"
                );
            }
            _ => assert!(
                back.is_some_and(|ms| ms > 0.0),
                "{mode}: the restart policy brings it back: {m}"
            ),
        }
        if mode != "process" {
            assert!(m["image_size_bytes"].as_u64().unwrap() > 1 << 20);
        }
    }
    let png = std::fs::read(&plot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 20_000,
        "a PNG plot"
    );
    assert_eq!(left, Vec::<String>::new(), "bench removes what it started");
    assert_eq!(
        swarm_and_bridge(),
        swarm_before,
        "a swarm bench made is left again, with its docker_gwbridge"
    );
}

#[test]
fn recommend_write_updates_resources_and_keeps_the_rest() {
    let _turn = serial();
    let (_t, dir) = copy_example("gin-api");
    let before = std::fs::read_to_string(dir.join("drydock.toml")).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let bench = |extra: &[&str]| {
        run(drydock()
            .arg("bench")
            .arg(&dir)
            .args([
                "--modes",
                "docker",
                "--duration",
                "1s",
                "--warmup",
                "300ms",
                "--no-fault",
                "--rounds",
                "1",
                "--recommend",
                "--write",
                "--format",
                "json",
                "--cache-dir",
            ])
            .arg(cache.path())
            .args(extra))
    };
    // One second measured would halve the example's limits (256Mi of memory for a service
    // using a few): refused without --force, the file untouched, the report still given.
    let refused = bench(&[]);
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    let r: serde_json::Value = serde_json::from_slice(&refused.stdout).unwrap();
    let why = r["recommendation"]["not_written"].as_str().unwrap();
    assert!(
        why.contains("memory_limit 256Mi →") && why.contains("--force"),
        "{why}"
    );
    let warnings = r["recommendation"]["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().starts_with("memory_limit: 256Mi →")),
        "a large cut said plainly: {warnings:?}"
    );
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not written"));
    assert_eq!(
        std::fs::read_to_string(dir.join("drydock.toml")).unwrap(),
        before
    );
    let forced = bench(&["--force"]);
    assert!(forced.status.success(), "{forced:?}");
    let out = String::from_utf8(forced.stdout).unwrap();
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    let rec = &r["recommendation"];
    assert_eq!(rec["from_mode"], "docker", "{r}");
    let m = &r["modes"][0];
    // Limits above the measured peak, requests above the use at the fixed rate.
    assert!(
        rec["memory_limit"].as_u64().unwrap() as f64
            >= m["peak_memory_bytes"].as_f64().unwrap() * 1.5
    );
    assert!(
        rec["cpu_request_milli"].as_f64().unwrap() >= m["cpu_at_rate"].as_f64().unwrap() * 1000.0
    );
    assert!(
        m["throttled_periods"].is_u64() && m["oom_kills"].is_u64(),
        "the cgroup's counters are read: {m}"
    );
    let after = std::fs::read_to_string(dir.join("drydock.toml")).unwrap();
    assert_ne!(after, before);
    assert!(
        after.contains("[resources]  # Kubernetes quantities"),
        "comments kept"
    );
    let strip = |t: &str| {
        t.lines()
            .filter(|l| !l.starts_with("cpu_") && !l.starts_with("memory_"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        strip(&after),
        strip(&before),
        "only [resources] values changed"
    );
    // The project still builds with the new values.
    build_json(&dir, cache.path(), &[]);
}

#[test]
fn a_tiny_cpu_limit_is_seen_throttling_and_the_proposal_raises_it() {
    let _turn = serial();
    let (_t, dir) = copy_example("gin-api");
    let cfg = std::fs::read_to_string(dir.join("drydock.toml")).unwrap();
    let cfg = cfg
        .replace("cpu_request = \"250m\"", "cpu_request = \"50m\"")
        .replace("cpu_limit = \"1\"", "cpu_limit = \"50m\"");
    assert!(cfg.contains("cpu_limit = \"50m\""));
    std::fs::write(dir.join("drydock.toml"), cfg).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let out = run_ok(
        drydock()
            .arg("bench")
            .arg(&dir)
            .args([
                "--modes",
                "docker",
                "--duration",
                "2s",
                "--warmup",
                "300ms",
                "--no-fault",
                "--rounds",
                "1",
                "--recommend",
                "--format",
                "json",
                "--cache-dir",
            ])
            .arg(cache.path()),
    );
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    let m = &r["modes"][0];
    assert!(
        m["throttled_periods"].as_u64().unwrap() > 0,
        "the kernel throttled it: {m}"
    );
    let rec = &r["recommendation"];
    assert!(rec["cpu_limit_milli"].as_u64().unwrap() > 50, "{rec}");
    assert!(
        rec["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("throttled")),
        "{rec}"
    );
}

#[test]
fn open_loop_latencies_match_a_known_delay_in_the_real_service() {
    // The example's admin endpoint answers after 20 ms. At 40 req/s over 8 connections there
    // is no queue (8 × 50/s of capacity), so the open loop's median is the time the service
    // takes; the closed loop at maximum is bounded by 8 connections / 20 ms = 400 req/s. No
    // fixed time bound beyond the delay: this machine is shared.
    let _turn = serial();
    let (_t, dir) = copy_example("gin-api");
    let cache = tempfile::tempdir().unwrap();
    let out = run_ok(
        drydock()
            .arg("bench")
            .arg(&dir)
            .args([
                "--modes",
                "process",
                "--path",
                "/admin/sleep?ms=20",
                "-e",
                "ADMIN_ENABLED=true",
                "--rate",
                "40",
                "--duration",
                "2s",
                "--warmup",
                "300ms",
                "--no-fault",
                "--rounds",
                "1",
                "--format",
                "json",
                "--cache-dir",
            ])
            .arg(cache.path()),
    );
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    let m = &r["modes"][0];
    assert_eq!(r["path"], "/admin/sleep?ms=20");
    assert_eq!(m["fixed_rate"]["errors"], m["max"]["errors"], "{m}");
    assert_eq!(
        m["fixed_rate"]["errors"]["status"], 0,
        "the endpoint is there: {m}"
    );
    // What the service really takes on this machine now is what the closed loop saw: 8
    // connections kept busy, so 8 / throughput per request. On an idle machine that is the
    // delay itself; on a loaded one (a shared CI host) every request takes longer, and the
    // open loop must report that, neither less than the delay nor more than the service took.
    let max = m["max"]["throughput"].as_f64().unwrap();
    assert!(
        max > 0.0 && max <= 400.0 * 1.02,
        "8 connections of 20 ms each cannot pass 400/s: {m}"
    );
    let took_ms = 8000.0 / max;
    let p50 = m["fixed_rate"]["latency_ms"]["p50"].as_f64().unwrap();
    assert!(
        p50 >= 20.0 && p50 <= (took_ms * 1.1).max(24.0),
        "p50 is the delay (20 ms), or what the service took under this machine's load ({took_ms:.1} ms): {m}"
    );
}

/// A copy of the example whose app listens on LISTEN_PORT, ignoring the PORT it is given.
fn ignoring_port() -> (tempfile::TempDir, std::path::PathBuf) {
    let (t, dir) = copy_example("gin-api");
    let main = dir.join("main.go");
    let src = std::fs::read_to_string(&main).unwrap();
    let patched = src.replace(
        "getenv(\"PORT\", \"8080\")",
        "getenv(\"LISTEN_PORT\", \"8080\")",
    );
    assert_ne!(src, patched, "the example reads PORT there");
    std::fs::write(&main, patched).unwrap();
    (t, dir)
}

#[test]
fn bad_flags_are_usage_errors_and_a_zero_warmup_is_none() {
    let (_t, dir) = copy_example("gin-api");
    for (args, says) in [
        (&["--path", "healthz"][..], "does not start with /"),
        (&["--path", "/a b"][..], "percent-encode"),
        (&["--duration", "0s"][..], "--duration"),
        (&["--rounds", "0"][..], "--rounds"),
        (&["--rate", "-5"][..], "--rate"),
        (&["--replicas", "0"][..], "--replicas"),
        (&["--connections", "0"][..], "--connections"),
        (
            &[
                "--tag",
                "x@sha256:0000000000000000000000000000000000000000000000000000000000000000",
            ][..],
            "--tag",
        ),
    ] {
        let o = run(drydock()
            .arg("bench")
            .arg(&dir)
            .args(["--modes", "process"])
            .args(args));
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

#[test]
fn a_path_the_service_does_not_answer_fails_the_bench_saying_what_it_got() {
    let _turn = serial();
    let (_t, dir) = copy_example("gin-api");
    let cache = tempfile::tempdir().unwrap();
    // --warmup 0s is "no warm-up", not a usage error: the run gets as far as the path.
    let o = run(drydock()
        .arg("bench")
        .arg(&dir)
        .args([
            "--modes",
            "process",
            "--path",
            "/no/such/path",
            "--duration",
            "1s",
            "--warmup",
            "0s",
            "--no-fault",
            "--format",
            "json",
            "--cache-dir",
        ])
        .arg(cache.path()));
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let e: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let msg = e["error"]["message"].as_str().unwrap();
    assert_eq!(e["error"]["kind"], "failed", "{e}");
    assert!(msg.contains("GET /no/such/path answered HTTP 404"), "{msg}");
    assert!(
        e["error"]["fix"]
            .as_str()
            .unwrap_or(msg)
            .contains("--path names a path the service answers with 2xx"),
        "{e}"
    );
}

#[test]
fn an_app_that_ignores_port_is_named_early_with_the_port_it_was_given() {
    let _turn = serial();
    let (_t, dir) = ignoring_port();
    let cache = tempfile::tempdir().unwrap();
    let elsewhere = free_port();
    let o = run(drydock()
        .arg("bench")
        .arg(&dir)
        .args(["--modes", "process", "--no-fault", "--cache-dir"])
        .arg(cache.path())
        .arg("-e")
        .arg(format!("LISTEN_PORT={elsewhere}")));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "it listens on port {elsewhere}, not on the port it was given, PORT="
        )) && err.contains("must take its port from the PORT environment variable"),
        "{err}"
    );
    // It said what it waited for meanwhile (on stderr, no terminal needed).
    assert!(err.contains("process: waiting for GET 127.0.0.1:"), "{err}");
    // --quiet: the error, and nothing of the waiting.
    let q = run(drydock()
        .arg("bench")
        .arg(&dir)
        .args(["--modes", "process", "--no-fault", "--quiet", "--cache-dir"])
        .arg(cache.path())
        .arg("-e")
        .arg(format!("LISTEN_PORT={}", free_port())));
    let err = String::from_utf8_lossy(&q.stderr);
    assert_eq!(q.status.code(), Some(1), "{err}");
    assert!(
        !err.contains("waiting for") && err.contains("listens on port"),
        "{err}"
    );
}

#[test]
fn the_image_gets_a_tag_of_benchs_own_and_rounds_give_medians() {
    let _turn = serial();
    let (_t, dir) = copy_example("gin-api");
    // A project name of this test's own, so that its NAME:latest is nobody else's.
    let name = format!("bench-tag-test-{}", std::process::id());
    let cfg = std::fs::read_to_string(dir.join("drydock.toml")).unwrap();
    std::fs::write(
        dir.join("drydock.toml"),
        cfg.replace("name = \"gin-api\"", &format!("name = \"{name}\"")),
    )
    .unwrap();
    // The user's NAME:latest: another image altogether.
    let any = run_ok(engine("docker").args(["images", "-q", "--no-trunc"]));
    let other = any
        .lines()
        .next()
        .expect("an image in the engine")
        .to_string();
    let latest = format!("{name}:latest");
    run_ok(engine("docker").args(["tag", &other, &latest]));
    struct Untag(String);
    impl Drop for Untag {
        fn drop(&mut self) {
            let _ = engine("docker").args(["rmi", &self.0]).output();
        }
    }
    let _untag = Untag(latest.clone());
    let id =
        |r: &str| run(engine("docker").args(["image", "inspect", "--format", "{{.Id}}", r])).stdout;
    let before = id(&latest);
    let cache = tempfile::tempdir().unwrap();
    let bench = |extra: &[&str]| {
        run(drydock()
            .arg("bench")
            .arg(&dir)
            .args([
                "--modes",
                "docker",
                "--no-fault",
                "--format",
                "json",
                "--cache-dir",
            ])
            .arg(cache.path())
            .args(extra))
    };
    // A tag that names an image already is refused, before anything is built.
    let o = bench(&["--tag", &latest]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    let e: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("already names an image in docker"),
        "{e}"
    );
    let o = bench(&[
        "--rounds",
        "2",
        "--duration",
        "500ms",
        "--warmup",
        "200ms",
        "--rate",
        "100",
    ]);
    assert!(o.status.success(), "{o:?}");
    assert_eq!(id(&latest), before, "the user's {latest} untouched");
    let left =
        run_ok(engine("docker").args(["images", "--format", "{{.Repository}}:{{.Tag}}", &name]));
    assert_eq!(
        left.trim(),
        latest,
        "bench's own tag removed, the user's kept"
    );
    // Two rounds: each one's figures, and the medians of them.
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["rounds"], 2, "{r}");
    let m = &r["modes"][0];
    let rounds = m["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 2, "{m}");
    let tp: Vec<f64> = rounds
        .iter()
        .map(|x| x["max"]["throughput"].as_f64().unwrap())
        .collect();
    assert!(tp.iter().all(|t| *t > 0.0), "{tp:?}");
    let median = (tp[0] + tp[1]) / 2.0;
    assert!(
        (m["max"]["throughput"].as_f64().unwrap() - median).abs() < 1e-6,
        "{m}"
    );
    let s = &m["spread"]["max_throughput"];
    assert_eq!(s["min"].as_f64().unwrap(), tp[0].min(tp[1]), "{s}");
    assert_eq!(s["max"].as_f64().unwrap(), tp[0].max(tp[1]), "{s}");
    let requests: u64 = rounds
        .iter()
        .map(|x| x["fixed_rate"]["requests"].as_u64().unwrap())
        .sum();
    assert_eq!(
        m["fixed_rate"]["requests"], requests,
        "requests summed over the rounds"
    );
}

/// `-e KEY` and `-e KEY=VALUE` reach the container without their values on any command line:
/// the engine gets a 0600 env file (a wrapper in front of docker records every argv), as with
/// `drydock run`; `-e KEY` with KEY unset is a usage error.
#[test]
fn bench_keeps_env_values_off_command_lines() {
    let _turn = serial();
    require_tool("docker");
    let (_t, dir) = copy_example("gin-api");
    let cache = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let bin = work.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let real = run_ok(std::process::Command::new("sh").args(["-c", "command -v docker"]));
    let log = work.path().join("argv.log");
    let wrapper = bin.join("docker");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nprintf 'ARGV %s\\n' \"$*\" >> {log}\nexec {real} \"$@\"\n",
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
    let unset = run(drydock()
        .arg("bench")
        .arg(&dir)
        .args(["--modes", "docker", "-e", "DRYDOCK_TEST_UNSET_KEY"])
        .env_remove("DRYDOCK_TEST_UNSET_KEY"));
    assert_eq!(
        unset.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&unset.stderr)
    );
    let token = "tok-5e1d77a0-from-env";
    let inline = "inl-93c4b2f1-on-flag";
    let o = run(drydock()
        .arg("bench")
        .arg(&dir)
        .args([
            "--modes",
            "docker",
            "--no-fault",
            "--rounds",
            "1",
            "--duration",
            "1s",
        ])
        .args(["--warmup", "0s", "-e", "API_TOKEN", "-e"])
        .arg(format!("EXTRA_SETTING={inline}"))
        .arg("--cache-dir")
        .arg(cache.path())
        .env("PATH", &path)
        .env("API_TOKEN", token));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    let argv = std::fs::read_to_string(&log).unwrap();
    assert!(argv.contains("--env-file"), "{argv}");
    for v in [token, inline] {
        assert!(
            !argv.contains(v),
            "a value on docker's command line: {argv}"
        );
        assert!(!err.contains(v), "a value in bench's output: {err}");
    }
}
