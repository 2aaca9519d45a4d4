//! `drydock run`: build, load into the local engine, and run the service the way production
//! does: limits from drydock.toml, read-only root filesystem, all capabilities dropped,
//! no-new-privileges, the port bound to 127.0.0.1 only. Waits until the health probe passes
//! (or says why not, with the last log lines), streams the logs, and on Ctrl-C stops the
//! container gracefully and reports how it ended.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::image::helper::HELPER_PATH;
use crate::project::Project;
use crate::publish::Engine;
use crate::quantity::cpus_flag;
use crate::ui::Ui;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("no container engine answers: neither `docker info` nor `podman info` succeeded")]
    NoEngine,
    #[error("`{command}` failed: {output}")]
    Engine { command: String, output: String },
    #[error(
        "{name} exited with code {code} before it became healthy; its last log lines:\n{logs}"
    )]
    Exited {
        name: String,
        code: i64,
        logs: String,
    },
    #[error("{name} did not become healthy within {secs} s (last probe: {probe}); its last log lines:\n{logs}")]
    Unhealthy {
        name: String,
        secs: u64,
        probe: String,
        logs: String,
        path: String,
        port: u16,
    },
    #[error("cannot install the Ctrl-C handler: {0}")]
    Signal(String),
    #[error("-e {0:?}: not KEY=VALUE nor KEY")]
    BadEnv(String),
    #[error("-e {0}: {0} is not set in drydock's environment, so there is no value to pass")]
    UnsetEnv(String),
    #[error("-e {0}: its value holds a line break, which the engines' env files cannot carry")]
    MultilineEnv(String),
    #[error("cannot write the container's environment to a private file in {dir}: {source}")]
    EnvFile {
        dir: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("port {port} on 127.0.0.1 is already in use, so {engine} could not publish the service there")]
    PortInUse { port: u16, engine: &'static str },
    #[error("interrupted before {name} became healthy; the container was stopped and removed")]
    Interrupted { name: String },
}

impl RunError {
    /// What to do about it, shown after the message (see [`crate::error::Classify::fix`]).
    pub fn fix(&self) -> Option<String> {
        Some(match self {
            RunError::NoEngine => "start the Docker Engine, or install podman".into(),
            RunError::Unhealthy { path, port, .. } => {
                format!("check the logs above, the health path ({path}) and the port ({port})")
            }
            RunError::BadEnv { .. } => {
                "write -e KEY=VALUE, or -e KEY to pass KEY from your environment".into()
            }
            RunError::UnsetEnv(v0, ..) => {
                format!("export {v0} before running drydock (or write -e {v0}=VALUE)")
            }
            RunError::MultilineEnv { .. } => {
                "give the container that value as a file (a secret or a mounted file) instead"
                    .into()
            }
            RunError::PortInUse { port, .. } => {
                format!("pick another with --host-port PORT, or stop what listens on {port}")
            }
            _ => return None,
        })
    }
}

pub struct RunOptions {
    pub engine: Engine,
    pub image: String,
    pub host_port: u16,
    /// KEY, VALUE pairs; the values never reach a command line (see [`EnvFile`]).
    pub env: Vec<(String, String)>,
    pub wait: Duration,
}

