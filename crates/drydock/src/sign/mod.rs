//! Signatures cosign, skopeo and podman understand: cosign-format keys ([`keys`]), the
//! simple-signing payload and the `.sig` manifest ([`payload`]), and signing and verifying an
//! image in a registry ([`remote`]). Only key-based signing: a keyless (Fulcio + Rekor) signer
//! would produce the same payload and manifest, adding a certificate and a transparency-log
//! bundle as layer annotations, so it fits beside [`keys`] without changing the rest.
//! Never prints, logs or returns a key or a password.

pub mod keys;
pub mod payload;
pub mod remote;

use std::path::PathBuf;

use crate::error::{Classify, ErrorKind};

#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("{}: wrong password for this key\n  fix: give the password the key was made with (DRYDOCK_KEY_PASSWORD or stdin)", .path.display())]
    WrongPassword { path: PathBuf },
    #[error("{}: {problem}\n  fix: name a key written by `drydock keygen` or `cosign generate-key-pair`", .path.display())]
    KeyFormat { path: PathBuf, problem: String },
    #[error("{}: already exists\n  fix: choose another --output-key-prefix, or move the old key away first (drydock never replaces a key)", .0.display())]
    Exists(PathBuf),
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("reading the key password: {0}\n  fix: set DRYDOCK_KEY_PASSWORD or pipe the password on stdin")]
    Password(String),
    #[error("{0}")]
    Crypto(String),
    #[error(transparent)]
    Registry(#[from] drydock_oci::registry::RegistryError),
    #[error("{0}")]
    Usage(String),
}

impl Classify for SignError {
    fn kind(&self) -> ErrorKind {
        match self {
            SignError::WrongPassword { .. }
            | SignError::KeyFormat { .. }
            | SignError::Exists(_)
            | SignError::Password(_) => ErrorKind::Input,
            SignError::Usage(_) => ErrorKind::Usage,
            SignError::Io { .. } | SignError::Crypto(_) => ErrorKind::Failed,
            SignError::Registry(e) => e.kind(),
        }
    }
    fn path(&self) -> Option<PathBuf> {
        match self {
            SignError::WrongPassword { path }
            | SignError::KeyFormat { path, .. }
            | SignError::Io { path, .. } => Some(path.clone()),
            SignError::Exists(p) => Some(p.clone()),
            _ => None,
        }
    }
}
