//! Registry interop and messages, against the real docker-registry (and nginx, skopeo, openssl):
//! Docker's documented self-signed registry certificate, a certificate for another name, pull
//! --platform and pulls by digest, pushing a docker archive drydock wrote, credentials that
//! cannot be read, a wrong password, logout, an unavailable registry. Images are packaged from
//! busybox-static with --binary, so that no test waits for a compiler.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use common::*;

/// docker-registry with its own config (TLS with the given certificate, or plain).
struct Reg {
    port: u16,
    _dir: tempfile::TempDir,
    child: std::process::Child,
}

impl Reg {
    fn start(tls: Option<(&Path, &Path)>) -> Reg {
        require_tool("docker-registry");
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut config = format!(
            "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
            dir.path().join("data").display()
        );
        if let Some((cert, key)) = tls {
            config.push_str(&format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                cert.display(),
                key.display()
            ));
        }
        std::fs::write(dir.path().join("config.yml"), config).unwrap();
        let log = std::fs::File::create(dir.path().join("log")).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(dir.path().join("config.yml"))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        eventually("the registry listens", Duration::from_secs(20), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).ok()
        });
        Reg {
            port,
            _dir: dir,
            child,
        }
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Reg {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Docker's documented self-signed registry certificate (docs.docker.com, "Test an insecure
/// registry"), for `san`.
fn self_signed(dir: &Path, name: &str, san: &str) -> (PathBuf, PathBuf) {
    require_tool("openssl");
    let (key, crt) = (
        dir.join(format!("{name}.key")),
        dir.join(format!("{name}.crt")),
    );
    run_ok(
        Command::new("openssl")
            .args(["req", "-newkey", "rsa:4096", "-nodes", "-sha256", "-keyout"])
            .arg(&key)
            .args(["-x509", "-days", "2", "-out"])
            .arg(&crt)
            .args(["-subj", "/CN=drydock-test", "-addext"])
            .arg(format!("subjectAltName = {san}")),
    );
    (crt, key)
}

/// A small real image (busybox-static as the binary) written to `output`, or pushed.
fn image(args: &[&str], cache: &Path) -> Output {
    require_tool("busybox");
    let mut c = drydock();
    c.arg("build")
        .arg(repo_root().join("examples/gin-api"))
        .args([
            "--binary",
            "/bin/busybox",
            "--tag",
            "drydock-test/interop:1",
        ])
        .args(args)
        .arg("--cache-dir")
        .arg(cache);
    run(&mut c)
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn dockers_self_signed_certificate_is_trusted_as_docker_trusts_it_and_names_are_checked() {
    let t = tempfile::tempdir().unwrap();
    let (crt, key) = self_signed(t.path(), "domain", "IP:127.0.0.1");
    let info = run_ok(
        Command::new("openssl")
            .args(["x509", "-noout", "-text", "-in"])
            .arg(&crt),
    );
    assert!(
        info.contains("CA:TRUE"),
        "the documented certificate is a CA: {info}"
    );
    let reg = Reg::start(Some((&crt, &key)));
    let cache = t.path().join("cache");
    let layout = t.path().join("l");
    let o = image(&["--output", &format!("oci:{}", layout.display())], &cache);
    assert!(o.status.success(), "{}", text(&o));
    let r = format!("{}/team/api:1", reg.host());
    let push = |extra: &[&str]| {
        let mut c = drydock();
        c.arg("push")
            .arg(format!("oci:{}", layout.display()))
            .arg(&r)
            .args(extra)
            .arg("--cache-dir")
            .arg(&cache);
        run(&mut c)
    };
    // Not trusted: a TLS error that says why, with one fix.
    let o = push(&[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = text(&o);
    assert!(
        err.contains("self-signed") && err.contains("--registry-ca"),
        "{err}"
    );
    assert_eq!(err.matches("fix:").count(), 1, "{err}");
    // Trusted with --registry-ca: pushed, and skopeo (Go, as docker) reads it with the same trust.
    let o = push(&["--registry-ca", crt.to_str().unwrap(), "--format", "json"]);
    assert!(o.status.success(), "{}", text(&o));
    let digest = serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let certs = t.path().join("certs");
    std::fs::create_dir(&certs).unwrap();
    std::fs::copy(&crt, certs.join("ca.crt")).unwrap();
    let inspect = run_ok(
        Command::new("skopeo")
            .args(["inspect", "--cert-dir"])
            .arg(&certs)
            .arg(format!("docker://{r}")),
    );
    assert!(inspect.contains(&digest), "{inspect}");
    // Trusted in Docker's certs.d, as `docker` itself reads it: pulled without a flag.
    let certs_d = PathBuf::from("/etc/docker/certs.d").join(reg.host());
    std::fs::create_dir_all(&certs_d).unwrap();
    struct Remove(PathBuf);
    impl Drop for Remove {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let _guard = Remove(certs_d.clone());
    std::fs::copy(&crt, certs_d.join("ca.crt")).unwrap();
    let o = run(drydock()
        .args(["pull", &r, "-o"])
        .arg(format!("oci:{}", t.path().join("pulled").display()))
        .arg("--cache-dir")
        .arg(t.path().join("c2")));
    assert!(o.status.success(), "{}", text(&o));

    // A trusted certificate for other names: the error says the name does not match and which
    // names it has, not "trust its CA".
    let (other, other_key) = self_signed(t.path(), "other", "DNS:registry.example.com,IP:10.0.0.1");
    let reg2 = Reg::start(Some((&other, &other_key)));
    let o = run(drydock()
        .arg("push")
        .arg(format!("oci:{}", layout.display()))
        .arg(format!("{}/team/api:1", reg2.host()))
        .arg("--registry-ca")
        .arg(&other)
        .arg("--cache-dir")
        .arg(&cache));
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o);
    assert!(
        err.contains("does not name 127.0.0.1")
            && err.contains("registry.example.com, 10.0.0.1")
            && !err.contains("trust its CA"),
        "{err}"
    );
}

#[test]
fn pull_checks_the_platform_and_a_pull_by_digest_invents_no_tag() {
    let reg = Reg::start(None);
    let t = tempfile::tempdir().unwrap();
    let cache = t.path().join("cache");
    let r = format!("{}/team/api:1", reg.host());
    let o = image(&["--push", &r, "--format", "json"], &cache);
    assert!(o.status.success(), "{}", text(&o));
    let digest = serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let pull = |reference: &str, extra: &[&str], out: &str| {
        let mut c = drydock();
        c.args(["pull", reference])
            .args(extra)
            .arg("-o")
            .arg(out)
            .arg("--cache-dir")
            .arg(&cache);
        run(&mut c)
    };
    // A single amd64 image asked for arm64: refused (exit 2, the platform is the input to
    // change), naming what it has, and nothing written.
    let out = t.path().join("arm");
    let o = pull(
        &r,
        &["--platform", "linux/arm64", "--format", "json"],
        &format!("oci:{}", out.display()),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let msg = j["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("no image for linux/arm64") && msg.contains("linux/amd64"),
        "{j}"
    );
    assert_eq!(j["error"]["kind"], "input");
    assert!(!out.exists());
    // An index without the platform: the platforms it has are listed.
    let layout = t.path().join("idx");
    let o = image(&["--output", &format!("oci:{}", layout.display())], &cache);
    assert!(o.status.success(), "{}", text(&o));
    let mut index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let entry = index["manifests"][0].clone();
    let list = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {"mediaType": entry["mediaType"], "digest": entry["digest"], "size": entry["size"], "platform": {"os": "linux", "architecture": "amd64"}},
            {"mediaType": entry["mediaType"], "digest": entry["digest"], "size": entry["size"], "platform": {"os": "linux", "architecture": "s390x"}},
        ],
    });
    let bytes = serde_json::to_vec(&list).unwrap();
    let d = drydock_oci::Digest::of(&bytes);
    std::fs::write(layout.join("blobs/sha256").join(d.hex()), &bytes).unwrap();
    index["manifests"] = serde_json::json!([{
        "mediaType": "application/vnd.oci.image.index.v1+json", "digest": d.as_str(), "size": bytes.len(),
        "annotations": {"org.opencontainers.image.ref.name": "multi"},
    }]);
    std::fs::write(
        layout.join("index.json"),
        serde_json::to_vec(&index).unwrap(),
    )
    .unwrap();
    run_ok(
        Command::new("skopeo")
            .args(["copy", "--all", "--dest-tls-verify=false"])
            .arg(format!("oci:{}:multi", layout.display()))
            .arg(format!("docker://{}/team/multi:1", reg.host())),
    );
    let o = pull(
        &format!("{}/team/multi:1", reg.host()),
        &["--platform", "linux/arm64"],
        &format!("oci:{}", t.path().join("arm2").display()),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("it has linux/amd64, linux/s390x"),
        "{}",
        text(&o)
    );

    // By digest: the outputs carry no tag the registry does not have.
    let by_digest = format!("{}/team/api@{digest}", reg.host());
    let archive = t.path().join("d.tar");
    let oci = t.path().join("d-oci");
    let mut c = drydock();
    c.args(["pull", &by_digest, "-o"])
        .arg(format!("docker-archive:{}", archive.display()))
        .arg("-o")
        .arg(format!("oci:{}", oci.display()))
        .arg("--cache-dir")
        .arg(&cache);
    let o = run(&mut c);
    assert!(o.status.success(), "{}", text(&o));
    let said = text(&o);
    assert!(
        said.contains(&format!("pulled {by_digest}")) && !said.contains(":latest"),
        "{said}"
    );
    let manifest = run_ok(
        Command::new("tar")
            .arg("-xOf")
            .arg(&archive)
            .arg("manifest.json"),
    );
    let m: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    assert_eq!(m[0]["RepoTags"], serde_json::json!([]), "{manifest}");
    let idx: serde_json::Value =
        serde_json::from_slice(&std::fs::read(oci.join("index.json")).unwrap()).unwrap();
    assert!(
        idx["manifests"][0]["annotations"]
            .get("org.opencontainers.image.ref.name")
            .is_none(),
        "{idx}"
    );
    assert_eq!(idx["manifests"][0]["digest"], digest.as_str());
    // skopeo reads both as they are.
    run_ok(
        Command::new("skopeo")
            .arg("inspect")
            .arg(format!("docker-archive:{}", archive.display())),
    );
}

#[test]
fn a_docker_archive_drydock_wrote_pushes_as_the_build_pushes() {
    let reg = Reg::start(None);
    let t = tempfile::tempdir().unwrap();
    let cache = t.path().join("cache");
    let archive = t.path().join("api.tar");
    let o = image(
        &["--output", &format!("docker-archive:{}", archive.display())],
        &cache,
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = image(
        &[
            "--push",
            &format!("{}/team/built:1", reg.host()),
            "--format",
            "json",
        ],
        &cache,
    );
    assert!(o.status.success(), "{}", text(&o));
    let built: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    // Another cache, as on another machine: the layers are compressed again, to the same bytes.
    let o = run(drydock()
        .arg("push")
        .arg(format!("docker-archive:{}", archive.display()))
        .arg(format!("{}/team/archived:1", reg.host()))
        .args(["--format", "json", "--cache-dir"])
        .arg(t.path().join("other-cache")));
    assert!(o.status.success(), "{}", text(&o));
    let pushed: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(pushed["digest"], built["digest"], "{pushed}\n{built}");
    let layers = |r: &str| {
        let raw = run_ok(
            Command::new("skopeo")
                .args(["inspect", "--raw", "--tls-verify=false"])
                .arg(format!("docker://{}/team/{r}:1", reg.host())),
        );
        let m: serde_json::Value = serde_json::from_str(&raw).unwrap();
        m["layers"].clone()
    };
    assert_eq!(layers("archived"), layers("built"));
    assert!(layers("archived")[0]["mediaType"]
        .as_str()
        .unwrap()
        .ends_with("+gzip"));
}

#[test]
fn credential_messages_say_what_happened_and_logout_removes_only_its_entry() {
    const PASSWORD: &str = "right-pass-1";
    let reg = Registry::start(Some(("alice", PASSWORD)));
    let ca = reg.ca.clone().unwrap();
    let home = tempfile::tempdir().unwrap();
    let docker_config = home.path().join("docker");
    std::fs::create_dir_all(&docker_config).unwrap();
    let cfg = docker_config.join("config.json");
    let dd = || {
        let mut c = drydock();
        c.env("DOCKER_CONFIG", &docker_config)
            .env("HOME", home.path())
            .env_remove("REGISTRY_AUTH_FILE")
            .env_remove("XDG_RUNTIME_DIR");
        c
    };
    let cache = home.path().join("cache");
    let layout = home.path().join("l");
    let o = image(&["--output", &format!("oci:{}", layout.display())], &cache);
    assert!(o.status.success(), "{}", text(&o));
    let r = format!("{}/team/api:1", reg.host());
    let push = |format: &str| {
        let mut c = dd();
        c.arg("push")
            .arg(format!("oci:{}", layout.display()))
            .arg(&r)
            .args(["--format", format, "--registry-ca"])
            .arg(&ca)
            .arg("--cache-dir")
            .arg(&cache);
        run(&mut c)
    };
    let login = |pw: &str| {
        let mut c = dd();
        c.args([
            "login",
            &reg.host(),
            "-u",
            "alice",
            "--password-stdin",
            "--registry-ca",
        ])
        .arg(&ca)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
        let mut child = c.spawn().unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), pw.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };

    // A config.json that is not JSON: named, with its line, exit 2 — not "log in first".
    std::fs::write(&cfg, "{\n  \"auths\": {\n    \"x\": {\"auth\": }\n  }\n}\n").unwrap();
    let o = push("json");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["error"]["path"], cfg.to_str().unwrap(), "{j}");
    assert_eq!(j["error"]["line"], 3, "{j}");
    assert!(!text(&o).contains("log in first"), "{}", text(&o));
    // A credsStore whose helper is not installed: said, with the helper's name.
    std::fs::write(&cfg, "{\"credsStore\": \"drydock-test-absent\"}\n").unwrap();
    let o = push("text");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = text(&o);
    assert!(
        err.contains("docker-credential-drydock-test-absent") && err.contains("not on PATH"),
        "{err}"
    );
    assert!(!err.contains("log in first"), "{err}");
    std::fs::remove_file(&cfg).unwrap();

    // A wrong password at login: the password given was refused; nothing "stored".
    let o = login("wrong");
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o);
    assert!(
        err.contains("refused that user name and password") && !err.contains("stored"),
        "{err}"
    );
    assert!(!cfg.exists(), "a refused login wrote {}", cfg.display());

    // Logged in, beside another entry and a setting: logout removes only this registry's entry.
    std::fs::write(&cfg, "{\n\t\"auths\": {\n\t\t\"other.example.com\": {\n\t\t\t\"auth\": \"eDp5\"\n\t\t}\n\t},\n\t\"psFormat\": \"table {{.ID}}\"\n}").unwrap();
    let o = login(PASSWORD);
    assert!(o.status.success(), "{}", text(&o));
    assert!(push("text").status.success());
    let before = std::fs::read_to_string(&cfg).unwrap();
    let o = run(dd().args(["logout", &reg.host()]));
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("logged out of"), "{}", text(&o));
    let after = std::fs::read_to_string(&cfg).unwrap();
    let v: serde_json::Value = serde_json::from_str(&after).unwrap();
    assert!(v["auths"].get(reg.host()).is_none(), "{after}");
    assert_eq!(v["auths"]["other.example.com"]["auth"], "eDp5");
    assert_eq!(v["psFormat"], "table {{.ID}}");
    // Byte for byte, but for the entry: what login wrote, less the registry's member.
    let start = before.find(&format!("\"{}\"", reg.host())).unwrap();
    let next = before.find("\"other.example.com\"").unwrap();
    assert!(start < next, "{before}");
    assert_eq!(after, format!("{}{}", &before[..start], &before[next..]));
    // Logged out: the registry asks, and drydock says to log in.
    let o = push("text");
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("log in first"), "{}", text(&o));
    // Nothing stored: said, exit 0.
    let o = run(dd().args(["logout", &reg.host()]));
    assert!(o.status.success());
    assert!(text(&o).contains("not logged in"), "{}", text(&o));
}

