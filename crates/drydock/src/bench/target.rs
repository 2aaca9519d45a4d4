//! Where the service under test runs, one way per mode, and how it is taken down again: the
//! binary as a process, the image in Docker or podman with the project's limits, the Compose
//! bundle of `drydock deploy --target compose` (nginx terminating TLS in front), and the Swarm
//! stack of `drydock deploy --target swarm` on a single-node swarm (made for the run when there
//! is none, and left again). Every mode publishes on 127.0.0.1 only.
//!
//! Whatever a mode starts is also registered with [`cleanup`], so that an interrupted bench
//! (Ctrl-C, SIGTERM) still removes its containers, bundles and swarm.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{BenchError, Mode};
use crate::deploy::{self, DeployImage, Tls};
use crate::project::Project;

/// A started service: where to reach it, and what it runs as.
pub struct Target {
    pub running: Running,
    /// The loopback port the load goes to (nginx's HTTPS port behind a proxy).
    pub port: u16,
    pub tls: Option<Arc<rustls::ClientConfig>>,
    pub notes: Vec<String>,
    /// The port the app was told to listen on: the `PORT` given to the process, the
    /// `[image] port` the engines publish.
    pub app_port: u16,
}

/// What a service that does not answer yet is doing.
#[derive(Debug, PartialEq)]
pub enum Liveness {
    /// It stopped: how (an exit status, a container restarting, with its last log lines).
    Gone(String),
    /// Its process (a container's: anything in its network namespace) listens on these TCP
    /// ports, none of them the one it was given.
    Elsewhere(Vec<u16>),
    /// It listens on the port it was given, or nothing yet, or it could not be seen.
    Starting,
}

pub enum Running {
    Process(Child),
    Container {
        engine: &'static str,
        id: String,
    },
    Compose {
        command: Vec<String>,
        dir: PathBuf,
        project: String,
        app: String,
        _bundle: tempfile::TempDir,
    },
    Stack {
        name: String,
        created_swarm: bool,
        /// `swarm init` made the docker_gwbridge network, which `swarm leave` keeps.
        created_gwbridge: bool,
        _bundle: tempfile::TempDir,
    },
    /// Taken down: what it started is gone (its bundle's directory too).
    Stopped,
}

/// What starting a mode needs besides the project.
pub struct Start<'a> {
    pub binary: &'a Path,
    pub image: &'a str,
    /// KEY=VALUE for the service, secrets' stand-ins included.
    pub env: &'a [String],
    /// Give the service core 1 (and the generator core 0).
    pub split: bool,
    pub replicas: u32,
}

fn err(mode: Mode, what: impl Into<String>) -> BenchError {
    BenchError::Mode {
        mode: format!("{mode:?}").to_lowercase(),
        what: what.into(),
        fix: None,
    }
}

