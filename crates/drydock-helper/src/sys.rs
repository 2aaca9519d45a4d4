//! The few libc calls the helper needs, declared by hand: the helper is compiled by rustc alone
//! (no crates, see Cargo.toml), so the `libc` crate is not available. x86_64 Linux values.

use std::os::raw::{c_int, c_ulong};

pub const SIGHUP: c_int = 1;
pub const SIGINT: c_int = 2;
pub const SIGQUIT: c_int = 3;
pub const SIGUSR1: c_int = 10;
pub const SIGUSR2: c_int = 12;
pub const SIGTERM: c_int = 15;
pub const SIGCHLD: c_int = 17;
pub const SIGWINCH: c_int = 28;

const SIG_BLOCK: c_int = 0;
const WNOHANG: c_int = 1;
const PR_SET_CHILD_SUBREAPER: c_int = 36;

/// glibc's sigset_t: 1024 bits.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SigSet([c_ulong; 16]);

#[repr(C)]
struct SigInfo([u64; 16]);

#[repr(C)]
struct CpuSet([u64; 16]);

extern "C" {
    fn sigemptyset(set: *mut SigSet) -> c_int;
    fn sigaddset(set: *mut SigSet, sig: c_int) -> c_int;
    fn sigprocmask(how: c_int, set: *const SigSet, old: *mut SigSet) -> c_int;
    fn sigwaitinfo(set: *const SigSet, info: *mut SigInfo) -> c_int;
    fn waitpid(pid: c_int, status: *mut c_int, options: c_int) -> c_int;
    fn kill(pid: c_int, sig: c_int) -> c_int;
    fn prctl(option: c_int, arg2: c_ulong, arg3: c_ulong, arg4: c_ulong, arg5: c_ulong) -> c_int;
    fn getpid() -> c_int;
    fn sched_getaffinity(pid: c_int, size: usize, mask: *mut CpuSet) -> c_int;
}

impl SigSet {
    pub fn of(signals: &[c_int]) -> SigSet {
        let mut s = SigSet([0; 16]);
        // SAFETY: `s` is a valid, writable sigset_t-sized buffer.
        unsafe {
            sigemptyset(&mut s);
            for &sig in signals {
                sigaddset(&mut s, sig);
            }
        }
        s
    }
}

/// Blocks these signals for the calling thread (the helper is single-threaded).
pub fn block(set: &SigSet) -> std::io::Result<()> {
    // SAFETY: valid pointers; a null old set is allowed.
    let r = unsafe { sigprocmask(SIG_BLOCK, set, std::ptr::null_mut()) };
    if r == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
}

/// Waits for one of the (blocked) signals in `set`.
pub fn wait_signal(set: &SigSet) -> c_int {
    let mut info = SigInfo([0; 16]);
    loop {
        // SAFETY: valid pointers to a sigset and a siginfo-sized buffer.
        let r = unsafe { sigwaitinfo(set, &mut info) };
        if r > 0 {
            return r;
        }
        // EINTR: try again.
    }
}

pub enum Reaped {
    /// A child exited with this status word.
    Child(c_int, c_int),
    /// Children exist but none has exited.
    None,
    /// No children left.
    NoChildren,
}

pub fn reap_one() -> Reaped {
    let mut status = 0;
    // SAFETY: valid pointer for the status word.
    let pid = unsafe { waitpid(-1, &mut status, WNOHANG) };
    match pid {
        p if p > 0 => Reaped::Child(p, status),
        0 => Reaped::None,
        _ => Reaped::NoChildren,
    }
}

/// The shell's convention: the exit code, or 128 + the signal that killed it.
pub fn exit_code(status: c_int) -> i32 {
    let sig = status & 0x7f;
    if sig == 0 { (status >> 8) & 0xff } else { 128 + sig }
}

pub fn send(pid: c_int, sig: c_int) {
    // SAFETY: plain syscall; a failure (child already gone) is harmless.
    unsafe {
        kill(pid, sig);
    }
}

pub fn pid() -> c_int {
    // SAFETY: always succeeds.
    unsafe { getpid() }
}

/// Makes orphaned descendants ours to reap when we are not PID 1.
pub fn become_subreaper() {
    // SAFETY: plain prctl.
    unsafe {
        prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    }
}

/// CPUs this process may run on (the affinity mask), or None when it cannot be read.
pub fn affinity_cpus() -> Option<u32> {
    let mut set = CpuSet([0; 16]);
    // SAFETY: the buffer is the size we pass.
    let r = unsafe { sched_getaffinity(0, std::mem::size_of::<CpuSet>(), &mut set) };
    (r == 0).then(|| set.0.iter().map(|w| w.count_ones()).sum::<u32>()).filter(|n| *n > 0)
}
