//! Pushing and pulling against a real registry (Debian's docker-registry, CNCF distribution
//! 2.8) on 127.0.0.1: plain HTTP without auth, and TLS with a CA made here plus htpasswd basic
//! auth. What was pushed is read back by skopeo, docker and podman. Token auth is not tested:
//! distribution ships no token server, and no other real one installs here.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::*;

fn push_json(dir: &Path, cache: &Path, args: &[&str]) -> serde_json::Value {
    build_json(dir, cache, args)
}

fn pushed(report: &serde_json::Value) -> &serde_json::Value {
    &report["pushed"][0]
}

#[test]
fn push_over_http_is_read_back_by_skopeo_docker_and_podman() {
    let reg = Registry::start(None);
    let (_t, dir) = copy_example("gin-api");
    let cache = tempfile::tempdir().unwrap();
    let r = format!("{}/team/gin-api:1", reg.host());
    let report = push_json(&dir, cache.path(), &["--push", &r]);
    let p = pushed(&report);
    let digest = report["digest"].as_str().unwrap();
    assert_eq!(p["digest"], digest);
    assert_eq!(p["reference"].as_str().unwrap(), format!("{r}@{digest}"));
    assert_eq!(
        p["uploaded"].as_array().unwrap().len(),
        5,
        "config and four layers: {p}"
    );

    // skopeo reads it and verifies every blob as it copies.
    let inspect: serde_json::Value = serde_json::from_str(&run_ok(Command::new("skopeo").args([
        "inspect",
        "--tls-verify=false",
        &format!("docker://{r}"),
    ])))
    .unwrap();
    assert_eq!(inspect["Digest"], digest);
    let copy = tempfile::tempdir().unwrap();
    run_ok(Command::new("skopeo").args([
        "copy",
        "--src-tls-verify=false",
        &format!("docker://{}/team/gin-api@{digest}", reg.host()),
        &format!("oci:{}:x", copy.path().join("l").display()),
    ]));

    // docker and podman pull the digest reference and run it healthy.
    let by_digest = format!("{}/team/gin-api@{digest}", reg.host());
    for eng in ["docker", "podman"] {
        let mut pull = engine(eng);
        pull.arg("pull");
        if eng == "podman" {
            pull.arg("--tls-verify=false");
        }
        run_ok(pull.arg(&by_digest));
        let port = free_port();
        let publish = format!("127.0.0.1:{port}:8080");
        let c = Container::run(eng, &["-p", &publish, "-e", "API_TOKEN=t", &by_digest]);
        if let Err(e) = wait_http(port, "/healthz", 200, Duration::from_secs(30)) {
            panic!("{eng}: {e}\n{}", c.logs());
        }
        if eng == "docker" {
            eventually("docker reports it healthy", Duration::from_secs(60), || {
                (c.inspect("{{.State.Health.Status}}") == "healthy").then_some(())
            });
        }
        assert_eq!(c.main_uid(), 65532);
        drop(c);
        let _ = run(engine(eng).args(["rmi", "-f", &by_digest]));
    }

    // drydock pull gets the same image back, and a second pull downloads nothing.
    let out = tempfile::tempdir().unwrap();
    let pull = |dest: &str| -> serde_json::Value {
        serde_json::from_str(&run_ok(
            drydock()
                .args(["pull", &r, "-o", dest, "--format", "json", "--cache-dir"])
                .arg(cache.path()),
        ))
        .unwrap()
    };
    let first = pull(&format!("oci:{}", out.path().join("a").display()));
    assert_eq!(first["digest"], digest);
    assert_eq!(
        first["fetched"], 0,
        "every blob was in the cache already: {first}"
    );
    let fresh = tempfile::tempdir().unwrap();
    let pulled: serde_json::Value = serde_json::from_str(&run_ok(
        drydock()
            .args(["pull", &r, "-o"])
            .arg(format!(
                "docker-archive:{}",
                out.path().join("b.tar").display()
            ))
            .args(["--format", "json", "--cache-dir"])
            .arg(fresh.path()),
    ))
    .unwrap();
    assert_eq!(pulled["fetched"], 5);
    // drydock push sends a layout written earlier, and the registry gets the same manifest.
    let pushed: serde_json::Value = serde_json::from_str(&run_ok(
        drydock()
            .arg("push")
            .arg(format!("oci:{}", out.path().join("a").display()))
            .arg(format!("{}/copy/gin-api:1", reg.host()))
            .args(["--format", "json"]),
    ))
    .unwrap();
    assert_eq!(pushed["digest"], digest);
    let loaded = run_ok(
        engine("docker")
            .arg("load")
            .arg("-i")
            .arg(out.path().join("b.tar")),
    );
    assert!(loaded.contains("Loaded image"), "{loaded}");
}

