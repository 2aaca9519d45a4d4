//! The container's CPU and memory limits, from cgroup v1 or v2.
//!
//! The process's cgroup comes from `/proc/self/cgroup`, where its hierarchy is mounted from
//! `/proc/self/mountinfo`. The mount's root is honoured: the path is taken relative to it, as
//! automaxprocs does and Go 1.25's runtime does not (golang/go#76390). Then every level from the
//! process's cgroup up to the mount point is read, and the tightest limit wins: a parent's
//! limit binds its children (automemlimit#31, golang/go#81180). On hybrid hosts a v1 hierarchy
//! that has the controller wins over the unified v2 one. Everything is read below a root
//! directory, `/` in production and a fixture tree in tests. Nothing is ever written.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// CPU bandwidth in cores (quota ÷ period), when limited.
    pub cpu: Option<f64>,
    /// Memory limit in bytes, when limited.
    pub memory: Option<u64>,
}

/// v1 reports "unlimited" as the largest page-aligned i64; anything this large means no limit.
const V1_UNLIMITED: u64 = 1 << 62;

struct CgroupLine {
    id: String,
    controllers: Vec<String>,
    path: String,
}

struct Mount {
    root: String,
    point: String,
    fstype: String,
    super_opts: Vec<String>,
}

fn parse_cgroup(text: &str) -> Vec<CgroupLine> {
    text.lines()
        .filter_map(|l| {
            let mut it = l.splitn(3, ':');
            let id = it.next()?.to_string();
            let ctrl = it.next()?;
            let path = it.next()?.to_string();
            let controllers = ctrl
                .split(',')
                .filter(|c| !c.is_empty())
                .map(|c| c.trim_start_matches("name=").to_string())
                .collect();
            Some(CgroupLine {
                id,
                controllers,
                path,
            })
        })
        .collect()
}

/// Mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parse_mountinfo(text: &str) -> Vec<Mount> {
    text.lines()
        .filter_map(|l| {
            let (pre, post) = l.split_once(" - ")?;
            let pre: Vec<&str> = pre.split(' ').collect();
            let post: Vec<&str> = post.split(' ').collect();
            if pre.len() < 5 || post.len() < 3 {
                return None;
            }
            Some(Mount {
                root: unescape(pre[3]),
                point: unescape(pre[4]),
                fstype: post[0].to_string(),
                super_opts: post[2].split(',').map(str::to_string).collect(),
            })
        })
        .collect()
}

/// The directories to read, leaf first, up to and including the mount point.
fn levels(root: &str, mount: &Mount, cgroup_path: &str) -> Option<Vec<String>> {
    let mroot = mount.root.trim_end_matches('/');
    let rel = if mroot.is_empty() {
        cgroup_path.trim_start_matches('/')
    } else if cgroup_path == mroot {
        ""
    } else {
        cgroup_path.strip_prefix(&format!("{mroot}/"))?
    };
    let base = format!(
        "{}/{}",
        root.trim_end_matches('/'),
        mount.point.trim_start_matches('/')
    );
    let mut dirs = Vec::new();
    let parts: Vec<&str> = rel
        .split('/')
        .filter(|s| !s.is_empty() && *s != "..")
        .collect();
    for n in (0..=parts.len()).rev() {
        let mut d = base.trim_end_matches('/').to_string();
        for p in &parts[..n] {
            d.push('/');
            d.push_str(p);
        }
        dirs.push(d);
    }
    Some(dirs)
}

fn read(path: String) -> Option<String> {
    crate::sys::read_file(&path)
}

fn file(dir: &str, name: &str) -> String {
    format!("{dir}/{name}")
}

fn min_f(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

fn min_u(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// `cpu.max`: "max 100000" or "150000 100000" (a lone quota means the default period).
fn v2_cpu(dir: &str) -> Option<f64> {
    let text = read(file(dir, "cpu.max"))?;
    let mut f = text.split_whitespace();
    let quota = f.next()?;
    let period: f64 = f.next().and_then(|p| p.parse().ok()).unwrap_or(100_000.0);
    let quota: f64 = quota.parse().ok()?; // "max" does not parse: no limit here
    (quota > 0.0 && period > 0.0).then(|| quota / period)
}

fn v2_memory(dir: &str) -> Option<u64> {
    read(file(dir, "memory.max"))?.trim().parse().ok()
}

fn v1_cpu(dir: &str) -> Option<f64> {
    let quota: i64 = read(file(dir, "cpu.cfs_quota_us"))?.trim().parse().ok()?;
    let period: i64 = read(file(dir, "cpu.cfs_period_us"))?.trim().parse().ok()?;
    (quota > 0 && period > 0).then(|| quota as f64 / period as f64)
}

fn v1_memory(dir: &str) -> Option<u64> {
    let limit = read(file(dir, "memory.limit_in_bytes"))
        .and_then(|s| s.trim().parse::<u64>().ok())
        .filter(|v| *v < V1_UNLIMITED);
    let hierarchical = read(file(dir, "memory.stat"))
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("hierarchical_memory_limit ")
                    .and_then(|v| v.trim().parse::<u64>().ok())
            })
        })
        .filter(|v| *v < V1_UNLIMITED);
    min_u(limit, hierarchical)
}

