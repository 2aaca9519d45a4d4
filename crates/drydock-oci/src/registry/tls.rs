//! TLS to registries, with the trust rules Docker applies: which certificates are trusted
//! ([`roots`]), how a server's certificate is verified ([`RegistryVerifier`]), the connector that
//! does the handshake, and what a failed one means in words ([`tls_error`]).
//!
//! Certificates are verified by webpki against the system roots plus the certificates the user
//! names for the registry (`/etc/docker/certs.d/<host>/*.crt`, `--registry-ca`). One addition,
//! as Docker (Go's crypto/x509) does it: a server certificate byte-equal to one the user
//! trusts for that registry is accepted even when webpki refuses it as an end entity (Docker's
//! documented self-signed registry certificate carries `CA:TRUE`, which webpki rejects as
//! `CaUsedAsEndEntity`). It must still be within its validity dates, name the host in its
//! subjectAltName, and sign the handshake ([`PinnedVerifier`], which also serves alone where
//! exactly one certificate is to be trusted). This module never weakens anything else: every
//! other certificate goes through webpki unchanged.
//!
//! ureq 3 takes no rustls `ClientConfig`, so this is its own connector (TCP from ureq, then
//! rustls with this verifier); its handshake failures come back typed, so that a peer that
//! closes the connection on a ClientHello (a plain-HTTP server) is told apart from one that is
//! not there.

use std::fmt;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, ClientConnection, RootCertStore, StreamOwned};

use super::{Options, RegistryError};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, Transport,
    TransportAdapter,
};

/// What `Error::Tls` says when the peer cut the handshake off: matched in [`tls_error`] and by
/// the retries.
pub(crate) const HANDSHAKE_CUT: &str = "the server closed the connection during the TLS handshake";

/// A verifier: webpki first; a certificate the user trusts for this registry second.
#[derive(Debug)]
pub(crate) struct RegistryVerifier {
    webpki: Arc<WebPkiServerVerifier>,
    /// The certificates the user named for this registry (DER), not the system roots.
    trusted: PinnedVerifier,
    /// `--skip-tls-verify`: accept any certificate (the handshake signature is still checked).
    skip: bool,
}

impl RegistryVerifier {
    pub(crate) fn new(
        roots: Vec<CertificateDer<'static>>,
        trusted: Vec<CertificateDer<'static>>,
        skip: bool,
    ) -> Result<RegistryVerifier, String> {
        let mut store = RootCertStore::empty();
        let (_added, _ignored) = store.add_parsable_certificates(roots);
        let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider())
            .build()
            .map_err(|e| e.to_string())?;
        Ok(RegistryVerifier {
            webpki,
            trusted: PinnedVerifier::new(trusted),
            skip,
        })
    }
}

pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

impl ServerCertVerifier for RegistryVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self.skip {
            return Ok(ServerCertVerified::assertion());
        }
        match self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Ok(v) => Ok(v),
            Err(e) => match self.trusted.check(end_entity, server_name, now) {
                Some(checked) => checked.map(|()| ServerCertVerified::assertion()),
                None => Err(with_names(e, end_entity)),
            },
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

