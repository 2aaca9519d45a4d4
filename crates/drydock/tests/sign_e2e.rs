//! Cosign-compatible signatures against real consumers: a real registry (Debian's
//! docker-registry on 127.0.0.1), skopeo 1.9 and podman 4.3, which read and write cosign's
//! `sha256-<hex>.sig` signatures (`use-sigstore-attachments`). Both directions: skopeo signs
//! with a key `drydock keygen` made and `drydock verify` accepts it; `drydock sign` signs and
//! skopeo and podman, through a `sigstoreSigned` policy, accept the image and refuse an unsigned
//! or relocated one. No output of any command shows the password or the private key.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::*;
use sha2::{Digest as _, Sha256};

const PASSWORD: &str = "dd-Pw-7f3a9c1e-sekret";

/// Every output of every command, to prove no secret leaked.
#[derive(Default)]
struct Outputs(Vec<String>);

impl Outputs {
    fn keep(&mut self, o: &Output) {
        self.0.push(String::from_utf8_lossy(&o.stdout).into_owned());
        self.0.push(String::from_utf8_lossy(&o.stderr).into_owned());
    }
    fn assert_no_secret(&self, private_key: &Path) {
        let pem = std::fs::read_to_string(private_key).unwrap();
        let body: Vec<&str> = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        assert!(body.len() > 3);
        for text in &self.0 {
            assert!(!text.contains(PASSWORD), "the password leaked: {text}");
            for line in &body {
                assert!(!text.contains(line), "the private key leaked: {text}");
            }
        }
    }
}

fn sha(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// A one-layer OCI layout (a file saying `what`) at DIR, tagged `x`.
fn tiny_layout(dir: &Path, what: &str) {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let put = |b: &[u8]| {
        let h = sha(b);
        std::fs::write(blobs.join(&h), b).unwrap();
        (format!("sha256:{h}"), b.len())
    };
    let mut tar = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(what.len() as u64);
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_cksum();
    tar.append_data(&mut h, "hello.txt", what.as_bytes()).unwrap();
    let raw = tar.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&raw).unwrap();
    let (layer, layer_size) = put(&gz.finish().unwrap());
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux", "config": {"Cmd": ["/hello"]},
        "rootfs": {"type": "layers", "diff_ids": [format!("sha256:{}", sha(&raw))]},
    });
    let (config, config_size) = put(&serde_json::to_vec(&config).unwrap());
    let manifest = serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": config_size},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer, "size": layer_size}],
    });
    let (m, m_size) = put(&serde_json::to_vec(&manifest).unwrap());
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": m, "size": m_size,
        "annotations": {"org.opencontainers.image.ref.name": "x"}}]});
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
}

struct Setup {
    reg: Registry,
    dir: tempfile::TempDir,
    outputs: Outputs,
}

impl Setup {
    fn new() -> Setup {
        require_tool("skopeo");
        let reg = Registry::start(None);
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // skopeo and podman read and write cosign's .sig tags only when registries.d says so.
        std::fs::create_dir_all(d.join("registries.d")).unwrap();
        std::fs::write(
            d.join("registries.d/sigstore.yaml"),
            format!("docker:\n  {}:\n    use-sigstore-attachments: true\n", reg.host()),
        )
        .unwrap();
        // podman has no --registries.d: it reads $HOME/.config/containers/registries.d first.
        std::fs::create_dir_all(d.join("home/.config/containers")).unwrap();
        std::os::unix::fs::symlink(d.join("registries.d"), d.join("home/.config/containers/registries.d")).unwrap();
        std::fs::write(d.join("passphrase"), PASSWORD).unwrap();
        Setup { reg, dir, outputs: Outputs::default() }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    fn reference(&self, rest: &str) -> String {
        format!("{}/{rest}", self.reg.host())
    }

    fn keygen(&mut self, prefix: &str) -> (PathBuf, PathBuf) {
        let p = self.path(prefix);
        let o = run(drydock()
            .args(["keygen", "--output-key-prefix"])
            .arg(&p)
            .env("DRYDOCK_KEY_PASSWORD", PASSWORD));
        self.outputs.keep(&o);
        assert!(o.status.success(), "keygen: {}", String::from_utf8_lossy(&o.stderr));
        (p.with_extension("key"), p.with_extension("pub"))
    }

    /// skopeo copy of a fresh tiny image to REF (signed with `key` when given).
    fn push(&mut self, what: &str, reference: &str, key: Option<&Path>) {
        let layout = self.path(&format!("layout-{what}"));
        tiny_layout(&layout, what);
        let mut c = Command::new("skopeo");
        c.arg("--registries.d").arg(self.path("registries.d"));
        c.args(["--insecure-policy", "copy", "--dest-tls-verify=false"]);
        if let Some(k) = key {
            c.arg("--sign-by-sigstore-private-key").arg(k);
            c.arg("--sign-passphrase-file").arg(self.path("passphrase"));
        }
        c.arg(format!("oci:{}:x", layout.display()));
        c.arg(format!("docker://{reference}"));
        let o = run(&mut c);
        self.outputs.keep(&o);
        assert!(o.status.success(), "skopeo copy: {}", String::from_utf8_lossy(&o.stderr));
    }

    fn drydock(&mut self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut c = drydock();
        c.args(args).env_remove("DRYDOCK_KEY_PASSWORD");
        let o = match stdin {
            Some(s) => {
                let mut child = c
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap();
                child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
                child.wait_with_output().unwrap()
            }
            None => run(c.stdin(Stdio::null())),
        };
        self.outputs.keep(&o);
        o
    }

    fn verify_json(&mut self, reference: &str, public: &Path) -> (i32, serde_json::Value) {
        let o = self.drydock(
            &["verify", reference, "--key", public.to_str().unwrap(), "--format", "json"],
            None,
        );
        let v = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
            panic!("{e}: {}\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
        });
        (o.status.code().unwrap(), v)
    }

