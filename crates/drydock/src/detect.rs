//! What a project's sources say about how it runs: the port it listens on, its health and
//! readiness paths, the secrets it reads from the environment. One detection, used by `build`
//! (when drydock.toml leaves a value out) and by `init` (which writes what it found), and every
//! value says where it came from, so the report can tell "detected" from "assumed".

use std::sync::OnceLock;

use regex::Regex;

use crate::config::Language;
use crate::context::{BuildContext, EntryKind};

/// A value and how drydock came by it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found<T> {
    pub value: T,
    /// `detected … from main.go:12` or `assumed …: why`.
    pub how: String,
    pub detected: bool,
}

/// One source file, read once.
pub struct Source {
    pub path: String,
    pub text: String,
}

/// The application sources of the context (not tests, not vendored code), at most 1 MiB each.
pub fn sources(ctx: &BuildContext, lang: Language) -> Vec<Source> {
    let ext = match lang {
        Language::Go => ".go",
        Language::Rust => ".rs",
    };
    ctx.entries
        .iter()
        .filter(|e| {
            matches!(e.kind, EntryKind::File { size, .. } if size < 1 << 20)
                && e.path.ends_with(ext)
                && !e.path.ends_with("_test.go")
                && !e.path.starts_with("vendor/")
                && !e.path.starts_with("target/")
        })
        .filter_map(|e| {
            std::fs::read_to_string(ctx.root.join(&e.path))
                .ok()
                .map(|text| Source {
                    path: e.path.clone(),
                    text,
                })
        })
        .collect()
}

