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
pub use render::{markdown, png, svg, PlotError};
use target::{Liveness, Running, Start, Target};

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
    /// A mode that could not be started or measured: what went wrong, and what to do about it
    /// when bench can tell.
    #[error("{mode}: {what}")]
    Mode {
        mode: String,
        what: String,
        fix: Option<String>,
    },
}

impl BenchError {
    /// What to do about it (the message does not hold it).
    pub fn fix(&self) -> Option<String> {
        match self {
            BenchError::Mode { fix, .. } => fix.clone(),
        }
    }
}

/// Why a load run's figures cannot stand for the service, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unfit {
    pub problem: String,
    pub fix: Option<String>,
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
    /// Rounds: each mode measured this many times, the modes taking turns.
    pub rounds: u32,
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
    /// The fixed-rate and maximum runs over the rounds: each rate and latency the median of
    /// the rounds (the max latency the slowest of all), requests and errors summed.
    pub fixed_rate: load::Outcome,
    pub max: load::Outcome,
    /// The table's figures' median and range over the rounds.
    pub spread: Spreads,
    /// Each round's own figures, in the order they ran.
    pub rounds: Vec<Round>,
    /// CPU the service used during the two loads, in cores, on average.
    pub service_cpu: f64,
    /// CPU in cores during the fixed-rate run (the typical load) and the maximum run (medians).
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
    /// Rounds per mode.
    pub rounds: u32,
    pub modes: Vec<ModeReport>,
    /// Where the table's differences are within what the rounds varied.
    pub noise: Vec<String>,
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

/// How long a service may listen only elsewhere than on the port it was given before bench
/// stops waiting for it (an app may open another port first, then its own).
const ELSEWHERE_GRACE: Duration = Duration::from_secs(5);

/// A load run fails the bench when more than this share of its requests failed: its figures
/// would describe error answers, not the service.
pub const MAX_ERROR_SHARE: f64 = 0.5;

/// The median of some values (the mean of the middle two for an even count); 0 for none.
pub fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// One figure over the rounds: its median and its range.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Spread {
    pub fn of(values: impl Iterator<Item = f64> + Clone) -> Spread {
        if values.clone().next().is_none() {
            return Spread {
                median: 0.0,
                min: 0.0,
                max: 0.0,
            };
        }
        Spread {
            median: median(values.clone()),
            min: values.clone().fold(f64::INFINITY, f64::min),
            max: values.fold(f64::NEG_INFINITY, f64::max),
        }
    }

    /// Do two figures' ranges overlap (their difference within what the rounds varied)?
    pub fn overlaps(&self, o: &Spread) -> bool {
        self.min <= o.max && o.min <= self.max
    }
}

/// What one round measured in one mode.
#[derive(Debug, Serialize)]
pub struct Round {
    pub fixed_rate: load::Outcome,
    pub max: load::Outcome,
    pub cpu_at_rate: f64,
    pub cpu_at_max: f64,
    pub memory_at_rate_bytes: u64,
}

/// The table's figures per mode, over the rounds.
#[derive(Debug, Serialize)]
pub struct Spreads {
    pub latency_mean_ms: Spread,
    pub latency_p99_ms: Spread,
    pub max_throughput: Spread,
    pub service_cpu: Spread,
}

/// Says why a load run's figures cannot stand for the service: no request, or too few,
/// succeeded. `what` names the run.
pub fn judge(o: &load::Outcome, what: &str, path: &str) -> Result<(), Unfit> {
    let failed = o.errors.total();
    if o.requests == 0 {
        return Err(Unfit {
            problem: format!(
                "{what}: no request to GET {path} was answered or failed in the measured time"
            ),
            fix: None,
        });
    }
    if (failed as f64) <= o.requests as f64 * MAX_ERROR_SHARE && o.succeeded() > 0 {
        return Ok(());
    }
    let fix = if o.errors.codes.keys().any(|c| (400..500).contains(c)) {
        format!("--path names a path the service answers with 2xx (the default is [health] path); {path} is not one")
    } else if o.errors.connect > 0 {
        "check that the service keeps listening on the port it was given (PORT) under load".into()
    } else {
        "look at the service's logs: it failed under this load (or lower --rate / --connections)"
            .into()
    };
    Err(Unfit {
        problem: format!(
            "{what}: {failed} of {} requests to GET {path} failed ({}); more than {:.0} % failing, the figures would describe the errors, not the service",
            o.requests,
            o.errors.describe(),
            MAX_ERROR_SHARE * 100.0
        ),
        fix: Some(fix),
    })
}

