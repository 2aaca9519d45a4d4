//! Suppression comments: `# drydock:ignore CODE[,CODE] reason` on the lines above an instruction
//! or a YAML key, and `# drydock:ignore-file CODE reason` anywhere in a file.

use std::collections::BTreeSet;

/// `DF004,ks001` as a set of upper-case codes, as written: the value of every suppression form.
/// What each stands for (a family prefix, `ALL`, a retired code's successors) is the
/// catalog's to say (`catalog::codes_named`).
pub(crate) fn split_codes(list: &str) -> BTreeSet<String> {
    list.split(',')
        .map(|c| c.trim().to_ascii_uppercase())
        .filter(|c| !c.is_empty())
        .collect()
}

/// Codes suppressed by `# drydock:ignore CODE[,CODE] reason` or, file-wide,
/// `# drydock:ignore-file CODE reason`, as written (see [`split_codes`]).
pub(crate) fn suppressed_codes(comment: &str, marker: &str) -> BTreeSet<String> {
    let c = comment.trim().trim_start_matches('#').trim();
    match c.strip_prefix(marker) {
        Some(rest) if rest.starts_with(char::is_whitespace) => {
            split_codes(rest.split_whitespace().next().unwrap_or(""))
        }
        _ => BTreeSet::new(),
    }
}

/// The codes suppressed on each line of each file, built once per run so that a finding's
/// lookup costs one index, however many findings and suppressing spans there are (a lookup
/// that scanned every span per finding made lint quadratic in the number of findings).
#[derive(Default)]
pub(crate) struct SuppressedLines<'a> {
    by_path: std::collections::HashMap<&'a str, Vec<Vec<&'a BTreeSet<String>>>>,
}

impl<'a> SuppressedLines<'a> {
    /// From spans (file, first line, last line, codes); spans may nest, and empty ones are
    /// dropped first.
    pub(crate) fn new(
        spans: impl IntoIterator<Item = (&'a str, usize, usize, &'a BTreeSet<String>)>,
    ) -> SuppressedLines<'a> {
        let mut out = SuppressedLines::default();
        for (path, first, last, codes) in spans {
            if codes.is_empty() || last < first {
                continue;
            }
            let lines = out.by_path.entry(path).or_default();
            if lines.len() <= last {
                lines.resize_with(last + 1, Vec::new);
            }
            for l in &mut lines[first..=last] {
                l.push(codes);
            }
        }
        out
    }

    pub(crate) fn contains(&self, path: &str, line: usize, code: &str) -> bool {
        self.by_path
            .get(path)
            .and_then(|lines| lines.get(line))
            .is_some_and(|sets| sets.iter().any(|s| s.contains(code)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_nested_spans() {
        let outer: BTreeSet<String> = ["A".to_string()].into();
        let inner: BTreeSet<String> = ["B".to_string()].into();
        let none = BTreeSet::new();
        let s = SuppressedLines::new([
            ("f", 2, 10, &outer),
            ("f", 4, 5, &inner),
            ("f", 1, 20, &none),
        ]);
        assert!(s.contains("f", 2, "A") && s.contains("f", 5, "A") && s.contains("f", 5, "B"));
        assert!(!s.contains("f", 6, "B") && !s.contains("f", 11, "A") && !s.contains("g", 2, "A"));
        assert!(!s.contains("f", 1, "A"));
    }
}
