//! Several images from one repository (drydock.toml's `[[images]]`): a Go project with
//! cmd/api and cmd/worker (Gin, GOPATH mode against Debian's packages) and a Cargo workspace
//! with two bins, built by the real go and cargo. `init` detects both services, `build` puts
//! both images into one OCI layout under their own names (each running its own binary in
//! Docker), `--image` picks one, `deploy` writes one workload each, and `run` without
//! `--image` says which names there are.

mod common;

use std::path::{Path, PathBuf};

use common::*;

/// A Gin service answering /healthz and /whoami (its own name) on `port` (or $PORT), and
/// exiting 0 on SIGTERM.
fn gin_main(name: &str, port: u16) -> String {
    format!(
        r#"package main

import (
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/gin-gonic/gin"
)

func main() {{
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
	go func() {{
		<-stop
		os.Exit(0)
	}}()
	r := gin.New()
	r.GET("/healthz", func(c *gin.Context) {{ c.String(http.StatusOK, "ok") }})
	r.GET("/whoami", func(c *gin.Context) {{ c.String(http.StatusOK, "{name}") }})
	port := os.Getenv("PORT")
	if port == "" {{
		port = "{port}"
	}}
	r.Run(":" + port)
}}
"#
    )
}

/// A Go project (GOPATH mode: no go.mod) with two services, cmd/api on 8080 and cmd/worker
/// on 9090, and a library package that is not a main.
fn go_project() -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("shop");
    for (name, port) in [("api", 8080), ("worker", 9090)] {
        let d = dir.join("cmd").join(name);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("main.go"), gin_main(name, port)).unwrap();
    }
    std::fs::create_dir_all(dir.join("internal/util")).unwrap();
    std::fs::write(
        dir.join("internal/util/util.go"),
        "package util\n\nfunc Name() string { return \"util\" }\n",
    )
    .unwrap();
    (t, dir)
}

fn json(out: &std::process::Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// The OCI layout's images: ref name → the image config's JSON text.
fn layout_images(layout: &Path) -> Vec<(String, String)> {
    let blob = |d: &str| {
        let hex = d.strip_prefix("sha256:").unwrap();
        std::fs::read_to_string(layout.join("blobs/sha256").join(hex)).unwrap()
    };
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(layout.join("index.json")).unwrap()).unwrap();
    let mut v: Vec<(String, String)> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| {
            let name = m["annotations"]["org.opencontainers.image.ref.name"].as_str()?;
            let manifest: serde_json::Value =
                serde_json::from_str(&blob(m["digest"].as_str().unwrap())).unwrap();
            Some((
                name.to_string(),
                blob(manifest["config"]["digest"].as_str().unwrap()),
            ))
        })
        .collect();
    v.sort();
    v
}

