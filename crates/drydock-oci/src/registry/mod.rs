//! A client for registries that speak the OCI distribution API, and push and pull on top of it.
//!
//! Hand-written over ureq rather than taken from oci-client, on purpose: oci-client is async
//! only (tokio and reqwest for a pipeline that is otherwise synchronous), has no retries, pushes
//! every blob without asking whether the registry has it, and reads no Docker or podman
//! credentials. What drydock needs from the API is small: `HEAD`/`GET` of blobs and manifests,
//! the upload session (`POST`, `PATCH`, `PUT ?digest=`), cross-repository mounts, and the token
//! handshake. Credentials are docker_credential's.
//!
//! This module is the client and its surface: [`Client`], its [`Options`] and [`Event`]s, the
//! [`Req`] it sends and the [`Reply`] it gets, its errors, and the API's URLs and scopes. The
//! work is in its modules, one job each:
//! - `transport.rs`: sending a request once (ureq, with the TLS of [`tls`]);
//! - [`tls`]: which certificates are trusted, the verifier, the handshake, TLS errors in words;
//! - `retry.rs`: sending again after a transient failure;
//! - [`auth`]: the authentication handshake ([`Client::send`]: Basic, or a Bearer token);
//! - [`credentials`]: where credentials are found, stored and removed;
//! - [`pull`] and [`push`]: images, on top of the client.
//!
//! Transport rules, as Docker applies them: HTTPS with the system roots, plus
//! `/etc/docker/certs.d/<host>/*.crt` and `--registry-ca` files; plain HTTP only with
//! `allow_http` or for loopback hosts (`localhost`, 127.0.0.0/8, `::1`), where HTTPS is tried
//! first. Skipping TLS verification is a separate switch. Transient failures (connection refused,
//! reset or cut, timeouts, 408, 429, 500, 502, 503, 504) are retried with backoff, honouring
//! `Retry-After`; 401, 403 and 404 never are.

pub mod auth;
pub mod credentials;

mod retry;
pub mod tls;
mod transport;

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

pub use auth::Challenge;
pub use credentials::{Credential, Secret};
pub use tls::{certs_d, CaError};
/// The method of a [`Req`].
pub use ureq::http::Method;

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
    /// How long the registry may be silent: see [`RESPONSE_TIMEOUT`].
    pub response_timeout: Duration,
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
/// How long a registry may be silent ([`Options::response_timeout`]'s default): for a
/// response's headers once a request is sent, and between bytes while a request or a reply
/// moves, either way. A slow but progressing transfer of any size never meets it (no transfer
/// has a total deadline); a registry that stops does. The API root gets
/// [`Options::connect_timeout`] for its answer, the request completing a blob upload
/// [`FINISH_TIMEOUT`].
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the request completing a blob upload may wait for its answer: the registry checks
/// the whole blob's digest and moves it into place first (a copy, on some storage).
pub const FINISH_TIMEOUT: Duration = Duration::from_secs(120);

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
            response_timeout: RESPONSE_TIMEOUT,
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
        problem: Box<credentials::CredentialProblem>,
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
    /// A `--registry-ca` file that cannot be used.
    #[error(transparent)]
    Ca(#[from] CaError),
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
            RegistryError::Ca(e) => return e.fix(),
            RegistryError::NotARegistry { .. } => {
                "check the address: the registry's host[:port], not a web page".into()
            }
            _ => return None,
        })
    }

    /// The registry has nothing under the name asked for (HTTP 404).
    pub fn is_not_found(&self) -> bool {
        matches!(self, RegistryError::Status { status: 404, .. })
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
    transport: transport::Transport,
    /// The registry as references name it (for messages and credentials).
    pub registry: String,
    /// `https://host` or `http://host`, as [`Client::connect`] settled it.
    base: String,
    auth: auth::Auth,
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

/// The manifest media types drydock reads (OCI and Docker; images and indexes), for `Accept`.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

/// One request, described so that it can be sent again.
pub struct Req<'a> {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(&'a str, String)>,
    pub body: Option<&'a [u8]>,
    /// The token scopes it needs.
    pub scopes: Vec<String>,
    /// What it is about, for errors (`blob sha256:…`, `manifest latest`).
    pub what: String,
    pub repository: &'a str,
}

impl Client {
    /// Connects to `registry` (as a reference names it), choosing HTTPS or HTTP and learning how
    /// it wants to be authenticated.
    pub fn connect(registry: &str, options: Options) -> Result<Client, RegistryError> {
        let host = api_host(registry);
        let transport = transport::Transport::new(registry, &options)?;
        let auth = auth::Auth::new(registry, options.credential.clone());
        if let Some(p) = &auth.problem {
            options.events.emit(&Event::Warning(p.message.clone()));
        }
        let mut client = Client {
            transport,
            registry: registry.to_string(),
            base: format!("https://{host}"),
            auth,
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
            method: Method::GET,
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
                self.auth.learn(&r);
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

    /// `GET` of the manifest (or index) `reference` names: a tag or a digest.
    pub fn manifest_request<'a>(&self, repository: &'a str, reference: &str) -> Req<'a> {
        let mut req = self.get_request(repository, &format!("manifests/{reference}"));
        req.headers.push(("accept", MANIFEST_ACCEPT.into()));
        req.what = format!("manifest {reference}");
        req
    }

    /// `GET` of a blob.
    pub fn blob_request<'a>(&self, repository: &'a str, digest: &crate::Digest) -> Req<'a> {
        let mut req = self.get_request(repository, &format!("blobs/{digest}"));
        req.what = format!("blob {digest}");
        req
    }

    /// `GET` of `path` under a repository's `/v2/<name>/`, with the pull scope; `what` says the
    /// path until the caller says better.
    pub fn get_request<'a>(&self, repository: &'a str, path: &str) -> Req<'a> {
        Req {
            method: Method::GET,
            url: self.url(repository, path),
            headers: vec![],
            body: None,
            scopes: pull_scopes(repository),
            what: path.to_string(),
            repository,
        }
    }

    /// What `req` gets, whole, for small things (a manifest, a signature): at most `limit`
    /// bytes. Any status but 200 is a [`RegistryError::Status`] with `fix`
    /// ([`RegistryError::is_not_found`] tells a 404).
    pub fn fetch(&self, req: &Req<'_>, limit: u64, fix: &str) -> Result<Vec<u8>, RegistryError> {
        let r = self.send(req)?;
        if r.status != 200 {
            return Err(self.status_error(req, r, fix));
        }
        r.bytes(limit).map_err(|e| RegistryError::Invalid {
            registry: self.registry.clone(),
            problem: format!("reading {}: {e}", req.what),
        })
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
