//! `drydock-helper probe URL`: the health check of a `scratch` image, which has no curl.
//! One HTTP/1.1 GET; healthy (exit 0) on 2xx and 3xx, unhealthy (exit 1) on anything else,
//! including a refused connection or a timeout. Never exit 2, which Docker reserves.

use alloc::format;
use alloc::string::{String, ToString};
use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use core::time::Duration;

use crate::sys;

pub struct Target {
    pub host: String,
    pub port: u16,
    pub path: String,
}

pub fn parse_url(url: &str) -> Result<Target, String> {
    let rest = url.strip_prefix("http://").ok_or_else(|| format!("{url:?}: only http:// URLs are supported (the probe talks to the app inside its own container)"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => (
            h,
            p.parse::<u16>()
                .map_err(|_| format!("{url:?}: bad port {p:?}"))?,
        ),
        _ => (authority, 80),
    };
    if host.is_empty() {
        return Err(format!("{url:?}: no host"));
    }
    Ok(Target {
        host: host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string(),
        port,
        path: path.to_string(),
    })
}

/// Durations as Docker writes them: `500ms`, `2s`, `1m`, or plain seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("bad duration {s:?}: use e.g. 500ms, 2s or 1m");
    let (num, mult) = if let Some(n) = s.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60.0)
    } else {
        (s, 1.0)
    };
    let v: f64 = num.parse().map_err(|_| bad())?;
    if !(v > 0.0 && v.is_finite()) {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(v * mult))
}

/// Returns the HTTP status, or why there is none.
pub fn get(t: &Target, timeout: Duration) -> Result<u16, String> {
    let deadline = sys::now_ms() + timeout.as_millis() as u64;
    // IP literals and localhost only: a probe talks to its own container, and a resolver would
    // be most of the helper's size.
    let ip: IpAddr = if t.host == "localhost" {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        t.host.parse().map_err(|_| {
            format!(
                "{:?} is not an IP address (use 127.0.0.1 or localhost)",
                t.host
            )
        })?
    };
    let addr = SocketAddr::new(ip, t.port);
    let s = sys::connect(addr, deadline).map_err(|e| format!("connecting to {addr}: {e}"))?;
    let host = if t.host.contains(':') {
        format!("[{}]", t.host)
    } else {
        t.host.clone()
    };
    let req = format!("GET {} HTTP/1.1\r\nHost: {host}:{}\r\nUser-Agent: drydock-helper/probe\r\nConnection: close\r\n\r\n", t.path, t.port);
    s.send_all(req.as_bytes(), deadline)
        .map_err(|e| format!("sending to {addr}: {e}"))?;
    let head = s
        .recv_some(12, deadline)
        .map_err(|e| format!("reading from {addr}: {e}"))?;
    let head = String::from_utf8_lossy(&head);
    head.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("{addr} did not answer HTTP ({head:?})"))
}

/// Runs the probe command; returns the process exit code.
pub fn main(args: &[&str]) -> i32 {
    let mut url = None;
    let mut timeout = Duration::from_secs(2);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match *a {
            "--timeout" => match it.next().map(|v| parse_duration(v)) {
                Some(Ok(d)) => timeout = d,
                Some(Err(e)) => return usage(&e),
                None => return usage("--timeout needs a value"),
            },
            s if s.starts_with("--timeout=") => match parse_duration(&s["--timeout=".len()..]) {
                Ok(d) => timeout = d,
                Err(e) => return usage(&e),
            },
            s if url.is_none() => url = Some(s),
            s => return usage(&format!("unexpected argument {s:?}")),
        }
    }
    let Some(url) = url else {
        return usage("a URL is required");
    };
    let target = match parse_url(url) {
        Ok(t) => t,
        Err(e) => return usage(&e),
    };
    let (code, line) = match get(&target, timeout) {
        Ok(c) if (200..400).contains(&c) => (0, format!("healthy: GET {url} answered {c}\n")),
        Ok(c) => (1, format!("unhealthy: GET {url} answered {c}\n")),
        Err(e) => (1, format!("unhealthy: GET {url}: {e}\n")),
    };
    sys::write_all(1, line.as_bytes());
    code
}

fn usage(msg: &str) -> i32 {
    sys::write_all(2, format!("drydock-helper probe: {msg}\nusage: drydock-helper probe http://127.0.0.1:8080/healthz [--timeout 2s]\n").as_bytes());
    // 1, not 2: Docker reserves 2, and a broken probe is an unhealthy container.
    1
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::time::Instant;

    #[test]
    fn urls_and_durations() {
        let t = parse_url("http://127.0.0.1:8080/healthz").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.path.as_str()),
            ("127.0.0.1", 8080, "/healthz")
        );
        let t = parse_url("http://[::1]:9000").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.path.as_str()),
            ("::1", 9000, "/")
        );
        assert!(parse_url("https://x/").is_err());
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2s").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("3").unwrap(), Duration::from_secs(3));
        assert!(parse_duration("-1s").is_err());
    }

    fn serve_once(response: &'static str) -> u16 {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        std::thread::spawn(move || {
            if let Ok((mut s, _)) = l.accept() {
                let mut got = Vec::new();
                let mut b = [0u8; 512];
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut b) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => got.extend_from_slice(&b[..n]),
                    }
                }
                let _ = s.write_all(response.as_bytes());
            }
        });
        port
    }

    #[test]
    fn statuses_map_to_exit_codes() {
        for (resp, want) in [
            ("HTTP/1.1 200 OK\r\n\r\n", 0),
            ("HTTP/1.1 302 Found\r\n\r\n", 0),
            ("HTTP/1.1 503 Service Unavailable\r\n\r\n", 1),
            ("garbage", 1),
        ] {
            let port = serve_once(resp);
            let url = format!("http://127.0.0.1:{port}/healthz");
            assert_eq!(main(&[&url]), want, "{resp:?}");
        }
        // Nothing listening: unhealthy, not an error code Docker reserves.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}/");
        assert_eq!(main(&[&url, "--timeout", "1s"]), 1);
        assert_eq!(
            main(&["http://example.invalid/"]),
            1,
            "names are not resolved"
        );
    }

    #[test]
    fn a_silent_server_times_out() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let start = Instant::now();
        let url = format!("http://127.0.0.1:{port}/");
        assert_eq!(main(&[&url, "--timeout=300ms"]), 1);
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
        drop(l);
    }
}