fn re(cell: &'static OnceLock<Regex>, pat: &str) -> &'static Regex {
    // The patterns are constants; a failure to compile is a bug caught by the tests.
    cell.get_or_init(|| Regex::new(pat).unwrap_or_else(|_| Regex::new("$^").expect("empty regex")))
}

/// The port the service listens on by default.
pub fn port(sources: &[Source]) -> Found<u16> {
    static ENV_READ: OnceLock<Regex> = OnceLock::new();
    static DEFAULT: OnceLock<Regex> = OnceLock::new();
    static LISTEN: OnceLock<Regex> = OnceLock::new();
    static SOCKADDR: OnceLock<Regex> = OnceLock::new();
    let env_read = re(&ENV_READ, r#"\(\s*"PORT"\s*[,)]"#);
    let default = re(
        &DEFAULT,
        r#""(\d{2,5})"|unwrap_or\(\s*(\d{2,5})\s*\)|:\s*(\d{2,5})\s*[,;)]"#,
    );
    let listen = re(
        &LISTEN,
        r#"["'](?:0\.0\.0\.0|127\.0\.0\.1|\[::\]|localhost)?:(\d{2,5})["']"#,
    );
    let sockaddr = re(
        &SOCKADDR,
        r"\[\s*(?:0|127)\s*,\s*0\s*,\s*0\s*,\s*[01]\s*\]\s*,\s*(\d{2,5})\s*\)",
    );
    let valid = |s: &str| s.parse::<u16>().ok().filter(|p| *p > 0);
    let mut env_without_default = None;
    // A PORT variable with a default: the default is what runs when nothing is set.
    for s in sources {
        let lines: Vec<&str> = s.text.lines().collect();
        for (i, l) in lines.iter().enumerate() {
            if !env_read.is_match(l) {
                continue;
            }
            let window = &lines[i..lines.len().min(i + 6)];
            for (j, w) in window.iter().enumerate() {
                let tail = if j == 0 {
                    &w[env_read.find(w).map_or(0, |m| m.start())..]
                } else {
                    w
                };
                if let Some(p) = default
                    .captures(tail)
                    .and_then(|c| (1..=3).find_map(|k| c.get(k)))
                    .and_then(|m| valid(m.as_str()))
                {
                    return Found {
                        value: p,
                        how: format!(
                            "detected port {p} from the PORT default at {}:{}",
                            s.path,
                            i + j + 1
                        ),
                        detected: true,
                    };
                }
            }
            env_without_default.get_or_insert(format!("{}:{}", s.path, i + 1));
        }
    }
    for s in sources {
        for (i, l) in s.text.lines().enumerate() {
            if let Some(p) = listen
                .captures(l)
                .or_else(|| sockaddr.captures(l))
                .and_then(|c| valid(&c[1]))
            {
                return Found {
                    value: p,
                    how: format!("detected port {p} from {}:{}", s.path, i + 1),
                    detected: true,
                };
            }
        }
    }
    Found {
        value: 8080,
        how: match env_without_default {
            Some(at) => format!("assumed port 8080: PORT is read at {at} with no default in the code (set `port` in drydock.toml)"),
            None => "assumed port 8080: no listen address found (set `port` in drydock.toml)".into(),
        },
        detected: false,
    }
}

/// The first of `candidates` that the sources use as a string literal.
fn route(sources: &[Source], candidates: &[&str], what: &str, fallback: &str) -> Found<String> {
    for c in candidates {
        let lit = format!("\"{c}\"");
        for s in sources {
            if let Some(i) = s.text.lines().position(|l| l.contains(&lit)) {
                return Found {
                    value: c.to_string(),
                    how: format!("detected {what} {c} from {}:{}", s.path, i + 1),
                    detected: true,
                };
            }
        }
    }
    Found {
        value: fallback.to_string(),
        how: format!("assumed {what} {fallback}: no such route found (set it under [health] in drydock.toml)"),
        detected: false,
    }
}

pub fn health_path(sources: &[Source]) -> Found<String> {
    route(
        sources,
        &["/healthz", "/livez", "/health", "/healthcheck", "/ping"],
        "health path",
        "/healthz",
    )
}

/// Readiness: a readiness route, else the health path.
pub fn ready_path(sources: &[Source], health: &str) -> Found<String> {
    let mut f = route(
        sources,
        &["/readyz", "/ready", "/readiness"],
        "readiness path",
        health,
    );
    if !f.detected {
        f.how = format!(
            "assumed readiness path {health}: the health path, as no readiness route was found"
        );
    }
    f
}

/// Environment variables the app reads whose names say they hold secrets, judged as the lint
/// rules judge them (and DSNs, which carry a password).
pub fn secret_envs(sources: &[Source]) -> Vec<String> {
    static READ: OnceLock<Regex> = OnceLock::new();
    let read = re(
        &READ,
        r#"(?:Getenv|LookupEnv|env::var|env|var_os|getenv)\(\s*"([A-Z][A-Z0-9_]*)""#,
    );
    let mut found: Vec<String> = sources
        .iter()
        .flat_map(|s| {
            read.captures_iter(&s.text)
                .map(|c| c[1].to_string())
                .collect::<Vec<_>>()
        })
        .filter(|n| drydock_values::secret::secretish(n) || n.ends_with("DSN"))
        .collect();
    found.sort();
    found.dedup();
    found
}

/// Go sources that import "C": cgo, which a static scratch build cannot compile.
pub fn cgo_files(sources: &[Source]) -> Vec<String> {
    sources
        .iter()
        .filter(|s| {
            s.text
                .lines()
                .any(|l| l.trim() == "import \"C\"" || l.trim() == "\"C\"")
        })
        .map(|s| s.path.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(text: &str) -> Vec<Source> {
        vec![Source {
            path: "main.go".into(),
            text: text.into(),
        }]
    }

    #[test]
    fn port_from_listen_address() {
        let f = port(&src(
            "package main\n\nfunc main() {\n\tr.Run(\":7070\")\n}\n",
        ));
        assert_eq!(f.value, 7070);
        assert_eq!(f.how, "detected port 7070 from main.go:4");
    }

    #[test]
    fn port_from_env_default() {
        let f = port(&src("addr := \":\" + getenv(\"PORT\", \"9000\")\n"));
        assert_eq!((f.value, f.detected), (9000, true));
        assert!(f.how.contains("PORT default at main.go:1"), "{}", f.how);
        let f = port(&src(
            "port := os.Getenv(\"PORT\")\nif port == \"\" {\n\tport = \"7071\"\n}\n",
        ));
        assert_eq!(f.value, 7071);
        assert!(f.how.ends_with("main.go:3"), "{}", f.how);
        let rust = src(
            "let port = env::var(\"PORT\").ok().and_then(|p| p.parse().ok()).unwrap_or(3000);\n",
        );
        assert_eq!(port(&rust).value, 3000);
    }

    #[test]
    fn port_without_default_is_assumed() {
        let f = port(&src("r.Run(\":\" + os.Getenv(\"PORT\"))\n"));
        assert_eq!((f.value, f.detected), (8080, false));
        assert!(
            f.how
                .starts_with("assumed port 8080: PORT is read at main.go:1"),
            "{}",
            f.how
        );
        let f = port(&src("package main\n"));
        assert_eq!(
            f.how,
            "assumed port 8080: no listen address found (set `port` in drydock.toml)"
        );
    }

    #[test]
    fn routes() {
        let s = src("r.GET(\"/ping\", h)\n");
        let h = health_path(&s);
        assert_eq!(h.value, "/ping");
        assert_eq!(h.how, "detected health path /ping from main.go:1");
        assert_eq!(ready_path(&s, &h.value).value, "/ping");
        assert!(!health_path(&src("")).detected);
    }

    #[test]
    fn cgo() {
        assert_eq!(
            cgo_files(&src("package main\n\nimport \"C\"\n")),
            vec!["main.go"]
        );
        assert!(cgo_files(&src("package main\n")).is_empty());
    }
}
