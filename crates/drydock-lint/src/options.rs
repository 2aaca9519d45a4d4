//! Which rules run and how: drydock.toml's `[lint]` and the command line.

use std::collections::{BTreeMap, BTreeSet};

use crate::catalog;
use crate::diagnostic::Severity;
use crate::error::LintError;
pub use crate::policy::{PodSecurity, SecretEnvStance};

/// Which rules run and how severe they are: drydock.toml's `[lint]` and the command line.
#[derive(Debug, Clone, Default)]
pub struct LintOptions {
    /// Only these codes (empty: the default selection, every rule not in `catalog::OPT_IN`).
    pub select: BTreeSet<String>,
    /// These codes on top of the selection (opt-in rules).
    pub extend_select: BTreeSet<String>,
    pub ignore: BTreeSet<String>,
    pub severity: BTreeMap<String, Severity>,
    /// Ignore `# drydock:ignore` comments in the files.
    pub no_suppressions: bool,
    /// How secrets may reach a container's environment (KS008).
    pub secret_env: SecretEnvStance,
    /// The Pod Security Standards profile pods are held to, where no Namespace in the input
    /// says otherwise.
    pub pod_security: PodSecurity,
}

impl LintOptions {
    /// Checks that every code named exists, and puts a retired code's successors in its place.
    pub fn validate(&mut self) -> Result<(), LintError> {
        for c in self
            .select
            .iter()
            .chain(&self.extend_select)
            .chain(&self.ignore)
            .chain(self.severity.keys())
        {
            if catalog::expand(c).is_empty() {
                return Err(LintError::UnknownRule(c.clone()));
            }
        }
        let expand_set = |set: &BTreeSet<String>| -> BTreeSet<String> {
            set.iter()
                .flat_map(|c| catalog::expand(c))
                .map(str::to_string)
                .collect()
        };
        self.select = expand_set(&self.select);
        self.extend_select = expand_set(&self.extend_select);
        self.ignore = expand_set(&self.ignore);
        self.severity = std::mem::take(&mut self.severity)
            .into_iter()
            .flat_map(|(c, s)| {
                catalog::expand(&c)
                    .into_iter()
                    .map(move |e| (e.to_string(), s))
            })
            .collect();
        Ok(())
    }

    pub(crate) fn enabled(&self, code: &str) -> bool {
        let selected = if self.select.is_empty() {
            catalog::is_default(code)
        } else {
            self.select.contains(code)
        };
        (selected || self.extend_select.contains(code)) && !self.ignore.contains(code)
    }
}
