//! drydock-helper: the small static program drydock puts into every image.
//!
//! - `drydock-helper [--go] [--go-runtime-maxprocs] -- APP [ARGS...]`: runs APP as its child and
//!   stays PID 1. Before that, for Go apps, it sets GOMAXPROCS and GOMEMLIMIT from the
//!   container's cgroup limits, never overriding values the user set. Then it forwards SIGTERM,
//!   SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and SIGWINCH to the app, reaps every zombie, and
//!   exits with the app's status (128+n when signal n killed it). With DRYDOCK_DRAIN_DELAY set
//!   (`3s`, `2500ms`), the first SIGTERM is held that long while the app keeps serving, so that
//!   a proxy or load balancer still sending to this replica stops before the app closes its
//!   listener (Swarm's DNS, Kubernetes endpoints); a second SIGTERM, or SIGINT, goes at once.
//! - `drydock-helper probe URL [--timeout D]`: the image's health check.
//!
//! It must stay small and must never take the app down: when it cannot read a limit, it leaves
//! the variable alone and says so. It uses no libc (see `sys` and `rt`), which keeps it a few
//! dozen kilobytes; its unit tests run on std.

#![cfg_attr(not(test), no_std)]
#![cfg_attr(not(test), no_main)]
// The init path only exists in the real binary; unit tests exercise the rest.
#![cfg_attr(test, allow(dead_code))]

extern crate alloc;

mod cgroup;
mod probe;
#[cfg(not(test))]
mod rt;
mod sys;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// Silences the one line the helper prints at start.
const QUIET_ENV: &str = "DRYDOCK_HELPER_QUIET";

/// How long to hold the first SIGTERM before passing it on.
const DRAIN_ENV: &str = "DRYDOCK_DRAIN_DELAY";

/// A drain delay: `3s`, `2500ms`, or whole seconds (`3`); at most an hour. `None` for anything
/// else, which the helper reports and ignores (a typo must not keep the app from stopping).
pub fn parse_delay(v: &str) -> Option<u64> {
    let (num, scale) = if let Some(n) = v.strip_suffix("ms") {
        (n, 1)
    } else if let Some(n) = v.strip_suffix('s') {
        (n, 1000)
    } else {
        (v, 1000)
    };
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) || num.len() > 10 {
        return None;
    }
    let ms = num.parse::<u64>().ok()? * scale;
    (ms <= 3_600_000).then_some(ms)
}

const USAGE: &str = "usage: drydock-helper [--go] [--go-runtime-maxprocs] -- APP [ARGS...]\n       drydock-helper probe URL [--timeout 2s]\n";

/// Entry point, called by `rt` with the process arguments in place.
#[cfg(not(test))]
fn main() -> i32 {
    let argv = rt::argv_ptrs();
    let args: Vec<&[u8]> = argv.iter().map(|p| rt::arg(*p)).collect();
    fn text(b: &[u8]) -> &str {
        core::str::from_utf8(b).unwrap_or("")
    }
    if args.get(1).map(|a| text(a)) == Some("probe") {
        let rest: Vec<&str> = args[2..].iter().map(|a| text(a)).collect();
        return probe::main(&rest);
    }
    let mut go = false;
    let mut runtime_maxprocs = false;
    let mut i = 1;
    while i < args.len() {
        match text(args[i]) {
            "--go" => go = true,
            "--go-runtime-maxprocs" => runtime_maxprocs = true,
            "--" => {
                i += 1;
                break;
            }
            "-h" | "--help" => {
                sys::write_all(1, USAGE.as_bytes());
                return 0;
            }
            s if s.starts_with('-') => {
                sys::write_all(
                    2,
                    format!("drydock-helper: unknown option {s:?}\n{USAGE}").as_bytes(),
                );
                return 2;
            }
            _ => break,
        }
        i += 1;
    }
    if i >= args.len() {
        sys::write_all(
            2,
            format!("drydock-helper: no program to run\n{USAGE}").as_bytes(),
        );
        return 2;
    }
    let envp = rt::env_ptrs();
    let getenv = |name: &str| -> Option<&'static [u8]> {
        envp.iter().map(|p| rt::arg(*p)).find_map(|kv| {
            kv.strip_prefix(name.as_bytes())
                .and_then(|r| r.strip_prefix(b"="))
        })
    };
    let mut set = Vec::new();
    if go {
        let user = |k: &str| {
            getenv(k)
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .filter(|v| !v.is_empty())
        };
        let limits = cgroup::read_limits("/");
        let (vars, said) = go_env(
            runtime_maxprocs,
            user("GOMAXPROCS"),
            user("GOMEMLIMIT"),
            limits,
            sys::affinity_cpus(),
        );
        if getenv(QUIET_ENV).is_none() {
            sys::write_all(2, format!("drydock-helper: {said}\n").as_bytes());
        }
        set = vars;
    }
    // The child's environment: ours, minus empty values we replace, plus what we set.
    let added: Vec<Vec<u8>> = set
        .iter()
        .map(|(k, v)| sys::cstr(format!("{k}={v}").as_bytes()))
        .collect();
    let mut child_env: Vec<*const u8> = envp
        .iter()
        .copied()
        .filter(|p| {
            !set.iter().any(|(k, _)| {
                rt::arg(*p)
                    .strip_prefix(k.as_bytes())
                    .is_some_and(|r| r.starts_with(b"="))
            })
        })
        .collect();
    child_env.extend(added.iter().map(|v| v.as_ptr()));
    child_env.push(core::ptr::null());
    let mut child_argv: Vec<*const u8> = argv[i..].to_vec();
    child_argv.push(core::ptr::null());
    let drain_ms = match getenv(DRAIN_ENV).map(text).filter(|v| !v.is_empty()) {
        None => 0,
        Some(v) => parse_delay(v).unwrap_or_else(|| {
            sys::write_all(
                2,
                format!("drydock-helper: {DRAIN_ENV}={v:?} ignored: write 3s, 2500ms or 3\n")
                    .as_bytes(),
            );
            0
        }),
    };
    init(args[i], &child_argv, &child_env, getenv("PATH"), drain_ms)
}

