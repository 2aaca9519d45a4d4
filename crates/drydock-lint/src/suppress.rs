//! Suppression comments: `# drydock:ignore CODE[,CODE] reason` on the lines above an instruction
//! or a YAML key, and `# drydock:ignore-file CODE reason` anywhere in a file.

use std::collections::BTreeSet;

use crate::options::parse_codes;

/// Codes suppressed by `# drydock:ignore CODE[,CODE] reason` or, file-wide,
/// `# drydock:ignore-file CODE reason`.
pub(crate) fn suppressed_codes(comment: &str, marker: &str) -> BTreeSet<String> {
    let c = comment.trim().trim_start_matches('#').trim();
    match c.strip_prefix(marker) {
        Some(rest) if rest.starts_with(char::is_whitespace) => {
            parse_codes(rest.split_whitespace().next().unwrap_or(""))
        }
        _ => BTreeSet::new(),
    }
}
