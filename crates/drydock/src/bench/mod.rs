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
    /// CPU in cores during the fixed-rate run (the typical load) and the maximum run.
    pub cpu_at_rate: f64,
    pub cpu_at_max: f64,
    /// Memory in use at the end of the fixed-rate run, and the peak.
    pub memory_at_rate_bytes: u64,
    pub peak_memory_bytes: u64,
    /// CPU periods the kernel throttled, and OOM kills, during the runs (engines only).
    pub throttled_periods: Option<u64>,
    pub oom_kills: Option<u64>,
    pub image_size_bytes: Option<u64>,
    pub recovery: Option<Recovery>,
    pub notes: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct BenchReport {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recommendation: Option<Recommendation>,
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
    let read = |p: std::path::PathBuf| std::fs::read_to_string(p).ok();
    if own_cgroup {
        if let (Some((cpu, v)), Some((mem, _))) =
            (cgroup_dir(pid, "cpuacct"), cgroup_dir(pid, "memory"))
        {
            let found = if v == 2 {
                (
                    read(cpu.join("cpu.stat"))
                        .and_then(|t| field(&t, "usage_usec "))
                        .map(|u| u as f64 / 1e6),
                    read(mem.join("memory.peak")).and_then(|t| t.trim().parse().ok()),
                )
            } else {
                (
                    read(cpu.join("cpuacct.usage"))
                        .and_then(|t| t.trim().parse::<f64>().ok())
                        .map(|n| n / 1e9),
                    read(mem.join("memory.max_usage_in_bytes")).and_then(|t| t.trim().parse().ok()),
                )
            };
            if let (Some(c), Some(m)) = found {
                return (c, m);
            }
        }
    }
    (
        load::cpu_seconds(&pid.to_string(), true),
        status_kb(pid, "VmHWM:") * 1024,
    )
}

/// A `KEY value` line's number in a cgroup file (`nr_throttled 12`).
fn field(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        l.strip_prefix(key)
            .and_then(|v| v.trim().parse::<u64>().ok())
    })
}

/// A `Key: N kB` value of /proc/PID/status, in kB.
fn status_kb(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix(key)
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            })
        })
        .unwrap_or(0)
}

/// The service's own cgroup directory and its version, when it has one.
fn cgroup_dir(pid: u32, controller: &str) -> Option<(std::path::PathBuf, u8)> {
    let cg = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    for line in cg.lines() {
        let parts: Vec<&str> = line.splitn(3, ':').collect();
        if parts.len() != 3 {
            continue;
        }
        if parts[1].is_empty() {
            let d = std::path::PathBuf::from(format!("/sys/fs/cgroup{}", parts[2]));
            if d.join("cpu.stat").is_file() {
                return Some((d, 2));
            }
        } else if parts[1].split(',').any(|c| c == controller) {
            return Some((
                std::path::PathBuf::from(format!("/sys/fs/cgroup/{controller}{}", parts[2])),
                1,
            ));
        }
    }
    None
}

/// CPU throttling periods and OOM kills the kernel counted for the service's cgroup.
fn pressure(pid: u32) -> (Option<u64>, Option<u64>) {
    let throttled = cgroup_dir(pid, "cpu").and_then(|(d, _)| {
        std::fs::read_to_string(d.join("cpu.stat"))
            .ok()
            .and_then(|t| field(&t, "nr_throttled "))
    });
    let oom = cgroup_dir(pid, "memory").and_then(|(d, v)| {
        let file = if v == 2 {
            "memory.events"
        } else {
            "memory.oom_control"
        };
        std::fs::read_to_string(d.join(file))
            .ok()
            .and_then(|t| field(&t, "oom_kill "))
    });
    (throttled, oom)
}

