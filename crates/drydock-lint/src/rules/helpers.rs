//! Judgements the rules of several kinds share, so that a Dockerfile, a Compose file and a
//! Kubernetes manifest are held to the same standard. Whether a value is a secret is judged in
//! [`drydock_values::secret`], which the build shares; here is what a rule makes of it.

use drydock_values::secret::Secret;

/// A secret finding, at info severity when the value is a placeholder.
pub fn secret_finding(f: crate::diagnostic::Finding, kind: Secret) -> crate::diagnostic::Finding {
    match kind {
        Secret::Literal | Secret::InUrl => f,
        Secret::Placeholder => f.downgraded(crate::diagnostic::Severity::Info),
    }
}

/// Whether a user (`root`, `0`, `0:0`, `root:staff`) is root.
pub fn is_root(user: &str) -> bool {
    let u = user.split(':').next().unwrap_or(user).trim();
    u == "root" || u == "0"
}
