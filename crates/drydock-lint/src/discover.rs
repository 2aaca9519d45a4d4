//! Which files to lint: discovery in directories (honouring .gitignore), names, and sniffing of
//! files named on the command line.

use std::path::{Component, Path, PathBuf};

use crate::error::LintError;

/// Whether a file name is a Dockerfile: `Dockerfile`, `*.Dockerfile`, `Dockerfile.*`.
/// Whether a file name is a Dockerfile: `Dockerfile`, `Containerfile`, `*.Dockerfile`,
/// `*.dockerfile`, `*.containerfile`, and `Dockerfile.*`, `Dockerfile-*`, `Dockerfile_*` (and the
/// same for Containerfile); not their `.dockerignore` files, nor `*.template` (docker-library's
/// jq templates, which are not Dockerfiles until rendered).
pub fn is_dockerfile_name(name: &str) -> bool {
    if name.ends_with(".dockerignore") || name.ends_with(".template") {
        return false;
    }
    let lower = name.to_ascii_lowercase();
    ["dockerfile", "containerfile"].iter().any(|base| {
        name.eq_ignore_ascii_case(base)
            || lower.ends_with(&format!(".{base}"))
            || [".", "-", "_"]
                .iter()
                .any(|sep| name.starts_with(&format!("{}{sep}", capitalised(base))))
    })
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// A template, not YAML yet: Helm's and other Go-template files. An action that is YAML
/// structure (a line of its own, or an unquoted value) makes a template; `{{ … }}` inside a
/// quoted string (a Prometheus rule's `"{{ $labels.x }}"`) is just text.
/// Argo's `"Hello: {{inputs.parameters.x}}"` and a `# {{steps.x}}` comment are text too.
pub(crate) fn is_template(text: &str) -> bool {
    text.lines().any(|l| {
        let l = structure(l);
        let t = l.trim_start().trim_start_matches("- ");
        t.starts_with("{{") || l.contains(": {{") || l.contains(":{{")
    })
}

/// A YAML line without its comment and with the contents of its quoted strings left out.
fn structure(line: &str) -> String {
    let mut out = String::new();
    let mut quote: Option<char> = None;
    let mut prev = ' ';
    // A quote starts a quoted scalar only where a scalar starts (`it's` is plain text).
    let mut at_start = true;
    for c in line.chars() {
        match quote {
            Some(q) if c == q => {
                quote = None;
                out.push(c);
            }
            Some(_) => {}
            None if (c == '"' || c == '\'') && at_start => {
                quote = Some(c);
                out.push(c);
            }
            None if c == '#' && prev.is_whitespace() => break,
            None => out.push(c),
        }
        if quote.is_none() && !c.is_whitespace() {
            at_start = matches!(c, ':' | '-' | '[' | '{' | ',');
        }
        prev = c;
    }
    out
}

#[cfg(test)]
mod template_tests {
    use super::is_template;

    #[test]
    fn go_template_actions_in_structure_make_a_template() {
        assert!(is_template("replicas: {{ .Values.replicas }}\n"));
        assert!(is_template("{{- if .Values.enabled }}\nkind: Pod\n"));
        assert!(is_template("  - {{ include \"x\" . }}\n"));
        assert!(is_template(
            "image: \"{{ .Values.image }}\"\nreplicas: {{ .Values.n }}\n"
        ));
    }

    #[test]
    fn actions_in_strings_and_comments_are_text() {
        assert!(!is_template(
            "args: [echo, \"Files: {{inputs.parameters.files}}\"]\n"
        ));
        assert!(!is_template("value: '{{steps.step1.outputs.result}}'\n"));
        assert!(!is_template(
            "# {{steps.<name>.outputs.result}} can be used\nkind: Pod\n"
        ));
        assert!(!is_template(
            "args: [\"echo\", \"x\"] # {{a}} -> Updated: {{inputs.parameters.message}}\n"
        ));
    }
}

pub(crate) const TEMPLATE_NOTE: &str = "a template ({{ … }}), not YAML until rendered: render it and lint the output (e.g. helm template CHART > rendered.yaml && drydock lint rendered.yaml)";

/// Whether a file name is a Compose file's.
pub fn is_compose_name(name: &str) -> bool {
    (name.starts_with("compose") || name.starts_with("docker-compose"))
        && (name.ends_with(".yaml") || name.ends_with(".yml"))
}

/// Whether a file name is YAML that may hold Kubernetes objects (Compose files are not).
pub fn is_manifest_name(name: &str) -> bool {
    (name.ends_with(".yaml") || name.ends_with(".yml"))
        && !name.starts_with("compose")
        && !name.starts_with("docker-compose")
        && !name.starts_with('.')
}

/// The files to lint among `paths`: Dockerfiles, Compose files, and other YAML (Kubernetes
/// manifests, or Compose files whose name does not say so: their content decides when the
/// engine reads them). Files given by name are always taken; directories are searched,
/// honouring .gitignore.
#[derive(Debug, Default)]
pub struct Discovered {
    pub dockerfiles: Vec<PathBuf>,
    pub manifests: Vec<PathBuf>,
    pub compose: Vec<PathBuf>,
    /// Files named on the command line that are none of these, with why.
    pub skipped: Vec<(PathBuf, String)>,
    /// When a directory search found nothing to lint: how many files of lintable names
    /// (Dockerfiles, YAML) it passed over because a .gitignore (or .ignore) excludes them.
    pub gitignored: usize,
}

/// How directories are searched.
#[derive(Debug, Clone, Default)]
pub struct DiscoverOptions {
    /// .gitignore-style patterns of paths to leave out of directory searches (files named on
    /// the command line are always linted), relative to `exclude_root`.
    pub exclude: Vec<String>,
    /// The folder the `exclude` patterns are relative to (drydock.toml's).
    pub exclude_root: PathBuf,
    /// Search what .gitignore, .ignore and git's excludes leave out too (ripgrep's name).
    pub no_ignore: bool,
}

/// A path made absolute without touching the filesystem, so that the exclude matcher and the
/// search agree whatever form the paths were given in.
fn absolute(p: &Path) -> PathBuf {
    normalize(&std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()))
}