/// The service's memory in use now (its cgroup's, else the process's resident set).
fn memory_now(pid: u32, own_cgroup: bool) -> u64 {
    if own_cgroup {
        if let Some((d, v)) = cgroup_dir(pid, "memory") {
            let file = if v == 2 {
                "memory.current"
            } else {
                "memory.usage_in_bytes"
            };
            if let Some(m) = std::fs::read_to_string(d.join(file))
                .ok()
                .and_then(|t| t.trim().parse().ok())
            {
                return m;
            }
        }
    }
    status_kb(pid, "VmRSS:") * 1024
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
                // podman names images it loaded without a registry `localhost/…`.
                let first = image.split('/').next().unwrap_or("");
                let has_registry =
                    image.contains('/') && (first.contains(['.', ':']) || first == "localhost");
                args.push(if mode == Mode::Podman && !has_registry {
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
        let (thr0, oom0) = pressure(pid);
        let t0 = Instant::now();
        let fixed_rate = load::run(&base);
        let t1 = Instant::now();
        let (cpu_mid, _) = usage(pid, own_cgroup);
        let memory_at_rate_bytes = memory_now(pid, own_cgroup);
        let max = load::run(&load::Load {
            rate: None,
            ..base.clone()
        });
        let (cpu1, peak) = usage(pid, own_cgroup);
        let (thr1, oom1) = pressure(pid);
        let service_cpu = (cpu1 - cpu0).max(0.0) / t0.elapsed().as_secs_f64().max(0.001);
        let cpu_at_rate = (cpu_mid - cpu0).max(0.0) / (t1 - t0).as_secs_f64().max(0.001);
        let cpu_at_max = (cpu1 - cpu_mid).max(0.0) / t1.elapsed().as_secs_f64().max(0.001);
        let delta = |a: Option<u64>, b: Option<u64>| Some(b?.saturating_sub(a?));
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
            cpu_at_rate,
            cpu_at_max,
            memory_at_rate_bytes,
            peak_memory_bytes: peak,
            throttled_periods: if own_cgroup { delta(thr0, thr1) } else { None },
            oom_kills: if own_cgroup { delta(oom0, oom1) } else { None },
            image_size_bytes: (mode != Mode::Process).then_some(image_size),
            recovery,
            notes,
        });
    }
    Ok(BenchReport {
        recommendation: None,
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

/// `[resources]` values proposed from what was measured, and why.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Recommendation {
    pub from_mode: Mode,
    pub cpu_request_milli: u64,
    pub cpu_limit_milli: u64,
    pub memory_request: u64,
    pub memory_limit: u64,
    pub reasons: Vec<String>,
}

const MIB: u64 = 1 << 20;

/// The brief's loop, closed: requests near what the service used at the given rate, limits
/// above what it used at its peak, with margins (20 % over the mean, 50 % over the peak), in
/// round steps. Prefers a container's measurement (its cgroup counts everything).
pub fn recommend(r: &BenchReport, current: &crate::project::Resources) -> Option<Recommendation> {
    let m = r
        .modes
        .iter()
        .find(|m| m.mode != Mode::Process)
        .or_else(|| r.modes.first())?;
    let up = |v: f64, step: u64| ((v / step as f64).ceil() as u64).max(1) * step;
    let cpu_request = up(m.cpu_at_rate * 1000.0 * 1.2, 50).max(50);
    let cpu_limit = up(m.cpu_at_max * 1000.0 * 1.5, 100).max(cpu_request);
    let memory_request = up(m.memory_at_rate_bytes as f64 * 1.2, MIB).max(16 * MIB);
    let memory_limit = up(m.peak_memory_bytes as f64 * 1.5, MIB)
        .max(memory_request)
        .max(32 * MIB);
    let mut reasons = vec![
        format!("from {:?}: {:.3} cores at {} req/s, {:.3} at the maximum ({:.0} req/s); {} in use at {} req/s, {} at peak", m.mode, m.cpu_at_rate, r.rate, m.cpu_at_max, m.max.throughput, crate::ui::human_bytes(m.memory_at_rate_bytes), r.rate, crate::ui::human_bytes(m.peak_memory_bytes)),
        "requests: 20 % above the use at the fixed rate; limits: 50 % above the peak".into(),
        format!("the helper sets GOMEMLIMIT to 90 % of the memory limit ({}), so the Go heap stays below it", crate::ui::human_bytes(memory_limit * 9 / 10)),
    ];
    if let Some(t) = m.throttled_periods.filter(|t| *t > 0) {
        reasons.push(format!("the kernel throttled the service {t} times at the current CPU limit ({}m): the maximum run was capped by it", current.cpu_limit_milli));
    }
    if let Some(o) = m.oom_kills.filter(|o| *o > 0) {
        reasons.push(format!(
            "{o} OOM kills at the current memory limit ({}): raise it",
            crate::ui::human_bytes(current.memory_limit)
        ));
    }
    Some(Recommendation {
        from_mode: m.mode,
        cpu_request_milli: cpu_request,
        cpu_limit_milli: cpu_limit,
        memory_request,
        memory_limit,
        reasons,
    })
}

/// Writes a recommendation into drydock.toml's `[resources]`, keeping everything else (comments
/// included) as it is; the file is replaced whole (temp file and rename).
pub fn write_resources(path: &std::path::Path, rec: &Recommendation) -> Result<(), String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut doc: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if !doc.contains_key("resources") {
        doc["resources"] = toml_edit::table();
    }
    let t = doc["resources"]
        .as_table_mut()
        .ok_or_else(|| format!("{}: [resources] is not a table", path.display()))?;
    let mib = |b: u64| format!("{}Mi", b / MIB);
    for (k, v) in [
        (
            "cpu_request",
            crate::quantity::format_cpu(rec.cpu_request_milli),
        ),
        (
            "cpu_limit",
            crate::quantity::format_cpu(rec.cpu_limit_milli),
        ),
        ("memory_request", mib(rec.memory_request)),
        ("memory_limit", mib(rec.memory_limit)),
    ] {
        match t.get_mut(k).and_then(|i| i.as_value_mut()) {
            // Keep the key's decoration (its trailing comment) and change only the value.
            Some(old) => {
                let decor = old.decor().clone();
                *old = toml_edit::Value::from(v);
                *old.decor_mut() = decor;
            }
            None => {
                t.insert(k, toml_edit::value(v));
            }
        }
    }
    crate::fsutil::write_bytes_atomic(path, doc.to_string().as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writing_keeps_comments_and_other_keys() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("drydock.toml");
        std::fs::write(&p, "# top\nname = \"api\"\n\n[resources]  # limits\ncpu_request = \"250m\"  # the request\nmemory_limit = \"256Mi\"\n\n[health]\npath = \"/healthz\"\n").unwrap();
        let rec = Recommendation {
            from_mode: Mode::Docker,
            cpu_request_milli: 100,
            cpu_limit_milli: 1500,
            memory_request: 32 * MIB,
            memory_limit: 64 * MIB,
            reasons: vec![],
        };
        write_resources(&p, &rec).unwrap();
        let out = std::fs::read_to_string(&p).unwrap();
        assert!(out.starts_with("# top\nname = \"api\""), "{out}");
        assert!(
            out.contains("cpu_request = \"100m\"  # the request"),
            "{out}"
        );
        assert!(out.contains("memory_limit = \"64Mi\""), "{out}");
        assert!(
            out.contains("cpu_limit = \"1500m\"") || out.contains("cpu_limit = \"1.5\""),
            "{out}"
        );
        assert!(out.contains("[health]\npath = \"/healthz\""), "{out}");
        let cfg = crate::config::Config::parse(&out, &p).unwrap();
        assert_eq!(cfg.resources.memory_request.as_deref(), Some("32Mi"));
    }
}