/// The engine to use: the one asked for, else Docker when it answers, else podman. The second
/// value is a warning when drydock fell back to podman.
pub fn pick_engine(asked: Option<Engine>) -> Result<(Engine, Option<String>), RunError> {
    if let Some(e) = asked {
        return Ok((e, None));
    }
    let answers = |e: Engine| {
        Command::new(e.program())
            .arg("info")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if answers(Engine::Docker) {
        return Ok((Engine::Docker, None));
    }
    if answers(Engine::Podman) {
        let why = match std::env::var("DOCKER_HOST") {
            Ok(h) if !h.is_empty() => format!("Docker does not answer at DOCKER_HOST={h}"),
            _ => "Docker does not answer".into(),
        };
        return Ok((
            Engine::Podman,
            Some(format!(
                "{why}; using podman instead (pass --engine docker to insist, or fix DOCKER_HOST)"
            )),
        ));
    }
    Err(RunError::NoEngine)
}

/// `-e KEY=VALUE` as is; `-e KEY` takes KEY from drydock's own environment, and is an error when
/// KEY is not set there (passing nothing silently would start the app without it).
pub fn resolve_env(specs: &[String]) -> Result<Vec<(String, String)>, RunError> {
    specs
        .iter()
        .map(|s| {
            let (k, v) = match s.split_once('=') {
                Some((k, v)) => (k, Some(v.to_string())),
                None => (s.as_str(), None),
            };
            if k.is_empty() || k.starts_with('#') || k.chars().any(|c| c.is_whitespace()) {
                return Err(RunError::BadEnv(redact_env_spec(s)));
            }
            let v = match v {
                Some(v) => v,
                None => std::env::var(k).map_err(|_| RunError::UnsetEnv(k.to_string()))?,
            };
            if v.contains(['\n', '\r', '\0']) {
                return Err(RunError::MultilineEnv(k.to_string()));
            }
            Ok((k.to_string(), v))
        })
        .collect()
}

/// `KEY=VALUE` shown as `KEY=…`: what an error may say about an environment entry.
fn redact_env_spec(s: &str) -> String {
    match s.split_once('=') {
        Some((k, _)) => format!("{k}=…"),
        None => s.to_string(),
    }
}

/// An engine command line as it may be printed: the value of every `-e`/`--env KEY=VALUE`
/// replaced with `…`, so no error or note ever shows one.
pub fn redact_command(program: &str, args: &[&str]) -> String {
    let mut out = vec![program.to_string()];
    let mut after_env = false;
    for a in args {
        let shown = if after_env {
            redact_env_spec(a)
        } else if let Some(spec) = a.strip_prefix("--env=").or_else(|| a.strip_prefix("-e=")) {
            format!(
                "{}={}",
                &a[..a.len() - spec.len() - 1],
                redact_env_spec(spec)
            )
        } else {
            a.to_string()
        };
        after_env = matches!(*a, "-e" | "--env");
        out.push(shown);
    }
    out.join(" ")
}

/// The container's environment in a file only its owner can read (0600, in a fresh 0700
/// directory), given to the engine with `--env-file`: the values never appear on a command line,
/// where every user sees them in `ps`. The file is removed when this is dropped — after the
/// engine created the container, on an error, or when Ctrl-C unwinds `run` — and the directory
/// with it.
pub struct EnvFile {
    dir: tempfile::TempDir,
}

impl EnvFile {
    pub fn write(env: &[(String, String)]) -> Result<EnvFile, RunError> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let base = std::env::temp_dir();
        let io = |source| RunError::EnvFile {
            dir: base.clone(),
            source,
        };
        // TempDir is created 0700.
        let dir = tempfile::Builder::new()
            .prefix("drydock-env-")
            .tempdir_in(&base)
            .map_err(io)?;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(dir.path().join("env"))
            .map_err(io)?;
        let mut text = String::new();
        for (k, v) in env {
            text.push_str(&format!("{k}={v}\n"));
        }
        f.write_all(text.as_bytes()).map_err(io)?;
        f.sync_all().map_err(io)?;
        Ok(EnvFile { dir })
    }

    pub fn path(&self) -> std::path::PathBuf {
        self.dir.path().join("env")
    }
}

