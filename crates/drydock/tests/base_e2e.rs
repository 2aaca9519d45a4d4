//! Building on base images, daemonless. Two bases made locally (bench/make-base-images): a
//! busybox-static rootfs and a Debian minbase, imported into Docker, pushed to a real registry
//! (docker-registry) as two-platform indexes with a distinct linux/arm64 entry. drydock picks
//! amd64, builds both examples on each, and the images run healthy as 65532 with the base's
//! shell usable; drydock.lock pins the base, so a second build works with the registry stopped.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::*;
use drydock_oci::{BlobStore, DirStore};
use serde_json::{json, Value};

/// Pushes a Docker image to the registry as `name:1`, an index of its amd64 image and an arm64
/// twin (same layers, its own config). Returns (amd64 manifest digest, arm64 manifest digest).
fn push_two_platform(reg: &Registry, image: &str, name: &str, work: &Path) -> (String, String) {
    let archive = work.join(format!("{name}.tar"));
    run_ok(
        engine("docker")
            .args(["save", "-o"])
            .arg(&archive)
            .arg(image),
    );
    let layout = work.join(format!("{name}-layout"));
    run_ok(
        Command::new("skopeo")
            .arg("copy")
            .arg(format!("docker-archive:{}", archive.display()))
            .arg(format!("oci:{}:amd64", layout.display())),
    );
    let store = DirStore::open_existing(&layout.join("blobs"));
    let index: Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let amd = index["manifests"][0].clone();
    let amd_digest = drydock_oci::Digest::parse(amd["digest"].as_str().unwrap()).unwrap();
    let mut manifest: Value = serde_json::from_slice(&store.read(&amd_digest).unwrap()).unwrap();
    let config_digest =
        drydock_oci::Digest::parse(manifest["config"]["digest"].as_str().unwrap()).unwrap();
    let mut config: Value = serde_json::from_slice(&store.read(&config_digest).unwrap()).unwrap();
    config["architecture"] = json!("arm64");
    config["variant"] = json!("v8");
    let arm_config = serde_json::to_vec(&config).unwrap();
    manifest["config"]["digest"] = json!(store.put(&arm_config).unwrap().as_str());
    manifest["config"]["size"] = json!(arm_config.len());
    let arm_manifest = serde_json::to_vec(&manifest).unwrap();
    let arm_digest = store.put(&arm_manifest).unwrap();
    let media = amd["mediaType"].as_str().unwrap();
    let idx = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {"mediaType": media, "digest": arm_digest.as_str(), "size": arm_manifest.len(), "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
            {"mediaType": media, "digest": amd_digest.as_str(), "size": amd["size"], "platform": {"os": "linux", "architecture": "amd64"}},
        ],
    }))
    .unwrap();
    let idx_digest = store.put(&idx).unwrap();
    let mut index = index;
    index["manifests"].as_array_mut().unwrap().push(json!({
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "digest": idx_digest.as_str(),
        "size": idx.len(),
        "annotations": {"org.opencontainers.image.ref.name": "1"},
    }));
    std::fs::write(
        layout.join("index.json"),
        serde_json::to_vec(&index).unwrap(),
    )
    .unwrap();
    run_ok(
        Command::new("skopeo")
            .args(["copy", "--all", "--dest-tls-verify=false"])
            .arg(format!("oci:{}:1", layout.display()))
            .arg(format!("docker://{}/base/{name}:1", reg.host())),
    );
    (amd_digest.to_string(), arm_digest.to_string())
}

fn run_healthy(eng: &'static str, image: &str, ex: &str) {
    let port = free_port();
    let publish = format!("127.0.0.1:{port}:8080");
    let c = Container::run(eng, &["-p", &publish, "-e", "API_TOKEN=t", image]);
    if let Err(e) = wait_http(port, "/healthz", 200, Duration::from_secs(30)) {
        panic!("{eng} {image} ({ex}): {e}\n{}", c.logs());
    }
    assert_eq!(c.main_uid(), 65532, "{eng} {image}");
    // The base's shell and tools are there, and know the nonroot user drydock added.
    let mut exec = engine(eng);
    let id = run_ok(exec.args(["exec", &c.id, "id"]));
    assert!(id.contains("uid=65532"), "{eng} {image}: {id}");
}