#[test]
fn an_unavailable_registry_is_retried_with_lines_and_said_unavailable() {
    require_tool("nginx");
    let t = tempfile::tempdir().unwrap();
    let port = free_port();
    let d = t.path();
    std::fs::write(
        d.join("nginx.conf"),
        format!(
            "daemon off;\nmaster_process off;\npid {0}/nginx.pid;\nerror_log {0}/error.log;\nevents {{}}\nhttp {{\n  access_log {0}/access.log;\n  client_body_temp_path {0}/body;\n  proxy_temp_path {0}/proxy;\n  fastcgi_temp_path {0}/fcgi;\n  uwsgi_temp_path {0}/uwsgi;\n  scgi_temp_path {0}/scgi;\n  server {{\n    listen 127.0.0.1:{port};\n    location / {{ add_header Retry-After 0 always; return 503; }}\n  }}\n}}\n",
            d.display()
        ),
    )
    .unwrap();
    let mut nginx = Command::new("nginx")
        .arg("-c")
        .arg(d.join("nginx.conf"))
        .arg("-e")
        .arg(d.join("error.log"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    eventually("nginx listens", Duration::from_secs(10), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).ok()
    });
    let pull = |quiet: bool| {
        let mut c = drydock();
        c.args(["pull", &format!("127.0.0.1:{port}/team/api:1"), "-o"])
            .arg(format!("oci:{}", d.join("out").display()))
            .arg("--cache-dir")
            .arg(d.join("cache"));
        if quiet {
            c.arg("--quiet");
        }
        run(&mut c)
    };
    let o = pull(false);
    let _ = nginx.kill();
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("HTTP 503")
            && stderr.contains("unavailable")
            && stderr.contains("retry later"),
        "{stderr}"
    );
    assert!(!stderr.contains("not an OCI"), "{stderr}");
    for n in 2..=4 {
        assert!(stderr.contains(&format!("retrying ({n}/4)")), "{stderr}");
    }
    // Not a terminal: no progress bar drawn.
    assert!(
        !stderr.contains('\r') && !stderr.contains("\x1b["),
        "{stderr:?}"
    );
    let _ = nginx.wait();
    let mut nginx = Command::new("nginx")
        .arg("-c")
        .arg(d.join("nginx.conf"))
        .arg("-e")
        .arg(d.join("error.log"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    eventually("nginx listens", Duration::from_secs(10), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).ok()
    });
    let o = pull(true);
    let _ = nginx.kill();
    let _ = nginx.wait();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!stderr.contains("retrying"), "--quiet: {stderr}");
    assert!(stderr.contains("unavailable"), "{stderr}");
}

