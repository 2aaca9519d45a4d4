//! `drydock build` end to end, with the real Go and Rust toolchains, Docker Engine, podman,
//! skopeo, openssl and container-structure-test.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::*;

fn unique_tag(name: &str) -> String {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("drydock-test/{name}:t{}", n % 1_000_000_000)
}

/// Builds an example into a docker archive, loads it into Docker and podman, runs it with
/// production-like limits on a loopback port and checks it serves, as uid 65532, with a CA
/// bundle that parses.
fn check_example_serves(example: &str) {
    for t in ["docker", "podman", "openssl"] {
        require_tool(t);
    }
    let (_t, dir) = copy_example(example);
    let cache = tempfile::tempdir().unwrap();
    let archive = cache.path().join("image.tar");
    let tag = unique_tag(example);
    let report = build_json(
        &dir,
        cache.path(),
        &[
            "--tag",
            &tag,
            "--output",
            &format!("docker-archive:{}", archive.display()),
        ],
    );
    assert_eq!(report["reference"], tag.as_str());

    let (entry, config, files) = read_docker_archive(&archive);
    assert_eq!(entry["RepoTags"][0], tag.as_str());
    assert_eq!(config["config"]["User"], "65532:65532");
    assert_eq!(
        config["config"]["ExposedPorts"],
        serde_json::json!({"8080/tcp": {}})
    );
    let entrypoint = config["config"]["Entrypoint"].as_array().unwrap().clone();
    assert_eq!(entrypoint.first().unwrap(), "/usr/local/bin/drydock-helper");
    assert_eq!(
        entrypoint.last().unwrap(),
        &serde_json::json!(format!("/app/{example}"))
    );
    assert_eq!(
        entrypoint.contains(&serde_json::json!("--go")),
        example == "gin-api",
        "Go apps get GOMAXPROCS/GOMEMLIMIT handling"
    );
    assert_eq!(
        config["config"]["Healthcheck"]["Test"][3],
        "http://127.0.0.1:8080/healthz"
    );
    let helper = &files["/usr/local/bin/drydock-helper"];
    assert_eq!(helper.mode, 0o555);
    let bin = &files[&format!("/app/{example}")];
    assert_eq!(
        (bin.mode, bin.uid),
        (0o555, 0),
        "binary is root-owned and read-only"
    );
    assert_eq!(files["/tmp"].mode, 0o1777);
    assert!(String::from_utf8_lossy(&files["/etc/passwd"].data).contains("nonroot:x:65532:65532"));
    assert!(
        files.contains_key("/app/static/index.html"),
        "assets layer present"
    );

    // The CA bundle is where TLS libraries look for it, and openssl reads every certificate.
    let ca = &files["/etc/ssl/certs/ca-certificates.crt"].data;
    let ca_file = cache.path().join("ca.crt");
    std::fs::write(&ca_file, ca).unwrap();
    let out = run_ok(
        Command::new("openssl")
            .args(["storeutl", "-noout", "-certs"])
            .arg(&ca_file),
    );
    let found: usize = out
        .lines()
        .find_map(|l| l.strip_prefix("Total found: "))
        .and_then(|n| n.trim().parse().ok())
        .expect("openssl count");
    assert!(found > 100, "{found} certificates parsed");
    assert_eq!(
        found,
        String::from_utf8_lossy(ca)
            .matches("BEGIN CERTIFICATE")
            .count()
    );

    for eng in ["docker", "podman"] {
        let loaded = run_ok(engine(eng).arg("load").arg("-i").arg(&archive));
        assert!(loaded.contains("Loaded image"), "{eng} load: {loaded}");
        let image = if eng == "podman" {
            format!("localhost/{tag}")
        } else {
            tag.clone()
        };
        let port = free_port();
        let publish = format!("127.0.0.1:{port}:8080");
        let c = Container::run(
            eng,
            &[
                "--memory",
                "128m",
                "--cpus",
                "1",
                "-p",
                &publish,
                "-e",
                "API_TOKEN=test-token",
                &image,
            ],
        );
        if let Err(e) = wait_http(port, "/healthz", 200, Duration::from_secs(30)) {
            panic!("{eng}: {e}\nlogs:\n{}", c.logs());
        }
        let body = wait_http(port, "/static/index.html", 200, Duration::from_secs(5))
            .or_else(|_| wait_http(port, "/static/", 200, Duration::from_secs(5)));
        assert!(
            body.is_ok_and(|b| b.contains(example)),
            "{eng}: static asset served"
        );
        assert_eq!(c.main_uid(), 65532, "{eng}: the service runs as uid 65532");
        drop(c);
        let _ = run(engine(eng).args(["rmi", "-f", &image]));
    }
}

