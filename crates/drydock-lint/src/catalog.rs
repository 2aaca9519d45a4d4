//! The rule catalog: one table, the single source of truth for codes, names, practices,
//! default severities and docs. `drydock rules`, `drydock rule CODE`, docs/rules/*.md and SARIF's
//! `rules[]` are all generated from it, so they cannot drift. Codes are stable forever.

use std::collections::BTreeSet;

use crate::policy::PodSecurity;
pub use crate::rule::{Check, Rule};
use crate::rules::compose as cp;
use crate::rules::dockerfile as df;
use crate::rules::dockerignore as di;
use crate::rules::kubernetes as ks;
use crate::rules::pod_security as ps;
use crate::rules::yaml as ym;

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
    &df::df018_heavy_base_for_static_binary::RULE,
    &df::df019_final_stage_ships_sources::RULE,
    &df::df020_sudo::RULE,
    &df::df021_cd_instead_of_workdir::RULE,
    &df::df022_apt_recommends::RULE,
    &df::df023_maintainer::RULE,
    &df::df024_no_user::RULE,
    &di::di001_missing_dockerignore::RULE,
    &di::di002_context_ships_unwanted::RULE,
    &di::di003_copy_source_excluded::RULE,
    &ks::ks001_missing_resources::RULE,
    &ks::ks002_limits_below_requests::RULE,
    &ks::ks003_missing_probes::RULE,
    &ks::ks004_identical_probes::RULE,
    &ks::ks006_writable_root::RULE,
    &ks::ks007_ingress_without_tls::RULE,
    &ks::ks008_literal_secret_env::RULE,
    &ks::ks009_image_tag::RULE,
    &ks::ks010_service_port::RULE,
    &ks::ks011_hpa_without_requests::RULE,
    &ks::ks012_no_pdb::RULE,
    &ks::ks013_go_without_gomaxprocs::RULE,
    &ps::ps001_host_process::RULE,
    &ps::ps002_host_namespaces::RULE,
    &ps::ps003_privileged::RULE,
    &ps::ps004_capabilities_baseline::RULE,
    &ps::ps005_host_path::RULE,
    &ps::ps006_host_ports::RULE,
    &ps::ps007_host_probes::RULE,
    &ps::ps008_apparmor::RULE,
    &ps::ps009_selinux::RULE,
    &ps::ps010_proc_mount::RULE,
    &ps::ps011_seccomp_baseline::RULE,
    &ps::ps012_sysctls::RULE,
    &ps::ps013_volume_types::RULE,
    &ps::ps014_privilege_escalation::RULE,
    &ps::ps015_run_as_non_root::RULE,
    &ps::ps016_run_as_user::RULE,
    &ps::ps017_seccomp_restricted::RULE,
    &ps::ps018_capabilities_restricted::RULE,
    &cp::cp001_published_app_port::RULE,
    &cp::cp002_implicit_all_interfaces::RULE,
    &cp::cp003_privileged::RULE,
    &cp::cp004_root_user::RULE,
    &cp::cp005_no_limits::RULE,
    &cp::cp006_no_healthcheck::RULE,
    &cp::cp007_literal_secret_env::RULE,
    &cp::cp008_host_network::RULE,
    &cp::cp009_unpinned_image::RULE,
    &ym::ym001_duplicate_key::RULE,
];

/// Which rules succeed a retired code.
type Successors = fn(&Rule) -> bool;

/// Codes no longer in the catalog, and what replaced them: selecting, ignoring or suppressing
/// one means its successors. KS005 (one "not restricted" rule) became one rule per Pod Security
/// control.
static RETIRED: &[(&str, Successors)] = &[("KS005", |r| r.pod_security.is_some())];

