//! Raw Linux system calls (x86_64 and aarch64: the numbers and the instruction are in `sys/`),
//! and the little runtime a program without libc needs.
//!
//! The helper uses no libc at all: a static glibc costs 700 KB before the first line of code,
//! and glibc's IFUNC-resolved string functions need its start-up code. The kernel interface
//! it needs is small and stable, so it is spoken directly here. Everything else in the helper
//! goes through these wrappers; they also work inside the std test harness.

use alloc::string::String;
use alloc::vec::Vec;

pub const SIGHUP: i32 = 1;
pub const SIGINT: i32 = 2;
pub const SIGQUIT: i32 = 3;
pub const SIGUSR1: i32 = 10;
pub const SIGUSR2: i32 = 12;
pub const SIGTERM: i32 = 15;
pub const SIGCHLD: i32 = 17;
pub const SIGWINCH: i32 = 28;

pub const ENOENT: i64 = 2;
pub const EINTR: i64 = 4;
pub const EACCES: i64 = 13;
pub const EAGAIN: i64 = 11;
pub const EINPROGRESS: i64 = 115;

// The system call numbers and the instruction that makes the call: per architecture.
#[cfg(target_arch = "x86_64")]
#[path = "sys/x86_64.rs"]
mod arch;
#[cfg(target_arch = "aarch64")]
#[path = "sys/aarch64.rs"]
mod arch;
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
compile_error!("drydock-helper has system calls for x86_64 and aarch64 only (see sys/)");
use arch::*;

fn sc(n: i64, a: [i64; 6]) -> i64 {
    // SAFETY: every wrapper below passes valid pointers and sizes for its call.
    unsafe { syscall(n, a) }
}

pub fn write_all(fd: i32, mut b: &[u8]) {
    while !b.is_empty() {
        let r = sc(
            SYS_WRITE,
            [fd as i64, b.as_ptr() as i64, b.len() as i64, 0, 0, 0],
        );
        if r == -EINTR {
            continue;
        }
        if r <= 0 {
            return;
        }
        b = &b[r as usize..];
    }
}

pub fn exit(code: i32) -> ! {
    sc(SYS_EXIT_GROUP, [code as i64, 0, 0, 0, 0, 0]);
    loop {}
}

/// A NUL-terminated copy of `s`.
pub fn cstr(s: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(s.len() + 1);
    v.extend_from_slice(s);
    v.push(0);
    v
}

/// Reads a whole (small) file, e.g. under /proc or /sys.
pub fn read_file(path: &str) -> Option<String> {
    let p = cstr(path.as_bytes());
    const O_RDONLY_CLOEXEC: i64 = 0o2000000;
    let fd = sc(
        SYS_OPENAT,
        [-100, p.as_ptr() as i64, O_RDONLY_CLOEXEC, 0, 0, 0],
    );
    if fd < 0 {
        return None;
    }
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let r = sc(
            SYS_READ,
            [fd, buf.as_mut_ptr() as i64, buf.len() as i64, 0, 0, 0],
        );
        if r == -EINTR {
            continue;
        }
        if r <= 0 {
            sc(SYS_CLOSE, [fd, 0, 0, 0, 0, 0]);
            return if r == 0 {
                String::from_utf8(out).ok()
            } else {
                None
            };
        }
        out.extend_from_slice(&buf[..r as usize]);
    }
}

/// The kernel's sigset_t: 64 bits, bit n-1 for signal n.
#[derive(Clone, Copy)]
pub struct SigSet(u64);

impl SigSet {
    pub fn of(signals: &[i32]) -> SigSet {
        SigSet(signals.iter().fold(0, |m, s| m | 1u64 << (s - 1)))
    }
}

pub fn block(set: &SigSet) -> Result<(), i64> {
    let r = sc(
        SYS_RT_SIGPROCMASK,
        [
            0, /* SIG_BLOCK */
            &set.0 as *const u64 as i64,
            0,
            8,
            0,
            0,
        ],
    );
    if r == 0 {
        Ok(())
    } else {
        Err(-r)
    }
}

fn unblock_all() {
    let empty = 0u64;
    sc(
        SYS_RT_SIGPROCMASK,
        [
            2, /* SIG_SETMASK */
            &empty as *const u64 as i64,
            0,
            8,
            0,
            0,
        ],
    );
}

/// Waits for one of the (blocked) signals in `set`.
pub fn wait_signal(set: &SigSet) -> i32 {
    loop {
        if let Some(sig) = wait_signal_for(set, None) {
            return sig;
        }
    }
}

