//! Cosign's simple-signing payload, its ECDSA-P256-SHA256 signature, and the OCI manifest cosign
//! stores at `sha256-<hex>.sig`; and the check of such a manifest's signatures. Pure functions:
//! no network, no files.

use base64::Engine;
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use drydock_oci::attach::CosignLayer;
use drydock_oci::{Digest, Reference};

/// The media type of the payload layer.
pub const SIMPLE_SIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// The layer annotation that holds the base64 signature.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// `critical.type` of every cosign payload.
pub const PAYLOAD_TYPE: &str = "cosign container image signature";

/// sigstore's `payload.SimpleContainerImage`, fields in Go's order so the bytes match cosign's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimpleSigning {
    pub critical: Critical,
    /// cosign writes `null` without `-a` annotations; skopeo writes a creator and a timestamp.
    pub optional: Option<Map<String, Value>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Critical {
    pub identity: Identity,
    pub image: ImageId,
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    #[serde(rename = "docker-reference")]
    pub docker_reference: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageId {
    #[serde(rename = "docker-manifest-digest")]
    pub docker_manifest_digest: String,
}

/// The payload cosign signs for `manifest` of `repository` (`registry/name`, no tag: cosign
/// writes the repository, `ref.Context().Name()`).
pub fn payload(repository: &str, manifest: &Digest) -> Vec<u8> {
    let p = SimpleSigning {
        critical: Critical {
            identity: Identity {
                docker_reference: repository.to_string(),
            },
            image: ImageId {
                docker_manifest_digest: manifest.to_string(),
            },
            kind: PAYLOAD_TYPE.to_string(),
        },
        optional: None,
    };
    serde_json::to_vec(&p).unwrap_or_default()
}

/// ECDSA P-256 over SHA-256 of `payload`, ASN.1 DER, base64 (the annotation's value).
pub fn sign(key: &SigningKey, payload: &[u8]) -> String {
    let sig: Signature = key.sign(payload);
    base64::engine::general_purpose::STANDARD.encode(sig.to_der().as_bytes())
}

/// The tag cosign stores signatures of `manifest` under: `sha256-<hex>.sig`.
pub fn signature_tag(manifest: &Digest) -> String {
    format!("sha256-{}.sig", manifest.hex())
}

/// One signature: the payload blob and its base64 signature.
#[derive(Debug, Clone, PartialEq)]
pub struct SignatureLayer {
    pub digest: Digest,
    pub size: u64,
    pub signature: String,
}

/// The `.sig` manifest and its config, as cosign writes them (go-containerregistry's
/// `mutate.AppendLayers(empty.Image, …)`): an OCI manifest, one layer per signature.
pub fn signature_manifest(layers: &[SignatureLayer]) -> (Vec<u8>, Vec<u8>) {
    drydock_oci::attach::cosign_manifest(&cosign_layers(layers))
}

fn cosign_layers(layers: &[SignatureLayer]) -> Vec<CosignLayer> {
    layers
        .iter()
        .map(|l| CosignLayer {
            media_type: SIMPLE_SIGNING_MEDIA_TYPE.to_string(),
            digest: l.digest.clone(),
            size: l.size,
            annotations: [(SIGNATURE_ANNOTATION.to_string(), l.signature.clone())].into(),
        })
        .collect()
}

/// The `.sig` manifest as an image to push, its config put into `store` (the payloads must be
/// there already).
pub fn signature_image(
    layers: &[SignatureLayer],
    store: &dyn drydock_oci::BlobStore,
) -> Result<drydock_oci::Image, super::SignError> {
    drydock_oci::attach::cosign_image(&cosign_layers(layers), store)
        .map_err(|e| super::SignError::Crypto(e.to_string()))
}

/// The signature layers of a `.sig` manifest (layers of other kinds, or without the
/// annotation, are skipped: cosign may add certificates, bundles, attestations).
pub fn signature_layers(manifest: &[u8]) -> Result<Vec<SignatureLayer>, String> {
    Ok(drydock_oci::attach::cosign_layers(manifest)?
        .into_iter()
        .filter(|l| l.media_type == SIMPLE_SIGNING_MEDIA_TYPE)
        .filter_map(|l| {
            Some(SignatureLayer {
                signature: l.annotations.get(SIGNATURE_ANNOTATION)?.clone(),
                digest: l.digest,
                size: l.size,
            })
        })
        .collect())
}

/// Why one signature does not vouch for an image.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("the signature is not valid base64 DER ECDSA")]
    Malformed,
    #[error("the signature does not match the key")]
    BadSignature,
    #[error("the signed payload is not a cosign simple-signing payload ({0})")]
    Payload(String),
    #[error("it signs {signed}, not {wanted}")]
    OtherDigest { signed: String, wanted: String },
    #[error("it signs the repository {signed}, not {wanted}")]
    OtherRepository { signed: String, wanted: String },
}

