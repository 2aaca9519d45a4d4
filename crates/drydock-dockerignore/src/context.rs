//! The build context: the files of a project directory that a build may see.
//!
//! What `docker build` would send: everything under the root minus what `.dockerignore`
//! excludes. On top of that, files that look like secrets are dropped unless drydock.toml names
//! them, and a symlink that points outside the root is an error, not something to follow. The
//! context is read-only: staging it for the compiler is [`stage`]'s job, and nothing here ever
//! writes inside the project.

use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::matcher::{clean_path, Matcher};

#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}:{line}: {source}")]
    Dockerignore {
        file: PathBuf,
        line: usize,
        source: crate::matcher::ErrorKind,
    },
    #[error("symlink {path} points to {target}, outside the build context {root}\n  a build may only see files inside its context: copy the file in, or exclude the link in .dockerignore")]
    SymlinkEscapes {
        root: PathBuf,
        path: String,
        target: PathBuf,
    },
    #[error("{0} is not a directory")]
    NotADirectory(PathBuf),
    #[error("{}/{name}: the file name is not UTF-8, and drydock packages only UTF-8 paths", .dir.display())]
    NotUtf8 { dir: PathBuf, name: String },
}

impl ContextError {
    /// What to do about it, when there is something to say: the message does not hold it.
    pub fn fix(&self) -> Option<String> {
        Some(match self {
            ContextError::Dockerignore { .. } => "correct the pattern on that line (see https://docs.docker.com/build/concepts/context/#dockerignore-files)".into(),
            ContextError::NotUtf8 { .. } => "rename it, or exclude it in .dockerignore".into(),
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "type")]
pub enum EntryKind {
    File { size: u64, executable: bool },
    Dir,
    Symlink { target: String },
}

/// One path the build sees, relative to the context root, `/`-separated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContextEntry {
    pub path: String,
    #[serde(flatten)]
    pub kind: EntryKind,
}

/// A context that has been read and filtered.
#[derive(Debug, Clone, Serialize)]
pub struct BuildContext {
    pub root: PathBuf,
    /// The `.dockerignore` used, when there is one.
    pub dockerignore: Option<PathBuf>,
    /// Every included entry, sorted by path (directories included).
    pub entries: Vec<ContextEntry>,
    /// Files that look like secrets and were left out (not named in drydock.toml).
    pub secrets_excluded: Vec<String>,
    /// Secret-looking files kept because drydock.toml names them.
    pub secrets_allowed: Vec<String>,
    /// Sockets, FIFOs and devices: not sent, as with `docker build`.
    pub special_skipped: Vec<String>,
    /// The compiled ignore file, for asking about paths (e.g. COPY sources).
    #[serde(skip)]
    pub matcher: Matcher,
}

impl BuildContext {
    pub fn total_size(&self) -> u64 {
        self.entries
            .iter()
            .map(|e| {
                if let EntryKind::File { size, .. } = e.kind {
                    size
                } else {
                    0
                }
            })
            .sum()
    }

    pub fn file_count(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| matches!(e.kind, EntryKind::File { .. }))
            .count()
    }

    pub fn contains(&self, path: &str) -> bool {
        self.entries
            .binary_search_by(|e| e.path.as_str().cmp(path))
            .is_ok()
    }

    /// Entries at or below `dir` (a context-relative path; `""` or `"."` for everything).
    pub fn under<'a>(&'a self, dir: &'a str) -> impl Iterator<Item = &'a ContextEntry> + 'a {
        let dir = dir.trim_matches('/');
        self.entries.iter().filter(move |e| {
            dir.is_empty() || dir == "." || e.path == dir || e.path.starts_with(&format!("{dir}/"))
        })
    }
}

/// Base names that are credentials far more often than not.
pub fn looks_like_secret(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let lower = name.to_ascii_lowercase();
    lower == ".env"
        || lower.starts_with(".env.")
        || [
            ".pem",
            ".key",
            ".p12",
            ".pfx",
            ".jks",
            ".keystore",
            ".kdbx",
            ".ppk",
        ]
        .iter()
        .any(|ext| lower.ends_with(ext))
        || ["id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"]
            .iter()
            .any(|k| lower.starts_with(k))
        || [
            ".netrc",
            ".npmrc",
            ".pypirc",
            ".git-credentials",
            ".dockercfg",
            "credentials",
            "credentials.json",
            ".htpasswd",
        ]
        .contains(&lower.as_str())
        || path.ends_with(".docker/config.json")
        || path.ends_with(".aws/credentials")
        || (lower.contains("service-account") && lower.ends_with(".json"))
}