/// Waits for one of the (blocked) signals in `set`, for at most `ms` milliseconds (`None`:
/// forever). `None` when the time ran out first.
pub fn wait_signal_for(set: &SigSet, ms: Option<u64>) -> Option<i32> {
    let mut info = [0u64; 16];
    let deadline = ms.map(|ms| now_ms() + ms);
    loop {
        let left = deadline.map(|d| d.saturating_sub(now_ms()));
        let ts = left.map(|l| [(l / 1000) as i64, ((l % 1000) * 1_000_000) as i64]);
        let r = sc(
            SYS_RT_SIGTIMEDWAIT,
            [
                &set.0 as *const u64 as i64,
                info.as_mut_ptr() as i64,
                ts.as_ref().map_or(0, |t| t.as_ptr() as i64),
                8,
                0,
                0,
            ],
        );
        if r > 0 {
            return Some(r as i32);
        }
        // EAGAIN: the time ran out; anything else (EINTR) is waited out again.
        if r == -EAGAIN || left == Some(0) {
            return None;
        }
    }
}

pub enum Reaped {
    Child(i32, i32),
    None,
    NoChildren,
}

pub fn reap_one() -> Reaped {
    let mut status: i32 = 0;
    let r = sc(
        SYS_WAIT4,
        [
            -1,
            &mut status as *mut i32 as i64,
            1, /* WNOHANG */
            0,
            0,
            0,
        ],
    );
    match r {
        p if p > 0 => Reaped::Child(p as i32, status),
        0 => Reaped::None,
        _ => Reaped::NoChildren,
    }
}

/// The shell's convention: the exit code, or 128 + the signal that killed it.
pub fn exit_code(status: i32) -> i32 {
    let sig = status & 0x7f;
    if sig == 0 {
        (status >> 8) & 0xff
    } else {
        128 + sig
    }
}

pub fn send(pid: i32, sig: i32) {
    sc(SYS_KILL, [pid as i64, sig as i64, 0, 0, 0, 0]);
}

pub fn pid() -> i32 {
    sc(SYS_GETPID, [0; 6]) as i32
}

/// Makes orphaned descendants ours to reap when we are not PID 1.
pub fn become_subreaper() {
    sc(SYS_PRCTL, [36 /* PR_SET_CHILD_SUBREAPER */, 1, 0, 0, 0, 0]);
}

/// CPUs this process may run on (the affinity mask), or None when it cannot be read.
pub fn affinity_cpus() -> Option<u32> {
    let mut set = [0u64; 16];
    let r = sc(
        SYS_SCHED_GETAFFINITY,
        [0, 128, set.as_mut_ptr() as i64, 0, 0, 0],
    );
    (r > 0)
        .then(|| set.iter().map(|w| w.count_ones()).sum::<u32>())
        .filter(|n| *n > 0)
}

/// Starts `path` (searched in PATH when it has no `/`) as a child with an empty signal mask.
/// `argv` and `envp` are NUL-terminated pointer arrays. Returns the child's pid or an errno.
pub fn spawn(
    path: &[u8],
    argv: &[*const u8],
    envp: &[*const u8],
    search_path: Option<&[u8]>,
) -> Result<i32, i64> {
    let candidates: Vec<Vec<u8>> = if path.contains(&b'/') {
        alloc::vec![cstr(path)]
    } else {
        search_path
            .unwrap_or(b"/usr/local/bin:/usr/bin:/bin")
            .split(|c| *c == b':')
            .map(|d| {
                let mut p = d.to_vec();
                p.push(b'/');
                p.extend_from_slice(path);
                cstr(&p)
            })
            .collect()
    };
    // A pipe would be the classic way to report exec failure; a pre-check is enough here.
    let pid = sc(FORK.0, FORK.1);
    if pid < 0 {
        return Err(-pid);
    }
    if pid == 0 {
        unblock_all();
        let mut err = ENOENT;
        for c in &candidates {
            let r = sc(
                SYS_EXECVE,
                [
                    c.as_ptr() as i64,
                    argv.as_ptr() as i64,
                    envp.as_ptr() as i64,
                    0,
                    0,
                    0,
                ],
            );
            if r != -ENOENT {
                err = -r;
            }
        }
        let mut msg = b"drydock-helper: cannot exec ".to_vec();
        msg.extend_from_slice(path);
        msg.extend_from_slice(if err == ENOENT {
            b": no such file\n".as_slice()
        } else if err == EACCES {
            b": permission denied\n".as_slice()
        } else {
            b": exec failed\n".as_slice()
        });
        write_all(2, &msg);
        exit(if err == EACCES { 126 } else { 127 });
    }
    Ok(pid as i32)
}

/// Milliseconds on the monotonic clock.
pub fn now_ms() -> u64 {
    let mut ts = [0i64; 2];
    sc(
        SYS_CLOCK_GETTIME,
        [
            1, /* CLOCK_MONOTONIC */
            ts.as_mut_ptr() as i64,
            0,
            0,
            0,
            0,
        ],
    );
    ts[0] as u64 * 1000 + ts[1] as u64 / 1_000_000
}