/// A started mode, between its start and its measurement's end.
struct Started {
    mode: Mode,
    name: String,
    target: Target,
    cold_start_ms: f64,
    pids: Vec<u32>,
    own_cgroup: bool,
    pressure0: (Option<u64>, Option<u64>),
    rounds: Vec<Round>,
    /// CPU seconds and wall seconds under load, over all rounds.
    cpu_busy: f64,
    wall_busy: f64,
}

/// Starts a mode and waits until its health check answers, saying what it waits for, and
/// giving up early on a service that stopped or listens elsewhere than on its port.
fn start_mode(
    mode: Mode,
    project: &Project,
    start_with: &Start,
    opts: &BenchOptions,
    progress: &dyn Fn(&str),
    note: &dyn Fn(&str),
) -> Result<Started, BenchError> {
    let name = format!("{mode:?}").to_lowercase();
    progress(&format!("{name}: starting"));
    let start = Instant::now();
    let mut t = Target::start(mode, project, start_with)?;
    let limit = start_limit(mode);
    let deadline = start + limit;
    let health = project.image.health.path.clone();
    let fail = |what: String, fix: Option<String>| BenchError::Mode {
        mode: name.clone(),
        what,
        fix,
    };
    let given = if mode == Mode::Process {
        format!("the port it was given, PORT={}", t.app_port)
    } else {
        format!(
            "the port drydock.toml names, {} (the one the engine publishes)",
            t.app_port
        )
    };
    let honour = if mode == Mode::Process {
        "the app must take its port from the PORT environment variable (bench gives each mode a free port)".to_string()
    } else {
        format!(
            "make the app listen on {} in the container, or set `port` in drydock.toml to the port it listens on",
            t.app_port
        )
    };
    let mut last: String;
    let mut elsewhere_since: Option<Instant> = None;
    let mut checked = Instant::now();
    let mut noted: Option<Instant> = None;
    loop {
        match load::get_once(t.port, &health, t.tls.as_ref(), Duration::from_secs(2)) {
            Ok(code) if (200..300).contains(&code) => break,
            Ok(code) => last = format!("it answered HTTP {code}"),
            Err(e) => last = e.to_string(),
        }
        let waited = start.elapsed();
        if Instant::now() > deadline {
            let (listens, fix) = match t.liveness() {
                Liveness::Elsewhere(p) => (
                    format!("; it listens on {}, not on {given}", ports(&p)),
                    Some(honour.clone()),
                ),
                Liveness::Gone(how) => (format!("; {how}"), None),
                Liveness::Starting => (String::new(), None),
            };
            return Err(fail(
                format!(
                    "not healthy within {} s: GET 127.0.0.1:{}{health}: {last}{listens}{}",
                    limit.as_secs(),
                    t.port,
                    tasks(&t.running)
                ),
                fix,
            ));
        }
        if checked.elapsed() >= Duration::from_millis(250) {
            checked = Instant::now();
            match t.liveness() {
                Liveness::Gone(how) => {
                    return Err(fail(
                        how,
                        Some("run it by hand (with PORT set) and look at what it says".into()),
                    ))
                }
                Liveness::Elsewhere(p) => {
                    let since = *elsewhere_since.get_or_insert_with(Instant::now);
                    if since.elapsed() >= ELSEWHERE_GRACE {
                        return Err(fail(
                            format!(
                                "it listens on {}, not on {given}, and so never answers bench's health check",
                                ports(&p)
                            ),
                            Some(honour.clone()),
                        ));
                    }
                }
                Liveness::Starting => elsewhere_since = None,
            }
        }
        let status = format!(
            "{name}: waiting for GET 127.0.0.1:{}{health} to answer 2xx ({:.0} s of {} s; {last})",
            t.port,
            waited.as_secs_f64(),
            limit.as_secs()
        );
        progress(&status);
        // A line on stderr after two seconds, then every ten (the spinner shows on a terminal only).
        if noted.is_none_or(|n| n.elapsed() >= Duration::from_secs(10))
            && waited >= Duration::from_secs(2)
        {
            noted = Some(Instant::now());
            note(&status);
        }
        std::thread::sleep(Duration::from_millis(5));
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
            return Err(fail(
                format!(
                    "{} replicas not healthy within {} s{}",
                    opts.replicas,
                    limit.as_secs(),
                    tasks(&t.running)
                ),
                None,
            ));
        }
        if start_with.split && target::pin_stack(stack) {
            t.notes.push("replicas and nginx on core 1 (docker update --cpuset-cpus; Swarm has no cpuset), generator on core 0".into());
        }
    }
    // The path to load, once: a wrong one fails now, not after every round.
    if opts.path != health {
        match load::get_once(t.port, &opts.path, t.tls.as_ref(), Duration::from_secs(5)) {
            Ok(code) if (200..300).contains(&code) => {}
            Ok(code) => return Err(fail(
                format!(
                    "GET {} answered HTTP {code} (its health check {health} answers 2xx): bench measures 2xx answers",
                    opts.path
                ),
                Some("--path names a path the service answers with 2xx (the default is [health] path)".into()),
            )),
            Err(e) => return Err(fail(format!("GET {}: {e}", opts.path), None)),
        }
    }
    let own_cgroup = mode != Mode::Process;
    let pids = t.pids();
    let pressure0 = cgroup::pressure(&pids);
    Ok(Started {
        mode,
        name,
        target: t,
        cold_start_ms,
        pids,
        own_cgroup,
        pressure0,
        rounds: Vec::new(),
        cpu_busy: 0.0,
        wall_busy: 0.0,
    })
}