/// Runs a command to its end; its stdout, or what it said on failure.
fn output(cmd: &mut Command) -> Result<String, String> {
    let shown = format!("{cmd:?}").replace('"', "");
    let o = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {shown}: {e}"))?;
    if o.status.success() {
        Ok(String::from_utf8_lossy(&o.stdout).trim().to_string())
    } else {
        Err(format!(
            "{shown} failed: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        ))
    }
}

fn docker(args: &[&str]) -> Result<String, String> {
    output(Command::new("docker").args(args))
}

pub fn inspect(engine: &str, id: &str, format: &str) -> Option<String> {
    output(Command::new(engine).args(["inspect", "--format", format, id])).ok()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(18080)
}

/// Does the command run and succeed (its output dropped)?
pub fn succeeds(c: &mut Command) -> bool {
    c.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// How Compose is run here: the Docker CLI plugin, else the standalone `docker-compose`.
pub fn compose_command() -> Option<Vec<String>> {
    if succeeds(Command::new("docker").args(["compose", "version"])) {
        Some(vec!["docker".into(), "compose".into()])
    } else if succeeds(Command::new("docker-compose").arg("version")) {
        Some(vec!["docker-compose".into()])
    } else {
        None
    }
}

/// The nginx image the bundles run: `NGINX_IMAGE`, as the bundles read it, else their default.
pub fn nginx_image() -> String {
    std::env::var("NGINX_IMAGE")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "nginx:1.27".into())
}

/// The swarm's state as this engine sees it (`inactive`, `active`, …).
pub fn swarm_state() -> Option<String> {
    docker(&["info", "--format", "{{.Swarm.LocalNodeState}}"]).ok()
}

impl Target {
    pub fn start(mode: Mode, p: &Project, s: &Start) -> Result<Target, BenchError> {
        match mode {
            Mode::Process => start_process(s),
            Mode::Docker | Mode::Podman => start_container(mode, p, s),
            Mode::Compose => start_compose(p, s),
            Mode::Swarm => start_stack(p, s),
        }
    }

    /// The host pids of the service's processes (the app, not a proxy; every replica's).
    pub fn pids(&self) -> Vec<u32> {
        self.running.containers().map_or_else(
            || match &self.running {
                Running::Process(c) => vec![c.id()],
                _ => Vec::new(),
            },
            |ids| {
                ids.iter()
                    .filter_map(|id| {
                        inspect(self.running.engine(), id, "{{.State.Pid}}")
                            .and_then(|p| p.parse().ok())
                            .filter(|p| *p > 0)
                    })
                    .collect()
            },
        )
    }
}

impl Target {
    /// Whether a service that has not answered yet is still on its way: stopped, or
    /// listening elsewhere than on the port it was given (an app that ignores `PORT`).
    pub fn liveness(&mut self) -> Liveness {
        if let Running::Process(c) = &mut self.running {
            if let Ok(Some(status)) = c.try_wait() {
                return Liveness::Gone(format!("the process exited ({status}) before answering"));
            }
        }
        if let Some(ids) = self.running.containers() {
            let engine = self.running.engine();
            for id in ids.iter().filter(|i| !i.is_empty()) {
                let state = inspect(engine, id, "{{.State.Status}} {{.RestartCount}}");
                let Some(state) = state else { continue };
                let mut f = state.split_whitespace();
                let (status, restarts) = (f.next().unwrap_or(""), f.next().unwrap_or("0"));
                // A restart or two can be a start-up race the restart policy is there for; an
                // exited container, or one restarting over and over, will not answer.
                let looping = restarts.parse::<u32>().unwrap_or(0) >= 3;
                if matches!(status, "exited" | "dead") || looping {
                    let logs = Command::new(engine)
                        .args(["logs", "--tail", "5", id])
                        .stdin(Stdio::null())
                        .output()
                        .map(|o| {
                            let mut all = String::from_utf8_lossy(&o.stdout).into_owned();
                            all.push_str(&String::from_utf8_lossy(&o.stderr));
                            all.trim().to_string()
                        })
                        .unwrap_or_default();
                    let logs = if logs.is_empty() {
                        String::new()
                    } else {
                        format!(
                            "; its last log lines:\n    {}",
                            logs.lines().collect::<Vec<_>>().join("\n    ")
                        )
                    };
                    return Liveness::Gone(format!(
                        "the container {} is {status} after {restarts} restarts{logs}",
                        &id[..id.len().min(12)]
                    ));
                }
            }
        }
        let own_netns = self.running.containers().is_some();
        let mut ports = Vec::new();
        for pid in self.pids() {
            match listening(pid, own_netns) {
                Some(p) => ports.extend(p),
                None => return Liveness::Starting,
            }
        }
        ports.sort_unstable();
        ports.dedup();
        if ports.is_empty() || ports.contains(&self.app_port) {
            Liveness::Starting
        } else {
            Liveness::Elsewhere(ports)
        }
    }
}

/// The TCP ports `pid` listens on, from /proc: with `whole_netns`, every listening socket of
/// its network namespace (a container's: what all its processes listen on); else only the
/// sockets among the process's own open files. `None` when /proc does not say.
pub fn listening(pid: u32, whole_netns: bool) -> Option<Vec<u16>> {
    let own: Option<std::collections::HashSet<u64>> = if whole_netns {
        None
    } else {
        let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?;
        Some(
            fds.flatten()
                .filter_map(|e| std::fs::read_link(e.path()).ok())
                .filter_map(|l| {
                    let l = l.to_string_lossy().into_owned();
                    l.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok()
                })
                .collect(),
        )
    };
    let mut ports = Vec::new();
    let mut read_any = false;
    for table in ["tcp", "tcp6"] {
        let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/net/{table}")) else {
            continue;
        };
        read_any = true;
        ports.extend(listening_in(&text, own.as_ref()));
    }
    read_any.then_some(ports)
}

/// The ports of the listening sockets (state 0A) in a /proc/net/tcp table, only those whose
/// inode is in `only` when it is given.
fn listening_in(table: &str, only: Option<&std::collections::HashSet<u64>>) -> Vec<u16> {
    table
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let (local, state, inode) = (f.get(1)?, f.get(3)?, f.get(9)?);
            if *state != "0A" {
                return None;
            }
            if let Some(only) = only {
                if !only.contains(&inode.parse().ok()?) {
                    return None;
                }
            }
            u16::from_str_radix(local.rsplit_once(':')?.1, 16).ok()
        })
        .collect()
}

