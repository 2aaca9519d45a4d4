//! What the service used, read from the kernel: CPU time, memory now and at peak, CPU
//! throttling and OOM kills, from each container's own cgroup (v2, else v1), or from /proc for a
//! bare process (which has no cgroup of its own). Several pids (a stack's replicas) are summed.

use std::path::PathBuf;

/// CPU seconds and peak memory of the service's processes, summed.
pub fn usage(pids: &[u32], own_cgroup: bool) -> (f64, u64) {
    pids.iter().fold((0.0, 0), |(c, m), &pid| {
        let (c1, m1) = usage_one(pid, own_cgroup);
        (c + c1, m + m1)
    })
}

fn usage_one(pid: u32, own_cgroup: bool) -> (f64, u64) {
    let read = |p: PathBuf| std::fs::read_to_string(p).ok();
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
        super::load::cpu_seconds(&pid.to_string(), true),
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

/// The process's own cgroup directory for `controller` and the cgroup version, when it has one.
fn cgroup_dir(pid: u32, controller: &str) -> Option<(PathBuf, u8)> {
    let cg = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    for line in cg.lines() {
        let parts: Vec<&str> = line.splitn(3, ':').collect();
        if parts.len() != 3 {
            continue;
        }
        if parts[1].is_empty() {
            let d = PathBuf::from(format!("/sys/fs/cgroup{}", parts[2]));
            if d.join("cpu.stat").is_file() {
                return Some((d, 2));
            }
        } else if parts[1].split(',').any(|c| c == controller) {
            return Some((
                PathBuf::from(format!("/sys/fs/cgroup/{controller}{}", parts[2])),
                1,
            ));
        }
    }
    None
}

/// CPU throttling periods and OOM kills the kernel counted for the processes' cgroups, summed;
/// `None` where no cgroup says.
pub fn pressure(pids: &[u32]) -> (Option<u64>, Option<u64>) {
    let sum = |f: &dyn Fn(u32) -> Option<u64>| {
        pids.iter()
            .filter_map(|&p| f(p))
            .fold(None, |a: Option<u64>, v| Some(a.unwrap_or(0) + v))
    };
    let throttled = sum(&|pid| {
        cgroup_dir(pid, "cpu").and_then(|(d, _)| {
            std::fs::read_to_string(d.join("cpu.stat"))
                .ok()
                .and_then(|t| field(&t, "nr_throttled "))
        })
    });
    let oom = sum(&|pid| {
        cgroup_dir(pid, "memory").and_then(|(d, v)| {
            let file = if v == 2 {
                "memory.events"
            } else {
                "memory.oom_control"
            };
            std::fs::read_to_string(d.join(file))
                .ok()
                .and_then(|t| field(&t, "oom_kill "))
        })
    });
    (throttled, oom)
}

/// The memory in use now (the cgroups', else the processes' resident sets), summed.
pub fn memory_now(pids: &[u32], own_cgroup: bool) -> u64 {
    pids.iter().map(|&pid| memory_one(pid, own_cgroup)).sum()
}

fn memory_one(pid: u32, own_cgroup: bool) -> u64 {
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

/// Has the process gone (or become a zombie nobody has waited for yet)?
pub fn dead(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, r)| r.split_whitespace().next())
            .is_none_or(|state| state == "Z" || state == "X"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_measured_and_a_gone_one_is_dead() {
        let me = std::process::id();
        let (cpu, peak) = usage(&[me], false);
        assert!(cpu >= 0.0 && peak > 1 << 20, "{cpu} {peak}");
        // Summed over the pids. (Not exactly twice: the kernel updates VmHWM lazily, so a
        // transient peak of the first reading can be gone from the second.)
        assert!(usage(&[me, me], false).1 >= peak * 3 / 2, "summed");
        assert_eq!(usage(&[], false), (0.0, 0));
        assert!(memory_now(&[me], false) > 0);
        assert!(!dead(me));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(dead(pid));
        assert_eq!(
            field("nr_periods 3\nnr_throttled 12\n", "nr_throttled "),
            Some(12)
        );
    }
}