#[test]
fn go_services_init_build_into_one_layout_and_each_runs_its_own_binary() {
    require_tool("go");
    require_tool("docker");
    let (_t, dir) = go_project();
    let cache = tempfile::tempdir().unwrap();

    // init finds both cmd/* mains and writes one [[images]] table each.
    let r = json(&run(drydock()
        .arg("init")
        .arg(&dir)
        .args(["--format", "json"])));
    assert_eq!(
        r["images"],
        serde_json::json!([
            {"name": "api", "main": "./cmd/api", "port": 8080},
            {"name": "worker", "main": "./cmd/worker", "port": 9090},
        ]),
        "{r}"
    );
    let toml = std::fs::read_to_string(dir.join("drydock.toml")).unwrap();
    assert!(
        toml.contains("[[images]]\nname = \"api\"\nmain = \"./cmd/api\"")
            && toml.contains("[[images]]\nname = \"worker\"\nmain = \"./cmd/worker\""),
        "{toml}"
    );
    // The shared tag names each image's repository: drydock-images-e2e/NAME:PID.
    let tag = format!("drydock-images-e2e/app:{}", std::process::id());
    let toml = toml.replace("[image]\n", &format!("[image]\ntag = \"{tag}\"\n"));
    std::fs::write(dir.join("drydock.toml"), toml).unwrap();
    let want = |n: &str| format!("drydock-images-e2e/{n}:{}", std::process::id());

    // Both images into one layout, each under its own name, and into Docker.
    let layout = cache.path().join("layout");
    let out = run(drydock()
        .arg("build")
        .arg(&dir)
        .arg("--cache-dir")
        .arg(cache.path().join("c"))
        .arg("--output")
        .arg(format!("oci:{}", layout.display()))
        .args(["--load", "docker", "--format", "json"]));
    let _untag = [want("api"), want("worker")].map(Untag);
    let report = json(&out);
    let images = report["images"].as_array().expect("one report per image");
    let refs: Vec<&str> = images
        .iter()
        .map(|i| i["reference"].as_str().unwrap())
        .collect();
    assert_eq!(refs, [want("api"), want("worker")]);
    let in_layout = layout_images(&layout);
    assert_eq!(
        in_layout.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
        [want("api"), want("worker")]
    );
    for ((_, config), (name, port)) in in_layout.iter().zip([("api", 8080), ("worker", 9090)]) {
        assert!(config.contains(&format!("/app/{name}")), "{config}");
        assert!(config.contains(&format!("\"{port}/tcp\"")), "{config}");
    }
    // The compiled binaries differ: each is its own main package.
    let binary_layer = |i: &serde_json::Value| {
        i["layers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["name"] == "binary")
            .map(|l| l["digest"].clone())
            .unwrap()
    };
    assert_ne!(binary_layer(&images[0]), binary_layer(&images[1]));

    // Each image runs its own binary: /whoami answers its name.
    for (name, port) in [("api", 8080u16), ("worker", 9090)] {
        let host = free_port();
        let c = Container::run(
            "docker",
            &["-p", &format!("127.0.0.1:{host}:{port}"), &want(name)],
        );
        let body = wait_http(host, "/whoami", 200, std::time::Duration::from_secs(30))
            .unwrap_or_else(|e| panic!("{e}\n{}", c.logs()));
        assert_eq!(body, name);
    }

    // --image picks one; a name no table has is exit 2 with the names.
    let one = json(&run(drydock()
        .arg("build")
        .arg(&dir)
        .arg("--cache-dir")
        .arg(cache.path().join("c"))
        .args(["--image", "worker", "--format", "json"])));
    let one = one["images"].as_array().unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0]["reference"], want("worker"));
    assert_eq!(one[0]["binary"]["cached"], true, "nothing changed: {one:?}");
    // With --platform, each image is an index of its platforms, under its own name.
    let multi = cache.path().join("multi");
    run_ok(
        drydock()
            .arg("build")
            .arg(&dir)
            .arg("--cache-dir")
            .arg(cache.path().join("c"))
            .args(["--platform", "linux/amd64,linux/arm64", "-q", "--output"])
            .arg(format!("oci:{}", multi.display())),
    );
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(multi.join("index.json")).unwrap()).unwrap();
    let entries: Vec<(String, String)> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| {
            Some((
                m["annotations"]["org.opencontainers.image.ref.name"]
                    .as_str()?
                    .to_string(),
                m["mediaType"].as_str().unwrap().to_string(),
            ))
        })
        .collect();
    let index_type = "application/vnd.oci.image.index.v1+json".to_string();
    assert_eq!(
        entries,
        [
            (want("api"), index_type.clone()),
            (want("worker"), index_type)
        ]
    );

    // In cmd/worker, the build is worker's; in internal/ (no image's main), every image's.
    for (at, names) in [
        ("cmd/worker", vec![want("worker")]),
        ("internal", vec![want("api"), want("worker")]),
    ] {
        let r = json(&run(drydock()
            .arg("build")
            .arg(dir.join(at))
            .arg("--cache-dir")
            .arg(cache.path().join("c"))
            .args(["--format", "json"])));
        let refs: Vec<String> = r["images"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["reference"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(refs, names, "{at}");
    }
    let bad = run(drydock().arg("build").arg(&dir).args(["--image", "nope"]));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(2), "{err}");
    assert!(
        err.contains("fix: pass --image NAME, one of: api, worker"),
        "{err}"
    );

    // One workload per image: each its own Deployment, Service and Compose bundle.
    let out = run_ok(
        drydock()
            .arg("deploy")
            .arg(&dir)
            .arg("--cache-dir")
            .arg(cache.path().join("c"))
            .args(["--target", "k8s,compose,dockerfile"]),
    );
    assert!(out.contains("wrote"), "{out}");
    for (name, port) in [("api", 8080), ("worker", 9090)] {
        let d = dir.join("deploy").join(name);
        // The Dockerfile tells the command that builds it from the project's root.
        let dockerfile = std::fs::read_to_string(d.join("docker/Dockerfile")).unwrap();
        assert!(
            dockerfile.contains(&format!(
                "docker build -f deploy/{name}/docker/Dockerfile -t {name} ."
            )),
            "{dockerfile}"
        );
        let k8s = std::fs::read_to_string(d.join("kubernetes/deployment.yaml")).unwrap();
        assert!(k8s.contains(&format!("  name: {name}\n")), "{k8s}");
        assert!(
            k8s.contains(&format!("image: {}@sha256:", want(name))),
            "{k8s}"
        );
        assert!(k8s.contains(&format!("containerPort: {port}")), "{k8s}");
        let svc = std::fs::read_to_string(d.join("kubernetes/service.yaml")).unwrap();
        assert!(svc.contains(&format!("name: {name}")), "{svc}");
        let compose = std::fs::read_to_string(d.join("compose/compose.yaml")).unwrap();
        assert!(
            compose.contains(&format!("image: {}", want(name)))
                && compose.contains(&format!("http://127.0.0.1:{port}/healthz")),
            "{compose}"
        );
        // Each bundle is its own Compose project (every one sits in a directory `compose`).
        let env = std::fs::read_to_string(d.join("compose/.env")).unwrap();
        assert!(
            env.contains(&format!("\nCOMPOSE_PROJECT_NAME={name}\n")),
            "{env}"
        );
        run_ok(
            std::process::Command::new("docker-compose")
                .args(["config", "-q"])
                .current_dir(d.join("compose")),
        );
    }

    // run --image worker runs the worker, with its own port, until Ctrl-C.
    let host = free_port();
    let mut child = drydock()
        .arg("run")
        .arg(&dir)
        .args(["--image", "worker", "--engine", "docker", "--host-port"])
        .arg(host.to_string())
        .arg("--cache-dir")
        .arg(cache.path().join("c"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let answered = wait_http(host, "/whoami", 200, std::time::Duration::from_secs(60));
    run(std::process::Command::new("kill").args(["-INT", &child.id().to_string()]));
    let status = child.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(answered.as_deref(), Ok("worker"), "{err}");
    assert_eq!(status.code(), Some(0), "{err}");

    // run (and bench) cannot guess which image: exit 2 naming them, before anything is built.
    for cmd in ["run", "bench"] {
        let out = run(drydock().arg(cmd).arg(&dir));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{cmd}: {err}");
        assert!(
            err.contains("describes several images (api, worker)")
                && err.contains("--image NAME, one of: api, worker"),
            "{cmd}: {err}"
        );
    }
}

/// Removes a tag from Docker when dropped.
struct Untag(String);

impl Drop for Untag {
    fn drop(&mut self) {
        let _ = engine("docker").args(["rmi", "-f", &self.0]).output();
    }
}

#[test]
fn config_mistakes_in_images_tables_name_the_line_and_the_fix() {
    let (_t, dir) = go_project();
    let cases = [
        (
            "[[images]]\nname = \"api\"\nmain = \"./cmd/api\"\n\n[[images]]\nname = \"api\"\nmain = \"./cmd/worker\"\n",
            5,
            "`images[1].name` is \"api\", which the [[images]] table at line 1 names already",
        ),
        (
            "[[images]]\nmain = \"./cmd/api\"\n",
            1,
            "`images[0].name` is missing",
        ),
        (
            "[[images]]\nname = \"api\"\nmain = \"./cmd/api\"\n[[images]]\nname = \"jobs\"\nmain = \"./cmd/jobs\"\n",
            4,
            "`images[1].main` is \"./cmd/jobs\", which does not exist in the build context",
        ),
        (
            "[[images]]\nname = \"api\"\nentry = \"./cmd/api\"\n",
            3,
            "unknown field `entry`",
        ),
        (
            "[image]\nuser = \"65532\"\n\n[[image]]\nname = \"api\"\n",
            4,
            "each image of several is an [[images]] table",
        ),
    ];
    for (toml, line, says) in cases {
        std::fs::write(dir.join("drydock.toml"), toml).unwrap();
        let out = run(drydock().arg("build").arg(&dir).args(["--format", "json"]));
        assert_eq!(out.status.code(), Some(2), "{toml}");
        let e: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let e = &e["error"];
        assert_eq!(e["line"], line, "{toml}: {e}");
        assert!(e["message"].as_str().unwrap().contains(says), "{toml}: {e}");
        assert!(
            e["path"].as_str().unwrap().ends_with("drydock.toml") && e["kind"] == "config",
            "{e}"
        );
        assert!(e["fix"].is_string() || says.contains("unknown"), "{e}");
    }
}

/// A Cargo workspace with two members, each a bin (an HTTP answer of its own name).
fn cargo_workspace() -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("ws");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        "[workspace]\nmembers = [\"api\", \"worker\"]\nresolver = \"2\"\n",
    )
    .unwrap();
    for (name, port) in [("api", 8080), ("worker", 9090)] {
        let m = dir.join(name);
        std::fs::create_dir_all(m.join("src")).unwrap();
        std::fs::write(
            m.join("Cargo.toml"),
            format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n"),
        )
        .unwrap();
        std::fs::write(
            m.join("src/main.rs"),
            format!(
                r#"use std::io::{{Read, Write}};
use std::net::TcpListener;

fn main() {{
    let port = std::env::var("PORT").unwrap_or_else(|_| "{port}".into());
    let listener = TcpListener::bind(format!("0.0.0.0:{{port}}")).expect("bind");
    for mut s in listener.incoming().flatten() {{
        let mut buf = [0u8; 1024];
        let _ = s.read(&mut buf);
        let body = "{name}";
        let _ = write!(s, "HTTP/1.1 200 OK\r\nContent-Length: {{}}\r\nConnection: close\r\n\r\n{{body}}", body.len());
    }}
}}
"#
            ),
        )
        .unwrap();
    }
    run_ok(
        std::process::Command::new("cargo")
            .args(["generate-lockfile", "--offline"])
            .current_dir(&dir),
    );
    (t, dir)
}