impl Running {
    fn engine(&self) -> &'static str {
        match self {
            Running::Container { engine, .. } => engine,
            _ => "docker",
        }
    }

    /// The app's containers, for the modes that have them.
    pub fn containers(&self) -> Option<Vec<String>> {
        match self {
            Running::Process(_) => None,
            Running::Container { id, .. } => Some(vec![id.clone()]),
            Running::Compose { app, .. } => Some(vec![app.clone()]),
            Running::Stack { name, .. } => Some(stack_app_containers(name, false)),
            Running::Stopped => Some(Vec::new()),
        }
    }

    fn undo(&self) -> Vec<Undo> {
        match self {
            Running::Process(c) => vec![Undo::Kill(c.id())],
            Running::Container { engine, id } => vec![Undo::Run(
                vec![engine.to_string(), "rm".into(), "-f".into(), id.clone()],
                None,
            )],
            Running::Compose {
                command,
                dir,
                project,
                ..
            } => {
                let mut c = command.clone();
                c.extend(
                    [
                        "-p",
                        project,
                        "-f",
                        "compose.yaml",
                        "down",
                        "--volumes",
                        "--remove-orphans",
                        "--timeout",
                        "5",
                    ]
                    .map(String::from),
                );
                vec![Undo::Run(c, Some(dir.clone()))]
            }
            Running::Stack {
                name,
                created_swarm,
                created_gwbridge,
                ..
            } => {
                let mut u = vec![
                    Undo::docker(&["stack", "rm", name]),
                    Undo::StackGone(name.clone()),
                ];
                if *created_swarm {
                    u.push(Undo::docker(&["swarm", "leave", "--force"]));
                }
                if *created_gwbridge {
                    u.push(Undo::docker(&["network", "rm", "docker_gwbridge"]));
                }
                u
            }
            Running::Stopped => Vec::new(),
        }
    }

    /// Takes the mode down, once: a stopped mode is [`Running::Stopped`], and stopping it again
    /// (as dropping its [`Target`] does) does nothing. Undoing twice killed a pid that may have
    /// been reused, and left a swarm (or removed a `docker_gwbridge`) someone else may have
    /// made in between.
    pub fn stop(&mut self) {
        if let Running::Process(c) = self {
            let _ = c.kill();
            let _ = c.wait();
        }
        let undo = self.undo();
        cleanup::forget(&undo);
        for u in &undo {
            u.run();
        }
        // What is left of it (a bundle's directory) goes now, after the engine let go of it.
        *self = Running::Stopped;
    }
}

/// A target is taken down when it is dropped: at the end of its measurement, or when its
/// start fails half-way (a Compose bundle that did not come up, a stack not deployed).
impl Drop for Target {
    fn drop(&mut self) {
        self.running.stop();
    }
}

/// One step of taking a mode down.
#[derive(Debug, Clone, PartialEq)]
enum Undo {
    Kill(u32),
    /// A command, run in a directory.
    Run(Vec<String>, Option<PathBuf>),
    /// Wait (bounded) until a removed stack's containers and networks are gone, removing what
    /// is left at the end: `docker stack rm` returns before they are, and a swarm left too
    /// early keeps them.
    StackGone(String),
}

impl Undo {
    fn docker(args: &[&str]) -> Undo {
        let mut argv = vec!["docker".to_string()];
        argv.extend(args.iter().map(|a| a.to_string()));
        Undo::Run(argv, None)
    }

