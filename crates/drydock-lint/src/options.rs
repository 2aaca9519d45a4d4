//! Which rules run and how: drydock.toml's `[lint]` and the command line.

use std::collections::{BTreeMap, BTreeSet};

use crate::catalog;
use crate::diagnostic::Severity;
use crate::error::LintError;

/// Which rules run and how severe they are: drydock.toml's [lint] and the command line.
#[derive(Debug, Clone, Default)]
pub struct LintOptions {
    /// Only these codes (empty: all).
    pub select: BTreeSet<String>,
    pub ignore: BTreeSet<String>,
    pub severity: BTreeMap<String, Severity>,
    /// Ignore `# drydock:ignore` comments in the files.
    pub no_suppressions: bool,
    /// How secrets may reach a container's environment (KS008).
    pub secret_env: SecretEnvStance,
}

/// drydock's stance on secrets in environment variables, and Checkov's (CKV_K8S_35).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum SecretEnvStance {
    /// By reference (`valueFrom.secretKeyRef`) is fine; literal values are not.
    #[default]
    Reference,
    /// Secrets only as mounted files: `secretKeyRef` in env is flagged too.
    Files,
}

impl LintOptions {
    /// Checks that every code named exists.
    pub fn validate(&self) -> Result<(), LintError> {
        for c in self
            .select
            .iter()
            .chain(&self.ignore)
            .chain(self.severity.keys())
        {
            if catalog::find(c).is_none() {
                return Err(LintError::UnknownRule(c.clone()));
            }
        }
        Ok(())
    }

    pub(crate) fn enabled(&self, code: &str) -> bool {
        (self.select.is_empty() || self.select.contains(code)) && !self.ignore.contains(code)
    }
}

/// `DF004,ks001` as a set of upper-case codes: the value of every suppression form.
pub(crate) fn parse_codes(list: &str) -> BTreeSet<String> {
    list.split(',')
        .map(|c| c.trim().to_ascii_uppercase())
        .filter(|c| !c.is_empty())
        .collect()
}