#[test]
fn gin_api_builds_loads_and_serves_in_docker_and_podman() {
    require_tool("go");
    check_example_serves("gin-api");
}

#[test]
fn axum_api_builds_loads_and_serves_in_docker_and_podman() {
    require_tool("cargo");
    check_example_serves("axum-api");
}

#[test]
fn same_source_gives_same_digest_from_other_directories_times_and_umask() {
    let (_a, dir_a) = copy_example("gin-api");
    let t_b = tempfile::tempdir().unwrap();
    let dir_b = t_b.path().join("some/deeper/place/gin-api");
    copy_tree(&dir_a, &dir_b);
    let (ca, cb) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let oci_a = ca.path().join("oci");
    let a = build_json(
        &dir_a,
        ca.path(),
        &["--output", &format!("oci:{}", oci_a.display())],
    );
    std::thread::sleep(Duration::from_millis(1500));
    // Other mtimes, another umask, another cache, another clock reading.
    for e in std::fs::read_dir(&dir_b).unwrap() {
        let f = std::fs::File::options()
            .append(true)
            .open(e.unwrap().path());
        if let Ok(f) = f {
            f.set_modified(std::time::SystemTime::now()).unwrap();
        }
    }
    let oci_b = cb.path().join("oci");
    let out = run(Command::new("sh")
        .arg("-c")
        .arg(format!(
            "umask 077 && exec \"$0\" build '{}' --cache-dir '{}' --format json --output 'oci:{}'",
            dir_b.display(),
            cb.path().display(),
            oci_b.display()
        ))
        .arg(env!("CARGO_BIN_EXE_drydock"))
        .envs(
            test_env(&mut Command::new("x"))
                .get_envs()
                .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned()))),
        ));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let b: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(a["digest"], b["digest"], "manifest digests differ");
    assert_eq!(
        a["created"], "1970-01-01T00:00:00Z",
        "outside git and without SOURCE_DATE_EPOCH, created is the epoch"
    );
    // Byte for byte, the two layouts are the same.
    assert_eq!(
        std::fs::read(oci_a.join("index.json")).unwrap(),
        std::fs::read(oci_b.join("index.json")).unwrap()
    );
    let list = |p: &Path| {
        let mut v: Vec<_> = std::fs::read_dir(p.join("blobs/sha256"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        v.sort();
        v
    };
    assert_eq!(list(&oci_a), list(&oci_b));

    // SOURCE_DATE_EPOCH sets the creation time (and so changes the digest, predictably).
    let c1 = build_json(&dir_a, ca.path(), &[]);
    assert_eq!(c1["digest"], a["digest"]);
    let out = run(drydock()
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .arg("build")
        .arg(&dir_a)
        .arg("--cache-dir")
        .arg(ca.path())
        .args(["--format", "json"]));
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(d["created"], "2023-11-14T22:13:20Z");
    assert_ne!(d["digest"], a["digest"]);
}

#[test]
fn one_line_change_rebuilds_only_the_binary_layer() {
    let (_t, dir) = copy_example("gin-api");
    let cache = tempfile::tempdir().unwrap();
    let first = build_json(&dir, cache.path(), &[]);
    assert!(first["layers"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["cached"] == false));
    let again = build_json(&dir, cache.path(), &[]);
    assert!(
        again["layers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["cached"] == true),
        "a no-change rebuild reuses every layer"
    );
    assert_eq!(again["digest"], first["digest"]);

    let main = dir.join("main.go");
    let src = std::fs::read_to_string(&main).unwrap();
    std::fs::write(
        &main,
        src.replace(
            "log.Printf(\"shut down cleanly\")",
            "log.Printf(\"shut down cleanly, bye\")",
        ),
    )
    .unwrap();
    let changed = build_json(&dir, cache.path(), &[]);
    let layers = changed["layers"].as_array().unwrap();
    let by_name = |n: &str| {
        layers
            .iter()
            .find(|l| l["name"] == n)
            .unwrap_or_else(|| panic!("layer {n}"))
    };
    assert_eq!(by_name("root files")["cached"], true);
    assert_eq!(by_name("assets")["cached"], true);
    assert_eq!(by_name("binary")["cached"], false);
    assert_eq!(by_name("helper")["cached"], true);
    let first_binary = first["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == "binary")
        .unwrap();
    assert_ne!(by_name("binary")["digest"], first_binary["digest"]);
    assert_ne!(changed["digest"], first["digest"]);

    // The text report says the same.
    let out = run_ok(
        drydock()
            .arg("build")
            .arg(&dir)
            .arg("--cache-dir")
            .arg(cache.path()),
    );
    let line = |n: &str| {
        out.lines()
            .find(|l| l.trim_start().starts_with(n))
            .unwrap_or_else(|| panic!("{n} in {out}"))
            .to_string()
    };
    assert!(
        line("root files").contains("cached")
            && line("helper").contains("cached")
            && line("binary").contains("cached"),
        "{out}"
    );
}

#[test]
fn skopeo_reads_the_layout_and_structure_test_checks_the_archive() {
    require_tool("skopeo");
    require_tool("container-structure-test");
    let (_t, dir) = copy_example("gin-api");
    let cache = tempfile::tempdir().unwrap();
    let oci = cache.path().join("oci");
    let archive = cache.path().join("gin.tar");
    let r = build_json(
        &dir,
        cache.path(),
        &[
            "--output",
            &format!("oci:{}", oci.display()),
            "--output",
            &format!("docker-archive:{}", archive.display()),
        ],
    );

    let raw = run_ok(
        Command::new("skopeo")
            .args(["inspect", "--raw"])
            .arg(format!("oci:{}", oci.display())),
    );
    let manifest: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(
        manifest["mediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    assert_eq!(
        manifest["layers"].as_array().unwrap().len(),
        4,
        "root files, helper, assets, binary"
    );
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.title"],
        "gin-api"
    );
    let info: serde_json::Value = serde_json::from_str(&run_ok(
        Command::new("skopeo")
            .arg("inspect")
            .arg(format!("oci:{}:gin-api:latest", oci.display())),
    ))
    .unwrap();
    assert_eq!(info["Digest"], r["digest"]);
    assert_eq!(info["Labels"]["org.opencontainers.image.title"], "gin-api");
    // skopeo also copies the layout into a docker archive, which checks every blob's digest.
    let copy = cache.path().join("copy.tar");
    run_ok(
        Command::new("skopeo")
            .args(["copy", "--quiet"])
            .arg(format!("oci:{}", oci.display()))
            .arg(format!("docker-archive:{}:gin-api:copy", copy.display())),
    );

    let cst = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gin-api-structure.yaml");
    let out = run(Command::new("container-structure-test")
        .args(["test", "--driver", "tar", "--image"])
        .arg(&archive)
        .arg("--config")
        .arg(&cst));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "container-structure-test failed:\n{text}"
    );
    let count = |label: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(label))
            .and_then(|n| n.trim().parse::<u32>().ok())
    };
    assert_eq!(
        (count("Passes:"), count("Failures:")),
        (Some(11), Some(0)),
        "{text}"
    );
}

