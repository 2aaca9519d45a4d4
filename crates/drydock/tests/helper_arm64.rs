//! The linux/arm64 drydock-helper (the aarch64 binary drydock embeds), run under Debian's
//! qemu-user-static on this amd64 machine: directly (`qemu-aarch64-static HELPER`, no binfmt
//! needed) as probe and init, and as the entry point of an arm64 image in the Docker Engine
//! (through the binfmt handler scripts/setup enables) with CPU and memory limits, an arm64 Go
//! app as its child. What helper_init.rs and helper_e2e.rs check on amd64, on arm64.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use drydock_oci::{BlobStore, DirStore, ImageBuilder, Layer, Platform, Reference};

const QEMU: &str = "qemu-aarch64-static";

fn arm64() -> Platform {
    Platform::parse("linux/arm64").unwrap()
}

/// The arm64 helper, written once for the whole test binary (see helper_init.rs on ETXTBSY).
fn helper() -> PathBuf {
    static PATH: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    PATH.get_or_init(|| {
        let bytes =
            drydock::image::helper::for_platform(&arm64()).unwrap_or_else(|e| panic!("{e}"));
        let p = tempfile::tempdir().unwrap().keep().join("drydock-helper");
        std::fs::write(&p, bytes).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    })
    .clone()
}

/// The arm64 helper under qemu, with `args`.
fn qemu_helper(args: &[&str]) -> Command {
    require_tool(QEMU);
    let mut c = Command::new(QEMU);
    c.arg(helper()).args(args);
    c
}

/// An HTTP server on 127.0.0.1 that answers every request with `status` (or, with `None`,
/// accepts and never answers). Returns its port.
fn serve(status: Option<u16>) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            match status {
                Some(code) => {
                    let mut buf = [0u8; 1024];
                    let _ = s.read(&mut buf);
                    let _ = write!(
                        s,
                        "HTTP/1.1 {code} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    );
                }
                None => held.push(s),
            }
        }
    });
    port
}

#[test]
fn arm64_probe_answers_by_status_and_times_out() {
    let probe = |port: u16, timeout: &str| {
        let url = format!("http://127.0.0.1:{port}/healthz");
        let start = Instant::now();
        let out = qemu_helper(&["probe", &url, "--timeout", timeout])
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            start.elapsed(),
        )
    };
    let (code, said, _) = probe(serve(Some(200)), "2s");
    assert_eq!(code, Some(0), "{said}");
    assert!(
        said.contains("healthy: GET") && said.contains("answered 200"),
        "{said}"
    );
    let (code, said, _) = probe(serve(Some(204)), "2s");
    assert_eq!(code, Some(0), "any 2xx: {said}");
    let (code, said, _) = probe(serve(Some(503)), "2s");
    assert_eq!(code, Some(1), "{said}");
    assert!(
        said.contains("unhealthy") && said.contains("answered 503"),
        "{said}"
    );
    // Accepted and never answered: the timeout, not a hang.
    let (code, said, took) = probe(serve(None), "700ms");
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("timed out"), "{said}");
    assert!(
        took >= Duration::from_millis(600) && took < Duration::from_secs(5),
        "{took:?}"
    );
    // Nobody listening.
    let closed = free_port();
    let (code, said, _) = probe(closed, "2s");
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("connection refused"), "{said}");
}

#[test]
fn arm64_init_passes_exit_codes_and_forwards_signals() {
    // The child is the host's shell: qemu runs only the helper; its execve starts the child.
    let code = |script: &str| {
        qemu_helper(&["--", "/bin/sh", "-c", script])
            .status()
            .unwrap()
            .code()
    };
    assert_eq!(code("exit 0"), Some(0));
    assert_eq!(code("exit 7"), Some(7));
    assert_eq!(code("kill -TERM $$"), Some(143));
    assert_eq!(code("kill -KILL $$"), Some(137));
    let out = qemu_helper(&["--", "/no/such/app"]).output().unwrap();
    assert_eq!(out.status.code(), Some(127));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot exec /no/such/app: no such file"));
    assert_eq!(
        qemu_helper(&["--", "true"]).status().unwrap().code(),
        Some(0),
        "PATH lookup"
    );
    assert_eq!(qemu_helper(&["--bogus"]).status().unwrap().code(), Some(2));

    for sig in ["TERM", "INT", "HUP", "QUIT", "USR1", "USR2"] {
        let script = format!(
            "trap 'echo got-{sig}; exit 0' {sig}; echo ready; while :; do sleep 0.05; done"
        );
        let mut child = qemu_helper(&["--", "/bin/sh", "-c", &script])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        assert_eq!(lines.next().unwrap().unwrap(), "ready");
        run_ok(Command::new("kill").args([&format!("-{sig}"), &child.id().to_string()]));
        assert_eq!(
            lines.next().unwrap().unwrap(),
            format!("got-{sig}"),
            "{sig} forwarded"
        );
        assert_eq!(
            child.wait().unwrap().code(),
            Some(0),
            "{sig}: the app's exit code"
        );
    }

    // The drain delay holds the first SIGTERM (timed waits on aarch64).
    let mut child = qemu_helper(&[
        "--",
        "/bin/sh",
        "-c",
        "trap 'echo got-TERM; exit 0' TERM; echo ready; while :; do sleep 0.05; done",
    ])
    .env("DRYDOCK_DRAIN_DELAY", "600ms")
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "ready");
    let sent = Instant::now();
    run_ok(Command::new("kill").args(["-TERM", &child.id().to_string()]));
    assert_eq!(lines.next().unwrap().unwrap(), "got-TERM");
    let held = sent.elapsed();
    assert!(
        held >= Duration::from_millis(600) && held < Duration::from_secs(5),
        "{held:?}"
    );
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("SIGTERM held 600 ms"));
}

