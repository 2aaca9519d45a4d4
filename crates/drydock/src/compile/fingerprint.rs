//! The rebuild cache: skip the compiler when nothing it reads changed.
//!
//! A compile's fingerprint covers what the compiler reads: the staged context's files (content
//! hashes, remembered by size, mtime, ctime and inode so an unchanged tree is not read again),
//! the toolchain (`go version` / `rustc -vV`, remembered by the identity of the binaries), every
//! environment variable the compile passes through, drydock's own flags, and the dependency
//! inputs outside the context that the previous build reported using (GOPATH package
//! directories, Cargo path dependencies outside the context, files and variables Cargo build
//! scripts declared, Cargo configuration files). Module caches and registry sources are
//! immutable per version and checksum, so go.sum and Cargo.lock (in the context) stand for them.
//!
//! An entry is looked up in two steps: the fingerprint of what is known before compiling (`key`)
//! names the entry, which lists the outside inputs of the build it recorded; those are hashed
//! now and must match too. The binary is a blob of the cache, checked on read.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

pub use crate::cache::identity;
use crate::cache::{stamp_of, Cache};
use crate::context::{BuildContext, EntryKind};
use crate::digest::{sha256_file, Digest};
use crate::fsutil::write_atomic;

/// Bumped whenever what a fingerprint covers changes, so old entries stop matching.
const SCHEME: &str = "drydock-compile-cache 1";

/// A file's identity and content hash, as last seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Stamp {
    size: u64,
    mtime: i128,
    ctime: i128,
    ino: u64,
    dev: u64,
    sha: String,
}

/// Content hashes of files, remembered by their identity in `compile/files.json`.
pub struct FileHashes {
    path: PathBuf,
    map: BTreeMap<String, Stamp>,
    seen: BTreeMap<String, Stamp>,
}

impl FileHashes {
    pub fn load(cache: &Cache) -> FileHashes {
        let path = cache.root().join("compile").join("files.json");
        let map = fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        FileHashes {
            path,
            map,
            seen: BTreeMap::new(),
        }
    }

    /// The content hash of a regular file, `None` when it does not exist (or is not a file).
    pub fn hash(&mut self, path: &Path) -> io::Result<Option<String>> {
        let m = match fs::metadata(path) {
            Ok(m) if m.is_file() => m,
            Ok(_) => return Ok(None),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let key = path.to_string_lossy().into_owned();
        let (size, mtime, ctime, ino, dev) = stamp_of(&m);
        if let Some(s) = self.map.get(&key) {
            if (s.size, s.mtime, s.ctime, s.ino, s.dev) == (size, mtime, ctime, ino, dev) {
                let s = s.clone();
                self.seen.insert(key, s.clone());
                return Ok(Some(s.sha));
            }
        }
        let (d, _) = sha256_file(path)?;
        let sha = d.hex().to_string();
        // A file changed within the last two seconds may change again within the timestamp
        // granularity without its stamp changing: its hash is not remembered ("racy" files).
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as i128)
            .unwrap_or(0);
        if now - mtime.max(ctime) > 2_000_000_000 {
            self.seen.insert(
                key,
                Stamp {
                    size,
                    mtime,
                    ctime,
                    ino,
                    dev,
                    sha: sha.clone(),
                },
            );
        }
        Ok(Some(sha))
    }

    /// Writes what was hashed this time back (entries for files not seen are kept, bounded).
    pub fn save(mut self) {
        if self.seen.iter().all(|(k, v)| self.map.get(k) == Some(v)) {
            return;
        }
        let mut map = std::mem::take(&mut self.seen);
        for (k, v) in self.map {
            if map.len() >= 200_000 {
                break;
            }
            map.entry(k).or_insert(v);
        }
        if let Ok(json) = serde_json::to_vec(&map) {
            let _ = write_atomic(&self.path, |w| w.write_all(&json));
        }
    }
}

