//! What a build attaches to its image: the SBOMs, the SLSA provenance in a DSSE envelope, and
//! — when a key signs — the SBOMs again as signed in-toto attestations. [`artifacts`] makes
//! them as OCI 1.1 artifacts (the publishers store them as referrers: an OCI layout's index,
//! the registry's referrers API or its `sha256-<hex>` tag); [`push_cosign_tags`] also writes
//! them where cosign looks (`sha256-<hex>.sbom`, `sha256-<hex>.att`).

use std::collections::BTreeMap;

use p256::ecdsa::SigningKey;

use drydock_oci::attach::{Artifact, Attached, CosignLayer};
use drydock_oci::registry::Client;
use drydock_oci::{BlobStore, Digest, DirStore};

use crate::provenance::{self, Parameters};
use crate::sbom::{Sbom, SbomFormat};
use crate::sign::{dsse, SignError};

pub const SPDX_MEDIA_TYPE: &str = "application/spdx+json";
pub const CYCLONEDX_MEDIA_TYPE: &str = "application/vnd.cyclonedx+json";
/// The annotation naming an attestation's predicate type (in-toto's, on OCI artifacts).
pub const PREDICATE_ANNOTATION: &str = "in-toto.io/predicate-type";
/// cosign's layer annotation for the same (on `.att` layers).
pub const COSIGN_PREDICATE_ANNOTATION: &str = "predicateType";
const CREATED: &str = "org.opencontainers.image.created";

/// The artifacts about the image `sbom` describes: each SBOM format asked for, the provenance,
/// and with a key the SBOM attestations; every DSSE envelope signed by `key` when there is one.
/// For one platform's image of a multi-platform build, `index` is the index: the statements
/// name it too.
pub fn artifacts(
    sbom: &Sbom,
    format: SbomFormat,
    params: &Parameters,
    key: Option<&SigningKey>,
    index: Option<&drydock_oci::Digest>,
) -> Vec<Artifact> {
    let created = BTreeMap::from([(CREATED.to_string(), sbom.created.clone())]);
    let mut out = Vec::new();
    let mut documents = Vec::new();
    if format.spdx() {
        documents.push((
            SPDX_MEDIA_TYPE,
            provenance::SPDX_PREDICATE,
            crate::sbom::spdx::render(sbom),
        ));
    }
    if format.cyclonedx() {
        documents.push((
            CYCLONEDX_MEDIA_TYPE,
            provenance::CYCLONEDX_PREDICATE,
            crate::sbom::cyclonedx::render(sbom),
        ));
    }
    for (media_type, _, doc) in &documents {
        out.push(Artifact {
            artifact_type: media_type.to_string(),
            media_type: media_type.to_string(),
            document: doc.clone(),
            annotations: created.clone(),
        });
    }
    let envelope = |predicate_type: &str, predicate: serde_json::Value| {
        let statement = provenance::statement(sbom, predicate_type, predicate, index);
        let mut annotations = created.clone();
        annotations.insert(PREDICATE_ANNOTATION.into(), predicate_type.into());
        Artifact {
            artifact_type: dsse::MEDIA_TYPE.to_string(),
            media_type: dsse::MEDIA_TYPE.to_string(),
            document: dsse::envelope(&statement, key),
            annotations,
        }
    };
    out.push(envelope(
        provenance::SLSA_PROVENANCE,
        provenance::predicate(sbom, params),
    ));
    if key.is_some() {
        for (_, predicate_type, doc) in &documents {
            let predicate = serde_json::from_slice(doc).unwrap_or(serde_json::Value::Null);
            out.push(envelope(predicate_type, predicate));
        }
    }
    out
}

/// The predicate type an attestation artifact says it carries.
pub fn predicate_type(annotations: &BTreeMap<String, String>) -> Option<&str> {
    annotations.get(PREDICATE_ANNOTATION).map(String::as_str)
}