#[test]
fn dynamically_linked_binaries_are_refused() {
    let (_t, dir) = copy_example("gin-api");
    let cache = tempfile::tempdir().unwrap();
    let out = run(drydock()
        .arg("build")
        .arg(&dir)
        .arg("--cache-dir")
        .arg(cache.path())
        .args(["--binary", "/bin/ls"]));
    let err = String::from_utf8_lossy(&out.stderr);
    // A prebuilt binary that cannot run in the image is bad input (2); one drydock compiled
    // that way is a failed build (1, below).
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("/bin/ls is dynamically linked")
            && err.contains("libc.so.6")
            && err.contains("fix:"),
        "{err}"
    );

    // A Go program built with cgo links libc dynamically: drydock names the fix.
    require_tool("go");
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join("main.go"), "package main\n\n// #include <stdio.h>\nimport \"C\"\n\nfunc main() { C.puts(C.CString(\"hi\")) }\n").unwrap();
    let out = run(drydock()
        .env("CGO_ENABLED", "1")
        .arg("build")
        .arg(t.path())
        .arg("--cache-dir")
        .arg(cache.path())
        .args(["--name", "cgo-app"]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("dynamically linked") && err.contains("CGO_ENABLED=0"),
        "{err}"
    );
}

#[test]
fn symlinks_out_of_the_context_are_refused() {
    let (_t, dir) = copy_example("gin-api");
    std::os::unix::fs::symlink("/etc/shadow", dir.join("static/shadow")).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let out = run(drydock()
        .arg("build")
        .arg(&dir)
        .arg("--cache-dir")
        .arg(cache.path()));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("symlink static/shadow points to /etc/shadow, outside the build context"),
        "{err}"
    );
}