/// For a stack that did not become healthy in time: what Swarm says of its tasks.
fn tasks(running: &Running) -> String {
    match running {
        Running::Stack { name, .. } => target::stack_tasks(name),
        _ => String::new(),
    }
}

fn ports(p: &[u16]) -> String {
    let list: Vec<String> = p.iter().map(|p| p.to_string()).collect();
    format!(
        "{} {}",
        if p.len() == 1 { "port" } else { "ports" },
        list.join(", ")
    )
}

/// One round of a mode: the fixed-rate run, then the maximum run.
fn measure_round(
    s: &mut Started,
    opts: &BenchOptions,
    round: u32,
    progress: &dyn Fn(&str),
) -> Result<(), BenchError> {
    let t = &s.target;
    let base = base_load(t, opts);
    let of = if opts.rounds > 1 {
        format!(" (round {} of {})", round + 1, opts.rounds)
    } else {
        String::new()
    };
    let (cpu0, _) = cgroup::usage(&s.pids, s.own_cgroup);
    progress(&format!("{}: {} req/s{of}", s.name, opts.rate));
    let t0 = Instant::now();
    let fixed_rate = load::run(&base);
    let t1 = Instant::now();
    let (cpu_mid, _) = cgroup::usage(&s.pids, s.own_cgroup);
    let memory_at_rate_bytes = cgroup::memory_now(&s.pids, s.own_cgroup);
    let fail = |u: Unfit| BenchError::Mode {
        mode: s.name.clone(),
        what: u.problem,
        fix: u.fix,
    };
    judge(&fixed_rate, &format!("at {} req/s", opts.rate), &opts.path).map_err(fail)?;
    progress(&format!(
        "{}: maximum, {} connections{of}",
        s.name, opts.connections
    ));
    let t2 = Instant::now();
    let max = load::run(&load::Load { rate: None, ..base });
    let t3 = Instant::now();
    let (cpu1, _) = cgroup::usage(&s.pids, s.own_cgroup);
    judge(
        &max,
        &format!("at maximum with {} connections", opts.connections),
        &opts.path,
    )
    .map_err(fail)?;
    s.cpu_busy += (cpu1 - cpu0).max(0.0);
    s.wall_busy += (t1 - t0).as_secs_f64() + (t3 - t2).as_secs_f64();
    s.rounds.push(Round {
        cpu_at_rate: (cpu_mid - cpu0).max(0.0) / (t1 - t0).as_secs_f64().max(0.001),
        cpu_at_max: (cpu1 - cpu_mid).max(0.0) / (t3 - t2).as_secs_f64().max(0.001),
        fixed_rate,
        max,
        memory_at_rate_bytes,
    });
    Ok(())
}

