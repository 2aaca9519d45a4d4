//! A long-running tool (cargo, go build) run as its own process group, which ends with drydock.
//!
//! The tool and everything it starts (rustc, build scripts, the go compiler and linker) share
//! one process group. While it runs, SIGINT, SIGTERM and SIGHUP to drydock forward SIGTERM to
//! that group (SIGKILL after a short grace), and dropping the [`Group`] kills what is left of
//! it, so an interrupted or failed build never leaves a compiler running. Its own group also
//! keeps the terminal's Ctrl-C drydock's to handle. Never used for a process that must outlive
//! drydock.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::{Duration, Instant};

/// The running group's id (0: none), read by the signal handler.
static GROUP: AtomicI32 = AtomicI32::new(0);
/// Set by the signal handler; cleared when a group starts.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

const SIGNALS: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];
/// How long the group has to end on SIGTERM before it gets SIGKILL.
const GRACE: Duration = Duration::from_secs(2);

extern "C" fn forward(_sig: libc::c_int) {
    // Only async-signal-safe work here: an atomic store and kill(2).
    INTERRUPTED.store(true, Ordering::SeqCst);
    let g = GROUP.load(Ordering::SeqCst);
    if g > 0 {
        unsafe {
            libc::kill(-g, libc::SIGTERM);
        }
    }
}

/// A spawned process group. Dropping it kills the group and restores the signal handlers
/// that were in place before.
pub struct Group {
    child: Child,
    pgid: i32,
    previous: Vec<(libc::c_int, libc::sigaction)>,
    interrupted_at: Option<Instant>,
    /// Once the leader is reaped its id may be reused, so the group is never signalled again.
    status: Option<ExitStatus>,
}

impl Group {
    /// Spawns `cmd` as the leader of a new process group and forwards drydock's termination
    /// signals to it until it is dropped.
    pub fn spawn(cmd: &mut Command) -> std::io::Result<Group> {
        cmd.process_group(0);
        INTERRUPTED.store(false, Ordering::SeqCst);
        // The handlers first: a signal that comes while the child starts is forwarded too.
        let previous = install();
        let child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                restore(previous);
                return Err(e);
            }
        };
        let pgid = child.id() as i32;
        GROUP.store(pgid, Ordering::SeqCst);
        if INTERRUPTED.load(Ordering::SeqCst) {
            unsafe {
                libc::kill(-pgid, libc::SIGTERM);
            }
        }
        Ok(Group {
            child,
            pgid,
            previous,
            interrupted_at: None,
            status: None,
        })
    }

    pub fn child(&mut self) -> &mut Child {
        &mut self.child
    }

    /// Whether drydock was asked to stop while this group ran.
    pub fn interrupted(&self) -> bool {
        INTERRUPTED.load(Ordering::SeqCst)
    }

    /// The leader's status when it has ended; after an interrupt, escalates to SIGKILL once the
    /// grace is over. When the leader has ended, what is left of its group is killed before
    /// the leader is reaped (while its id cannot name another group).
    pub fn try_wait(&mut self) -> std::io::Result<Option<ExitStatus>> {
        if let Some(s) = self.status {
            return Ok(Some(s));
        }
        if self.interrupted() {
            let at = *self.interrupted_at.get_or_insert_with(Instant::now);
            if at.elapsed() > GRACE {
                self.kill();
            }
        }
        let ended = unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            let r = libc::waitid(
                libc::P_PID,
                self.pgid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
            );
            r == 0 && info.si_pid() != 0
        };
        if !ended {
            return Ok(None);
        }
        self.kill();
        let s = self.child.wait()?;
        self.status = Some(s);
        Ok(Some(s))
    }

    /// SIGKILL to every process left in the group, while the leader is not yet reaped.
    fn kill(&self) {
        if self.status.is_none() {
            unsafe {
                libc::kill(-self.pgid, libc::SIGKILL);
            }
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        // Whatever the leader left behind (a rustc that outlived cargo) goes with it.
        if self.status.is_none() {
            self.kill();
            let _ = self.child.wait();
        }
        GROUP.store(0, Ordering::SeqCst);
        restore(std::mem::take(&mut self.previous));
    }
}

/// Forwards SIGINT, SIGTERM and SIGHUP to the running group; returns the handlers replaced.
fn install() -> Vec<(libc::c_int, libc::sigaction)> {
    let mut previous = Vec::new();
    for sig in SIGNALS {
        unsafe {
            let mut new: libc::sigaction = std::mem::zeroed();
            new.sa_sigaction = forward as extern "C" fn(libc::c_int) as usize;
            new.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut new.sa_mask);
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(sig, &new, &mut old) == 0 {
                previous.push((sig, old));
            }
        }
    }
    previous
}

fn restore(previous: Vec<(libc::c_int, libc::sigaction)>) {
    for (sig, old) in previous.into_iter().rev() {
        unsafe {
            libc::sigaction(sig, &old, std::ptr::null_mut());
        }
    }
}
