//! The load generator: HTTP/1.1 GETs over kept-alive connections to a loopback port.
//!
//! Two ways to load. Open loop: requests are scheduled at a constant rate, and each one's
//! latency is measured from the moment it was *meant* to be sent, so that a stalled service
//! cannot hide its stall by slowing the generator down (no coordinated omission). Closed loop:
//! N connections send as fast as answers come back, for the maximum throughput. Latencies go
//! into an HdrHistogram (microseconds, 3 significant digits). Hand-written rather than wrk's
//! or oha's because the numbers must come from inside drydock's own run, with its own CPU use
//! measured alongside (to say when the generator, not the service, was the limit).
//!
//! HTTPS too, for the modes with nginx in front: rustls, trusting exactly the one certificate
//! the bundle was deployed with (a pinned end-entity certificate, as `curl --cacert` would
//! with a self-signed one), so the handshake cost nginx pays is measured and nothing is skipped.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;

use hdrhistogram::Histogram;
use serde::Serialize;

/// What to load and how.
#[derive(Debug, Clone)]
pub struct Load {
    pub port: u16,
    pub path: String,
    pub connections: usize,
    pub duration: Duration,
    pub warmup: Duration,
    /// Requests per second for the open loop; `None` is the closed loop (as fast as possible).
    pub rate: Option<u64>,
    /// At most this many requests (a bound on the run, whatever the duration).
    pub max_requests: u64,
    pub timeout: Duration,
    /// HTTPS with this client configuration; `None` is plain HTTP.
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// Set to end the run early (the fault measurement stops its load once the service is back).
    pub stop: Option<Arc<AtomicBool>>,
}

/// A TLS client that trusts one certificate: the server must present exactly `pem`'s first
/// certificate (within its dates, naming the host), and its handshake signatures are checked
/// against that certificate's key. The registry client's pinning, shared.
pub use drydock_oci::registry::tls::pinned_tls;

/// A connection's byte stream: plain TCP, or TLS over it.
enum Stream {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// Errors by kind.
#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub struct Errors {
    pub connect: u64,
    pub timeout: u64,
    pub io: u64,
    /// Answers that were not 2xx.
    pub status: u64,
    /// Those answers by HTTP status code.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub codes: BTreeMap<u16, u64>,
}

impl Errors {
    pub fn total(&self) -> u64 {
        self.connect + self.timeout + self.io + self.status
    }

    pub fn add(&mut self, o: &Errors) {
        self.connect += o.connect;
        self.timeout += o.timeout;
        self.io += o.io;
        self.status += o.status;
        for (code, n) in &o.codes {
            *self.codes.entry(*code).or_default() += n;
        }
    }

    /// What the failed requests got, in words: "950 answered HTTP 404, 50 could not connect".
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = self
            .codes
            .iter()
            .map(|(code, n)| format!("{n} answered HTTP {code}"))
            .collect();
        let uncoded = self.status - self.codes.values().sum::<u64>().min(self.status);
        for (n, what) in [
            (uncoded, "answered a non-2xx status"),
            (self.connect, "could not connect"),
            (self.timeout, "timed out"),
            (
                self.io,
                "broke off (connection closed or reset, TLS refused, or not HTTP)",
            ),
        ] {
            if n > 0 {
                parts.push(format!("{n} {what}"));
            }
        }
        parts.join(", ")
    }
}

/// What a load run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// Requests answered or failed in the measured period.
    pub requests: u64,
    /// Open loop stopped early: requests due by then that had no answer yet.
    pub unanswered: u64,
    pub errors: Errors,
    /// Successful answers per second over the measured period.
    pub throughput: f64,
    pub latency_ms: Percentiles,
    /// CPU the generator itself used, in cores (1.0 = one core busy all the time).
    pub generator_cpu: f64,
    pub seconds: f64,
}

