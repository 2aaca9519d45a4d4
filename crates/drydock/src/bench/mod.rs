//! `drydock bench`: the brief's deployment comparison, measured on the user's own service and
//! machine in one run: the binary as a bare process (what a VM runs), the image in Docker and
//! podman with the project's limits, the Compose bundle behind its nginx TLS terminator, and the
//! Swarm stack with its replicas. Per mode: cold start (start to the first healthy answer),
//! latency percentiles and throughput at a fixed rate (open loop) and at maximum (closed loop),
//! errors by kind, the service's CPU time and peak memory (its cgroups, or /proc for the
//! process), the image size, and fault recovery: the service killed with SIGKILL under load,
//! then the time until it serves again and the requests that failed meanwhile, under each
//! engine's own mechanism (a restart policy for the engines and Compose, task replacement for
//! Swarm; none for a bare process, which is the brief's point); for Swarm also a rolling update
//! to a new image under load. On a machine with two cores or more, the service gets core 1 and
//! the generator core 0.
//!
//! The pipeline: [`target`] starts and removes each mode, [`load`] generates the load,
//! [`cgroup`] reads what the service used, [`recommend`] turns that into `[resources]`, and
//! [`render`] shows the report.

pub mod cgroup;
pub mod load;
pub mod recommend;
pub mod render;
pub mod target;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::project::Project;
pub use recommend::{recommend, write_resources, Recommendation};
pub use render::{markdown, png, svg};
use target::{Running, Start, Target};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Process,
    Docker,
    Podman,
    /// The Compose bundle (nginx terminating TLS in front).
    Compose,
    /// The Swarm stack on a single-node swarm, with its replicas.
    Swarm,
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
    /// Measure fault recovery (and, for Swarm, a rolling update).
    pub fault: bool,
    /// Replicas of the Swarm stack.
    pub replicas: u32,
}

#[derive(Debug, Serialize)]
pub struct Recovery {
    /// Milliseconds from the kill to the next successful answer; `None`: it never came back.
    pub serving_again_ms: Option<f64>,
    /// Swarm: milliseconds until every replica was healthy again, a new task in the killed
    /// one's place.
    pub replaced_ms: Option<f64>,
    /// Requests sent at the fixed rate from the kill until it served again (or was replaced),
    /// and how many of them failed.
    pub requests: u64,
    pub failed_requests: u64,
    pub errors: load::Errors,
    /// Requests still waiting for an answer when the measurement ended.
    pub unanswered: u64,
    /// The slowest answer in the window (from its intended send time).
    pub worst_latency_ms: f64,
    pub how: &'static str,
}

/// A rolling update to a new image under load (Swarm).
#[derive(Debug, Serialize)]
pub struct Update {
    /// Swarm's final update state (`completed`, `rollback_completed`, `paused`, …).
    pub state: String,
    pub seconds: f64,
    pub requests: u64,
    pub failed_requests: u64,
    pub errors: load::Errors,
    pub unanswered: u64,
    pub worst_latency_ms: f64,
}

