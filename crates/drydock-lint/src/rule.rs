//! What a rule is: its catalog entry (code, name, practice, severity, doc) and its check, which
//! sees one typed view of the input.

use crate::diagnostic::{Finding, Severity};
use crate::policy::PodSecurity;
use crate::view::{ComposeCtx, DockerfileCtx, KubernetesCtx};
use crate::yaml::YamlFile;

pub struct Rule {
    pub code: &'static str,
    pub name: &'static str,
    /// The practice it enforces (P1–P14 of PRODUCT.md), or "correctness".
    pub practice: &'static str,
    pub severity: Severity,
    /// hadolint rules it covers, for users coming from there.
    pub hadolint: &'static [&'static str],
    /// For a Pod Security Standards control: the lowest profile that requires it.
    pub pod_security: Option<PodSecurity>,
    /// Markdown: What it does / Why is this bad? / Example / Use instead / References.
    pub doc: &'static str,
    pub check: Check,
}

/// What a rule looks at.
pub enum Check {
    Dockerfile(fn(&DockerfileCtx<'_>) -> Vec<Finding>),
    Kubernetes(fn(&KubernetesCtx<'_>) -> Vec<Finding>),
    Compose(fn(&ComposeCtx<'_>) -> Vec<Finding>),
    /// Any YAML file, Kubernetes or Compose, as read.
    Yaml(fn(&YamlFile) -> Vec<Finding>),
}

impl Rule {
    /// The first paragraph of "What it does", for one-line listings.
    pub fn summary(&self) -> String {
        self.doc
            .split("## What it does")
            .nth(1)
            .unwrap_or("")
            .trim()
            .split("\n\n")
            .next()
            .unwrap_or("")
            .replace('\n', " ")
    }
}