    /// `skopeo copy` from the registry under a policy that requires `public`'s signature.
    fn skopeo_pull(&mut self, reference: &str, policy: &Path) -> Output {
        let out = self.path(&format!("pulled-{}", sha(reference.as_bytes())));
        let o = run(Command::new("skopeo")
            .arg("--policy")
            .arg(policy)
            .arg("--registries.d")
            .arg(self.path("registries.d"))
            .args(["copy", "--src-tls-verify=false"])
            .arg(format!("docker://{reference}"))
            .arg(format!("oci:{}:x", out.display())));
        self.outputs.keep(&o);
        o
    }

    fn policy(&self, public: &Path) -> PathBuf {
        let p = self.path("policy.json");
        let policy = serde_json::json!({
            "default": [{"type": "reject"}],
            "transports": {"docker": {self.reg.host(): [{
                "type": "sigstoreSigned",
                "keyPath": public,
                "signedIdentity": {"type": "matchRepository"},
            }]}},
        });
        std::fs::write(&p, serde_json::to_vec_pretty(&policy).unwrap()).unwrap();
        p
    }
}

#[test]
fn skopeo_signs_with_a_drydock_key_and_drydock_verifies() {
    let mut s = Setup::new();
    let (private, public) = s.keygen("release");
    let signed = s.reference("team/app:1");
    s.push("signed", &signed, Some(&private));
    let (code, v) = s.verify_json(&signed, &public);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["verified"], true);
    // skopeo signs `registry/repo:tag`; drydock matched it to the repository.
    assert_eq!(v["signatures"][0]["docker_reference"], signed);
    // Text mode says so too.
    let o = s.drydock(&["verify", &signed, "--key", public.to_str().unwrap()], None);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("verified "));

    // Another key: the signature is there but vouches for nothing.
    let (_, other_pub) = s.keygen("other");
    let (code, v) = s.verify_json(&signed, &other_pub);
    assert_eq!((code, &v["found"], &v["verified"]), (1, &true.into(), &false.into()), "{v}");
    assert!(v["signatures"][0]["rejected"].as_str().unwrap().contains("does not match the key"), "{v}");

    // An unsigned image: exit 1, and the text names what is missing.
    let unsigned = s.reference("team/app:unsigned");
    s.push("unsigned", &unsigned, None);
    let (code, v) = s.verify_json(&unsigned, &public);
    assert_eq!((code, &v["found"]), (1, &false.into()), "{v}");
    let o = s.drydock(&["verify", &unsigned, "--key", public.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not signed"));

    s.outputs.assert_no_secret(&private);
}

#[test]
fn drydock_signs_and_skopeo_and_podman_verify() {
    let mut s = Setup::new();
    let (private, public) = s.keygen("release");
    let key = private.to_str().unwrap().to_string();
    let signed = s.reference("team/app:1");
    let unsigned = s.reference("team/app:unsigned");
    s.push("signed", &signed, None);
    s.push("unsigned", &unsigned, None);

    // A wrong password is a clear input error that names the key and not the password.
    let o = s.drydock(&["sign", &signed, "--key", &key], Some("not-the-password\n"));
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("wrong password") && err.contains("release.key"), "{err}");
    assert!(!err.contains("not-the-password"), "{err}");

    // The password on stdin (a trailing newline is not part of it).
    let o = s.drydock(&["sign", &signed, "--key", &key, "--format", "json"], Some(&format!("{PASSWORD}\n")));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(report["signature"].as_str().unwrap().ends_with(".sig"), "{report}");
    assert_eq!(report["signatures"], 1);

    let policy = s.policy(&public);
    let o = s.skopeo_pull(&signed, &policy);
    assert!(o.status.success(), "skopeo refused drydock's signature: {}", String::from_utf8_lossy(&o.stderr));
    let o = s.skopeo_pull(&unsigned, &policy);
    assert!(!o.status.success(), "skopeo accepted an unsigned image");
    assert!(String::from_utf8_lossy(&o.stderr).contains("signature"), "{}", String::from_utf8_lossy(&o.stderr));

    // Relocated: the same image, its signature copied along, under another repository. The
    // signature names team/app, so the policy (matchRepository) and drydock refuse it.
    let moved = s.reference("team/other:1");
    let o = run(Command::new("skopeo")
        .arg("--registries.d")
        .arg(s.path("registries.d"))
        .args(["--insecure-policy", "copy", "--src-tls-verify=false", "--dest-tls-verify=false"])
        .arg(format!("docker://{signed}"))
        .arg(format!("docker://{moved}")));
    s.outputs.keep(&o);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (code, v) = s.verify_json(&moved, &public);
    assert_eq!((code, &v["found"]), (1, &true.into()), "the signature was copied along: {v}");
    assert!(v["signatures"][0]["rejected"].as_str().unwrap().contains("repository"), "{v}");
    let o = s.skopeo_pull(&moved, &policy);
    assert!(!o.status.success(), "skopeo accepted a relocated image");

    // drydock verify agrees with skopeo on the original.
    let (code, _) = s.verify_json(&signed, &public);
    assert_eq!(code, 0);

    // A second signature is added beside the first, as cosign does; both still verify.
    let o = s.drydock(&["sign", &signed, "--key", &key, "--format", "json"], Some(PASSWORD));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["signatures"], 2);
    let (code, v) = s.verify_json(&signed, &public);
    assert_eq!(code, 0);
    assert_eq!(v["signatures"].as_array().unwrap().len(), 2);
    assert!(v["signatures"].as_array().unwrap().iter().all(|c| c["rejected"].is_null()), "{v}");
    let o = s.skopeo_pull(&signed, &policy);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    // podman pull through the same policy (registries.d from $HOME/.config/containers).
    for (r, ok) in [(&signed, true), (&unsigned, false)] {
        let o = run(engine("podman")
            .env("HOME", s.path("home"))
            .args(["pull", "--tls-verify=false", "--signature-policy"])
            .arg(&policy)
            .arg(r));
        s.outputs.keep(&o);
        assert_eq!(o.status.success(), ok, "podman pull {r}: {}", String::from_utf8_lossy(&o.stderr));
        if ok {
            let _ = run(engine("podman").args(["rmi", "-f", r]));
        }
    }

    s.outputs.assert_no_secret(&private);
}

#[test]
fn keygen_never_replaces_a_key_and_writes_private_keys_0600() {
    let d = tempfile::tempdir().unwrap();
    let prefix = d.path().join("k");
    let o = run(drydock().args(["keygen", "--output-key-prefix"]).arg(&prefix).env("DRYDOCK_KEY_PASSWORD", PASSWORD));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    use std::os::unix::fs::PermissionsExt;
    let key = prefix.with_extension("key");
    assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    let before = std::fs::read(&key).unwrap();
    let o = run(drydock().args(["keygen", "--output-key-prefix"]).arg(&prefix).env("DRYDOCK_KEY_PASSWORD", PASSWORD));
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("k.key: already exists"));
    assert_eq!(std::fs::read(&key).unwrap(), before);
    // Only the public key there: still refused, and no private key is written beside it.
    std::fs::remove_file(&key).unwrap();
    let o = run(drydock().args(["keygen", "--output-key-prefix"]).arg(&prefix).env("DRYDOCK_KEY_PASSWORD", PASSWORD));
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("k.pub: already exists"));
    assert!(!key.exists());
    // No temporary files left behind.
    let names: Vec<_> = std::fs::read_dir(d.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 1, "{names:?}");
}