pub(crate) fn engine_cmd(engine: Engine, args: &[&str]) -> Result<String, RunError> {
    let command = || redact_command(engine.program(), args);
    let out = Command::new(engine.program())
        .args(args)
        .process_group(0)
        .output()
        .map_err(|e| RunError::Engine {
            command: command(),
            output: e.to_string(),
        })?;
    if !out.status.success() {
        return Err(RunError::Engine {
            command: command(),
            output: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

pub(crate) fn last_logs(engine: Engine, id: &str) -> String {
    let out = Command::new(engine.program())
        .args(["logs", "--tail", "20", id])
        .output();
    out.map(|o| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
    .unwrap_or_default()
    .trim_end()
    .to_string()
}

/// A container `run` started: its name, its id, the `logs -f` stream that shows its output, and
/// the host port its service is published on.
pub(crate) struct Started {
    pub(crate) name: String,
    pub(crate) id: String,
    pub(crate) logs: Option<Child>,
    pub(crate) host_port: u16,
    /// Published on a port of its own (a forwarder in front holds the user's port).
    pub(crate) own_port: bool,
}

/// Where [`start`] publishes the service port, always on 127.0.0.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Publish {
    /// The port the user is given (`opts.host_port`).
    HostPort,
    /// A free port the engine picks, read back after the start: `run --watch` forwards the
    /// user's port to it, so two containers can serve at once during a replacement.
    AnyPort,
}

/// Starts `name` from `opts.image` with production's limits, the port published on 127.0.0.1
/// only, and streams its logs.
pub(crate) fn start(
    project: &Project,
    opts: &RunOptions,
    name: &str,
    publish: Publish,
    ui: &Ui,
) -> Result<Started, RunError> {
    let engine = opts.engine;
    let r = &project.runtime.resources;
    let memory = format!("{}b", r.memory_limit);
    let cpus = cpus_flag(r.cpu_limit_milli);
    let published = match publish {
        Publish::HostPort => format!("127.0.0.1:{}:{}", opts.host_port, project.port),
        Publish::AnyPort => format!("127.0.0.1::{}", project.port),
    };
    let mut args: Vec<String> = [
        "run",
        "-d",
        "--name",
        name,
        "--read-only",
        "--tmpfs",
        "/tmp:rw,mode=1777,size=64m",
        "--cap-drop",
        "ALL",
        "--security-opt",
        "no-new-privileges",
        "--memory",
        &memory,
        "--cpus",
        &cpus,
        "-p",
        &published,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // Removed as soon as the engine has read it (the container holds its own copy), or when
    // this function returns early.
    let env_file = if opts.env.is_empty() {
        None
    } else {
        Some(EnvFile::write(&opts.env)?)
    };
    if let Some(f) = &env_file {
        args.push("--env-file".into());
        args.push(f.path().to_string_lossy().into_owned());
    }
    args.push(opts.image.clone());
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let created = engine_cmd(engine, &argv);
    drop(env_file);
    let id = match created {
        Ok(id) => id,
        Err(e) => {
            // A failed `run -d` can leave the container behind in "Created".
            let _ = engine_cmd(engine, &["rm", "-f", name]);
            return Err(match e {
                RunError::Engine { output, .. } if port_taken(&output) => RunError::PortInUse {
                    port: opts.host_port,
                    engine: engine.program(),
                },
                e => e,
            });
        }
    };
    let host_port = match publish {
        Publish::HostPort => opts.host_port,
        Publish::AnyPort => match published_port(engine, &id, project.port) {
            Ok(p) => p,
            Err(e) => {
                // A container that exited at once has no port any more: say that instead.
                let (status, code) = state(engine, &id);
                let e = if status == "running" || status == "created" {
                    e
                } else {
                    RunError::Exited {
                        name: name.to_string(),
                        code,
                        logs: last_logs(engine, &id),
                    }
                };
                let _ = engine_cmd(engine, &["rm", "-f", &id]);
                return Err(e);
            }
        },
    };
    let on = match publish {
        Publish::HostPort => format!("http://127.0.0.1:{host_port}"),
        Publish::AnyPort => format!(
            "127.0.0.1:{host_port} (drydock forwards http://127.0.0.1:{} to it)",
            opts.host_port
        ),
    };
    ui.note(&format!(
        "started {name} ({}, --cpus {cpus} --memory {}, read-only, no capabilities) on {on}",
        engine.program(),
        memory
    ));
    let logs = follow_logs(engine, &id, None);
    Ok(Started {
        name: name.to_string(),
        id,
        logs,
        host_port,
        own_port: publish == Publish::AnyPort,
    })
}

/// The host port the engine published a container's `port`/tcp on: `docker port` and
/// `podman port` print `127.0.0.1:49153`.
fn published_port(engine: Engine, id: &str, port: u16) -> Result<u16, RunError> {
    let out = engine_cmd(engine, &["port", id, &format!("{port}/tcp")])?;
    parse_port_line(&out).ok_or_else(|| RunError::Engine {
        command: format!("{} port {id} {port}/tcp", engine.program()),
        output: format!("no 127.0.0.1 port in its answer: {out:?}"),
    })
}

fn parse_port_line(out: &str) -> Option<u16> {
    out.lines()
        .filter_map(|l| l.trim().strip_prefix("127.0.0.1:"))
        .find_map(|p| p.parse().ok())
}

/// Streams a container's output (from `since`, in Unix seconds, when given) until it ends.
pub(crate) fn follow_logs(engine: Engine, id: &str, since: Option<u64>) -> Option<Child> {
    let mut cmd = Command::new(engine.program());
    cmd.args(["logs", "-f"]);
    if let Some(t) = since {
        cmd.args(["--since", &t.to_string()]);
    }
    // Its own process group, so the terminal's Ctrl-C does not end the stream before the
    // app's shutdown lines are shown.
    cmd.arg(id)
        .stdin(Stdio::null())
        .process_group(0)
        .spawn()
        .ok()
}

/// The app's own drain time ([lifecycle] shutdown_grace), as in production; the engines take
/// whole seconds.
fn grace_secs(project: &Project) -> u64 {
    project.runtime.shutdown_grace.as_secs_f64().ceil().max(1.0) as u64
}

/// Stops the container gracefully when it runs (SIGTERM, then SIGKILL after the grace period);
/// it stays, stopped, until [`remove`].
pub(crate) fn stop_gracefully(engine: Engine, project: &Project, c: &Started, ui: &Ui) {
    let grace = grace_secs(project);
    if state(engine, &c.id).0 == "running" {
        ui.note(&format!(
            "stopping {}: SIGTERM, then SIGKILL after {grace} s",
            c.name
        ));
        let _ = engine_cmd(engine, &["stop", "-t", &grace.to_string(), &c.id]);
    }
}

/// Removes a container (stopped or not) and ends its log stream; returns its exit code.
pub(crate) fn remove(engine: Engine, mut c: Started) -> i64 {
    let (_, code) = state(engine, &c.id);
    finish_logs(&mut c.logs);
    let _ = engine_cmd(engine, &["rm", "-f", &c.id]);
    code
}

/// Runs until the container exits or the user interrupts; returns drydock's exit code.
pub fn run(project: &Project, opts: &RunOptions, ui: &Ui) -> Result<u8, RunError> {
    let stop = Arc::new(AtomicBool::new(false));
    // Ctrl-C stops the container gracefully here, instead of ending drydock at once.
    let _handled_here = crate::interrupt::handle_here(stop.clone());
    let engine = opts.engine;
    let name = format!("drydock-{}-{}", project.name, std::process::id());
    let c = start(project, opts, &name, Publish::HostPort, ui)?;
    let id = c.id.clone();
    let result = wait_healthy(project, opts, &c, &stop, ui).and_then(|stopped_early| {
        if stopped_early {
            return Err(RunError::Interrupted { name: name.clone() });
        }
        ui.note(&format!(
            "{} is healthy on http://127.0.0.1:{}{} (Ctrl-C stops it)",
            project.name, opts.host_port, project.image.health.path
        ));
        while !stop.load(Ordering::SeqCst) {
            if state(engine, &id).0 != "running" {
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Ok(())
    });
    stop_gracefully(engine, project, &c, ui);
    let code = remove(engine, c);
    result?;
    ui.note(&format!("{name} exited with code {code}"));
    Ok(if code == 0 { 0 } else { 1 })
}

pub(crate) fn finish_logs(logs: &mut Option<Child>) {
    if let Some(mut c) = logs.take() {
        // `logs -f` ends when the container does; give it a moment to flush, then stop it.
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if c.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = c.kill();
        let _ = c.wait();
    }
}

/// What Docker and podman say when the host port is taken.
fn port_taken(output: &str) -> bool {
    let o = output.to_ascii_lowercase();
    o.contains("address already in use") || o.contains("port is already allocated")
}

/// (status, exit code) of a container.
pub(crate) fn state(engine: Engine, id: &str) -> (String, i64) {
    let s = engine_cmd(
        engine,
        &[
            "inspect",
            "--format",
            "{{.State.Status}} {{.State.ExitCode}}",
            id,
        ],
    )
    .unwrap_or_default();
    let mut it = s.split_whitespace();
    (
        it.next().unwrap_or("gone").to_string(),
        it.next().and_then(|c| c.parse().ok()).unwrap_or(-1),
    )
}

/// Polls the same probe the image's health check runs, inside the container; or, for a
/// container published on a port of its own, the same request from the host through that port,
/// the way the forwarder will reach it (no `exec` per probe, so it can poll often). Returns
/// true when the user interrupted before the service became healthy.
pub(crate) fn wait_healthy(
    project: &Project,
    opts: &RunOptions,
    c: &Started,
    stop: &AtomicBool,
    ui: &Ui,
) -> Result<bool, RunError> {
    let engine = opts.engine;
    let (id, name) = (c.id.as_str(), c.name.as_str());
    let from_host = c.own_port || !project.image.helper;
    let pause = if c.own_port {
        Duration::from_millis(50)
    } else {
        Duration::from_millis(300)
    };
    let start = Instant::now();
    let url = format!(
        "http://127.0.0.1:{}{}",
        project.port, project.image.health.path
    );
    let step = ui.step(&format!("waiting for {url} to answer"));
    let mut probe = String::from("none yet");
    // Whether the container still runs, asked of the engine at most this often: an `inspect`
    // costs more than a probe from the host.
    let mut inspected: Option<Instant> = None;
    loop {
        if stop.load(Ordering::SeqCst) {
            return Ok(true);
        }
        if inspected.is_none_or(|t| t.elapsed() >= Duration::from_millis(300)) {
            inspected = Some(Instant::now());
            let (status, code) = state(engine, id);
            if status != "running" && status != "created" {
                drop(step);
                return Err(RunError::Exited {
                    name: name.to_string(),
                    code,
                    logs: last_logs(engine, id),
                });
            }
        }
        let ok = if !from_host {
            // Its own process group: the terminal's Ctrl-C is drydock's to handle, and must not
            // end a probe in a way that could read as a pass.
            let out = Command::new(engine.program())
                .args(["exec", id, HELPER_PATH, "probe", &url, "--timeout", "2s"])
                .process_group(0)
                .output();
            match out {
                Ok(o) => {
                    probe = String::from_utf8_lossy(&o.stdout).trim().to_string();
                    o.status.success()
                }
                Err(e) => {
                    probe = e.to_string();
                    false
                }
            }
        } else {
            host_probe(c.host_port, &project.image.health.path, &mut probe)
        };
        if stop.load(Ordering::SeqCst) {
            return Ok(true);
        }
        if ok {
            return Ok(false);
        }
        if start.elapsed() > opts.wait {
            drop(step);
            return Err(RunError::Unhealthy {
                name: name.to_string(),
                secs: opts.wait.as_secs(),
                probe,
                logs: last_logs(engine, id),
                path: project.image.health.path.clone(),
                port: project.port,
            });
        }
        std::thread::sleep(pause);
    }
}

/// Without the helper in the image, probe from the host through the published port.
pub fn host_probe(port: u16, path: &str, last: &mut String) -> bool {
    use std::io::{Read, Write};
    let attempt = || -> std::io::Result<u16> {
        let mut s = std::net::TcpStream::connect_timeout(
            &([127, 0, 0, 1], port).into(),
            Duration::from_secs(2),
        )?;
        s.set_read_timeout(Some(Duration::from_secs(2)))?;
        s.write_all(format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").as_bytes())?;
        let mut buf = [0u8; 32];
        let n = s.read(&mut buf)?;
        String::from_utf8_lossy(&buf[..n])
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| std::io::Error::other("not HTTP"))
    };
    match attempt() {
        Ok(code) => {
            *last = format!("GET {path} answered {code}");
            (200..400).contains(&code)
        }
        Err(e) => {
            *last = format!("GET {path}: {e}");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_ports_as_the_engines_print_them() {
        assert_eq!(parse_port_line("127.0.0.1:49153\n"), Some(49153));
        // Docker 20.10 prints one line per address family when both are bound.
        assert_eq!(parse_port_line("0.0.0.0:1\n127.0.0.1:40001"), Some(40001));
        assert_eq!(parse_port_line(""), None);
        assert_eq!(parse_port_line("127.0.0.1:x"), None);
    }

    #[test]
    fn command_lines_never_show_env_values() {
        let shown = redact_command(
            "docker",
            &[
                "run",
                "-e",
                "A=s3cret",
                "--env",
                "B=x=y",
                "--env=C=hidden",
                "-e",
                "D",
                "img",
            ],
        );
        assert_eq!(
            shown, "docker run -e A=… --env B=… --env=C=… -e D img",
            "{shown}"
        );
    }

    #[test]
    fn env_specs() {
        std::env::set_var("DRYDOCK_UNIT_SET", "v1");
        std::env::remove_var("DRYDOCK_UNIT_UNSET");
        assert_eq!(
            resolve_env(&["DRYDOCK_UNIT_SET".into(), "K=a=b".into()]).unwrap(),
            vec![
                ("DRYDOCK_UNIT_SET".to_string(), "v1".to_string()),
                ("K".to_string(), "a=b".to_string())
            ]
        );
        assert!(matches!(
            resolve_env(&["DRYDOCK_UNIT_UNSET".into()]),
            Err(RunError::UnsetEnv(k)) if k == "DRYDOCK_UNIT_UNSET"
        ));
        let e = resolve_env(&["=secretvalue".into()]).unwrap_err();
        assert!(!e.to_string().contains("secretvalue"), "{e}");
        assert!(matches!(
            resolve_env(&["K=line1\nline2".into()]),
            Err(RunError::MultilineEnv(_))
        ));
    }

    #[test]
    fn env_file_is_private_and_removed() {
        use std::os::unix::fs::PermissionsExt;
        let f = EnvFile::write(&[("A".into(), "1".into()), ("B".into(), "x y".into())]).unwrap();
        let p = f.path();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "A=1\nB=x y\n");
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        drop(f);
        assert!(!p.exists() && !p.parent().unwrap().exists());
    }
}
