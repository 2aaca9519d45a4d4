//! drydock-helper: the small static program drydock puts into every image.
//!
//! - `drydock-helper [--go] [--go-runtime-maxprocs] -- APP [ARGS...]`: runs APP as its child and
//!   stays PID 1. Before that, for Go apps, it sets GOMAXPROCS and GOMEMLIMIT from the
//!   container's cgroup limits, never overriding values the user set. Then it forwards SIGTERM,
//!   SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and SIGWINCH to the app, reaps every zombie, and
//!   exits with the app's status (128+n when signal n killed it).
//! - `drydock-helper probe URL [--timeout D]`: the image's health check.
//!
//! It must stay small and must never take the app down: when it cannot read a limit, it leaves
//! the variable alone and says so.

mod cgroup;
mod probe;
mod sys;

use std::path::Path;
use std::process::Command;

/// Silences the one line the helper prints at start.
const QUIET_ENV: &str = "DRYDOCK_HELPER_QUIET";
const MEMLIMIT_RATIO: f64 = 0.9;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("probe") {
        std::process::exit(probe::main(&args[1..]));
    }
    let mut go = false;
    let mut runtime_maxprocs = false;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--go" => go = true,
            "--go-runtime-maxprocs" => runtime_maxprocs = true,
            "--" => {
                i += 1;
                break;
            }
            "-h" | "--help" => {
                println!("usage: drydock-helper [--go] [--go-runtime-maxprocs] -- APP [ARGS...]\n       drydock-helper probe URL [--timeout 2s]");
                return;
            }
            s if s.starts_with('-') => {
                eprintln!("drydock-helper: unknown option {s:?}");
                std::process::exit(2);
            }
            _ => break,
        }
        i += 1;
    }
    let app = &args[i..];
    if app.is_empty() {
        eprintln!("drydock-helper: no program to run (usage: drydock-helper [--go] -- APP [ARGS...])");
        std::process::exit(2);
    }
    let env = if go { go_env(runtime_maxprocs) } else { Vec::new() };
    std::process::exit(init(app, &env));
}

/// What to set for a Go app, and one line saying why.
fn go_env(runtime_maxprocs: bool) -> Vec<(String, String)> {
    let limits = cgroup::read_limits(Path::new("/"));
    let mut set = Vec::new();
    let mut said = Vec::new();
    match std::env::var("GOMAXPROCS") {
        Ok(v) if !v.is_empty() => said.push(format!("GOMAXPROCS={v} kept (set by the user)")),
        _ if runtime_maxprocs => said.push("GOMAXPROCS left to the Go runtime (Go 1.25+ follows the CPU limit itself)".into()),
        _ => match limits.cpu {
            Some(cores) => {
                let n = gomaxprocs(cores, sys::affinity_cpus());
                said.push(format!("GOMAXPROCS={n} (CPU limit {cores:.2})"));
                set.push(("GOMAXPROCS".into(), n.to_string()));
            }
            None => said.push("GOMAXPROCS unset (no CPU limit)".into()),
        },
    }
    match std::env::var("GOMEMLIMIT") {
        Ok(v) if !v.is_empty() => said.push(format!("GOMEMLIMIT={v} kept (set by the user)")),
        _ => match limits.memory {
            Some(bytes) => {
                let v = gomemlimit(bytes);
                said.push(format!("GOMEMLIMIT={v} (90% of the {bytes}-byte memory limit)"));
                set.push(("GOMEMLIMIT".into(), v.to_string()));
            }
            None => said.push("GOMEMLIMIT unset (no memory limit)".into()),
        },
    }
    if std::env::var_os(QUIET_ENV).is_none() {
        eprintln!("drydock-helper: {}", said.join(", "));
    }
    set
}

/// CPU quota to GOMAXPROCS: rounded up, at least 1, at most the CPUs we may run on.
///
/// Up, as Go 1.25's runtime does, not down as automaxprocs does: with `--cpus 1.5`, flooring
/// to 1 leaves a third of the quota unused for good, while 2 threads only risk brief throttling
/// at the end of a period under full load. Unlike the runtime's minimum of 2, a limit below one
/// core gives 1: two busy threads on half a core are throttled every period.
pub fn gomaxprocs(cores: f64, affinity: Option<u32>) -> u32 {
    let n = (cores.ceil() as u32).max(1);
    affinity.map_or(n, |a| n.min(a.max(1)))
}

/// About 90% of the limit, leaving headroom for memory the Go runtime does not manage
/// (the Go GC guide's advice, and automemlimit's default).
pub fn gomemlimit(limit: u64) -> u64 {
    (limit as f64 * MEMLIMIT_RATIO) as u64
}

/// Runs the app as a child and behaves as init until it exits. Returns the exit code.
fn init(app: &[String], env: &[(String, String)]) -> i32 {
    use sys::*;
    let forwarded = [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH];
    let mut all = forwarded.to_vec();
    all.push(SIGCHLD);
    let set = SigSet::of(&all);
    // Blocked before the child exists, so no signal is lost in between. std's Command gives the
    // child an empty signal mask and default dispositions before exec.
    if let Err(e) = block(&set) {
        eprintln!("drydock-helper: cannot block signals: {e}");
        return 1;
    }
    if sys::pid() != 1 {
        become_subreaper();
    }
    let child = match Command::new(&app[0]).args(&app[1..]).envs(env.iter().map(|(k, v)| (k, v))).spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("drydock-helper: cannot start {}: {e}", app[0]);
            return match e.kind() {
                std::io::ErrorKind::NotFound => 127,
                std::io::ErrorKind::PermissionDenied => 126,
                _ => 1,
            };
        }
    };
    let main_pid = child.id() as i32;
    // The child is reaped below with waitpid(-1), not through `child`.
    std::mem::forget(child);
    loop {
        let sig = wait_signal(&set);
        if sig != SIGCHLD {
            send(main_pid, sig);
            continue;
        }
        loop {
            match reap_one() {
                Reaped::Child(pid, status) if pid == main_pid => return exit_code(status),
                Reaped::Child(..) => continue,
                Reaped::None | Reaped::NoChildren => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_up_and_capped() {
        assert_eq!(gomaxprocs(1.5, Some(8)), 2);
        assert_eq!(gomaxprocs(0.5, Some(8)), 1);
        assert_eq!(gomaxprocs(0.01, None), 1);
        assert_eq!(gomaxprocs(2.0, Some(8)), 2);
        assert_eq!(gomaxprocs(6.0, Some(4)), 4);
        assert_eq!(gomemlimit(256 << 20), 241591910);
    }
}