#[test]
fn push_errors_name_the_image_to_push_and_a_bad_base_has_one_fix() {
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir(t.path().join("dir")).unwrap();
    std::fs::write(t.path().join("junk.tar"), b"not a tar").unwrap();
    for (source, want) in [
        (t.path().join("dir").display().to_string(), "oci:"),
        (
            t.path().join("junk.tar").display().to_string(),
            "docker-archive:",
        ),
        (
            format!("oci:{}", t.path().join("dir").display()),
            "the image to push",
        ),
        (
            format!("docker-archive:{}", t.path().join("junk.tar").display()),
            "the image to push",
        ),
    ] {
        let o = run(drydock()
            .args(["push", &source, "127.0.0.1:1/x:1", "--cache-dir"])
            .arg(t.path().join("cache")));
        assert_eq!(o.status.code(), Some(2), "{source}: {}", text(&o));
        let err = text(&o);
        assert!(
            err.contains(want) && !err.contains("base"),
            "{source}: {err}"
        );
        assert_eq!(err.matches("fix:").count(), 1, "{err}");
    }
    // A base that is not an archive: one error, one fix.
    let o = image(
        &[
            "--base",
            &format!("docker-archive:{}", t.path().join("junk.tar").display()),
        ],
        &t.path().join("cache"),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert_eq!(text(&o).matches("fix:").count(), 1, "{}", text(&o));
}

/// A registry that accepts connections and answers `GET /v2/` when `ping` (on any connection,
/// as often as asked), and nothing else, ever: every other request is read and left waiting.
fn hung_registry(ping: bool) -> u16 {
    use std::io::{BufRead, BufReader, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in l.incoming() {
            let Ok(mut s) = stream else { continue };
            std::thread::spawn(move || {
                let mut r = BufReader::new(s.try_clone().unwrap());
                loop {
                    let mut first = String::new();
                    if r.read_line(&mut first).unwrap_or(0) == 0 {
                        return;
                    }
                    let mut line = String::new();
                    while r.read_line(&mut line).is_ok_and(|k| k > 2) {
                        line.clear();
                    }
                    if !(ping && first.starts_with("GET /v2/ ")) {
                        // Holds the connection open without a word.
                        std::thread::sleep(Duration::from_secs(3600));
                        return;
                    }
                    let _ = s.write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
                    );
                }
            });
        }
    });
    port
}

