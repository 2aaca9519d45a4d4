//! drydock's cache: a content-addressed blob store and a layer index, in the user's cache
//! directory.
//!
//! Blobs live at `blobs/sha256/<hex>` and are only ever written whole (temp file + rename), so
//! concurrent builds may race to write the same blob and both win. The layer index maps a layer's
//! input key (what went into it) to the blob that holds it, so an unchanged layer is never
//! re-tarred or re-compressed. Every read is verified against its digest; a corrupt entry is
//! dropped and rebuilt, never served.
//!
//! Every process that opens the cache holds a shared lock on `cache.lock` for as long as it
//! uses it; [`prune`] takes it exclusively, so it never removes a blob a running build, pull or
//! push is writing or about to reference: it waits for them to finish.

use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use drydock_oci::store::{BlobStore, DirStore, StoreError};

use crate::digest::Digest;
use crate::fsutil::write_atomic;

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cache {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("cache: {0}")]
    Store(#[from] StoreError),
    #[error("no cache directory: set DRYDOCK_CACHE_DIR, XDG_CACHE_HOME or HOME")]
    NoCacheDir,
    #[error("cache directory {path} cannot be used: {why}")]
    Unusable { path: PathBuf, why: String },
    #[error("cache directory {path} is not drydock's cache (it holds {holds}, and no CACHEDIR.TAG), so drydock will not write into it")]
    NotACache { path: PathBuf, holds: String },
}