/// What to set for a Go app, and one line saying why.
pub fn go_env(
    runtime_maxprocs: bool,
    user_maxprocs: Option<String>,
    user_memlimit: Option<String>,
    limits: cgroup::Limits,
    affinity: Option<u32>,
) -> (Vec<(String, String)>, String) {
    let mut set = Vec::new();
    let mut said: Vec<String> = Vec::new();
    match user_maxprocs {
        Some(v) => said.push(format!("GOMAXPROCS={v} kept (set by the user)")),
        None if runtime_maxprocs => said.push(
            "GOMAXPROCS left to the Go runtime (Go 1.25+ follows the CPU limit itself)".into(),
        ),
        None => match limits.cpu {
            Some(cores) => {
                let n = gomaxprocs(cores, affinity);
                said.push(format!("GOMAXPROCS={n} (CPU limit {cores:.2})"));
                set.push(("GOMAXPROCS".into(), format!("{n}")));
            }
            None => said.push("GOMAXPROCS unset (no CPU limit)".into()),
        },
    }
    match user_memlimit {
        Some(v) => said.push(format!("GOMEMLIMIT={v} kept (set by the user)")),
        None => match limits.memory {
            Some(bytes) => {
                let v = gomemlimit(bytes);
                said.push(format!(
                    "GOMEMLIMIT={v} (90% of the {bytes}-byte memory limit)"
                ));
                set.push(("GOMEMLIMIT".into(), format!("{v}")));
            }
            None => said.push("GOMEMLIMIT unset (no memory limit)".into()),
        },
    }
    (set, said.join(", "))
}

/// CPU quota to GOMAXPROCS: rounded up, at least 1, at most the CPUs we may run on.
///
/// Go 1.25's runtime uses min(CPUs, max(2, ceil(quota/period))). The helper rounds up the same
/// way, not down as automaxprocs does: with `--cpus 1.5`, flooring to 1 leaves a third of the
/// quota unused for good, while 2 threads only risk brief throttling at the end of a period.
/// It differs below one core, on purpose: the runtime's floor of 2 (kept so that a GC worker
/// can run beside the application, golang/go#73193) puts two busy threads on, say, half a
/// core, which the CFS quota then throttles every period; the helper gives 1 there, as
/// automaxprocs does. So `--cpus 0.5` gives 1 here and 2 under Go 1.25.
pub fn gomaxprocs(cores: f64, affinity: Option<u32>) -> u32 {
    let whole = cores as u32;
    let n = if (whole as f64) < cores {
        whole + 1
    } else {
        whole
    }
    .max(1);
    affinity.map_or(n, |a| n.min(a.max(1)))
}