/// Lines of text hashed into a fingerprint.
#[derive(Default, Clone)]
pub struct Hasher {
    h: Sha256,
}

impl Hasher {
    pub fn new() -> Hasher {
        let mut h = Hasher::default();
        h.line(SCHEME);
        h.line(env!("CARGO_PKG_VERSION"));
        h
    }
    pub fn line(&mut self, s: &str) {
        self.h.update((s.len() as u64).to_le_bytes());
        self.h.update(s.as_bytes());
    }
    pub fn finish(self) -> String {
        hex::encode(self.h.finalize())
    }
}

/// Every file, directory and link of the context, with the files' content hashes.
pub fn hash_context(h: &mut Hasher, files: &mut FileHashes, ctx: &BuildContext) -> io::Result<()> {
    for e in &ctx.entries {
        match &e.kind {
            EntryKind::Dir => h.line(&format!("d {}", e.path)),
            EntryKind::Symlink { target } => h.line(&format!("l {} {target}", e.path)),
            EntryKind::File { executable, .. } => {
                let sha = files.hash(&ctx.root.join(&e.path))?.unwrap_or_default();
                h.line(&format!("f {} {executable} {sha}", e.path));
            }
        }
    }
    Ok(())
}

/// Whether an environment variable can change what a compile produces.
fn relevant_env(k: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "GO",
        "CGO_",
        "CARGO",
        "RUST",
        "CC",
        "CXX",
        "CFLAGS",
        "CXXFLAGS",
        "CPPFLAGS",
        "LDFLAGS",
        "AR",
        "PKG_CONFIG",
        "TARGET_",
        "HOST_",
        "DEP_",
    ];
    k == "HOME" || k == "LD" || PREFIXES.iter().any(|p| k.starts_with(p))
}

/// The environment the compiler sees (drydock.toml's [build.env] over the process's).
pub fn hash_env(h: &mut Hasher, build_env: &BTreeMap<String, String>) {
    let mut env: BTreeMap<String, String> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.to_string_lossy().into_owned())))
        .filter(|(k, _)| relevant_env(k))
        .collect();
    for (k, v) in build_env {
        env.insert(k.clone(), v.clone());
    }
    for (k, v) in env {
        h.line(&format!("env {k}={v}"));
    }
}

/// A program's path on PATH, resolved through links.
pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| fs::metadata(p).is_ok_and(|m| m.is_file() && m.mode() & 0o111 != 0))
}

/// What a toolchain says about itself (`go version`, `rustc -vV`), remembered under the
/// identity of its binaries in `compile/toolchains.json`; run again when that changes.
pub fn toolchain_version(
    cache: &Cache,
    identity: &str,
    probe: impl FnOnce() -> Option<String>,
) -> Option<String> {
    let path = cache.root().join("compile").join("toolchains.json");
    let mut map: BTreeMap<String, String> = fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let id = {
        let mut h = Hasher::new();
        h.line(identity);
        h.finish()
    };
    if let Some(v) = map.get(&id) {
        return Some(v.clone());
    }
    let v = probe()?;
    if map.len() > 64 {
        map.clear();
    }
    map.insert(id, v.clone());
    if let Ok(json) = serde_json::to_vec(&map) {
        let _ = write_atomic(&path, |w| w.write_all(&json));
    }
    Some(v)
}

/// An input outside the context that the previous build used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "type", content = "value")]
pub enum Outside {
    /// A file: its content (or its absence).
    File(PathBuf),
    /// A directory's files, not its subdirectories (a Go package).
    Dir(PathBuf),
    /// A directory's files and subdirectories (a Cargo package), `target` and `.git` aside.
    Tree(PathBuf),
    /// An environment variable (a build script's `rerun-if-env-changed`).
    Env(String),
}