/// The exclude patterns as one matcher.
fn exclude_matcher(o: &DiscoverOptions) -> Result<Option<ignore::gitignore::Gitignore>, LintError> {
    if o.exclude.is_empty() {
        return Ok(None);
    }
    let mut b = ignore::gitignore::GitignoreBuilder::new(absolute(&o.exclude_root));
    for pattern in &o.exclude {
        b.add_line(None, pattern).map_err(|e| LintError::Exclude {
            pattern: pattern.clone(),
            message: e.to_string(),
        })?;
    }
    b.build().map(Some).map_err(|e| LintError::Exclude {
        pattern: o.exclude.join(", "),
        message: e.to_string(),
    })
}

/// Whether a file's name makes it one drydock would lint in a directory search.
fn lintable_name(name: &str) -> bool {
    is_compose_name(name) || is_manifest_name(name) || is_dockerfile_name(name)
}

/// A directory search: `.git` and Helm charts (reported in `charts`) are never entered, nor
/// what `exclude` matches; .gitignore is honoured unless `gitignore` is false.
fn walk(
    dir: &Path,
    exclude: Option<&ignore::gitignore::Gitignore>,
    gitignore: bool,
    charts: Option<std::sync::Arc<std::sync::Mutex<Vec<PathBuf>>>>,
) -> impl Iterator<Item = PathBuf> {
    let exclude = exclude.cloned();
    ignore::WalkBuilder::new(dir)
        .standard_filters(gitignore)
        .hidden(false)
        .filter_entry(move |e| {
            if e.file_name() == ".git" {
                return false;
            }
            let is_dir = e.file_type().is_some_and(|t| t.is_dir());
            if let Some(x) = &exclude {
                if e.depth() > 0 && x.matched(absolute(e.path()), is_dir).is_ignore() {
                    return false;
                }
            }
            let chart = is_dir
                && e.path().join("Chart.yaml").is_file()
                && e.path().join("templates").is_dir();
            if chart {
                if let Some(seen) = &charts {
                    if let Ok(mut c) = seen.lock() {
                        c.push(e.path().to_path_buf());
                    }
                }
            }
            !chart
        })
        .build()
        .flatten()
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .map(|e| e.into_path())
}