/// Reads the context of `root`, applying `root/.dockerignore` and the secret filter.
/// `allowed_secrets` are context-relative paths that may be kept although they look like secrets.
pub fn load(root: &Path, allowed_secrets: &[String]) -> Result<BuildContext, ContextError> {
    load_with_ignore_file(root, &root.join(".dockerignore"), allowed_secrets)
}

/// As [`load`], with another ignore file: BuildKit reads `<Dockerfile>.dockerignore` beside a
/// Dockerfile in preference to the context's `.dockerignore`.
pub fn load_with_ignore_file(
    root: &Path,
    ignore_path: &Path,
    allowed_secrets: &[String],
) -> Result<BuildContext, ContextError> {
    let meta = fs::metadata(root).map_err(|source| ContextError::Io {
        path: root.to_path_buf(),
        source,
    })?;
    if !meta.is_dir() {
        return Err(ContextError::NotADirectory(root.to_path_buf()));
    }
    let ignore_path = ignore_path.to_path_buf();
    let (matcher, dockerignore) = match fs::read_to_string(&ignore_path) {
        Ok(text) => {
            let m = Matcher::parse(&text).map_err(|e| ContextError::Dockerignore {
                file: ignore_path.clone(),
                line: e.line,
                source: e.kind,
            })?;
            (m, Some(ignore_path.clone()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (Matcher::default(), None),
        Err(source) => {
            return Err(ContextError::Io {
                path: ignore_path,
                source,
            })
        }
    };
    let mut ctx = BuildContext {
        root: root.to_path_buf(),
        dockerignore,
        entries: Vec::new(),
        secrets_excluded: Vec::new(),
        secrets_allowed: Vec::new(),
        special_skipped: Vec::new(),
        matcher: matcher.clone(),
    };
    let allowed: Vec<String> = allowed_secrets
        .iter()
        .map(|s| clean_path(s.trim_start_matches('/')))
        .collect();
    walk(root, "", &matcher, &allowed, &mut ctx)?;
    // Directories that are only implied (an excluded directory with a re-included child) still
    // exist in the context.
    let mut implied = Vec::new();
    for e in &ctx.entries {
        let mut p = e.path.as_str();
        while let Some(i) = p.rfind('/') {
            p = &p[..i];
            implied.push(p.to_string());
        }
    }
    for dir in implied {
        if !ctx.entries.iter().any(|e| e.path == dir) {
            ctx.entries.push(ContextEntry {
                path: dir,
                kind: EntryKind::Dir,
            });
        }
    }
    ctx.entries.sort_by(|a, b| a.path.cmp(&b.path));
    ctx.entries.dedup_by(|a, b| a.path == b.path);
    Ok(ctx)
}

fn walk(
    root: &Path,
    rel: &str,
    matcher: &Matcher,
    allowed: &[String],
    ctx: &mut BuildContext,
) -> Result<(), ContextError> {
    let dir = if rel.is_empty() {
        root.to_path_buf()
    } else {
        root.join(rel)
    };
    let rd = fs::read_dir(&dir).map_err(|source| ContextError::Io {
        path: dir.clone(),
        source,
    })?;
    let mut names = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|source| ContextError::Io {
            path: dir.clone(),
            source,
        })?;
        match entry.file_name().into_string() {
            Ok(n) => names.push(n),
            Err(raw) => {
                // Matched by its lossy form; excluded, it is never read, included, it is refused
                // (naming it with its bytes escaped) rather than packaged under another name.
                let lossy = raw.to_string_lossy().into_owned();
                let path = if rel.is_empty() {
                    lossy
                } else {
                    format!("{rel}/{lossy}")
                };
                if matcher.matched(&path) && !matcher.has_exclusions() {
                    continue;
                }
                let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
                if matcher.matched(&path) && !is_dir {
                    continue;
                }
                use std::os::unix::ffi::OsStrExt;
                return Err(ContextError::NotUtf8 {
                    dir: dir.clone(),
                    name: raw.as_bytes().escape_ascii().to_string(),
                });
            }
        }
    }
    names.sort();
    for name in names {
        let path = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        let full = root.join(&path);
        let meta = fs::symlink_metadata(&full).map_err(|source| ContextError::Io {
            path: full.clone(),
            source,
        })?;
        let excluded = matcher.matched(&path);
        if meta.is_dir() {
            if excluded && !matcher.has_exclusions() {
                continue;
            }
            if !excluded {
                ctx.entries.push(ContextEntry {
                    path: path.clone(),
                    kind: EntryKind::Dir,
                });
            }
            walk(root, &path, matcher, allowed, ctx)?;
            continue;
        }
        if excluded {
            continue;
        }
        if looks_like_secret(&path) {
            if allowed.contains(&path) {
                ctx.secrets_allowed.push(path.clone());
            } else {
                ctx.secrets_excluded.push(path);
                continue;
            }
        }
        if meta.file_type().is_symlink() {
            let target = fs::read_link(&full).map_err(|source| ContextError::Io {
                path: full.clone(),
                source,
            })?;
            if !symlink_stays_inside(&path, &target) {
                return Err(ContextError::SymlinkEscapes {
                    root: root.to_path_buf(),
                    path,
                    target,
                });
            }
            let target = target.to_string_lossy().into_owned();
            ctx.entries.push(ContextEntry {
                path,
                kind: EntryKind::Symlink { target },
            });
        } else if meta.is_file() {
            use std::os::unix::fs::PermissionsExt;
            let executable = meta.permissions().mode() & 0o111 != 0;
            ctx.entries.push(ContextEntry {
                path,
                kind: EntryKind::File {
                    size: meta.len(),
                    executable,
                },
            });
        } else {
            // Sockets, fifos and devices are not sent, as with `docker build`.
            ctx.special_skipped.push(path);
        }
    }
    Ok(())
}

/// Whether a link at context path `link`, pointing to `target`, resolves inside the context,
/// judged lexically (a chain of links is checked link by link, each one in the walk).
fn symlink_stays_inside(link: &str, target: &Path) -> bool {
    if target.is_absolute() {
        return false;
    }
    let mut depth: i64 = link.matches('/').count() as i64;
    for comp in target.components() {
        match comp {
            std::path::Component::ParentDir => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            std::path::Component::Normal(_) => depth += 1,
            _ => {}
        }
    }
    true
}

/// Mirrors the context into `dest` for the build stage: copies new and changed files (keeping
/// their modification times, so mtime-based tools such as cargo stay incremental), recreates
/// links, and removes whatever is in `dest` but not in the context. Paths in `keep` (top-level
/// names, e.g. a target directory) are left alone.
pub fn stage(ctx: &BuildContext, dest: &Path, keep: &[&str]) -> Result<StageStats, ContextError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ContextError::Io { path, source }
    };
    fs::create_dir_all(dest).map_err(io(dest))?;
    let mut stats = StageStats::default();
    for e in &ctx.entries {
        let src = ctx.root.join(&e.path);
        let dst = dest.join(&e.path);
        let existing = fs::symlink_metadata(&dst).ok();
        match &e.kind {
            EntryKind::Dir => {
                if existing.as_ref().is_some_and(|m| !m.is_dir()) {
                    fs::remove_file(&dst).map_err(io(&dst))?;
                }
                fs::create_dir_all(&dst).map_err(io(&dst))?;
            }
            EntryKind::Symlink { target } => {
                if let Some(m) = &existing {
                    if m.is_dir() {
                        fs::remove_dir_all(&dst).map_err(io(&dst))?;
                    } else {
                        fs::remove_file(&dst).map_err(io(&dst))?;
                    }
                }
                std::os::unix::fs::symlink(target, &dst).map_err(io(&dst))?;
            }
            EntryKind::File { .. } => {
                let src_meta = fs::metadata(&src).map_err(io(&src))?;
                let unchanged = existing.as_ref().is_some_and(|m| {
                    m.is_file()
                        && m.len() == src_meta.len()
                        && m.modified().ok() == src_meta.modified().ok()
                        && m.permissions() == src_meta.permissions()
                });
                if unchanged {
                    continue;
                }
                if existing.as_ref().is_some_and(|m| m.is_dir()) {
                    fs::remove_dir_all(&dst).map_err(io(&dst))?;
                } else if existing
                    .as_ref()
                    .is_some_and(|m| m.file_type().is_symlink())
                {
                    fs::remove_file(&dst).map_err(io(&dst))?;
                }
                // Name the user's file when it is the one that cannot be read.
                copy_sparse(&src, &dst).map_err(|e| match fs::File::open(&src) {
                    Err(_) => ContextError::Io {
                        path: src.clone(),
                        source: e,
                    },
                    Ok(_) => ContextError::Io {
                        path: dst.clone(),
                        source: e,
                    },
                })?;
                let f = fs::OpenOptions::new()
                    .write(true)
                    .open(&dst)
                    .map_err(io(&dst))?;
                if let Ok(mtime) = src_meta.modified() {
                    f.set_modified(mtime).map_err(io(&dst))?;
                }
                stats.copied += 1;
            }
        }
    }
    // Remove what the context no longer has.
    remove_extraneous(ctx, dest, "", keep, &mut stats)?;
    Ok(stats)
}