/// Writes the artifacts where cosign reads them, beside the referrers: the SBOMs at
/// `sha256-<hex>.sbom`, the DSSE envelopes at `sha256-<hex>.att` (each layer annotated with its
/// `predicateType`, as `cosign attest` writes it). `.sbom` holds this build's SBOMs; `.att`
/// keeps the envelopes already there and adds this build's, each once.
pub fn push_cosign_tags(
    client: &Client,
    repository: &str,
    subject: &Digest,
    artifacts: &[Artifact],
) -> Result<Vec<Attached>, SignError> {
    let dir = tempfile::tempdir().map_err(|e| SignError::Io {
        path: std::env::temp_dir(),
        source: e,
    })?;
    let store = DirStore::create(dir.path()).map_err(|e| SignError::Crypto(e.to_string()))?;
    let mut sboms = Vec::new();
    let mut atts = Vec::new();
    for a in artifacts {
        let digest = store
            .put(&a.document)
            .map_err(|e| SignError::Crypto(e.to_string()))?;
        let mut layer = CosignLayer {
            media_type: a.media_type.clone(),
            digest,
            size: a.document.len() as u64,
            annotations: BTreeMap::new(),
        };
        match predicate_type(&a.annotations) {
            Some(p) => {
                layer
                    .annotations
                    .insert(COSIGN_PREDICATE_ANNOTATION.into(), p.into());
                atts.push(layer);
            }
            None => sboms.push(layer),
        }
    }
    // The two tags at once: each is a small push of its own (a HEAD on a rebuild).
    let push_tag = |suffix: &str, layers: &[CosignLayer]| -> Result<Attached, SignError> {
        let tag = format!("sha256-{}.{suffix}", subject.hex());
        // `.att` gathers attestations as `cosign attest` appends them: the envelopes already
        // there (another key's, an earlier build's) stay, each once. `.sbom` holds this build's.
        let mut layers = layers.to_vec();
        if suffix == "att" {
            if let Some(m) = crate::sign::remote::get_manifest(client, repository, &tag)? {
                let mut kept = drydock_oci::attach::cosign_layers(&m).unwrap_or_default();
                kept.retain(|k| !layers.iter().any(|l| l.digest == k.digest));
                kept.append(&mut layers);
                layers = kept;
            }
        }
        let image = drydock_oci::attach::cosign_image(&layers, &store)
            .map_err(|e| SignError::Crypto(e.to_string()))?;
        drydock_oci::push::push(client, repository, &tag, &image, &store, &[])?;
        Ok(Attached {
            artifact_type: format!("cosign {suffix}"),
            digest: image.manifest_digest.to_string(),
            location: format!("{}/{repository}:{tag}", client.registry),
            found_by: format!("cosign tag {tag}"),
        })
    };
    let results: Vec<Result<Attached, SignError>> = std::thread::scope(|s| {
        let handles: Vec<_> = [("sbom", &sboms), ("att", &atts)]
            .into_iter()
            .filter(|(_, layers)| !layers.is_empty())
            .map(|(suffix, layers)| s.spawn(move || push_tag(suffix, layers)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    results.into_iter().collect()
}

/// What `drydock verify` found of one kind of attestation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// `sbom` or `provenance`.
    pub what: &'static str,
    /// Attestations (DSSE envelopes) of this kind found about the image, each counted once.
    pub found: usize,
    /// Plain, unsigned documents of this kind beside them (SBOMs attached without a key).
    pub unsigned_documents: usize,
    /// Where the one that vouches for the image is, when one does.
    pub verified: Option<String>,
    /// Why the others do not.
    pub problems: Vec<String>,
}

impl Finding {
    fn new(what: &'static str) -> Finding {
        Finding {
            what,
            found: 0,
            unsigned_documents: 0,
            verified: None,
            problems: Vec::new(),
        }
    }
    pub fn ok(&self) -> bool {
        self.verified.is_some()
    }
}

/// Judges the DSSE envelopes found about `subject` (each with where it came from): an SBOM or
/// a provenance counts when a signature in its envelope is one of `keys`' and its statement's
/// subject is this digest. `plain_sboms` counts SBOM documents found unsigned beside them.
pub fn judge(
    envelopes: &[(String, Vec<u8>)],
    plain_sboms: usize,
    subject: &Digest,
    keys: &[p256::ecdsa::VerifyingKey],
) -> (Finding, Finding) {
    let mut sbom = Finding::new("sbom");
    sbom.unsigned_documents = plain_sboms;
    let mut prov = Finding::new("provenance");
    for (origin, bytes) in envelopes {
        let statement = match dsse::open(bytes) {
            Ok((_, s)) => s,
            Err(e) => {
                // Not an in-toto envelope: neither kind; say so under provenance.
                prov.problems.push(format!("{origin}: {e}"));
                continue;
            }
        };
        let v: serde_json::Value = serde_json::from_slice(&statement).unwrap_or_default();
        let predicate = v["predicateType"].as_str().unwrap_or_default();
        let finding = match predicate {
            provenance::SLSA_PROVENANCE => &mut prov,
            provenance::SPDX_PREDICATE | provenance::CYCLONEDX_PREDICATE => &mut sbom,
            _ => continue,
        };
        finding.found += 1;
        if finding.verified.is_some() {
            continue;
        }
        let names_subject = v["subject"].as_array().is_some_and(|s| {
            s.iter()
                .any(|s| s["digest"]["sha256"].as_str() == Some(subject.hex()))
        });
        let signed = keys
            .iter()
            .map(|k| dsse::verify(bytes, k))
            .find(Result::is_ok);
        match (signed, names_subject) {
            (Some(_), true) => finding.verified = Some(origin.clone()),
            (Some(_), false) => finding
                .problems
                .push(format!("{origin}: signed, but about another image")),
            (None, _) => {
                let why = keys
                    .first()
                    .map(|k| dsse::verify(bytes, k).err().map(|e| e.to_string()))
                    .unwrap_or_default()
                    .unwrap_or_else(|| "no key given".into());
                finding.problems.push(format!("{origin}: {why}"));
            }
        }
    }
    (sbom, prov)
}

/// Reads what a registry holds about `subject`: the DSSE envelopes among its referrers and at
/// cosign's `sha256-<hex>.att`, and how many plain SBOMs refer to it.
pub fn fetch(
    source: &drydock_oci::pull::RegistrySource,
    subject: &Digest,
) -> Result<(Vec<(String, Vec<u8>)>, usize), SignError> {
    use drydock_oci::source::Manifest;
    use drydock_oci::ImageSource;
    let read = |e: drydock_oci::ReadError| SignError::Crypto(e.to_string());
    let client = source.client()?;
    let repository = source.reference.repository();
    let mut envelopes = Vec::new();
    // The same envelope is often both a referrer and a layer of `.att`: each counts once.
    let mut seen: Vec<Digest> = Vec::new();
    let mut plain: Vec<Digest> = Vec::new();
    let mut layers_of = |manifest: &[u8], origin: &str| -> Result<(), SignError> {
        let Ok(Manifest::Image(m)) = Manifest::parse(manifest, None) else {
            return Ok(());
        };
        for l in &m.layers {
            match l.media_type.as_str() {
                dsse::MEDIA_TYPE if !seen.contains(&l.digest) => {
                    let bytes = drydock_oci::source::read_verified(source.blobs(), &l.digest)
                        .map_err(read)?;
                    seen.push(l.digest.clone());
                    envelopes.push((format!("{origin} (envelope {})", l.digest), bytes));
                }
                SPDX_MEDIA_TYPE | CYCLONEDX_MEDIA_TYPE if !plain.contains(&l.digest) => {
                    plain.push(l.digest.clone());
                }
                _ => {}
            }
        }
        Ok(())
    };
    for d in source.referrers(subject).map_err(read)? {
        if d.media_type.contains("index") {
            continue;
        }
        let m = source.manifest(&d.digest).map_err(read)?;
        layers_of(
            &m,
            &format!("{}/{repository}@{}", client.registry, d.digest),
        )?;
    }
    let tag = format!("sha256-{}.att", subject.hex());
    if let Some(m) = crate::sign::remote::get_manifest(client, repository, &tag)? {
        layers_of(&m, &format!("{}/{repository}:{tag}", client.registry))?;
    }
    Ok((envelopes, plain.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sbom::{Component, Kind};

    fn sbom() -> Sbom {
        let mut image = Component::new(Kind::BaseImage, "api", None);
        image.id = "image".into();
        Sbom {
            name: "api".into(),
            digest: format!("sha256:{}", "ab".repeat(32)),
            created: "2023-11-14T22:13:20Z".into(),
            image,
            components: Vec::new(),
            notes: Vec::new(),
        }
    }

    fn params() -> Parameters {
        Parameters {
            tag: "api:1".into(),
            base: "scratch".into(),
            language: "go".into(),
            platform: "linux/amd64".into(),
            helper: true,
            sbom: vec!["spdx", "cyclonedx"],
        }
    }

    #[test]
    fn unsigned_and_signed_sets() {
        let unsigned = artifacts(&sbom(), SbomFormat::Both, &params(), None, None);
        let kinds: Vec<&str> = unsigned.iter().map(|a| a.artifact_type.as_str()).collect();
        assert_eq!(
            kinds,
            [SPDX_MEDIA_TYPE, CYCLONEDX_MEDIA_TYPE, dsse::MEDIA_TYPE]
        );
        assert_eq!(
            predicate_type(&unsigned[2].annotations),
            Some(provenance::SLSA_PROVENANCE)
        );
        // Reproducible without a key.
        assert_eq!(
            unsigned,
            artifacts(&sbom(), SbomFormat::Both, &params(), None, None)
        );

        let key = SigningKey::random(&mut rand_core::OsRng);
        let signed = artifacts(&sbom(), SbomFormat::Spdx, &params(), Some(&key), None);
        let preds: Vec<Option<&str>> = signed
            .iter()
            .map(|a| predicate_type(&a.annotations))
            .collect();
        assert_eq!(
            preds,
            [
                None,
                Some(provenance::SLSA_PROVENANCE),
                Some(provenance::SPDX_PREDICATE)
            ]
        );
        for a in &signed[1..] {
            let statement = dsse::verify(&a.document, key.verifying_key()).unwrap();
            let v: serde_json::Value = serde_json::from_slice(&statement).unwrap();
            assert_eq!(v["subject"][0]["digest"]["sha256"], "ab".repeat(32));
        }
        // Provenance only, when no SBOM is asked for.
        let none = artifacts(&sbom(), SbomFormat::None, &params(), None, None);
        assert_eq!(none.len(), 1);
    }

    #[test]
    fn judging_needs_a_key_and_the_subject() {
        let key = SigningKey::random(&mut rand_core::OsRng);
        let other = SigningKey::random(&mut rand_core::OsRng);
        let s = sbom();
        let subject = Digest::parse(&s.digest).unwrap();
        let env = |k: Option<&SigningKey>| {
            artifacts(&s, SbomFormat::Spdx, &params(), k, None)
                .into_iter()
                .filter(|a| a.media_type == dsse::MEDIA_TYPE)
                .map(|a| ("x".to_string(), a.document))
                .collect::<Vec<_>>()
        };
        let (sb, pr) = judge(&env(Some(&key)), 1, &subject, &[*key.verifying_key()]);
        assert!(sb.ok() && pr.ok(), "{sb:?} {pr:?}");
        assert_eq!((sb.found, sb.unsigned_documents, pr.found), (1, 1, 1));
        // Another key, no signature, another image: none vouches.
        let (sb, pr) = judge(&env(Some(&other)), 0, &subject, &[*key.verifying_key()]);
        assert!(!sb.ok() && !pr.ok());
        assert!(
            pr.problems[0].contains("no signature in it is by this key"),
            "{pr:?}"
        );
        let (_, pr) = judge(&env(None), 0, &subject, &[*key.verifying_key()]);
        assert!(pr.problems[0].contains("not signed"), "{pr:?}");
        let elsewhere = Digest::of(b"another image");
        let (_, pr) = judge(&env(Some(&key)), 0, &elsewhere, &[*key.verifying_key()]);
        assert!(
            !pr.ok() && pr.problems[0].contains("another image"),
            "{pr:?}"
        );
        // Two keys: either may vouch.
        let (_, pr) = judge(
            &env(Some(&key)),
            0,
            &subject,
            &[*other.verifying_key(), *key.verifying_key()],
        );
        assert!(pr.ok());
    }
}
