//! What a Go module's own files ask of the build stage, read before `go build` runs.
//!
//! go.mod `replace` directives and go.work `use` directives may name local directories. The
//! compiler sees only the staged copy of the build context, so a directory outside the context
//! (or left out by .dockerignore) would fail there as a bare "no such file" in drydock's cache.
//! This names the file, the line and the fix instead. It never changes the user's files.

use std::path::{Component, Path, PathBuf};

use crate::context::BuildContext;

#[derive(Debug, thiserror::Error)]
#[error("{}:{line}: {directive} points at {target}, {why}", .file.display())]
pub struct LocalPathError {
    pub file: PathBuf,
    pub line: usize,
    pub directive: &'static str,
    pub target: String,
    pub why: String,
    pub fix: String,
}

/// Whether the go command will build in module mode: a go.mod, or a go.work workspace (unless
/// GOWORK=off), and GO111MODULE not `off`.
pub fn module_mode(ctx: &BuildContext, go111module: Option<&str>, gowork: Option<&str>) -> bool {
    go111module != Some("off")
        && (ctx.contains("go.mod") || (gowork != Some("off") && ctx.contains("go.work")))
}

/// Checks every go.mod and go.work of the context for local directories the staged build
/// cannot reach. `vendored` skips go.mod replacements (vendor mode reads vendor/ instead).
pub fn check_local_paths(
    root: &Path,
    ctx: &BuildContext,
    vendored: bool,
) -> Result<(), LocalPathError> {
    for e in &ctx.entries {
        let name = e.path.rsplit('/').next().unwrap_or(&e.path);
        let in_vendor = e.path.starts_with("vendor/") || e.path.contains("/vendor/");
        if in_vendor || !(name == "go.mod" || name == "go.work") {
            continue;
        }
        if name == "go.mod" && vendored {
            continue;
        }
        let file = root.join(&e.path);
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let dir = e.path.rfind('/').map_or("", |i| &e.path[..i]);
        for (line, directive, target) in local_dirs(&text, name == "go.work") {
            check_one(root, ctx, &file, dir, line, directive, &target)?;
        }
    }
    Ok(())
}

fn check_one(
    root: &Path,
    ctx: &BuildContext,
    file: &Path,
    dir: &str,
    line: usize,
    directive: &'static str,
    target: &str,
) -> Result<(), LocalPathError> {
    let err = |why: String, fix: String| LocalPathError {
        file: file.to_path_buf(),
        line,
        directive,
        target: target.to_string(),
        why,
        fix,
    };
    let outside_fix = || {
        format!(
            "drydock compiles only the build context ({}), as docker build does: build from a directory that holds both (a go.work or drydock.toml at their common root, with `main = \"./path/to/cmd\"` under [build] when there are several mains), move the module inside the context, or vendor it (`go mod vendor`, then build with GOFLAGS=-mod=vendor)",
            root.display()
        )
    };
    let Some(rel) = normalize(dir, target) else {
        return Err(err("outside the build context".into(), outside_fix()));
    };
    let want = if rel.is_empty() {
        "go.mod".to_string()
    } else {
        format!("{rel}/go.mod")
    };
    if ctx.contains(&want) {
        return Ok(());
    }
    if root.join(&want).is_file() {
        return Err(err(
            format!("and .dockerignore leaves {want} out of the build context"),
            format!("un-ignore {rel}/ in .dockerignore: the compiler sees only the context"),
        ));
    }
    // A directory without go.mod: the go command says so itself, in the user's paths.
    Ok(())
}

/// `target` relative to the context root, from a file in `dir`; `None` when it leaves the root.
fn normalize(dir: &str, target: &str) -> Option<String> {
    if Path::new(target).is_absolute() {
        return None;
    }
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for c in Path::new(target).components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::Normal(p) => parts.push(p.to_str()?),
            _ => return None,
        }
    }
    Some(parts.join("/"))
}

/// Local directories named by `replace X => DIR` (go.mod, go.work) and `use DIR` (go.work), with
/// their 1-based line numbers.
fn local_dirs(text: &str, work: bool) -> Vec<(usize, &'static str, String)> {
    let mut out = Vec::new();
    let mut block: Option<&str> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split("//").next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let (verb, rest) = match block {
            Some(_) if line == ")" => {
                block = None;
                continue;
            }
            Some(v) => (v, line),
            None => {
                let mut it = line.splitn(2, char::is_whitespace);
                let verb = it.next().unwrap_or("");
                let rest = it.next().unwrap_or("").trim();
                if rest == "(" {
                    block = Some(match verb {
                        "replace" => "replace",
                        "use" => "use",
                        _ => "other",
                    });
                    continue;
                }
                (verb, rest)
            }
        };
        let target = match verb {
            "replace" => rest
                .split("=>")
                .nth(1)
                .and_then(|r| r.split_whitespace().next()),
            "use" if work => rest.split_whitespace().next(),
            _ => None,
        };
        if let Some(t) = target {
            let t = t.trim_matches('"');
            if t.starts_with("./")
                || t.starts_with("../")
                || t == "."
                || t == ".."
                || t.starts_with('/')
            {
                let directive = if verb == "replace" { "replace" } else { "use" };
                out.push((i + 1, directive, t.to_string()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_directories_of_go_mod_and_go_work() {
        let gomod = "module example.com/a\n\nreplace example.com/lib => ../lib\nreplace (\n\texample.com/x v1.0.0 => ./third_party/x // local fork\n\tgolang.org/x/net => golang.org/x/net v0.6.0\n)\n";
        assert_eq!(
            local_dirs(gomod, false),
            vec![
                (3, "replace", "../lib".to_string()),
                (5, "replace", "./third_party/x".to_string())
            ]
        );
        let work = "go 1.19\n\nuse (\n\t./api\n\t../shared\n)\nuse .\n";
        assert_eq!(
            local_dirs(work, true),
            vec![
                (4, "use", "./api".to_string()),
                (5, "use", "../shared".to_string()),
                (7, "use", ".".to_string())
            ]
        );
        // `use` means nothing in go.mod.
        assert!(local_dirs("use ./x\n", false).is_empty());
    }

    #[test]
    fn paths_are_resolved_against_the_file_and_kept_inside() {
        assert_eq!(normalize("", "./lib").as_deref(), Some("lib"));
        assert_eq!(normalize("api", "../lib").as_deref(), Some("lib"));
        assert_eq!(normalize("", "."), Some(String::new()));
        assert_eq!(normalize("", "../lib"), None);
        assert_eq!(normalize("a/b", "../../../x"), None);
        assert_eq!(normalize("", "/abs/lib"), None);
    }
}