#[derive(Debug, Default, Clone, Copy)]
pub struct StageStats {
    pub copied: usize,
    pub removed: usize,
}

fn remove_extraneous(
    ctx: &BuildContext,
    dest: &Path,
    rel: &str,
    keep: &[&str],
    stats: &mut StageStats,
) -> Result<(), ContextError> {
    let dir = if rel.is_empty() {
        dest.to_path_buf()
    } else {
        dest.join(rel)
    };
    let rd = fs::read_dir(&dir).map_err(|source| ContextError::Io {
        path: dir.clone(),
        source,
    })?;
    for entry in rd {
        let entry = entry.map_err(|source| ContextError::Io {
            path: dir.clone(),
            source,
        })?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if rel.is_empty() && keep.contains(&name.as_str()) {
            continue;
        }
        let path = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        let full = dest.join(&path);
        let ft = entry.file_type().map_err(|source| ContextError::Io {
            path: full.clone(),
            source,
        })?;
        if !ctx.contains(&path) {
            let r = if ft.is_dir() {
                fs::remove_dir_all(&full)
            } else {
                fs::remove_file(&full)
            };
            r.map_err(|source| ContextError::Io {
                path: full.clone(),
                source,
            })?;
            stats.removed += 1;
        } else if ft.is_dir() {
            remove_extraneous(ctx, dest, &path, keep, stats)?;
        }
    }
    Ok(())
}

