//! The rule catalog: one table, the single source of truth for codes, names, practices,
//! default severities and docs. `drydock rules`, `drydock rule CODE`, docs/rules/*.md and SARIF's
//! `rules[]` are all generated from it, so they cannot drift. Codes are stable forever.

use super::diagnostic::{Finding, Severity};
use super::rules::dockerfile as df;
use super::rules::dockerignore as di;
use super::DockerfileCtx;

pub struct Rule {
    pub code: &'static str,
    pub name: &'static str,
    /// The practice it enforces (P1–P14 of PRODUCT.md), or "correctness".
    pub practice: &'static str,
    pub severity: Severity,
    /// hadolint rules it covers, for users coming from there.
    pub hadolint: &'static [&'static str],
    /// Markdown: What it does / Why is this bad? / Example / Use instead / References.
    pub doc: &'static str,
    pub check: fn(&DockerfileCtx<'_>) -> Vec<Finding>,
}

impl Rule {
    /// The first paragraph of "What it does", for one-line listings.
    pub fn summary(&self) -> String {
        self.doc.split("## What it does").nth(1).unwrap_or("").trim().split("\n\n").next().unwrap_or("").replace('\n', " ")
    }

    /// The rule's page, as written to docs/rules/CODE.md.
    pub fn markdown(&self) -> String {
        let hadolint = if self.hadolint.is_empty() { String::new() } else { format!("Covers hadolint {}.\n\n", self.hadolint.join(", ")) };
        format!(
            "# {code} {name}\n\nPractice: {practice}. Default severity: {sev}.\n\n{hadolint}{doc}\n",
            code = self.code,
            name = self.name,
            practice = self.practice,
            sev = self.severity.as_str(),
            doc = self.doc.trim()
        )
    }
}

pub static RULES: &[&Rule] = &[
    &df::df001_untagged_base::RULE,
    &df::df002_apk_no_cache::RULE,
    &df::df003_apt_lists::RULE,
    &df::df004_root_user::RULE,
    &df::df005_non_numeric_user::RULE,
    &df::df006_no_healthcheck::RULE,
    &df::df007_shell_form_entrypoint::RULE,
    &df::df008_secret_in_env::RULE,
    &df::df009_add_instead_of_copy::RULE,
    &df::df010_copy_all_before_deps::RULE,
    &df::df011_bad_expose::RULE,
    &df::df012_repeated_instruction::RULE,
    &df::df013_duplicate_stage::RULE,
    &df::df014_copy_from_unknown_stage::RULE,
    &df::df015_relative_workdir::RULE,
    &df::df016_compiler_in_final_stage::RULE,
    &df::df017_go_build_with_cgo::RULE,
    &di::di001_missing_dockerignore::RULE,
    &di::di002_context_ships_unwanted::RULE,
    &di::di003_copy_source_excluded::RULE,
];

pub fn find(code: &str) -> Option<&'static Rule> {
    RULES.iter().copied().find(|r| r.code.eq_ignore_ascii_case(code) || r.name == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_docs_complete() {
        let mut codes: Vec<&str> = RULES.iter().map(|r| r.code).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), RULES.len());
        for r in RULES {
            for section in ["## What it does", "## Why is this bad?", "## Example", "Use instead:", "## References"] {
                assert!(r.doc.contains(section), "{} lacks {section}", r.code);
            }
            assert!(!r.summary().is_empty(), "{}", r.code);
        }
    }
}
