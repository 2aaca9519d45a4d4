//! A TCP forwarder on 127.0.0.1, for `drydock run --watch`: it holds the host port the user was
//! given and hands each new connection to whichever container serves now, so a replacement can
//! start the new container (published on a port of its own) before the old one stops, and
//! switching is one store, with no moment where nothing listens.
//!
//! A switch changes where *new* connections go; open ones stay with their container until one
//! side closes them, which is what lets the old container drain in-flight requests after its
//! SIGTERM. It forwards bytes and never reads them: no HTTP, no buffering of a request for a
//! retry, so a keep-alive connection to the old container ends when that container closes it.
//!
//! Plain threads (one acceptor, two per connection): a development loop serves one developer's
//! requests, and this adds no dependency.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// No backend: connections are accepted and closed at once.
const NONE: u32 = 0;

struct Shared {
    /// The backend port on 127.0.0.1, or [`NONE`].
    backend: AtomicU32,
    stop: AtomicBool,
    /// Connections accepted whose backend connection is not made yet: a switch waits for them,
    /// so none of them reaches the old container after it was told to stop.
    dialing: AtomicUsize,
    /// Client and backend sockets of open connections, to cut them when the forwarder ends.
    open: Mutex<HashMap<u64, (TcpStream, Option<TcpStream>)>>,
    next: AtomicU64,
}

