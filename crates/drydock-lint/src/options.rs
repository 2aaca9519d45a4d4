//! Which rules run and how: drydock.toml's `[lint]` and the command line.

use std::collections::{BTreeMap, BTreeSet};

use crate::catalog;
use crate::diagnostic::Severity;
use crate::error::LintError;

/// Which rules run and how severe they are: drydock.toml's [lint] and the command line.
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

/// A Pod Security Standards profile; each is the one before plus its own controls.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    serde::Deserialize,
    serde::Serialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum PodSecurity {
    /// No restrictions.
    Privileged,
    /// Prevents the known privilege escalations.
    Baseline,
    /// Current pod hardening practice.
    #[default]
    Restricted,
}

impl PodSecurity {
    pub fn as_str(self) -> &'static str {
        match self {
            PodSecurity::Privileged => "privileged",
            PodSecurity::Baseline => "baseline",
            PodSecurity::Restricted => "restricted",
        }
    }

    /// The value of a `pod-security.kubernetes.io/enforce` label.
    pub fn from_label(value: &str) -> Option<PodSecurity> {
        match value {
            "privileged" => Some(PodSecurity::Privileged),
            "baseline" => Some(PodSecurity::Baseline),
            "restricted" => Some(PodSecurity::Restricted),
            _ => None,
        }
    }
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

/// `DF004,ks001` as a set of upper-case codes: the value of every suppression form. A retired
/// code stands for its successors.
pub(crate) fn parse_codes(list: &str) -> BTreeSet<String> {
    list.split(',')
        .map(|c| c.trim().to_ascii_uppercase())
        .filter(|c| !c.is_empty())
        .flat_map(|c| {
            let codes = catalog::expand(&c);
            if codes.is_empty() {
                vec![c]
            } else {
                codes.into_iter().map(str::to_string).collect()
            }
        })
        .collect()
}
