//! `drydock bench`: the brief's deployment comparison, measured on the user's own service and
//! machine in one run: the binary as a bare process (what a VM runs) and the image in Docker and
//! podman with the project's limits. Per mode: cold start (start to the first healthy answer),
//! latency percentiles and throughput at a fixed rate (open loop) and at maximum (closed loop),
//! errors by kind, the service's CPU time and peak memory (its cgroup, or /proc for the
//! process), the image size, and fault recovery: the service killed with SIGKILL under load,
//! then the time until it serves again and the requests that failed meanwhile, under each
//! engine's own mechanism (a restart policy for the engines; none for a bare process, which is
//! the brief's point). On a machine with two cores or more, the service gets core 1 and the
//! generator core 0.

pub mod load;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::project::Project;
use crate::publish::Engine;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Process,
    Docker,
    Podman,
}

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("{mode}: {what}")]
    Mode { mode: String, what: String },
    #[error("{0}")]
    Usage(String),
}

#[derive(Debug, Clone)]
pub struct BenchOptions {
    pub modes: Vec<Mode>,
    pub path: String,
    pub rate: u64,
    pub connections: usize,
    pub duration: Duration,
    pub warmup: Duration,
    pub env: Vec<String>,
    pub fault: bool,
}

#[derive(Debug, Serialize)]
pub struct Recovery {
    /// Milliseconds from the kill to the next successful answer; `None`: it never came back.
    pub serving_again_ms: Option<f64>,
    pub failed_requests: u64,
    pub how: &'static str,
}

#[derive(Debug, Serialize)]
pub struct ModeReport {
    pub mode: Mode,
    pub cold_start_ms: f64,
    pub fixed_rate: load::Outcome,
    pub max: load::Outcome,
    /// CPU the service used during the two loads, in cores, on average.
    pub service_cpu: f64,
    pub peak_memory_bytes: u64,
    pub image_size_bytes: Option<u64>,
    pub recovery: Option<Recovery>,
    pub notes: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct BenchReport {
    pub project: String,
    pub path: String,
    pub rate: u64,
    pub connections: usize,
    pub cores: usize,
    pub modes: Vec<ModeReport>,
}

/// A running service under test.
enum Running {
    Process(Child),
    Container { engine: &'static str, id: String },
}

impl Running {
    /// The host pid of the service's main process.
    fn pid(&self) -> Option<u32> {
        match self {
            Running::Process(c) => Some(c.id()),
            Running::Container { engine, id } => inspect(engine, id, "{{.State.Pid}}")
                .and_then(|p| p.parse().ok())
                .filter(|p| *p > 0),
        }
    }

    fn stop(&mut self) {
        match self {
            Running::Process(c) => {
                let _ = c.kill();
                let _ = c.wait();
            }
            Running::Container { engine, id } => {
                let _ = Command::new(*engine)
                    .args(["rm", "-f", id.as_str()])
                    .output();
            }
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}

fn inspect(engine: &str, id: &str, format: &str) -> Option<String> {
    let o = Command::new(engine)
        .args(["inspect", "--format", format, id])
        .output()
        .ok()?;
    o.status
        .success()
        .then(|| String::from_utf8_lossy(&o.stdout).trim().to_string())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(18080)
}

/// CPU seconds and peak memory of the service: its cgroup when it has its own (v2, then v1),
/// else the process from /proc.
fn usage(pid: u32, own_cgroup: bool) -> (f64, u64) {
    if own_cgroup {
        if let Ok(cg) = std::fs::read_to_string(format!("/proc/{pid}/cgroup")) {
            for line in cg.lines() {
                let parts: Vec<&str> = line.splitn(3, ':').collect();
                let (controllers, path) = match parts.as_slice() {
                    [_, c, p] => (*c, *p),
                    _ => continue,
                };
                if controllers.is_empty() {
                    let base = format!("/sys/fs/cgroup{path}");
                    let cpu = std::fs::read_to_string(format!("{base}/cpu.stat"))
                        .ok()
                        .and_then(|s| {
                            s.lines().find_map(|l| {
                                l.strip_prefix("usage_usec ")
                                    .and_then(|v| v.trim().parse::<f64>().ok())
                            })
                        });
                    let mem = std::fs::read_to_string(format!("{base}/memory.peak"))
                        .ok()
                        .and_then(|s| s.trim().parse().ok());
                    if let (Some(c), Some(m)) = (cpu, mem) {
                        return (c / 1e6, m);
                    }
                }
            }
            let v1 = |ctl: &str, file: &str| {
                cg.lines()
                    .find_map(|l| {
                        let parts: Vec<&str> = l.splitn(3, ':').collect();
                        (parts.len() == 3 && parts[1].split(',').any(|c| c == ctl))
                            .then(|| format!("/sys/fs/cgroup/{ctl}{}/{file}", parts[2]))
                    })
                    .and_then(|p| std::fs::read_to_string(p).ok())
                    .and_then(|s| s.trim().parse::<f64>().ok())
            };
            if let (Some(c), Some(m)) = (
                v1("cpuacct", "cpuacct.usage"),
                v1("memory", "memory.max_usage_in_bytes"),
            ) {
                return (c / 1e9, m as u64);
            }
        }
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let f: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, r)| r)
        .split_whitespace()
        .collect();
    let t = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    let hwm = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("VmHWM:")
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            })
        })
        .unwrap_or(0);
    ((t(11) + t(12) + t(13) + t(14)) / hz, hwm * 1024)
}