#[test]
fn both_examples_build_on_registry_bases_and_run_offline_rebuilds() {
    run_ok(&mut Command::new(
        repo_root().join("bench/make-base-images"),
    ));
    let mut reg = Registry::start(None);
    let work = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let mut examples = Vec::new();
    for ex in ["gin-api", "axum-api"] {
        examples.push((ex, copy_example(ex)));
    }
    let mut built = Vec::new();
    for (image, name) in [
        ("drydock-test/busybox:1", "busybox"),
        ("drydock-test/debian:12", "debian"),
    ] {
        let (amd, arm) = push_two_platform(&reg, image, name, work.path());
        assert_ne!(amd, arm);
        let base = format!("{}/base/{name}:1", reg.host());
        for (ex, (_t, dir)) in &examples {
            let tag = format!("drydock-test/{ex}-on-{name}:1");
            let archive = work.path().join(format!("{ex}-{name}.tar"));
            let oci = work.path().join(format!("{ex}-{name}-oci"));
            let report = build_json(
                dir,
                cache.path(),
                &[
                    "--base",
                    &base,
                    "--tag",
                    &tag,
                    "--output",
                    &format!("docker-archive:{}", archive.display()),
                    "--output",
                    &format!("oci:{}", oci.display()),
                ],
            );
            assert_eq!(
                report["base"]["digest"], amd,
                "{ex} on {name}: the amd64 image is picked"
            );
            // The base's layers first, byte for byte, and its media types kept.
            let idx: Value =
                serde_json::from_slice(&std::fs::read(oci.join("index.json")).unwrap()).unwrap();
            let d = idx["manifests"][0]["digest"].as_str().unwrap();
            let m: Value = serde_json::from_slice(
                &std::fs::read(oci.join("blobs/sha256").join(&d[7..])).unwrap(),
            )
            .unwrap();
            assert_eq!(
                m["annotations"]["org.opencontainers.image.base.name"],
                base.as_str()
            );
            assert_eq!(
                m["annotations"]["org.opencontainers.image.base.digest"],
                amd.as_str()
            );
            let lock: Value =
                serde_json::from_slice(&std::fs::read(dir.join("drydock.lock")).unwrap()).unwrap();
            assert!(
                lock["bases"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|p| p["name"] == base.as_str() && p["digest"] == amd.as_str()),
                "{lock}"
            );
            for eng in ["docker", "podman"] {
                run_ok(engine(eng).arg("load").arg("-i").arg(&archive));
                let image = if eng == "podman" {
                    format!("localhost/{tag}")
                } else {
                    tag.clone()
                };
                run_healthy(eng, &image, ex);
                let _ = run(engine(eng).args(["rmi", "-f", &image]));
            }
            built.push((
                dir.clone(),
                base.clone(),
                tag.clone(),
                report["digest"].as_str().unwrap().to_string(),
            ));
        }
    }
    // A push to the base's registry mounts the base's layers from its repository.
    let (dir, base, _, _) = &built[0];
    let report = build_json(
        dir,
        cache.path(),
        &[
            "--base",
            base,
            "--push",
            &format!("{}/apps/gin:1", reg.host()),
        ],
    );
    let p = &report["pushed"][0];
    assert_eq!(
        p["mounted"].as_array().unwrap().len(),
        1,
        "the busybox layer is mounted: {p}"
    );
    assert!(reg.log().contains("mount=sha256"), "a mount request");

    // The registry stopped: the pinned bases come from the cache, and the digests are the same.
    reg.stop();
    for (dir, base, tag, digest) in &built {
        let report = build_json(dir, cache.path(), &["--base", base, "--tag", tag]);
        assert_eq!(
            report["digest"].as_str().unwrap(),
            digest,
            "{} on {base}",
            dir.display()
        );
        assert!(
            report["base"]["how"]
                .as_str()
                .unwrap()
                .contains("drydock.lock"),
            "{}",
            report["base"]
        );
    }
    // --refresh-base must reach the registry, which is down: a clear error.
    let (dir, base, _, _) = &built[0];
    let o = run(drydock()
        .arg("build")
        .arg(dir)
        .args(["--base", base, "--refresh-base", "--cache-dir"])
        .arg(cache.path()));
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot connect"));
}

