//! The TLS key pair of `--tls self-signed`: a development certificate for the proxies of the
//! Compose bundle and the Swarm stack, made once and kept.

use std::path::Path;

use super::{DeployError, GeneratedFile, Kept};

/// A development certificate and key for localhost, 127.0.0.1, ::1 and `hosts`.
pub fn self_signed(hosts: &[String]) -> Result<(String, String), rcgen::Error> {
    let mut names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    names.extend(hosts.iter().cloned());
    let ck = rcgen::generate_simple_self_signed(names)?;
    Ok((ck.cert.pem(), ck.signing_key.serialize_pem()))
}

/// The pair in `dir` (relative to the output directory `out`).
pub enum KeyPair {
    /// One is there already and is kept: a new one on every deploy would break every client
    /// that trusts the old certificate.
    Kept(Kept),
    /// `tls.crt` and `tls.key` (the key readable by its owner only), to write.
    New([GeneratedFile; 2]),
}

/// The key pair for `dir`: the one already there, unless `force`, else a new one for `hosts`.
pub fn key_pair(
    out: &Path,
    dir: &Path,
    hosts: &[String],
    force: bool,
) -> Result<KeyPair, DeployError> {
    let (crt, key) = (dir.join("tls.crt"), dir.join("tls.key"));
    if out.join(&crt).is_file() && out.join(&key).is_file() && !force {
        return Ok(KeyPair::Kept(Kept {
            path: out.join(key),
            why: "a key pair is already there (--force makes a new one)".into(),
        }));
    }
    let (cert, k) = self_signed(hosts).map_err(|e| DeployError::Certificate(e.to_string()))?;
    Ok(KeyPair::New([
        GeneratedFile {
            path: crt,
            text: cert,
            mode: 0o644,
        },
        GeneratedFile {
            path: key,
            text: k,
            mode: 0o600,
        },
    ]))
}