fn hash_dir(
    h: &mut Hasher,
    files: &mut FileHashes,
    dir: &Path,
    recursive: bool,
    budget: &mut usize,
) -> io::Result<()> {
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            h.line(&format!("dir {} -", dir.display()));
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    let mut names: Vec<_> = rd
        .filter_map(|e| e.ok())
        .map(|e| (e.file_name(), e.file_type().ok()))
        .collect();
    names.sort_by(|a, b| a.0.cmp(&b.0));
    h.line(&format!("dir {}", dir.display()));
    for (name, ft) in names {
        if *budget == 0 {
            return Err(io::Error::other("too many files"));
        }
        *budget -= 1;
        let p = dir.join(&name);
        let name = name.to_string_lossy();
        match ft {
            Some(t) if t.is_dir() => {
                if recursive && name != "target" && name != ".git" {
                    hash_dir(h, files, &p, true, budget)?;
                } else {
                    h.line(&format!("sub {name}"));
                }
            }
            Some(t) if t.is_symlink() => {
                let target = fs::read_link(&p)?;
                let sha = files.hash(&p)?.unwrap_or_default();
                h.line(&format!("l {name} {} {sha}", target.display()));
            }
            _ => {
                let sha = files.hash(&p)?.unwrap_or_default();
                h.line(&format!("f {name} {sha}"));
            }
        }
    }
    Ok(())
}

/// The hash of the outside inputs as they are now; `None` when one cannot be read (then the
/// entry is not trusted).
pub fn hash_outside(files: &mut FileHashes, outside: &[Outside]) -> Option<String> {
    let mut h = Hasher::new();
    let mut budget = 100_000;
    for o in outside {
        match o {
            Outside::File(p) => {
                let sha = files.hash(p).ok()?.unwrap_or_else(|| "-".into());
                h.line(&format!("file {} {sha}", p.display()));
            }
            Outside::Dir(p) => hash_dir(&mut h, files, p, false, &mut budget).ok()?,
            Outside::Tree(p) => hash_dir(&mut h, files, p, true, &mut budget).ok()?,
            Outside::Env(k) => {
                let v = std::env::var(k).unwrap_or_default();
                h.line(&format!("env {k}={v}"));
            }
        }
    }
    Some(h.finish())
}

/// One recorded compile.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    pub outside: Vec<Outside>,
    pub outside_hash: String,
    pub binary: Digest,
    /// The blob's identity when it was written and verified: unchanged means still intact.
    pub blob_identity: String,
    pub tool: String,
    pub command: Option<String>,
}

fn entry_path(cache: &Cache, key: &str) -> PathBuf {
    cache.root().join("compile").join(format!("{key}.json"))
}

/// The binary an entry of the rebuild cache names, for `cache prune`: None when the bytes are
/// not an entry.
pub fn entry_binary(bytes: &[u8]) -> Option<Digest> {
    serde_json::from_slice::<Entry>(bytes)
        .ok()
        .map(|e| e.binary)
}

/// The binary recorded for `key`, when its outside inputs are unchanged and its blob intact.
pub fn lookup(cache: &Cache, files: &mut FileHashes, key: &str) -> Option<(Entry, PathBuf)> {
    let path = entry_path(cache, key);
    let entry: Entry = serde_json::from_slice(&fs::read(&path).ok()?).ok()?;
    if hash_outside(files, &entry.outside)? != entry.outside_hash {
        return None;
    }
    let blob = cache.blobs().blob_path(&entry.binary);
    if identity(&blob) != entry.blob_identity {
        // Changed since it was written: verified in full, or dropped.
        use drydock_oci::store::BlobStore;
        if cache.blobs().verify(&entry.binary).is_err() {
            let _ = fs::remove_file(&path);
            return None;
        }
    }
    // Used now: what `cache prune` goes by.
    let now = std::time::SystemTime::now();
    let _ = fs::File::options()
        .write(true)
        .open(&path)
        .and_then(|f| f.set_modified(now));
    Some((entry, blob))
}

