//! Build contexts: the folder a Dockerfile is built from, which the .dockerignore rules judge.
//!
//! A Compose service's `build:` says where its Dockerfile is built from. Otherwise the context
//! is found by one rule, from what the Dockerfile copies and where it lies:
//! - its own folder, when that holds every local path the Dockerfile COPYs or ADDs, and every
//!   program it RUNs by a relative path from the context it copied whole (`COPY . .` then
//!   `RUN scripts/build.sh`);
//! - the root of the drydock project it is in (the nearest folder above it with drydock.toml,
//!   which drydock builds from), when the root holds what it copies and either its own folder
//!   lacks a path it copies or it has an ignore file of its own (`<Dockerfile>.dockerignore`,
//!   which BuildKit reads for a Dockerfile given with `-f` to a context elsewhere or shared).
//!   So `docker build -f deploy/docker/Dockerfile .`, as `drydock deploy` writes it (with its
//!   `Dockerfile.dockerignore`), is judged from the project root, even when its only COPY is
//!   `COPY . .`;
//! - none otherwise: a Dockerfile built from elsewhere is not guessed at, and only the
//!   Dockerfile rules judge it.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use drydock_dockerfile::{Dockerfile, Keyword};
use drydock_dockerignore::context::{self, BuildContext, ContextError};

use crate::discover::normalize;
use crate::error::LintError;
use crate::yaml::{Value, YamlFile};

/// The build context of each Dockerfile that a Compose service's `build:` names (`build: DIR`,
/// or `context:` and `dockerfile:`), by the Dockerfile's normalised path.
pub(crate) fn declared(compose: &[YamlFile]) -> HashMap<PathBuf, PathBuf> {
    let mut out = HashMap::new();
    for f in compose {
        let dir = Path::new(&f.path).parent().unwrap_or(Path::new(""));
        for d in &f.docs {
            let Value::Map(services) = &d.at("services").value else {
                continue;
            };
            for (_, svc) in services {
                let build = svc.at("build");
                let (ctx, dockerfile) = match (build.as_str(), build.at("context").as_str()) {
                    (Some(c), _) => (c, "Dockerfile"),
                    (None, c)
                        if build.get("context").is_some() || build.get("dockerfile").is_some() =>
                    {
                        (
                            c.unwrap_or("."),
                            build.at("dockerfile").as_str().unwrap_or("Dockerfile"),
                        )
                    }
                    _ => continue,
                };
                // A remote context (git URL) has no local files to judge.
                if ctx.contains("://") || ctx.starts_with("git@") {
                    continue;
                }
                let ctx = normalize(&dir.join(ctx));
                out.insert(normalize(&ctx.join(dockerfile)), ctx);
            }
        }
    }
    out
}

/// The build context of the Dockerfile at `path`, read: the `declared` one (from a Compose
/// file), else the one the module's rule finds; `None` when there is none to judge or it
/// cannot be read (e.g. a symlink out of it). The ignore file is `<Dockerfile>.dockerignore`
/// beside the Dockerfile when there is one, as BuildKit prefers it, else the context's
/// `.dockerignore`; a .dockerignore that does not parse is an error.
pub(crate) fn load(
    path: &Path,
    df: &Dockerfile,
    declared: Option<&Path>,
) -> Result<Option<BuildContext>, LintError> {
    let dir = match declared {
        Some(c) if c.as_os_str().is_empty() => PathBuf::from("."),
        Some(c) => c.to_path_buf(),
        None => match found(path, df) {
            Some(dir) => dir,
            None => return Ok(None),
        },
    };
    let ignore = match own_ignore_file(path) {
        Some(own) => own,
        None => dir.join(".dockerignore"),
    };
    match context::load_with_ignore_file(&dir, &ignore, &[]) {
        Ok(c) => Ok(Some(c)),
        Err(ContextError::Dockerignore { file, line, source }) => Err(LintError::Dockerignore {
            path: file,
            line,
            source,
        }),
        // A context that cannot be read leaves only the Dockerfile rules.
        Err(_) => Ok(None),
    }
}

/// The context the module's rule finds for a Dockerfile no Compose file names.
fn found(path: &Path, df: &Dockerfile) -> Option<PathBuf> {
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let builds = |dir: &Path| !copies_from_elsewhere(df, dir) && !runs_what_it_lacks(df, dir);
    let from_root = project_root(path)
        .filter(|root| normalize(root) != normalize(&folder))
        .filter(|root| (!builds(&folder) || own_ignore_file(path).is_some()) && builds(root));
    match from_root {
        Some(root) if root.as_os_str().is_empty() => Some(PathBuf::from(".")),
        Some(root) => Some(root),
        None => builds(&folder).then_some(folder),
    }
}

