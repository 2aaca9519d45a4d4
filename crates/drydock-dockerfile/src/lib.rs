//! Dockerfiles read as BuildKit reads them.
//!
//! - [`parse`]: the parser, with BuildKit's quirks (continuations, directives, heredocs, the
//!   escape character, JSON that silently falls back to shell form), line spans and columns. It
//!   is checked against BuildKit's own parser test files (`tests/buildkit`) and never panics.
//! - [`Keyword`]: what an instruction is, without comparing strings.
//! - [`stages`]: the build stages, with their bases (global ARGs expanded) and aliases.
//! - [`expand`]: `$VAR` / `${VAR:-default}` expansion as BuildKit's shell lexer does it.
//! - [`shell`]: one shell model for RUN: the commands and their words, with questions the rules
//!   ask (`has_args`, `has_flag`, wrappers such as `sudo` seen through).
//!
//! ```
//! use drydock_dockerfile::{parse, shell, stages, Keyword};
//!
//! let df = parse("FROM golang:1.22 AS build\nRUN apt-get -yq install curl && rm -rf /var/lib/apt/lists/*\nFROM scratch\nCOPY --from=build /app /app\n").unwrap();
//! let run = &df.instructions[1];
//! assert!(run.is(Keyword::Run));
//! assert_eq!((run.start_line, run.column), (2, 1));
//!
//! let cmds = shell::run_commands(run);
//! assert!(cmds[0].is_apt_install());
//! assert!(cmds[0].has_flag(&["yes"], &['y']));
//! assert_eq!(cmds[0].args().collect::<Vec<_>>(), ["curl"]);
//! assert!(cmds[1].removes_apt_lists());
//!
//! let st = stages(&df);
//! assert_eq!(st[0].alias.as_deref(), Some("build"));
//! assert_eq!(st[1].base, "scratch");
//! ```

pub mod expand;
pub mod keyword;
pub mod parser;
pub mod shell;
pub mod stages;

pub use expand::expand;
pub use keyword::Keyword;
pub use parser::{parse, Arg, Dockerfile, Heredoc, Instruction, ParseError};
pub use stages::{stages, Stage};