/// What a GOPATH build used outside the context, from its `go list -deps`, kept under a key of
/// everything that list depends on but the function bodies: the toolchain, the environment,
/// the context's Go file names and each file's header (build constraints, package clause and
/// imports; see [`go_header`]). A one-line change inside a function leaves that key as it was,
/// and when the packages listed are unchanged too (`outside_hash`) the list is the same, so the
/// next build needs no `go list` beside the compiler.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Deps {
    pub outside: Vec<Outside>,
    pub outside_hash: String,
}

fn deps_path(cache: &Cache, key: &str) -> PathBuf {
    cache
        .root()
        .join("compile")
        .join(format!("{}{key}.json", crate::cache::DEPS_PREFIX))
}

/// The dependency list recorded under `key`, when every input it names is as it was.
pub fn previous_deps(cache: &Cache, files: &mut FileHashes, key: &str) -> Option<Vec<Outside>> {
    let d: Deps = serde_json::from_slice(&fs::read(deps_path(cache, key)).ok()?).ok()?;
    (hash_outside(files, &d.outside)? == d.outside_hash).then_some(d.outside)
}

/// Records a dependency list under `key` (a cache: a failure only costs the next build a
/// `go list`).
pub fn remember_deps(cache: &Cache, files: &mut FileHashes, key: &str, outside: &[Outside]) {
    let Some(outside_hash) = hash_outside(files, outside) else {
        return;
    };
    let d = Deps {
        outside: outside.to_vec(),
        outside_hash,
    };
    if let Ok(json) = serde_json::to_vec(&d) {
        let _ = write_atomic(&deps_path(cache, key), |w| w.write_all(&json));
    }
}

/// The part of a Go file that decides what it imports: everything up to the end of its last
/// import declaration (build constraints, the package clause, the imports), or the whole
/// file when that end cannot be told. Found by text, erring towards more: the last line that
/// mentions `import` anywhere, and when it opens a parenthesised block, through the first later
/// line that is only `)`. An import inside the part is never missed; a body change below it
/// leaves the part as it was.
pub fn go_header(src: &[u8]) -> &[u8] {
    let text = String::from_utf8_lossy(src);
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let Some(last) = lines.iter().rposition(|l| l.contains("import")) else {
        // No import: the package clause and constraints are all there is to it; a file with
        // none is whole.
        return match lines
            .iter()
            .position(|l| l.trim_start().starts_with("package"))
        {
            Some(i) => {
                &src[..lines[..=i]
                    .iter()
                    .map(|l| l.len())
                    .sum::<usize>()
                    .min(src.len())]
            }
            None => src,
        };
    };
    let opens = lines[last]
        .split("import")
        .last()
        .is_some_and(|rest| rest.contains('(') && !rest.contains(')'));
    let end = if opens {
        match lines[last + 1..].iter().position(|l| l.trim() == ")") {
            Some(i) => last + 1 + i,
            None => return src,
        }
    } else {
        last
    };
    let n: usize = lines[..=end].iter().map(|l| l.len()).sum();
    if text.len() != src.len() {
        // Not UTF-8: byte offsets of the lossy text are not the file's.
        return src;
    }
    &src[..n]
}

/// Stores the binary as a blob and records the entry (both written atomically).
/// [`record`], a failure said as a note: the build stands, only the next one compiles again.
#[allow(clippy::too_many_arguments)]
pub fn remember(
    cache: &Cache,
    files: &mut FileHashes,
    key: &str,
    binary: &Path,
    outside: Vec<Outside>,
    tool: &str,
    command: &str,
    ui: &crate::ui::Ui,
) -> Option<Digest> {
    record(
        cache,
        files,
        key,
        binary,
        outside,
        tool,
        Some(command.to_string()),
    )
    .map_err(|e| ui.note(&format!("not cached for the next build: {e}")))
    .ok()
}