/// The names a certificate is valid for (subjectAltName DNS names and IP addresses).
pub(crate) fn presented_names(der: &[u8]) -> Vec<String> {
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(der) else {
        return Vec::new();
    };
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    san.value
        .general_names
        .iter()
        .filter_map(|n| match n {
            x509_parser::extensions::GeneralName::DNSName(d) => Some(d.to_string()),
            x509_parser::extensions::GeneralName::IPAddress(b) => match b.len() {
                4 => Some(std::net::Ipv4Addr::from(<[u8; 4]>::try_from(*b).ok()?).to_string()),
                16 => Some(std::net::Ipv6Addr::from(<[u8; 16]>::try_from(*b).ok()?).to_string()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// A name error from webpki without the names (older paths give `NotValidForName`): add them.
fn with_names(e: rustls::Error, der: &CertificateDer<'_>) -> rustls::Error {
    match e {
        rustls::Error::InvalidCertificate(CertificateError::NotValidForName) => {
            rustls::Error::InvalidCertificate(CertificateError::NotValidForNameContext {
                expected: ServerName::try_from("unknown").expect("a valid name"),
                presented: presented_names(der),
            })
        }
        e => e,
    }
}

/// The checks Go's verifier still makes on a certificate that is its own trust anchor: its
/// dates and its names.
fn check_trusted_leaf(
    der: &CertificateDer<'_>,
    name: &ServerName<'_>,
    now: UnixTime,
) -> Result<(), rustls::Error> {
    let bad = |e: CertificateError| rustls::Error::InvalidCertificate(e);
    let (_, cert) =
        x509_parser::parse_x509_certificate(der).map_err(|_| bad(CertificateError::BadEncoding))?;
    let now_secs = now.as_secs() as i64;
    let validity = cert.validity();
    if now_secs < validity.not_before.timestamp() {
        return Err(bad(CertificateError::NotValidYet));
    }
    if now_secs > validity.not_after.timestamp() {
        return Err(bad(CertificateError::Expired));
    }
    let ee =
        webpki::EndEntityCert::try_from(der).map_err(|_| bad(CertificateError::BadEncoding))?;
    ee.verify_is_valid_for_subject_name(name).map_err(|_| {
        bad(CertificateError::NotValidForNameContext {
            expected: name.to_owned(),
            presented: presented_names(der),
        })
    })
}

/// Trusts exactly the certificates it is given, each as its own trust anchor (a pinned
/// certificate, as `curl --cacert` takes a self-signed one): the server's must be byte-equal to
/// one of them, within its dates, name the host, and sign the handshake with its key. Nothing
/// else is trusted, not even a certificate one of them issued.
#[derive(Debug)]
pub struct PinnedVerifier {
    certs: Vec<CertificateDer<'static>>,
    provider: Arc<CryptoProvider>,
}

impl PinnedVerifier {
    pub fn new(certs: Vec<CertificateDer<'static>>) -> PinnedVerifier {
        PinnedVerifier {
            certs,
            provider: provider(),
        }
    }

    /// `None` when `end_entity` is none of the pinned certificates; else whether it passes
    /// the checks a trust anchor still gets ([`check_trusted_leaf`]).
    fn check(
        &self,
        end_entity: &CertificateDer<'_>,
        name: &ServerName<'_>,
        now: UnixTime,
    ) -> Option<Result<(), rustls::Error>> {
        self.certs
            .iter()
            .any(|t| t.as_ref() == end_entity.as_ref())
            .then(|| check_trusted_leaf(end_entity, name, now))
    }
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.check(end_entity, server_name, now) {
            Some(checked) => checked.map(|()| ServerCertVerified::assertion()),
            None => Err(rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer,
            )),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A TLS client configuration that trusts exactly the first certificate of `pem`
/// ([`PinnedVerifier`]).
pub fn pinned_tls(pem: &[u8]) -> Result<Arc<ClientConfig>, String> {
    use rustls::pki_types::pem::PemObject;
    let cert = CertificateDer::pem_slice_iter(pem)
        .next()
        .ok_or("no certificate in it")?
        .map_err(|e| format!("not a PEM certificate: {e}"))?
        .into_owned();
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinnedVerifier::new(vec![cert])))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// TCP from ureq, then TLS with [`RegistryVerifier`].
pub(crate) struct TlsConnector {
    config: Arc<ClientConfig>,
}

impl fmt::Debug for TlsConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TlsConnector")
    }
}

impl TlsConnector {
    pub(crate) fn new(verifier: RegistryVerifier) -> Result<TlsConnector, String> {
        let config = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        Ok(TlsConnector {
            config: Arc::new(config),
        })
    }
}

impl<In: Transport> Connector<In> for TlsConnector {
    type Out = Either<In, TlsTransport>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let Some(transport) = chained else {
            return Ok(None);
        };
        if !details.needs_tls() || transport.is_tls() {
            return Ok(Some(Either::A(transport)));
        }
        let host = details
            .uri
            .host()
            .unwrap_or_default()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let name = ServerName::try_from(host).map_err(|_| ureq::Error::Tls("invalid host name"))?;
        let mut conn = ClientConnection::new(self.config.clone(), name)?;
        let mut sock = TransportAdapter::new(transport.boxed(), details.current_time.clone());
        sock.set_timeout(details.timeout);
        if let Err(e) = conn.complete_io(&mut sock) {
            return Err(handshake_error(e));
        }
        let buffers = LazyBuffers::new(
            details.config.input_buffer_size(),
            details.config.output_buffer_size(),
        );
        Ok(Some(Either::B(TlsTransport {
            buffers,
            stream: StreamOwned { conn, sock },
        })))
    }
}

/// A failed handshake, typed: rustls' own error, a timeout as ureq's, and a connection cut off
/// as [`HANDSHAKE_CUT`].
fn handshake_error(e: std::io::Error) -> ureq::Error {
    if let Some(r) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        return ureq::Error::Rustls(r.clone());
    }
    let kind = e.kind();
    let ue: ureq::Error = e.into();
    match ue {
        ureq::Error::Io(_)
            if matches!(
                kind,
                std::io::ErrorKind::UnexpectedEof
                    | std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::BrokenPipe
            ) =>
        {
            ureq::Error::Tls(HANDSHAKE_CUT)
        }
        ue => ue,
    }
}

pub(crate) struct TlsTransport {
    buffers: LazyBuffers,
    stream: StreamOwned<ClientConnection, TransportAdapter>,
}

impl fmt::Debug for TlsTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TlsTransport")
    }
}