/// Rules outside the default selection, and why. Ruff's way: a rule is on by default only when
/// its findings on real files are right (measured on judged samples of real repositories, see
/// BENCHMARKS.md); the rest are one `--extend-select CODE` (or `[lint] extend_select`) away.
pub static OPT_IN: &[(&str, &str)] = &[
    ("DF024", "on real Dockerfiles about half of its findings were wrong (judged sample: 7 right, 7 wrong): whether an image must drop root depends on what runs it (CI builders, base images, development containers), which a Dockerfile rarely says; Kubernetes' PS015 and PS016 check it where the image runs, and DF004 flags an explicit `USER root`"),
    ("DF016", "on real Dockerfiles most of its findings were wrong (judged sample: 1 right, 2 wrong): build, CI and test images ship their toolchain on purpose"),
    ("CP004", "on real Compose files most of its findings were wrong (judged sample: 1 right, 2 wrong, 1 debatable): `user: root` there is an explicit override, most often for an image whose entrypoint starts as root to prepare its volumes and then drops to its own user (authentik's worker) or for a test harness that writes to a root-owned volume, and the Compose file does not show which; DF004 flags `USER root` where the image is built, and PS015 and PS016 check root where Kubernetes runs it"),
    ("CP001", "none of its findings on real Compose files was right (judged sample: 14 wrong): files without a proxy publish their services' ports on purpose"),
    ("CP005", "on real Compose files 3 in 10 of its findings were wrong (judged sample: 22 right, 9 wrong): most are local or CI stacks, where limits are not the practice"),
    ("CP006", "on real Compose files 1 in 3 of its findings was wrong (judged sample: 24 right, 13 wrong): images bring their own HEALTHCHECK, which a Compose file does not show"),
    ("CP007", "on real Compose files 4 in 10 of its findings were judged wrong (51 right, 39 wrong over three samples): most literal credentials there are the throwaway ones of examples, local and test stacks, and judges disagree on examples; DF008 and KS008, the same judgement, stay on"),
];

/// Why a Pod Security control is on by default: it flags what the admission controller refuses.
macro_rules! baseline_control {
    () => {
        "a Pod Security baseline control: the PodSecurity admission refuses such a pod in a Namespace that enforces baseline or restricted, and pods are held to the profile their Namespace enforces or `[lint] pod_security` sets (restricted unless told)"
    };
}
macro_rules! restricted_control {
    () => {
        "a Pod Security restricted control: the PodSecurity admission refuses such a pod in a Namespace that enforces restricted, the profile pods are held to unless their Namespace or `[lint] pod_security` says baseline or privileged"
    };
}