/// An arm64 Go program (stdlib only): prints its GOARCH, GOMAXPROCS/GOMEMLIMIT and what the
/// runtime took as JSON; with `serve`, says `ready`, orphans a grandchild that exits after
/// 200 ms (for the helper to reap), and exits 0 on SIGTERM.
const GO_APP: &str = r#"package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"
	"time"
)

func main() {
	mode := ""
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	switch mode {
	case "grandchild":
		time.Sleep(200 * time.Millisecond)
		return
	case "middle":
		_ = exec.Command("/app/goapp", "grandchild").Start()
		return
	}
	_ = json.NewEncoder(os.Stdout).Encode(map[string]interface{}{
		"GOARCH":             runtime.GOARCH,
		"GOMAXPROCS":         os.Getenv("GOMAXPROCS"),
		"GOMEMLIMIT":         os.Getenv("GOMEMLIMIT"),
		"runtime_gomaxprocs": runtime.GOMAXPROCS(0),
		"runtime_memlimit":   debug.SetMemoryLimit(-1),
	})
	if mode != "serve" {
		return
	}
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM)
	_ = exec.Command("/app/goapp", "middle").Run()
	fmt.Println("ready")
	s := <-c
	fmt.Println("received", s)
}
"#;

/// A docker archive of an arm64 image: the helper as entry point (Go mode), the Go app.
fn arm64_image(dir: &Path, tag: &str) -> PathBuf {
    require_tool("go");
    let src = dir.join("goapp");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("main.go"), GO_APP).unwrap();
    let bin = dir.join("goapp-arm64");
    let out = Command::new("go")
        .args(["build", "-trimpath", "-o"])
        .arg(&bin)
        .arg(".")
        .current_dir(&src)
        .env("GOOS", "linux")
        .env("GOARCH", "arm64")
        .env("CGO_ENABLED", "0")
        .env("GO111MODULE", "off")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "go build: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let helper = drydock::image::helper::for_platform(&arm64()).unwrap();
    let mut tar = tar::Builder::new(Vec::new());
    let mut add = |path: &str, bytes: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o755);
        h.set_mtime(0);
        h.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut h, path, bytes).unwrap();
    };
    add("usr/local/bin/drydock-helper", helper);
    add("app/goapp", &std::fs::read(&bin).unwrap());
    let raw = tar.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&raw).unwrap();
    let gz = gz.finish().unwrap();

    let store = DirStore::create(&dir.join("blobs")).unwrap();
    let layer = Layer {
        digest: store.put(&gz).unwrap(),
        diff_id: drydock_oci::Digest::of(&raw),
        size: gz.len() as u64,
        media_type: "application/vnd.oci.image.layer.v1.tar+gzip".into(),
    };
    let mut b = ImageBuilder::scratch(&arm64());
    b.append_layer(layer, "2026-01-01T00:00:00Z", "helper and app");
    b.runtime_mut().insert(
        "Entrypoint".into(),
        serde_json::json!(["/usr/local/bin/drydock-helper", "--go", "--", "/app/goapp"]),
    );
    let image = b.build(&store).unwrap();
    let archive = dir.join("arm64.tar");
    let file = std::fs::File::create(&archive).unwrap();
    drydock_oci::archive::write_archive(
        &drydock_oci::publish::PublishRequest {
            index: None,
            store: &store,
            image: &image,
            tag: &Reference::parse(tag).unwrap(),
            created: 0,
            sources: &[],
        },
        "the test archive",
        file,
    )
    .unwrap();
    archive
}