/// Listens on 127.0.0.1:PORT and forwards every connection to the current backend.
pub struct Forwarder {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl Forwarder {
    /// Binds 127.0.0.1:`port` and starts accepting; without a backend yet, connections are
    /// closed as soon as they come.
    pub fn listen(port: u16) -> io::Result<Forwarder> {
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            backend: AtomicU32::new(NONE),
            stop: AtomicBool::new(false),
            dialing: AtomicUsize::new(0),
            open: Mutex::new(HashMap::new()),
            next: AtomicU64::new(0),
        });
        let s = shared.clone();
        let acceptor = std::thread::Builder::new()
            .name("forward-accept".into())
            .spawn(move || accept_loop(listener, s))?;
        Ok(Forwarder {
            addr,
            shared,
            acceptor: Some(acceptor),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Sends new connections to 127.0.0.1:`port` (None: closes them). Returns once every
    /// connection accepted before the switch has reached its backend (at most `within`), so a
    /// container switched away from may be told to stop without a connection still on its way.
    pub fn switch(&self, port: Option<u16>, within: Duration) {
        self.shared
            .backend
            .store(port.map_or(NONE, u32::from), Ordering::SeqCst);
        let start = Instant::now();
        while self.shared.dialing.load(Ordering::SeqCst) > 0 && start.elapsed() < within {
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// The backend new connections go to.
    pub fn backend(&self) -> Option<u16> {
        match self.shared.backend.load(Ordering::SeqCst) {
            NONE => None,
            p => u16::try_from(p).ok(),
        }
    }

    /// Stops accepting: the port refuses new connections from now on, while open ones go on
    /// (the container serving them is draining).
    pub fn close(&mut self) {
        if let Some(acceptor) = self.acceptor.take() {
            self.shared.stop.store(true, Ordering::SeqCst);
            // The acceptor is blocked in accept(): one connection wakes it to see `stop`.
            if TcpStream::connect_timeout(&self.addr, Duration::from_secs(1)).is_ok() {
                let _ = acceptor.join();
            }
        }
    }

    /// How many connections are open.
    pub fn open_connections(&self) -> usize {
        self.shared.open.lock().map(|o| o.len()).unwrap_or(0)
    }
}

impl Drop for Forwarder {
    /// Stops accepting and cuts the connections still open.
    fn drop(&mut self) {
        self.close();
        if let Ok(open) = self.shared.open.lock() {
            for (client, backend) in open.values() {
                let _ = client.shutdown(Shutdown::Both);
                if let Some(b) = backend {
                    let _ = b.shutdown(Shutdown::Both);
                }
            }
        }
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    for client in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(client) = client else {
            // EMFILE and the like: do not spin on it.
            std::thread::sleep(Duration::from_millis(10));
            continue;
        };
        // Counted before the thread starts, so a switch right after this accept waits for it.
        shared.dialing.fetch_add(1, Ordering::SeqCst);
        let port = shared.backend.load(Ordering::SeqCst);
        let s = shared.clone();
        let spawned = std::thread::Builder::new()
            .name("forward-conn".into())
            .spawn(move || connection(client, port, s));
        if spawned.is_err() {
            shared.dialing.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Connects to `port`, the backend when the connection was accepted; when that fails and the
/// backend was switched since (the container dialled is going away), tries the new one.
fn dial(shared: &Shared, mut port: u32) -> Option<TcpStream> {
    loop {
        let p = u16::try_from(port).ok().filter(|_| port != NONE)?;
        match TcpStream::connect_timeout(&([127, 0, 0, 1], p).into(), Duration::from_secs(5)) {
            Ok(s) => return Some(s),
            Err(_) => {
                let now = shared.backend.load(Ordering::SeqCst);
                if now == port {
                    return None;
                }
                port = now;
            }
        }
    }
}

fn connection(client: TcpStream, port: u32, shared: Arc<Shared>) {
    let backend = dial(&shared, port);
    shared.dialing.fetch_sub(1, Ordering::SeqCst);
    let Some(backend) = backend else {
        return;
    };
    // Small writes go out at once: a request or an answer is often a single small segment.
    let _ = client.set_nodelay(true);
    let _ = backend.set_nodelay(true);
    let id = shared.next.fetch_add(1, Ordering::SeqCst);
    if let (Ok(mut open), Ok(c), Ok(b)) =
        (shared.open.lock(), client.try_clone(), backend.try_clone())
    {
        open.insert(id, (c, Some(b)));
    }
    let upstream = match (client.try_clone(), backend.try_clone()) {
        (Ok(from), Ok(to)) => std::thread::Builder::new()
            .name("forward-up".into())
            .spawn(move || pump(from, to))
            .ok(),
        _ => None,
    };
    if upstream.is_some() {
        pump(backend, client);
        if let Some(u) = upstream {
            let _ = u.join();
        }
    }
    if let Ok(mut open) = shared.open.lock() {
        open.remove(&id);
    }
}

/// Copies `from` to `to` until `from` ends. A clean end is passed on as a half-close (the other
/// direction may still be sending); an error cuts both sockets, which also ends the other pump.
fn pump(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) => {
                let _ = to.shutdown(Shutdown::Write);
                return;
            }
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server answering each connection with NAME and closing it, after reading one line.
    fn named_server(name: &'static str) -> (u16, JoinHandle<()>, Arc<AtomicBool>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let h = std::thread::spawn(move || {
            for c in l.incoming() {
                if s.load(Ordering::SeqCst) {
                    return;
                }
                let mut c = c.unwrap();
                let mut line = Vec::new();
                let mut b = [0u8; 1];
                while c.read(&mut b).unwrap_or(0) == 1 && b[0] != b'\n' {
                    line.push(b[0]);
                }
                let _ = write!(c, "{name}:{}", String::from_utf8_lossy(&line));
            }
        });
        (port, h, stop)
    }

    fn ask(port: u16, what: &str) -> io::Result<String> {
        let mut s = TcpStream::connect(("127.0.0.1", port))?;
        s.set_read_timeout(Some(Duration::from_secs(5)))?;
        writeln!(s, "{what}")?;
        let mut out = String::new();
        s.read_to_string(&mut out)?;
        Ok(out)
    }

    #[test]
    fn forwards_to_the_current_backend_and_switches_new_connections() {
        let (a, _, _) = named_server("a");
        let (b, _, _) = named_server("b");
        let mut f = Forwarder::listen(0).unwrap();
        let port = f.addr().port();
        // No backend yet: accepted and closed, nothing answers.
        assert_eq!(ask(port, "x").unwrap_or_default(), "");
        f.switch(Some(a), Duration::from_secs(1));
        assert_eq!(ask(port, "one").unwrap(), "a:one");
        f.switch(Some(b), Duration::from_secs(1));
        assert_eq!(f.backend(), Some(b));
        assert_eq!(ask(port, "two").unwrap(), "b:two");
        f.close();
        assert!(
            TcpStream::connect(("127.0.0.1", port)).is_err(),
            "closed: the port refuses connections"
        );
    }

    #[test]
    fn an_open_connection_stays_with_its_backend_after_a_switch() {
        let (b, _, _) = named_server("new");
        // The old backend: reads until its client half-closes, then answers with what it got.
        let old = TcpListener::bind("127.0.0.1:0").unwrap();
        let a = old.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut c, _) = old.accept().unwrap();
            let mut got = String::new();
            c.read_to_string(&mut got).unwrap();
            c.write_all(format!("old:{got}").as_bytes()).unwrap();
        });
        let f = Forwarder::listen(0).unwrap();
        let port = f.addr().port();
        f.switch(Some(a), Duration::from_secs(1));
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(b"first half ").unwrap();
        // Accepted (a connection still in the listen queue goes where the next accept sends it).
        let t = Instant::now();
        while f.open_connections() == 0 && t.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(5));
        }
        f.switch(Some(b), Duration::from_secs(1));
        assert_eq!(ask(port, "fresh").unwrap(), "new:fresh");
        // The half-close is passed on; the answer comes back on the still open connection.
        s.write_all(b"second half").unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        assert_eq!(out, "old:first half second half");
        server.join().unwrap();
    }

    #[test]
    fn a_refused_dial_tries_the_backend_switched_to() {
        let (b, _, _) = named_server("b");
        // A port nothing listens on.
        let gone = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let shared = Shared {
            backend: AtomicU32::new(u32::from(gone)),
            stop: AtomicBool::new(false),
            dialing: AtomicUsize::new(0),
            open: Mutex::new(HashMap::new()),
            next: AtomicU64::new(0),
        };
        assert!(
            dial(&shared, u32::from(gone)).is_none(),
            "refused, and not switched"
        );
        assert!(dial(&shared, NONE).is_none(), "no backend");
        // Accepted while `gone` served, switched to b since: b answers.
        shared.backend.store(u32::from(b), Ordering::SeqCst);
        assert!(dial(&shared, u32::from(gone)).is_some());
    }

    #[test]
    fn dropping_it_cuts_open_connections() {
        // A backend that never answers nor closes.
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let a = l.local_addr().unwrap().port();
        let _held = std::thread::spawn(move || {
            let conns: Vec<_> = l.incoming().take(1).collect();
            std::thread::sleep(Duration::from_secs(30));
            drop(conns);
        });
        let f = Forwarder::listen(0).unwrap();
        let port = f.addr().port();
        f.switch(Some(a), Duration::from_secs(1));
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(b"hello").unwrap();
        let t = Instant::now();
        while f.open_connections() == 0 && t.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(f.open_connections(), 1);
        drop(f);
        let mut out = Vec::new();
        let t = Instant::now();
        let _ = s.read_to_end(&mut out);
        assert!(t.elapsed() < Duration::from_secs(4), "cut, not timed out");
    }
}