/// An SVG of the results: latency percentiles at the fixed rate, and maximum throughput, per
/// mode. Written by hand (a few rectangles and labels), so bench needs no plotting library.
pub fn svg(r: &BenchReport) -> String {
    let (w, h, pad) = (900.0, 360.0, 50.0);
    let panel = (w - 3.0 * pad) / 2.0;
    let plot_h = h - 2.0 * pad - 30.0;
    let mut s = format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
    s.push_str(&format!("<text x=\"{pad}\" y=\"24\" font-size=\"14\">drydock bench {}: GET {} ({} req/s open loop; closed loop, {} connections)</text>\n", esc(&r.project), esc(&r.path), r.rate, r.connections));
    let colors = ["#4e79a7", "#f28e2b", "#e15759"];
    // Left: latency percentiles.
    let lat: Vec<[f64; 3]> = r
        .modes
        .iter()
        .map(|m| {
            let l = &m.fixed_rate.latency_ms;
            [l.p50, l.p99, l.p999]
        })
        .collect();
    let max_lat = lat.iter().flatten().cloned().fold(0.001, f64::max);
    let group = panel / r.modes.len().max(1) as f64;
    let base_y = pad + 30.0 + plot_h;
    s.push_str(&format!(
        "<text x=\"{pad}\" y=\"{}\">latency at {} req/s (ms): p50, p99, p99.9</text>\n",
        pad + 20.0,
        r.rate
    ));
    for (i, (m, l)) in r.modes.iter().zip(&lat).enumerate() {
        let x0 = pad + i as f64 * group;
        for (j, v) in l.iter().enumerate() {
            let bh = v / max_lat * plot_h;
            let x = x0 + 8.0 + j as f64 * (group - 16.0) / 3.0;
            s.push_str(&format!("<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"{}\"><title>{v:.3} ms</title></rect>\n", base_y - bh, (group - 16.0) / 3.0 - 2.0, colors[j]));
            s.push_str(&format!(
                "<text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"9\">{v:.2}</text>\n",
                base_y - bh - 3.0
            ));
        }
        s.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\">{:?}</text>\n",
            x0 + 8.0,
            base_y + 16.0,
            m.mode
        ));
    }
    // Right: throughput at maximum.
    let x_right = 2.0 * pad + panel;
    let max_tp = r.modes.iter().map(|m| m.max.throughput).fold(1.0, f64::max);
    s.push_str(&format!(
        "<text x=\"{x_right}\" y=\"{}\">throughput at maximum (req/s)</text>\n",
        pad + 20.0
    ));
    for (i, m) in r.modes.iter().enumerate() {
        let bh = m.max.throughput / max_tp * plot_h;
        let x = x_right + i as f64 * group + 8.0;
        s.push_str(&format!("<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"#59a14f\"/>\n", base_y - bh, group - 16.0));
        s.push_str(&format!(
            "<text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"10\">{:.0}</text>\n",
            base_y - bh - 3.0,
            m.max.throughput
        ));
        s.push_str(&format!(
            "<text x=\"{x:.1}\" y=\"{:.1}\">{:?}</text>\n",
            base_y + 16.0,
            m.mode
        ));
    }
    s.push_str("</svg>\n");
    s
}

fn esc(t: &str) -> String {
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