impl CacheError {
    /// What to do about it, shown after the message (see [`crate::error::Classify::fix`]).
    pub fn fix(&self) -> Option<String> {
        Some(match self {
            CacheError::Unusable { .. } => "point --cache-dir or DRYDOCK_CACHE_DIR at a writable directory".into(),
            CacheError::NotACache { .. } => "point --cache-dir or DRYDOCK_CACHE_DIR at a missing or empty directory, or at drydock's cache".into(),
            _ => return None,
        })
    }
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> CacheError + '_ {
    move |source| CacheError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A layer as stored: its compressed blob and the digest of its uncompressed tar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredLayer {
    pub digest: Digest,
    pub diff_id: Digest,
    pub size: u64,
    /// Size of the uncompressed tar.
    pub diff_size: u64,
    pub media_type: String,
}

#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
    /// The shared lock that keeps `drydock cache prune` out while this cache is in use.
    _in_use: std::sync::Arc<fs::File>,
    blobs: DirStore,
    /// What was found broken and repaired, for the build's warnings.
    repairs: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Cache {
    /// The cache under `dir`, or the default location.
    pub fn open(dir: Option<&Path>) -> Result<Cache, CacheError> {
        // Every entry a drydock cache holds (the layer cache, the rebuild cache's `compile`,
        // the SBOM lookups): a cache another drydock process is setting up is still a cache.
        const CACHE_ENTRIES: &[&str] = &[
            "blobs",
            "layers",
            "stage",
            "bases",
            "compile",
            "sbom",
            "CACHEDIR.TAG",
            LOCK_FILE,
        ];
        const CACHEDIR_TAG: &str = "Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by drydock.\n# For information about cache directory tags, see https://bford.info/cachedir/\n";
        let root = match dir {
            Some(d) => d.to_path_buf(),
            None => default_dir().ok_or(CacheError::NoCacheDir)?,
        };
        // Relative to the working directory, whatever directory the compiler later runs in.
        let root = std::path::absolute(&root).map_err(io_err(&root))?;
        let unusable = |why: String| CacheError::Unusable {
            path: root.clone(),
            why,
        };
        if root.exists() && !root.is_dir() {
            return Err(unusable("it is not a directory".into()));
        }
        // Whose directory is it: a cache is made only in a missing or empty directory, or one
        // that is drydock's cache already (its CACHEDIR.TAG, or only the entries a cache has),
        // never in a project or a home directory named by mistake.
        let tag = root.join("CACHEDIR.TAG");
        if root.is_dir() && !tag.exists() {
            let foreign: Vec<String> = fs::read_dir(&root)
                .map_err(io_err(&root))?
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !CACHE_ENTRIES.contains(&n.as_str()) && !n.starts_with(".drydock-tmp-"))
                .collect();
            if !foreign.is_empty() {
                let mut shown = foreign.clone();
                shown.sort();
                shown.truncate(3);
                return Err(CacheError::NotACache {
                    path: root.clone(),
                    holds: format!(
                        "{}{}",
                        shown.join(", "),
                        if foreign.len() > 3 { ", ..." } else { "" }
                    ),
                });
            }
        }
        for sub in ["blobs/sha256", "layers", "stage", "compile"] {
            let p = root.join(sub);
            fs::create_dir_all(&p).map_err(|e| unusable(e.to_string()))?;
        }
        if !tag.exists() {
            // The Cache Directory Tagging spec (backup tools skip the directory) and drydock's
            // mark of its own cache.
            crate::fsutil::write_bytes_atomic(&tag, CACHEDIR_TAG.as_bytes())
                .map_err(|e| unusable(format!("cannot write in it ({e})")))?;
        }
        // A read-only cache fails here, not halfway through a build.
        tempfile::Builder::new()
            .prefix(".probe-")
            .tempfile_in(root.join("blobs/sha256"))
            .map_err(|e| unusable(format!("cannot write in it ({e})")))?;
        let lock_path = root.join(LOCK_FILE);
        let in_use = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| unusable(e.to_string()))?;
        in_use.lock_shared().map_err(io_err(&lock_path))?;
        Ok(Cache {
            _in_use: std::sync::Arc::new(in_use),
            blobs: DirStore::open_existing(&root.join("blobs")),
            root,
            repairs: Default::default(),
        })
    }

    /// What this cache found broken and repaired so far (one line each).
    pub fn repairs(&self) -> Vec<String> {
        self.repairs.lock().map(|r| r.clone()).unwrap_or_default()
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The blob store inside the cache.
    pub fn blobs(&self) -> &DirStore {
        &self.blobs
    }

    /// The stored layer for an input key, if its blob is present and intact.
    pub fn lookup_layer(&self, key: &str) -> Option<StoredLayer> {
        let path = self.root.join("layers").join(format!("{key}.json"));
        let text = fs::read(&path).ok()?;
        let stored: StoredLayer = match serde_json::from_slice(&text) {
            Ok(s) => s,
            Err(_) => {
                let _ = fs::remove_file(&path);
                return None;
            }
        };
        // A blob whose identity (size, mtime, ctime, inode) is what it was when last verified
        // in full has not been written since: it is not read again.
        let blob = self.blobs.blob_path(&stored.digest);
        let mark = self.root.join("layers").join(format!("{key}.verified"));
        let id = identity(&blob);
        if fs::read_to_string(&mark).ok().as_deref() != Some(id.as_str()) {
            if let Err(e) = self.blobs.verify(&stored.digest) {
                let _ = fs::remove_file(&path);
                let _ = fs::remove_file(&mark);
                if let Ok(mut r) = self.repairs.lock() {
                    r.push(format!("{e}: rebuilding that layer"));
                }
                return None;
            }
            let _ = write_atomic(&mark, |w| w.write_all(id.as_bytes()));
        }
        // Used now: what `cache prune` goes by (the entry keeps its blob; touching the blob
        // would also change the identity its verification mark records).
        touch(&path);
        Some(stored)
    }

    pub fn record_layer(&self, key: &str, layer: &StoredLayer) -> Result<(), CacheError> {
        let path = self.root.join("layers").join(format!("{key}.json"));
        let json = serde_json::to_vec(layer).map_err(|e| CacheError::Io {
            path: path.clone(),
            source: e.into(),
        })?;
        write_atomic(&path, |w| w.write_all(&json)).map_err(io_err(&path))
    }

    /// A private work directory for one project's build stage, held under an exclusive lock so
    /// that concurrent builds of the same project take turns instead of trampling each other.
    pub fn stage_dir(&self, name: &str) -> Result<StageDir, CacheError> {
        let safe: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let dir = self.root.join("stage").join(&safe);
        fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        touch(&dir);
        let lock_path = self.root.join("stage").join(format!("{safe}.lock"));
        let lock = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_err(&lock_path))?;
        lock.lock().map_err(io_err(&lock_path))?;
        Ok(StageDir { dir, _lock: lock })
    }
}