/// Rules in the default selection, and why: their findings on real files were right (the
/// judged samples of BENCHMARKS.md, "drydock lint on real files: precision"), or they flag what
/// Docker, BuildKit, the API server or the PodSecurity admission refuses, or they are info notes,
/// which do not fail `drydock lint`. Every rule is in this list or in [`OPT_IN`], never both.
pub static DEFAULT: &[(&str, &str)] = &[
    ("DF001", "on real Dockerfiles its findings were right (judged sample: 62 right, none wrong, 2 debatable)"),
    ("DF002", "on real Dockerfiles its findings were right (judged sample: 3 right, none wrong)"),
    ("DF003", "on real Dockerfiles its findings were right (judged sample: 30 right, none wrong)"),
    ("DF004", "an explicit `USER root` is the Dockerfile's own word (hadolint's DL3002), and once images that are not applications or that drop root by themselves are left out it is rare on real Dockerfiles (1 finding in the measured corpus)"),
    ("DF005", "on real Dockerfiles its findings were right (judged sample: 8 right, none wrong)"),
    ("DF006", "it is an info note, which does not fail `drydock lint`, and only on images the shared judgement finds to run a service"),
    ("DF007", "on real Dockerfiles its findings were right (judged sample: 4 right, none wrong)"),
    ("DF008", "a literal secret in ENV or ARG is readable by anyone who can pull the image, and once references, file paths and placeholders are left out it is rare on real Dockerfiles (1 finding in the measured corpus)"),
    ("DF009", "on real Dockerfiles its findings were right (judged sample: 17 right, none wrong)"),
    ("DF010", "on real Dockerfiles its findings were right (judged sample: 3 right, none wrong)"),
    ("DF011", "an invalid port fails the build or the run anyway; more than one exposed port is only an info note, which does not fail `drydock lint`"),
    ("DF012", "only the last CMD, ENTRYPOINT or HEALTHCHECK of a stage takes effect, so each one it flags is dead code whatever the image is for"),
    ("DF013", "BuildKit refuses a Dockerfile whose stages share a name, so each finding is a build that fails"),
    ("DF014", "each finding is a build that fails or copies from an image nobody meant; on real Dockerfiles its judged finding was right (judged sample: 1 right, none wrong)"),
    ("DF015", "a relative WORKDIR at the start of a stage depends on the base image's; it is rare on real Dockerfiles (2 findings in the measured corpus), and the false alarms judged there (after an absolute WORKDIR) no longer fire"),
    ("DF017", "a cgo binary on scratch, distroless static or alpine fails to start or misbehaves, and only builds that feed such a final stage are judged (1 finding in the measured corpus)"),
    ("DF018", "it fires only where an earlier stage visibly builds a static binary and the final stage is a full distribution image (no finding in the measured corpus, so no false alarm seen there)"),
    ("DF019", "on real Dockerfiles its judged finding was right (judged sample: 1 right, none wrong)"),
    ("DF020", "on real Dockerfiles its judged finding was right (judged sample: 1 right, none wrong)"),
    ("DF021", "it is an info note, which does not fail `drydock lint` (hadolint's DL3003)"),
    ("DF022", "it is an info note, which does not fail `drydock lint`, and only on stages that reach the final image (hadolint's DL3015)"),
    ("DF023", "it is an info note, which does not fail `drydock lint`, about a deprecated instruction (hadolint's DL4000)"),
    ("DI001", "on real Dockerfiles its judged findings that still fire were right (judged sample: 17 right, none wrong), now that it judges only builds that read their whole context from a folder that holds what they run"),
    ("DI002", "it looks at the real build context after `.dockerignore`, so each finding is something `docker build` would upload (no finding in the measured corpus, so no false alarm seen there)"),
    ("DI003", "it asks Docker's own `.dockerignore` matching about a source that exists, so each finding is a path the build cannot see"),
    ("KS001", "on real manifests its findings were right (judged sample: 19 right, 1 wrong, 1 debatable)"),
    ("KS002", "the API server rejects such a pod (a limit below its request, or a quantity it cannot parse), so each finding is a rollout that fails"),
    ("KS003", "on real manifests its findings were right (judged sample: 20 right, 1 wrong, 5 debatable)"),
    ("KS004", "each finding is a fact of the manifest (two identical probes, or a timeout not below the period), and it is rare on real manifests (3 findings in the measured corpus)"),
    ("KS006", "on real manifests its findings were right (judged sample: 29 right, 1 wrong)"),
    ("KS007", "on real manifests its judged finding was right (judged sample: 1 right, none wrong)"),
    ("KS008", "a literal secret in a manifest sits in version control and in every `kubectl get -o yaml`, and once references, file paths and placeholders are left out it is rare on real manifests (4 errors in the measured corpus)"),
    ("KS009", "on real manifests its findings were right (judged sample: 11 right, none wrong)"),
    ("KS010", "a named `targetPort` that no container has leaves the Service without endpoints; the one false alarm judged on real manifests (a port the container is told in its arguments) no longer fires"),
    ("KS011", "without CPU requests the autoscaler cannot compute utilisation and never scales, so each finding is an autoscaler that does nothing"),
    ("KS012", "it is an info note, which does not fail `drydock lint`, and only on workloads that run more than one replica"),
    ("KS013", "it fires only on containers known to be Go, with a CPU limit and nothing that sets GOMAXPROCS (1 finding in the measured corpus)"),
    ("PS001", baseline_control!()),
    ("PS002", baseline_control!()),
    ("PS003", baseline_control!()),
    ("PS004", baseline_control!()),
    ("PS005", concat!(baseline_control!(), "; its 2 judged false alarms on real manifests (node agents that read the node's files by design) are gone now that a DaemonSet's hostPath is left to its Namespace's profile")),
    ("PS006", baseline_control!()),
    ("PS007", baseline_control!()),
    ("PS008", baseline_control!()),
    ("PS009", baseline_control!()),
    ("PS010", baseline_control!()),
    ("PS011", baseline_control!()),
    ("PS012", baseline_control!()),
    ("PS013", restricted_control!()),
    ("PS014", concat!(restricted_control!(), "; on real manifests its findings were right (judged sample: 33 right, 1 wrong)")),
    ("PS015", concat!(restricted_control!(), "; on real manifests its findings were right (judged sample: 26 right, 1 wrong, 3 debatable)")),
    ("PS016", restricted_control!()),
    ("PS017", concat!(restricted_control!(), "; on real manifests its findings were right (judged sample: 27 right, none wrong)")),
    ("PS018", concat!(restricted_control!(), "; on real manifests its findings were right (judged sample: 27 right, none wrong)")),
    ("CP002", "it is an info note, which does not fail `drydock lint`, and only on reverse proxies"),
    ("CP003", "`privileged: true` makes the container root on the host, and it is rare on real Compose files (5 findings in the measured corpus; the 2 judged were debatable: CI and test services that need it)"),
    ("CP008", "host networking gives up the container's network isolation; its 2 judged false alarms on real Compose files (programs that manage the host's network, with NET_ADMIN) are gone, and it is rare (1 finding left in the measured corpus, judged debatable)"),
    ("CP009", "on real Compose files its findings were right (judged sample: 75 right, 1 wrong)"),
    ("YM001", "kubectl and docker compose silently keep the last of two equal keys, so each finding is a value that never takes effect (go-yaml v3 refuses such a file outright)"),
];