/// Runs `c`, killing it (and failing) if it has not ended within `limit`: a generous bound
/// that only says "it ends", not how fast.
fn run_ending_within(c: &mut Command, limit: Duration) -> Output {
    let mut child = c
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let o = child.wait_with_output().unwrap();
            panic!(
                "still waiting after {limit:?} on a hung registry: {}",
                text(&o)
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn a_hung_registry_ends_pull_and_push_with_a_message_at_every_request() {
    let t = tempfile::tempdir().unwrap();
    let cache = t.path().join("cache");
    let layout = t.path().join("l");
    let o = image(&["--output", &format!("oci:{}", layout.display())], &cache);
    assert!(o.status.success(), "{}", text(&o));
    // Silent from the first byte (TLS handshake included); silent after answering the API root,
    // for a pull (the manifest) and a push (the first blob or manifest asked after).
    let silent = hung_registry(false);
    let after_ping = hung_registry(true);
    let cases: Vec<(String, Command)> = vec![
        (format!("127.0.0.1:{silent}"), {
            let mut c = drydock();
            c.args(["pull", &format!("127.0.0.1:{silent}/team/api:1"), "-o"])
                .arg(format!("oci:{}", t.path().join("out1").display()))
                .arg("--cache-dir")
                .arg(&cache);
            c
        }),
        (format!("127.0.0.1:{after_ping}"), {
            let mut c = drydock();
            c.args([
                "pull",
                &format!("127.0.0.1:{after_ping}/team/api:1"),
                "--allow-http",
                "-o",
            ])
            .arg(format!("oci:{}", t.path().join("out2").display()))
            .arg("--cache-dir")
            .arg(&cache);
            c
        }),
        (format!("127.0.0.1:{after_ping}"), {
            let mut c = drydock();
            c.arg("push")
                .arg(format!("oci:{}", layout.display()))
                .arg(format!("127.0.0.1:{after_ping}/team/api:1"))
                .arg("--allow-http")
                .arg("--cache-dir")
                .arg(&cache);
            c
        }),
    ];
    // At once: each waits its timeouts (about 20 s, then about a minute) in parallel.
    let runs: Vec<_> = cases
        .into_iter()
        .map(|(host, mut c)| {
            std::thread::spawn(move || (host, run_ending_within(&mut c, Duration::from_secs(600))))
        })
        .collect();
    for (i, r) in runs.into_iter().enumerate() {
        let (host, o) = r.join().unwrap();
        let err = String::from_utf8_lossy(&o.stderr).to_string();
        assert_eq!(o.status.code(), Some(1), "case {i}: {err}");
        // Named, with what it did not answer, how long drydock waited, and what to do.
        let within = if i == 0 { "10 s" } else { "30 s" };
        assert!(
            err.contains(&host)
                && err.contains(&format!("no answer within {within} (after 2 attempts)"))
                && err.contains("accepted the connection but did not answer")
                && err.contains("its logs"),
            "case {i}: {err}"
        );
        assert_eq!(err.matches("fix:").count(), 1, "case {i}: {err}");
        // The wait between is said: one retry line.
        assert_eq!(err.matches("retrying (2/2)").count(), 1, "case {i}: {err}");
        if i > 0 {
            assert!(!err.contains("the API root"), "case {i}: {err}");
        }
    }
}

#[test]
fn logout_erases_through_the_credential_helper_and_leaves_config_json_alone() {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let bin = h.join("bin");
    std::fs::create_dir(&bin).unwrap();
    let log = h.join("helpers.log");
    // Fake helpers speaking Docker's credential-helper protocol for `erase`: the server URL on
    // stdin; exit 0 when erased, or "credentials not found in native keychain" and exit 1.
    // Each holds the URLs listed in its own file; every call is logged as `NAME ACTION URL`.
    for name in ["fakestore", "fakehelper"] {
        let store = h.join(format!("{name}.stored"));
        let script = format!(
            "#!/bin/sh\nurl=$(cat)\necho \"{name} $1 $url\" >> '{log}'\nif [ -n \"$FAKE_FAIL\" ]; then echo 'keychain locked' >&2; exit 1; fi\nif grep -qxF \"$url\" '{store}' 2>/dev/null; then grep -vxF \"$url\" '{store}' > '{store}.new'; mv '{store}.new' '{store}'; exit 0; fi\necho 'credentials not found in native keychain'\nexit 1\n",
            log = log.display(),
            store = store.display()
        );
        let path = bin.join(format!("docker-credential-{name}"));
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::write(h.join("fakestore.stored"), "reg.example.com:5000\n").unwrap();
    std::fs::write(h.join("fakehelper.stored"), "helped.example.com\n").unwrap();
    let docker_config = h.join("docker");
    std::fs::create_dir(&docker_config).unwrap();
    let cfg = docker_config.join("config.json");
    let config = "{\n\t\"auths\": {\n\t\t\"other.example.com\": {\n\t\t\t\"auth\": \"eDp5\"\n\t\t}\n\t},\n\t\"credHelpers\": {\n\t\t\"helped.example.com\": \"fakehelper\"\n\t},\n\t\"credsStore\": \"fakestore\"\n}";
    std::fs::write(&cfg, config).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let logout = |registry: &str, fail: bool| {
        let mut c = drydock();
        c.args(["logout", registry])
            .env("DOCKER_CONFIG", &docker_config)
            .env("HOME", h)
            .env("PATH", &path)
            .env_remove("REGISTRY_AUTH_FILE")
            .env_remove("XDG_RUNTIME_DIR");
        if fail {
            c.env("FAKE_FAIL", "1");
        }
        let o = run(&mut c);
        let calls = std::fs::read_to_string(&log).unwrap_or_default();
        let _ = std::fs::remove_file(&log);
        (o, calls)
    };

    // credsStore: erased through its helper, with the server's name on stdin; reported.
    let (o, calls) = logout("reg.example.com:5000", false);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        calls
            .lines()
            .any(|l| l == "fakestore erase reg.example.com:5000"),
        "{calls}"
    );
    assert!(
        calls.lines().all(|l| l.starts_with("fakestore erase ")),
        "{calls}"
    );
    assert!(
        text(&o).contains(
            "logged out of reg.example.com:5000: removed from docker-credential-fakestore (reg.example.com:5000)"
        ),
        "{}",
        text(&o)
    );
    assert_eq!(
        std::fs::read_to_string(h.join("fakestore.stored")).unwrap(),
        ""
    );
    // config.json holds no secret for it: left byte for byte.
    assert_eq!(std::fs::read_to_string(&cfg).unwrap(), config);

    // A credHelpers entry wins over credsStore for its registry.
    let (o, calls) = logout("helped.example.com", false);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        calls
            .lines()
            .any(|l| l == "fakehelper erase helped.example.com")
            && !calls.contains("fakestore"),
        "{calls}"
    );
    assert!(
        text(&o).contains("removed from docker-credential-fakehelper (helped.example.com)"),
        "{}",
        text(&o)
    );
    assert_eq!(std::fs::read_to_string(&cfg).unwrap(), config);

    // Nothing stored: the helper says "not found", and so does drydock, exit 0.
    let (o, calls) = logout("reg.example.com:5000", false);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        calls.contains("fakestore erase reg.example.com:5000"),
        "{calls}"
    );
    assert!(text(&o).contains("not logged in"), "{}", text(&o));

    // A helper whose erase fails: exit 2, its words and what to do; config.json untouched.
    let (o, calls) = logout("reg.example.com:5000", true);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert_eq!(calls, "fakestore erase reg.example.com:5000\n");
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(
        err.contains(
            "docker-credential-fakestore erase reg.example.com:5000 failed: keychain locked"
        ) && err.contains("erase it with docker-credential-fakestore by hand"),
        "{err}"
    );
    assert_eq!(err.matches("fix:").count(), 1, "{err}");
    assert!(!text(&o).contains("logged out"), "{}", text(&o));
    assert_eq!(std::fs::read_to_string(&cfg).unwrap(), config);
}