/// The cache is a blob store: builds put layers, configs and manifests in it, and publishers
/// read them back from it, verified.
impl BlobStore for Cache {
    fn has(&self, digest: &Digest) -> bool {
        self.blobs.has(digest)
    }
    fn put(&self, bytes: &[u8]) -> Result<Digest, StoreError> {
        self.blobs.put(bytes)
    }
    fn verify(&self, digest: &Digest) -> Result<(), StoreError> {
        self.blobs.verify(digest)
    }
    fn open(&self, digest: &Digest) -> Result<Box<dyn Read + Send>, StoreError> {
        self.blobs.open(digest)
    }
    fn path(&self, digest: &Digest) -> Option<PathBuf> {
        self.blobs.path(digest)
    }
    fn discard(&self, digest: &Digest) {
        self.blobs.discard(digest)
    }
}

/// A locked build-stage directory; the lock is released on drop.
pub struct StageDir {
    pub dir: PathBuf,
    _lock: fs::File,
}

/// The lock file every user of the cache holds shared, and `prune` exclusively.
const LOCK_FILE: &str = "cache.lock";

/// The name prefix of the rebuild cache's dependency lists in `compile/` (a GOPATH build's
/// packages, `compile::fingerprint::Deps`): they name no binary, and go only when stale.
pub const DEPS_PREFIX: &str = "deps-";

/// Sets a path's access and modification times to now (best effort).
fn touch(path: &Path) {
    use std::os::unix::ffi::OsStrExt;
    if let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) {
        unsafe {
            libc::utimensat(libc::AT_FDCWD, c.as_ptr(), std::ptr::null(), 0);
        }
    }
}

/// What `drydock cache prune` removed and kept.
#[derive(Debug, Default, Serialize)]
pub struct PruneReport {
    pub cache_dir: PathBuf,
    pub removed_blobs: usize,
    pub removed_layer_entries: usize,
    pub removed_stage_dirs: usize,
    pub removed_temp_files: usize,
    pub bytes_freed: u64,
    pub kept_blobs: usize,
    pub kept_bytes: u64,
    /// Whether prune had to wait for builds that were using the cache.
    pub waited: bool,
}

/// When an entry was last used: the later of its access and modification times (builds touch
/// what they reuse; reads update the access time at least daily under `relatime`).
fn last_used(m: &fs::Metadata) -> std::time::SystemTime {
    let a = m.accessed().unwrap_or(std::time::UNIX_EPOCH);
    let w = m.modified().unwrap_or(std::time::UNIX_EPOCH);
    a.max(w)
}

/// Bytes a file or directory tree takes.
fn tree_size(p: &Path) -> u64 {
    let Ok(m) = fs::symlink_metadata(p) else {
        return 0;
    };
    if !m.is_dir() {
        return m.len();
    }
    fs::read_dir(p)
        .map(|rd| rd.flatten().map(|e| tree_size(&e.path())).sum())
        .unwrap_or(0)
}