impl Transport for TlsTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let output = &self.buffers.output()[..amount];
        self.stream.write_all(output)?;
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let input = self.buffers.input_append_buf();
        let amount = self.stream.read(input)?;
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        self.stream.get_mut().get_mut().is_open()
    }

    fn is_tls(&self) -> bool {
        true
    }
}

/// A certificate file named with `--registry-ca` that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CaError {
    #[error("{}: {source}", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: not a PEM certificate ({source})", .path.display())]
    NotPem {
        path: PathBuf,
        source: Box<ureq::Error>,
    },
    #[error("{}: holds no PEM certificate", .path.display())]
    Empty { path: PathBuf },
}

impl CaError {
    /// What to do about it, when there is something to say: the message does not hold it.
    pub fn fix(&self) -> Option<String> {
        Some(match self {
            CaError::Read { .. } => "name a readable PEM file".into(),
            CaError::NotPem { .. } => "name a PEM file with the registry's CA certificate".into(),
            CaError::Empty { .. } => "name a PEM file with the registry's CA certificate".into(),
        })
    }
}

type Der = CertificateDer<'static>;

/// Adds the certificates of PEM `bytes` to `certs`: how many, and the first item that was not
/// PEM.
fn add_pem(certs: &mut Vec<Der>, bytes: &[u8]) -> (usize, Option<ureq::Error>) {
    let (mut n, mut bad) = (0, None);
    for item in ureq::tls::parse_pem(bytes) {
        match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => {
                certs.push(Der::from(c.der().to_vec()));
                n += 1;
            }
            Ok(_) => {}
            Err(e) => {
                bad.get_or_insert(e);
            }
        }
    }
    (n, bad)
}

/// The certificates to verify a registry with: every root (the system's, then the user's), and
/// apart the ones the user named for this registry (certs.d, `--registry-ca`), which may also be
/// the server's own certificate (see [`RegistryVerifier`]). Unreadable or broken files in the
/// system bundle and in certs.d are passed over; a `--registry-ca` file must hold a
/// certificate.
pub(super) fn roots(
    registry: &str,
    options: &Options,
) -> Result<(Vec<Der>, Vec<Der>), RegistryError> {
    let mut system = Vec::new();
    let mut trusted = Vec::new();
    if let Ok(b) = std::fs::read("/etc/ssl/certs/ca-certificates.crt") {
        add_pem(&mut system, &b);
    }
    if system.is_empty() {
        system.extend(
            webpki_root_certs::TLS_SERVER_ROOT_CERTS
                .iter()
                .map(|c| c.clone().into_owned()),
        );
    }
    // Docker's per-registry CAs: every *.crt in /etc/docker/certs.d/<host>/.
    let dir = certs_d().join(registry);
    if let Ok(entries) = std::fs::read_dir(&dir) {
        let mut files: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "crt"))
            .collect();
        files.sort();
        for f in files {
            if let Ok(b) = std::fs::read(&f) {
                add_pem(&mut trusted, &b);
            }
        }
    }
    for f in &options.ca_files {
        let path = || f.clone();
        let b = std::fs::read(f).map_err(|source| CaError::Read {
            path: path(),
            source,
        })?;
        match add_pem(&mut trusted, &b) {
            (_, Some(e)) => {
                return Err(CaError::NotPem {
                    path: path(),
                    source: Box::new(e),
                }
                .into())
            }
            (0, None) => return Err(CaError::Empty { path: path() }.into()),
            _ => {}
        }
    }
    let mut all = system;
    all.extend(trusted.iter().cloned());
    Ok((all, trusted))
}