#[test]
fn dotenv_files_never_land_in_the_image() {
    let (_t, dir) = copy_example("gin-api");
    // Even without .dockerignore's help, and inside an assets folder.
    std::fs::write(dir.join(".dockerignore"), "*.log\n").unwrap();
    std::fs::write(dir.join(".env"), "API_TOKEN=super-secret-value-1\n").unwrap();
    std::fs::write(
        dir.join("static/.env.production"),
        "API_TOKEN=super-secret-value-2\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("static/server.key"),
        "-----BEGIN PRIVATE KEY-----\nsuper-secret-value-3\n",
    )
    .unwrap();
    let cache = tempfile::tempdir().unwrap();
    let archive = cache.path().join("img.tar");
    let out = run(drydock()
        .arg("build")
        .arg(&dir)
        .arg("--cache-dir")
        .arg(cache.path())
        .arg("--output")
        .arg(format!("docker-archive:{}", archive.display())));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("warning")
            && err.contains(".env")
            && err.contains("static/.env.production")
            && err.contains("static/server.key"),
        "{err}"
    );
    let bytes = std::fs::read(&archive).unwrap();
    assert!(
        !bytes.windows(19).any(|w| w == b"super-secret-value-"),
        "a secret's content is in the archive"
    );
    let (_, _, files) = read_docker_archive(&archive);
    assert!(
        files
            .keys()
            .all(|p| !p.contains(".env") && !p.ends_with(".key")),
        "{:?}",
        files.keys().collect::<Vec<_>>()
    );
    assert!(files.contains_key("/app/static/index.html"));

    // Named in drydock.toml, the key is packaged on purpose.
    let cfg = std::fs::read_to_string(dir.join("drydock.toml")).unwrap();
    std::fs::write(
        dir.join("drydock.toml"),
        format!("{cfg}\n[context]\nallow_secrets = [\"static/server.key\"]\n"),
    )
    .unwrap();
    run_ok(
        drydock()
            .arg("build")
            .arg(&dir)
            .arg("--cache-dir")
            .arg(cache.path())
            .arg("--output")
            .arg(format!("docker-archive:{}", archive.display())),
    );
    let (_, _, files) = read_docker_archive(&archive);
    assert!(files.contains_key("/app/static/server.key"));
    assert!(!files.keys().any(|p| p.contains(".env")));
}