/// What an explicitly named file with an unknown name holds, judged from its first lines.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Sniffed {
    Dockerfile,
    Manifest,
    Compose,
    Other(&'static str),
}

fn sniff(path: &Path) -> Sniffed {
    let mut head = vec![0u8; 8192];
    let n = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
        .unwrap_or(0);
    head.truncate(n);
    if head.is_empty() {
        // Empty: the Dockerfile parser says why that is an error.
        return Sniffed::Dockerfile;
    }
    if let Some(text) = utf16(&head) {
        return sniff_text(&text.unwrap_or_default());
    }
    if head.contains(&0) {
        return Sniffed::Other("a binary file");
    }
    sniff_text(&String::from_utf8_lossy(&head))
}

/// Text that starts with a UTF-16 byte-order mark, decoded (`Some(None)`: the mark, then
/// something that is not UTF-16; `None`: no such mark, or what follows it is not text). An odd
/// last byte (a cut-off head) is dropped.
pub(crate) fn utf16(bytes: &[u8]) -> Option<Option<String>> {
    let (rest, le) = if let Some(r) = bytes.strip_prefix(b"\xFF\xFE") {
        (r, true)
    } else if let Some(r) = bytes.strip_prefix(b"\xFE\xFF") {
        (r, false)
    } else {
        return None;
    };
    let units: Vec<u16> = rest
        .chunks_exact(2)
        .map(|c| {
            if le {
                u16::from_le_bytes([c[0], c[1]])
            } else {
                u16::from_be_bytes([c[0], c[1]])
            }
        })
        .collect();
    match String::from_utf16(&units) {
        // Dockerfiles, manifests and Compose files are mostly ASCII: bytes that only happen to
        // start like a mark (a binary file) decode to anything but that.
        Ok(t) => {
            let ascii = t.chars().filter(|c| c.is_ascii() && *c != '\0').count();
            (!t.contains('\0') && ascii * 2 >= t.chars().count()).then_some(Some(t))
        }
        Err(_) => Some(None),
    }
}

/// What text holds, judged from its first lines (a name said nothing).
pub(crate) fn sniff_text(text: &str) -> Sniffed {
    let mut yaml_keys = (false, false);
    for l in text.lines() {
        let t = l.trim();
        if t.is_empty() {
            continue;
        }
        if let Some(c) = t.strip_prefix('#') {
            let c = c.trim_start().to_ascii_lowercase();
            if c.starts_with("syntax=") || c.starts_with("escape=") || c.starts_with("check=") {
                return Sniffed::Dockerfile;
            }
            continue;
        }
        let word = t
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        if matches!(word.as_str(), "FROM" | "ARG") && yaml_keys == (false, false) {
            return Sniffed::Dockerfile;
        }
        yaml_keys.0 |= l.starts_with("apiVersion:");
        yaml_keys.1 |= l.starts_with("kind:");
    }
    if yaml_keys.0 && yaml_keys.1 {
        Sniffed::Manifest
    } else if compose_shaped(text) {
        Sniffed::Compose
    } else {
        Sniffed::Other("not a Dockerfile, Kubernetes manifest or Compose file")
    }
}

/// The top-level keys of the Compose specification (and `x-*` extensions).
const COMPOSE_KEYS: &[&str] = &[
    "version", "name", "services", "networks", "volumes", "secrets", "configs", "include", "models",
];