fn healthy(port: u16, path: &str) -> bool {
    let mut last = String::new();
    crate::run::host_probe(port, path, &mut last)
}

/// Pins this process (the generator) to `cpu`.
fn pin_self(cpu: usize) -> bool {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; CPU_SET writes within it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
    }
}

fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Benchmarks `project`, whose binary is at `binary` and whose image is loaded as `image`.
pub fn bench(
    project: &Project,
    binary: &std::path::Path,
    image: &str,
    image_size: u64,
    opts: &BenchOptions,
    progress: &dyn Fn(&str),
) -> Result<BenchReport, BenchError> {
    let n = cores();
    let split = n >= 2;
    if split {
        pin_self(0);
    }
    let mut env: Vec<String> = project
        .env
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    // A secret the app needs gets a stand-in value unless one is given.
    for s in &project.secrets {
        if !opts.env.iter().any(|e| e.split('=').next() == Some(&s.env)) {
            env.push(format!("{}=drydock-bench", s.env));
        }
    }
    env.extend(opts.env.iter().cloned());
    let mut reports = Vec::new();
    for &mode in &opts.modes {
        progress(&format!("benchmarking {mode:?}"));
        let port = free_port();
        let start = Instant::now();
        let mut notes = Vec::new();
        let mut running = match mode {
            Mode::Process => {
                let mut cmd = if split && Command::new("taskset").arg("--version").output().is_ok()
                {
                    let mut c = Command::new("taskset");
                    c.args(["-c", "1"]).arg(binary);
                    notes.push("service on core 1 (taskset), generator on core 0".into());
                    c
                } else {
                    Command::new(binary)
                };
                cmd.envs(env.iter().filter_map(|e| e.split_once('=')))
                    .env("PORT", port.to_string())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null());
                let child = cmd.spawn().map_err(|e| BenchError::Mode {
                    mode: "process".into(),
                    what: format!("cannot start {}: {e}", binary.display()),
                })?;
                Running::Process(child)
            }
            Mode::Docker | Mode::Podman => {
                let engine = if mode == Mode::Docker {
                    Engine::Docker
                } else {
                    Engine::Podman
                };
                let prog = engine.program();
                let r = &project.resources;
                let mut args: Vec<String> = vec![
                    "run".into(),
                    "-d".into(),
                    "--restart".into(),
                    "always".into(),
                    "--cpus".into(),
                    crate::quantity::cpus_flag(r.cpu_limit_milli),
                    "--memory".into(),
                    format!("{}b", r.memory_limit),
                    "--read-only".into(),
                    "--tmpfs".into(),
                    "/tmp".into(),
                    "--cap-drop".into(),
                    "ALL".into(),
                    "--security-opt".into(),
                    "no-new-privileges".into(),
                    "-p".into(),
                    format!("127.0.0.1:{port}:{}", project.port),
                ];
                if split {
                    args.extend(["--cpuset-cpus".into(), "1".into()]);
                    notes.push("service on core 1 (--cpuset-cpus), generator on core 0".into());
                }
                for e in &env {
                    args.extend(["-e".into(), e.clone()]);
                }
                args.push(if mode == Mode::Podman && !image.contains('/') {
                    format!("localhost/{image}")
                } else if mode == Mode::Podman
                    && !image.starts_with("localhost/")
                    && !image.split('/').next().unwrap_or("").contains(['.', ':'])
                {
                    format!("localhost/{image}")
                } else {
                    image.to_string()
                });
                let o = Command::new(prog)
                    .args(&args)
                    .output()
                    .map_err(|e| BenchError::Mode {
                        mode: prog.into(),
                        what: e.to_string(),
                    })?;
                if !o.status.success() {
                    return Err(BenchError::Mode {
                        mode: prog.into(),
                        what: format!(
                            "`{prog} run` failed: {}",
                            String::from_utf8_lossy(&o.stderr).trim()
                        ),
                    });
                }
                Running::Container {
                    engine: prog,
                    id: String::from_utf8_lossy(&o.stdout).trim().to_string(),
                }
            }
        };
        let own_cgroup = mode != Mode::Process;
        let deadline = start + Duration::from_secs(60);
        while !healthy(port, &project.health.path) {
            if Instant::now() > deadline {
                return Err(BenchError::Mode {
                    mode: format!("{mode:?}"),
                    what: format!(
                        "not healthy at 127.0.0.1:{port}{} within 60 s",
                        project.health.path
                    ),
                });
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let cold_start_ms = start.elapsed().as_secs_f64() * 1000.0;
        let pid = running.pid().unwrap_or(0);
        let (cpu0, _) = usage(pid, own_cgroup);
        let base = load::Load {
            port,
            path: opts.path.clone(),
            connections: opts.connections,
            duration: opts.duration,
            warmup: opts.warmup,
            rate: Some(opts.rate),
            max_requests: 10_000_000,
            timeout: Duration::from_secs(5),
        };
        let t0 = Instant::now();
        let fixed_rate = load::run(&base);
        let max = load::run(&load::Load {
            rate: None,
            ..base.clone()
        });
        let (cpu1, peak) = usage(pid, own_cgroup);
        let service_cpu = (cpu1 - cpu0).max(0.0) / t0.elapsed().as_secs_f64().max(0.001);
        if max.generator_cpu > 0.9 && split {
            notes.push(format!("the generator used {:.2} cores at maximum: it may have been the limit, not the service", max.generator_cpu));
        }
        let recovery = if opts.fault {
            Some(fault(&mut running, mode, port, &opts.path, opts.rate))
        } else {
            None
        };
        running.stop();
        reports.push(ModeReport {
            mode,
            cold_start_ms,
            fixed_rate,
            max,
            service_cpu,
            peak_memory_bytes: peak,
            image_size_bytes: (mode != Mode::Process).then_some(image_size),
            recovery,
            notes,
        });
    }
    Ok(BenchReport {
        project: project.name.clone(),
        path: opts.path.clone(),
        rate: opts.rate,
        connections: opts.connections,
        cores: n,
        modes: reports,
    })
}

/// Kills the service with SIGKILL under load and waits (bounded) for it to serve again.
fn fault(running: &mut Running, mode: Mode, port: u16, path: &str, rate: u64) -> Recovery {
    let Some(pid) = running.pid() else {
        return Recovery {
            serving_again_ms: None,
            failed_requests: 0,
            how: "no process to kill",
        };
    };
    let how = match mode {
        Mode::Process => "none: a bare process stays dead",
        Mode::Docker => "docker's restart policy (--restart always)",
        Mode::Podman => "podman's restart policy (--restart always)",
    };
    // SAFETY: sending a signal to a pid has no memory-safety preconditions.
    unsafe {
        libc::kill(pid as i32, libc::SIGKILL);
    }
    let killed = Instant::now();
    let limit = Duration::from_secs(if mode == Mode::Process { 3 } else { 30 });
    let mut failed = 0u64;
    let every = Duration::from_secs_f64(1.0 / rate.max(1) as f64).max(Duration::from_millis(2));
    while killed.elapsed() < limit {
        if healthy(port, path) {
            return Recovery {
                serving_again_ms: Some(killed.elapsed().as_secs_f64() * 1000.0),
                failed_requests: failed,
                how,
            };
        }
        failed += 1;
        std::thread::sleep(every);
    }
    Recovery {
        serving_again_ms: None,
        failed_requests: failed,
        how,
    }
}

fn human_ms(v: f64) -> String {
    if v >= 1000.0 {
        format!("{:.2} s", v / 1000.0)
    } else {
        format!("{v:.2} ms")
    }
}

/// The brief's table, with the extra columns, as markdown.
pub fn markdown(r: &BenchReport) -> String {
    let mut s = format!(
        "drydock bench {}: GET {}, {} req/s open loop and a closed loop with {} connections; {} cores\n\n",
        r.project, r.path, r.rate, r.connections, r.cores
    );
    s.push_str("| mode | avg latency | p50 | p99 | p99.9 | throughput at max | CPU | peak memory | image | cold start | recovery after SIGKILL |\n");
    s.push_str("|---|---|---|---|---|---|---|---|---|---|---|\n");
    for m in &r.modes {
        let f = &m.fixed_rate.latency_ms;
        let rec = match &m.recovery {
            Some(Recovery {
                serving_again_ms: Some(ms),
                failed_requests,
                ..
            }) => format!("{} ({failed_requests} failed probes)", human_ms(*ms)),
            Some(Recovery {
                serving_again_ms: None,
                ..
            }) => "never".into(),
            None => "-".into(),
        };
        s.push_str(&format!(
            "| {:?} | {} | {} | {} | {} | {:.0} req/s | {:.2} cores | {} | {} | {} | {} |\n",
            m.mode,
            human_ms(f.mean),
            human_ms(f.p50),
            human_ms(f.p99),
            human_ms(f.p999),
            m.max.throughput,
            m.service_cpu,
            crate::ui::human_bytes(m.peak_memory_bytes),
            m.image_size_bytes
                .map(crate::ui::human_bytes)
                .unwrap_or_else(|| "-".into()),
            human_ms(m.cold_start_ms),
            rec
        ));
    }
    for m in &r.modes {
        let e = m.fixed_rate.errors.total() + m.max.errors.total();
        if e > 0 {
            s.push_str(&format!(
                "\n{:?}: {e} errors under load ({:?} at the fixed rate, {:?} at max)",
                m.mode, m.fixed_rate.errors, m.max.errors
            ));
        }
        for n in &m.notes {
            s.push_str(&format!("\n{:?}: {n}", m.mode));
        }
    }
    s.push('\n');
    s
}
