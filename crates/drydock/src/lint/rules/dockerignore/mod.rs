//! .dockerignore rules: what the build context of a Dockerfile would send, computed with the
//! same matcher `drydock build` uses.

pub mod di001_missing_dockerignore;
pub mod di002_context_ships_unwanted;
pub mod di003_copy_source_excluded;

use crate::lint::diagnostic::{Finding, Span};

/// Findings about the context as a whole point at the Dockerfile's first line.
pub fn file_start(message: String, fix: Option<String>) -> Finding {
    Finding { span: Span { line: 1, column: 1, end_line: 1, end_column: 2 }, message, fix, path: None }
}

pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KB", "MB", "GB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1000.0 && u < UNITS.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 { format!("{bytes} B") } else { format!("{v:.1} {}", UNITS[u]) }
}
