//! One handler for SIGINT and SIGTERM (and SIGHUP), for every command, installed once by the
//! CLI before a command starts.
//!
//! On a signal it records that the user asked to stop; then, unless code that stops itself
//! cleanly is running (`drydock run` stops its container gracefully: [`handle_here`]), it runs
//! the registered clean-up steps ([`at_interrupt`]: bench removes what it started) and calls
//! the CLI's ending, which reports `interrupted` (the JSON error object under `--format json`)
//! and exits 130. Nothing else in drydock installs a signal handler.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

type Step = Box<dyn Fn() + Send + Sync>;

static REQUESTED: AtomicBool = AtomicBool::new(false);
static HANDLED_HERE: AtomicUsize = AtomicUsize::new(0);
static FLAGS: Mutex<Vec<Arc<AtomicBool>>> = Mutex::new(Vec::new());
static STEPS: Mutex<Vec<(u64, Arc<Step>)>> = Mutex::new(Vec::new());
static NEXT: AtomicUsize = AtomicUsize::new(0);

/// Installs the handler; `end` reports the interruption and exits (it must not return).
pub fn install(end: impl Fn() + Send + 'static) -> Result<(), String> {
    ctrlc::set_handler(move || {
        REQUESTED.store(true, Ordering::SeqCst);
        if let Ok(flags) = FLAGS.lock() {
            for f in flags.iter() {
                f.store(true, Ordering::SeqCst);
            }
        }
        if HANDLED_HERE.load(Ordering::SeqCst) > 0 {
            return;
        }
        // Clone the steps out, so that a step may take its time without holding the lock.
        let steps: Vec<Arc<Step>> = STEPS
            .lock()
            .map(|s| s.iter().map(|(_, f)| f.clone()).collect())
            .unwrap_or_default();
        for s in steps.iter().rev() {
            s();
        }
        end();
    })
    .map_err(|e| format!("cannot handle Ctrl-C: {e}"))
}

/// Whether SIGINT or SIGTERM arrived.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// While the guard lives, an interrupt only sets `flag` (and [`requested`]): the code holding it
/// stops by itself and returns its own error or result.
pub fn handle_here(flag: Arc<AtomicBool>) -> HandledHere {
    HANDLED_HERE.fetch_add(1, Ordering::SeqCst);
    if let Ok(mut f) = FLAGS.lock() {
        f.push(flag.clone());
    }
    if requested() {
        flag.store(true, Ordering::SeqCst);
    }
    HandledHere(flag)
}

pub struct HandledHere(Arc<AtomicBool>);

impl Drop for HandledHere {
    fn drop(&mut self) {
        if let Ok(mut f) = FLAGS.lock() {
            f.retain(|x| !Arc::ptr_eq(x, &self.0));
        }
        HANDLED_HERE.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A clean-up step to run if the process is interrupted while the guard lives (latest first).
pub fn at_interrupt(step: impl Fn() + Send + Sync + 'static) -> AtInterrupt {
    let id = NEXT.fetch_add(1, Ordering::SeqCst) as u64;
    if let Ok(mut s) = STEPS.lock() {
        s.push((id, Arc::new(Box::new(step))));
    }
    AtInterrupt(id)
}

pub struct AtInterrupt(u64);

impl AtInterrupt {
    /// Keeps the step for the rest of the process.
    pub fn forever(self) {
        std::mem::forget(self);
    }
}

impl Drop for AtInterrupt {
    fn drop(&mut self) {
        if let Ok(mut s) = STEPS.lock() {
            s.retain(|(id, _)| *id != self.0);
        }
    }
}
