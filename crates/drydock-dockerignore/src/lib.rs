//! What a container build sees: Docker's `.dockerignore` semantics and the build context they
//! select.
//!
//! [`Matcher`] answers whether a context-relative, `/`-separated path is excluded, exactly as
//! Docker's `moby/patternmatcher` does (the last matching pattern wins, `!` re-includes, a pattern
//! also matches a path's parent directories). [`context`] walks a directory with it, as
//! `docker build` would before sending the context, and can mirror the result elsewhere.
//! The two are in one crate for the reason ripgrep's `ignore` crate holds both its matcher and its
//! walker: the walk is where the matcher's subtleties (re-included children of excluded
//! directories) show.
//!
//! ```
//! use drydock_dockerignore::Matcher;
//!
//! let m = Matcher::parse("# build output\ntarget\n*.log\n!keep.log\n").unwrap();
//! assert!(m.matched("target/release/app"));
//! assert!(m.matched("debug.log"));
//! assert!(!m.matched("keep.log"));
//! assert!(!m.matched("src/main.rs"));
//! // The line of the pattern that decided, for messages.
//! assert_eq!(m.decision("target").line, Some(2));
//!
//! let err = Matcher::parse("ok\n!\n").unwrap_err();
//! assert_eq!(err.line, 2);
//! ```

pub mod context;
pub mod matcher;

pub use context::{BuildContext, ContextEntry, ContextError, EntryKind};
pub use matcher::{clean_path, Decision, Error, ErrorKind, Matcher};
