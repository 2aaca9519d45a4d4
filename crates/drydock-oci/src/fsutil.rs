//! Atomic file and directory writes: a reader never sees half an output, and a failed write
//! leaves the previous version in place.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Writes a file through a temporary sibling and renames it into place: mode 0644, or the
/// mode of the file it replaces (a user who made an output 0600 keeps it 0600).
pub fn write_atomic(
    path: &Path,
    f: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    write_atomic_mode(path, f, existing_mode(path).unwrap_or(0o644))
}

/// The permission bits of the regular file at `path`, if there is one.
pub fn existing_mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(path)
        .ok()
        .filter(|m| m.is_file())
        .map(|m| m.permissions().mode() & 0o7777)
}

/// As [`write_atomic`], with the final mode: the file never exists under another mode.
pub fn write_atomic_mode(
    path: &Path,
    f: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    mode: u32,
) -> io::Result<()> {
    let dir = parent_dir(path);
    std::fs::create_dir_all(&dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".drydock-tmp-")
        .tempfile_in(&dir)?;
    {
        let mut w = io::BufWriter::new(tmp.as_file_mut());
        f(&mut w)?;
        w.flush()?;
    }
    // Temporary files are created 0600; outputs get the mode asked for (usually 0644).
    use std::os::unix::fs::PermissionsExt;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(mode))?;
    tmp.as_file().sync_data()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

pub fn write_bytes_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic(path, |w| w.write_all(bytes))
}

pub fn write_bytes_atomic_mode(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    write_atomic_mode(path, |w| w.write_all(bytes), mode)
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}
