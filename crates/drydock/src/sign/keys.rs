//! Cosign-format key pairs: ECDSA P-256, the private key as PKCS#8 DER sealed the way
//! go-securesystemslib's `encrypted` package seals it (scrypt, then NaCl secretbox) in a JSON
//! envelope inside a PEM block, the public key as a `PUBLIC KEY` (SubjectPublicKeyInfo) PEM.
//! Keys and passwords never go into an error message, a log line or a `Debug` output.

use std::io::Write;
use std::path::{Path, PathBuf};

use crypto_secretbox::aead::{Aead, KeyInit};
use crypto_secretbox::XSalsa20Poly1305;
use p256::ecdsa::{SigningKey, VerifyingKey};
use p256::pkcs8::der::pem::LineEnding;
use p256::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::SignError;

/// The PEM label cosign (v2) and skopeo write.
pub const SIGSTORE_PRIVATE_KEY_LABEL: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
/// The label cosign 1.x wrote; still read.
pub const COSIGN_PRIVATE_KEY_LABEL: &str = "ENCRYPTED COSIGN PRIVATE KEY";
pub const PUBLIC_KEY_LABEL: &str = "PUBLIC KEY";

/// go-securesystemslib's default (`legacy`) scrypt cost, which cosign uses.
const SCRYPT_N: u64 = 32768;
const SCRYPT_R: u32 = 8;
const SCRYPT_P: u32 = 1;
/// The costliest scrypt a key may ask for when read (N = 2^20, 1 GiB at r = 8 would be too
/// much; 2^18 at r = 8 is 256 MiB): a hostile key file must not exhaust the machine.
const MAX_LOG_N: u8 = 18;

/// A password, wiped from memory when dropped and never printed.
pub struct Password(Zeroizing<String>);

impl Password {
    pub fn new(s: String) -> Password {
        Password(Zeroizing::new(s))
    }
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(…)")
    }
}

mod b64 {
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(v))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(s.as_bytes())
            .map_err(serde::de::Error::custom)
    }
}

