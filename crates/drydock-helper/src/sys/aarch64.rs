//! Linux system calls on aarch64: the numbers (the generic table, include/uapi/asm-generic/
//! unistd.h) and `svc #0` (number in x8, arguments in x0-x5, result in x0).
//!
//! aarch64 has none of the legacy calls the x86_64 code uses for fork and poll: fork is
//! clone(SIGCHLD) with no new stack, and poll is ppoll with a timespec. Everything else the
//! helper needs exists under the same name (openat, wait4, rt_sigtimedwait, ...), and the
//! signal, errno, socket and open-flag values are the same as on x86_64.

use core::arch::asm;

pub(super) const SYS_READ: i64 = 63;
pub(super) const SYS_WRITE: i64 = 64;
pub(super) const SYS_CLOSE: i64 = 57;
const SYS_PPOLL: i64 = 73;
pub(super) const SYS_RT_SIGPROCMASK: i64 = 135;
pub(super) const SYS_GETPID: i64 = 172;
pub(super) const SYS_SOCKET: i64 = 198;
pub(super) const SYS_CONNECT: i64 = 203;
pub(super) const SYS_GETSOCKOPT: i64 = 209;
const SYS_CLONE: i64 = 220;
pub(super) const SYS_EXECVE: i64 = 221;
pub(super) const SYS_WAIT4: i64 = 260;
pub(super) const SYS_KILL: i64 = 129;
pub(super) const SYS_RT_SIGTIMEDWAIT: i64 = 137;
pub(super) const SYS_PRCTL: i64 = 167;
pub(super) const SYS_SCHED_GETAFFINITY: i64 = 123;
pub(super) const SYS_CLOCK_GETTIME: i64 = 113;
pub(super) const SYS_EXIT_GROUP: i64 = 94;
pub(super) const SYS_OPENAT: i64 = 56;

/// fork() as aarch64 spells it: clone(flags = SIGCHLD, stack = 0 (the parent's, copied),
/// parent_tid, tls, child_tid all unused).
pub(super) const FORK: (i64, [i64; 6]) = (SYS_CLONE, [super::SIGCHLD as i64, 0, 0, 0, 0, 0]);

#[inline(always)]
pub(super) unsafe fn syscall(n: i64, a: [i64; 6]) -> i64 {
    let ret;
    // SAFETY (caller): the arguments are what syscall `n` expects.
    asm!("svc #0", in("x8") n, inlateout("x0") a[0] => ret, in("x1") a[1], in("x2") a[2], in("x3") a[3], in("x4") a[4], in("x5") a[5],
         options(nostack));
    ret
}

/// poll() on one `struct pollfd`, with a timeout in milliseconds: ppoll(fds, 1, &timespec,
/// no signal mask).
#[inline(always)]
pub(super) fn poll_one(pollfd: i64, timeout_ms: i64) -> i64 {
    let ts = [timeout_ms / 1000, timeout_ms % 1000 * 1_000_000];
    super::sc(SYS_PPOLL, [pollfd, 1, ts.as_ptr() as i64, 0, 0, 0])
}
