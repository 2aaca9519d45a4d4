//! Terminal output: progress spinners on a TTY only, warnings on stderr, nothing at all with
//! `--quiet`, and nothing but the final JSON on stdout with `--format json`.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

#[derive(Debug, Clone, Copy)]
pub struct Ui {
    pub quiet: bool,
    pub color: bool,
    /// `-v`: the compiler's own output streams to stderr as it comes.
    pub verbose: bool,
    progress: bool,
}

impl Ui {
    pub fn new(quiet: bool) -> Ui {
        let tty = std::io::stderr().is_terminal();
        let color = tty && std::env::var_os("NO_COLOR").is_none();
        Ui {
            quiet,
            color,
            verbose: false,
            progress: tty && !quiet,
        }
    }

    /// `-v` (ignored with `--quiet`): stream what tools print instead of a spinner.
    pub fn verbose(self, verbose: bool) -> Ui {
        let verbose = verbose && !self.quiet;
        Ui {
            verbose,
            progress: self.progress && !verbose,
            ..self
        }
    }

    /// A line a tool printed, shown as it comes under `-v`.
    pub fn tool_line(&self, line: &str) {
        if self.verbose {
            let _ = writeln!(std::io::stderr(), "  | {line}");
        }
    }

    /// This Ui without progress bars (for `--format json`, whose stdout is the report).
    pub fn without_progress(&self) -> Ui {
        Ui {
            progress: false,
            ..*self
        }
    }

    /// A spinner for a slow step; a no-op when not on a terminal.
    pub fn step(&self, msg: &str) -> Step {
        if !self.progress {
            return Step(None, u64::MAX);
        }
        let pb = ProgressBar::new_spinner();
        pb.set_style(
            ProgressStyle::with_template("{spinner} {elapsed:>3} {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        pb.set_message(msg.to_string());
        pb.enable_steady_tick(Duration::from_millis(100));
        let id = NEXT_STEP.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut c) = CURRENT_STEP.lock() {
            *c = Some((id, pb.clone(), msg.to_string()));
        }
        Step(Some(pb), id)
    }

    /// Reports a registry transfer that is one step among others (a base pulled during a
    /// build, `--push`): its blobs and bytes go into the running step's spinner (so only on a
    /// terminal), each retry or warning as a line on stderr unless `--quiet`.
    pub fn step_transfer(&self) -> drydock_oci::registry::Events {
        use drydock_oci::registry::{Event, Events};
        let lines = self.without_progress().transfer("").0;
        Events::new(move |e| match e {
            Event::Transfer {
                blobs_done,
                blobs,
                bytes_done,
                bytes,
            } => {
                if let Some((_, pb, msg)) =
                    CURRENT_STEP.lock().ok().as_deref().and_then(Option::as_ref)
                {
                    pb.set_message(format!(
                        "{msg}: {blobs_done}/{blobs} blobs, {} of {}",
                        human_bytes(*bytes_done),
                        human_bytes(*bytes)
                    ));
                }
            }
            other => match CURRENT_STEP.lock().ok().as_deref().and_then(Option::as_ref) {
                // Above the spinner, not through it.
                Some((_, pb, _)) => pb.suspend(|| lines.emit(other)),
                None => lines.emit(other),
            },
        })
    }

    /// Reports a registry transfer: a bar with the blobs and bytes done on a terminal (nothing
    /// elsewhere, or with `--quiet`), and each retry or warning as a line on stderr unless
    /// `--quiet`. The bar goes when the returned [`Step`] is dropped.
    pub fn transfer(&self, msg: &str) -> (drydock_oci::registry::Events, Step) {
        use drydock_oci::registry::{Event, Events};
        let bar = self.progress.then(|| {
            let pb = ProgressBar::new(0);
            pb.set_style(
                ProgressStyle::with_template(
                    "{spinner} {msg} {binary_bytes}/{binary_total_bytes} [{bar:24}] {elapsed}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            pb.set_message(msg.to_string());
            pb.enable_steady_tick(Duration::from_millis(100));
            pb
        });
        let quiet = self.quiet;
        let color = self.color;
        let msg = msg.to_string();
        let pb = bar.clone();
        let events = Events::new(move |e| {
            let line = match e {
                Event::Transfer {
                    blobs_done,
                    blobs,
                    bytes_done,
                    bytes,
                } => {
                    if let Some(pb) = &pb {
                        pb.set_length(*bytes);
                        pb.set_position(*bytes_done);
                        pb.set_message(format!("{msg}: blobs {blobs_done}/{blobs}"));
                    }
                    return;
                }
                Event::Retry {
                    registry,
                    what,
                    reason,
                    attempt,
                    attempts,
                    wait,
                } => format!(
                    "{registry}: {what}: {reason}; retrying ({attempt}/{attempts}) after {:.1} s",
                    wait.as_secs_f64()
                ),
                Event::Warning(w) => format!("{}: {w}", warning_label(color)),
            };
            if quiet {
                return;
            }
            match &pb {
                Some(pb) => pb.println(line),
                None => {
                    let _ = writeln!(std::io::stderr(), "{line}");
                }
            }
        });
        (events, Step(bar, u64::MAX))
    }

    // stderr writes ignore errors: a closed stderr is no reason to stop a build (and
    // `eprintln!` would panic on it).
    pub fn warn(&self, msg: &str) {
        if !self.quiet {
            let _ = writeln!(std::io::stderr(), "{}: {msg}", warning_label(self.color));
        }
    }

    pub fn note(&self, msg: &str) {
        if !self.quiet {
            let _ = writeln!(std::io::stderr(), "{msg}");
        }
    }

    pub fn bold(&self, s: &str) -> String {
        if self.color {
            format!("\x1b[1m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

pub use drydock_values::units::human_bytes;

/// A spinner for a slow step (none off a terminal); it goes when dropped.
pub struct Step(Option<ProgressBar>, u64);

/// The step spinning now, with its message: registry transfers report into it
/// ([`Ui::step_transfer`]).
static CURRENT_STEP: Mutex<Option<(u64, ProgressBar, String)>> = Mutex::new(None);
static NEXT_STEP: AtomicU64 = AtomicU64::new(0);

impl Step {
    pub fn set(&self, msg: &str) {
        if let Some(pb) = &self.0 {
            pb.set_message(msg.to_string());
            if let Ok(mut c) = CURRENT_STEP.lock() {
                if let Some((id, _, m)) = c.as_mut().filter(|(id, _, _)| *id == self.1) {
                    let _ = id;
                    *m = msg.to_string();
                }
            }
        }
    }
}

impl Drop for Step {
    fn drop(&mut self) {
        if let Some(pb) = &self.0 {
            pb.finish_and_clear();
            if let Ok(mut c) = CURRENT_STEP.lock() {
                if c.as_ref().is_some_and(|(id, _, _)| *id == self.1) {
                    *c = None;
                }
            }
        }
    }
}

/// "warning", yellow on a colour terminal: the one label of every warning drydock prints.
fn warning_label(color: bool) -> &'static str {
    if color {
        "\x1b[33mwarning\x1b[0m"
    } else {
        "warning"
    }
}
