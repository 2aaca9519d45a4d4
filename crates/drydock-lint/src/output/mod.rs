//! Output formats for diagnostics: text with a code frame, JSON, SARIF 2.1.0 (what GitHub code
//! scanning reads) and GitHub workflow annotations. One file per format.

mod github;
mod sarif;
mod text;

use super::Diagnostic;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Sarif,
    Github,
}

/// Renders the diagnostics; `sources` gives each file's text, for code frames. `failed` is the
/// number of files that could not be linted: then "no findings" would not be the whole truth.
pub fn render(
    format: Format,
    diags: &[Diagnostic],
    sources: &std::collections::BTreeMap<String, String>,
    color: bool,
    failed: usize,
) -> String {
    match format {
        Format::Text => text::render(diags, sources, color, failed),
        Format::Json => serde_json::to_string_pretty(diags).unwrap_or_else(|_| "[]".into()) + "\n",
        Format::Sarif => sarif::render(diags),
        Format::Github => github::render(diags),
    }
}
