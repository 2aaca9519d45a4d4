//! `go build` for the build stage, in module mode or GOPATH mode.
//!
//! Module mode (a go.mod or go.work) builds the staged copy as the go command would the user's
//! tree; local `replace`/`use` directories must be inside the context (see `gomod`).
//! GOPATH mode (GO111MODULE=off, or no go.mod) stages the sources at `GOPATH/src/<import
//! path>` inside a private GOPATH that precedes the user's, so the import path, and with
//! `-trimpath` every path in the binary, is the same wherever the project lives.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::fingerprint::{self, FileHashes, Hasher, Outside};

use super::{env_value, run, CompileError, Compiled, Job, Linking};
use crate::cache::Cache;
use crate::context::{stage, BuildContext};
use crate::project::Project;

const FIX: &str = "install Go (Debian: apt-get install golang-go) or pass --binary PATH";

pub fn build(job: &Job) -> Result<Compiled, CompileError> {
    let Job {
        project,
        ctx,
        cache,
        ui,
        linking,
        use_cache,
        platform,
    } = *job;
    let guard = cache.stage_dir(&super::stage_name("go", &project.name, platform))?;
    let gopath_mode = !super::gomod::module_mode(
        ctx,
        env_value(project, "GO111MODULE").as_deref(),
        env_value(project, "GOWORK").as_deref(),
    );
    if !gopath_mode {
        let vendored = ctx.contains("vendor/modules.txt")
            && !env_value(project, "GOFLAGS")
                .is_some_and(|f| f.contains("-mod=mod") || f.contains("-mod=readonly"));
        super::gomod::check_local_paths(&project.root, ctx, vendored)?;
    }
    let (src_dir, gopath) = if gopath_mode {
        let import = project
            .build
            .go_module
            .clone()
            .unwrap_or_else(|| project.name.clone());
        let gopath = guard.dir.join("gopath");
        (gopath.join("src").join(import), Some(gopath))
    } else {
        (guard.dir.join("src"), None)
    };
    // Only one of the two layouts may hold sources.
    let other = if gopath_mode {
        guard.dir.join("src")
    } else {
        guard.dir.join("gopath")
    };
    if other.exists() {
        std::fs::remove_dir_all(&other).map_err(|source| CompileError::Io {
            what: "cleaning",
            path: other.clone(),
            source,
        })?;
    }
    let out = guard.dir.join("out").join(&project.name);
    let ldflags = ldflags(env_value(project, "GOFLAGS").as_deref());
    // The platform is part of the command as it can be run again by hand.
    let display = format!(
        "GOOS={} GOARCH={} go build -trimpath -ldflags='{ldflags}' -o {} {}",
        platform.os,
        platform.architecture,
        out.display(),
        project.build.main
    );
    let user_gopath = env_value(project, "GOPATH")
        .or_else(|| std::env::var("HOME").ok().map(|h| format!("{h}/go")))
        .unwrap_or_default();
    let env = |cmd: &mut Command| {
        cmd.envs(&project.build.env);
        if env_value(project, "CGO_ENABLED").is_none() {
            cmd.env("CGO_ENABLED", "0");
        }
        // The image's platform decides, over any GOOS/GOARCH in the environment: the binary is
        // checked against it before packaging.
        cmd.env("GOOS", &platform.os)
            .env("GOARCH", &platform.architecture);
        if let (Some(v), "amd64") = (&platform.variant, platform.architecture.as_str()) {
            cmd.env("GOAMD64", v);
        }
        if let Some(gp) = &gopath {
            let joined = if user_gopath.is_empty() {
                gp.display().to_string()
            } else {
                format!("{}:{user_gopath}", gp.display())
            };
            cmd.env("GOPATH", joined).env("GO111MODULE", "off");
        }
    };

    // The rebuild cache: the same inputs give the same binary, without the compiler.
    let mut files = FileHashes::load(cache);
    let (key, before_context) = match use_cache
        .then(|| {
            fingerprint(
                project,
                ctx,
                cache,
                &mut files,
                gopath_mode,
                linking,
                platform,
            )
        })
        .flatten()
    {
        Some((k, h)) => (Some(k), Some(h)),
        None => (None, None),
    };
    // GOPATH-mode builds: where and with what environment `go build` runs, so the SBOM can ask
    // `go list` which packages it compiled.
    let go_list = gopath.is_some().then(|| {
        let mut c = Command::new("go");
        env(&mut c);
        super::GoListEnv {
            dir: src_dir.clone(),
            env: c
                .get_envs()
                .map(|(k, v)| (k.to_owned(), v.map(|v| v.to_owned())))
                .collect(),
        }
    });
    if let Some(key) = &key {
        if let Some((entry, blob)) = fingerprint::lookup(cache, &mut files, key) {
            if let Ok(info) = linking.check(&blob, super::elf::FIX_GO, platform) {
                files.save();
                return Ok(Compiled {
                    binary: blob,
                    info,
                    tool: entry.tool.clone(),
                    command: entry.command.clone(),
                    go_list,
                    cached: true,
                    digest: Some(entry.binary),
                    _stage: Some(guard),
                });
            }
        }
    }

    stage(ctx, &src_dir, &[])?;
    if key.is_some() {
        fingerprint::restage_changed(&mut files, ctx, &src_dir).map_err(|source| {
            CompileError::Io {
                what: "staging",
                path: src_dir.clone(),
                source,
            }
        })?;
    }
    // In GOPATH mode, what the build used outside the context is listed alongside the build,
    // unless only function bodies changed since a build whose list still holds (see
    // `fingerprint::Deps`): then that list is the same, and the compiler runs alone.
    let deps_key = match (&gopath, before_context) {
        (Some(_), Some(h)) => deps_key(h, ctx),
        _ => None,
    };
    let reused = deps_key
        .as_deref()
        .and_then(|k| fingerprint::previous_deps(cache, &mut files, k));
    let lister = match (&key, &gopath, &reused) {
        (Some(_), Some(_), None) => {
            let mut l = Command::new("go");
            l.args([
                "list",
                "-deps",
                "-f",
                "{{if not .Standard}}{{.ImportPath}}\t{{.Dir}}{{range .EmbedFiles}}\t{{.}}{{end}}{{end}}",
                &project.build.main,
            ]);
            env(&mut l);
            l.current_dir(&src_dir)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::null());
            l.spawn().ok()
        }
        _ => None,
    };
    let mut cmd = Command::new("go");
    cmd.args(["build", "-trimpath", &format!("-ldflags={ldflags}"), "-o"])
        .arg(&out)
        .arg(&project.build.main);
    env(&mut cmd);
    let built = run(cmd, &display, &src_dir, ui, FIX);
    let listed = lister.and_then(|mut l| {
        if built.is_err() {
            let _ = l.kill();
        }
        l.wait_with_output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
    });
    built?;
    let info = linking.check(&out, super::elf::FIX_GO, platform)?;
    let mut digest = None;
    if let Some(key) = &key {
        let outside = match (&gopath, reused, listed) {
            (None, _, _) => Some(Vec::new()),
            (Some(_), Some(previous), _) => Some(previous),
            (Some(gp), None, Some(listed)) => {
                let o = gopath_inputs(&listed, gp, &user_gopath);
                if let Some(k) = &deps_key {
                    fingerprint::remember_deps(cache, &mut files, k, &o);
                }
                Some(o)
            }
            // Without the dependency list, the build cannot be told apart from a stale one.
            (Some(_), None, None) => None,
        };
        if let Some(outside) = outside {
            digest = fingerprint::remember(
                cache, &mut files, key, &out, outside, "go build", &display, ui,
            );
        }
    }
    files.save();
    Ok(Compiled {
        binary: out,
        info,
        tool: "go build".into(),
        command: Some(display),
        go_list,
        cached: false,
        digest,
        _stage: Some(guard),
    })
}