#[test]
fn bad_input_is_a_clear_error_with_exit_code_2() {
    let (_t, dir) = copy_example("gin-api");
    let cache = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.join("drydock.toml"),
        "name = \"gin-api\"\nport = 99999\n",
    )
    .unwrap();
    let out = run(drydock()
        .arg("build")
        .arg(&dir)
        .arg("--cache-dir")
        .arg(cache.path()));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("drydock.toml") && err.contains("`port` is 99999") && err.contains("fix:"),
        "{err}"
    );

    std::fs::write(
        dir.join("drydock.toml"),
        "name = \"gin-api\"\n[image]\nasets = []\n",
    )
    .unwrap();
    let out = run(drydock()
        .arg("build")
        .arg(&dir)
        .arg("--cache-dir")
        .arg(cache.path()));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("asets") && err.contains("line 3"), "{err}");

    std::fs::write(dir.join("drydock.toml"), "name = \"gin-api\"\n").unwrap();
    std::fs::write(dir.join(".dockerignore"), ".git\n[broken\n").unwrap();
    let out = run(drydock()
        .arg("build")
        .arg(&dir)
        .arg("--cache-dir")
        .arg(cache.path()));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(".dockerignore:2:"), "{err}");

    let out = run(drydock()
        .arg("build")
        .arg(&dir)
        .args(["--output", "tarball:x.tar"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("oci:DIR or docker-archive:FILE"));
}

#[test]
fn context_lists_what_the_build_sees() {
    let (_t, dir) = copy_example("gin-api");
    std::fs::create_dir_all(dir.join(".git/objects")).unwrap();
    std::fs::write(dir.join(".git/objects/big"), vec![0u8; 4096]).unwrap();
    std::fs::write(dir.join(".env"), "X=1").unwrap(); // excluded by the example's .dockerignore
    std::fs::write(dir.join("credentials.json"), "{}").unwrap(); // not excluded there: the secret filter drops it
    let out = run_ok(
        drydock()
            .arg("context")
            .arg(&dir)
            .args(["--format", "json"]),
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let paths: Vec<&str> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        vec![
            ".dockerignore",
            "drydock.toml",
            "go.mod",
            "go.sum",
            "main.go",
            "static",
            "static/index.html"
        ]
    );
    assert_eq!(
        v["secrets_excluded"],
        serde_json::json!(["credentials.json"])
    );
    let total: u64 = [
        "drydock.toml",
        "go.mod",
        "go.sum",
        "main.go",
        ".dockerignore",
        "static/index.html",
    ]
    .iter()
    .map(|p| std::fs::metadata(dir.join(p)).unwrap().len())
    .sum();
    assert_eq!(v["total_size"], total);
    let text = run_ok(drydock().arg("context").arg(&dir));
    assert!(
        text.contains("6 files") && text.contains("largest: go.sum"),
        "{text}"
    );
}

#[test]
fn concurrent_builds_share_one_cache_safely() {
    let (_t, dir) = copy_example("gin-api");
    let cache = tempfile::tempdir().unwrap();
    let reports: Vec<serde_json::Value> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..3)
            .map(|_| s.spawn(|| build_json(&dir, cache.path(), &[])))
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(reports.windows(2).all(|w| w[0]["digest"] == w[1]["digest"]));
    // Every blob in the cache still has its digest as its name.
    for e in std::fs::read_dir(cache.path().join("blobs/sha256")).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        assert!(!name.starts_with('.'), "temporary file {name} left behind");
        let data = std::fs::read(e.path()).unwrap();
        use sha2::Digest as _;
        assert_eq!(hex::encode(sha2::Sha256::digest(&data)), name);
    }
}