/// Whether a rule runs when nothing is selected.
pub fn is_default(code: &str) -> bool {
    opt_in_reason(code).is_none()
}

/// Why a rule is in the default selection; None for an opt-in rule.
pub fn default_reason(code: &str) -> Option<&'static str> {
    if !is_default(code) {
        return None;
    }
    DEFAULT
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, why)| *why)
}

/// Why a rule is not in the default selection; None for a default rule.
pub fn opt_in_reason(code: &str) -> Option<&'static str> {
    OPT_IN.iter().find(|(c, _)| *c == code).map(|(_, why)| *why)
}

/// hadolint rules not covered, and why: the other half of the parity statement in the docs.
pub static HADOLINT_NOT_COVERED: &[(&str, &str)] = &[
    ("DL3008, DL3013, DL3016, DL3018, DL3028", "pinning package versions in apt, pip, npm, apk and gem: not yet; it is noisy, and pinning the base image by digest (DF001) pins more"),
    ("DL3001", "commands that make no sense in a container (ssh, vim, ...): not yet"),
    ("DL3010, DL3021", "ADD archives and COPY with several sources needing a trailing /: not yet"),
    ("DL3026, DL3029", "allowed registries and --platform in FROM: organisation policy, not a practice of the brief"),
    ("DL4001, DL4005, DL4006", "both wget and curl, SHELL for changing the shell, pipefail: not yet"),
    ("SC*", "ShellCheck on RUN: out of scope; drydock does not embed a shell analyser"),
];

/// What every page `drydock rules --write-docs` writes says of itself, and how it recognises its
/// own pages when it writes again: a file without it is someone else's and is never replaced.
pub const GENERATED_MARK: &str = "Generated by `drydock rules --write-docs";