/// The linker flags: drydock's `-s -w` (no symbol table or DWARF: a smaller image), then
/// any `-ldflags` GOFLAGS sets (`GOFLAGS=-ldflags=-X=main.version=1.2.3`, version stamping),
/// which a command-line `-ldflags` would otherwise silently replace. GOFLAGS has no quoting, so
/// its `-ldflags` value is one word; the last one counts, as for the go command.
fn ldflags(goflags: Option<&str>) -> String {
    let user = goflags.and_then(|f| {
        f.split_whitespace()
            .filter_map(|w| {
                w.strip_prefix("-ldflags=")
                    .or_else(|| w.strip_prefix("--ldflags="))
            })
            .last()
    });
    match user {
        Some(u) if !u.is_empty() => format!("-s -w {u}"),
        _ => "-s -w".into(),
    }
}

/// The key of a GOPATH build's dependency list: what the fingerprint hashes before the context
/// (`before_context`), then the context's Go files by name with their headers
/// ([`fingerprint::go_header`]). `None` when a file cannot be read.
fn deps_key(before_context: Hasher, ctx: &BuildContext) -> Option<String> {
    use sha2::{Digest as _, Sha256};
    let mut h = before_context;
    h.line("go list -deps");
    for e in &ctx.entries {
        if !e.path.ends_with(".go") {
            continue;
        }
        match &e.kind {
            crate::context::EntryKind::File { .. } => {
                let src = std::fs::read(ctx.root.join(&e.path)).ok()?;
                let header = Sha256::digest(fingerprint::go_header(&src));
                h.line(&format!("{} {}", e.path, hex::encode(header)));
            }
            crate::context::EntryKind::Symlink { target } => {
                h.line(&format!("{} -> {target}", e.path))
            }
            crate::context::EntryKind::Dir => h.line(&format!("{}/", e.path)),
        }
    }
    Some(h.finish())
}

