//! The stances rules judge against, chosen in the options: the Pod Security Standards
//! profile pods are held to and how secrets may reach a container's environment. They sit
//! below the options, the catalog and the rules, which all name them.

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
