//! Content-addressed blob storage. [`BlobStore`] is what the image builder, the image sources
//! and the publishers need; [`DirStore`] keeps blobs as files at `<root>/sha256/<hex>`, which is
//! both drydock's cache and the `blobs/` directory of an OCI image layout. A registry read as a
//! source ([`crate::pull::RegistrySource`]) is another implementation, read only.
//!
//! Every read is verified against the digest, and a blob is only ever written whole (a temporary
//! file renamed into place), so concurrent writers of the same blob both win and a reader never
//! sees half of one.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::digest::{sha256_file, Digest};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("blob store {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("blob {digest} is missing")]
    Missing { digest: Digest },
    #[error("blob {digest} is corrupt (its content hashes to {actual}); it was removed, run the build again")]
    Corrupt { digest: Digest, actual: Digest },
}

/// Where blobs are kept, by digest.
pub trait BlobStore: Send + Sync {
    /// Whether the store holds the blob (without verifying it).
    fn has(&self, digest: &Digest) -> bool;
    /// Stores bytes and returns their digest.
    fn put(&self, bytes: &[u8]) -> Result<Digest, StoreError>;
    /// Checks that the blob is there and still has its digest. A store that can repair itself
    /// drops a corrupt blob here.
    fn verify(&self, digest: &Digest) -> Result<(), StoreError>;
    /// Opens a blob after verifying it.
    fn open(&self, digest: &Digest) -> Result<Box<dyn Read + Send>, StoreError>;
    /// The blob's file, when the store keeps blobs as files (a fast path for copies).
    fn path(&self, _digest: &Digest) -> Option<PathBuf> {
        None
    }
    /// Forgets a blob found to be bad by a reader (e.g. a layer that does not decompress to its
    /// diff ID), so that it is rebuilt rather than served again.
    fn discard(&self, _digest: &Digest) {}

    /// A whole blob, verified.
    fn read(&self, digest: &Digest) -> Result<Vec<u8>, StoreError> {
        let mut buf = Vec::new();
        self.open(digest)?
            .read_to_end(&mut buf)
            .map_err(|source| StoreError::Io {
                path: PathBuf::from(digest.as_str()),
                source,
            })?;
        Ok(buf)
    }
}

/// Blobs as files under a directory: `<root>/sha256/<hex>`.
#[derive(Debug, Clone)]
pub struct DirStore {
    root: PathBuf,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl DirStore {
    /// The store at `root` (created when missing).
    pub fn create(root: &Path) -> Result<DirStore, StoreError> {
        let dir = root.join("sha256");
        fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        Ok(DirStore {
            root: root.to_path_buf(),
        })
    }

    /// The store at `root`, which must exist (e.g. an OCI layout's `blobs/`, read only).
    pub fn open_existing(root: &Path) -> DirStore {
        DirStore {
            root: root.to_path_buf(),
        }
    }

    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.root.join("sha256").join(digest.hex())
    }

    /// A temporary file in the store, to be filled and handed to [`DirStore::commit`].
    pub fn temp(&self) -> Result<tempfile::NamedTempFile, StoreError> {
        let dir = self.root.join("sha256");
        tempfile::Builder::new()
            .prefix(".tmp-")
            .tempfile_in(&dir)
            .map_err(io_err(&dir))
    }

    /// Moves a filled temporary file into place as the blob `digest` (which the caller hashed).
    pub fn commit(&self, tmp: tempfile::NamedTempFile, digest: &Digest) -> Result<(), StoreError> {
        let path = self.blob_path(digest);
        tmp.as_file().sync_data().map_err(io_err(&path))?;
        tmp.persist(&path).map_err(|e| StoreError::Io {
            path: path.clone(),
            source: e.error,
        })?;
        Ok(())
    }
}

impl BlobStore for DirStore {
    fn has(&self, digest: &Digest) -> bool {
        self.blob_path(digest).is_file()
    }

    fn put(&self, bytes: &[u8]) -> Result<Digest, StoreError> {
        let d = Digest::of(bytes);
        let path = self.blob_path(&d);
        if !path.is_file() {
            crate::fsutil::write_bytes_atomic(&path, bytes).map_err(io_err(&path))?;
        }
        Ok(d)
    }

    fn verify(&self, digest: &Digest) -> Result<(), StoreError> {
        let path = self.blob_path(digest);
        let (actual, _) = match sha256_file(&path) {
            Ok(r) => r,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(StoreError::Missing {
                    digest: digest.clone(),
                })
            }
            Err(e) => return Err(StoreError::Io { path, source: e }),
        };
        if &actual != digest {
            let _ = fs::remove_file(&path);
            return Err(StoreError::Corrupt {
                digest: digest.clone(),
                actual,
            });
        }
        Ok(())
    }

    fn open(&self, digest: &Digest) -> Result<Box<dyn Read + Send>, StoreError> {
        self.verify(digest)?;
        let path = self.blob_path(digest);
        Ok(Box::new(fs::File::open(&path).map_err(io_err(&path))?))
    }

    fn path(&self, digest: &Digest) -> Option<PathBuf> {
        Some(self.blob_path(digest))
    }

    fn discard(&self, digest: &Digest) {
        let _ = fs::remove_file(self.blob_path(digest));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_verify_and_repair() {
        let t = tempfile::tempdir().unwrap();
        let s = DirStore::create(t.path()).unwrap();
        let d = s.put(b"hello").unwrap();
        assert!(s.has(&d));
        assert_eq!(s.read(&d).unwrap(), b"hello");
        fs::write(s.blob_path(&d), b"HELLO").unwrap();
        assert!(matches!(s.verify(&d), Err(StoreError::Corrupt { .. })));
        assert!(!s.has(&d), "a corrupt blob is dropped");
        assert!(matches!(s.open(&d), Err(StoreError::Missing { .. })));
    }
}