fn binfmt_ready() {
    let h = std::fs::read_to_string("/proc/sys/fs/binfmt_misc/qemu-aarch64").unwrap_or_default();
    assert!(
        h.starts_with("enabled")
            && h.contains("flags: ")
            && h.lines()
                .any(|l| l.starts_with("flags:") && l.contains('F')),
        "the qemu-aarch64 binfmt handler is not enabled with F (run ./scripts/setup): {h:?}"
    );
}

#[test]
fn arm64_image_in_docker_sets_go_limits_forwards_sigterm_and_reaps() {
    require_tool("docker");
    binfmt_ready();
    let t = tempfile::tempdir().unwrap();
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let tag = format!("drydock-test/helper-arm64:a{}", n % 1_000_000_000);
    let archive = arm64_image(t.path(), &tag);
    run_ok(engine("docker").arg("load").arg("-i").arg(&archive));
    let arch =
        run_ok(engine("docker").args(["image", "inspect", "--format", "{{.Architecture}}", &tag]));
    assert_eq!(arch.trim(), "arm64");

    let cpus = std::thread::available_parallelism().unwrap().get() as i64;
    let goenv = |flags: &[&str]| -> serde_json::Value {
        let out = run(engine("docker")
            .args(["run", "--rm", "--platform", "linux/arm64"])
            .args(flags)
            .arg(&tag));
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "docker run {flags:?}: {said}");
        assert!(
            said.contains("drydock-helper: "),
            "the helper says what it decided: {said}"
        );
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
    };
    let v = goenv(&["--cpus", "1.5", "--memory", "256m"]);
    assert_eq!(v["GOARCH"], "arm64", "{v}");
    let want = 2.min(cpus);
    assert_eq!(v["GOMAXPROCS"], want.to_string(), "{v}");
    assert_eq!(v["runtime_gomaxprocs"], want, "{v}");
    let limit: i64 = v["GOMEMLIMIT"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        limit,
        ((256i64 << 20) as f64 * 0.9) as i64,
        "about 0.9 × 256 MiB"
    );
    assert_eq!(v["runtime_memlimit"], limit, "the Go runtime took it");
    let v = goenv(&["--cpus", "0.5", "--memory", "256m"]);
    assert_eq!(v["GOMAXPROCS"], "1", "{v}");
    let v = goenv(&[]);
    assert_eq!(
        (v["GOMAXPROCS"].as_str(), v["GOMEMLIMIT"].as_str()),
        (Some(""), Some("")),
        "{v}"
    );
    let v = goenv(&["--cpus", "1.5", "-e", "GOMAXPROCS=3"]);
    assert_eq!(v["GOMAXPROCS"], "3", "the user's value wins: {v}");

    // The control: the Go app as PID 1 reaps nobody but its own children, so the orphaned
    // grandchild stays a zombie there (and the check below can see one).
    let c = Container::run(
        "docker",
        &[
            "--platform",
            "linux/arm64",
            "--entrypoint",
            "/app/goapp",
            &tag,
            "serve",
        ],
    );
    eventually("the control to be ready", Duration::from_secs(30), || {
        c.logs().contains("ready").then_some(())
    });
    let init: u32 = c.inspect("{{.State.Pid}}").parse().unwrap();
    eventually("the control's zombie", Duration::from_secs(10), || {
        (!zombies_of(init).is_empty()).then_some(())
    });
    drop(c);

    // As PID 1: reaps the orphaned grandchild, forwards `docker stop`'s SIGTERM.
    let c = Container::run("docker", &["--platform", "linux/arm64", &tag, "serve"]);
    eventually("the app to be ready", Duration::from_secs(30), || {
        c.logs().contains("ready").then_some(())
    });
    let init: u32 = c.inspect("{{.State.Pid}}").parse().unwrap();
    std::thread::sleep(Duration::from_millis(1000));
    let z = zombies_of(init);
    assert!(z.is_empty(), "zombies left under the arm64 helper: {z:?}");
    let start = Instant::now();
    run_ok(engine("docker").args(["stop", "-t", "10", &c.id]));
    let took = start.elapsed();
    let logs = c.logs();
    assert_eq!(
        c.inspect("{{.State.ExitCode}}"),
        "0",
        "graceful exit, not 143 or 137\n{logs}"
    );
    assert!(
        logs.contains("received terminated"),
        "SIGTERM reached the app\n{logs}"
    );
    assert!(took < Duration::from_secs(5), "stop took {took:?}");
    drop(c);
    let _ = run(engine("docker").args(["rmi", "-f", &tag]));
}
