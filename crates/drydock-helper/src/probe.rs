//! `drydock-helper probe URL`: the health check of a `scratch` image, which has no curl.
//! One HTTP/1.1 GET; healthy (exit 0) on 2xx and 3xx, unhealthy (exit 1) on anything else,
//! including a refused connection or a timeout. Never exit 2, which Docker reserves.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

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
        Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => (h, p.parse::<u16>().map_err(|_| format!("{url:?}: bad port {p:?}"))?),
        _ => (authority, 80),
    };
    if host.is_empty() {
        return Err(format!("{url:?}: no host"));
    }
    Ok(Target { host: host.trim_start_matches('[').trim_end_matches(']').to_string(), port, path: path.to_string() })
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
    let deadline = Instant::now() + timeout;
    // IP literals and localhost only: name resolution would pull glibc's resolver and NSS into a
    // static binary (hundreds of KB), and a probe talks to its own container anyway.
    let ip: IpAddr = if t.host == "localhost" { IpAddr::V4(Ipv4Addr::LOCALHOST) } else { t.host.parse().map_err(|_| format!("{:?} is not an IP address (use 127.0.0.1 or localhost)", t.host))? };
    let addrs = [SocketAddr::new(ip, t.port)];
    let mut last = String::from("no address");
    for addr in addrs {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!("timed out after {timeout:?}"));
        }
        match TcpStream::connect_timeout(&addr, left) {
            Ok(mut s) => {
                let left = deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1));
                s.set_read_timeout(Some(left)).map_err(|e| e.to_string())?;
                s.set_write_timeout(Some(left)).map_err(|e| e.to_string())?;
                let host = if t.host.contains(':') { format!("[{}]", t.host) } else { t.host.clone() };
                let req = format!("GET {} HTTP/1.1\r\nHost: {host}:{}\r\nUser-Agent: drydock-helper/probe\r\nConnection: close\r\n\r\n", t.path, t.port);
                s.write_all(req.as_bytes()).map_err(|e| format!("sending to {addr}: {e}"))?;
                let mut buf = [0u8; 64];
                let mut n = 0;
                while n < 12 {
                    match s.read(&mut buf[n..]) {
                        Ok(0) => break,
                        Ok(k) => n += k,
                        Err(e) => return Err(format!("reading from {addr}: {e}")),
                    }
                }
                let head = String::from_utf8_lossy(&buf[..n]);
                return head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).ok_or_else(|| format!("{addr} did not answer HTTP ({head:?})"));
            }
            Err(e) => last = format!("connecting to {addr}: {e}"),
        }
    }
    Err(last)
}

/// Runs the probe command; returns the process exit code.
pub fn main(args: &[String]) -> i32 {
    let mut url = None;
    let mut timeout = Duration::from_secs(2);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--timeout" => match it.next().map(|v| parse_duration(v)) {
                Some(Ok(d)) => timeout = d,
                Some(Err(e)) => return usage(&e),
                None => return usage("--timeout needs a value"),
            },
            s if s.starts_with("--timeout=") => match parse_duration(&s["--timeout=".len()..]) {
                Ok(d) => timeout = d,
                Err(e) => return usage(&e),
            },
            s if url.is_none() => url = Some(s.to_string()),
            s => return usage(&format!("unexpected argument {s:?}")),
        }
    }
    let Some(url) = url else { return usage("a URL is required") };
    let target = match parse_url(&url) {
        Ok(t) => t,
        Err(e) => return usage(&e),
    };
    match get(&target, timeout) {
        Ok(code) if (200..400).contains(&code) => {
            println!("healthy: GET {url} answered {code}");
            0
        }
        Ok(code) => {
            println!("unhealthy: GET {url} answered {code}");
            1
        }
        Err(e) => {
            println!("unhealthy: GET {url}: {e}");
            1
        }
    }
}

fn usage(msg: &str) -> i32 {
    eprintln!("drydock-helper probe: {msg}\nusage: drydock-helper probe http://127.0.0.1:8080/healthz [--timeout 2s]");
    // 1, not 2: Docker reserves 2, and a broken probe is an unhealthy container.
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_durations() {
        let t = parse_url("http://127.0.0.1:8080/healthz").unwrap();
        assert_eq!((t.host.as_str(), t.port, t.path.as_str()), ("127.0.0.1", 8080, "/healthz"));
        let t = parse_url("http://[::1]:9000").unwrap();
        assert_eq!((t.host.as_str(), t.port, t.path.as_str()), ("::1", 9000, "/"));
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
        for (resp, want) in [("HTTP/1.1 200 OK\r\n\r\n", 0), ("HTTP/1.1 302 Found\r\n\r\n", 0), ("HTTP/1.1 503 Service Unavailable\r\n\r\n", 1), ("garbage", 1)] {
            let port = serve_once(resp);
            assert_eq!(main(&[format!("http://127.0.0.1:{port}/healthz")]), want, "{resp:?}");
        }
        // Nothing listening: unhealthy, not an error code Docker reserves.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        assert_eq!(main(&[format!("http://127.0.0.1:{port}/"), "--timeout".into(), "1s".into()]), 1);
    }

    #[test]
    fn a_silent_server_times_out() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let start = Instant::now();
        assert_eq!(main(&[format!("http://127.0.0.1:{port}/"), "--timeout=300ms".into()]), 1);
        assert!(start.elapsed() < Duration::from_secs(5));
        drop(l);
    }
}
