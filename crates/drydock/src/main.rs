//! The drydock command line: argument parsing, one file per command under `cli/`, and one
//! place (`cli::finish`) where an outcome becomes an exit code.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