impl Rule {
    /// The rule's page, as written to docs/rules/CODE.md.
    pub fn markdown(&self) -> String {
        let selection = match opt_in_reason(self.code) {
            None => match default_reason(self.code) {
                Some(why) => format!("In the default selection: {why}.\n\n"),
                None => "In the default selection.\n\n".to_string(),
            },
            Some(why) => format!(
                "Opt-in (not in the default selection): {why}. Turn it on with `--extend-select {}` or `extend_select = [\"{}\"]` in drydock.toml's `[lint]`.\n\n",
                self.code, self.code
            ),
        };
        let hadolint = if self.hadolint.is_empty() {
            String::new()
        } else {
            format!("Covers hadolint {}.\n\n", self.hadolint.join(", "))
        };
        let level = match self.pod_security {
            Some(l) => format!(
                "Pod Security Standards: required by the {} profile{}.\n\n",
                l.as_str(),
                if l == PodSecurity::Baseline {
                    " (and so by restricted)"
                } else {
                    ""
                }
            ),
            None => String::new(),
        };
        format!(
            "# {code} {name}\n\nPractice: {practice}. Default severity: {sev}.\n\n{selection}{level}{hadolint}{doc}\n",
            code = self.code,
            name = self.name,
            practice = self.practice,
            sev = self.severity.as_str(),
            doc = self.doc.trim()
        )
    }
}

/// docs/rules/CODE.md: the rule's page ([`Rule::markdown`]) under the generated mark.
pub fn rule_page(r: &Rule) -> String {
    format!(
        "<!-- {GENERATED_MARK} docs/rules`; do not edit by hand. -->\n{}",
        r.markdown()
    )
}

/// Whether `text`, found at `file_name` in a docs directory, is a page `drydock rules
/// --write-docs` wrote: it carries [`GENERATED_MARK`] in its first lines, or (a page written
/// before the mark existed) it is `CODE.md` and starts with that rule's title line.
pub fn is_generated_page(file_name: &str, text: &str) -> bool {
    let head: String = text.lines().take(5).collect::<Vec<_>>().join("\n");
    if head.contains(GENERATED_MARK) {
        return true;
    }
    file_name
        .strip_suffix(".md")
        .and_then(find)
        .is_some_and(|r| text.starts_with(&format!("# {} {}\n", r.code, r.name)))
}

/// docs/rules/README.md: the table of rules and the hadolint coverage.
pub fn index_markdown() -> String {
    let mut s = String::from("# drydock lint rules\n\nGenerated by `drydock rules --write-docs docs/rules`; do not edit by hand.\n\n| code | name | practice | severity | default | pod security | hadolint | what it does |\n|---|---|---|---|---|---|---|---|\n");
    for r in RULES {
        s.push_str(&format!(
            "| [{c}]({c}.md) | {} | {} | {} | {} | {} | {} | {} |\n",
            r.name,
            r.practice,
            r.severity.as_str(),
            if is_default(r.code) { "yes" } else { "opt-in" },
            r.pod_security.map(|l| l.as_str()).unwrap_or(""),
            r.hadolint.join(", "),
            r.summary(),
            c = r.code
        ));
    }
    let mut covered: Vec<&str> = RULES
        .iter()
        .flat_map(|r| r.hadolint.iter().copied())
        .collect();
    covered.sort();
    covered.dedup();
    s.push_str(&format!(
        "\n## hadolint parity\n\nCovered: {}.\n\nNot covered:\n\n",
        covered.join(", ")
    ));
    for (codes, why) in HADOLINT_NOT_COVERED {
        s.push_str(&format!("- {codes}: {why}.\n"));
    }
    s.push_str("\nhadolint rules about other languages' package managers or about syntax that BuildKit itself rejects are not listed.\n");
    s
}

/// The codes a name given by the user stands for: a rule's code or name, a retired code's
/// successors, a family prefix (`DF`, `PS01`) or `ALL`; empty when it names nothing.
pub fn expand(code: &str) -> Vec<&'static str> {
    if let Some(r) = find(code) {
        return vec![r.code];
    }
    if code.eq_ignore_ascii_case("ALL") {
        return RULES.iter().map(|r| r.code).collect();
    }
    let retired: Vec<&'static str> = RETIRED
        .iter()
        .filter(|(old, _)| old.eq_ignore_ascii_case(code))
        .flat_map(|(_, successor)| RULES.iter().filter(|r| successor(r)).map(|r| r.code))
        .collect();
    if !retired.is_empty() || code.len() < 2 {
        return retired;
    }
    let prefix = code.to_ascii_uppercase();
    RULES
        .iter()
        .filter(|r| r.code.starts_with(&prefix))
        .map(|r| r.code)
        .collect()
}