/// Removes what has not been used for `older_than` (everything with `None`): layer index
/// entries, blobs no kept entry refers to, idle build-stage directories, and temporary files
/// left by interrupted writers. Waits (after calling `on_wait`) while any other drydock process
/// uses the cache. `binary_of` reads an entry of the rebuild cache (`compile/`, written by the
/// compile stage above this module) for the blob of the binary it names: None when it is none.
pub fn prune(
    dir: Option<&Path>,
    older_than: Option<std::time::Duration>,
    on_wait: impl FnOnce(),
    binary_of: impl Fn(&[u8]) -> Option<Digest>,
) -> Result<PruneReport, CacheError> {
    let root = match dir {
        Some(d) => d.to_path_buf(),
        None => default_dir().ok_or(CacheError::NoCacheDir)?,
    };
    let root = std::path::absolute(&root).map_err(io_err(&root))?;
    let mut report = PruneReport {
        cache_dir: root.clone(),
        ..Default::default()
    };
    if !root.exists() {
        return Ok(report);
    }
    if !root.is_dir() {
        return Err(CacheError::Unusable {
            path: root,
            why: "it is not a directory".into(),
        });
    }
    let lock_path = root.join(LOCK_FILE);
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(io_err(&lock_path))?;
    if lock.try_lock().is_err() {
        report.waited = true;
        on_wait();
        lock.lock().map_err(io_err(&lock_path))?;
    }
    let now = std::time::SystemTime::now();
    let stale = |m: &fs::Metadata| match older_than {
        None => true,
        Some(age) => now
            .duration_since(last_used(m))
            .is_ok_and(|used| used >= age),
    };
    let read = |p: &Path| -> Result<Vec<fs::DirEntry>, CacheError> {
        match fs::read_dir(p) {
            Ok(rd) => Ok(rd.flatten().collect()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(CacheError::Io {
                path: p.to_path_buf(),
                source: e,
            }),
        }
    };
    // The layer index: stale entries go; the blobs of the rest stay.
    let mut referenced = std::collections::HashSet::new();
    for e in read(&root.join("layers"))? {
        let p = e.path();
        let Ok(m) = e.metadata() else { continue };
        // A verification mark goes with its entry.
        if p.extension().is_some_and(|x| x == "verified") {
            if !p.with_extension("json").is_file() || stale(&m) {
                let _ = fs::remove_file(&p);
            }
            continue;
        }
        let stored: Option<StoredLayer> = fs::read(&p)
            .ok()
            .and_then(|t| serde_json::from_slice(&t).ok());
        if stale(&m) || stored.is_none() {
            if fs::remove_file(&p).is_ok() {
                report.removed_layer_entries += 1;
                report.bytes_freed += m.len();
            }
        } else if let Some(s) = stored {
            referenced.insert(s.digest.hex().to_string());
        }
    }
    // The rebuild cache's entries: stale ones go; the binaries of the rest stay.
    for e in read(&root.join("compile"))? {
        let p = e.path();
        let Ok(m) = e.metadata() else { continue };
        let name = e.file_name().to_string_lossy().into_owned();
        if name == "files.json" || name == "toolchains.json" {
            continue;
        }
        // A GOPATH build's dependency list (fingerprint::Deps) names no binary.
        if name.starts_with(DEPS_PREFIX) && !stale(&m) {
            continue;
        }
        let binary = fs::read(&p).ok().and_then(|t| binary_of(&t));
        match binary {
            Some(binary) if !stale(&m) => {
                referenced.insert(binary.hex().to_string());
            }
            _ => {
                if fs::remove_file(&p).is_ok() {
                    report.bytes_freed += m.len();
                }
            }
        }
    }
    // Blobs, and the temporary files of writers that died (no writer runs now: we hold the lock).
    for e in read(&root.join("blobs/sha256"))? {
        let p = e.path();
        let Ok(m) = e.metadata() else { continue };
        let name = e.file_name().to_string_lossy().into_owned();
        let temp = name.starts_with('.');
        if temp || (stale(&m) && !referenced.contains(&name)) {
            if fs::remove_file(&p).is_ok() {
                if temp {
                    report.removed_temp_files += 1;
                } else {
                    report.removed_blobs += 1;
                }
                report.bytes_freed += m.len();
            }
        } else {
            report.kept_blobs += 1;
            report.kept_bytes += m.len();
        }
    }
    // Build stages not in use (their lock is free) and not used recently.
    for e in read(&root.join("stage"))? {
        let p = e.path();
        let Ok(m) = e.metadata() else { continue };
        if !m.is_dir() || !stale(&m) {
            continue;
        }
        let stage_lock = root
            .join("stage")
            .join(format!("{}.lock", e.file_name().to_string_lossy()));
        let held = fs::OpenOptions::new()
            .write(true)
            .open(&stage_lock)
            .ok()
            .filter(|f| f.try_lock().is_ok());
        if stage_lock.exists() && held.is_none() {
            continue;
        }
        let size = tree_size(&p);
        if fs::remove_dir_all(&p).is_ok() {
            report.removed_stage_dirs += 1;
            report.bytes_freed += size;
        }
    }
    Ok(report)
}

fn default_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("DRYDOCK_CACHE_DIR").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(d).join("drydock"));
    }
    std::env::var_os("HOME")
        .filter(|v| !v.is_empty())
        .map(|h| PathBuf::from(h).join(".cache/drydock"))
}