pub struct Socket(i64);

impl Drop for Socket {
    fn drop(&mut self) {
        sc(SYS_CLOSE, [self.0, 0, 0, 0, 0, 0]);
    }
}

fn poll(fd: i64, events: i16, timeout_ms: u64) -> bool {
    #[repr(C)]
    struct PollFd {
        fd: i32,
        events: i16,
        revents: i16,
    }
    let mut p = PollFd {
        fd: fd as i32,
        events,
        revents: 0,
    };
    loop {
        let r = poll_one(
            &mut p as *mut PollFd as i64,
            timeout_ms.min(i32::MAX as u64) as i64,
        );
        if r == -EINTR {
            continue;
        }
        return r > 0;
    }
}

/// A TCP connection to `addr`, within the deadline (monotonic milliseconds).
pub fn connect(addr: core::net::SocketAddr, deadline: u64) -> Result<Socket, String> {
    let (family, sa): (i64, Vec<u8>) = match addr {
        core::net::SocketAddr::V4(a) => {
            let mut b = alloc::vec![0u8; 16];
            b[0..2].copy_from_slice(&2u16.to_ne_bytes());
            b[2..4].copy_from_slice(&a.port().to_be_bytes());
            b[4..8].copy_from_slice(&a.ip().octets());
            (2, b)
        }
        core::net::SocketAddr::V6(a) => {
            let mut b = alloc::vec![0u8; 28];
            b[0..2].copy_from_slice(&10u16.to_ne_bytes());
            b[2..4].copy_from_slice(&a.port().to_be_bytes());
            b[8..24].copy_from_slice(&a.ip().octets());
            (10, b)
        }
    };
    const SOCK_STREAM_NONBLOCK_CLOEXEC: i64 = 1 | 0o4000 | 0o2000000;
    let fd = sc(
        SYS_SOCKET,
        [family, SOCK_STREAM_NONBLOCK_CLOEXEC, 0, 0, 0, 0],
    );
    if fd < 0 {
        return Err(errno_text(-fd));
    }
    let s = Socket(fd);
    let r = sc(
        SYS_CONNECT,
        [fd, sa.as_ptr() as i64, sa.len() as i64, 0, 0, 0],
    );
    if r == 0 {
        return Ok(s);
    }
    if r != -EINPROGRESS {
        return Err(errno_text(-r));
    }
    if !poll(fd, 4 /* POLLOUT */, deadline.saturating_sub(now_ms())) {
        return Err("timed out".into());
    }
    let mut err: i32 = 0;
    let mut len: u32 = 4;
    sc(
        SYS_GETSOCKOPT,
        [
            fd,
            1, /* SOL_SOCKET */
            4, /* SO_ERROR */
            &mut err as *mut i32 as i64,
            &mut len as *mut u32 as i64,
            0,
        ],
    );
    if err != 0 {
        return Err(errno_text(err as i64));
    }
    Ok(s)
}

impl Socket {
    pub fn send_all(&self, mut b: &[u8], deadline: u64) -> Result<(), String> {
        while !b.is_empty() {
            let r = sc(
                SYS_WRITE,
                [self.0, b.as_ptr() as i64, b.len() as i64, 0, 0, 0],
            );
            if r == -EAGAIN || r == -EINTR {
                if !poll(self.0, 4, deadline.saturating_sub(now_ms())) {
                    return Err("timed out".into());
                }
                continue;
            }
            if r < 0 {
                return Err(errno_text(-r));
            }
            b = &b[r as usize..];
        }
        Ok(())
    }

    /// Reads until `want` bytes, end of stream, or the deadline.
    pub fn recv_some(&self, want: usize, deadline: u64) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        let mut buf = [0u8; 256];
        while out.len() < want {
            let r = sc(
                SYS_READ,
                [self.0, buf.as_mut_ptr() as i64, buf.len() as i64, 0, 0, 0],
            );
            if r == -EAGAIN || r == -EINTR {
                if !poll(
                    self.0,
                    1, /* POLLIN */
                    deadline.saturating_sub(now_ms()),
                ) {
                    return Err("timed out".into());
                }
                continue;
            }
            if r < 0 {
                return Err(errno_text(-r));
            }
            if r == 0 {
                break;
            }
            out.extend_from_slice(&buf[..r as usize]);
        }
        Ok(out)
    }
}

pub fn errno_text(e: i64) -> String {
    let s = match e {
        111 => "connection refused",
        110 => "connection timed out",
        113 => "no route to host",
        101 => "network unreachable",
        104 => "connection reset by peer",
        32 => "broken pipe",
        99 => "address not available",
        97 => "address family not supported",
        _ => return alloc::format!("error {e}"),
    };
    s.into()
}