pub fn record(
    cache: &Cache,
    files: &mut FileHashes,
    key: &str,
    binary: &Path,
    outside: Vec<Outside>,
    tool: &str,
    command: Option<String>,
) -> io::Result<Digest> {
    let outside_hash =
        hash_outside(files, &outside).ok_or_else(|| io::Error::other("unreadable input"))?;
    let mut tmp = cache.blobs().temp().map_err(io::Error::other)?;
    let mut src = fs::File::open(binary)?;
    let mut w = crate::digest::HashingWriter::new(tmp.as_file_mut());
    io::copy(&mut src, &mut w)?;
    let (_, digest, _) = w.finish();
    use std::os::unix::fs::PermissionsExt;
    tmp.as_file()
        .set_permissions(fs::Permissions::from_mode(0o644))?;
    let blob = cache.blobs().blob_path(&digest);
    // Renamed into place without an fsync (a cache, not an output: the rename orders the data
    // before the name on ext4, and a blob whose identity changed is verified in full).
    if !blob.is_file() {
        tmp.persist(&blob).map_err(|e| e.error)?;
    }
    let entry = Entry {
        outside,
        outside_hash,
        blob_identity: identity(&blob),
        binary: digest.clone(),
        tool: tool.to_string(),
        command,
    };
    let path = entry_path(cache, key);
    let json = serde_json::to_vec(&entry).map_err(io::Error::other)?;
    write_atomic(&path, |w| w.write_all(&json))?;
    Ok(digest)
}

/// The stage mirrors the context by size and mtime; a file rewritten with other bytes but the
/// same size and mtime would stay stale there. The fingerprint saw its content: make the staged
/// copy agree before the compiler reads it.
pub fn restage_changed(files: &mut FileHashes, ctx: &BuildContext, dest: &Path) -> io::Result<()> {
    for e in &ctx.entries {
        if let EntryKind::File { .. } = e.kind {
            let src = ctx.root.join(&e.path);
            let dst = dest.join(&e.path);
            if files.hash(&src)? != files.hash(&dst)? {
                let meta = fs::metadata(&src)?;
                let tmp = dst.with_file_name(format!(
                    ".drydock-restage-{}",
                    dst.file_name()
                        .map(|n| n.to_string_lossy())
                        .unwrap_or_default()
                ));
                fs::copy(&src, &tmp)?;
                if let Ok(m) = meta.modified() {
                    fs::File::options()
                        .write(true)
                        .open(&tmp)?
                        .set_modified(m)?;
                }
                fs::rename(&tmp, &dst)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::go_header;

    fn header(src: &str) -> &str {
        std::str::from_utf8(go_header(src.as_bytes())).unwrap()
    }

    #[test]
    fn a_go_header_ends_with_the_last_import_and_never_misses_one() {
        let block = "//go:build linux\n\npackage main\n\nimport (\n\t\"fmt\"\n\t\"x/y\"\n)\n\nfunc main() { fmt.Println(y.Z) }\n";
        assert_eq!(header(block), &block[..block.find(")\n").unwrap() + 2]);
        let single = "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println() }\n";
        assert_eq!(header(single), "package main\n\nimport \"fmt\"\n");
        let none = "// doc\npackage lib\n\nfunc F() {}\n";
        assert_eq!(header(none), "// doc\npackage lib\n");
        // Several declarations: through the last.
        let two = "package main\n\nimport \"fmt\"\nimport (\n\"os\"\n)\n\nfunc main() {}\n";
        assert_eq!(
            header(two),
            "package main\n\nimport \"fmt\"\nimport (\n\"os\"\n)\n"
        );
        // A body mentioning `import` takes the header past it: more, never less.
        let later =
            "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"import\")\n}\n";
        assert!(header(later).contains("fmt.Println(\"import\")"));
        // An unclosed block: the whole file.
        let open = "package main\nimport (\n\"fmt\"\nfunc main() {}\n";
        assert_eq!(header(open), open);
        // A change below the header leaves it as it was.
        let changed = single.replace("fmt.Println()", "fmt.Println(1)");
        assert_eq!(header(&changed), header(single));
    }
}
