//! What a rule reports, and where: a file, a span (1-based lines and columns, end exclusive),
//! a message and, where there is one, the fix.

use serde::Serialize;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    serde::Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Span {
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

/// A finding before the engine stamps it with its rule and severity.
#[derive(Debug, Clone)]
pub struct Finding {
    pub span: Span,
    pub message: String,
    pub fix: Option<String>,
    /// The file, for rules that look at several files at once (Kubernetes); else the file
    /// being checked.
    pub path: Option<String>,
    /// A severity below the rule's for this one finding (a placeholder where a secret would
    /// be); a severity configured for the rule still wins.
    pub severity: Option<Severity>,
}

impl Finding {
    /// The same finding at a lower severity.
    pub fn downgraded(mut self, to: Severity) -> Finding {
        self.severity = Some(to);
        self
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Diagnostic {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub path: String,
    #[serde(flatten)]
    pub span: Span,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}