/// A file's identity (path, size, mtime, ctime, inode), or `-` when it is missing.
pub fn identity(path: &Path) -> String {
    match fs::metadata(path) {
        Ok(m) => {
            let (size, mtime, ctime, ino, dev) = stamp_of(&m);
            format!("{} {size} {mtime} {ctime} {ino} {dev}", path.display())
        }
        Err(_) => format!("{} -", path.display()),
    }
}

fn ns(sec: i64, nsec: i64) -> i128 {
    sec as i128 * 1_000_000_000 + nsec as i128
}

/// What [`identity`] is made of: size, mtime and ctime (ns), inode, device.
pub fn stamp_of(m: &fs::Metadata) -> (u64, i128, i128, u64, u64) {
    (
        m.len(),
        ns(m.mtime(), m.mtime_nsec()),
        ns(m.ctime(), m.ctime_nsec()),
        m.ino(),
        m.dev(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrupt_blobs_are_detected_and_dropped() {
        let t = tempfile::tempdir().unwrap();
        let c = Cache::open(Some(t.path())).unwrap();
        let d = c.put(b"hello").unwrap();
        assert_eq!(c.read(&d).unwrap(), b"hello");
        let layer = StoredLayer {
            digest: d.clone(),
            diff_id: d.clone(),
            size: 5,
            diff_size: 5,
            media_type: "x".into(),
        };
        c.record_layer("k", &layer).unwrap();
        assert_eq!(c.lookup_layer("k"), Some(layer));
        fs::write(c.blobs().blob_path(&d), b"hellO").unwrap();
        assert!(matches!(c.read(&d), Err(StoreError::Corrupt { .. })));
        assert!(!c.has(&d), "corrupt blob removed");
        assert_eq!(c.lookup_layer("k"), None);
        assert_eq!(c.repairs().len(), 1, "the repair is reported");
        assert!(c.repairs()[0].contains("rebuilding"), "{:?}", c.repairs());
    }

    #[test]
    fn unusable_directories_are_refused() {
        let t = tempfile::tempdir().unwrap();
        let file = t.path().join("f");
        fs::write(&file, "x").unwrap();
        assert!(matches!(
            Cache::open(Some(&file)),
            Err(CacheError::Unusable { .. })
        ));
    }

    #[test]
    fn concurrent_writers_of_one_blob_agree() {
        let t = tempfile::tempdir().unwrap();
        let c = Cache::open(Some(t.path())).unwrap();
        let data = vec![7u8; 1 << 20];
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| c.put(&data).unwrap());
            }
        });
        let d = Digest::of(&data);
        assert_eq!(c.read(&d).unwrap().len(), data.len());
        let leftovers: Vec<_> = fs::read_dir(t.path().join("blobs/sha256"))
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
            .collect();
        assert!(leftovers.is_empty(), "no temp files left behind");
    }
}
