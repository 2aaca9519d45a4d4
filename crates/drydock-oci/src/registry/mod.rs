//! A client for registries that speak the OCI distribution API, and push and pull on top of it.
//!
//! Hand-written over ureq rather than taken from oci-client, on purpose: oci-client is async
//! only (tokio and reqwest for a pipeline that is otherwise synchronous), has no retries, pushes
//! every blob without asking whether the registry has it, and reads no Docker or podman
//! credentials. What drydock needs from the API is small: `HEAD`/`GET` of blobs and manifests,
//! the upload session (`POST`, `PATCH`, `PUT ?digest=`), cross-repository mounts, and the token
//! handshake ([`auth`]). Credentials are docker_credential's.
//!
//! Transport rules, as Docker applies them: HTTPS with the system roots, plus
//! `/etc/docker/certs.d/<host>/*.crt` and `--registry-ca` files; plain HTTP only with
//! `allow_http` or for loopback hosts (`localhost`, 127.0.0.0/8, `::1`), where HTTPS is tried
//! first. Skipping TLS verification is a separate switch. Transient failures (connection refused,
//! reset or cut, timeouts, 408, 429, 5xx) are retried with backoff, honouring `Retry-After`;
//! 401, 403 and 404 never are.

pub mod auth;
pub mod pull;
pub mod push;
mod tls;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

pub use auth::{Challenge, Credential, Secret};

use crate::store::StoreError;

/// How to reach a registry.
#[derive(Debug, Clone)]
pub struct Options {
    /// Plain HTTP for this registry (automatic for loopback hosts).
    pub allow_http: bool,
    /// Accept any certificate (a separate choice from plain HTTP, never implied by it).
    pub skip_tls_verify: bool,
    /// Extra CA certificates (PEM) to trust.
    pub ca_files: Vec<PathBuf>,
    /// Blobs transferred at once.
    pub jobs: usize,
    /// Attempts per request for transient failures (at least 1).
    pub attempts: u32,
    /// The first wait between attempts; each next one is three times longer.
    pub backoff: Duration,
    /// The credential to use; `None` looks it up in Docker's and podman's files.
    pub credential: Option<Credential>,
    /// Where retries and transfer progress are reported (nowhere by default).
    pub events: Events,
    /// How long to wait for a connection (TCP and the TLS handshake).
    pub connect_timeout: Duration,
}

/// Something worth telling a user while a transfer runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A request failed transiently and will be sent again after `wait`.
    Retry {
        registry: String,
        what: String,
        reason: String,
        /// The attempt about to be made, of `attempts`.
        attempt: u32,
        attempts: u32,
        wait: Duration,
    },
    /// Something the user should know that does not stop the work (a credential store that
    /// could not be read, so the registry is tried without credentials).
    Warning(String),
    /// Progress of a pull or a push: blobs and bytes done, of the totals.
    Transfer {
        blobs_done: usize,
        blobs: usize,
        bytes_done: u64,
        bytes: u64,
    },
}

/// A receiver of [`Event`]s; the default drops them.
#[derive(Clone, Default)]
pub struct Events(Option<Arc<dyn Fn(&Event) + Send + Sync>>);

impl Events {
    pub fn new(f: impl Fn(&Event) + Send + Sync + 'static) -> Events {
        Events(Some(Arc::new(f)))
    }

    pub fn emit(&self, e: &Event) {
        if let Some(f) = &self.0 {
            f(e)
        }
    }
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Events(..)"
        } else {
            "Events(none)"
        })
    }
}

/// How long to wait for a connection (TCP and the TLS handshake) before calling it failed.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long to wait for a response's headers once a request is sent.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(60);

