//! `drydock bench` on examples/gin-api, for real: the binary as a process and the image in
//! Docker, loaded, measured, killed and (in Docker) restarted.

mod common;

use common::*;

/// The tests take turns: each counts the containers it leaves, and shares the machine's cores.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn bench_measures_a_process_and_a_container_and_their_recovery() {
    let _turn = serial();
    let (_t, dir) = copy_example("gin-api");
    let cache = tempfile::tempdir().unwrap();
    let out = run_ok(
        drydock()
            .arg("bench")
            .arg(&dir)
            .args([
                "--modes",
                "process,docker",
                "--duration",
                "1s",
                "--warmup",
                "300ms",
                "--rate",
                "100",
                "--format",
                "json",
                "--cache-dir",
            ])
            .arg(cache.path()),
    );
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    let modes = r["modes"].as_array().unwrap();
    assert_eq!(modes.len(), 2, "{r}");
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
        let recovery = &m["recovery"]["serving_again_ms"];
        match mode {
            "process" => assert!(recovery.is_null(), "a bare process does not come back: {m}"),
            _ => assert!(
                recovery.as_f64().is_some_and(|ms| ms > 0.0),
                "docker restarts it: {m}"
            ),
        }
    }
    assert!(modes[1]["image_size_bytes"].as_u64().unwrap() > 1 << 20);
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
