//! DSSE envelopes (the Dead Simple Signing Envelope, secure-systems-lab/dsse v1) around in-toto
//! statements: what cosign stores at `sha256-<hex>.att` and what in-toto and securesystemslib
//! verify. The signature is over the pre-authentication encoding (PAE) of the payload type and
//! the payload, with the same ECDSA P-256 key and DER encoding as an image signature. An
//! envelope made without a key has no signatures: it still says what it says, and `drydock
//! verify` reports it as unsigned.

use base64::Engine;
use p256::ecdsa::{SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

/// The envelope's media type (a layer's, an artifact's).
pub const MEDIA_TYPE: &str = "application/vnd.dsse.envelope.v1+json";
/// The payload type of an in-toto statement.
pub const IN_TOTO: &str = "application/vnd.in-toto+json";

/// The envelope, fields in the order cosign writes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    /// Base64 (standard, padded).
    pub payload: String,
    pub signatures: Vec<Signature>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    /// cosign leaves it empty; so does drydock (the verifier names the key).
    #[serde(default)]
    pub keyid: String,
    /// Base64 of the ASN.1 DER ECDSA signature over the PAE.
    pub sig: String,
}

/// `DSSEv1 <len(type)> <type> <len(body)> <body>`, lengths in ASCII decimal.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// The envelope of `payload` (an in-toto statement), signed with `key` when there is one.
pub fn envelope(payload: &[u8], key: Option<&SigningKey>) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let signatures = key
        .map(|k| Signature {
            keyid: String::new(),
            sig: super::payload::sign(k, &pae(IN_TOTO, payload)),
        })
        .into_iter()
        .collect();
    let e = Envelope {
        payload_type: IN_TOTO.to_string(),
        payload: b64.encode(payload),
        signatures,
    };
    serde_json::to_vec(&e).unwrap_or_default()
}

/// Why an envelope does not vouch for what it carries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("not a DSSE envelope ({0})")]
    Format(String),
    #[error("its payload type is {0:?}, not an in-toto statement")]
    PayloadType(String),
    #[error("it is not signed")]
    Unsigned,
    #[error("no signature in it is by this key")]
    BadSignature,
}

/// The statement in `envelope` when a signature in it is `key`'s.
pub fn verify(envelope: &[u8], key: &VerifyingKey) -> Result<Vec<u8>, Rejection> {
    let (e, payload) = open(envelope)?;
    if e.signatures.is_empty() {
        return Err(Rejection::Unsigned);
    }
    let pae = pae(&e.payload_type, &payload);
    let good = e
        .signatures
        .iter()
        .any(|s| super::payload::verify_signature(key, &pae, &s.sig).is_ok());
    if good {
        Ok(payload)
    } else {
        Err(Rejection::BadSignature)
    }
}

/// The envelope and its decoded payload, signatures unchecked.
pub fn open(envelope: &[u8]) -> Result<(Envelope, Vec<u8>), Rejection> {
    let e: Envelope =
        serde_json::from_slice(envelope).map_err(|err| Rejection::Format(err.to_string()))?;
    if e.payload_type != IN_TOTO {
        return Err(Rejection::PayloadType(e.payload_type));
    }
    let payload = base64::engine::general_purpose::STANDARD
        .decode(&e.payload)
        .map_err(|err| Rejection::Format(format!("payload: {err}")))?;
    Ok((e, payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_is_the_specs_encoding() {
        // The DSSE protocol document's example.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
    }

    #[test]
    fn signed_envelopes_verify_and_tampering_is_caught() {
        let key = SigningKey::random(&mut rand_core::OsRng);
        let other = SigningKey::random(&mut rand_core::OsRng);
        let statement = br#"{"_type":"https://in-toto.io/Statement/v1"}"#;
        let env = envelope(statement, Some(&key));
        assert_eq!(verify(&env, key.verifying_key()).unwrap(), statement);
        assert_eq!(
            verify(&env, other.verifying_key()),
            Err(Rejection::BadSignature)
        );
        let mut e: Envelope = serde_json::from_slice(&env).unwrap();
        e.payload = base64::engine::general_purpose::STANDARD.encode(b"{}");
        assert_eq!(
            verify(&serde_json::to_vec(&e).unwrap(), key.verifying_key()),
            Err(Rejection::BadSignature)
        );
        let unsigned = envelope(statement, None);
        assert_eq!(
            verify(&unsigned, key.verifying_key()),
            Err(Rejection::Unsigned)
        );
        assert_eq!(open(&unsigned).unwrap().1, statement);
        // The same statement gives the same unsigned envelope (a reproducible build).
        assert_eq!(unsigned, envelope(statement, None));
    }
}
