//! Shared helpers for drydock's end-to-end tests. These tests drive the real binary against
//! the real Go toolchain, Docker Engine, podman, skopeo and container-structure-test; a missing
//! tool fails the test with the command that installs it (scripts/setup), it never skips.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root")
}

/// The environment every engine and toolchain command gets: Go in GOPATH mode against
/// Debian's Gin unless the caller's environment says otherwise, podman with this machine's
/// containers.conf.
pub fn test_env(cmd: &mut Command) -> &mut Command {
    if std::env::var_os("GOPATH").is_none() {
        cmd.env("GOPATH", "/usr/share/gocode");
    }
    if std::env::var_os("GO111MODULE").is_none() {
        cmd.env("GO111MODULE", "off");
    }
    if std::env::var_os("CONTAINERS_CONF").is_none() {
        cmd.env(
            "CONTAINERS_CONF",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/containers.conf"),
        );
    }
    cmd
}

pub fn require_tool(tool: &str) {
    let found = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()));
    assert!(
        found,
        "`{tool}` is not installed: run ./scripts/setup (and source scripts/env.sh) first"
    );
}

pub fn drydock() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_drydock"));
    test_env(&mut c);
    c
}

pub fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    out
}

pub fn run_ok(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Copies examples/NAME (without build outputs) into a fresh temporary directory.
pub fn copy_example(name: &str) -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().expect("tempdir");
    let dst = t.path().join(name);
    copy_tree(&repo_root().join("examples").join(name), &dst);
    (t, dst)
}

pub fn copy_tree(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let name = e.file_name();
        if name == "target" {
            continue;
        }
        let (s, d) = (e.path(), dst.join(&name));
        if e.file_type().unwrap().is_dir() {
            copy_tree(&s, &d);
        } else {
            std::fs::copy(&s, &d).unwrap();
        }
    }
}

/// `drydock build DIR --format json ARGS...`, which must succeed; returns the report.
pub fn build_json(dir: &Path, cache: &Path, args: &[&str]) -> serde_json::Value {
    let out = run(drydock()
        .arg("build")
        .arg(dir)
        .arg("--cache-dir")
        .arg(cache)
        .args(["--format", "json"])
        .args(args));
    assert!(
        out.status.success(),
        "drydock build failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON report")
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A minimal HTTP/1.0 GET against 127.0.0.1: (status, body).
pub fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut s =
        TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    let status = buf.split_whitespace().nth(1)?.parse().ok()?;
    let body = buf
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Some((status, body))
}

pub fn wait_http(port: u16, path: &str, want: u16, timeout: Duration) -> Result<String, String> {
    let start = Instant::now();
    let mut last = None;
    while start.elapsed() < timeout {
        match http_get(port, path) {
            Some((s, body)) if s == want => return Ok(body),
            other => last = other,
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Err(format!(
        "GET {path} on port {port}: wanted {want}, last answer {last:?}"
    ))
}

/// A container that is removed when dropped.
pub struct Container {
    pub engine: &'static str,
    pub id: String,
}

impl Container {
    pub fn run(engine: &'static str, args: &[&str]) -> Container {
        let mut cmd = Command::new(engine);
        test_env(&mut cmd);
        let id = run_ok(cmd.args(["run", "-d"]).args(args))
            .trim()
            .to_string();
        Container { engine, id }
    }

    pub fn inspect(&self, format: &str) -> String {
        let mut cmd = Command::new(self.engine);
        test_env(&mut cmd);
        run_ok(cmd.args(["inspect", "--format", format, &self.id]))
            .trim()
            .to_string()
    }

    pub fn logs(&self) -> String {
        let mut cmd = Command::new(self.engine);
        test_env(&mut cmd);
        let out = run(cmd.args(["logs", &self.id]));
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }

    /// The uid the container's main process runs as, read from the host's /proc.
    pub fn main_uid(&self) -> u32 {
        let pid = self.inspect("{{.State.Pid}}");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .expect("container process status");
        let line = status
            .lines()
            .find(|l| l.starts_with("Uid:"))
            .expect("Uid line");
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let mut cmd = Command::new(self.engine);
        test_env(&mut cmd);
        let _ = cmd.args(["rm", "-f", &self.id]).output();
    }
}

pub fn engine(engine: &str) -> Command {
    let mut c = Command::new(engine);
    test_env(&mut c);
    c
}

/// One file of an image, as the flattened filesystem holds it.
#[derive(Debug, Clone)]
pub struct ImageFile {
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub kind: tar::EntryType,
    pub data: Vec<u8>,
}

/// Reads a docker archive: its manifest.json entry, config and flattened files.
pub fn read_docker_archive(
    path: &Path,
) -> (
    serde_json::Value,
    serde_json::Value,
    BTreeMap<String, ImageFile>,
) {
    let mut members = BTreeMap::new();
    let mut ar = tar::Archive::new(std::fs::File::open(path).unwrap());
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        members.insert(name, data);
    }
    let manifest: serde_json::Value = serde_json::from_slice(&members["manifest.json"]).unwrap();
    let entry = manifest[0].clone();
    let config: serde_json::Value =
        serde_json::from_slice(&members[entry["Config"].as_str().unwrap()]).unwrap();
    let mut files = BTreeMap::new();
    for layer in entry["Layers"].as_array().unwrap() {
        let data = &members[layer.as_str().unwrap()];
        let mut lt = tar::Archive::new(data.as_slice());
        for e in lt.entries().unwrap() {
            let mut e = e.unwrap();
            let p = format!(
                "/{}",
                e.path().unwrap().to_string_lossy().trim_end_matches('/')
            );
            let h = e.header().clone();
            let mut d = Vec::new();
            e.read_to_end(&mut d).unwrap();
            files.insert(
                p,
                ImageFile {
                    mode: h.mode().unwrap(),
                    uid: h.uid().unwrap(),
                    gid: h.gid().unwrap(),
                    kind: h.entry_type(),
                    data: d,
                },
            );
        }
    }
    (entry, config, files)
}

/// A minimal HTTP/1.0 POST with an empty body against 127.0.0.1.
pub fn http_post(port: u16, path: &str) -> Option<(u16, String)> {
    let mut s =
        TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "POST {path} HTTP/1.0\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n"
    )
    .ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    let status = buf.split_whitespace().nth(1)?.parse().ok()?;
    Some((
        status,
        buf.split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default(),
    ))
}