#[test]
fn a_docker_archive_base_keeps_docker_media_types_and_the_base_users() {
    run_ok(&mut Command::new(
        repo_root().join("bench/make-base-images"),
    ));
    let work = tempfile::tempdir().unwrap();
    let archive = work.path().join("debian.tar");
    run_ok(
        engine("docker")
            .args(["save", "-o"])
            .arg(&archive)
            .arg("drydock-test/debian:12"),
    );
    let (_t, dir) = copy_example("gin-api");
    let cache = tempfile::tempdir().unwrap();
    let oci = work.path().join("out");
    let report = build_json(
        &dir,
        cache.path(),
        &[
            "--base",
            &format!("docker-archive:{}", archive.display()),
            "--output",
            &format!("oci:{}", oci.display()),
        ],
    );
    let idx: Value =
        serde_json::from_slice(&std::fs::read(oci.join("index.json")).unwrap()).unwrap();
    let d = idx["manifests"][0]["digest"].as_str().unwrap();
    let m: Value =
        serde_json::from_slice(&std::fs::read(oci.join("blobs/sha256").join(&d[7..])).unwrap())
            .unwrap();
    assert_eq!(
        m["mediaType"], "application/vnd.docker.distribution.manifest.v2+json",
        "{m}"
    );
    assert!(
        m["layers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["mediaType"]
                .as_str()
                .unwrap()
                .starts_with("application/vnd.docker.")),
        "never mixed: {m}"
    );
    assert_eq!(
        report["base"]["name"].as_str().unwrap(),
        format!("docker-archive:{}", archive.display())
    );
    // umoci unpacks it, and the passwd is Debian's with nonroot added, not drydock's alone.
    let bundle = work.path().join("bundle");
    let mut umoci = Command::new("umoci");
    umoci
        .args(["raw", "unpack", "--rootless", "--image"])
        .arg(format!("{}:latest", oci.display()))
        .arg(&bundle);
    let _ = run(&mut umoci);
    if let Ok(passwd) = std::fs::read_to_string(bundle.join("etc/passwd")) {
        assert!(
            passwd.contains("daemon:x:1:1") && passwd.contains("nonroot:x:65532:65532"),
            "{passwd}"
        );
    } else {
        // umoci cannot unpack Docker media types; read the layer instead.
        let files = read_docker_archive_from_oci(&oci);
        assert!(
            files.contains("daemon:x:1:1") && files.contains("nonroot:x:65532:65532"),
            "{files}"
        );
    }
}

/// The /etc/passwd that drydock's root-files layer writes, read from the layout's blobs.
fn read_docker_archive_from_oci(oci: &Path) -> String {
    let idx: Value =
        serde_json::from_slice(&std::fs::read(oci.join("index.json")).unwrap()).unwrap();
    let d = idx["manifests"][0]["digest"].as_str().unwrap();
    let m: Value =
        serde_json::from_slice(&std::fs::read(oci.join("blobs/sha256").join(&d[7..])).unwrap())
            .unwrap();
    for l in m["layers"].as_array().unwrap().iter().rev() {
        let blob = std::fs::read(
            oci.join("blobs/sha256")
                .join(&l["digest"].as_str().unwrap()[7..]),
        )
        .unwrap();
        let reader: Box<dyn std::io::Read> = if blob.starts_with(&[0x1f, 0x8b]) {
            Box::new(flate2::read::GzDecoder::new(&blob[..]))
        } else {
            Box::new(&blob[..])
        };
        let mut t = tar::Archive::new(reader);
        for e in t.entries().unwrap() {
            let mut e = e.unwrap();
            if e.path().unwrap().to_string_lossy().trim_start_matches("./") == "etc/passwd" {
                let mut s = String::new();
                std::io::Read::read_to_string(&mut e, &mut s).unwrap();
                return s;
            }
        }
    }
    String::new()
}

