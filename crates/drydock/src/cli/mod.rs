//! Commands. Each `cli/<command>.rs` turns parsed arguments into library calls and prints the
//! result; errors come back as [`Failure`]s, which [`finish`] prints (text on stderr, or the JSON
//! error object on stdout with `--format json`) and turns into the exit code. Writes to a closed
//! stdout end the process quietly, as `ls | head` does.

mod args;
mod bench;
mod build;
mod cache;
mod context;
mod deploy;
mod init;
mod lint;
mod login;
mod pull;
mod push;
mod rules;
mod run;
mod sign;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use drydock::error::{Classify, Failure};
use drydock::ui::Ui;

pub use args::{Cli, Cmd, Format};

/// A command's outcome: the exit code on success (0, or 1 for lint findings), or why it failed.
pub type Outcome = Result<u8, Failure>;

pub fn main() -> ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let json = asks_for_json(&argv);
    let cli = match Cli::try_parse_from(&argv) {
        Ok(cli) => cli,
        Err(e) => return usage_error(e, &argv, json),
    };
    let ui = Ui::new(cli.quiet).verbose(cli.verbose);
    // Every command ends the same way on SIGINT or SIGTERM: `interrupted`, exit 130.
    if let Err(e) = drydock::interrupt::install(move || {
        let f = Failure::new(
            drydock::error::ErrorKind::Interrupted,
            "interrupted by SIGINT or SIGTERM",
        );
        // Hold stdout until the end: the command, still running on the main thread, must not
        // print after the error object.
        let mut stdout = std::io::stdout().lock();
        if json {
            let _ = writeln!(stdout, "{}", f.json());
            let _ = stdout.flush();
        }
        error_line(&ui, &f.text());
        std::process::exit(i32::from(f.exit_code()));
    }) {
        ui.warn(&e);
    }
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
        Cmd::Cache(args::CacheCmd::Prune(a)) => (a.format, cache::prune(a, &ui)),
        Cmd::Logout { registry } => (Format::Text, login::logout(registry.as_deref(), &ui)),
        Cmd::Keygen(a) => (a.format, sign::keygen(a, &ui)),
        Cmd::Sign(a) => (a.format, sign::sign(a, &ui)),
        Cmd::Verify(a) => (a.format, sign::verify(a, &ui)),
    };
    finish(outcome, format, &ui)
}

/// Whether the command line asks for JSON (`--format json` or `--format=json`, anywhere before
/// a `--`), judged from the raw arguments so that it holds even when clap refuses them.
fn asks_for_json(argv: &[std::ffi::OsString]) -> bool {
    let args: Vec<&str> = argv
        .iter()
        .skip(1)
        .map(|a| a.to_str().unwrap_or(""))
        .take_while(|a| *a != "--")
        .collect();
    args.iter().enumerate().any(|(i, a)| {
        *a == "--format=json" || (*a == "--format" && args.get(i + 1) == Some(&"json"))
    })
}

/// A command line clap refused: its text on stderr as clap prints it and, when the command
/// line asks for JSON, the JSON error object (kind `usage`) on stdout; exit 2. `--help` and
/// `--version` are not errors.
fn usage_error(e: clap::Error, argv: &[std::ffi::OsString], json: bool) -> ExitCode {
    if !e.use_stderr() {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    if json {
        let rendered = e.render().to_string();
        let first = rendered.split("\n\n").next().unwrap_or("").trim();
        let message = first.strip_prefix("error: ").unwrap_or(first).to_string();
        let commands: Vec<String> = <Cli as clap::CommandFactory>::command()
            .get_subcommands()
            .map(|c| c.get_name().to_string())
            .collect();
        let fix = match argv
            .iter()
            .skip(1)
            .filter_map(|a| a.to_str())
            .find(|a| commands.iter().any(|c| c == a))
        {
            Some(cmd) => format!("drydock {cmd} --help"),
            None => "drydock --help".to_string(),
        };
        let f = Failure {
            fix: Some(fix),
            ..Failure::new(drydock::error::ErrorKind::Usage, message)
        };
        out(&format!("{}\n", f.json()));
    }
    let _ = e.print();
    ExitCode::from(2)
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