/// Polls `f` until it returns Some, or panics with `what` after `timeout`.
pub fn eventually<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Zombie processes whose parent is `ppid`, from the host's /proc.
pub fn zombies_of(ppid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // Fields after the command name, which is in parentheses and may hold spaces.
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let f: Vec<&str> = rest.split_whitespace().collect();
        if f.len() > 2 && f[0] == "Z" && f[1].parse::<u32>().ok() == Some(ppid) {
            out.push(pid);
        }
    }
    out
}

/// A real registry (Debian's docker-registry, CNCF distribution 2.8) on 127.0.0.1, with its
/// storage in a temporary directory; stopped when dropped. With `auth`, it serves TLS with a
/// CA made for the test and asks for htpasswd (bcrypt) basic auth.
pub struct Registry {
    pub port: u16,
    pub dir: tempfile::TempDir,
    /// The CA certificate to trust, for the TLS variant.
    pub ca: Option<PathBuf>,
    child: Option<std::process::Child>,
}

impl Registry {
    pub fn start(auth: Option<(&str, &str)>) -> Registry {
        require_tool("docker-registry");
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let port = free_port();
        let mut config = format!(
            "version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: false\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
            d.join("data").display()
        );
        let mut ca = None;
        if let Some((user, pass)) = auth {
            require_tool("openssl");
            require_tool("htpasswd");
            let sh = format!(
                "set -e; cd {d}; openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj '/CN=drydock test CA' 2>/dev/null; \
                 openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj '/CN=127.0.0.1' 2>/dev/null; \
                 printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > ext; \
                 openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out srv.crt -days 2 -extfile ext 2>/dev/null",
                d = d.display()
            );
            run_ok(Command::new("sh").args(["-c", &sh]));
            let hp = run_ok(Command::new("htpasswd").args(["-Bbn", user, pass]));
            std::fs::write(d.join("htpasswd"), hp).unwrap();
            config.push_str(&format!(
                "  tls:\n    certificate: {0}/srv.crt\n    key: {0}/srv.key\nauth:\n  htpasswd:\n    realm: drydock-test\n    path: {0}/htpasswd\n",
                d.display()
            ));
            ca = Some(d.join("ca.crt"));
        }
        std::fs::write(d.join("config.yml"), config).unwrap();
        let mut r = Registry {
            port,
            dir,
            ca,
            child: None,
        };
        r.resume();
        r
    }

    /// Starts it (again, on the same port and storage).
    pub fn resume(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("registry.log"))
            .unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(self.dir.path().join("config.yml"))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("docker-registry starts");
        self.child = Some(child);
        eventually("the registry listens", Duration::from_secs(20), || {
            TcpStream::connect(("127.0.0.1", self.port)).ok()
        });
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The registry's log so far (its access log included).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// How many blob uploads the log shows (POSTs that start one).
    pub fn uploads(&self) -> usize {
        self.log()
            .lines()
            .filter(|l| l.contains("\"POST /v2/") && l.contains("/blobs/uploads/"))
            .count()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Every process under `root` (not `root` itself), by walking /proc: (pid, comm, start time).
pub fn descendants(root: u32) -> Vec<(u32, String, u64)> {
    let mut procs = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // comm is in parentheses and may hold spaces: split after the last ')'.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = stat[open + 1..close].to_string();
        let rest: Vec<&str> = stat[close + 2..].split(' ').collect();
        let ppid: u32 = rest[1].parse().unwrap_or(0);
        let start: u64 = rest[19].parse().unwrap_or(0);
        procs.push((pid, ppid, comm, start));
    }
    let mut found = Vec::new();
    let mut frontier = vec![root];
    while let Some(p) = frontier.pop() {
        for (pid, ppid, comm, start) in &procs {
            if *ppid == p {
                found.push((*pid, comm.clone(), *start));
                frontier.push(*pid);
            }
        }
    }
    found
}

/// A Cargo project at `dir` (package `spin`) whose one constant takes rustc minutes to
/// evaluate: while drydock builds it, the compiler is surely running.
pub fn slow_to_compile_crate(dir: &Path) {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"spin\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("src/main.rs"),
        "#![allow(long_running_const_eval)]\nconst SPIN: u64 = {\n    let mut i: u64 = 0;\n    let mut s: u64 = 0;\n    while i < 500_000_000_000 {\n        s = s.wrapping_add(i ^ (s >> 3));\n        i += 1;\n    }\n    s\n};\nfn main() {\n    println!(\"{}\", SPIN);\n}\n",
    )
    .unwrap();
}

/// The process tree under `root` once a rustc in it compiles the crate of
/// [`slow_to_compile_crate`]; `None` before.
pub fn compiling_spin(root: u32) -> Option<Vec<(u32, String, u64)>> {
    let d = descendants(root);
    d.iter()
        .any(|(p, c, _)| {
            c == "rustc"
                && std::fs::read(format!("/proc/{p}/cmdline"))
                    .is_ok_and(|a| String::from_utf8_lossy(&a).contains("spin"))
        })
        .then_some(d)
}