/// A Gin service with cgo (Debian's mattn/go-sqlite3, which links the system libsqlite3).
fn cgo_service(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("go.mod"),
        "module example.com/cgo-api\n\ngo 1.19\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("main.go"),
        r#"package main

import (
	"database/sql"

	"github.com/gin-gonic/gin"
	_ "github.com/mattn/go-sqlite3"
)

func main() {
	db, err := sql.Open("sqlite3", ":memory:")
	if err != nil {
		panic(err)
	}
	r := gin.New()
	r.GET("/healthz", func(c *gin.Context) {
		var v string
		if err := db.QueryRow("select sqlite_version()").Scan(&v); err != nil {
			c.String(500, err.Error())
			return
		}
		c.String(200, "sqlite "+v)
	})
	r.Run(":8080")
}
"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("drydock.toml"),
        "name = \"cgo-api\"\nport = 8080\n\n[build]\nlanguage = \"go\"\nmain = \".\"\nenv = { CGO_ENABLED = \"1\" }\n\n[health]\npath = \"/healthz\"\nready_path = \"/healthz\"\n",
    )
    .unwrap();
    std::fs::write(dir.join(".dockerignore"), "*.tar\n").unwrap();
}

#[test]
fn a_cgo_service_ships_on_a_base_with_its_libraries_and_is_refused_elsewhere() {
    run_ok(&mut Command::new(
        repo_root().join("bench/make-base-images"),
    ));
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("cgo-api");
    cgo_service(&dir);
    let cache = tempfile::tempdir().unwrap();
    let archive = |image: &str, name: &str| {
        let f = work.path().join(format!("{name}.tar"));
        run_ok(engine("docker").args(["save", "-o"]).arg(&f).arg(image));
        format!("docker-archive:{}", f.display())
    };
    let build = |base: Option<&str>, extra: &[&str]| {
        let mut c = drydock();
        c.arg("build")
            .arg(&dir)
            .arg("--cache-dir")
            .arg(cache.path())
            .args(extra);
        if let Some(b) = base {
            c.args(["--base", b]);
        }
        run(&mut c)
    };
    // On scratch: refused, naming libc.
    let o = build(None, &[]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("dynamically linked") && err.contains("libc.so.6"),
        "{err}"
    );
    // On a Debian base without SQLite: refused, naming the library (and only it).
    let debian = archive("drydock-test/debian:12", "debian");
    let o = build(Some(&debian), &[]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("libsqlite3.so.0")
            && !err.contains("libc.so.6,")
            && !err.contains("interpreter"),
        "{err}"
    );
    // On a base that has it: builds, and serves a query through the C library.
    let sqlite = archive("drydock-test/debian-sqlite:12", "debian-sqlite");
    let out = work.path().join("cgo.tar");
    let o = build(
        Some(&sqlite),
        &[
            "--tag",
            "drydock-test/cgo-api:1",
            "--output",
            &format!("docker-archive:{}", out.display()),
            "--format",
            "json",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["binary"]["linkage"], "dynamic");
    run_ok(engine("docker").arg("load").arg("-i").arg(&out));
    let port = free_port();
    let publish = format!("127.0.0.1:{port}:8080");
    let c = Container::run("docker", &["-p", &publish, "drydock-test/cgo-api:1"]);
    let body = wait_http(port, "/healthz", 200, Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("{e}\n{}", c.logs()));
    assert!(body.contains("sqlite 3."), "{body}");
    assert_eq!(c.main_uid(), 65532);
    drop(c);
    let _ = run(engine("docker").args(["rmi", "-f", "drydock-test/cgo-api:1"]));
}