/// Reads the limits of the calling process, with `/proc` and `/sys` under `root`.
pub fn read_limits(root: &str) -> Limits {
    let root = root.trim_end_matches('/');
    let cgroups = read(format!("{root}/proc/self/cgroup"))
        .map(|t| parse_cgroup(&t))
        .unwrap_or_default();
    let mounts = read(format!("{root}/proc/self/mountinfo"))
        .map(|t| parse_mountinfo(&t))
        .unwrap_or_default();

    // One resolver per controller: v1 first (a hierarchy that has it), then v2's unified one.
    let resolve = |controller: &str| -> Option<(Vec<String>, bool)> {
        if let Some(line) = cgroups
            .iter()
            .find(|c| c.id != "0" && c.controllers.iter().any(|x| x == controller))
        {
            if let Some(m) = mounts
                .iter()
                .find(|m| m.fstype == "cgroup" && m.super_opts.iter().any(|o| o == controller))
            {
                return levels(root, m, &line.path).map(|l| (l, false));
            }
        }
        let line = cgroups.iter().find(|c| c.id == "0")?;
        let m = mounts.iter().find(|m| m.fstype == "cgroup2")?;
        levels(root, m, &line.path).map(|l| (l, true))
    };

    let cpu = resolve("cpu").and_then(|(dirs, v2)| {
        dirs.iter()
            .map(|d| if v2 { v2_cpu(d) } else { v1_cpu(d) })
            .fold(None, min_f)
    });
    let memory = resolve("memory").and_then(|(dirs, v2)| {
        dirs.iter()
            .map(|d| if v2 { v2_memory(d) } else { v1_memory(d) })
            .fold(None, min_u)
    });
    Limits { cpu, memory }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fixture tree: files given as (path, content).
    fn tree(files: &[(&str, &str)]) -> tempdir::Dir {
        let d = tempdir::Dir::new();
        for (p, c) in files {
            let full = d.0.join(p);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, c).unwrap();
        }
        d
    }

    mod tempdir {
        pub struct Dir(pub std::path::PathBuf);
        impl Dir {
            pub fn new() -> Dir {
                static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
                let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let p = std::env::temp_dir()
                    .join(format!("drydock-helper-test-{}-{n}", std::process::id()));
                let _ = std::fs::remove_dir_all(&p);
                std::fs::create_dir_all(&p).unwrap();
                Dir(p)
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    const V2_MOUNT: &str = "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n";

    #[test]
    fn v2_container_with_its_own_namespace() {
        let t = tree(&[
            ("proc/self/cgroup", "0::/\n"),
            ("proc/self/mountinfo", V2_MOUNT),
            ("sys/fs/cgroup/cpu.max", "150000 100000\n"),
            ("sys/fs/cgroup/memory.max", "268435456\n"),
        ]);
        assert_eq!(
            read_limits(t.0.to_str().unwrap()),
            Limits {
                cpu: Some(1.5),
                memory: Some(268435456)
            }
        );
    }

    #[test]
    fn v2_nested_takes_the_tightest_ancestor() {
        let t = tree(&[
            ("proc/self/cgroup", "0::/kubepods/pod1/ctr\n"),
            ("proc/self/mountinfo", V2_MOUNT),
            ("sys/fs/cgroup/kubepods/cpu.max", "max 100000\n"),
            ("sys/fs/cgroup/kubepods/pod1/cpu.max", "50000 100000\n"),
            ("sys/fs/cgroup/kubepods/pod1/ctr/cpu.max", "200000 100000\n"),
            ("sys/fs/cgroup/kubepods/memory.max", "1073741824\n"),
            ("sys/fs/cgroup/kubepods/pod1/ctr/memory.max", "max\n"),
        ]);
        assert_eq!(
            read_limits(t.0.to_str().unwrap()),
            Limits {
                cpu: Some(0.5),
                memory: Some(1073741824)
            }
        );
    }

    #[test]
    fn v2_lone_quota_uses_the_default_period() {
        let t = tree(&[
            ("proc/self/cgroup", "0::/a\n"),
            ("proc/self/mountinfo", V2_MOUNT),
            ("sys/fs/cgroup/a/cpu.max", "250000\n"),
        ]);
        assert_eq!(read_limits(t.0.to_str().unwrap()).cpu, Some(2.5));
    }

    #[test]
    fn v1_with_a_mount_root_other_than_slash() {
        // Docker on cgroup v1 without a cgroup namespace: the container's cgroup is mounted at
        // /sys/fs/cgroup/<controller>, and /proc/self/cgroup shows the host path.
        let mountinfo = "\
40 30 0:35 /docker/abc /sys/fs/cgroup/cpu,cpuacct ro,nosuid,nodev,noexec,relatime master:17 - cgroup cgroup rw,cpu,cpuacct
41 30 0:36 /docker/abc /sys/fs/cgroup/memory ro,nosuid,nodev,noexec,relatime master:18 - cgroup cgroup rw,memory
";
        let t = tree(&[
            (
                "proc/self/cgroup",
                "12:memory:/docker/abc\n5:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n",
            ),
            ("proc/self/mountinfo", mountinfo),
            ("sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "150000\n"),
            ("sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us", "100000\n"),
            ("sys/fs/cgroup/memory/memory.limit_in_bytes", "268435456\n"),
            (
                "sys/fs/cgroup/memory/memory.stat",
                "cache 0\nhierarchical_memory_limit 9223372036854771712\n",
            ),
        ]);
        assert_eq!(
            read_limits(t.0.to_str().unwrap()),
            Limits {
                cpu: Some(1.5),
                memory: Some(268435456)
            }
        );
    }

    #[test]
    fn v1_nested_below_the_mount_root_and_hierarchical_memory() {
        let mountinfo = "40 30 0:35 /kube /sys/fs/cgroup/cpu ro - cgroup cgroup rw,cpu\n41 30 0:36 / /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory\n";
        let t = tree(&[
            (
                "proc/self/cgroup",
                "3:cpu:/kube/pod/ctr\n4:memory:/kube/pod/ctr\n",
            ),
            ("proc/self/mountinfo", mountinfo),
            ("sys/fs/cgroup/cpu/cpu.cfs_quota_us", "100000\n"),
            ("sys/fs/cgroup/cpu/cpu.cfs_period_us", "100000\n"),
            ("sys/fs/cgroup/cpu/pod/cpu.cfs_quota_us", "-1\n"),
            ("sys/fs/cgroup/cpu/pod/cpu.cfs_period_us", "100000\n"),
            ("sys/fs/cgroup/cpu/pod/ctr/cpu.cfs_quota_us", "300000\n"),
            ("sys/fs/cgroup/cpu/pod/ctr/cpu.cfs_period_us", "100000\n"),
            (
                "sys/fs/cgroup/memory/kube/pod/ctr/memory.limit_in_bytes",
                "9223372036854771712\n",
            ),
            (
                "sys/fs/cgroup/memory/kube/pod/ctr/memory.stat",
                "hierarchical_memory_limit 536870912\n",
            ),
        ]);
        assert_eq!(
            read_limits(t.0.to_str().unwrap()),
            Limits {
                cpu: Some(1.0),
                memory: Some(536870912)
            }
        );
    }

    #[test]
    fn hybrid_prefers_v1_controllers_and_unescapes_mount_points() {
        let mountinfo = "\
30 23 0:26 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
40 30 0:35 / /sys/fs/cgroup/cpu\\040dir ro - cgroup cgroup rw,cpu,cpuacct
";
        let t = tree(&[
            ("proc/self/cgroup", "0::/\n4:cpu,cpuacct:/\n"),
            ("proc/self/mountinfo", mountinfo),
            ("sys/fs/cgroup/cpu dir/cpu.cfs_quota_us", "50000\n"),
            ("sys/fs/cgroup/cpu dir/cpu.cfs_period_us", "100000\n"),
            ("sys/fs/cgroup/unified/memory.max", "1048576\n"),
        ]);
        // CPU from the v1 hierarchy; memory has no v1 hierarchy, so the unified one answers.
        assert_eq!(
            read_limits(t.0.to_str().unwrap()),
            Limits {
                cpu: Some(0.5),
                memory: Some(1048576)
            }
        );
    }

    #[test]
    fn no_limits_anywhere() {
        let t = tree(&[
            ("proc/self/cgroup", "0::/\n"),
            ("proc/self/mountinfo", V2_MOUNT),
            ("sys/fs/cgroup/cpu.max", "max 100000\n"),
            ("sys/fs/cgroup/memory.max", "max\n"),
        ]);
        assert_eq!(
            read_limits(t.0.to_str().unwrap()),
            Limits {
                cpu: None,
                memory: None
            }
        );
        let empty = tree(&[]);
        assert_eq!(
            read_limits(empty.0.to_str().unwrap()),
            Limits {
                cpu: None,
                memory: None
            }
        );
    }

    #[test]
    fn cgroup_outside_the_mount_root_is_not_read() {
        let mountinfo = "40 30 0:35 /docker/abc /sys/fs/cgroup/cpu ro - cgroup cgroup rw,cpu\n";
        let t = tree(&[
            ("proc/self/cgroup", "3:cpu:/elsewhere\n"),
            ("proc/self/mountinfo", mountinfo),
            ("sys/fs/cgroup/cpu/cpu.cfs_quota_us", "100000\n"),
            ("sys/fs/cgroup/cpu/cpu.cfs_period_us", "100000\n"),
        ]);
        assert_eq!(read_limits(t.0.to_str().unwrap()).cpu, None);
    }
}