/// The nearest folder above a Dockerfile, within the path as given, with drydock.toml: the
/// root of its drydock project.
fn project_root(dockerfile: &Path) -> Option<PathBuf> {
    folders_above(dockerfile)
        .into_iter()
        .find(|d| d.join("drydock.toml").is_file())
}

/// The folders above a path, nearest first, within the path as given: `deploy/docker`,
/// `deploy` and the current folder (``) for `deploy/docker/Dockerfile`; `../../a` and `../..`
/// for `../../a/Dockerfile` (`..` and the current folder are not above it).
fn folders_above(path: &Path) -> Vec<PathBuf> {
    let n = normalize(path);
    let up = n
        .components()
        .take_while(|c| *c == Component::ParentDir)
        .count();
    n.ancestors()
        .skip(1)
        .take_while(|d| d.components().count() >= up)
        .map(Path::to_path_buf)
        .collect()
}

/// `<Dockerfile>.dockerignore` beside the Dockerfile, when there is one.
fn own_ignore_file(dockerfile: &Path) -> Option<PathBuf> {
    let own = PathBuf::from(format!("{}.dockerignore", dockerfile.display()));
    own.is_file().then_some(own)
}

/// Whether a Dockerfile COPYs or ADDs a local path that `folder` does not hold: then `folder`
/// is not its build context.
fn copies_from_elsewhere(df: &Dockerfile, folder: &Path) -> bool {
    df.instructions
        .iter()
        .filter(|i| matches!(i.kind(), Keyword::Copy | Keyword::Add))
        .filter(|i| i.heredocs.is_empty() && !i.flags.iter().any(|f| f.starts_with("--from")))
        .any(|i| {
            let v = i.values();
            v.len() >= 2
                && v[..v.len() - 1].iter().any(|src| {
                    // URLs and variables are not judged; of a glob, the folder before it.
                    let literal = match src.find(['*', '?', '[']) {
                        Some(g) => src[..g].rsplit_once('/').map_or("", |(d, _)| d),
                        None => src,
                    };
                    let literal = literal.trim_start_matches('/');
                    !src.contains("://")
                        && !src.contains('$')
                        && !literal.is_empty()
                        && !folder.join(literal).exists()
                })
        })
}