/// SIGINT (and SIGTERM) during a cargo build: drydock exits 130 and no process it started —
/// cargo, rustc — is left running. The crate's constant takes rustc minutes to evaluate, so the
/// compiler is surely running when the signal comes.
#[test]
fn an_interrupted_build_ends_the_whole_compiler_tree() {
    require_tool("cargo");
    for signal in ["-INT", "-TERM"] {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("spin");
        slow_to_compile_crate(&dir);
        let child = drydock()
            .arg("build")
            .arg(&dir)
            .arg("--cache-dir")
            .arg(t.path().join("cache"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id();
        let tree = eventually(
            "rustc compiles spin under drydock",
            Duration::from_secs(60),
            || compiling_spin(pid),
        );
        assert!(tree.iter().any(|(_, c, _)| c == "cargo"), "{tree:?}");
        run_ok(Command::new("kill").args([signal, &pid.to_string()]));
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(130), "{signal}: {err}");
        assert!(err.contains("interrupted"), "{err}");
        // Nothing of the tree is left running (a zombie waiting for init to reap it is not; a
        // pid reused since is another process: its start time differs). Killed processes take
        // a moment to go, but not seconds.
        let alive = || -> Vec<(u32, String, u64)> {
            tree.iter()
                .filter(|(p, _, start)| {
                    std::fs::read_to_string(format!("/proc/{p}/stat")).is_ok_and(|s| {
                        s.rfind(')').is_some_and(|c| {
                            let f: Vec<&str> = s[c + 2..].split(' ').collect();
                            f[0] != "Z" && f[19].parse::<u64>().ok() == Some(*start)
                        })
                    })
                })
                .cloned()
                .collect()
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(3);
        while !alive().is_empty() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(alive().is_empty(), "{signal}: left running: {:?}", alive());
    }
}

/// `-v` streams the compiler's own output as it builds; without it (not a terminal) none of
/// it shows, and a failure still shows the compiler's last lines.
#[test]
fn verbose_streams_the_compiler_and_quiet_otherwise() {
    require_tool("cargo");
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("hello");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"hello\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    std::fs::write(dir.join("src/main.rs"), "fn main() { println!(\"hi\"); }\n").unwrap();
    let cache = t.path().join("cache");
    let build = |extra: &[&str]| {
        run(drydock()
            .arg("build")
            .arg(&dir)
            .args(extra)
            .arg("--cache-dir")
            .arg(&cache)
            .args([
                "--output",
                &format!("oci:{}", t.path().join("out").display()),
            ]))
    };
    let out = build(&["-v"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("  | ") && err.contains("Compiling hello v0.1.0"),
        "cargo's output streamed: {err}"
    );
    std::fs::write(
        dir.join("src/main.rs"),
        "fn main() { println!(\"hi 2\"); }\n",
    )
    .unwrap();
    let out = build(&[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("Compiling hello"), "quiet without -v: {err}");
    std::fs::write(
        dir.join("src/main.rs"),
        "fn main() { let x: u8 = \"no\"; }\n",
    )
    .unwrap();
    let out = build(&[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("mismatched types"),
        "the compiler's error is shown: {err}"
    );
}

/// Sum of the sizes of the files under `dir`.
fn bytes_under(dir: &Path) -> u64 {
    let mut n = 0;
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let m = e.metadata().unwrap();
        n += if m.is_dir() {
            bytes_under(&e.path())
        } else {
            m.len()
        };
    }
    n
}

/// `drydock cache prune`: keeps what was just used, removes writers' leftovers, removes what
/// has not been used for longer than --older-than and reports the bytes freed, `--all` empties
/// it, a build afterwards gives the same digest — and prune waits while a build uses the cache.
#[test]
fn cache_prune_removes_the_unused_and_waits_for_running_builds() {
    require_tool("cargo");
    let t = tempfile::tempdir().unwrap();
    let cache = t.path().join("cache");
    let dir = t.path().join("hello");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"hello\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    std::fs::write(dir.join("src/main.rs"), "fn main() { println!(\"hi\"); }\n").unwrap();
    let digest = |_: ()| -> String {
        let v = build_json(&dir, &cache, &["--port", "8080"]);
        v["digest"].as_str().unwrap().to_string()
    };
    let first = digest(());
    let prune = |args: &[&str]| -> serde_json::Value {
        let out = run_ok(
            drydock()
                .args(["cache", "prune", "--format", "json", "--cache-dir"])
                .arg(&cache)
                .args(args),
        );
        serde_json::from_str(&out).unwrap()
    };
    let blobs = cache.join("blobs/sha256");
    std::fs::write(blobs.join(".tmp-left-by-a-crash"), vec![0u8; 1000]).unwrap();
    let r = prune(&[]);
    assert_eq!(r["removed_temp_files"], 1, "{r}");
    assert_eq!(r["removed_blobs"], 0, "just used: kept: {r}");
    assert_eq!(r["bytes_freed"], 1000, "{r}");
    assert!(r["kept_blobs"].as_u64().unwrap() >= 4, "{r}");

    // Unused for 40 days: removed (--older-than 39d), bytes counted.
    let before = bytes_under(&blobs) + bytes_under(&cache.join("layers"));
    run_ok(Command::new("sh").arg("-c").arg(format!(
        "find {} -exec touch -h -d '40 days ago' {{}} +",
        cache.display()
    )));
    let r = prune(&["--older-than", "39d"]);
    assert!(r["removed_blobs"].as_u64().unwrap() >= 4, "{r}");
    assert!(r["removed_layer_entries"].as_u64().unwrap() >= 1, "{r}");
    assert_eq!(r["kept_blobs"], 0, "{r}");
    assert!(
        r["bytes_freed"].as_u64().unwrap() >= before,
        "{r} < {before}"
    );
    assert_eq!(bytes_under(&blobs), 0);
    assert_eq!(digest(()), first, "rebuilt, the same image");
    let r = prune(&["--all"]);
    assert!(r["removed_blobs"].as_u64().unwrap() >= 4, "{r}");

    // A running build holds the cache: prune waits for it.
    let spin = t.path().join("spin");
    slow_to_compile_crate(&spin);
    let mut build = drydock()
        .arg("build")
        .arg(&spin)
        .arg("--cache-dir")
        .arg(&cache)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    eventually("the build compiles", Duration::from_secs(60), || {
        descendants(build.id())
            .iter()
            .any(|(_, c, _)| c == "rustc")
            .then_some(())
    });
    let mut pruning = drydock()
        .args(["cache", "prune", "--all", "--format", "json", "--cache-dir"])
        .arg(&cache)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        pruning.try_wait().unwrap().is_none(),
        "prune waits while the build runs"
    );
    assert!(
        cache.join("stage/rust-spin").is_dir(),
        "the running build's stage is intact"
    );
    run_ok(Command::new("kill").args(["-INT", &build.id().to_string()]));
    assert_eq!(build.wait().unwrap().code(), Some(130));
    let out = pruning.wait_with_output().unwrap();
    assert!(out.status.success());
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["waited"], true, "{r}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("waiting for the drydock builds"));
    assert_eq!(r["removed_stage_dirs"], 1, "{r}");
}

/// A Cargo workspace (offline: path dependencies only): a member that inherits version and
/// edition from the workspace builds, in its workspace, with the workspace's Cargo.lock
/// (`--locked`: a stale lock fails instead of resolving anew); the workspace root builds the
/// one bin named with --main, and without it says which bins there are.
#[test]
fn cargo_workspace_members_and_root_build_with_the_workspace_lock() {
    require_tool("cargo");
    let t = tempfile::tempdir().unwrap();
    let ws = t.path().join("ws");
    let w = |p: &str, s: &str| {
        let p = ws.join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, s).unwrap();
    };
    w(
        "Cargo.toml",
        "[workspace]\nmembers = [\"api\", \"worker\", \"common\"]\nresolver = \"2\"\n\n[workspace.package]\nversion = \"0.3.0\"\nedition = \"2021\"\n",
    );
    w(
        "common/Cargo.toml",
        "[package]\nname = \"common\"\nversion.workspace = true\nedition.workspace = true\n",
    );
    w(
        "common/src/lib.rs",
        "pub fn greet() -> &'static str { \"hello from common\" }\n",
    );
    for m in ["api", "worker"] {
        w(
            &format!("{m}/Cargo.toml"),
            &format!("[package]\nname = \"{m}\"\nversion.workspace = true\nedition.workspace = true\n\n[dependencies]\ncommon = {{ path = \"../common\" }}\n"),
        );
        w(
            &format!("{m}/src/main.rs"),
            &format!("fn main() {{ println!(\"{m}: {{}}\", common::greet()); }}\n"),
        );
    }
    run_ok(
        Command::new("cargo")
            .args(["generate-lockfile", "--offline"])
            .current_dir(&ws),
    );
    let cache = t.path().join("cache");
    let build = |dir: &Path, extra: &[&str]| {
        // A fresh archive for each build: drydock never replaces one holding another image.
        let _ = std::fs::remove_file(t.path().join("img.tar"));
        run(drydock()
            .arg("build")
            .arg(dir)
            .args(["--port", "8080", "--format", "json"])
            .args(extra)
            .arg("--cache-dir")
            .arg(&cache)
            .arg("--output")
            .arg(format!(
                "docker-archive:{}",
                t.path().join("img.tar").display()
            )))
    };
    let report = |out: &std::process::Output| -> serde_json::Value {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let packaged = || {
        let (_, cfg, files) = read_docker_archive(&t.path().join("img.tar"));
        (cfg, files)
    };

    // The member, from its own directory.
    let v = report(&build(&ws.join("api"), &[]));
    let cmd = v["binary"]["command"].as_str().unwrap();
    assert!(cmd.contains("-p api --bin api --locked"), "{cmd}");
    let (_, files) = packaged();
    assert!(files.contains_key("/app/api"), "{:?}", files.keys());
    assert!(
        String::from_utf8_lossy(&files["/app/api"].data).contains("hello from common"),
        "the path dependency is compiled in"
    );

    // The root: two bins, so --main is needed, and the error lists them.
    let out = build(&ws, &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("several binary targets (api, worker)") && err.contains("--main"),
        "{err}"
    );
    let v = report(&build(&ws, &["--main", "worker"]));
    assert!(
        v["binary"]["command"]
            .as_str()
            .unwrap()
            .contains("-p worker --bin worker --locked"),
        "{v}"
    );
    let out = build(&ws, &["--main", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no binary target named \"nope\""));

    // The workspace's lock is what the member builds with: a stale one fails, never re-resolved.
    let lock = std::fs::read_to_string(ws.join("Cargo.lock")).unwrap();
    std::fs::write(
        ws.join("Cargo.lock"),
        lock.replace(
            "name = \"common\"\nversion = \"0.3.0\"",
            "name = \"common\"\nversion = \"0.2.0\"",
        ),
    )
    .unwrap();
    let out = build(&ws.join("api"), &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("--locked") && err.contains("Cargo.lock"),
        "{err}"
    );
}