/// Whether `signature` (base64 ASN.1 DER, as [`sign`] writes it) over `message` is `key`'s.
pub fn verify_signature(
    key: &VerifyingKey,
    message: &[u8],
    signature: &str,
) -> Result<(), Rejection> {
    let der = base64::engine::general_purpose::STANDARD
        .decode(signature.trim())
        .map_err(|_| Rejection::Malformed)?;
    let sig = Signature::from_der(&der).map_err(|_| Rejection::Malformed)?;
    key.verify(message, &sig)
        .map_err(|_| Rejection::BadSignature)
}

/// Checks one signature: that `signature` (base64 DER) over `payload` is `key`'s, and that the
/// payload names `manifest` (and, when given, the repository `registry/name`).
pub fn verify(
    key: &VerifyingKey,
    payload: &[u8],
    signature: &str,
    manifest: &Digest,
    repository: Option<&str>,
) -> Result<SimpleSigning, Rejection> {
    verify_signature(key, payload, signature)?;
    let p: SimpleSigning =
        serde_json::from_slice(payload).map_err(|e| Rejection::Payload(e.to_string()))?;
    if p.critical.kind != PAYLOAD_TYPE {
        return Err(Rejection::Payload(format!("type {:?}", p.critical.kind)));
    }
    if p.critical.image.docker_manifest_digest != manifest.as_str() {
        return Err(Rejection::OtherDigest {
            signed: p.critical.image.docker_manifest_digest,
            wanted: manifest.to_string(),
        });
    }
    if let Some(wanted) = repository {
        let signed = repository_of(&p.critical.identity.docker_reference);
        if signed.as_deref() != Some(&repository_of(wanted).unwrap_or_else(|| wanted.to_string())) {
            return Err(Rejection::OtherRepository {
                signed: p.critical.identity.docker_reference,
                wanted: wanted.to_string(),
            });
        }
    }
    Ok(p)
}

