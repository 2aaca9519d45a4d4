//! Sending a request once: the ureq agent (a `CONNECT` proxy when one is set, TCP, then TLS with
//! the trust of [`super::tls`]) and a [`Req`] made into an HTTP request, with the
//! `Authorization` the handshake ([`super::auth`]) has so far. Deciding whether to send it again
//! is [`super::retry`]'s.

use std::sync::atomic::{AtomicBool, Ordering};

use std::time::Duration;

use super::{tls, Client, Method, Options, RegistryError, Reply, Req, FINISH_TIMEOUT};

/// The HTTP side of a client.
pub(super) struct Transport {
    agent: ureq::Agent,
    /// A request over HTTPS was answered: a TLS handshake cut off later is a transient failure
    /// (a busy server), not a sign of plain HTTP.
    answered_tls: AtomicBool,
}

impl Transport {
    /// An agent for `registry`: TLS trusting what [`tls::roots`] finds (or anything, with
    /// `skip_tls_verify`), the options' connect timeout, their response timeout for answers and
    /// between bytes either way (no total deadline for a transfer), HTTP error statuses returned
    /// as replies (the caller judges them), redirects followed.
    pub(super) fn new(registry: &str, options: &Options) -> Result<Transport, RegistryError> {
        use ureq::unversioned::transport::{ConnectProxyConnector, Connector, TcpConnector};
        let (all, trusted) = tls::roots(registry, options)?;
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
            .timeout_recv_response(Some(options.response_timeout))
            .timeout_per_read(Some(options.response_timeout))
            .timeout_per_write(Some(options.response_timeout))
            .max_redirects(5)
            .user_agent(concat!("drydock/", env!("CARGO_PKG_VERSION")))
            .build();
        let agent = ureq::Agent::with_parts(
            config,
            connector,
            ureq::unversioned::resolver::DefaultResolver::default(),
        );
        Ok(Transport {
            agent,
            answered_tls: AtomicBool::new(false),
        })
    }

    /// Whether a request over HTTPS has been answered.
    pub(super) fn answered_tls(&self) -> bool {
        self.answered_tls.load(Ordering::Relaxed)
    }
}

impl Client {
    /// How long `req` waits for its answer once sent: the connect timeout for the API root
    /// (which answers at once on a working registry: a hung one is found in seconds there,
    /// before any transfer), [`FINISH_TIMEOUT`] for the `PUT` that completes a blob upload (the
    /// registry checks and moves the blob first), the response timeout for the rest.
    pub(super) fn patience(&self, req: &Req<'_>) -> Duration {
        if req.method == Method::GET && req.what == "the API root" {
            self.options.connect_timeout
        } else if req.method == Method::PUT
            && req.url.contains("/blobs/uploads/")
            && req.url.contains("digest=")
        {
            FINISH_TIMEOUT.max(self.options.response_timeout)
        } else {
            self.options.response_timeout
        }
    }

    /// `req` as an HTTP request; with the `Authorization` header the handshake has for its
    /// scopes when `auth`; answered within [`Client::patience`].
    pub(super) fn request(
        &self,
        req: &Req<'_>,
        auth: bool,
    ) -> Result<ureq::http::Request<Vec<u8>>, RegistryError> {
        let mut b = ureq::http::Request::builder()
            .method(req.method.clone())
            .uri(&req.url);
        for (k, v) in &req.headers {
            b = b.header(*k, v);
        }
        if auth {
            if let Some(h) = self.auth.header(&req.scopes) {
                b = b.header("authorization", h);
            }
        }
        let request = b
            .body(req.body.map(|b| b.to_vec()).unwrap_or_default())
            .map_err(|e| RegistryError::Invalid {
                registry: self.registry.clone(),
                problem: format!("bad request {}: {e}", req.url),
            })?;
        let patience = self.patience(req);
        Ok(if patience == self.options.response_timeout {
            request
        } else {
            // Waiting for the answer is reading: the silence between bytes may be as long.
            self.transport
                .agent
                .configure_request(request)
                .timeout_recv_response(Some(patience))
                .timeout_per_read(Some(patience.max(self.options.response_timeout)))
                .build()
        })
    }

    /// Sends a request once: its reply, whatever the status, or why none came.
    pub(super) fn run(&self, request: ureq::http::Request<Vec<u8>>) -> Result<Reply, ureq::Error> {
        let resp = self.transport.agent.run(request)?;
        if self.base.starts_with("https://") {
            self.transport.answered_tls.store(true, Ordering::Relaxed);
        }
        let status = resp.status().as_u16();
        let (parts, body) = resp.into_parts();
        Ok(Reply {
            status,
            headers: parts.headers,
            body,
        })
    }
}