/// Whether YAML text is a Compose file (or a Swarm stack file, which is one), whatever its
/// name: every top-level key is one of Compose's, and `services` holds a service with an
/// `image` or a `build`. CI files with a `services:` list (Travis, GitLab) have other keys.
pub(crate) fn compose_shaped(text: &str) -> bool {
    let mut top = "";
    let mut services = false;
    let mut service_with_image = false;
    for l in text.lines() {
        let t = l.trim_end();
        if t.is_empty() || t.trim_start().starts_with('#') || t == "---" || t == "..." {
            continue;
        }
        if !l.starts_with([' ', '\t']) {
            let Some((key, _)) = t.split_once(':') else {
                return false;
            };
            let key = key.trim().trim_matches(['"', '\'']);
            if !(COMPOSE_KEYS.contains(&key) || key.starts_with("x-")) {
                return false;
            }
            top = if key == "services" { "services" } else { "" };
            services |= key == "services";
            continue;
        }
        if top == "services" {
            let k = t.trim_start();
            service_with_image |= k.starts_with("image:") || k.starts_with("build:");
        }
    }
    services && service_with_image
}

pub fn discover(paths: &[PathBuf]) -> Result<Discovered, LintError> {
    discover_with(paths, &DiscoverOptions::default())
}

pub fn discover_with(paths: &[PathBuf], o: &DiscoverOptions) -> Result<Discovered, LintError> {
    let exclude = exclude_matcher(o)?;
    let mut out = Discovered::default();
    let mut chart_dirs = Vec::new();
    let mut take = |p: PathBuf, explicit: bool| -> bool {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if is_compose_name(&name) {
            out.compose.push(p);
        } else if is_manifest_name(&name) {
            out.manifests.push(p);
        } else if is_dockerfile_name(&name) {
            out.dockerfiles.push(p);
        } else if name.starts_with("Dockerfile") && name.ends_with(".template") {
            out.skipped.push((
                p,
                "a Dockerfile template (render it, then lint the result)".into(),
            ));
            return false;
        } else if explicit {
            match sniff(&p) {
                Sniffed::Dockerfile => out.dockerfiles.push(p),
                Sniffed::Manifest => out.manifests.push(p),
                Sniffed::Compose => out.compose.push(p),
                Sniffed::Other(why) => {
                    out.skipped.push((p, why.to_string()));
                    return false;
                }
            }
        } else {
            return false;
        }
        true
    };
    let mut gitignored = 0;
    for p in paths {
        if p.is_file() {
            take(p.clone(), true);
        } else if p.is_dir() {
            // A Helm chart (Chart.yaml beside templates/) is skipped whole, with one note.
            let charts = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
            let mut found = 0;
            for f in walk(p, exclude.as_ref(), !o.no_ignore, Some(charts.clone())) {
                found += usize::from(take(f, false));
            }
            chart_dirs.extend(charts.lock().map(|c| c.clone()).unwrap_or_default());
            // Nothing here: say whether .gitignore is why, rather than "found nothing".
            if found == 0 && !o.no_ignore {
                gitignored += walk(p, exclude.as_ref(), false, None)
                    .filter(|f| {
                        f.file_name()
                            .is_some_and(|n| lintable_name(&n.to_string_lossy()))
                    })
                    .count();
            }
        } else {
            return Err(LintError::Missing(p.clone()));
        }
    }
    out.gitignored = gitignored;
    for c in chart_dirs {
        out.skipped.push((c, "a Helm chart: render it and lint the output (helm template CHART > rendered.yaml && drydock lint rendered.yaml)".into()));
    }
    for v in [&mut out.dockerfiles, &mut out.manifests, &mut out.compose] {
        v.sort();
        v.dedup();
    }
    Ok(out)
}

/// `a/./b/../c` as `a/c`, without touching the filesystem.
pub fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if out.file_name().is_some() => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}
