//! Terminal output: progress spinners on a TTY only, warnings on stderr, nothing at all with
//! `--quiet`, and nothing but the final JSON on stdout with `--format json`.

use std::io::{IsTerminal, Write};
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

    /// A spinner for a slow step; a no-op when not on a terminal.
    pub fn step(&self, msg: &str) -> Step {
        if !self.progress {
            return Step(None);
        }
        let pb = ProgressBar::new_spinner();
        pb.set_style(
            ProgressStyle::with_template("{spinner} {elapsed:>3} {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        pb.set_message(msg.to_string());
        pb.enable_steady_tick(Duration::from_millis(100));
        Step(Some(pb))
    }

    // stderr writes ignore errors: a closed stderr is no reason to stop a build (and
    // `eprintln!` would panic on it).
    pub fn warn(&self, msg: &str) {
        if !self.quiet {
            let label = if self.color {
                "\x1b[33mwarning\x1b[0m"
            } else {
                "warning"
            };
            let _ = writeln!(std::io::stderr(), "{label}: {msg}");
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

pub use drydock_lint::units::human_bytes;

pub struct Step(Option<ProgressBar>);

impl Step {
    pub fn set(&self, msg: &str) {
        if let Some(pb) = &self.0 {
            pb.set_message(msg.to_string());
        }
    }
}

impl Drop for Step {
    fn drop(&mut self) {
        if let Some(pb) = &self.0 {
            pb.finish_and_clear();
        }
    }
}
