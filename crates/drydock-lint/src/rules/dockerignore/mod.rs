//! .dockerignore rules: what the build context of a Dockerfile would send, computed with the
//! same matcher `drydock build` uses.

pub mod di001_missing_dockerignore;
pub mod di002_context_ships_unwanted;
pub mod di003_copy_source_excluded;

use crate::diagnostic::{Finding, Span};

/// Findings about the context as a whole point at the Dockerfile's first line.
pub fn file_start(message: String, fix: Option<String>) -> Finding {
    Finding {
        span: Span {
            line: 1,
            column: 1,
            end_line: 1,
            end_column: 2,
        },
        message,
        fix,
        path: None,
        severity: None,
    }
}