/// go-securesystemslib `encrypted.data`, its fields in Go's order.
#[derive(Serialize, Deserialize)]
struct Envelope {
    kdf: Kdf,
    cipher: Cipher,
    #[serde(with = "b64")]
    ciphertext: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct Kdf {
    name: String,
    params: ScryptParams,
    #[serde(with = "b64")]
    salt: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct ScryptParams {
    #[serde(rename = "N")]
    n: u64,
    r: u32,
    p: u32,
}

#[derive(Serialize, Deserialize)]
struct Cipher {
    name: String,
    #[serde(with = "b64")]
    nonce: Vec<u8>,
}

fn derive_key(
    password: &Password,
    salt: &[u8],
    n: u64,
    r: u32,
    p: u32,
) -> Result<Zeroizing<[u8; 32]>, String> {
    if n < 2 || !n.is_power_of_two() {
        return Err(format!("scrypt N = {n} is not a power of two"));
    }
    let log_n = n.trailing_zeros() as u8;
    if log_n > MAX_LOG_N || r == 0 || r > 32 || p == 0 || p > 16 {
        return Err(format!(
            "scrypt parameters N = {n}, r = {r}, p = {p} are beyond what drydock accepts"
        ));
    }
    let params = scrypt::Params::new(log_n, r, p, 32).map_err(|e| format!("scrypt: {e}"))?;
    let mut key = Zeroizing::new([0u8; 32]);
    scrypt::scrypt(password.as_bytes(), salt, &params, key.as_mut())
        .map_err(|e| format!("scrypt: {e}"))?;
    Ok(key)
}

/// Seals `plaintext` as go-securesystemslib's `encrypted.Encrypt` does (legacy scrypt cost).
pub fn seal(plaintext: &[u8], password: &Password) -> Result<Vec<u8>, SignError> {
    let mut salt = [0u8; 32];
    OsRng.fill_bytes(&mut salt);
    let mut nonce = [0u8; 24];
    OsRng.fill_bytes(&mut nonce);
    let key =
        derive_key(password, &salt, SCRYPT_N, SCRYPT_R, SCRYPT_P).map_err(SignError::Crypto)?;
    let cipher = XSalsa20Poly1305::new(key.as_ref().into());
    // Poly1305 tag first, then the ciphertext: NaCl's (and Go's secretbox.Seal) layout.
    let ciphertext = cipher
        .encrypt(&nonce.into(), plaintext)
        .map_err(|_| SignError::Crypto("secretbox sealing failed".into()))?;
    let env = Envelope {
        kdf: Kdf {
            name: "scrypt".into(),
            params: ScryptParams {
                n: SCRYPT_N,
                r: SCRYPT_R,
                p: SCRYPT_P,
            },
            salt: salt.to_vec(),
        },
        cipher: Cipher {
            name: "nacl/secretbox".into(),
            nonce: nonce.to_vec(),
        },
        ciphertext,
    };
    serde_json::to_vec(&env).map_err(|e| SignError::Crypto(format!("envelope: {e}")))
}

/// Opens an envelope [`seal`] (or cosign, or skopeo) made. `what` names the key in errors.
pub fn open(
    envelope: &[u8],
    password: &Password,
    what: &Path,
) -> Result<Zeroizing<Vec<u8>>, SignError> {
    let bad = |problem: String| SignError::KeyFormat {
        path: what.to_path_buf(),
        problem,
    };
    let env: Envelope = serde_json::from_slice(envelope).map_err(|e| {
        bad(format!(
            "the encrypted key is not the JSON envelope cosign writes ({e})"
        ))
    })?;
    if env.kdf.name != "scrypt" {
        return Err(bad(format!(
            "key derivation {:?} is not supported (only scrypt)",
            env.kdf.name
        )));
    }
    if env.cipher.name != "nacl/secretbox" {
        return Err(bad(format!(
            "cipher {:?} is not supported (only nacl/secretbox)",
            env.cipher.name
        )));
    }
    let nonce: [u8; 24] = env.cipher.nonce.as_slice().try_into().map_err(|_| {
        bad(format!(
            "the nonce is {} bytes, not 24",
            env.cipher.nonce.len()
        ))
    })?;
    let key = derive_key(
        password,
        &env.kdf.salt,
        env.kdf.params.n,
        env.kdf.params.r,
        env.kdf.params.p,
    )
    .map_err(bad)?;
    let cipher = XSalsa20Poly1305::new(key.as_ref().into());
    cipher
        .decrypt(&nonce.into(), env.ciphertext.as_slice())
        .map(Zeroizing::new)
        .map_err(|_| SignError::WrongPassword {
            path: what.to_path_buf(),
        })
}

/// A freshly made key pair, as the two files' contents.
pub struct KeyPair {
    pub private_pem: Zeroizing<String>,
    pub public_pem: String,
}

/// Makes an ECDSA P-256 key pair; the private key sealed under `password`.
pub fn generate(password: &Password) -> Result<KeyPair, SignError> {
    let sk = SigningKey::random(&mut OsRng);
    let der = sk
        .to_pkcs8_der()
        .map_err(|e| SignError::Crypto(format!("PKCS#8 encoding: {e}")))?;
    let sealed = seal(der.as_bytes(), password)?;
    let private_pem =
        p256::pkcs8::der::pem::encode_string(SIGSTORE_PRIVATE_KEY_LABEL, LineEnding::LF, &sealed)
            .map_err(|e| SignError::Crypto(format!("PEM encoding: {e}")))?;
    Ok(KeyPair {
        private_pem: Zeroizing::new(private_pem),
        public_pem: public_pem(sk.verifying_key())?,
    })
}

/// The `PUBLIC KEY` PEM of a verifying key.
pub fn public_pem(vk: &VerifyingKey) -> Result<String, SignError> {
    vk.to_public_key_pem(LineEnding::LF)
        .map_err(|e| SignError::Crypto(format!("SPKI encoding: {e}")))
}

/// Reads a cosign-format private key (either PEM label) with its password.
pub fn parse_private(
    pem: &[u8],
    password: &Password,
    what: &Path,
) -> Result<SigningKey, SignError> {
    let bad = |problem: String| SignError::KeyFormat {
        path: what.to_path_buf(),
        problem,
    };
    let (label, sealed) = p256::pkcs8::der::pem::decode_vec(trim_pem(pem))
        .map_err(|e| bad(format!("not a PEM file ({e})")))?;
    if label != SIGSTORE_PRIVATE_KEY_LABEL && label != COSIGN_PRIVATE_KEY_LABEL {
        return Err(bad(format!(
            "a PEM {label:?} block, not {SIGSTORE_PRIVATE_KEY_LABEL:?} (or {COSIGN_PRIVATE_KEY_LABEL:?}): \
             only cosign-format encrypted keys are read"
        )));
    }
    let der = open(&sealed, password, what)?;
    SigningKey::from_pkcs8_der(&der)
        .map_err(|_| bad("the decrypted key is not a PKCS#8 ECDSA P-256 private key".into()))
}

/// Reads a `PUBLIC KEY` PEM (SubjectPublicKeyInfo, ECDSA P-256).
pub fn parse_public(pem: &[u8], what: &Path) -> Result<VerifyingKey, SignError> {
    let text = std::str::from_utf8(trim_pem(pem)).map_err(|_| SignError::KeyFormat {
        path: what.to_path_buf(),
        problem: "not a PEM text file".into(),
    })?;
    VerifyingKey::from_public_key_pem(text).map_err(|e| SignError::KeyFormat {
        path: what.to_path_buf(),
        problem: format!("not a PEM \"PUBLIC KEY\" for ECDSA P-256 ({e})"),
    })
}

/// A PEM file may carry text around its block (comments, a trailing newline): keep the block.
fn trim_pem(pem: &[u8]) -> &[u8] {
    let s = pem;
    let start = find(s, b"-----BEGIN ").unwrap_or(0);
    let end = find(&s[start..], b"-----END ")
        .and_then(|e| find(&s[start + e + 9..], b"-----").map(|t| start + e + 9 + t + 5))
        .unwrap_or(s.len());
    &s[start..end]
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Writes `bytes` to `path` atomically with `mode`, never replacing an existing file.
pub fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), SignError> {
    let io = |e: std::io::Error| SignError::Io {
        path: path.to_path_buf(),
        source: e,
    };
    if path.symlink_metadata().is_ok() {
        return Err(SignError::Exists(path.to_path_buf()));
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".drydock-tmp-")
        .tempfile_in(&dir)
        .map_err(io)?;
    use std::os::unix::fs::PermissionsExt;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(mode))
        .map_err(io)?;
    tmp.as_file_mut().write_all(bytes).map_err(io)?;
    tmp.as_file().sync_data().map_err(io)?;
    // No clobbering even against a file that appeared since the check above.
    tmp.persist_noclobber(path).map_err(|e| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            SignError::Exists(path.to_path_buf())
        } else {
            io(e.error)
        }
    })?;
    Ok(())
}