/// What the compile depends on, outside the GOPATH packages it used, and the fingerprint's
/// state before the context (for [`deps_key`]): `None` when it cannot be fingerprinted safely
/// (cgo, whose C compiler and system headers are not tracked).
fn fingerprint(
    project: &Project,
    ctx: &BuildContext,
    cache: &Cache,
    files: &mut FileHashes,
    gopath_mode: bool,
    linking: Linking,
    platform: &drydock_oci::Platform,
) -> Option<(String, Hasher)> {
    if env_value(project, "CGO_ENABLED").as_deref().unwrap_or("0") != "0" {
        return None;
    }
    let go = fingerprint::which("go")?;
    let real = go.canonicalize().unwrap_or(go.clone());
    let id = format!(
        "{}\n{}",
        fingerprint::identity(&go),
        fingerprint::identity(&real)
    );
    let version = fingerprint::toolchain_version(cache, &id, || {
        let o = Command::new(&go)
            .args(["env", "GOVERSION", "GOROOT", "GOEXPERIMENT", "GOAMD64"])
            .env("GOTOOLCHAIN", "local")
            .stdin(Stdio::null())
            .output()
            .ok()?;
        o.status
            .success()
            .then(|| String::from_utf8_lossy(&o.stdout).into_owned())
    })?;
    let mut h = Hasher::new();
    h.line("go");
    h.line(&id);
    h.line(&version);
    h.line(&format!(
        "{} {} {:?} gopath={gopath_mode} {linking:?} {platform}",
        project.name, project.build.main, project.build.go_module
    ));
    fingerprint::hash_env(&mut h, &project.build.env);
    // A go.work named by GOWORK may live outside the context.
    if let Some(w) = env_value(project, "GOWORK").filter(|w| w != "off") {
        let sha = files.hash(std::path::Path::new(&w)).ok()?;
        h.line(&format!("gowork {w} {sha:?}"));
    }
    let before_context = h.clone();
    fingerprint::hash_context(&mut h, files, ctx).ok()?;
    Some((h.finish(), before_context))
}

/// The package directories a GOPATH build used outside the context (from `go list -deps`),
/// their embedded files, and the places in earlier GOPATH entries that would shadow them.
fn gopath_inputs(listed: &str, staged: &Path, user_gopath: &str) -> Vec<Outside> {
    let roots: Vec<PathBuf> = std::env::split_paths(user_gopath).collect();
    let mut out = Vec::new();
    for line in listed.lines() {
        let mut parts = line.split('\t');
        let (Some(import), Some(dir)) = (parts.next(), parts.next()) else {
            continue;
        };
        let dir = PathBuf::from(dir);
        if dir.starts_with(staged) {
            continue;
        }
        for f in parts {
            out.push(Outside::File(dir.join(f)));
        }
        // Only the private GOPATH (the context) precedes the first user entry; a package of
        // a later entry is shadowed if an earlier one gains it.
        for root in &roots {
            let candidate = root.join("src").join(import);
            if dir.starts_with(root) {
                break;
            }
            out.push(Outside::Dir(candidate));
        }
        out.push(Outside::Dir(dir));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::ldflags;

    #[test]
    fn goflags_ldflags_are_kept_after_drydocks_own() {
        assert_eq!(ldflags(None), "-s -w");
        assert_eq!(ldflags(Some("-mod=mod -tags=x")), "-s -w");
        assert_eq!(
            ldflags(Some("-mod=mod -ldflags=-X=main.version=1.2.3")),
            "-s -w -X=main.version=1.2.3"
        );
        assert_eq!(
            ldflags(Some("-ldflags=-X=a.b=1 --ldflags=-X=a.b=2")),
            "-s -w -X=a.b=2"
        );
    }
}