/// About 90% of the limit, leaving headroom for memory the Go runtime does not manage
/// (the Go GC guide's advice, and automemlimit's default).
pub fn gomemlimit(limit: u64) -> u64 {
    // 0.9 × limit in integers, without overflow.
    limit / 10 * 9 + limit % 10 * 9 / 10
}

/// Runs the app as a child and behaves as init until it exits. Returns the exit code.
#[cfg(not(test))]
fn init(
    app: &[u8],
    argv: &[*const u8],
    envp: &[*const u8],
    path: Option<&[u8]>,
    drain_ms: u64,
) -> i32 {
    use sys::*;
    let forwarded = [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH];
    let mut all = forwarded.to_vec();
    all.push(SIGCHLD);
    let set = SigSet::of(&all);
    // Blocked before the child exists, so no signal is lost in between; the child unblocks
    // everything before exec, and its dispositions are the defaults (we install no handlers).
    if block(&set).is_err() {
        write_all(2, b"drydock-helper: cannot block signals\n");
        return 1;
    }
    if pid() != 1 {
        become_subreaper();
    }
    let main_pid = match spawn(app, argv, envp, path) {
        Ok(p) => p,
        Err(e) => {
            write_all(
                2,
                format!(
                    "drydock-helper: cannot start {}: {}\n",
                    String::from_utf8_lossy(app),
                    errno_text(e)
                )
                .as_bytes(),
            );
            return 1;
        }
    };
    // The first SIGTERM's deadline while it is held; and whether it has been held already.
    let mut held: Option<u64> = None;
    let mut drained = drain_ms == 0;
    loop {
        let sig = match held {
            None => wait_signal(&set),
            Some(deadline) => {
                match wait_signal_for(&set, Some(deadline.saturating_sub(now_ms()))) {
                    Some(sig) => sig,
                    None => {
                        held = None;
                        send(main_pid, SIGTERM);
                        continue;
                    }
                }
            }
        };
        if sig == SIGTERM && !drained {
            drained = true;
            held = Some(now_ms() + drain_ms);
            write_all(
                2,
                format!("drydock-helper: SIGTERM held {drain_ms} ms ({DRAIN_ENV}) while the app keeps serving\n").as_bytes(),
            );
            continue;
        }
        if sig != SIGCHLD {
            if matches!(sig, SIGTERM | SIGINT) {
                held = None;
            }
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
    fn drain_delays_parse_and_typos_do_not() {
        assert_eq!(parse_delay("3s"), Some(3000));
        assert_eq!(parse_delay("2500ms"), Some(2500));
        assert_eq!(parse_delay("3"), Some(3000));
        assert_eq!(parse_delay("0s"), Some(0));
        for bad in ["", "s", "3m", "-1s", "1.5s", "3 s", "99999999999s", "3601s"] {
            assert_eq!(parse_delay(bad), None, "{bad}");
        }
    }

    #[test]
    fn rounding_is_up_and_capped() {
        assert_eq!(gomaxprocs(1.5, Some(8)), 2);
        assert_eq!(gomaxprocs(0.5, Some(8)), 1);
        assert_eq!(gomaxprocs(0.01, None), 1);
        assert_eq!(gomaxprocs(2.0, Some(8)), 2);
        assert_eq!(gomaxprocs(6.0, Some(4)), 4);
        assert_eq!(gomemlimit(256 << 20), 241591910);
    }

    #[test]
    fn decisions() {
        let limited = cgroup::Limits {
            cpu: Some(1.5),
            memory: Some(256 << 20),
        };
        let (set, said) = go_env(false, None, None, limited, Some(2));
        assert_eq!(
            set,
            vec![
                ("GOMAXPROCS".into(), "2".into()),
                ("GOMEMLIMIT".into(), "241591910".into())
            ]
        );
        assert!(said.contains("GOMAXPROCS=2 (CPU limit 1.50)"), "{said}");
        let (set, said) = go_env(
            false,
            Some("4".into()),
            Some("1GiB".into()),
            limited,
            Some(2),
        );
        assert!(
            set.is_empty() && said.contains("kept (set by the user)"),
            "{said}"
        );
        let (set, said) = go_env(true, None, None, limited, Some(2));
        assert_eq!(set, vec![("GOMEMLIMIT".into(), "241591910".into())]);
        assert!(said.contains("left to the Go runtime"), "{said}");
        let (set, _) = go_env(
            false,
            None,
            None,
            cgroup::Limits {
                cpu: None,
                memory: None,
            },
            Some(2),
        );
        assert!(set.is_empty());
    }
}
