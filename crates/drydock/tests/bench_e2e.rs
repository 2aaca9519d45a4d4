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

/// What the engines hold, to check that a bench run leaves nothing behind.
fn engine_state() -> Vec<String> {
    let list = |e: &str, args: &[&str]| {
        let mut v: Vec<String> = run_ok(engine(e).args(args))
            .lines()
            .map(|l| format!("{e} {}: {l}", args[..args.len() - 2].join(" ")))
            .collect();
        v.sort();
        v
    };
    let mut s = Vec::new();
    s.extend(list(
        "docker",
        &["ps", "-a", "--format", "{{.ID}} {{.Names}}"],
    ));
    s.extend(list("docker", &["network", "ls", "--format", "{{.Name}}"]));
    s.extend(list("docker", &["volume", "ls", "--format", "{{.Name}}"]));
    s.extend(
        list(
            "docker",
            &["images", "--format", "{{.Repository}}:{{.Tag}}"],
        )
        .into_iter()
        .filter(|i| i.contains("drydock-bench")),
    );
    s.extend(list(
        "docker",
        &["info", "--format", "{{.Swarm.LocalNodeState}}"],
    ));
    s.extend(list(
        "podman",
        &["ps", "-a", "--format", "{{.ID}} {{.Names}}"],
    ));
    s.extend(
        std::fs::read_dir(std::env::temp_dir())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("drydock-bench-")),
    );
    s
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
    // The image is built and loaded first, so that the engines' state is compared without it.
    build_json(
        &dir,
        cache.path(),
        &["--load", "docker", "--load", "podman"],
    );
    let before = engine_state();
    let plot = dir.join("bench.png");
    // No --modes: every mode that works here, which on these machines is all of them.
    let out = run_ok(
        drydock()
            .arg("bench")
            .arg(&dir)
            .env("NGINX_IMAGE", "drydock-test/nginx:debian")
            .args([
                "--duration",
                "1s",
                "--warmup",
                "300ms",
                "--rate",
                "100",
                "--format",
                "json",
                "--plot",
            ])
            .arg(&plot)
            .arg("--cache-dir")
            .arg(cache.path()),
    );
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    let modes = r["modes"].as_array().unwrap();
    let names: Vec<&str> = modes.iter().map(|m| m["mode"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["process", "docker", "podman", "compose", "swarm"],
        "{r}"
    );
    for m in modes {
        let mode = m["mode"].as_str().unwrap();
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
    assert_eq!(engine_state(), before, "bench removes what it started");
}

#[test]
fn recommend_write_updates_resources_and_keeps_the_rest() {
    let _turn = serial();
    let (_t, dir) = copy_example("gin-api");
    let before = std::fs::read_to_string(dir.join("drydock.toml")).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let out = run_ok(
        drydock()
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
                "--recommend",
                "--write",
                "--format",
                "json",
                "--cache-dir",
            ])
            .arg(cache.path()),
    );
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
    // is no queue (8 × 50/s of capacity), so the open loop's median is the delay itself; the
    // closed loop at maximum is bounded by 8 connections / 20 ms = 400 req/s.
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
    let p50 = m["fixed_rate"]["latency_ms"]["p50"].as_f64().unwrap();
    assert!((20.0..=24.0).contains(&p50), "p50 about 20 ms: {m}");
    let max = m["max"]["throughput"].as_f64().unwrap();
    assert!(
        max <= 400.0 * 1.02 && max > 200.0,
        "8 connections of 20 ms each: {m}"
    );
}
