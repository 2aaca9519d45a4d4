//! Retries: which failures are worth another attempt, and how long to wait before it.
//!
//! Transient failures are retried with backoff (each wait three times the last), honouring
//! `Retry-After` (at most 30 s): connection refused, reset or cut, timeouts, HTTP 408, 429, 500,
//! 502, 503 and 504, and a TLS handshake cut off by a registry that has answered over TLS
//! before (a busy server, not a plain-HTTP one). A timeout is tried twice at most, so a registry
//! that accepts connections and never answers costs a request at most twice its connect timeout
//! and its [`Client::patience`], plus one backoff: by default about 20 s at the API root, 61 s
//! elsewhere (4 min for the request that completes an upload). 401, 403 and 404 never are. Each retry is
//! told as an [`Event::Retry`].

use std::time::Duration;

use super::{tls, Client, Event, RegistryError, Reply, Req};

impl Client {
    /// Sends a request once per attempt until it is not a transient failure. Each retry is
    /// reported as an [`Event::Retry`]; a timeout is tried twice at most (a hung registry
    /// should not cost minutes of silence), and its retry says so (`2/2`).
    pub(super) fn raw(&self, req: &Req<'_>, auth: bool) -> Result<Reply, RegistryError> {
        let attempts = self.options.attempts.max(1);
        let mut wait = self.options.backoff;
        let host = self
            .base
            .split("://")
            .nth(1)
            .unwrap_or(&self.base)
            .to_string();
        let retry = |attempt: u32, of: u32, wait: Duration, reason: String| {
            self.options.events.emit(&Event::Retry {
                registry: self.registry.clone(),
                what: req.what.clone(),
                reason,
                attempt: attempt + 1,
                attempts: of,
                wait,
            });
            std::thread::sleep(wait);
        };
        let mut attempt = 1;
        loop {
            let request = self.request(req, auth)?;
            match self.run(request) {
                Ok(reply) => {
                    let status = reply.status;
                    let retryable = matches!(status, 408 | 429 | 500 | 502 | 503 | 504);
                    if retryable && attempt < attempts {
                        let after = reply
                            .header("retry-after")
                            .and_then(|s| s.trim().parse::<u64>().ok())
                            .map(|s| Duration::from_secs(s.min(30)));
                        let pause = after.unwrap_or(wait);
                        retry(attempt, attempts, pause, format!("HTTP {status}"));
                        wait *= 3;
                        attempt += 1;
                        continue;
                    }
                    return Ok(reply);
                }
                Err(e) => {
                    let cut = matches!(e, ureq::Error::Tls(m) if m == tls::HANDSHAKE_CUT);
                    let busy = cut && self.transport.answered_tls();
                    if busy && attempt < attempts {
                        retry(attempt, attempts, wait, e.to_string());
                        wait *= 3;
                        attempt += 1;
                        continue;
                    }
                    if let Some(t) = tls::tls_error(&self.registry, &host, &e) {
                        return Err(t);
                    }
                    let timeout = is_timeout(&e);
                    let secs = |d: Duration| format!("{:.0} s", d.as_secs_f64().max(1.0));
                    let reason = match e {
                        ureq::Error::Timeout(ureq::Timeout::Connect) => {
                            format!("no answer within {}", secs(self.options.connect_timeout))
                        }
                        ureq::Error::Timeout(ureq::Timeout::PerWrite | ureq::Timeout::SendBody) => {
                            format!(
                                "the registry stopped reading the request for {}",
                                secs(self.options.response_timeout)
                            )
                        }
                        _ if timeout => format!("no answer within {}", secs(self.patience(req))),
                        _ => e.to_string(),
                    };
                    let limit = if timeout { attempts.min(2) } else { attempts };
                    if transient(&e) && attempt < limit {
                        retry(attempt, limit, wait, reason);
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

#[cfg(test)]
mod tests {
    //! The retry policy against a scripted HTTP peer: no registry can be made to answer 503 or
    //! to drop a connection on demand, so these few cases use a socket that does.
    use super::super::{Credential, Events, Options, Secret};
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

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
        let e = tls::tls_error(
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
                    attempts: 2,
                    ..
                }
            ),
            "{seen:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    /// Answers the API root, then for every later request sends `head` and the bytes of
    /// `body` one at a time, `gap` apart, then holds the connection open without a word.
    fn answers_then(head: &'static str, body: &'static [u8], gap: Duration) -> String {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap().to_string();
        std::thread::spawn(move || {
            for stream in l.incoming() {
                let mut s = stream.unwrap();
                std::thread::spawn(move || {
                    let mut r = BufReader::new(s.try_clone().unwrap());
                    let mut first = String::new();
                    let _ = r.read_line(&mut first);
                    let mut line = String::new();
                    while r.read_line(&mut line).is_ok_and(|k| k > 2) {
                        line.clear();
                    }
                    if first.starts_with("GET /v2/ ") {
                        let _ = s.write_all(OK.as_bytes());
                        return;
                    }
                    let _ = s.write_all(head.as_bytes());
                    for b in body {
                        std::thread::sleep(gap);
                        let _ = s.write_all(&[*b]);
                    }
                    std::thread::sleep(Duration::from_secs(60));
                });
            }
        });
        addr
    }

    fn quick_options(seen: &Arc<Mutex<Vec<Event>>>) -> Options {
        let log = seen.clone();
        Options {
            allow_http: true,
            backoff: Duration::from_millis(10),
            credential: Some(Credential::Anonymous),
            response_timeout: Duration::from_millis(400),
            events: Events::new(move |e| log.lock().unwrap().push(e.clone())),
            ..Options::default()
        }
    }

    #[test]
    fn a_registry_that_hangs_after_the_ping_times_out_on_each_request() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        // No answer at all to the manifest.
        let addr = answers_then("", b"", Duration::ZERO);
        let c = Client::connect(&addr, quick_options(&seen)).unwrap();
        let req = c.manifest_request("team/api", "1");
        let e = c.fetch(&req, 1 << 20, "").unwrap_err();
        let text = format!("{e}\n  fix: {}", e.fix().unwrap_or_default());
        assert!(
            text.contains(&addr)
                && text.contains("GET manifest 1: no answer within 1 s")
                && text.contains("2 attempts")
                && text.contains("did not answer"),
            "{text}"
        );
        assert!(
            matches!(
                &seen.lock().unwrap()[..],
                [Event::Retry {
                    attempt: 2,
                    attempts: 2,
                    ..
                }]
            ),
            "{seen:?}"
        );
        // Headers, then a body that stops midway: an error, not a wait without end.
        let addr = answers_then(
            "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
            b"{}",
            Duration::ZERO,
        );
        let c = Client::connect(&addr, quick_options(&seen)).unwrap();
        let req = c.manifest_request("team/api", "1");
        let e = c.fetch(&req, 1 << 20, "").unwrap_err();
        assert!(e.to_string().contains("reading manifest 1"), "{e}");
    }

    #[test]
    fn a_slow_reply_that_keeps_coming_is_not_cut_off() {
        // 12 bytes 150 ms apart: 1.8 s in all, longer than the 400 ms of silence allowed, but
        // never silent that long.
        let seen = Arc::new(Mutex::new(Vec::new()));
        let addr = answers_then(
            "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n",
            b"{\"a\":\"slow\"}",
            Duration::from_millis(150),
        );
        let c = Client::connect(&addr, quick_options(&seen)).unwrap();
        let req = c.manifest_request("team/api", "1");
        let body = c.fetch(&req, 1 << 20, "").unwrap();
        assert_eq!(body, b"{\"a\":\"slow\"}");
        assert!(seen.lock().unwrap().is_empty(), "{seen:?}");
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