/// `fs::copy`, keeping a sparse file sparse: only its data ranges are copied (found with
/// SEEK_DATA / SEEK_HOLE), so a 10 GB file that is mostly holes costs its data in the cache,
/// not 10 GB. Files without holes, and filesystems without SEEK_DATA, take `fs::copy`.
pub fn copy_sparse(src: &Path, dst: &Path) -> std::io::Result<u64> {
    use std::io::{Read, Seek, SeekFrom};
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    use std::os::unix::io::AsRawFd;
    let meta = fs::metadata(src)?;
    if meta.blocks() * 512 >= meta.len() {
        return fs::copy(src, dst);
    }
    let mut from = fs::File::open(src)?;
    let fd = from.as_raw_fd();
    // SAFETY: lseek on a descriptor this function owns; it only moves the file offset.
    let first = unsafe { libc::lseek(fd, 0, libc::SEEK_DATA) };
    if first < 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::ENXIO) {
        return fs::copy(src, dst);
    }
    let mut to = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(dst)?;
    let len = meta.len() as i64;
    let mut pos = 0i64;
    while pos < len {
        // SAFETY: as above.
        let data = unsafe { libc::lseek(fd, pos, libc::SEEK_DATA) };
        if data < 0 {
            break; // ENXIO: only a hole is left
        }
        // SAFETY: as above.
        let hole = unsafe { libc::lseek(fd, data, libc::SEEK_HOLE) };
        let hole = if hole < 0 { len } else { hole };
        from.seek(SeekFrom::Start(data as u64))?;
        to.seek(SeekFrom::Start(data as u64))?;
        std::io::copy(&mut (&mut from).take((hole - data) as u64), &mut to)?;
        pos = hole;
    }
    to.set_len(meta.len())?;
    to.set_permissions(fs::Permissions::from_mode(meta.permissions().mode()))?;
    Ok(meta.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, rel: &str, body: &str) {
        let p = root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, body).unwrap();
    }

    fn paths(ctx: &BuildContext) -> Vec<&str> {
        ctx.entries.iter().map(|e| e.path.as_str()).collect()
    }

    #[test]
    fn applies_dockerignore_and_secret_filter() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        write(
            r,
            ".dockerignore",
            "node_modules\n*.log\ndocs\n!docs/keep.md\n",
        );
        write(r, "main.go", "package main");
        write(r, "node_modules/x/y.js", "");
        write(r, "a.log", "");
        write(r, "docs/drop.md", "");
        write(r, "docs/keep.md", "");
        write(r, ".env", "SECRET=1");
        write(r, "certs/tls.key", "k");
        write(r, "certs/ca.pem", "c");
        let ctx = load(r, &["certs/ca.pem".into()]).unwrap();
        assert_eq!(
            paths(&ctx),
            vec![
                ".dockerignore",
                "certs",
                "certs/ca.pem",
                "docs",
                "docs/keep.md",
                "main.go"
            ]
        );
        assert_eq!(ctx.secrets_excluded, vec![".env", "certs/tls.key"]);
        assert_eq!(ctx.secrets_allowed, vec!["certs/ca.pem"]);
    }

    #[test]
    fn refuses_symlinks_that_leave_the_context() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        write(r, "a/b.txt", "");
        std::os::unix::fs::symlink("../b.txt", r.join("a/inside")).unwrap();
        assert!(load(r, &[]).is_ok());
        std::os::unix::fs::symlink("../../etc/passwd", r.join("a/escape")).unwrap();
        let err = load(r, &[]).unwrap_err().to_string();
        assert!(
            err.contains("a/escape") && err.contains("outside the build context"),
            "{err}"
        );
        fs::remove_file(r.join("a/escape")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", r.join("abs")).unwrap();
        assert!(matches!(
            load(r, &[]),
            Err(ContextError::SymlinkEscapes { .. })
        ));
        // An excluded link is not part of the context, so it is no error.
        write(r, ".dockerignore", "abs\n");
        assert!(load(r, &[]).is_ok());
    }

    #[test]
    fn bad_dockerignore_names_file_and_line() {
        let t = tempfile::tempdir().unwrap();
        write(t.path(), ".dockerignore", "ok\n\n[unclosed\n");
        let err = load(t.path(), &[]).unwrap_err().to_string();
        assert!(err.contains(".dockerignore:3:"), "{err}");
    }

    #[test]
    fn stage_mirrors_and_prunes() {
        let t = tempfile::tempdir().unwrap();
        let src = t.path().join("src");
        let dst = t.path().join("dst");
        write(&src, "a.go", "1");
        write(&src, "sub/b.go", "2");
        let ctx = load(&src, &[]).unwrap();
        let s = stage(&ctx, &dst, &["target"]).unwrap();
        assert_eq!(s.copied, 2);
        write(&dst, "stale.go", "");
        write(&dst, "target/keep", "");
        let s = stage(&ctx, &dst, &["target"]).unwrap();
        assert_eq!((s.copied, s.removed), (0, 1));
        assert!(dst.join("target/keep").exists() && !dst.join("stale.go").exists());
        assert_eq!(fs::read_to_string(dst.join("sub/b.go")).unwrap(), "2");
    }

    #[test]
    fn a_sparse_file_stays_sparse() {
        use std::io::{Seek, SeekFrom, Write};
        use std::os::unix::fs::MetadataExt;
        let t = tempfile::tempdir().unwrap();
        let src = t.path().join("disk.img");
        let mut f = fs::File::create(&src).unwrap();
        f.set_len(1 << 30).unwrap();
        f.seek(SeekFrom::Start(1 << 29)).unwrap();
        f.write_all(b"data in the middle").unwrap();
        drop(f);
        let dst = t.path().join("copy.img");
        fs::write(&dst, b"old content to truncate").unwrap();
        copy_sparse(&src, &dst).unwrap();
        let m = fs::metadata(&dst).unwrap();
        assert_eq!(m.len(), 1 << 30);
        assert!(
            m.blocks() * 512 < 1 << 20,
            "{} bytes allocated",
            m.blocks() * 512
        );
        let mut f = fs::File::open(&dst).unwrap();
        let mut head = vec![1u8; 4096];
        std::io::Read::read_exact(&mut f, &mut head).unwrap();
        assert!(head.iter().all(|b| *b == 0), "the old content is gone");
        f.seek(SeekFrom::Start(1 << 29)).unwrap();
        let mut mid = [0u8; 18];
        std::io::Read::read_exact(&mut f, &mut mid).unwrap();
        assert_eq!(&mid, b"data in the middle");
        assert_eq!(fs::metadata(&src).unwrap().permissions(), m.permissions());
    }
}
