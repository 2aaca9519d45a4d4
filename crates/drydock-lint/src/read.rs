//! Reading the input: a file's bytes as text, whatever encoding it was saved in that the tools
//! which read it accept (UTF-8 with or without a byte-order mark, UTF-16 with one), binary and
//! other encodings being errors that say so; and what text read from stdin holds, by the name
//! it was given or else by its first lines.

use std::path::Path;

use crate::discover::{
    is_compose_name, is_dockerfile_name, is_manifest_name, sniff_text, utf16, Sniffed,
};
use crate::error::LintError;

/// Reads a file to lint as text: binary and non-UTF-8 files are errors that say so.
pub(crate) fn read_text(path: &Path) -> Result<String, LintError> {
    let bytes = std::fs::read(path).map_err(|source| LintError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    // UTF-16 with a byte-order mark, as kubectl and Compose (through Go's YAML) read it.
    if let Some(text) = utf16(&bytes) {
        return text.ok_or_else(|| LintError::NotText {
            path: path.to_path_buf(),
            why: "starts with a UTF-16 byte-order mark but is not valid UTF-16",
            fix: "save it as UTF-8 (or valid UTF-16)",
        });
    }
    // UTF-8 with a BOM is still UTF-8.
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    if body.iter().take(8192).any(|b| *b == 0) {
        return Err(LintError::NotText {
            path: path.to_path_buf(),
            why: "is a binary file",
            fix: "lint Dockerfiles, Kubernetes manifests and Compose files only",
        });
    }
    String::from_utf8(body.to_vec()).map_err(|_| LintError::NotText {
        path: path.to_path_buf(),
        why: "is not UTF-8 text",
        fix: "save it as UTF-8",
    })
}

/// What text that did not come from a file holds (`drydock lint -`): `name` says it, as a file
/// name would (`Dockerfile`, `compose.yaml`, `k8s.yaml`), else its first lines do.
pub(crate) fn stdin_kind(name: &str, text: &str) -> Sniffed {
    let base = name.rsplit('/').next().unwrap_or(name);
    if is_compose_name(base) {
        Sniffed::Compose
    } else if is_manifest_name(base) {
        Sniffed::Manifest
    } else if is_dockerfile_name(base) {
        Sniffed::Dockerfile
    } else {
        sniff_text(text)
    }
}