#[derive(Debug, Serialize)]
pub struct ModeReport {
    pub mode: Mode,
    /// Swarm: the replicas the load was spread over.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u32>,
    /// The load went through nginx over TLS (Compose, Swarm).
    pub tls: bool,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update: Option<Update>,
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

/// Polls `done` every `every` until it holds (true) or `deadline` passes (false).
fn until(deadline: Instant, every: Duration, mut done: impl FnMut() -> bool) -> bool {
    loop {
        if done() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(every);
    }
}

/// How long a mode may take to answer its first health check.
fn start_limit(mode: Mode) -> Duration {
    Duration::from_secs(match mode {
        Mode::Process | Mode::Docker | Mode::Podman => 60,
        // Images, networks, secrets and a health check's interval before nginx's DNS lists a task.
        Mode::Compose | Mode::Swarm => 120,
    })
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
    target::cleanup::on_interrupt();
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
    let start_with = Start {
        binary,
        image,
        env: &env,
        split,
        replicas: opts.replicas,
    };
    let mut reports = Vec::new();
    for &mode in &opts.modes {
        let name = format!("{mode:?}").to_lowercase();
        progress(&format!("{name}: starting"));
        let start = Instant::now();
        let mut t = Target::start(mode, project, &start_with)?;
        let deadline = start + start_limit(mode);
        let health = &project.health.path;
        let too_slow = |what: String| BenchError::Mode {
            mode: name.clone(),
            what: format!("{what} within {} s", start_limit(mode).as_secs()),
        };
        if !until(deadline, Duration::from_millis(5), || {
            load::probe(t.port, health, t.tls.as_ref(), Duration::from_secs(2))
        }) {
            return Err(too_slow(format!(
                "not healthy at 127.0.0.1:{}{health}",
                t.port
            )));
        }
        let cold_start_ms = start.elapsed().as_secs_f64() * 1000.0;
        if let Running::Stack { name: stack, .. } = &t.running {
            // The load goes to every replica: wait until all are healthy.
            progress(&format!(
                "{name}: waiting for {} healthy replicas",
                opts.replicas
            ));
            if !until(deadline, Duration::from_millis(200), || {
                target::stack_app_containers(stack, true).len() >= opts.replicas as usize
            }) {
                return Err(too_slow(format!("{} replicas not healthy", opts.replicas)));
            }
            if split && target::pin_stack(stack) {
                t.notes.push("replicas and nginx on core 1 (docker update --cpuset-cpus; Swarm has no cpuset), generator on core 0".into());
            }
        }
        let own_cgroup = mode != Mode::Process;
        let pids = t.pids();
        let (cpu0, _) = cgroup::usage(&pids, own_cgroup);
        let base = load::Load {
            port: t.port,
            path: opts.path.clone(),
            connections: opts.connections,
            duration: opts.duration,
            warmup: opts.warmup,
            rate: Some(opts.rate),
            max_requests: 10_000_000,
            timeout: Duration::from_secs(5),
            tls: t.tls.clone(),
            stop: None,
        };
        let (thr0, oom0) = cgroup::pressure(&pids);
        progress(&format!("{name}: {} req/s", opts.rate));
        let t0 = Instant::now();
        let fixed_rate = load::run(&base);
        let t1 = Instant::now();
        let (cpu_mid, _) = cgroup::usage(&pids, own_cgroup);
        let memory_at_rate_bytes = cgroup::memory_now(&pids, own_cgroup);
        progress(&format!(
            "{name}: maximum, {} connections",
            opts.connections
        ));
        let max = load::run(&load::Load {
            rate: None,
            ..base.clone()
        });
        let (cpu1, peak) = cgroup::usage(&pids, own_cgroup);
        let (thr1, oom1) = cgroup::pressure(&pids);
        let service_cpu = (cpu1 - cpu0).max(0.0) / t0.elapsed().as_secs_f64().max(0.001);
        let cpu_at_rate = (cpu_mid - cpu0).max(0.0) / (t1 - t0).as_secs_f64().max(0.001);
        let cpu_at_max = (cpu1 - cpu_mid).max(0.0) / t1.elapsed().as_secs_f64().max(0.001);
        let delta = |a: Option<u64>, b: Option<u64>| Some(b?.saturating_sub(a?));
        if max.generator_cpu > 0.9 && split {
            t.notes.push(format!("the generator used {:.2} cores at maximum: it may have been the limit, not the service", max.generator_cpu));
        }
        let (recovery, update) = if opts.fault {
            progress(&format!("{name}: SIGKILL under load"));
            let recovery = fault(&t, mode, &base, opts.replicas);
            let update = match &t.running {
                Running::Stack { name: stack, .. } => {
                    progress(&format!("{name}: rolling update under load"));
                    match rolling_update(stack, image, &project.name, &base) {
                        Ok(u) => Some(u),
                        Err(e) => {
                            t.notes.push(format!("rolling update not measured: {e}"));
                            None
                        }
                    }
                }
                _ => None,
            };
            (Some(recovery), update)
        } else {
            (None, None)
        };
        progress(&format!("{name}: removing"));
        let tls = t.tls.is_some();
        t.running.stop();
        if update.is_some() {
            target::remove_image(&target::updated_image_tag(&project.name));
        }
        reports.push(ModeReport {
            mode,
            replicas: (mode == Mode::Swarm).then_some(opts.replicas),
            tls,
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
            update,
            notes: t.notes,
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

/// The fixed-rate load in the background, until the returned flag is set.
fn background(
    base: &load::Load,
    limit: Duration,
) -> (Arc<AtomicBool>, std::thread::JoinHandle<load::Outcome>) {
    let stop = Arc::new(AtomicBool::new(false));
    let l = load::Load {
        duration: limit,
        warmup: Duration::ZERO,
        timeout: Duration::from_secs(2),
        stop: Some(stop.clone()),
        ..base.clone()
    };
    (stop, std::thread::spawn(move || load::run(&l)))
}

/// Kills the service (one replica, for Swarm) with SIGKILL under the fixed-rate load, and waits
/// (bounded) for it to serve again: for Swarm, also for a new task to replace the killed one.
fn fault(t: &Target, mode: Mode, base: &load::Load, replicas: u32) -> Recovery {
    let how = match mode {
        Mode::Process => "none: a bare process stays dead",
        Mode::Docker => "docker's restart policy (--restart always)",
        Mode::Podman => "podman's restart policy (--restart always)",
        Mode::Compose => "the bundle's restart policy (restart: unless-stopped), nginx answering 502 meanwhile",
        Mode::Swarm => "Swarm's task replacement (restart_policy: any), nginx sending requests to the other replicas",
    };
    let victim_container = t.running.containers().and_then(|c| c.into_iter().next());
    let Some(pid) = t.pids().first().copied() else {
        return Recovery {
            serving_again_ms: None,
            replaced_ms: None,
            requests: 0,
            failed_requests: 0,
            errors: load::Errors::default(),
            unanswered: 0,
            worst_latency_ms: 0.0,
            how: "no process to kill",
        };
    };
    let limit = Duration::from_secs(match mode {
        Mode::Process => 3,
        Mode::Swarm => 90,
        _ => 30,
    });
    let (stop, load) = background(base, limit + Duration::from_secs(1));
    // A moment of load before the kill, so that connections are open when it comes.
    std::thread::sleep(Duration::from_millis(200));
    // SAFETY: sending a signal to a pid has no memory-safety preconditions.
    unsafe {
        libc::kill(pid as i32, libc::SIGKILL);
    }
    let killed = Instant::now();
    while !cgroup::dead(pid) && killed.elapsed() < Duration::from_secs(2) {
        std::thread::sleep(Duration::from_millis(1));
    }
    let mut serving_again_ms = None;
    while killed.elapsed() < limit {
        if load::probe(
            base.port,
            &base.path,
            base.tls.as_ref(),
            Duration::from_secs(1),
        ) {
            serving_again_ms = Some(killed.elapsed().as_secs_f64() * 1000.0);
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut replaced_ms = None;
    if let (Running::Stack { name, .. }, Some(victim)) = (&t.running, &victim_container) {
        while killed.elapsed() < limit {
            let healthy = target::stack_app_containers(name, true);
            if healthy.len() >= replicas as usize
                && !healthy.iter().any(|h| victim.starts_with(h.as_str()))
            {
                replaced_ms = Some(killed.elapsed().as_secs_f64() * 1000.0);
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    // The requests that waited through the outage are answered (late) or fail now: a moment
    // more of load, so that they are counted with their real latency.
    if serving_again_ms.is_some() {
        std::thread::sleep(DRAIN);
    }
    stop.store(true, Ordering::Relaxed);
    let o = load.join().unwrap_or_else(|_| empty_outcome());
    Recovery {
        serving_again_ms,
        replaced_ms,
        requests: o.requests,
        failed_requests: o.errors.total(),
        errors: o.errors,
        unanswered: o.unanswered,
        worst_latency_ms: o.latency_ms.max,
        how,
    }
}

/// Load kept on after a recovery or an update, for the requests waiting through it.
const DRAIN: Duration = Duration::from_secs(1);

fn empty_outcome() -> load::Outcome {
    load::Outcome {
        requests: 0,
        unanswered: 0,
        errors: load::Errors::default(),
        throughput: 0.0,
        latency_ms: load::Percentiles::default(),
        generator_cpu: 0.0,
        seconds: 0.0,
    }
}

/// Swarm: updates the app service to a new image (the same content with one more label, so
/// that every task is replaced) under the fixed-rate load, and waits for Swarm to finish.
fn rolling_update(
    stack: &str,
    image: &str,
    project: &str,
    base: &load::Load,
) -> Result<Update, String> {
    let new = target::updated_image(image, project)?;
    let limit = Duration::from_secs(300);
    let (stop, load) = background(base, limit);
    let started = Instant::now();
    let service = format!("{stack}_app");
    let begun = target::update_service(&service, &new);
    let mut state = String::new();
    if begun.is_ok() {
        while started.elapsed() < limit {
            state = target::update_state(&service);
            if [
                "completed",
                "rollback_completed",
                "paused",
                "rollback_paused",
            ]
            .contains(&state.as_str())
            {
                break;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    std::thread::sleep(DRAIN);
    stop.store(true, Ordering::Relaxed);
    let o = load.join().unwrap_or_else(|_| empty_outcome());
    begun?;
    if state.is_empty() {
        state = "not finished".into();
    }
    Ok(Update {
        state,
        seconds,
        requests: o.requests,
        failed_requests: o.errors.total(),
        errors: o.errors,
        unanswered: o.unanswered,
        worst_latency_ms: o.latency_ms.max,
    })
}
