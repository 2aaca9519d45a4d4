//! Cosign-compatible signatures against real parts: a real registry (Debian's docker-registry
//! on 127.0.0.1) that stores the `sha256-<hex>.sig` manifest, skopeo reading it back through the
//! registry API, OpenSSL verifying drydock's signature over the payload it stored, and libsodium
//! plus OpenSSL (PyNaCl, cryptography) reading drydock's encrypted key and writing one drydock
//! reads. skopeo 1.9 and podman 4.3 from Debian cannot take part: Debian builds them with
//! sigstore disabled ("Debian-local change: sigstore disabled"), and no cosign installs here;
//! compatibility with cosign itself is proven by known answers (a key and a signature cosign
//! made) in `src/sign`. No output of any command shows the password or the private key.

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
    tar.append_data(&mut h, "hello.txt", what.as_bytes())
        .unwrap();
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
        Setup {
            reg,
            dir,
            outputs: Outputs::default(),
        }
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
        assert!(
            o.status.success(),
            "keygen: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        (p.with_extension("key"), p.with_extension("pub"))
    }

    /// skopeo copy of a fresh tiny image to REF.
    fn push(&mut self, what: &str, reference: &str) {
        let layout = self.path(&format!("layout-{what}"));
        tiny_layout(&layout, what);
        let mut c = Command::new("skopeo");
        c.args(["--insecure-policy", "copy", "--dest-tls-verify=false"]);
        c.arg(format!("oci:{}:x", layout.display()));
        c.arg(format!("docker://{reference}"));
        let o = run(&mut c);
        self.outputs.keep(&o);
        assert!(
            o.status.success(),
            "skopeo copy: {}",
            String::from_utf8_lossy(&o.stderr)
        );
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

    /// `drydock verify` of the signature alone (these images have no attestations).
    fn verify_json(&mut self, reference: &str, public: &Path) -> (i32, serde_json::Value) {
        self.verify_requiring(reference, public, "signature")
    }

    fn verify_requiring(
        &mut self,
        reference: &str,
        public: &Path,
        require: &str,
    ) -> (i32, serde_json::Value) {
        let o = self.drydock(
            &[
                "verify",
                reference,
                "--key",
                public.to_str().unwrap(),
                "--require",
                require,
                "--format",
                "json",
            ],
            None,
        );
        let v = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
            panic!(
                "{e}: {}\n{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            )
        });
        (o.status.code().unwrap(), v)
    }

    fn skopeo(&mut self, args: &[&str]) -> Output {
        let o = run(Command::new("skopeo").args(args));
        self.outputs.keep(&o);
        o
    }
}

