//! The summary `drydock lint` prints on stderr after the findings: what was linted, what could
//! not be, and what was skipped and why.

use crate::engine::LintRun;

impl LintRun {
    /// `linted 3 files (1 Dockerfile, 2 Kubernetes manifests)`, and what was skipped.
    pub fn summary(&self) -> String {
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let kinds: Vec<String> = [
            (self.dockerfiles, "Dockerfile", "Dockerfiles"),
            (
                self.manifests,
                "Kubernetes manifest",
                "Kubernetes manifests",
            ),
            (self.compose, "Compose file", "Compose files"),
        ]
        .iter()
        .filter(|(n, _, _)| *n > 0)
        .map(|(n, one, many)| plural(*n, one, many))
        .collect();
        let total = self.dockerfiles + self.manifests + self.compose;
        let mut s = if total == 0 && self.gitignored > 0 {
            let (n, them) = if self.gitignored == 1 {
                (
                    "1 file that could be linted (a Dockerfile or YAML) was".to_string(),
                    "it",
                )
            } else {
                (
                    format!(
                        "{} files that could be linted (Dockerfiles or YAML) were",
                        self.gitignored
                    ),
                    "them",
                )
            };
            format!(
                "linted nothing: {n} skipped because .gitignore excludes {them}\n  fix: name {them} on the command line, or pass --no-ignore"
            )
        } else if total == 0 {
            "linted nothing: no Dockerfile, Kubernetes manifest or Compose file was found"
                .to_string()
        } else {
            format!(
                "linted {} ({})",
                plural(total, "file", "files"),
                kinds.join(", ")
            )
        };
        if !self.errors.is_empty() {
            s.push_str(&format!(
                "; {} could not be linted",
                plural(self.errors.len(), "file", "files")
            ));
        }
        for (p, why) in self.skipped.iter().take(5) {
            s.push_str(&format!("\nskipped {}: {why}", p.display()));
        }
        if self.skipped.len() > 5 {
            s.push_str(&format!("\nskipped {} more", self.skipped.len() - 5));
        }
        s
    }
}