fn base_load(t: &Target, opts: &BenchOptions) -> load::Load {
    load::Load {
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
    }
}

/// Benchmarks `project`, whose binary is at `binary` and whose image is loaded as `image`.
///
/// Every mode is started first (each one's cold start measured alone) and stays up, idle while
/// the others are loaded; then the rounds go through the modes in turn (A, B, C, A, B, C, …),
/// so that a slow or busy stretch of a shared machine falls on every mode rather than on one;
/// then each mode's fault recovery is measured and the mode removed. `progress` gets a
/// spinner's line, `note` a line worth printing (what a slow start waits for).
pub fn bench(
    project: &Project,
    binary_built: &std::path::Path,
    image: &str,
    image_size: u64,
    opts: &BenchOptions,
    progress: &dyn Fn(&str),
    note: &dyn Fn(&str),
) -> Result<BenchReport, BenchError> {
    let n = cores();
    let split = n >= 2;
    if split {
        pin_self(0);
    }
    target::cleanup::on_interrupt();
    let mut env: Vec<String> = project
        .image
        .env
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    // A secret the app needs gets a stand-in value unless one is given.
    for s in &project.deploy.secrets {
        if !opts.env.iter().any(|e| e.split('=').next() == Some(&s.env)) {
            env.push(format!("{}=drydock-bench", s.env));
        }
    }
    env.extend(opts.env.iter().cloned());
    // The process mode runs a copy of its own: the build's binary may be a blob of the rebuild
    // cache, which is not executable and must not change.
    let own = tempfile::Builder::new()
        .prefix("drydock-bench-")
        .tempdir()
        .map_err(|e| BenchError::Mode {
            mode: "process".into(),
            what: format!("a temporary directory: {e}"),
            fix: None,
        })?;
    let binary = &own.path().join(project.name.as_str());
    std::fs::copy(binary_built, binary)
        .and_then(|_| {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(binary, std::fs::Permissions::from_mode(0o755))
        })
        .map_err(|e| BenchError::Mode {
            mode: "process".into(),
            what: format!("copying {}: {e}", binary_built.display()),
            fix: None,
        })?;
    let start_with = Start {
        binary,
        image,
        env: &env,
        split,
        replicas: opts.replicas,
    };
    let mut started = Vec::new();
    for &mode in &opts.modes {
        started.push(start_mode(
            mode,
            project,
            &start_with,
            opts,
            progress,
            note,
        )?);
    }
    for (round, mode) in schedule(started.len(), opts.rounds) {
        measure_round(&mut started[mode], opts, round, progress)?;
    }
    let mut reports = Vec::new();
    for s in started {
        reports.push(finish(s, project, image, image_size, opts, split, progress));
    }
    let mut report = BenchReport {
        recommendation: None,
        project: project.name.clone(),
        path: opts.path.clone(),
        rate: opts.rate,
        connections: opts.connections,
        cores: n,
        rounds: opts.rounds.max(1),
        modes: reports,
        noise: Vec::new(),
    };
    report.noise = noise(&report);
    Ok(report)
}

/// The order the rounds run in: (round, mode index) pairs, the modes taking turns within each
/// round (A, B, C, A, B, C, …) rather than one mode's rounds back to back. At least one round.
fn schedule(modes: usize, rounds: u32) -> Vec<(u32, usize)> {
    (0..rounds.max(1))
        .flat_map(|round| (0..modes).map(move |mode| (round, mode)))
        .collect()
}