impl Default for Options {
    fn default() -> Self {
        Options {
            allow_http: false,
            skip_tls_verify: false,
            ca_files: Vec::new(),
            jobs: 4,
            attempts: 4,
            backoff: Duration::from_millis(500),
            credential: None,
            events: Events::default(),
            connect_timeout: CONNECT_TIMEOUT,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{registry}: {what} in {repository}: HTTP {status}{}", if .message.is_empty() { String::new() } else { format!(" ({})", .message) })]
    Status {
        registry: String,
        repository: String,
        what: String,
        status: u16,
        message: String,
        fix: String,
    },
    #[error("{registry}: authentication failed (HTTP {status}){}", if .message.is_empty() { String::new() } else { format!(": {}", .message) })]
    Auth {
        registry: String,
        status: u16,
        message: String,
        fix: String,
    },
    #[error("{registry}: the registry asks for credentials (HTTP {status}), and the stored ones could not be read: {}", .problem.message)]
    Credentials {
        registry: String,
        status: u16,
        problem: Box<auth::CredentialProblem>,
    },
    #[error("{registry}: TLS: {message}")]
    Tls {
        registry: String,
        message: String,
        fix: String,
        /// The peer answered in TLS (a certificate was judged), so plain HTTP cannot be it.
        spoke_tls: bool,
    },
    #[error("{registry}: {message}{}", if *.attempts > 1 { format!(" (after {} attempts)", .attempts) } else { String::new() })]
    Connect {
        registry: String,
        message: String,
        attempts: u32,
        fix: String,
    },
    #[error("{registry}: {what} answered HTTP {status}: the registry is unavailable{}", if .message.is_empty() { String::new() } else { format!(" ({})", .message) })]
    Unavailable {
        registry: String,
        what: String,
        status: u16,
        message: String,
    },
    #[error("{registry}: {problem}")]
    Invalid { registry: String, problem: String },
    /// A blob to push that could not be read from its store.
    #[error("{registry}: reading blob {digest} to push it: {source}")]
    ReadBlob {
        registry: String,
        digest: String,
        source: std::io::Error,
    },
    #[error("{registry}: {base}/v2/ answered HTTP {status}: not an OCI distribution registry (a registry answers 200 or 401 there)")]
    NotARegistry {
        registry: String,
        base: String,
        status: u16,
    },
    #[error("{reference} has no image for {asked}: it has {}", .available.join(", "))]
    NoPlatform {
        reference: String,
        asked: String,
        /// The platforms it has (`linux/amd64`, …).
        available: Vec<String>,
    },
    /// A CA certificate file that cannot be used.
    #[error("{problem}")]
    Ca { problem: String, fix: &'static str },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl RegistryError {
    /// What to do about it, when there is something to say: the message does not hold it.
    pub fn fix(&self) -> Option<String> {
        Some(match self {
            RegistryError::Status { fix, .. } => fix.to_string(),
            RegistryError::Auth { fix, .. } => fix.to_string(),
            RegistryError::Credentials { problem, .. } => problem.fix.clone(),
            RegistryError::Tls { fix, .. } => fix.to_string(),
            RegistryError::Connect { fix, .. } => fix.to_string(),
            RegistryError::Unavailable { .. } => {
                "retry later; if it lasts, check the registry's logs".into()
            }
            RegistryError::NoPlatform {
                asked, available, ..
            } => match available.as_slice() {
                [one] => {
                    format!("pull it with --platform {one}, or pick an image built for {asked}")
                }
                _ => format!("pick one of them with --platform, or an image built for {asked}"),
            },
            RegistryError::Ca { fix, .. } => fix.to_string(),
            RegistryError::NotARegistry { .. } => {
                "check the address: the registry's host[:port], not a web page".into()
            }
            _ => return None,
        })
    }
}

/// Whether a registry host is this machine (Docker treats these as insecure registries).
pub fn is_loopback(host: &str) -> bool {
    let h = host
        .rsplit_once(':')
        .filter(|(h, p)| {
            !h.is_empty() && p.chars().all(|c| c.is_ascii_digit()) && !h.ends_with(':')
        })
        .map_or(host, |(h, _)| h);
    let h = h.trim_start_matches('[').trim_end_matches(']');
    h == "localhost"
        || h.ends_with(".localhost")
        || h == "::1"
        || h.parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The host to talk to for a reference's registry (`docker.io` is served by registry-1).
pub fn api_host(registry: &str) -> &str {
    match registry {
        "docker.io" | "index.docker.io" => "registry-1.docker.io",
        r => r,
    }
}

/// A connection to one registry.
pub struct Client {
    agent: ureq::Agent,
    /// The registry as references name it (for messages and credentials).
    pub registry: String,
    base: String,
    credential: Credential,
    /// Where the credential came from (`None`: given by the caller, as login does, or none).
    credential_source: Option<String>,
    /// The credential was given by the caller (login), not looked up.
    credential_given: bool,
    /// What could not be read while looking the credential up.
    credential_problem: Option<auth::CredentialProblem>,
    /// A request over HTTPS was answered: a TLS handshake cut off later is a transient failure
    /// (a busy server), not a sign of plain HTTP.
    answered_tls: std::sync::atomic::AtomicBool,
    /// Basic auth was asked for: send the credentials on every request.
    basic: Mutex<bool>,
    /// Bearer tokens by scope list.
    tokens: Mutex<BTreeMap<String, String>>,
    pub options: Options,
}

/// What came back from a request.
pub struct Reply {
    pub status: u16,
    pub headers: ureq::http::HeaderMap,
    pub body: ureq::Body,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }

    /// The body, up to `limit` bytes.
    pub fn bytes(mut self, limit: u64) -> Result<Vec<u8>, ureq::Error> {
        self.body.with_config().limit(limit).read_to_vec()
    }

    /// The registry's own error text (`{"errors":[{"code","message"}]}`), for messages.
    fn message(self) -> String {
        let bytes = self.bytes(64 * 1024).unwrap_or_default();
        serde_json::from_slice::<Value>(&bytes)
            .ok()
            .and_then(|v| {
                let e = v.get("errors")?.as_array()?.first()?.clone();
                Some(format!(
                    "{}: {}",
                    e.get("code")?.as_str().unwrap_or(""),
                    e.get("message").and_then(|m| m.as_str()).unwrap_or("")
                ))
            })
            .unwrap_or_default()
    }
}

/// One request, described so that it can be sent again.
pub struct Req<'a> {
    pub method: &'a str,
    pub url: String,
    pub headers: Vec<(&'a str, String)>,
    pub body: Option<&'a [u8]>,
    /// The token scopes it needs.
    pub scopes: Vec<String>,
    /// What it is about, for errors (`blob sha256:…`, `manifest latest`).
    pub what: String,
    pub repository: &'a str,
}

/// The certificates to verify a registry with: every root (the system's, then the user's), and
/// apart the ones the user named for this registry (certs.d, `--registry-ca`), which may also be
/// the server's own certificate (see [`tls`]).
type Der = rustls::pki_types::CertificateDer<'static>;

fn roots(registry: &str, options: &Options) -> Result<(Vec<Der>, Vec<Der>), RegistryError> {
    let mut system = Vec::new();
    let mut trusted = Vec::new();
    let add_pem = |certs: &mut Vec<Der>,
                   bytes: &[u8],
                   from: &str,
                   required: bool|
     -> Result<(), RegistryError> {
        let mut n = 0;
        for item in ureq::tls::parse_pem(bytes) {
            match item {
                Ok(ureq::tls::PemItem::Certificate(c)) => {
                    certs.push(Der::from(c.der().to_vec()));
                    n += 1;
                }
                Ok(_) => {}
                Err(e) if required => {
                    return Err(RegistryError::Ca {
                        problem: format!("{from}: not a PEM certificate ({e})"),
                        fix: "name a PEM file with the registry's CA certificate",
                    })
                }
                Err(_) => {}
            }
        }
        if required && n == 0 {
            return Err(RegistryError::Ca {
                problem: format!("{from}: holds no PEM certificate"),
                fix: "name a PEM file with the registry's CA certificate",
            });
        }
        Ok(())
    };
    if let Ok(b) = std::fs::read("/etc/ssl/certs/ca-certificates.crt") {
        add_pem(&mut system, &b, "/etc/ssl/certs/ca-certificates.crt", false)?;
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
                add_pem(&mut trusted, &b, &f.display().to_string(), false)?;
            }
        }
    }
    for f in &options.ca_files {
        let b = std::fs::read(f).map_err(|e| RegistryError::Ca {
            problem: format!("{}: {e}", f.display()),
            fix: "name a readable PEM file",
        })?;
        add_pem(&mut trusted, &b, &f.display().to_string(), true)?;
    }
    let mut all = system;
    all.extend(trusted.iter().cloned());
    Ok((all, trusted))
}

/// Docker's directory of per-registry certificates.
pub fn certs_d() -> PathBuf {
    PathBuf::from("/etc/docker/certs.d")
}

/// Whether an error is worth another attempt.
fn transient(e: &ureq::Error) -> bool {
    match e {
        ureq::Error::Io(io) => matches!(
            io.kind(),
            std::io::ErrorKind::ConnectionRefused
                | std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::ConnectionAborted
                | std::io::ErrorKind::BrokenPipe
                | std::io::ErrorKind::UnexpectedEof
                | std::io::ErrorKind::TimedOut
                | std::io::ErrorKind::Interrupted
        ),
        ureq::Error::Timeout(_) | ureq::Error::ConnectionFailed | ureq::Error::Protocol(_) => true,
        _ => false,
    }
}

fn is_timeout(e: &ureq::Error) -> bool {
    matches!(e, ureq::Error::Timeout(_))
        || matches!(e, ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut)
}

/// A TLS failure said as what happened and the fix that fits it; `None` for other errors.
fn tls_error(registry: &str, host: &str, e: &ureq::Error) -> Option<RegistryError> {
    use rustls::CertificateError as C;
    let spoke_tls = matches!(e, ureq::Error::Rustls(rustls::Error::InvalidCertificate(_)));
    let (message, fix) = match e {
        ureq::Error::Tls(m) if *m == tls::HANDSHAKE_CUT => (
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

impl Client {
    /// Connects to `registry` (as a reference names it), choosing HTTPS or HTTP and learning how
    /// it wants to be authenticated.
    pub fn connect(registry: &str, options: Options) -> Result<Client, RegistryError> {
        use ureq::unversioned::transport::{ConnectProxyConnector, Connector, TcpConnector};
        let host = api_host(registry);
        let (all, trusted) = roots(registry, &options)?;
        let tls_setup = |e: String| RegistryError::Tls {
            registry: registry.to_string(),
            message: format!("cannot set up TLS: {e}"),
            fix: "name other certificates with --registry-ca".into(),
            spoke_tls: false,
        };
        let verifier =
            tls::RegistryVerifier::new(all, trusted, options.skip_tls_verify).map_err(tls_setup)?;
        let connector = ()
            .chain(ConnectProxyConnector::default())
            .chain(TcpConnector::default())
            .chain(tls::TlsConnector::new(verifier).map_err(tls_setup)?);
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(options.connect_timeout))
            .timeout_recv_response(Some(RESPONSE_TIMEOUT))
            .max_redirects(5)
            .user_agent(concat!("drydock/", env!("CARGO_PKG_VERSION")))
            .build();
        let agent = ureq::Agent::with_parts(
            config,
            connector,
            ureq::unversioned::resolver::DefaultResolver::default(),
        );
        let (credential, credential_source, credential_problem, credential_given) =
            match options.credential.clone() {
                Some(c) => (c, None, None, true),
                None => {
                    let f = Credential::find(registry);
                    (f.credential, f.source, f.problem, false)
                }
            };
        if let Some(p) = &credential_problem {
            options.events.emit(&Event::Warning(p.message.clone()));
        }
        let mut client = Client {
            agent,
            registry: registry.to_string(),
            base: format!("https://{host}"),
            credential,
            credential_source,
            credential_given,
            credential_problem,
            answered_tls: std::sync::atomic::AtomicBool::new(false),
            basic: Mutex::new(false),
            tokens: Mutex::new(BTreeMap::new()),
            options,
        };
        if client.options.allow_http {
            client.base = format!("http://{host}");
            client.ping()?;
        } else if is_loopback(host) {
            // Docker's rule for insecure registries: HTTPS first, then plain HTTP. Only a TLS
            // failure says that plain HTTP may do better: nothing listening, or an answer over
            // TLS (a refusal included), would be the same over HTTP.
            match client.ping() {
                Ok(()) => {}
                Err(
                    https @ RegistryError::Tls {
                        spoke_tls: true, ..
                    },
                ) => {
                    // A TLS server whose certificate failed: plain HTTP to it only fails in
                    // a less helpful way (HTTP 400), so the certificate's problem is the error.
                    client.base = format!("http://{host}");
                    if client.ping().is_err() {
                        return Err(https);
                    }
                }
                Err(RegistryError::Tls { .. }) => {
                    // Not TLS there: plain HTTP, and its failure is the one to report.
                    client.base = format!("http://{host}");
                    client.ping()?;
                }
                Err(e) => return Err(e),
            }
        } else {
            client.ping()?;
        }
        Ok(client)
    }

    /// `GET /v2/`, the API root.
    fn api_root(&self) -> Req<'static> {
        Req {
            method: "GET",
            url: format!("{}/v2/", self.base),
            headers: vec![],
            body: None,
            scopes: vec![],
            what: "the API root".into(),
            repository: "",
        }
    }

    /// `GET /v2/`: reachable, a registry, and which challenge it sends.
    fn ping(&self) -> Result<(), RegistryError> {
        let r = self.raw(&self.api_root(), false)?;
        match r.status {
            200 => Ok(()),
            401 => {
                if let Some(Challenge::Basic) =
                    r.header("www-authenticate").map(|h| Challenge::parse(&h))
                {
                    *self.basic.lock().unwrap() = true;
                }
                Ok(())
            }
            408 | 429 | 500..=599 => Err(RegistryError::Unavailable {
                registry: self.registry.clone(),
                what: format!("{}/v2/", self.base),
                status: r.status,
                message: r.message(),
            }),
            status => Err(RegistryError::NotARegistry {
                registry: self.registry.clone(),
                base: self.base.clone(),
                status,
            }),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// Checks that the credential is accepted: `GET /v2/` answered 200 once authenticated.
    pub fn check_login(&self) -> Result<(), RegistryError> {
        let req = self.api_root();
        let r = self.send(&req)?;
        if r.status == 200 {
            Ok(())
        } else {
            Err(self.status_error(&req, r, "check the registry address"))
        }
    }

    /// Sends a request once per attempt until it is not a transient failure. Each retry is
    /// reported as an [`Event::Retry`]; a timeout is tried twice at most (a hung registry
    /// should not cost minutes of silence).
    fn raw(&self, req: &Req<'_>, auth: bool) -> Result<Reply, RegistryError> {
        let attempts = self.options.attempts.max(1);
        let mut wait = self.options.backoff;
        let host = self
            .base
            .split("://")
            .nth(1)
            .unwrap_or(&self.base)
            .to_string();
        let retry = |attempt: u32, wait: Duration, reason: String| {
            self.options.events.emit(&Event::Retry {
                registry: self.registry.clone(),
                what: req.what.clone(),
                reason,
                attempt: attempt + 1,
                attempts,
                wait,
            });
            std::thread::sleep(wait);
        };
        let quick = req.method == "GET" && req.what == "the API root";
        let mut attempt = 1;
        loop {
            let mut b = ureq::http::Request::builder()
                .method(req.method)
                .uri(&req.url);
            for (k, v) in &req.headers {
                b = b.header(*k, v);
            }
            if auth {
                if let Some(h) = self.authorization(&req.scopes) {
                    b = b.header("authorization", h);
                }
            }
            let request = b
                .body(req.body.map(|b| b.to_vec()).unwrap_or_default())
                .map_err(|e| RegistryError::Invalid {
                    registry: self.registry.clone(),
                    problem: format!("bad request {}: {e}", req.url),
                })?;
            // The API root answers at once on a working registry: a hung one is found in
            // seconds there, before any transfer.
            let request = if quick {
                self.agent
                    .configure_request(request)
                    .timeout_recv_response(Some(self.options.connect_timeout))
                    .build()
            } else {
                request
            };
            match self.agent.run(request) {
                Ok(resp) => {
                    if self.base.starts_with("https://") {
                        self.answered_tls
                            .store(true, std::sync::atomic::Ordering::Relaxed);
                    }
                    let status = resp.status().as_u16();
                    let (parts, body) = resp.into_parts();
                    let reply = Reply {
                        status,
                        headers: parts.headers,
                        body,
                    };
                    let retryable = matches!(status, 408 | 429 | 500 | 502 | 503 | 504);
                    if retryable && attempt < attempts {
                        let after = reply
                            .header("retry-after")
                            .and_then(|s| s.trim().parse::<u64>().ok())
                            .map(|s| Duration::from_secs(s.min(30)));
                        retry(attempt, after.unwrap_or(wait), format!("HTTP {status}"));
                        wait *= 3;
                        attempt += 1;
                        continue;
                    }
                    return Ok(reply);
                }
                Err(e) => {
                    let cut = matches!(e, ureq::Error::Tls(m) if m == tls::HANDSHAKE_CUT);
                    let busy = cut && self.answered_tls.load(std::sync::atomic::Ordering::Relaxed);
                    if busy && attempt < attempts {
                        retry(attempt, wait, e.to_string());
                        wait *= 3;
                        attempt += 1;
                        continue;
                    }
                    if let Some(t) = tls_error(&self.registry, &host, &e) {
                        return Err(t);
                    }
                    let timeout = is_timeout(&e);
                    let reason = if timeout {
                        let limit =
                            if quick || matches!(e, ureq::Error::Timeout(ureq::Timeout::Connect)) {
                                self.options.connect_timeout
                            } else {
                                RESPONSE_TIMEOUT
                            };
                        format!("no answer within {:.0} s", limit.as_secs_f64().max(1.0))
                    } else {
                        e.to_string()
                    };
                    let limit = if timeout { attempts.min(2) } else { attempts };
                    if transient(&e) && attempt < limit {
                        retry(attempt, wait, reason);
                        wait *= 3;
                        attempt += 1;
                        continue;
                    }
                    let fix = if timeout {
                        format!("the registry at {host} accepted the connection but did not answer: check that it is running normally (its logs), and that {host} is a registry")
                    } else if transient(&e) {
                        format!("check that the registry is running and reachable at {host}")
                    } else {
                        "check the registry address".to_string()
                    };
                    let message = if timeout {
                        format!("{} {}: {reason}", req.method, req.what)
                    } else {
                        format!("cannot connect ({reason})")
                    };
                    return Err(RegistryError::Connect {
                        registry: self.registry.clone(),
                        message,
                        attempts: attempt,
                        fix,
                    });
                }
            }
        }
    }

    fn authorization(&self, scopes: &[String]) -> Option<String> {
        if let Some(t) = self.tokens.lock().unwrap().get(&scopes.join(" ")) {
            return Some(format!("Bearer {t}"));
        }
        if *self.basic.lock().unwrap() {
            return self.credential.basic_header();
        }
        None
    }

    /// Sends a request with authentication, answering one challenge.
    pub fn send(&self, req: &Req<'_>) -> Result<Reply, RegistryError> {
        let r = self.raw(req, true)?;
        if r.status != 401 {
            return self.check_denied(r, req);
        }
        let challenge = r
            .header("www-authenticate")
            .map(|h| Challenge::parse(&h))
            .unwrap_or(Challenge::None);
        let had_auth = self.authorization(&req.scopes).is_some();
        match challenge {
            Challenge::Basic if !had_auth && self.credential != Credential::Anonymous => {
                *self.basic.lock().unwrap() = true;
            }
            Challenge::Bearer { realm, service, .. }
                if !self
                    .tokens
                    .lock()
                    .unwrap()
                    .contains_key(&req.scopes.join(" ")) =>
            {
                let token = self.token(&realm, service.as_deref(), &req.scopes)?;
                self.tokens
                    .lock()
                    .unwrap()
                    .insert(req.scopes.join(" "), token);
            }
            _ => return Err(self.auth_error(r)),
        }
        let r = self.raw(req, true)?;
        if r.status == 401 {
            return Err(self.auth_error(r));
        }
        self.check_denied(r, req)
    }

    fn check_denied(&self, r: Reply, _req: &Req<'_>) -> Result<Reply, RegistryError> {
        if r.status == 403 {
            return Err(self.auth_error(r));
        }
        Ok(r)
    }

    fn auth_error(&self, r: Reply) -> RegistryError {
        let status = r.status;
        let fix = match (&self.credential, status) {
            (Credential::Anonymous, _) => match &self.credential_problem {
                Some(p) => {
                    return RegistryError::Credentials {
                        registry: self.registry.clone(),
                        status,
                        problem: Box::new(p.clone()),
                    }
                }
                None => format!(
                    "log in first: drydock login {} -u USER --password-stdin",
                    self.registry
                ),
            },
            (_, 403) => "the account may not push or pull this repository: check its permissions".into(),
            _ if self.credential_given => "the registry refused that user name and password (or token): check them and log in again".into(),
            _ => format!(
                "the credentials stored for {} in {} were refused: log in again (drydock login {} -u USER --password-stdin)",
                self.registry,
                self.credential_source.as_deref().unwrap_or("the credential store"),
                self.registry
            ),
        };
        RegistryError::Auth {
            registry: self.registry.clone(),
            status,
            message: r.message(),
            fix,
        }
    }

    /// The bearer-token flow: trade the credentials for a token for these scopes.
    fn token(
        &self,
        realm: &str,
        service: Option<&str>,
        scopes: &[String],
    ) -> Result<String, RegistryError> {
        let mut url = realm.to_string();
        let mut params: Vec<String> = Vec::new();
        if let Some(s) = service {
            params.push(format!("service={}", urlencode(s)));
        }
        for s in scopes {
            params.push(format!("scope={}", urlencode(s)));
        }
        if !params.is_empty() {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&params.join("&"));
        }
        let mut headers = vec![];
        let (method, body) = match &self.credential {
            Credential::IdentityToken(t) => {
                headers.push((
                    "content-type",
                    "application/x-www-form-urlencoded".to_string(),
                ));
                let mut form = format!(
                    "grant_type=refresh_token&client_id=drydock&refresh_token={}",
                    urlencode(&t.0)
                );
                if let Some(s) = service {
                    form.push_str(&format!("&service={}", urlencode(s)));
                }
                form.push_str(&format!("&scope={}", urlencode(&scopes.join(" "))));
                url = realm.to_string();
                ("POST", Some(form.into_bytes()))
            }
            c => {
                if let Some(h) = c.basic_header() {
                    headers.push(("authorization", h));
                }
                ("GET", None)
            }
        };
        let r = self.raw(
            &Req {
                method,
                url,
                headers,
                body: body.as_deref(),
                scopes: vec![],
                what: "a token".into(),
                repository: "",
            },
            false,
        )?;
        if r.status != 200 {
            return Err(self.auth_error(r));
        }
        let v: Value =
            serde_json::from_slice(&r.bytes(1 << 20).unwrap_or_default()).unwrap_or(Value::Null);
        v.get("token")
            .or_else(|| v.get("access_token"))
            .and_then(|t| t.as_str())
            .map(str::to_string)
            .ok_or_else(|| RegistryError::Invalid {
                registry: self.registry.clone(),
                problem: format!("the token server {realm} sent no token"),
            })
    }

    /// A URL under `/v2/<repository>/`.
    pub fn url(&self, repository: &str, rest: &str) -> String {
        format!("{}/v2/{repository}/{rest}", self.base)
    }

    /// An absolute URL for a `Location` header (which may be relative).
    pub fn location(&self, loc: &str) -> String {
        if loc.starts_with("http://") || loc.starts_with("https://") {
            loc.to_string()
        } else if loc.starts_with('/') {
            format!("{}{loc}", self.base)
        } else {
            format!("{}/{loc}", self.base)
        }
    }

    /// An error for an unexpected status.
    pub fn status_error(&self, req: &Req<'_>, r: Reply, fix: &str) -> RegistryError {
        RegistryError::Status {
            registry: self.registry.clone(),
            repository: req.repository.to_string(),
            what: req.what.clone(),
            status: r.status,
            message: r.message(),
            fix: fix.to_string(),
        }
    }

    /// Streams a reply's body into a writer, hashing it; returns its digest and size.
    pub fn read_into(
        mut reply: Reply,
        w: &mut dyn std::io::Write,
        on_bytes: &dyn Fn(u64),
    ) -> std::io::Result<(crate::Digest, u64)> {
        let mut hw = crate::digest::HashingWriter::new(w);
        let mut r = reply.body.as_reader();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = r.read(&mut buf)?;
            if n == 0 {
                break;
            }
            std::io::Write::write_all(&mut hw, &buf[..n])?;
            on_bytes(n as u64);
        }
        let (_, d, n) = hw.finish();
        Ok((d, n))
    }
}

pub(crate) fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The scopes to push to `repository` (and to mount from `from`).
pub fn push_scopes(repository: &str, from: &[&str]) -> Vec<String> {
    let mut s = vec![format!("repository:{repository}:pull,push")];
    s.extend(
        from.iter()
            .filter(|f| **f != repository)
            .map(|f| format!("repository:{f}:pull")),
    );
    s
}

pub fn pull_scopes(repository: &str) -> Vec<String> {
    vec![format!("repository:{repository}:pull")]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for h in [
            "localhost",
            "localhost:5000",
            "127.0.0.1:5000",
            "127.1.2.3",
            "[::1]:5000",
            "::1",
            "reg.localhost",
        ] {
            assert!(is_loopback(h), "{h}");
        }
        for h in [
            "registry.example.com",
            "10.0.0.1:5000",
            "ghcr.io",
            "127.0.0.1.nip.io",
        ] {
            assert!(!is_loopback(h), "{h}");
        }
        assert_eq!(api_host("docker.io"), "registry-1.docker.io");
        assert_eq!(
            urlencode("repository:a/b:pull,push"),
            "repository%3Aa%2Fb%3Apull%2Cpush"
        );
    }
}

#[cfg(test)]
mod retry_tests {
    //! The retry policy against a scripted HTTP peer: no registry can be made to answer 503 or
    //! to drop a connection on demand, so these few cases use a socket that does.
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    /// Serves one scripted response per connection, in order; counts requests.
    fn peer(responses: Vec<&'static str>) -> (String, Arc<AtomicUsize>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap().to_string();
        let n = Arc::new(AtomicUsize::new(0));
        let count = n.clone();
        std::thread::spawn(move || {
            for (resp, stream) in responses.into_iter().zip(l.incoming()) {
                let mut s = stream.unwrap();
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut line = String::new();
                while r.read_line(&mut line).is_ok_and(|k| k > 2) {
                    line.clear();
                }
                count.fetch_add(1, Ordering::SeqCst);
                let _ = s.write_all(resp.as_bytes());
            }
        });
        (addr, n)
    }

