//! `drydock bench` on examples/gin-api, for real: the binary as a process and the image in
//! Docker, loaded, measured, killed and (in Docker) restarted.

mod common;

use common::*;

#[test]
fn bench_measures_a_process_and_a_container_and_their_recovery() {
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