/// A mode's figures over its rounds, its fault recovery, and its removal.
fn finish(
    s: Started,
    project: &Project,
    image: &str,
    image_size: u64,
    opts: &BenchOptions,
    split: bool,
    progress: &dyn Fn(&str),
) -> ModeReport {
    let Started {
        mode,
        name,
        target: mut t,
        cold_start_ms,
        pids,
        own_cgroup,
        pressure0: (thr0, oom0),
        rounds,
        cpu_busy,
        wall_busy,
    } = s;
    let (_, peak) = cgroup::usage(&pids, own_cgroup);
    let (thr1, oom1) = cgroup::pressure(&pids);
    let delta = |a: Option<u64>, b: Option<u64>| Some(b?.saturating_sub(a?));
    let fixed: Vec<load::Outcome> = rounds.iter().map(|r| r.fixed_rate.clone()).collect();
    let maxes: Vec<load::Outcome> = rounds.iter().map(|r| r.max.clone()).collect();
    let fixed_rate = load::Outcome::median_of(&fixed);
    let max = load::Outcome::median_of(&maxes);
    let round_cpu = |r: &Round| {
        let (a, b) = (r.fixed_rate.seconds, r.max.seconds);
        (r.cpu_at_rate * a + r.cpu_at_max * b) / (a + b).max(0.001)
    };
    let spread = Spreads {
        latency_mean_ms: Spread::of(rounds.iter().map(|r| r.fixed_rate.latency_ms.mean)),
        latency_p99_ms: Spread::of(rounds.iter().map(|r| r.fixed_rate.latency_ms.p99)),
        max_throughput: Spread::of(rounds.iter().map(|r| r.max.throughput)),
        service_cpu: Spread::of(rounds.iter().map(round_cpu)),
    };
    if max.generator_cpu > 0.9 && split {
        t.notes.push(format!("the generator used {:.2} cores at maximum: it may have been the limit, not the service", max.generator_cpu));
    }
    let (recovery, update) = if opts.fault {
        progress(&format!("{name}: SIGKILL under load"));
        let base = base_load(&t, opts);
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
    ModeReport {
        mode,
        replicas: (mode == Mode::Swarm).then_some(opts.replicas),
        tls,
        cold_start_ms,
        service_cpu: cpu_busy / wall_busy.max(0.001),
        cpu_at_rate: median(rounds.iter().map(|r| r.cpu_at_rate)),
        cpu_at_max: median(rounds.iter().map(|r| r.cpu_at_max)),
        memory_at_rate_bytes: median(rounds.iter().map(|r| r.memory_at_rate_bytes as f64)) as u64,
        fixed_rate,
        max,
        spread,
        peak_memory_bytes: peak,
        throttled_periods: if own_cgroup { delta(thr0, thr1) } else { None },
        oom_kills: if own_cgroup { delta(oom0, oom1) } else { None },
        image_size_bytes: (mode != Mode::Process).then_some(image_size),
        recovery,
        update,
        notes: std::mem::take(&mut t.notes),
        rounds,
    }
}

/// What the rounds say about the table: where two modes' figures differ less than the rounds
/// varied (their ranges overlap), and where one figure varied widely. One round: that there is
/// no spread to judge by.
pub fn noise(r: &BenchReport) -> Vec<String> {
    if r.rounds < 2 {
        return vec!["one round per mode: the figures carry no measure of this machine's noise; --rounds 3 or more shows it".into()];
    }
    let mut said = Vec::new();
    let name = |m: &ModeReport| format!("{:?}", m.mode).to_lowercase();
    type Figure = (&'static str, fn(&Spreads) -> Spread, &'static str);
    let figures: [Figure; 2] = [
        ("throughput at max", |s| s.max_throughput, "req/s"),
        ("avg latency", |s| s.latency_mean_ms, "ms"),
    ];
    for (figure, get, unit) in figures {
        let mut modes: Vec<(&ModeReport, Spread)> =
            r.modes.iter().map(|m| (m, get(&m.spread))).collect();
        modes.sort_by(|a, b| a.1.median.total_cmp(&b.1.median));
        let within: Vec<String> = modes
            .windows(2)
            .filter(|w| w[0].1.overlaps(&w[1].1))
            .map(|w| format!("{} and {}", name(w[0].0), name(w[1].0)))
            .collect();
        if !within.is_empty() {
            said.push(format!(
                "{figure}: the differences between {} are within the noise (their ranges over {} rounds overlap)",
                within.join(", "),
                r.rounds
            ));
        }
        for (m, s) in &modes {
            if s.median > 0.0 && (s.max - s.min) / s.median > 0.5 {
                said.push(format!(
                    "{figure}: {} varied from {} to {} {unit} over {} rounds: this machine was noisy; more rounds (--rounds) narrow the median",
                    name(m),
                    short(s.min),
                    short(s.max),
                    r.rounds
                ));
            }
        }
    }
    said
}

fn short(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_take_turns_between_the_modes() {
        // Two modes, three rounds: A, B, A, B, A, B — never one mode's rounds back to back.
        assert_eq!(
            schedule(2, 3),
            vec![(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1)]
        );
        let plan = schedule(3, 4);
        assert_eq!(plan.len(), 12);
        for (i, &(round, mode)) in plan.iter().enumerate() {
            assert_eq!((round, mode), ((i / 3) as u32, i % 3), "{plan:?}");
        }
        // --rounds 0 is one round; one mode is its rounds in order.
        assert_eq!(schedule(2, 0), vec![(0, 0), (0, 1)]);
        assert_eq!(schedule(1, 3), vec![(0, 0), (1, 0), (2, 0)]);
    }

    fn outcome(requests: u64, errors: load::Errors, throughput: f64, mean: f64) -> load::Outcome {
        load::Outcome {
            requests,
            unanswered: 0,
            errors,
            throughput,
            latency_ms: load::Percentiles {
                mean,
                p50: mean,
                p90: mean,
                p99: mean,
                p999: mean,
                max: mean * 2.0,
            },
            generator_cpu: 0.1,
            seconds: 4.0,
        }
    }

    #[test]
    fn medians_and_spreads() {
        assert_eq!(median([3.0, 1.0, 2.0].into_iter()), 2.0);
        assert_eq!(median([4.0, 1.0, 2.0, 3.0].into_iter()), 2.5);
        assert_eq!(median(std::iter::empty()), 0.0);
        let s = Spread::of([4900.0, 36000.0, 20000.0].into_iter());
        assert_eq!((s.median, s.min, s.max), (20000.0, 4900.0, 36000.0));
        assert!(s.overlaps(&Spread {
            median: 30000.0,
            min: 25000.0,
            max: 40000.0
        }));
        assert!(!s.overlaps(&Spread {
            median: 50000.0,
            min: 40000.0,
            max: 60000.0
        }));
        let rounds = [
            outcome(
                100,
                load::Errors {
                    io: 1,
                    ..Default::default()
                },
                10.0,
                1.0,
            ),
            outcome(100, load::Errors::default(), 30.0, 3.0),
            outcome(
                100,
                load::Errors {
                    io: 2,
                    ..Default::default()
                },
                20.0,
                9.0,
            ),
        ];
        let m = load::Outcome::median_of(&rounds);
        assert_eq!(
            (m.requests, m.errors.io, m.seconds),
            (300, 3, 12.0),
            "summed"
        );
        assert_eq!((m.throughput, m.latency_ms.mean), (20.0, 3.0), "medians");
        assert_eq!(m.latency_ms.max, 18.0, "the slowest answer of all");
    }

    #[test]
    fn a_run_whose_requests_all_or_mostly_fail_is_judged_a_failure_saying_what_they_got() {
        let mut e = load::Errors {
            status: 1000,
            ..Default::default()
        };
        e.codes.insert(404, 1000);
        let err = judge(&outcome(1000, e, 0.0, 0.0), "at 200 req/s", "/nope").unwrap_err();
        assert!(
            err.problem
                .contains("1000 of 1000 requests to GET /nope failed (1000 answered HTTP 404)"),
            "{err:?}"
        );
        assert!(
            err.fix
                .as_deref()
                .unwrap()
                .starts_with("--path names a path the service answers with 2xx"),
            "{err:?}"
        );
        // Most, not all: more than half failing is a failure too; connect errors say so.
        let e = load::Errors {
            connect: 600,
            ..Default::default()
        };
        let err = judge(&outcome(1000, e, 0.0, 0.0), "at maximum", "/").unwrap_err();
        assert!(
            err.problem.contains("600 could not connect") && err.fix.unwrap().contains("PORT"),
            "{}",
            err.problem
        );
        // Under half: the table shows them as errors, and the run stands.
        let e = load::Errors {
            timeout: 400,
            ..Default::default()
        };
        assert!(judge(&outcome(1000, e, 10.0, 1.0), "x", "/").is_ok());
        assert!(judge(&outcome(0, load::Errors::default(), 0.0, 0.0), "x", "/").is_err());
    }
}