    fn options() -> Options {
        Options {
            allow_http: true,
            backoff: Duration::from_millis(10),
            credential: Some(Credential::Basic {
                username: "u".into(),
                password: Secret("p".into()),
            }),
            ..Options::default()
        }
    }

    const OK: &str = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";

    #[test]
    fn transient_statuses_are_retried_honouring_retry_after() {
        let (addr, n) = peer(vec![
            "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 0\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            "HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            OK,
        ]);
        Client::connect(&addr, options()).unwrap();
        assert_eq!(n.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn refused_credentials_are_never_retried() {
        let challenge = "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"r\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        let (addr, n) = peer(vec![
            challenge, challenge, challenge, challenge, challenge, challenge,
        ]);
        let c = Client::connect(&addr, options()).unwrap();
        let e = c.check_login().unwrap_err();
        assert!(matches!(e, RegistryError::Auth { status: 401, .. }), "{e}");
        // The ping (which learns the Basic challenge), then the request with the credentials,
        // refused: an error at once, no loop.
        assert_eq!(n.load(Ordering::SeqCst), 2);
        assert!(!e.to_string().contains("u:p") && !format!("{e:?}").contains("dTpw"));
    }

    #[test]
    fn a_server_that_closes_on_tls_is_tried_in_plain_http_on_loopback() {
        // A plain-HTTP server that drops a TLS ClientHello without a word, then answers HTTP.
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap().to_string();
        std::thread::spawn(move || {
            for (i, stream) in l.incoming().enumerate() {
                let mut s = stream.unwrap();
                let mut first = [0u8; 1];
                let _ = std::io::Read::read(&mut s, &mut first);
                if first[0] == 0x16 {
                    drop(s); // TLS: closed
                    continue;
                }
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut line = String::new();
                while r.read_line(&mut line).is_ok_and(|k| k > 2) {
                    line.clear();
                }
                let _ = s.write_all(OK.as_bytes());
                if i > 8 {
                    break;
                }
            }
        });
        let c = Client::connect(
            &addr,
            Options {
                backoff: Duration::from_millis(10),
                credential: Some(Credential::Anonymous),
                ..Options::default()
            },
        )
        .unwrap();
        assert!(c.base().starts_with("http://"), "{}", c.base());
        // Elsewhere than loopback the same cut is a TLS error that says what it likely is.
        let e = tls_error(
            "r.example.com",
            "r.example.com",
            &ureq::Error::Tls(tls::HANDSHAKE_CUT),
        )
        .unwrap();
        let text = format!("{e}\n  fix: {}", e.fix().unwrap());
        assert!(
            text.contains("plain HTTP") && text.contains("--allow-http"),
            "{text}"
        );
        assert!(!e.to_string().contains("fix:"), "{e}");
    }

    #[test]
    fn a_hung_registry_times_out_twice_with_a_retry_line_and_a_message() {
        // Accepts connections and never answers.
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap().to_string();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for s in l.incoming() {
                held.push(s);
            }
        });
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let started = std::time::Instant::now();
        let Err(e) = Client::connect(
            &addr,
            Options {
                allow_http: true,
                backoff: Duration::from_millis(10),
                credential: Some(Credential::Anonymous),
                connect_timeout: Duration::from_millis(300),
                events: Events::new(move |e| log.lock().unwrap().push(e.clone())),
                ..Options::default()
            },
        ) else {
            panic!("connected to a hung peer")
        };
        // The message, and the fix as drydock shows it after.
        let text = format!("{e}\n  fix: {}", e.fix().unwrap_or_default());
        assert!(
            text.contains("no answer within")
                && text.contains("did not answer")
                && text.contains("2 attempts"),
            "{text}"
        );
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert!(
            matches!(
                &seen[0],
                Event::Retry {
                    attempt: 2,
                    attempts: 4,
                    ..
                }
            ),
            "{seen:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn unavailable_is_said_as_unavailable() {
        let busy = "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 0\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        let (addr, n) = peer(vec![busy, busy, busy, busy]);
        let Err(e) = Client::connect(&addr, options()) else {
            panic!("a 503 registry connected")
        };
        // The message, and the fix as drydock shows it after.
        let text = format!("{e}\n  fix: {}", e.fix().unwrap_or_default());
        assert!(
            text.contains("HTTP 503")
                && text.contains("unavailable")
                && text.contains("retry later"),
            "{text}"
        );
        assert!(!text.contains("not an OCI"), "{text}");
        assert_eq!(n.load(Ordering::SeqCst), 4);
    }

    #[test]
    fn a_dead_peer_is_retried_a_bounded_number_of_times() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap().to_string();
        drop(l);
        let Err(e) = Client::connect(&addr, options()) else {
            panic!("connected to nothing")
        };
        assert!(
            matches!(e, RegistryError::Connect { attempts: 4, .. }),
            "{e}"
        );
    }
}