#[test]
fn unchanged_push_uploads_nothing_and_a_one_line_change_only_the_binary() {
    let reg = Registry::start(None);
    let (_t, dir) = copy_example("gin-api");
    let cache = tempfile::tempdir().unwrap();
    let r = format!("{}/team/api:latest", reg.host());
    let first = push_json(&dir, cache.path(), &["--push", &r]);
    let before = reg.uploads();
    assert_eq!(before, 5, "{}", reg.log());

    let again = push_json(&dir, cache.path(), &["--push", &r]);
    let p = pushed(&again);
    assert_eq!(p["uploaded"].as_array().unwrap().len(), 0, "{p}");
    assert_eq!(p["existing"].as_array().unwrap().len(), 5);
    assert_eq!(reg.uploads(), before, "no upload started: {}", reg.log());
    assert_eq!(again["digest"], first["digest"]);

    let main = dir.join("main.go");
    let src = std::fs::read_to_string(&main).unwrap();
    std::fs::write(
        &main,
        src.replacen("shut down cleanly", "shut down cleanly (changed)", 1),
    )
    .unwrap();
    let changed = push_json(&dir, cache.path(), &["--push", &r]);
    let p = pushed(&changed);
    let uploaded: Vec<&str> = p["uploaded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u[0].as_str().unwrap())
        .collect();
    let binary = changed["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == "binary")
        .unwrap()["digest"]
        .as_str()
        .unwrap();
    assert_eq!(uploaded.len(), 2, "the binary layer and the config: {p}");
    assert!(uploaded.contains(&binary));
    assert!(uploaded.contains(&changed["config_digest"].as_str().unwrap()));
    assert_eq!(p["existing"].as_array().unwrap().len(), 3);

    // deploy --push: the Deployment names what the registry serves, by digest.
    let out = tempfile::tempdir().unwrap();
    run_ok(
        drydock()
            .arg("deploy")
            .arg(&dir)
            .args(["--target", "k8s", "--push", &r, "--out"])
            .arg(out.path())
            .arg("--cache-dir")
            .arg(cache.path()),
    );
    let want = format!("{r}@{}", changed["digest"].as_str().unwrap());
    let deployment =
        std::fs::read_to_string(out.path().join("kubernetes/deployment.yaml")).unwrap();
    assert!(
        deployment.contains(&format!("image: {want}")),
        "{deployment}"
    );
}

#[test]
fn tls_basic_auth_login_and_failures() {
    const PASSWORD: &str = "pa55-w0rd-never-shown";
    let reg = Registry::start(Some(("alice", PASSWORD)));
    let ca = reg.ca.clone().unwrap();
    let home = tempfile::tempdir().unwrap();
    let docker_config = home.path().join("docker");
    let dd = || {
        let mut c = drydock();
        c.env("DOCKER_CONFIG", &docker_config)
            .env("HOME", home.path())
            .env_remove("REGISTRY_AUTH_FILE")
            .env_remove("XDG_RUNTIME_DIR");
        c
    };
    let (_t, dir) = copy_example("gin-api");
    let cache = tempfile::tempdir().unwrap();
    let r = format!("{}/team/api:1", reg.host());
    let mut outputs = String::new();
    let mut record = |o: &std::process::Output| {
        outputs.push_str(&String::from_utf8_lossy(&o.stdout));
        outputs.push_str(&String::from_utf8_lossy(&o.stderr));
    };

    // Not logged in: refused before the build, exit 1, told to log in.
    let o = run(dd()
        .arg("build")
        .arg(&dir)
        .args(["--push", &r, "--registry-ca"])
        .arg(&ca)
        .arg("--cache-dir")
        .arg(cache.path()));
    record(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("drydock login"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    let login = |pw: &str, ca: Option<&Path>| {
        let mut c = dd();
        c.args(["login", &reg.host(), "-u", "alice", "--password-stdin"]);
        if let Some(ca) = ca {
            c.arg("--registry-ca").arg(ca);
        }
        c.stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = c.spawn().unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), pw.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    // Wrong password: a clear error, exit 1, and no retry loop (one refusal in the log).
    let log_before = reg.log().matches("\" 401 ").count();
    let o = login("wrong", Some(&ca));
    record(&o);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("authentication failed") && err.contains(&reg.host()),
        "{err}"
    );
    assert!(
        reg.log().matches("\" 401 ").count() - log_before <= 3,
        "no retry loop on 401"
    );
    // Wrong CA: a TLS error naming the host.
    let o = login(PASSWORD, None);
    record(&o);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("TLS") && err.contains(&reg.host()), "{err}");
    // Right: written where docker reads it, 0600.
    let o = login(PASSWORD, Some(&ca));
    record(&o);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let cfg = docker_config.join("config.json");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&cfg).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let written: serde_json::Value = serde_json::from_slice(&std::fs::read(&cfg).unwrap()).unwrap();
    assert!(written["auths"][reg.host()]["auth"].is_string());

    let o = run(dd()
        .arg("build")
        .arg(&dir)
        .args(["--push", &r, "--format", "json", "--registry-ca"])
        .arg(&ca)
        .arg("--cache-dir")
        .arg(cache.path()));
    record(&o);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let digest = report["digest"].as_str().unwrap();
    // skopeo, with the same credentials and CA, reads it back.
    let certs = tempfile::tempdir().unwrap();
    std::fs::copy(&ca, certs.path().join("ca.crt")).unwrap();
    let inspect = run_ok(
        Command::new("skopeo")
            .args(["inspect", "--cert-dir"])
            .arg(certs.path())
            .arg("--creds")
            .arg(format!("alice:{PASSWORD}"))
            .arg(format!("docker://{r}")),
    );
    assert!(inspect.contains(digest), "{inspect}");
    let o = run(dd()
        .args(["pull", &r, "-o"])
        .arg(format!("oci:{}", home.path().join("pulled").display()))
        .arg("--registry-ca")
        .arg(&ca)
        .arg("--cache-dir")
        .arg(home.path().join("c2")));
    record(&o);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    // The password is nowhere: not in any output, the report, the cache, or the image's blobs.
    assert!(
        !outputs.contains(PASSWORD),
        "a command printed the password"
    );
    for root in [
        cache.path(),
        &home.path().join("pulled"),
        &home.path().join("c2"),
    ] {
        for e in walk(root) {
            let bytes = std::fs::read(&e).unwrap_or_default();
            assert!(
                !bytes
                    .windows(PASSWORD.len())
                    .any(|w| w == PASSWORD.as_bytes()),
                "{} holds the password",
                e.display()
            );
        }
    }
}

fn walk(root: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn a_killed_push_completes_when_run_again_and_a_down_registry_is_a_clear_error() {
    let mut reg = Registry::start(None);
    let (_t, dir) = copy_example("gin-api");
    // A large asset, so that the push takes long enough to be killed midway, in chunks.
    let mut big = vec![0u8; 48 << 20];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for b in big.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    std::fs::write(dir.join("static/big.bin"), &big).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let r = format!("{}/team/big:1", reg.host());
    // Build once (no push), so the killed run spends its time pushing.
    build_json(&dir, cache.path(), &[]);
    let mut child = drydock()
        .arg("build")
        .arg(&dir)
        .args(["--push", &r, "--quiet", "--cache-dir"])
        .arg(cache.path())
        .spawn()
        .unwrap();
    eventually("the push starts", Duration::from_secs(60), || {
        (reg.uploads() > 0).then_some(())
    });
    std::thread::sleep(Duration::from_millis(150));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let report = build_json(&dir, cache.path(), &["--push", &r]);
    let digest = report["digest"].as_str().unwrap();
    let copy = tempfile::tempdir().unwrap();
    run_ok(Command::new("skopeo").args([
        "copy",
        "--src-tls-verify=false",
        &format!("docker://{}/team/big@{digest}", reg.host()),
        &format!("oci:{}:x", copy.path().join("l").display()),
    ]));

    reg.stop();
    let o = run(drydock()
        .arg("build")
        .arg(&dir)
        .args(["--push", &r, "--cache-dir"])
        .arg(cache.path()));
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("cannot connect") && err.contains(&reg.host()) && err.contains("attempts"),
        "{err}"
    );
}

#[test]
fn credentials_from_podmans_auth_file_and_from_a_credential_helper() {
    const PASSWORD: &str = "helper-pa55";
    let reg = Registry::start(Some(("bob", PASSWORD)));
    let ca = reg.ca.clone().unwrap();
    let home = tempfile::tempdir().unwrap();
    let (_t, dir) = copy_example("gin-api");
    let cache = tempfile::tempdir().unwrap();
    let certs = home.path().join("certs");
    std::fs::create_dir_all(&certs).unwrap();
    std::fs::copy(&ca, certs.join("ca.crt")).unwrap();

    // podman login writes auth.json; drydock reads it through REGISTRY_AUTH_FILE.
    let auth_file = home.path().join("auth.json");
    let mut login = engine("podman");
    login
        .args(["login", "--authfile"])
        .arg(&auth_file)
        .arg("--cert-dir")
        .arg(&certs)
        .args(["-u", "bob", "--password-stdin", &reg.host()]);
    login
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = login.spawn().unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), PASSWORD.as_bytes()).unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(
        o.status.success(),
        "podman login: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = run(drydock()
        .env("HOME", home.path())
        .env("DOCKER_CONFIG", home.path().join("empty"))
        .env("REGISTRY_AUTH_FILE", &auth_file)
        .arg("build")
        .arg(&dir)
        .args([
            "--push",
            &format!("{}/team/podman:1", reg.host()),
            "--registry-ca",
        ])
        .arg(&ca)
        .arg("--cache-dir")
        .arg(cache.path()));
    assert!(
        o.status.success(),
        "push with podman's credentials: {}",
        String::from_utf8_lossy(&o.stderr)
    );

    // A credsStore helper: `drydock login` stores through it, a push gets the secret from it.
    let bin = home.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let store = home.path().join("helper-store.json");
    let helper = bin.join("docker-credential-drytest");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\ncase \"$1\" in\n  store) cat > {store} ;;\n  get) cat > /dev/null; cat {store} ;;\n  *) exit 1 ;;\nesac\n",
            store = store.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let docker_config = home.path().join("docker");
    std::fs::create_dir_all(&docker_config).unwrap();
    std::fs::write(
        docker_config.join("config.json"),
        r#"{"credsStore": "drytest"}"#,
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let dd = || {
        let mut c = drydock();
        c.env("HOME", home.path())
            .env("DOCKER_CONFIG", &docker_config)
            .env("PATH", &path)
            .env_remove("REGISTRY_AUTH_FILE");
        c
    };
    let mut c = dd();
    c.args([
        "login",
        &reg.host(),
        "-u",
        "bob",
        "--password-stdin",
        "--registry-ca",
    ])
    .arg(&ca);
    c.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), PASSWORD.as_bytes()).unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stored: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&store).unwrap()).unwrap();
    assert_eq!(stored["Username"], "bob");
    let config = std::fs::read_to_string(docker_config.join("config.json")).unwrap();
    assert!(
        !config.contains("auths"),
        "the helper holds it, config.json does not: {config}"
    );
    let o = run(dd()
        .arg("build")
        .arg(&dir)
        .args([
            "--push",
            &format!("{}/team/helper:1", reg.host()),
            "--registry-ca",
        ])
        .arg(&ca)
        .arg("--cache-dir")
        .arg(cache.path()));
    assert!(
        o.status.success(),
        "push with the helper's credentials: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}
