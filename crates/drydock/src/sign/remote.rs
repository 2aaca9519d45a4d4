//! Signing and verifying an image in a registry, through drydock's registry client: resolve the
//! tag to its manifest digest, then read or write cosign's `sha256-<hex>.sig` manifest.

use p256::ecdsa::{SigningKey, VerifyingKey};
use serde::Serialize;

use drydock_oci::push::push;
use drydock_oci::registry::Client;
use drydock_oci::{Digest, DirStore};

use super::payload::{self, Rejection, SignatureLayer};
use super::SignError;

fn invalid(client: &Client, problem: String) -> SignError {
    SignError::Registry(Box::new(drydock_oci::registry::RegistryError::Invalid {
        registry: client.registry.clone(),
        problem,
    }))
}

/// A manifest's bytes, or `None` when the registry has none under `reference`.
pub fn get_manifest(
    client: &Client,
    repository: &str,
    reference: &str,
) -> Result<Option<Vec<u8>>, SignError> {
    let req = client.manifest_request(repository, reference);
    match client.fetch(&req, 4 << 20, "check the name and the registry's logs") {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The digest of the manifest `reference` (a tag or a digest) names.
pub fn resolve(client: &Client, repository: &str, reference: &str) -> Result<Digest, SignError> {
    let bytes =
        get_manifest(client, repository, reference)?.ok_or_else(|| SignError::NoManifest {
            repository: format!("{}/{repository}", client.registry),
            reference: reference.to_string(),
        })?;
    let d = Digest::of(&bytes);
    if let Some(want) = Digest::parse(reference) {
        if want != d {
            return Err(invalid(
                client,
                format!("sent a manifest for {reference} whose content hashes to {d}"),
            ));
        }
    }
    Ok(d)
}

fn get_blob(client: &Client, repository: &str, digest: &Digest) -> Result<Vec<u8>, SignError> {
    let req = client.blob_request(repository, digest);
    let bytes = client.fetch(&req, 1 << 20, "check the registry's logs")?;
    if Digest::of(&bytes) != *digest {
        return Err(invalid(
            client,
            format!("blob {digest} does not hash to its digest"),
        ));
    }
    Ok(bytes)
}

/// What signing did.
#[derive(Debug, Clone, Serialize)]
pub struct Signed {
    /// The image signed, `registry/repository@sha256:…`.
    pub image: String,
    /// Where the signature went, `registry/repository:sha256-….sig`.
    pub signature: String,
    /// The `.sig` manifest's digest.
    pub digest: String,
    /// Signatures in it, this one included.
    pub signatures: usize,
    /// Whether this signature is new; false when the key had signed this image already (the
    /// same signature: RFC 6979), so nothing was written.
    pub added: bool,
}

/// Signs `manifest` of `repository` with `key` and stores the signature where cosign does,
/// keeping the signatures already there.
pub fn sign(
    client: &Client,
    repository: &str,
    manifest: &Digest,
    key: &SigningKey,
) -> Result<Signed, SignError> {
    let name = format!("{}/{repository}", client.registry);
    let body = payload::payload(&name, manifest);
    let signature = payload::sign(key, &body);
    let tag = payload::signature_tag(manifest);
    let existing = get_manifest(client, repository, &tag)?;
    let mut layers = match &existing {
        Some(m) => {
            payload::signature_layers(m).map_err(|e| invalid(client, format!("{tag}: {e}")))?
        }
        None => Vec::new(),
    };
    let layer = SignatureLayer {
        digest: Digest::of(&body),
        size: body.len() as u64,
        signature,
    };
    // ECDSA signatures here are deterministic (RFC 6979): the same key signing the same image
    // again makes the same signature, which is already there.
    if layers.contains(&layer) {
        return Ok(Signed {
            image: format!("{name}@{manifest}"),
            signature: format!("{name}:{tag}"),
            digest: existing
                .as_deref()
                .map(|m| Digest::of(m).to_string())
                .unwrap_or_default(),
            signatures: layers.len(),
            added: false,
        });
    }
    layers.push(layer);
    let dir = tempfile::tempdir().map_err(|e| SignError::Io {
        path: std::env::temp_dir(),
        source: e,
    })?;
    let store = DirStore::create(dir.path()).map_err(|e| SignError::Crypto(e.to_string()))?;
    store_put(&store, &body)?;
    let image = payload::signature_image(&layers, &store)?;
    let report = push(client, repository, &tag, &image, &store, &[])?;
    Ok(Signed {
        image: format!("{name}@{manifest}"),
        signature: format!("{name}:{tag}"),
        digest: report.digest,
        signatures: layers.len(),
        added: true,
    })
}

fn store_put(store: &DirStore, bytes: &[u8]) -> Result<(), SignError> {
    use drydock_oci::BlobStore;
    store
        .put(bytes)
        .map(|_| ())
        .map_err(|e| SignError::Crypto(e.to_string()))
}

/// One signature found, and whether it vouches for the image.
#[derive(Debug, Clone, Serialize)]
pub struct Checked {
    pub payload: String,
    /// `None` when valid; else why not.
    pub rejected: Option<String>,
    /// The identity the payload names.
    pub docker_reference: Option<String>,
}

/// What verification found.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    pub image: String,
    pub signature: String,
    /// The `.sig` manifest exists.
    pub found: bool,
    pub checked: Vec<Checked>,
}

impl Verification {
    /// At least one signature by the key names this image.
    pub fn ok(&self) -> bool {
        self.checked.iter().any(|c| c.rejected.is_none())
    }
}

/// Checks the signatures cosign (or skopeo, or drydock) stored for `manifest` against `key`;
/// a signature counts when it is the key's and its payload names this digest and repository.
pub fn verify(
    client: &Client,
    repository: &str,
    manifest: &Digest,
    key: &VerifyingKey,
) -> Result<Verification, SignError> {
    let name = format!("{}/{repository}", client.registry);
    let tag = payload::signature_tag(manifest);
    let mut v = Verification {
        image: format!("{name}@{manifest}"),
        signature: format!("{name}:{tag}"),
        found: false,
        checked: Vec::new(),
    };
    let Some(m) = get_manifest(client, repository, &tag)? else {
        return Ok(v);
    };
    v.found = true;
    let layers =
        payload::signature_layers(&m).map_err(|e| invalid(client, format!("{tag}: {e}")))?;
    for l in layers {
        let body = get_blob(client, repository, &l.digest)?;
        let r = payload::verify(key, &body, &l.signature, manifest, Some(&name));
        let docker_reference = serde_json::from_slice::<payload::SimpleSigning>(&body)
            .ok()
            .map(|p| p.critical.identity.docker_reference);
        v.checked.push(Checked {
            payload: l.digest.to_string(),
            rejected: r.err().map(|e: Rejection| e.to_string()),
            docker_reference,
        });
    }
    Ok(v)
}
