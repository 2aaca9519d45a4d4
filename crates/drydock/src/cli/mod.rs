//! Commands. Each `cli/<command>.rs` turns parsed arguments into library calls and prints the
//! result; errors come back as [`Failure`]s, which [`finish`] prints (text on stderr, or the JSON
//! error object on stdout with `--format json`) and turns into the exit code. Writes to a closed
//! stdout end the process quietly, as `ls | head` does.

mod args;
mod bench;
mod build;
mod context;
mod deploy;
mod init;
mod lint;
mod login;
mod pull;
mod push;
mod rules;
mod run;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use drydock::error::{Classify, Failure};
use drydock::ui::Ui;

pub use args::{Cli, Cmd, Format};

/// A command's outcome: the exit code on success (0, or 1 for lint findings), or why it failed.
pub type Outcome = Result<u8, Failure>;

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let ui = Ui::new(cli.quiet);
    let (format, outcome) = match cli.command {
        Cmd::Build(a) => (a.format, build::run(a, &ui)),
        Cmd::Run(a) => (Format::Text, run::run(a, &ui)),
        Cmd::Init(a) => (a.format, init::run(a, &ui)),
        Cmd::Lint(a) => (
            if a.format == drydock::lint::output::Format::Json {
                Format::Json
            } else {
                Format::Text
            },
            lint::run(a, &ui),
        ),
        Cmd::Rules(a) => (a.format, rules::list(a, &ui)),
        Cmd::Rule { code } => (Format::Text, rules::explain(&code)),
        Cmd::Deploy(a) => (a.format, deploy::run(a, &ui)),
        Cmd::Context { dir, format } => (format, context::run(&dir, format, &ui)),
        Cmd::Pull(a) => (a.format, pull::run(a, &ui)),
        Cmd::Bench(a) => (
            if a.format == args::BenchFormat::Json {
                Format::Json
            } else {
                Format::Text
            },
            bench::run(a, &ui),
        ),
        Cmd::Push(a) => (a.format, push::run(a, &ui)),
        Cmd::Login(a) => (Format::Text, login::run(a, &ui)),
        Cmd::Logout { registry } => (Format::Text, login::logout(registry.as_deref(), &ui)),
    };
    finish(outcome, format, &ui)
}

/// Prints a failure the way the command's format asks, and gives the exit code.
pub fn finish(outcome: Outcome, format: Format, ui: &Ui) -> ExitCode {
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            if format == Format::Json {
                out(&format!("{}\n", f.json()));
            }
            error_line(ui, &f.text());
            ExitCode::from(f.exit_code())
        }
    }
}

/// `error: …` on stderr (red on a terminal); a closed stderr is ignored.
pub fn error_line(ui: &Ui, text: &str) {
    let label = if ui.color {
        "\x1b[31merror\x1b[0m"
    } else {
        "error"
    };
    let _ = writeln!(std::io::stderr(), "{label}: {text}");
}

/// Writes to stdout. A reader that went away (`drydock lint | head`) ends drydock quietly with
/// status 0: there is nobody left to tell.
pub fn out(s: &str) {
    let mut o = std::io::stdout().lock();
    if let Err(e) = o.write_all(s.as_bytes()).and_then(|_| o.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
    }
}

/// Prints a value as pretty JSON on stdout.
pub fn out_json<T: serde::Serialize>(v: &T) -> Outcome {
    let s = serde_json::to_string_pretty(v).map_err(|e| {
        Failure::new(
            drydock::error::ErrorKind::Failed,
            format!("JSON output: {e}"),
        )
    })?;
    out(&format!("{s}\n"));
    Ok(0)
}

/// `Failure::of` for `?`.
pub fn failure<E: Classify + std::fmt::Display>(e: E) -> Failure {
    Failure::of(&e)
}