/// `registry/name` of a reference (its tag or digest dropped), normalised as drydock names
/// references; skopeo signs `registry/name:tag`, cosign `registry/name`.
pub fn repository_of(reference: &str) -> Option<String> {
    let r = Reference::parse(reference).ok()?;
    Some(format!("{}/{}", r.registry(), r.repository()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::OsRng;

    fn digest() -> Digest {
        Digest::of(b"an image manifest")
    }

    #[test]
    fn payload_is_byte_for_byte_cosigns() {
        let d = digest();
        let p = payload("127.0.0.1:5000/team/api", &d);
        assert_eq!(
            String::from_utf8(p).unwrap(),
            format!(
                r#"{{"critical":{{"identity":{{"docker-reference":"127.0.0.1:5000/team/api"}},"image":{{"docker-manifest-digest":"{d}"}},"type":"cosign container image signature"}},"optional":null}}"#
            )
        );
        assert_eq!(signature_tag(&d), format!("sha256-{}.sig", d.hex()));
    }

    #[test]
    fn sign_then_verify_and_every_way_it_fails() {
        let sk = SigningKey::random(&mut OsRng);
        let vk = *sk.verifying_key();
        let d = digest();
        let p = payload("127.0.0.1:5000/team/api", &d);
        let s = sign(&sk, &p);
        verify(&vk, &p, &s, &d, Some("127.0.0.1:5000/team/api:v1")).unwrap();
        verify(&vk, &p, &s, &d, None).unwrap();
        // Another key.
        let other = *SigningKey::random(&mut OsRng).verifying_key();
        assert_eq!(
            verify(&other, &p, &s, &d, None),
            Err(Rejection::BadSignature)
        );
        // Another image.
        let e = verify(&vk, &p, &s, &Digest::of(b"other"), None).unwrap_err();
        assert!(matches!(e, Rejection::OtherDigest { .. }), "{e}");
        // Another repository (a re-tagged copy).
        let e = verify(&vk, &p, &s, &d, Some("127.0.0.1:5000/team/copy")).unwrap_err();
        assert!(matches!(e, Rejection::OtherRepository { .. }), "{e}");
        // A changed payload.
        let mut q = p.clone();
        q[5] ^= 1;
        assert_eq!(verify(&vk, &q, &s, &d, None), Err(Rejection::BadSignature));
        assert_eq!(verify(&vk, &p, "!!", &d, None), Err(Rejection::Malformed));
        // A valid signature over something that is not a payload.
        let s2 = sign(&sk, b"{}");
        assert!(matches!(
            verify(&vk, b"{}", &s2, &d, None),
            Err(Rejection::Payload(_))
        ));
    }

    #[test]
    fn skopeo_payloads_with_tag_and_optional_verify() {
        let sk = SigningKey::random(&mut OsRng);
        let d = digest();
        let p = format!(
            r#"{{"critical":{{"identity":{{"docker-reference":"127.0.0.1:5000/team/api:v1"}},"image":{{"docker-manifest-digest":"{d}"}},"type":"cosign container image signature"}},"optional":{{"creator":"containers/image 5.23.1","timestamp":1764758400}}}}"#
        );
        let s = sign(&sk, p.as_bytes());
        let got = verify(
            sk.verifying_key(),
            p.as_bytes(),
            &s,
            &d,
            Some("127.0.0.1:5000/team/api"),
        )
        .unwrap();
        assert!(got.optional.is_some());
    }

    /// cosign names Docker Hub `index.docker.io/library/x`; drydock `docker.io/library/x`.
    #[test]
    fn docker_hub_names_are_one_repository() {
        let sk = SigningKey::random(&mut OsRng);
        let d = digest();
        let p = payload("index.docker.io/library/nginx", &d);
        let s = sign(&sk, &p);
        for wanted in [
            "docker.io/library/nginx:1",
            "nginx",
            "index.docker.io/nginx:latest",
        ] {
            verify(sk.verifying_key(), &p, &s, &d, Some(wanted)).unwrap();
        }
        assert!(verify(
            sk.verifying_key(),
            &p,
            &s,
            &d,
            Some("docker.io/library/redis")
        )
        .is_err());
    }

    #[test]
    fn manifest_round_trips_and_is_cosigns_shape() {
        let p = payload("r/x", &digest());
        let l = SignatureLayer {
            digest: Digest::of(&p),
            size: p.len() as u64,
            signature: "MEUC".into(),
        };
        let (m, c) = signature_manifest(std::slice::from_ref(&l));
        let v: Value = serde_json::from_slice(&m).unwrap();
        assert_eq!(v["mediaType"], drydock_oci::image::OCI_MANIFEST);
        assert_eq!(v["config"]["digest"], Digest::of(&c).to_string());
        assert_eq!(v["layers"][0]["mediaType"], SIMPLE_SIGNING_MEDIA_TYPE);
        assert_eq!(v["layers"][0]["annotations"][SIGNATURE_ANNOTATION], "MEUC");
        let cv: Value = serde_json::from_slice(&c).unwrap();
        assert_eq!(cv["rootfs"]["diff_ids"][0], l.digest.to_string());
        assert_eq!(signature_layers(&m).unwrap(), vec![l]);
        assert!(signature_layers(b"[]").is_err());
    }
}