/// The codes a set of suppressed codes as written (`DF`, `KS005`, `DF004`) stands for: each
/// one's [`expand`]ion, or itself when it names nothing.
pub(crate) fn codes_named(written: &BTreeSet<String>) -> BTreeSet<String> {
    written
        .iter()
        .flat_map(|c| {
            let codes = expand(c);
            if codes.is_empty() {
                vec![c.clone()]
            } else {
                codes.into_iter().map(str::to_string).collect()
            }
        })
        .collect()
}

/// What replaced a retired code, for `drydock rule OLD`: the codes of its successors.
pub fn retired(code: &str) -> Option<Vec<&'static str>> {
    RETIRED
        .iter()
        .find(|(old, _)| old.eq_ignore_ascii_case(code))
        .map(|(_, successor)| {
            RULES
                .iter()
                .filter(|r| successor(r))
                .map(|r| r.code)
                .collect()
        })
}

pub fn find(code: &str) -> Option<&'static Rule> {
    RULES
        .iter()
        .copied()
        .find(|r| r.code.eq_ignore_ascii_case(code) || r.name == code)
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
            for section in [
                "## What it does",
                "## Why is this bad?",
                "## Example",
                "Use instead:",
                "## References",
            ] {
                assert!(r.doc.contains(section), "{} lacks {section}", r.code);
            }
            assert!(!r.summary().is_empty(), "{}", r.code);
        }
    }

    /// Issue 20: every rule's doc says how it decides not to fire (or that it always applies,
    /// and why), between "Why is this bad?" and the example; and its page says whether it is in
    /// the default selection and why, not the bare phrase.
    #[test]
    fn every_doc_says_when_it_does_not_apply_and_why_it_is_selected_or_not() {
        for r in RULES {
            let at = |section: &str| {
                r.doc
                    .find(section)
                    .unwrap_or_else(|| panic!("{} lacks {section}", r.code))
            };
            let when = at("## When it does not apply");
            assert!(
                at("## Why is this bad?") < when && when < at("## Example"),
                "{}: \"When it does not apply\" goes after \"Why is this bad?\", before the example",
                r.code
            );
            let body = r.doc[when..]
                .trim_start_matches("## When it does not apply")
                .split("\n## ")
                .next()
                .unwrap_or("")
                .trim();
            assert!(
                body.len() > 40,
                "{}: \"When it does not apply\" is empty",
                r.code
            );

            let listed = |list: &[(&str, &str)]| list.iter().filter(|(c, _)| *c == r.code).count();
            assert_eq!(
                listed(DEFAULT) + listed(OPT_IN),
                1,
                "{} must be in exactly one of DEFAULT (on, and why) and OPT_IN (off, and why)",
                r.code
            );
            let why = default_reason(r.code)
                .or(opt_in_reason(r.code))
                .unwrap_or_default();
            assert!(
                why.len() > 20 && !why.ends_with('.'),
                "{}: the reason for its selection is missing or ends in a full stop: {why:?}",
                r.code
            );
            let page = r.markdown();
            let line = page
                .lines()
                .find(|l| l.starts_with("In the default selection") || l.starts_with("Opt-in"))
                .unwrap_or_else(|| panic!("{}'s page does not say its selection", r.code));
            assert!(
                line.contains(why) && line.len() > "In the default selection.".len() + 20,
                "{}'s page states its selection without why: {line}",
                r.code
            );
            assert_eq!(
                line.starts_with("In the default selection"),
                is_default(r.code),
                "{}",
                r.code
            );
        }
        for (code, _) in DEFAULT.iter().chain(OPT_IN) {
            assert!(
                RULES.iter().any(|r| r.code == *code),
                "{code} is listed but is no rule"
            );
        }
    }
}