impl Outcome {
    /// Several rounds of one run as one: each rate and latency the median over the rounds;
    /// requests, errors and seconds summed.
    pub fn median_of(rounds: &[Outcome]) -> Outcome {
        let m = |f: &dyn Fn(&Outcome) -> f64| super::median(rounds.iter().map(f));
        let mut errors = Errors::default();
        for r in rounds {
            errors.add(&r.errors);
        }
        Outcome {
            requests: rounds.iter().map(|r| r.requests).sum(),
            unanswered: rounds.iter().map(|r| r.unanswered).sum(),
            errors,
            throughput: m(&|r| r.throughput),
            latency_ms: Percentiles {
                mean: m(&|r| r.latency_ms.mean),
                p50: m(&|r| r.latency_ms.p50),
                p90: m(&|r| r.latency_ms.p90),
                p99: m(&|r| r.latency_ms.p99),
                p999: m(&|r| r.latency_ms.p999),
                max: rounds.iter().map(|r| r.latency_ms.max).fold(0.0, f64::max),
            },
            generator_cpu: m(&|r| r.generator_cpu),
            seconds: rounds.iter().map(|r| r.seconds).sum(),
        }
    }

    /// Requests that got a 2xx answer.
    pub fn succeeded(&self) -> u64 {
        self.requests.saturating_sub(self.errors.total())
    }
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Percentiles {
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

/// One kept-alive connection, reconnecting when the server closes it. Answers are read into
/// one buffer kept for the connection's life and parsed as bytes: no allocation, no UTF-8
/// check, one `read` for most answers.
struct Conn {
    addr: SocketAddr,
    tls: Option<Arc<rustls::ClientConfig>>,
    stream: Option<Stream>,
    request: Vec<u8>,
    timeout: Duration,
    buf: Vec<u8>,
    /// Unread bytes are `buf[head..tail]`.
    head: usize,
    tail: usize,
}

enum Failure {
    Connect,
    Timeout,
    Io,
}

/// Answers with headers longer than this are refused as broken.
const MAX_HEADER: usize = 64 * 1024;

impl Conn {
    fn new(
        port: u16,
        path: &str,
        timeout: Duration,
        tls: Option<Arc<rustls::ClientConfig>>,
    ) -> Conn {
        Conn {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            tls,
            stream: None,
            request: format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: drydock-bench\r\n\r\n").into_bytes(),
            timeout,
            buf: vec![0; 16 * 1024],
            head: 0,
            tail: 0,
        }
    }

    /// Sends one request and reads the answer; returns its status.
    fn get(&mut self) -> Result<u16, Failure> {
        for attempt in 0..2 {
            if self.stream.is_none() {
                let s = TcpStream::connect_timeout(&self.addr, self.timeout)
                    .map_err(|_| Failure::Connect)?;
                let _ = s.set_nodelay(true);
                let _ = s.set_read_timeout(Some(self.timeout));
                let _ = s.set_write_timeout(Some(self.timeout));
                self.stream = Some(match &self.tls {
                    None => Stream::Plain(s),
                    Some(config) => {
                        // The name is only sent (SNI): the verifier pins the certificate.
                        let name = ServerName::try_from("localhost").expect("a valid name");
                        let c = rustls::ClientConnection::new(config.clone(), name)
                            .map_err(|_| Failure::Io)?;
                        Stream::Tls(Box::new(rustls::StreamOwned::new(c, s)))
                    }
                });
                self.head = 0;
                self.tail = 0;
            }
            match self.exchange() {
                Ok(status) => return Ok(status),
                // A kept-alive connection the server closed: once more on a new one.
                Err(Failure::Io) if attempt == 0 => self.stream = None,
                Err(e) => {
                    self.stream = None;
                    return Err(e);
                }
            }
        }
        Err(Failure::Io)
    }

    /// Reads more bytes into the buffer, making room first.
    fn fill(&mut self) -> Result<(), Failure> {
        if self.tail == self.buf.len() {
            if self.head > 0 {
                self.buf.copy_within(self.head..self.tail, 0);
                self.tail -= self.head;
                self.head = 0;
            } else if self.buf.len() < MAX_HEADER {
                self.buf.resize(self.buf.len() * 2, 0);
            } else {
                return Err(Failure::Io);
            }
        }
        let s = self.stream.as_mut().ok_or(Failure::Io)?;
        match s.read(&mut self.buf[self.tail..]) {
            Ok(0) => Err(Failure::Io),
            Ok(n) => {
                self.tail += n;
                Ok(())
            }
            Err(e) => Err(io_failure(e)),
        }
    }

    /// The offset (from `head`) just past the next `\r\n`, reading as needed.
    fn line_end(&mut self) -> Result<usize, Failure> {
        loop {
            if let Some(i) = self.buf[self.head..self.tail]
                .windows(2)
                .position(|w| w == b"\r\n")
            {
                return Ok(i + 2);
            }
            self.fill()?;
        }
    }

    /// Skips `n` bytes of body, reading (and dropping) what is not buffered yet.
    fn skip(&mut self, mut n: usize) -> Result<(), Failure> {
        loop {
            let have = (self.tail - self.head).min(n);
            self.head += have;
            n -= have;
            if n == 0 {
                return Ok(());
            }
            self.head = 0;
            self.tail = 0;
            self.fill()?;
        }
    }

    fn exchange(&mut self) -> Result<u16, Failure> {
        let s = self.stream.as_mut().ok_or(Failure::Io)?;
        s.write_all(&self.request).map_err(io_failure)?;
        // The status line.
        let n = self.line_end()?;
        let line = &self.buf[self.head..self.head + n];
        let status = line
            .split(|b| *b == b' ')
            .nth(1)
            .and_then(|c| std::str::from_utf8(c).ok()?.trim().parse::<u16>().ok())
            .ok_or(Failure::Io)?;
        self.head += n;
        // The headers that say how the body ends.
        let (mut length, mut chunked, mut close) = (0usize, false, false);
        loop {
            let n = self.line_end()?;
            let l = &self.buf[self.head..self.head + n - 2];
            if l.is_empty() {
                self.head += n;
                break;
            }
            if let Some(colon) = l.iter().position(|b| *b == b':') {
                let (k, v) = (&l[..colon], l[colon + 1..].trim_ascii());
                if k.eq_ignore_ascii_case(b"content-length") {
                    length = std::str::from_utf8(v)
                        .ok()
                        .and_then(|v| v.parse().ok())
                        .ok_or(Failure::Io)?;
                } else if k.eq_ignore_ascii_case(b"transfer-encoding") {
                    chunked = v.eq_ignore_ascii_case(b"chunked");
                } else if k.eq_ignore_ascii_case(b"connection") {
                    close = v.eq_ignore_ascii_case(b"close");
                }
            }
            self.head += n;
        }
        if chunked {
            loop {
                let n = self.line_end()?;
                let size = std::str::from_utf8(&self.buf[self.head..self.head + n - 2])
                    .ok()
                    .and_then(|l| usize::from_str_radix(l.split(';').next()?.trim(), 16).ok())
                    .ok_or(Failure::Io)?;
                self.head += n;
                // The chunk and its CRLF (after the last, empty one: the final CRLF).
                self.skip(size + 2)?;
                if size == 0 {
                    break;
                }
            }
        } else {
            self.skip(length)?;
        }
        if close {
            self.stream = None;
        }
        Ok(status)
    }
}

fn io_failure(e: std::io::Error) -> Failure {
    match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => Failure::Timeout,
        _ => Failure::Io,
    }
}

/// One GET on a new connection: did it answer 2xx within `timeout`?
pub fn probe(
    port: u16,
    path: &str,
    tls: Option<&Arc<rustls::ClientConfig>>,
    timeout: Duration,
) -> bool {
    get_once(port, path, tls, timeout).is_ok_and(|code| (200..300).contains(&code))
}

/// One GET on a new connection: the status it answered, or what went wrong, in words.
pub fn get_once(
    port: u16,
    path: &str,
    tls: Option<&Arc<rustls::ClientConfig>>,
    timeout: Duration,
) -> Result<u16, &'static str> {
    Conn::new(port, path, timeout, tls.cloned())
        .get()
        .map_err(|e| match e {
            Failure::Connect => "nothing accepts connections there",
            Failure::Timeout => "no answer in time",
            Failure::Io => "the connection broke off (closed, reset, TLS refused, or not HTTP)",
        })
}