    fn run(&self) {
        match self {
            Undo::Kill(pid) => {
                // SAFETY: sending a signal has no memory-safety preconditions.
                unsafe {
                    libc::kill(*pid as i32, libc::SIGKILL);
                }
            }
            Undo::Run(argv, dir) => {
                let mut c = Command::new(&argv[0]);
                c.args(&argv[1..])
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null());
                if let Some(d) = dir {
                    c.current_dir(d);
                }
                let _ = c.status();
            }
            Undo::StackGone(name) => {
                let label = format!("label=com.docker.stack.namespace={name}");
                let left = |what: &[&str]| -> Vec<String> {
                    docker(&[what, &["-q", "--filter", &label]].concat())
                        .map(|o| o.lines().map(str::to_string).collect())
                        .unwrap_or_default()
                };
                let deadline = Instant::now() + STACK_GONE;
                loop {
                    let (containers, networks) = (left(&["ps", "-a"]), left(&["network", "ls"]));
                    if containers.is_empty() && networks.is_empty() {
                        return;
                    }
                    if Instant::now() >= deadline {
                        // Swarm did not finish on a busy machine: what is left goes by hand,
                        // since a swarm left now would keep it.
                        for c in &containers {
                            let _ = docker(&["rm", "-f", c]);
                        }
                        for n in &networks {
                            let _ = docker(&["network", "rm", n]);
                        }
                        return;
                    }
                    if containers.is_empty() {
                        // A network `stack rm` could not remove (a task still attached to it)
                        // is not tried again by it: once the tasks are gone, it goes.
                        for n in &networks {
                            let _ = docker(&["network", "rm", n]);
                        }
                    }
                    std::thread::sleep(Duration::from_millis(500));
                }
            }
        }
    }
}

/// How long a removed stack's tasks may take to go before what is left is removed by hand: each
/// task stops within its grace period, but on a busy machine the engine is slow to get to them.
const STACK_GONE: Duration = Duration::from_secs(120);

/// What to undo if bench is interrupted: each started mode registers its steps, and forgets
/// them once it has taken itself down.
pub mod cleanup {
    use super::*;

    static PENDING: Mutex<Vec<Undo>> = Mutex::new(Vec::new());

    pub(super) fn remember(undo: &[Undo]) {
        if let Ok(mut p) = PENDING.lock() {
            p.extend_from_slice(undo);
        }
    }

    pub(super) fn forget(undo: &[Undo]) {
        if let Ok(mut p) = PENDING.lock() {
            p.retain(|u| !undo.contains(u));
        }
    }

    /// On SIGINT or SIGTERM: undo whatever is still running (then drydock exits 130).
    pub fn on_interrupt() {
        crate::interrupt::at_interrupt(|| {
            let pending = PENDING
                .lock()
                .map(|mut p| std::mem::take(&mut *p))
                .unwrap_or_default();
            if !pending.is_empty() {
                eprintln!("drydock bench: interrupted; removing what it started");
            }
            for u in &pending {
                u.run();
            }
        })
        .forever();
    }
}

fn started(
    running: Running,
    port: u16,
    app_port: u16,
    tls: Option<Arc<rustls::ClientConfig>>,
    notes: Vec<String>,
) -> Target {
    cleanup::remember(&running.undo());
    Target {
        running,
        port,
        tls,
        notes,
        app_port,
    }
}