/// Docker's directory of per-registry certificates.
pub fn certs_d() -> PathBuf {
    PathBuf::from("/etc/docker/certs.d")
}

/// A TLS failure said as what happened and the fix that fits it; `None` for other errors.
pub(super) fn tls_error(registry: &str, host: &str, e: &ureq::Error) -> Option<RegistryError> {
    use rustls::CertificateError as C;
    let spoke_tls = matches!(e, ureq::Error::Rustls(rustls::Error::InvalidCertificate(_)));
    let (message, fix) = match e {
        ureq::Error::Tls(m) if *m == HANDSHAKE_CUT => (
            format!("{m} (a server that speaks plain HTTP does this)"),
            format!("if the registry serves plain HTTP, add --allow-http (drydock tries it by itself only for localhost and 127.0.0.0/8); else check the registry's TLS settings and logs at {host}"),
        ),
        ureq::Error::Rustls(rustls::Error::InvalidCertificate(c)) => match c {
            C::NotValidForNameContext { presented, .. } => {
                let bare = host_of(host);
                let names = if presented.is_empty() {
                    "no name (it has no subjectAltName)".to_string()
                } else {
                    presented.join(", ")
                };
                (
                    format!("the certificate does not name {bare}: it is for {names}"),
                    if presented.is_empty() {
                        format!("reissue the certificate with subjectAltName={}:{bare}", if bare.parse::<std::net::IpAddr>().is_ok() { "IP" } else { "DNS" })
                    } else {
                        format!("reach the registry by a name the certificate has ({names}), or reissue it with subjectAltName={}:{bare}", if bare.parse::<std::net::IpAddr>().is_ok() { "IP" } else { "DNS" })
                    },
                )
            }
            C::NotValidForName => (
                format!("the certificate does not name {}", host_of(host)),
                "reach the registry by a name its certificate has, or reissue the certificate for this one".into(),
            ),
            C::Expired | C::ExpiredContext { .. } => (
                format!("the registry's certificate has expired ({c})"),
                "renew the registry's certificate (or, if it is not old, check this machine's clock)".into(),
            ),
            C::NotValidYet | C::NotValidYetContext { .. } => (
                format!("the registry's certificate is not valid yet ({c})"),
                "check this machine's clock, or the certificate's notBefore".into(),
            ),
            c => (
                format!("the registry's certificate is not trusted: {}", untrusted_why(c)),
                format!("trust its CA, or the registry's own certificate: --registry-ca FILE, or {}/{registry}/ca.crt; --skip-tls-verify only for a registry you control", certs_d().display()),
            ),
        },
        ureq::Error::Rustls(rustls::Error::InvalidMessage(_))
        | ureq::Error::Rustls(rustls::Error::InappropriateMessage { .. })
        | ureq::Error::Rustls(rustls::Error::InappropriateHandshakeMessage { .. }) => (
            format!("the server did not answer in TLS ({e}); it may speak plain HTTP"),
            "if the registry serves plain HTTP, add --allow-http (automatic for localhost and 127.0.0.0/8)".into(),
        ),
        ureq::Error::Rustls(_) | ureq::Error::Tls(_) | ureq::Error::Pem(_) => (
            e.to_string(),
            format!("check the registry's TLS settings; to trust its certificate: --registry-ca FILE, or {}/{registry}/ca.crt", certs_d().display()),
        ),
        _ => return None,
    };
    Some(RegistryError::Tls {
        registry: registry.to_string(),
        message,
        fix,
        spoke_tls,
    })
}

/// Why webpki refused a certificate, in words.
fn untrusted_why(c: &rustls::CertificateError) -> String {
    use rustls::CertificateError as C;
    let text = format!("{c:?}");
    match c {
        C::UnknownIssuer => "it was issued by a CA this machine does not trust".into(),
        C::BadSignature => "its signature does not verify".into(),
        C::Revoked => "it is revoked".into(),
        _ if text.contains("CaUsedAsEndEntity") => {
            "it is a self-signed CA certificate (CA:TRUE) that is not trusted for this registry"
                .into()
        }
        _ if text.contains("UnknownIssuer") => {
            "it was issued by a CA this machine does not trust".into()
        }
        _ => text,
    }
}

/// `host` of `host:port` (or `[v6]:port`).
fn host_of(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) && !h.contains(':') => h,
        _ => host,
    }
}