/// CPU seconds this process has used (user + system), from /proc/self/stat.
pub fn own_cpu_seconds() -> f64 {
    cpu_seconds("self", false)
}

/// CPU seconds of a process (`pid`, or `self`) from /proc/PID/stat: user and system time, and
/// with `children` also that of its waited-for children (a service started through taskset).
pub fn cpu_seconds(pid: &str, children: bool) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields 14 to 17 of stat (utime, stime, cutime, cstime), 0-based 11 to 14 after the command.
    let own = ticks(11) + ticks(12);
    (if children {
        own + ticks(13) + ticks(14)
    } else {
        own
    }) / clock_ticks()
}

fn clock_ticks() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

/// Runs the load and returns what it measured.
pub fn run(load: &Load) -> Outcome {
    let hist =
        Mutex::new(Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram bounds"));
    let errors = Mutex::new(Errors::default());
    let issued = AtomicU64::new(0);
    let ok = AtomicU64::new(0);
    let start = Instant::now();
    let measure_from = start + load.warmup;
    let end = measure_from + load.duration;
    let cpu0 = own_cpu_seconds();
    std::thread::scope(|s| {
        for _ in 0..load.connections.max(1) {
            s.spawn(|| {
                let mut conn = Conn::new(load.port, &load.path, load.timeout, load.tls.clone());
                let mut local =
                    Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram bounds");
                let mut local_err = Errors::default();
                let mut local_ok = 0u64;
                loop {
                    if load
                        .stop
                        .as_ref()
                        .is_some_and(|s| s.load(Ordering::Relaxed))
                    {
                        break;
                    }
                    let i = issued.fetch_add(1, Ordering::Relaxed);
                    if i >= load.max_requests {
                        break;
                    }
                    // Open loop: the request's own send time; closed loop: now.
                    let intended = match load.rate {
                        Some(rate) => start + Duration::from_secs_f64(i as f64 / rate as f64),
                        None => Instant::now(),
                    };
                    if intended >= end {
                        break;
                    }
                    let now = Instant::now();
                    if intended > now {
                        std::thread::sleep(intended - now);
                    }
                    let result = conn.get();
                    let done = Instant::now();
                    if intended < measure_from {
                        continue;
                    }
                    match result {
                        Ok(code) if (200..300).contains(&code) => {
                            local_ok += 1;
                            let us = done.duration_since(intended).as_micros().max(1) as u64;
                            let _ = local.record(us.min(60_000_000));
                        }
                        Ok(code) => {
                            local_err.status += 1;
                            *local_err.codes.entry(code).or_default() += 1;
                        }
                        Err(Failure::Connect) => local_err.connect += 1,
                        Err(Failure::Timeout) => local_err.timeout += 1,
                        Err(Failure::Io) => local_err.io += 1,
                    }
                }
                if let Ok(mut h) = hist.lock() {
                    let _ = h.add(&local);
                }
                if let Ok(mut e) = errors.lock() {
                    e.add(&local_err);
                }
                ok.fetch_add(local_ok, Ordering::SeqCst);
            });
        }
    });
    let finished = Instant::now().min(end.max(measure_from));
    let stopped = load
        .stop
        .as_ref()
        .is_some_and(|s| s.load(Ordering::Relaxed));
    // Open loop, ended early: the requests that were due by then and got no answer (waiting
    // behind ones the service had not answered). A run that ends on time sends all it owes.
    let due = |at: Instant, rate: u64| {
        ((at.saturating_duration_since(start).as_secs_f64() * rate as f64).ceil() as u64)
            .min(load.max_requests)
    };
    let seconds = finished
        .saturating_duration_since(measure_from)
        .as_secs_f64()
        .max(0.001);
    let wall = start.elapsed().as_secs_f64().max(0.001);
    let h = hist.into_inner().unwrap_or_else(|e| e.into_inner());
    let ms = |v: u64| v as f64 / 1000.0;
    let errors = errors.into_inner().unwrap_or_default();
    let ok = ok.load(Ordering::SeqCst);
    let unanswered = match load.rate {
        Some(rate) if stopped => (due(finished, rate).saturating_sub(due(measure_from, rate)))
            .saturating_sub(ok + errors.total()),
        _ => 0,
    };
    Outcome {
        requests: ok + errors.total(),
        unanswered,
        throughput: ok as f64 / seconds,
        latency_ms: if h.is_empty() {
            Percentiles::default()
        } else {
            Percentiles {
                mean: h.mean() / 1000.0,
                p50: ms(h.value_at_quantile(0.5)),
                p90: ms(h.value_at_quantile(0.9)),
                p99: ms(h.value_at_quantile(0.99)),
                p999: ms(h.value_at_quantile(0.999)),
                max: ms(h.max()),
            }
        },
        errors,
        generator_cpu: (own_cpu_seconds() - cpu0) / wall,
        seconds,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};
    use std::net::TcpListener;

    /// A tiny keep-alive HTTP server answering 200 (or 503 for /bad), slow on /slow.
    fn server() -> u16 {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for s in l.incoming().flatten() {
                std::thread::spawn(move || {
                    let mut r = BufReader::new(s.try_clone().unwrap());
                    let mut w = s;
                    loop {
                        let mut line = String::new();
                        if r.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
                        loop {
                            let mut h = String::new();
                            if r.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                                break;
                            }
                        }
                        if path == "/slow" {
                            std::thread::sleep(Duration::from_millis(50));
                        }
                        if path == "/delay20" {
                            std::thread::sleep(Duration::from_millis(20));
                        }
                        let (code, body) = if path == "/bad" {
                            (503, "no")
                        } else {
                            (200, "{\"ok\":true}")
                        };
                        let resp = if path == "/chunked" {
                            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n".to_string()
                        } else {
                            format!(
                                "HTTP/1.1 {code} X\r\nContent-Length: {}\r\n\r\n{body}",
                                body.len()
                            )
                        };
                        if w.write_all(resp.as_bytes()).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        port
    }

    fn load(port: u16, path: &str, rate: Option<u64>) -> Load {
        Load {
            port,
            path: path.into(),
            connections: 4,
            duration: Duration::from_millis(500),
            warmup: Duration::from_millis(100),
            rate,
            max_requests: 1_000_000,
            timeout: Duration::from_secs(2),
            tls: None,
            stop: None,
        }
    }

    #[test]
    fn open_loop_holds_the_rate_and_counts_errors() {
        let port = server();
        let o = run(&load(port, "/", Some(400)));
        assert_eq!(o.errors.total(), 0, "{o:?}");
        assert!(
            (150.0..=450.0).contains(&o.throughput),
            "about 400/s: {o:?}"
        );
        assert!(o.latency_ms.p50 > 0.0 && o.latency_ms.max >= o.latency_ms.p99);
        let bad = run(&load(port, "/bad", Some(200)));
        assert!(bad.errors.status > 0 && bad.throughput == 0.0, "{bad:?}");
        assert_eq!(
            bad.errors.codes.get(&503),
            Some(&bad.errors.status),
            "by code"
        );
        let chunked = run(&load(port, "/chunked", Some(100)));
        assert_eq!(chunked.errors.total(), 0, "{chunked:?}");
    }

    #[test]
    fn open_loop_latency_includes_the_wait_a_stall_causes() {
        // 4 connections, 50 ms per answer: at most 80/s get served, and 200/s are asked for. A
        // closed loop would report 50 ms; measured from the intended send times, the queue shows.
        let port = server();
        let o = run(&load(port, "/slow", Some(200)));
        assert!(
            o.latency_ms.p99 > 100.0,
            "coordinated omission corrected: {:?}",
            o.latency_ms
        );
        let closed = run(&load(port, "/slow", None));
        assert!(closed.latency_ms.p50 < 100.0, "{:?}", closed.latency_ms);
    }

    #[test]
    fn open_loop_latency_matches_a_known_delay() {
        // 20 ms per answer, 4 connections: 200/s of capacity, 50/s asked: no queue, so the
        // median is the delay itself.
        let port = server();
        let o = run(&Load {
            duration: Duration::from_secs(1),
            ..load(port, "/delay20", Some(50))
        });
        assert_eq!(o.errors.total(), 0);
        assert!(
            (19.5..=24.0).contains(&o.latency_ms.p50),
            "p50 about 20 ms: {:?}",
            o.latency_ms
        );
    }

    /// A keep-alive HTTPS server with a fresh self-signed certificate; returns its port and
    /// the certificate's PEM.
    fn tls_server() -> (u16, String) {
        use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
        let ck = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der()));
        let config = Arc::new(
            rustls::ServerConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![ck.cert.der().clone()], key)
            .unwrap(),
        );
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for s in l.incoming().flatten() {
                let config = config.clone();
                std::thread::spawn(move || {
                    let conn = rustls::ServerConnection::new(config).unwrap();
                    let mut r = BufReader::new(rustls::StreamOwned::new(conn, s));
                    loop {
                        let mut line = String::new();
                        if r.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" {
                            let body = "{\"tls\":true}";
                            let resp = format!(
                                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                                body.len()
                            );
                            if r.get_mut().write_all(resp.as_bytes()).is_err() {
                                return;
                            }
                        }
                    }
                });
            }
        });
        (port, ck.cert.pem())
    }

    #[test]
    fn https_trusts_the_pinned_certificate_and_no_other() {
        let (port, pem) = tls_server();
        let tls = pinned_tls(pem.as_bytes()).unwrap();
        assert!(probe(port, "/", Some(&tls), Duration::from_secs(2)));
        let o = run(&Load {
            tls: Some(tls),
            ..load(port, "/", Some(200))
        });
        assert_eq!(o.errors.total(), 0, "{o:?}");
        assert!(o.throughput > 100.0, "{o:?}");
        // Another certificate, even for the same name, is refused: every request fails.
        let other = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let wrong = pinned_tls(other.cert.pem().as_bytes()).unwrap();
        assert!(!probe(port, "/", Some(&wrong), Duration::from_secs(2)));
        let refused = run(&Load {
            tls: Some(wrong),
            ..load(port, "/", Some(100))
        });
        assert!(
            refused.errors.io > 0 && refused.throughput == 0.0,
            "{refused:?}"
        );
        assert!(pinned_tls(b"not a certificate").is_err());
    }

    #[test]
    fn a_stopped_open_loop_counts_what_was_still_due() {
        // 4 connections, 50 ms each: 80/s served of 400/s due; stopped after 0.5 s, most of
        // what was due has no answer yet.
        let port = server();
        let stop = Arc::new(AtomicBool::new(false));
        let l = Load {
            warmup: Duration::ZERO,
            duration: Duration::from_secs(10),
            stop: Some(stop.clone()),
            ..load(port, "/slow", Some(400))
        };
        let h = std::thread::spawn(move || run(&l));
        std::thread::sleep(Duration::from_millis(500));
        stop.store(true, Ordering::Relaxed);
        let o = h.join().unwrap();
        assert!(o.seconds < 2.0, "stopped early: {o:?}");
        assert!(o.unanswered > 100 && o.requests < 80, "{o:?}");
    }

    #[test]
    fn nothing_listening_is_connect_errors() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        let o = run(&load(port, "/", Some(100)));
        assert!(o.errors.connect > 0 && o.throughput == 0.0, "{o:?}");
    }
}