/// For tests and for `--output-key-prefix`: the public key's base64 body, to check that it
/// never leaks where it should not (the private key's body is checked the same way).
pub fn pem_body(pem: &str) -> String {
    pem.lines().filter(|l| !l.starts_with("-----")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn pw(s: &str) -> Password {
        Password::new(s.to_string())
    }

    #[test]
    fn envelope_has_cosigns_shape() {
        let sealed = seal(b"hello", &pw("pw")).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&sealed).unwrap();
        assert_eq!(v["kdf"]["name"], "scrypt");
        assert_eq!(
            v["kdf"]["params"],
            serde_json::json!({"N": 32768, "r": 8, "p": 1})
        );
        assert_eq!(v["cipher"]["name"], "nacl/secretbox");
        let b = |p: &str| {
            base64::engine::general_purpose::STANDARD
                .decode(v.pointer(p).unwrap().as_str().unwrap())
                .unwrap()
        };
        assert_eq!(b("/kdf/salt").len(), 32);
        assert_eq!(b("/cipher/nonce").len(), 24);
        // Tag (16) + plaintext.
        assert_eq!(b("/ciphertext").len(), 16 + 5);
        // Go's field order, so the file reads like cosign's.
        let text = String::from_utf8(sealed.clone()).unwrap();
        assert!(
            text.starts_with(
                r#"{"kdf":{"name":"scrypt","params":{"N":32768,"r":8,"p":1},"salt":""#
            ),
            "{text}"
        );
        assert_eq!(
            &*open(&sealed, &pw("pw"), Path::new("k")).unwrap(),
            b"hello"
        );
    }

    #[test]
    fn keys_round_trip_and_wrong_password_is_named() {
        let kp = generate(&pw("correct horse")).unwrap();
        assert!(kp
            .private_pem
            .starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
        assert!(kp.public_pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        let sk = parse_private(
            kp.private_pem.as_bytes(),
            &pw("correct horse"),
            Path::new("k"),
        )
        .unwrap();
        let vk = parse_public(kp.public_pem.as_bytes(), Path::new("k.pub")).unwrap();
        assert_eq!(sk.verifying_key(), &vk);
        let e = parse_private(kp.private_pem.as_bytes(), &pw("wrong"), Path::new("k")).unwrap_err();
        assert!(matches!(e, SignError::WrongPassword { .. }), "{e}");
        let text = e.to_string();
        assert!(text.contains("wrong password"), "{text}");
        assert!(
            !text.contains("wrong\"") && !text.contains("correct horse"),
            "{text}"
        );
    }

    #[test]
    fn old_cosign_label_is_read() {
        let kp = generate(&pw("p")).unwrap();
        let old = kp.private_pem.replace("SIGSTORE", "COSIGN");
        parse_private(old.as_bytes(), &pw("p"), Path::new("k")).unwrap();
    }

    #[test]
    fn bad_key_files_are_clear_errors() {
        let e = parse_private(b"not pem", &pw("p"), Path::new("k.key")).unwrap_err();
        assert!(e.to_string().contains("k.key"), "{e}");
        let kp = generate(&pw("p")).unwrap();
        // A public key given where the private key belongs.
        let e = parse_private(kp.public_pem.as_bytes(), &pw("p"), Path::new("k.key")).unwrap_err();
        assert!(e.to_string().contains("PUBLIC KEY"), "{e}");
        let e = parse_public(kp.private_pem.as_bytes(), Path::new("k.pub")).unwrap_err();
        assert!(e.to_string().contains("k.pub"), "{e}");
        // A hostile envelope asking for a huge scrypt cost is refused, not run.
        let env = br#"{"kdf":{"name":"scrypt","params":{"N":1073741824,"r":8,"p":1},"salt":"AAAA"},"cipher":{"name":"nacl/secretbox","nonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},"ciphertext":"AAAA"}"#;
        let e = open(env, &pw("p"), Path::new("k.key")).unwrap_err();
        assert!(e.to_string().contains("beyond"), "{e}");
    }

    #[test]
    fn write_new_never_replaces() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a.key");
        write_new(&p, b"one", 0o600).unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let e = write_new(&p, b"two", 0o600).unwrap_err();
        assert!(matches!(e, SignError::Exists(_)));
        assert_eq!(std::fs::read(&p).unwrap(), b"one");
    }
}