/// Reads drydock's encrypted key with libsodium (secretbox) and OpenSSL (scrypt, PKCS#8), checks
/// it against drydock's public key, and writes a new key pair the same way for drydock to use.
const PY_KEYS: &str = r#"
import base64, hashlib, json, sys, os
import nacl.secret
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
key_path, pub_path, out_prefix, pw = sys.argv[1], sys.argv[2], sys.argv[3], os.environ["PW"].encode()
lines = open(key_path).read().strip().splitlines()
assert lines[0] == "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----", lines[0]
env = json.loads(base64.b64decode("".join(lines[1:-1])))
kdf = env["kdf"]; p = kdf["params"]
assert kdf["name"] == "scrypt" and env["cipher"]["name"] == "nacl/secretbox"
k = hashlib.scrypt(pw, salt=base64.b64decode(kdf["salt"]), n=p["N"], r=p["r"], p=p["p"], dklen=32, maxmem=64 << 20)
der = nacl.secret.SecretBox(k).decrypt(base64.b64decode(env["ciphertext"]), base64.b64decode(env["cipher"]["nonce"]))
priv = serialization.load_der_private_key(der, password=None)
assert isinstance(priv.curve, ec.SECP256R1)
pub = priv.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
assert pub == open(pub_path, "rb").read(), "drydock's public key is not its private key's"
# A new pair, sealed by libsodium, for drydock to read.
new = ec.generate_private_key(ec.SECP256R1())
der = new.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
salt, nonce = os.urandom(32), os.urandom(24)
k = hashlib.scrypt(pw, salt=salt, n=32768, r=8, p=1, dklen=32, maxmem=64 << 20)
ct = nacl.secret.SecretBox(k).encrypt(der, nonce).ciphertext
body = base64.b64encode(json.dumps({"kdf": {"name": "scrypt", "params": {"N": 32768, "r": 8, "p": 1}, "salt": base64.b64encode(salt).decode()}, "cipher": {"name": "nacl/secretbox", "nonce": base64.b64encode(nonce).decode()}, "ciphertext": base64.b64encode(ct).decode()}).encode()).decode()
pem = "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n" + "\n".join(body[i:i+64] for i in range(0, len(body), 64)) + "\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n"
open(out_prefix + ".key", "w").write(pem)
open(out_prefix + ".pub", "wb").write(new.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
print("ok")
"#;

#[test]
fn drydock_signs_in_a_registry_and_independent_tools_verify() {
    require_tool("openssl");
    let mut s = Setup::new();
    let (private, public) = s.keygen("release");
    let key = private.to_str().unwrap().to_string();
    let signed = s.reference("team/app:1");
    let unsigned = s.reference("team/app:unsigned");
    s.push("signed", &signed);
    s.push("unsigned", &unsigned);

    // A wrong password is a clear input error that names the key and not the password.
    let o = s.drydock(
        &["sign", &signed, "--key", &key],
        Some("not-the-password\n"),
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("wrong password") && err.contains("release.key"),
        "{err}"
    );
    assert!(!err.contains("not-the-password"), "{err}");

    // The password on stdin (a trailing newline is not part of it).
    let o = s.drydock(
        &["sign", &signed, "--key", &key, "--format", "json"],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["signatures"], 1);
    let image_digest = report["image"]
        .as_str()
        .unwrap()
        .rsplit_once('@')
        .unwrap()
        .1
        .to_string();
    let sig_tag = format!(
        "sha256-{}.sig",
        image_digest.strip_prefix("sha256:").unwrap()
    );
    assert_eq!(
        report["signature"],
        s.reference(&format!("team/app:{sig_tag}"))
    );

    let (code, v) = s.verify_json(&signed, &public);
    assert_eq!(code, 0, "{v}");
    assert_eq!(
        v["signatures"][0]["docker_reference"],
        s.reference("team/app")
    );
    let o = s.drydock(
        &[
            "verify",
            &signed,
            "--key",
            public.to_str().unwrap(),
            "--require",
            "signature",
        ],
        None,
    );
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("verified "));

    // The stored signature, read back through the registry API by skopeo (which checks every
    // blob's digest as it copies), is cosign's layout, and OpenSSL verifies it with the public key.
    let raw = s.skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("docker://{}", s.reference(&format!("team/app:{sig_tag}"))),
    ]);
    assert!(
        raw.status.success(),
        "{}",
        String::from_utf8_lossy(&raw.stderr)
    );
    let m: serde_json::Value = serde_json::from_slice(&raw.stdout).unwrap();
    assert_eq!(m["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    let layer = &m["layers"][0];
    assert_eq!(
        layer["mediaType"],
        "application/vnd.dev.cosign.simplesigning.v1+json"
    );
    let sig_b64 = layer["annotations"]["dev.cosignproject.cosign/signature"]
        .as_str()
        .unwrap();
    let copy = s.path("sig-layout");
    let o = s.skopeo(&[
        "copy",
        "--src-tls-verify=false",
        &format!("docker://{}", s.reference(&format!("team/app:{sig_tag}"))),
        &format!("oci:{}:sig", copy.display()),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let payload_digest = layer["digest"]
        .as_str()
        .unwrap()
        .strip_prefix("sha256:")
        .unwrap();
    let payload_file = copy.join("blobs/sha256").join(payload_digest);
    let p: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&payload_file).unwrap()).unwrap();
    assert_eq!(
        p["critical"]["image"]["docker-manifest-digest"],
        image_digest.as_str()
    );
    assert_eq!(p["critical"]["type"], "cosign container image signature");
    let der = s.path("sig.der");
    use base64::Engine;
    std::fs::write(
        &der,
        base64::engine::general_purpose::STANDARD
            .decode(sig_b64)
            .unwrap(),
    )
    .unwrap();
    let o = run(Command::new("openssl")
        .args(["dgst", "-sha256", "-verify"])
        .arg(&public)
        .arg("-signature")
        .arg(&der)
        .arg(&payload_file));
    assert!(
        o.status.success() && String::from_utf8_lossy(&o.stdout).contains("Verified OK"),
        "{o:?}"
    );

    // Another key: the signature is there but vouches for nothing.
    let (_, other_pub) = s.keygen("other");
    let (code, v) = s.verify_json(&signed, &other_pub);
    assert_eq!(
        (code, &v["found"], &v["verified"]),
        (1, &true.into(), &false.into()),
        "{v}"
    );
    assert!(
        v["signatures"][0]["rejected"]
            .as_str()
            .unwrap()
            .contains("does not match the key"),
        "{v}"
    );

    // An unsigned image: exit 1, and the text names what is missing.
    let (code, v) = s.verify_json(&unsigned, &public);
    assert_eq!((code, &v["found"]), (1, &false.into()), "{v}");
    let o = s.drydock(
        &["verify", &unsigned, "--key", public.to_str().unwrap()],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not signed"));

    // Relocated: the image and its signature copied to another repository. The signature names
    // team/app, so drydock refuses it there.
    for tag in ["1", sig_tag.as_str()] {
        let o = s.skopeo(&[
            "--insecure-policy",
            "copy",
            "--src-tls-verify=false",
            "--dest-tls-verify=false",
            &format!("docker://{}", s.reference(&format!("team/app:{tag}"))),
            &format!("docker://{}", s.reference(&format!("team/other:{tag}"))),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let (code, v) = s.verify_json(&s.reference("team/other:1"), &public);
    assert_eq!((code, &v["found"]), (1, &true.into()), "{v}");
    assert!(
        v["signatures"][0]["rejected"]
            .as_str()
            .unwrap()
            .contains("repository"),
        "{v}"
    );

    // libsodium and OpenSSL read drydock's key; drydock signs with a key they made. The second
    // signature is added beside the first, as cosign does, and each key finds its own.
    let o = run(Command::new("/usr/bin/python3")
        .args(["-c", PY_KEYS])
        .arg(&private)
        .arg(&public)
        .arg(s.path("py"))
        .env("PW", PASSWORD));
    s.outputs.keep(&o);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let py_key = s.path("py.key");
    let o = s.drydock(
        &[
            "sign",
            &signed,
            "--key",
            py_key.to_str().unwrap(),
            "--format",
            "json",
        ],
        Some(PASSWORD),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["signatures"], 2);
    for k in [&public, &s.path("py.pub")] {
        let (code, v) = s.verify_json(&signed, k);
        assert_eq!(code, 0, "{v}");
        let valid = v["signatures"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["rejected"].is_null())
            .count();
        assert_eq!(valid, 1, "{v}");
    }

    s.outputs.assert_no_secret(&private);
    s.outputs.assert_no_secret(&py_key);
}
#[test]
fn keygen_never_replaces_a_key_and_writes_private_keys_0600() {
    let d = tempfile::tempdir().unwrap();
    let prefix = d.path().join("k");
    let o = run(drydock()
        .args(["keygen", "--output-key-prefix"])
        .arg(&prefix)
        .env("DRYDOCK_KEY_PASSWORD", PASSWORD));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    use std::os::unix::fs::PermissionsExt;
    let key = prefix.with_extension("key");
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let before = std::fs::read(&key).unwrap();
    let o = run(drydock()
        .args(["keygen", "--output-key-prefix"])
        .arg(&prefix)
        .env("DRYDOCK_KEY_PASSWORD", PASSWORD));
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("k.key: already exists"));
    assert_eq!(std::fs::read(&key).unwrap(), before);
    // Only the public key there: still refused, and no private key is written beside it.
    std::fs::remove_file(&key).unwrap();
    let o = run(drydock()
        .args(["keygen", "--output-key-prefix"])
        .arg(&prefix)
        .env("DRYDOCK_KEY_PASSWORD", PASSWORD));
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("k.pub: already exists"));
    assert!(!key.exists());
    // No password anywhere (no variable, an empty stdin): an input error, and no key written.
    let o = run(drydock()
        .args(["keygen", "--output-key-prefix"])
        .arg(d.path().join("nopw"))
        .env_remove("DRYDOCK_KEY_PASSWORD")
        .stdin(Stdio::null()));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("DRYDOCK_KEY_PASSWORD is not set"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // No temporary files left behind.
    let names: Vec<_> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

/// Verifies a DSSE envelope with the in-toto project's securesystemslib and the public key, and
/// prints the statement's predicate type and subject digest.
const PY_DSSE: &str = r#"
import json, sys
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from securesystemslib.dsse import Envelope
from securesystemslib.signer import SSlibKey
env = Envelope.from_dict(json.load(open(sys.argv[1])))
k = SSlibKey.from_crypto(load_pem_public_key(open(sys.argv[2], "rb").read()))
# drydock, like cosign, leaves the signature's keyid empty: the verifier names the key.
key = SSlibKey("", k.keytype, k.scheme, k.keyval)
env.verify([key], 1)
st = json.loads(env.payload)
assert st["_type"] == "https://in-toto.io/Statement/v1", st["_type"]
print(st["predicateType"], st["subject"][0]["digest"]["sha256"])
"#;

fn registry_get(reg: &str, path: &str, accept: &str) -> Vec<u8> {
    let o = run(Command::new("curl").args([
        "-sf",
        "-H",
        &format!("Accept: {accept}"),
        &format!("http://{reg}/v2/{path}"),
    ]));
    assert!(
        o.status.success(),
        "GET {path}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o.stdout
}

/// `drydock build --push --sbom both --sign KEY --output oci:DIR`: the SBOMs and the signed
/// provenance go beside the image in the layout (its index) and in a registry without the
/// referrers API (distribution 2.8: the `sha256-<hex>` referrers tag, and cosign's `.sbom`,
/// `.att`, `.sig`); `drydock verify` finds all three, securesystemslib verifies the DSSE
/// provenance with the public key; an image with a signature but no attestations fails
/// verification unless only the signature is required; an unsigned attested build is
/// reproducible.
#[test]
fn attestations_go_beside_the_image_and_verify() {
    require_tool("curl");
    let mut s = Setup::new();
    let (private, public) = s.keygen("release");
    let (_t, dir) = copy_example("gin-api");
    let cache = s.path("cache");
    let layout = s.path("layout");
    let reference = s.reference("team/gin:1");
    let build = |s: &mut Setup, args: &[&str]| {
        let mut c = drydock();
        c.arg("build")
            .arg(&dir)
            .arg("--cache-dir")
            .arg(&cache)
            .args(["--format", "json"])
            .args(args)
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .env("DRYDOCK_KEY_PASSWORD", PASSWORD);
        let o = run(&mut c);
        s.outputs.keep(&o);
        assert!(
            o.status.success(),
            "build: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()
    };
    let layout_output = format!("oci:{}", layout.display());
    let signed_build = [
        "--push",
        reference.as_str(),
        "--output",
        layout_output.as_str(),
        "--sbom",
        "both",
        "--sign",
        private.to_str().unwrap(),
    ];
    let report = build(&mut s, &signed_build);
    let digest = report["digest"].as_str().unwrap().to_string();
    let hex = digest.strip_prefix("sha256:").unwrap();
    let attached = report["attached"].as_array().unwrap();
    let found: Vec<String> = attached
        .iter()
        .map(|a| {
            format!(
                "{} {}",
                a["artifact_type"].as_str().unwrap(),
                a["found_by"].as_str().unwrap()
            )
        })
        .collect();
    for kind in [
        "application/spdx+json",
        "application/vnd.cyclonedx+json",
        "application/vnd.dsse.envelope.v1+json",
    ] {
        assert!(found.contains(&format!("{kind} index")), "{found:?}");
        assert!(
            found.contains(&format!("{kind} referrers tag sha256-{hex}")),
            "{found:?}"
        );
    }
    assert!(
        found.contains(&format!("cosign sbom cosign tag sha256-{hex}.sbom")),
        "{found:?}"
    );
    assert!(
        found.contains(&format!("cosign att cosign tag sha256-{hex}.att")),
        "{found:?}"
    );
    assert_eq!(
        report["signed"][0]["image"],
        format!("{}@{digest}", s.reference("team/gin"))
    );

    // The layout: the image under its name, the artifacts beside it with the image as subject.
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let entries = index["manifests"].as_array().unwrap();
    let artifacts: Vec<&serde_json::Value> = entries
        .iter()
        .filter(|e| e.get("artifactType").is_some())
        .collect();
    // spdx, cyclonedx, provenance, and the two SBOM attestations a key adds.
    assert_eq!(artifacts.len(), 5, "{index}");
    for a in &artifacts {
        let d = a["digest"]
            .as_str()
            .unwrap()
            .strip_prefix("sha256:")
            .unwrap();
        let m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(layout.join("blobs/sha256").join(d)).unwrap())
                .unwrap();
        assert_eq!(m["subject"]["digest"], digest.as_str(), "{m}");
        assert_eq!(
            m["config"]["mediaType"],
            "application/vnd.oci.empty.v1+json"
        );
    }
    // skopeo still reads the image by its name.
    let name = report["reference"].as_str().unwrap();
    let o = s.skopeo(&["inspect", &format!("oci:{}:{name}", layout.display())]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    // The registry (distribution 2.8 has no referrers API): the referrers tag lists them.
    let reg = s.reg.host();
    let tagged: serde_json::Value = serde_json::from_slice(&registry_get(
        &reg,
        &format!("team/gin/manifests/sha256-{hex}"),
        "application/vnd.oci.image.index.v1+json",
    ))
    .unwrap();
    let listed = tagged["manifests"].as_array().unwrap();
    assert_eq!(listed.len(), 5, "{tagged}");
    let provenance = listed
        .iter()
        .find(|m| m["annotations"]["in-toto.io/predicate-type"] == "https://slsa.dev/provenance/v1")
        .expect("the provenance is listed");
    let m: serde_json::Value = serde_json::from_slice(&registry_get(
        &reg,
        &format!(
            "team/gin/manifests/{}",
            provenance["digest"].as_str().unwrap()
        ),
        "application/vnd.oci.image.manifest.v1+json",
    ))
    .unwrap();
    assert_eq!(m["subject"]["digest"], digest.as_str());
    let envelope = registry_get(
        &reg,
        &format!(
            "team/gin/blobs/{}",
            m["layers"][0]["digest"].as_str().unwrap()
        ),
        "*/*",
    );
    let env_path = s.path("provenance.dsse.json");
    std::fs::write(&env_path, &envelope).unwrap();
    let python = std::env::var("DRYDOCK_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/drydock-tools")
        })
        .join("sbom-venv/bin/python");
    let o = run(Command::new(&python)
        .args(["-c", PY_DSSE])
        .arg(&env_path)
        .arg(&public));
    assert!(
        o.status.success(),
        "securesystemslib: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        format!("https://slsa.dev/provenance/v1 {hex}")
    );
    // Another key does not verify it.
    let (other_key, other_pub) = s.keygen("other");
    let o = run(Command::new(&python)
        .args(["-c", PY_DSSE])
        .arg(&env_path)
        .arg(&other_pub));
    assert!(!o.status.success());
    // cosign's tags are there.
    for suffix in ["sig", "sbom", "att"] {
        registry_get(
            &reg,
            &format!("team/gin/manifests/sha256-{hex}.{suffix}"),
            "application/vnd.oci.image.manifest.v1+json",
        );
    }

    // The same build again: signatures are deterministic (RFC 6979), so nothing is added: one
    // signature, the same five referrers.
    let again = build(&mut s, &signed_build);
    assert_eq!(again["digest"], digest.as_str());
    assert_eq!(again["signed"][0]["signatures"], 1, "{again}");
    assert_eq!(again["signed"][0]["added"], false, "{again}");
    assert_eq!(report["signed"][0]["added"], true, "{report}");
    // `drydock sign` of it again says so.
    let o = s.drydock(
        &["sign", &reference, "--key", private.to_str().unwrap()],
        Some(PASSWORD),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        String::from_utf8_lossy(&o.stdout).starts_with("already signed with this key: "),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let tagged_again: serde_json::Value = serde_json::from_slice(&registry_get(
        &reg,
        &format!("team/gin/manifests/sha256-{hex}"),
        "application/vnd.oci.image.index.v1+json",
    ))
    .unwrap();
    assert_eq!(tagged_again, tagged);

    // drydock verify: signature, SBOM and provenance, all by the key.
    let (code, v) = s.verify_requiring(&reference, &public, "signature,sbom,provenance");
    assert_eq!(code, 0, "{v}");
    assert!(
        v["sbom"]["verified"].is_string() && v["provenance"]["verified"].is_string(),
        "{v}"
    );
    let o = s.drydock(
        &["verify", &reference, "--key", public.to_str().unwrap()],
        None,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("provenance: signed") && text.contains("sbom: signed"),
        "{text}"
    );
    // With the other key: nothing vouches.
    let (code, v) = s.verify_requiring(&reference, &other_pub, "signature,sbom,provenance");
    assert_eq!(code, 1, "{v}");
    assert!(v["provenance"]["verified"].is_null(), "{v}");
    // The policy from drydock.toml: [verify] keys and require.
    let project = s.path("policy");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::copy(&public, project.join("release.pub")).unwrap();
    std::fs::write(
        project.join("drydock.toml"),
        "[verify]\nkeys = [\"release.pub\"]\nrequire = [\"provenance\"]\n",
    )
    .unwrap();
    let o = s.drydock(
        &[
            "verify",
            &reference,
            "--dir",
            project.to_str().unwrap(),
            "--format",
            "json",
        ],
        None,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["required"], serde_json::json!(["provenance"]));

    // Another key attests the same image too: cosign's `.att` keeps the first key's envelopes
    // (as `cosign attest` appends), and both keys verify.
    let att = |s: &mut Setup| -> usize {
        let _ = s;
        let m: serde_json::Value = serde_json::from_slice(&registry_get(
            &reg,
            &format!("team/gin/manifests/sha256-{hex}.att"),
            "application/vnd.oci.image.manifest.v1+json",
        ))
        .unwrap();
        m["layers"].as_array().unwrap().len()
    };
    assert_eq!(att(&mut s), 3, "provenance and two SBOM attestations");
    build(
        &mut s,
        &[
            "--push",
            &reference,
            "--sbom",
            "both",
            "--sign",
            other_key.to_str().unwrap(),
        ],
    );
    assert_eq!(att(&mut s), 6);
    for k in [&public, &other_pub] {
        let (code, v) = s.verify_requiring(&reference, k, "signature,sbom,provenance");
        assert_eq!(code, 0, "{v}");
        // Each envelope counted once, though it is both a referrer and a layer of `.att`.
        assert_eq!(v["provenance"]["found"], 2, "{v}");
        assert_eq!(v["sbom"]["unsigned_documents"], 2, "{v}");
    }

    // `--sign` alone attaches the signed provenance and no SBOM.
    let only = s.path("sign-only");
    build(
        &mut s,
        &[
            "--output",
            &format!("oci:{}", only.display()),
            "--sign",
            private.to_str().unwrap(),
        ],
    );
    let io: serde_json::Value =
        serde_json::from_slice(&std::fs::read(only.join("index.json")).unwrap()).unwrap();
    let kinds: Vec<&str> = io["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["artifactType"].as_str())
        .collect();
    assert_eq!(kinds, ["application/vnd.dsse.envelope.v1+json"], "{io}");

    // A signed image without attestations: verified only when only the signature is asked for.
    let bare = s.reference("team/bare:1");
    s.push("bare", &bare);
    let o = s.drydock(
        &["sign", &bare, "--key", private.to_str().unwrap()],
        Some(PASSWORD),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (code, v) = s.verify_requiring(&bare, &public, "signature,sbom,provenance");
    assert_eq!(code, 1, "{v}");
    assert_eq!(
        (
            v["sbom"]["found"].as_u64(),
            v["provenance"]["found"].as_u64()
        ),
        (Some(0), Some(0))
    );
    let o = s.drydock(&["verify", &bare, "--key", public.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("provenance: no signed attestation found"));
    let (code, _) = s.verify_requiring(&bare, &public, "signature");
    assert_eq!(code, 0);

    // Without a key the attestations are unsigned, and the same build gives the same bytes.
    let (a, b) = (s.path("unsigned-a"), s.path("unsigned-b"));
    for l in [&a, &b] {
        build(
            &mut s,
            &[
                "--output",
                &format!("oci:{}", l.display()),
                "--sbom",
                "spdx",
            ],
        );
    }
    let ia = std::fs::read(a.join("index.json")).unwrap();
    assert_eq!(ia, std::fs::read(b.join("index.json")).unwrap());
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&ia).unwrap()["manifests"]
            .as_array()
            .unwrap()
            .len(),
        3,
        "the image, its SPDX SBOM and its provenance"
    );
    // A plain build attaches nothing: the layout holds the image alone, as before.
    let plain = s.path("plain");
    build(&mut s, &["--output", &format!("oci:{}", plain.display())]);
    let ip: serde_json::Value =
        serde_json::from_slice(&std::fs::read(plain.join("index.json")).unwrap()).unwrap();
    assert_eq!(ip["manifests"].as_array().unwrap().len(), 1);

    s.outputs.assert_no_secret(&private);
}
