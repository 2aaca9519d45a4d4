//! Signatures cosign, skopeo and podman understand: cosign-format keys ([`keys`]), the
//! simple-signing payload and the `.sig` manifest ([`payload`]), and signing and verifying an
//! image in a registry ([`remote`]). Only key-based signing: a keyless (Fulcio + Rekor) signer
//! would produce the same payload and manifest, adding a certificate and a transparency-log
//! bundle as layer annotations, so it fits beside [`keys`] without changing the rest.
//! Never prints, logs or returns a key or a password.

pub mod dsse;
pub mod keys;
pub mod payload;
pub mod remote;

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("{}: wrong password for this key", .path.display())]
    WrongPassword { path: PathBuf },
    #[error("{}: {problem}", .path.display())]
    KeyFormat { path: PathBuf, problem: String },
    #[error("{}: already exists", .0.display())]
    Exists(PathBuf),
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("reading the key password: {0}")]
    Password(String),
    #[error("{0}")]
    Crypto(String),
    #[error(transparent)]
    Registry(Box<drydock_oci::registry::RegistryError>),
    /// `REGISTRY/REPOSITORY` has no manifest `reference`.
    #[error("{repository}: no manifest {reference}")]
    NoManifest {
        repository: String,
        reference: String,
    },
}

impl SignError {
    /// What to do about it, shown after the message.
    pub fn fix(&self) -> Option<String> {
        Some(match self {
            SignError::WrongPassword { .. } => "give the password the key was made with (DRYDOCK_KEY_PASSWORD or stdin)".into(),
            SignError::KeyFormat { .. } => "name a key written by `drydock keygen` or `cosign generate-key-pair`".into(),
            SignError::Exists { .. } => "choose another --output-key-prefix, or move the old key away first (drydock never replaces a key)".into(),
            SignError::Password { .. } => "set DRYDOCK_KEY_PASSWORD or pipe the password on stdin".into(),
            SignError::NoManifest { .. } => "push the image first, or check the name and tag".into(),
            SignError::Registry(e) => return e.fix(),
            _ => return None,
        })
    }
}

impl From<drydock_oci::registry::RegistryError> for SignError {
    fn from(e: drydock_oci::registry::RegistryError) -> SignError {
        SignError::Registry(Box::new(e))
    }
}

/// Known answers from cosign itself (see testdata/README.md).
#[cfg(test)]
mod cosign_known_answers {
    use std::path::Path;

    use drydock_oci::Digest;

    use super::keys::{self, Password};
    use super::payload;

    const KEY: &[u8] = include_bytes!("testdata/cosign-empty-password.key");
    const PUB: &[u8] = include_bytes!("testdata/cosign-empty-password.pub");
    const PAYLOAD: &[u8] = include_bytes!("testdata/cosign-payload.json");
    const SIG: &str = include_str!("testdata/cosign-payload.sig");

    #[test]
    fn a_key_cosign_generated_is_read_and_matches_its_public_key() {
        let sk = keys::parse_private(KEY, &Password::new(String::new()), Path::new("cosign.key"))
            .expect("cosign's own encrypted key decrypts");
        let vk = keys::parse_public(PUB, Path::new("cosign.pub")).unwrap();
        assert_eq!(sk.verifying_key(), &vk);
        // drydock's public PEM of it is byte for byte cosign's.
        assert_eq!(keys::public_pem(&vk).unwrap().as_bytes(), PUB);
        // And a wrong password is told apart from a broken file.
        let e = keys::parse_private(KEY, &Password::new("x".into()), Path::new("cosign.key"))
            .unwrap_err();
        assert!(matches!(e, super::SignError::WrongPassword { .. }), "{e}");
        // A signature drydock makes with cosign's key verifies with cosign's public key.
        let d = Digest::of(b"m");
        let p = payload::payload("127.0.0.1:5000/a", &d);
        payload::verify(
            &vk,
            &p,
            &payload::sign(&sk, &p),
            &d,
            Some("127.0.0.1:5000/a"),
        )
        .unwrap();
    }

    #[test]
    fn a_signature_cosign_made_verifies() {
        let d = Digest::parse(
            "sha256:fa93b01658e3a5a1686dc3ae55f170d8de487006fb53a28efcd12ab0710a2e5f",
        )
        .unwrap();
        let repo = Some("192.168.64.2:5000/test-repo-2100826901021538654/alpine:latest");
        let signer = keys::parse_public(
            include_bytes!("testdata/cosign-payload-signer.pub"),
            Path::new("signer.pub"),
        )
        .unwrap();
        let got = payload::verify(&signer, PAYLOAD, SIG, &d, repo).unwrap();
        assert!(got.optional.is_none());
        let other = keys::parse_public(
            include_bytes!("testdata/containers-image-cosign.pub"),
            Path::new("cosign.pub"),
        )
        .unwrap();
        assert_eq!(
            payload::verify(&other, PAYLOAD, SIG, &d, repo),
            Err(payload::Rejection::BadSignature)
        );
        // cosign's payload is byte for byte what drydock writes for the same image.
        assert_eq!(
            payload::payload("192.168.64.2:5000/test-repo-2100826901021538654/alpine", &d),
            PAYLOAD
        );
    }
}
