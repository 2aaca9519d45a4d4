//! Linux system calls on x86_64: the numbers (arch/x86/entry/syscalls/syscall_64.tbl) and the
//! `syscall` instruction (number in rax, arguments in rdi, rsi, rdx, r10, r8, r9).

use core::arch::asm;

pub(super) const SYS_READ: i64 = 0;
pub(super) const SYS_WRITE: i64 = 1;
pub(super) const SYS_CLOSE: i64 = 3;
const SYS_POLL: i64 = 7;
pub(super) const SYS_RT_SIGPROCMASK: i64 = 14;
pub(super) const SYS_GETPID: i64 = 39;
pub(super) const SYS_SOCKET: i64 = 41;
pub(super) const SYS_CONNECT: i64 = 42;
pub(super) const SYS_GETSOCKOPT: i64 = 55;
const SYS_FORK: i64 = 57;
pub(super) const SYS_EXECVE: i64 = 59;
pub(super) const SYS_WAIT4: i64 = 61;
pub(super) const SYS_KILL: i64 = 62;
pub(super) const SYS_RT_SIGTIMEDWAIT: i64 = 128;
pub(super) const SYS_PRCTL: i64 = 157;
pub(super) const SYS_SCHED_GETAFFINITY: i64 = 204;
pub(super) const SYS_CLOCK_GETTIME: i64 = 228;
pub(super) const SYS_EXIT_GROUP: i64 = 231;
pub(super) const SYS_OPENAT: i64 = 257;

/// fork(): the call and its arguments.
pub(super) const FORK: (i64, [i64; 6]) = (SYS_FORK, [0; 6]);

#[inline(always)]
pub(super) unsafe fn syscall(n: i64, a: [i64; 6]) -> i64 {
    let ret;
    // SAFETY (caller): the arguments are what syscall `n` expects.
    asm!("syscall", inlateout("rax") n => ret, in("rdi") a[0], in("rsi") a[1], in("rdx") a[2], in("r10") a[3], in("r8") a[4], in("r9") a[5],
         lateout("rcx") _, lateout("r11") _, options(nostack));
    ret
}

/// poll() on one `struct pollfd`, with a timeout in milliseconds.
#[inline(always)]
pub(super) fn poll_one(pollfd: i64, timeout_ms: i64) -> i64 {
    super::sc(SYS_POLL, [pollfd, 1, timeout_ms, 0, 0, 0])
}