#[test]
fn cargo_workspace_bins_are_detected_and_built_as_two_images() {
    require_tool("cargo");
    let (_t, dir) = cargo_workspace();
    let cache = tempfile::tempdir().unwrap();
    let r = json(&run(drydock()
        .arg("init")
        .arg(&dir)
        .args(["--format", "json"])));
    assert_eq!(
        r["images"],
        serde_json::json!([
            {"name": "api", "main": "api", "port": 8080},
            {"name": "worker", "main": "worker", "port": 9090},
        ]),
        "{r}"
    );
    let layout = cache.path().join("layout");
    let report = json(&run(drydock()
        .arg("build")
        .arg(&dir)
        .arg("--cache-dir")
        .arg(cache.path().join("c"))
        .arg("--output")
        .arg(format!("oci:{}", layout.display()))
        .args(["--format", "json"])));
    let images = report["images"].as_array().unwrap();
    assert_eq!(images.len(), 2);
    for (i, name) in ["api", "worker"].iter().enumerate() {
        assert_eq!(images[i]["reference"], format!("{name}:latest"));
        assert_eq!(images[i]["binary"]["tool"], "cargo build");
        let command = images[i]["binary"]["command"].as_str().unwrap();
        assert!(command.contains(&format!("--bin {name}")), "{command}");
    }
    let in_layout = layout_images(&layout);
    assert_eq!(
        in_layout
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>(),
        ["api:latest", "worker:latest"]
    );
    for ((_, config), name) in in_layout.iter().zip(["api", "worker"]) {
        assert!(config.contains(&format!("/app/{name}")), "{config}");
    }
    // --push REF sends each image to REF's repository with its own name: team/api and
    // team/worker, each then pulled back with its own binary.
    let registry = Registry::start(None);
    let push = format!("{}/team/api:1", registry.host());
    let report = json(&run(drydock()
        .arg("build")
        .arg(&dir)
        .arg("--cache-dir")
        .arg(cache.path().join("c"))
        .args(["--push", &push, "--format", "json"])));
    for (i, name) in ["api", "worker"].iter().enumerate() {
        let pushed = report["images"][i]["pushed"][0]["reference"]
            .as_str()
            .unwrap();
        let want = format!("{}/team/{name}:1@sha256:", registry.host());
        assert!(pushed.starts_with(&want), "{pushed}");
        let back = cache.path().join(format!("pulled-{name}"));
        run_ok(
            drydock()
                .arg("pull")
                .arg(format!("{}/team/{name}:1", registry.host()))
                .arg("--output")
                .arg(format!("oci:{}", back.display()))
                .arg("--cache-dir")
                .arg(cache.path().join("c")),
        );
        let (_, config) = layout_images(&back).remove(0);
        assert!(config.contains(&format!("/app/{name}")), "{config}");
    }
    // One build stage for both, so Cargo compiled the workspace's dependencies once.
    let stages: Vec<String> = std::fs::read_dir(cache.path().join("c/stage"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".lock"))
        .collect();
    assert_eq!(stages, ["rust-images-ws"]);
}