/// Whether, after copying the whole context into its working directory (`COPY . .`), the
/// Dockerfile RUNs a program by a relative path there (`scripts/build.sh`, `./configure`) that
/// `folder` does not hold: then `folder` is not its build context (as vector's
/// `tilt/Dockerfile`, built from the repository's root: `COPY . .` then
/// `RUN scripts/environment/install-protoc.sh`).
fn runs_what_it_lacks(df: &Dockerfile, folder: &Path) -> bool {
    let whole = |src: &str| {
        let p = src.trim_start_matches("./").trim_start_matches('/');
        matches!(p.trim_end_matches('/'), "" | "." | "*")
    };
    // Whether the whole context is in the working directory, in the current stage.
    let mut here = false;
    let mut workdir = String::new();
    for i in &df.instructions {
        match i.kind() {
            Keyword::From => {
                here = false;
                workdir.clear();
            }
            Keyword::Workdir => {
                here = false;
                workdir = i
                    .values()
                    .first()
                    .map_or("", |w| w.trim_end_matches('/'))
                    .into();
            }
            Keyword::Copy | Keyword::Add
                if i.heredocs.is_empty() && !i.flags.iter().any(|f| f.starts_with("--from")) =>
            {
                let v = i.values();
                let dest = v.last().map_or("", |d| d.trim_end_matches('/'));
                // `.` is the working directory; so is its path (`/` when none is set).
                let into_workdir = dest == "." || dest == workdir;
                if v.len() >= 2 && into_workdir && v[..v.len() - 1].iter().any(|s| whole(s)) {
                    here = true;
                }
            }
            Keyword::Run if here => {
                for c in drydock_dockerfile::shell::run_commands(i) {
                    let Some(program) = c.words.first() else {
                        continue;
                    };
                    // A `cd` moves the commands after it elsewhere.
                    if program == "cd" || program == "pushd" {
                        break;
                    }
                    let relative = program.contains('/')
                        && !program.starts_with(['/', '$', '~', '-'])
                        && !program.contains("://")
                        && !program.starts_with("../");
                    let program = program.trim_start_matches("./");
                    if relative && !folder.join(program).exists() {
                        return true;
                    }
                }
            }
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, rel: &str, text: &str) {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    /// The context `found` gives the Dockerfile at `rel` under `dir`, relative to `dir`.
    fn context(dir: &Path, rel: &str) -> Option<PathBuf> {
        let path = dir.join(rel);
        let text = std::fs::read_to_string(&path).unwrap();
        let df = drydock_dockerfile::parse(&text).unwrap();
        found(&path, &df).map(|c| c.strip_prefix(dir).unwrap().to_path_buf())
    }

    #[test]
    fn folders_above_stay_above() {
        let above = |p: &str| -> Vec<PathBuf> { folders_above(Path::new(p)) };
        assert_eq!(
            above("deploy/docker/Dockerfile"),
            [PathBuf::from("deploy/docker"), "deploy".into(), "".into()]
        );
        assert_eq!(
            above("../../a/Dockerfile"),
            [PathBuf::from("../../a"), "../..".into()]
        );
        assert_eq!(above("/p/Dockerfile"), [PathBuf::from("/p"), "/".into()]);
    }

    #[test]
    fn the_folder_else_the_project_root_else_none() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        write(d, "src/main.go", "package main\n");
        write(d, "go.mod", "module x\n");
        write(
            d,
            "docker/app.Dockerfile",
            "FROM scratch\nCOPY src/ /app/\n",
        );
        write(d, "tools/Dockerfile", "FROM scratch\nCOPY . /x/\n");
        write(d, "deploy/docker/Dockerfile", "FROM scratch\nCOPY . /x/\n");
        write(d, "deploy/docker/Dockerfile.dockerignore", "*.md\n");
        // No project: the folder when it holds what is copied, else no guess.
        assert_eq!(context(d, "docker/app.Dockerfile"), None);
        assert_eq!(context(d, "tools/Dockerfile"), Some("tools".into()));
        assert_eq!(
            context(d, "deploy/docker/Dockerfile"),
            Some("deploy/docker".into())
        );
        // In a drydock project: the root, for a folder that lacks what is copied and for a
        // Dockerfile with an ignore file of its own (`docker build -f … .`).
        write(d, "drydock.toml", "");
        assert_eq!(context(d, "docker/app.Dockerfile"), Some("".into()));
        assert_eq!(context(d, "tools/Dockerfile"), Some("tools".into()));
        assert_eq!(context(d, "deploy/docker/Dockerfile"), Some("".into()));
        // A root that lacks it too: no guess.
        write(
            d,
            "docker/other.Dockerfile",
            "FROM scratch\nCOPY lib/ /app/\n",
        );
        assert_eq!(context(d, "docker/other.Dockerfile"), None);
    }

    #[test]
    fn a_folder_that_lacks_what_the_build_runs_is_not_the_context() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        // `COPY . .` then a script from the context that the folder does not hold: built from
        // elsewhere (vector's tilt/Dockerfile, built from the repository's root).
        write(
            d,
            "tilt/Dockerfile",
            "FROM rust:1\nWORKDIR /src\nCOPY . .\nRUN scripts/setup.sh && cargo build\n",
        );
        assert_eq!(context(d, "tilt/Dockerfile"), None);
        write(d, "tilt/scripts/setup.sh", "#!/bin/sh\n");
        assert_eq!(context(d, "tilt/Dockerfile"), Some("tilt".into()));
        // A relative program after a `cd`, or with the context copied elsewhere, says nothing.
        write(
            d,
            "cd/Dockerfile",
            "FROM alpine\nCOPY . .\nRUN git clone x && cd x && ./configure\n",
        );
        assert_eq!(context(d, "cd/Dockerfile"), Some("cd".into()));
        write(
            d,
            "moved/Dockerfile",
            "FROM alpine\nCOPY . /src\nRUN scripts/setup.sh\n",
        );
        assert_eq!(context(d, "moved/Dockerfile"), Some("moved".into()));
        write(
            d,
            "abs/Dockerfile",
            "FROM alpine\nWORKDIR /src/\nCOPY . /src\nRUN scripts/setup.sh\n",
        );
        assert_eq!(context(d, "abs/Dockerfile"), None);
    }
}