fn start_process(s: &Start) -> Result<Target, BenchError> {
    let port = free_port();
    let mut notes = Vec::new();
    let mut cmd = if s.split && Command::new("taskset").arg("--version").output().is_ok() {
        let mut c = Command::new("taskset");
        c.args(["-c", "1"]).arg(s.binary);
        notes.push("service on core 1 (taskset), generator on core 0".into());
        c
    } else {
        Command::new(s.binary)
    };
    cmd.envs(s.env.iter().filter_map(|e| e.split_once('=')))
        .env("PORT", port.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let child = cmd.spawn().map_err(|e| {
        err(
            Mode::Process,
            format!("cannot start {}: {e}", s.binary.display()),
        )
    })?;
    Ok(started(Running::Process(child), port, port, None, notes))
}

fn start_container(mode: Mode, p: &Project, s: &Start) -> Result<Target, BenchError> {
    let prog = if mode == Mode::Docker {
        "docker"
    } else {
        "podman"
    };
    let port = free_port();
    let mut notes = Vec::new();
    let r = &p.runtime.resources;
    let name = format!("drydock-bench-{}-{prog}", std::process::id());
    let label = format!("drydock.bench={}", std::process::id());
    let mut args: Vec<String> = [
        "run",
        "-d",
        "--name",
        &name,
        "--label",
        &label,
        "--restart",
        "always",
        "--cpus",
        &crate::quantity::cpus_flag(r.cpu_limit_milli),
        "--memory",
        &format!("{}b", r.memory_limit),
        "--read-only",
        "--tmpfs",
        "/tmp",
        "--cap-drop",
        "ALL",
        "--security-opt",
        "no-new-privileges",
        "-p",
        &format!("127.0.0.1:{port}:{}", p.port),
    ]
    .map(String::from)
    .to_vec();
    if s.split {
        args.extend(["--cpuset-cpus".into(), "1".into()]);
        notes.push("service on core 1 (--cpuset-cpus), generator on core 0".into());
    }
    // Values go to the engine in a 0600 file, never on its command line (`ps` shows those);
    // the file lives until the container is created.
    let pairs: Vec<(String, String)> = s
        .env
        .iter()
        .filter_map(|e| e.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let env_file = crate::run::EnvFile::write(&pairs).map_err(|e| err(mode, e.to_string()))?;
    args.extend(["--env-file".into(), env_file.path().display().to_string()]);
    // podman names images it loaded without a registry `localhost/…`.
    let first = s.image.split('/').next().unwrap_or("");
    let has_registry =
        s.image.contains('/') && (first.contains(['.', ':']) || first == "localhost");
    args.push(if mode == Mode::Podman && !has_registry {
        format!("localhost/{}", s.image)
    } else {
        s.image.to_string()
    });
    let id = output(Command::new(prog).args(&args)).map_err(|e| err(mode, e))?;
    drop(env_file);
    Ok(started(
        Running::Container { engine: prog, id },
        port,
        p.port,
        None,
        notes,
    ))
}

/// A bundle of `drydock deploy` for `target`, written into a new temporary directory, with the
/// secrets' files filled from the environment given (or stand-ins).
fn bundle(
    mode: Mode,
    p: &Project,
    s: &Start,
    target: deploy::Target,
) -> Result<(tempfile::TempDir, PathBuf, Arc<rustls::ClientConfig>), BenchError> {
    let mut p = p.clone();
    p.deploy.scaling.min_replicas = s.replicas;
    let mut secrets = Vec::new();
    for e in s.env {
        let Some((k, v)) = e.split_once('=') else {
            continue;
        };
        match p.deploy.secrets.iter().find(|x| x.env == k) {
            Some(sec) => secrets.push((sec.key.clone(), v.to_string())),
            None => {
                p.image.env.insert(k.to_string(), v.to_string());
            }
        }
    }
    let tmp = tempfile::Builder::new()
        .prefix("drydock-bench-")
        .tempdir()
        .map_err(|e| err(mode, format!("a temporary directory: {e}")))?;
    let image = DeployImage {
        reference: s.image.to_string(),
        local: s.image.to_string(),
        digest: None,
    };
    deploy::deploy(&p, &image, &[target], tmp.path(), Tls::SelfSigned, false)
        .map_err(|e| err(mode, e.to_string()))?;
    let dir = tmp.path().join(if target == deploy::Target::Swarm {
        "swarm"
    } else {
        "compose"
    });
    let sdir = dir.join("secrets");
    std::fs::create_dir_all(&sdir).map_err(|e| err(mode, format!("{}: {e}", sdir.display())))?;
    for (key, value) in secrets {
        let f = sdir.join(&key);
        std::fs::write(&f, value).map_err(|e| err(mode, format!("{}: {e}", f.display())))?;
    }
    let crt = dir.join("certs/tls.crt");
    let pem = std::fs::read(&crt).map_err(|e| err(mode, format!("{}: {e}", crt.display())))?;
    let tls =
        super::load::pinned_tls(&pem).map_err(|e| err(mode, format!("{}: {e}", crt.display())))?;
    Ok((tmp, dir, tls))
}

fn start_compose(p: &Project, s: &Start) -> Result<Target, BenchError> {
    let command = compose_command().ok_or_else(|| {
        err(
            Mode::Compose,
            "neither `docker compose` nor `docker-compose` runs here",
        )
    })?;
    let (tmp, dir, tls) = bundle(Mode::Compose, p, s, deploy::Target::Compose)?;
    let (https, http) = (free_port(), free_port());
    let project = format!("drydock-bench-{}", std::process::id());
    let compose = |args: &[&str]| {
        let mut c = Command::new(&command[0]);
        c.args(&command[1..])
            .args(["-p", &project, "-f", "compose.yaml"])
            .args(args)
            .current_dir(&dir)
            .env("NGINX_IMAGE", nginx_image())
            .env("BIND_ADDRESS", "127.0.0.1")
            .env("HTTPS_PORT", https.to_string())
            .env("HTTP_PORT", http.to_string());
        output(&mut c)
    };
    // Registered (and a target) before `up`, so that a half-started bundle is taken down too,
    // by an interrupt or by dropping the target when `up` fails.
    let mut t = started(
        Running::Compose {
            command: command.clone(),
            dir: dir.clone(),
            project: project.clone(),
            app: String::new(),
            _bundle: tmp,
        },
        https,
        p.port,
        Some(tls),
        vec![format!(
            "through nginx ({}) terminating TLS, the generator trusting only the bundle's certificate",
            nginx_image()
        )],
    );
    compose(&["up", "-d"]).map_err(|e| err(Mode::Compose, e))?;
    let app = compose(&["ps", "-q", "app"]).map_err(|e| err(Mode::Compose, e))?;
    let proxy = compose(&["ps", "-q", "proxy"]).unwrap_or_default();
    if let Running::Compose { app: a, .. } = &mut t.running {
        *a = app.clone();
    }
    if s.split {
        let pinned = [app.as_str(), proxy.as_str()]
            .iter()
            .filter(|id| !id.is_empty())
            .all(|id| docker(&["update", "--cpuset-cpus", "1", id]).is_ok());
        if pinned {
            t.notes.push(
                "app and nginx on core 1 (docker update --cpuset-cpus), generator on core 0".into(),
            );
        }
    }
    Ok(t)
}

/// The app's task containers of a stack: running ones, or only healthy ones.
pub fn stack_app_containers(stack: &str, healthy: bool) -> Vec<String> {
    let service = format!("label=com.docker.swarm.service.name={stack}_app");
    let mut args = vec!["ps", "-q", "--filter", &service];
    if healthy {
        args.extend(["--filter", "health=healthy"]);
    }
    docker(&args)
        .map(|o| o.lines().map(str::to_string).collect())
        .unwrap_or_default()
}

/// What Swarm says of a stack's tasks (`docker stack ps`), for a stack that does not become
/// healthy: each task's state and error (a port in use, no node with the resources, …), as
/// `; Swarm's tasks: …` or nothing when Swarm does not say.
pub fn stack_tasks(stack: &str) -> String {
    let tasks = docker(&[
        "stack",
        "ps",
        "--no-trunc",
        "--format",
        "{{.Name}} {{.CurrentState}} {{.Error}}",
        stack,
    ])
    .unwrap_or_default();
    let lines: Vec<&str> = tasks
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(8)
        .collect();
    if lines.is_empty() {
        String::new()
    } else {
        format!("; Swarm's tasks:\n    {}", lines.join("\n    "))
    }
}

fn start_stack(p: &Project, s: &Start) -> Result<Target, BenchError> {
    let state =
        swarm_state().ok_or_else(|| err(Mode::Swarm, "the Docker Engine does not answer"))?;
    let had_gwbridge = docker(&["network", "inspect", "docker_gwbridge"]).is_ok();
    let created_swarm = match state.as_str() {
        "active" => false,
        "inactive" => {
            docker(&["swarm", "init", "--advertise-addr", "127.0.0.1"])
                .map_err(|e| err(Mode::Swarm, e))?;
            true
        }
        other => {
            return Err(err(
                Mode::Swarm,
                format!("this node's swarm is {other}: bench runs on an active swarm or makes one where there is none"),
            ))
        }
    };
    let name = format!("drydock-bench-{}", std::process::id());
    let made = match bundle(Mode::Swarm, p, s, deploy::Target::Swarm) {
        Ok(b) => b,
        Err(e) => {
            if created_swarm {
                let _ = docker(&["swarm", "leave", "--force"]);
                if !had_gwbridge {
                    let _ = docker(&["network", "rm", "docker_gwbridge"]);
                }
            }
            return Err(e);
        }
    };
    let (tmp, dir, tls) = made;
    let (https, http) = (free_port(), free_port());
    let notes = vec![
        format!(
            "{} replicas on a single-node swarm{}, through nginx ({}) in host mode reaching them by Swarm's DNS; CPU and memory are the replicas' together",
            s.replicas,
            if created_swarm { " made for the run and left after it" } else { "" },
            nginx_image()
        ),
    ];
    // A target before `stack deploy`: a deploy that fails takes down what it made, and the swarm.
    let t = started(
        Running::Stack {
            name: name.clone(),
            created_swarm,
            created_gwbridge: created_swarm && !had_gwbridge,
            _bundle: tmp,
        },
        https,
        p.port,
        Some(tls),
        notes,
    );
    output(
        Command::new("docker")
            .args([
                "stack",
                "deploy",
                "--resolve-image",
                "never",
                "-c",
                "stack.yaml",
                &name,
            ])
            .current_dir(&dir)
            .env("NGINX_IMAGE", nginx_image())
            .env("HTTPS_PORT", https.to_string())
            .env("HTTP_PORT", http.to_string()),
    )
    .map_err(|e| err(Mode::Swarm, e))?;
    Ok(t)
}

/// Pins a stack's containers (the app's replicas and nginx) to core 1, once they run: Swarm
/// has no cpuset of its own. Says whether every one was pinned.
pub fn pin_stack(stack: &str) -> bool {
    let label = format!("label=com.docker.stack.namespace={stack}");
    let ids = docker(&["ps", "-q", "--filter", &label]).unwrap_or_default();
    let ids: Vec<&str> = ids.lines().collect();
    !ids.is_empty()
        && ids
            .iter()
            .all(|id| docker(&["update", "--cpuset-cpus", "1", id]).is_ok())
}

/// The tag of the image a rolling update goes to.
pub fn updated_image_tag(project: &str) -> String {
    format!("drydock-bench/{project}:update-{}", std::process::id())
}

/// A new image for a rolling update: the same image committed with one more label, so that
/// its ID differs (and Swarm really replaces every task), made offline from the local engine.
pub fn updated_image(image: &str, project: &str) -> Result<String, String> {
    let tag = updated_image_tag(project);
    let cid = docker(&["create", image])?;
    let made = docker(&[
        "commit",
        "--change",
        &format!("LABEL drydock.bench.update=\"{}\"", std::process::id()),
        &cid,
        &tag,
    ]);
    let _ = docker(&["rm", "-f", &cid]);
    made.map(|_| tag)
}

/// Starts a rolling update of `service` to `image` (without asking a registry for it).
pub fn update_service(service: &str, image: &str) -> Result<(), String> {
    docker(&[
        "service",
        "update",
        "--detach",
        "--no-resolve-image",
        "--image",
        image,
        service,
    ])
    .map(|_| ())
}

/// The state of a service's last update, empty before Swarm reports one.
pub fn update_state(service: &str) -> String {
    docker(&[
        "service",
        "inspect",
        "--format",
        "{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}",
        service,
    ])
    .unwrap_or_default()
}

/// Removes an image bench made.
pub fn remove_image(tag: &str) {
    let _ = docker(&["rmi", "-f", tag]);
}

/// Does `engine` hold an image by this name?
pub fn has_image(engine: &str, image: &str) -> bool {
    succeeds(Command::new(engine).args(["image", "inspect", image]))
}

/// The tag bench loads its image under, taken out of `engine` again when bench ends (or is
/// interrupted): only the tag goes, an image with other tags stays.
pub struct BenchTag {
    undo: Undo,
}

impl BenchTag {
    /// Registers the tag for removal (also on Ctrl-C) before it is loaded.
    pub fn new(engine: &str, tag: &str) -> BenchTag {
        let undo = Undo::Run(
            vec![engine.to_string(), "rmi".into(), tag.to_string()],
            None,
        );
        cleanup::remember(std::slice::from_ref(&undo));
        BenchTag { undo }
    }
}

impl Drop for BenchTag {
    fn drop(&mut self) {
        cleanup::forget(std::slice::from_ref(&self.undo));
        self.undo.run();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listening_sockets_are_read_from_proc() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 111 1 0 100 0 0 10 0\n   1: 0100007F:1F91 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 222 1 0 100 0 0 10 0\n";
        assert_eq!(
            listening_in(table, None),
            vec![8080],
            "only LISTEN (0A) sockets"
        );
        let only: std::collections::HashSet<u64> = [999].into();
        assert!(
            listening_in(table, Some(&only)).is_empty(),
            "not this process's socket"
        );
        // This process, for real: a socket it listens on is among its own, and one it only
        // connects from is not.
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let mine = listening(std::process::id(), false).unwrap();
        assert!(mine.contains(&port), "{port} in {mine:?}");
        drop(l);
        let mine = listening(std::process::id(), false).unwrap();
        assert!(!mine.contains(&port), "{port} closed: {mine:?}");
    }
}
