//! drydock's own root files for `scratch` images: what a static binary expects of a Linux
//! system and nothing more.
//!
//! Every byte comes from drydock itself, never from the host, so the layer is the same on every
//! machine: `/etc/passwd` and `/etc/group` with `root` and `nonroot` (65532), an
//! `/etc/nsswitch.conf` that makes Go's resolver read `/etc/hosts` first, Mozilla's CA bundle
//! as shipped in the `webpki-root-certs` crate, a world-writable sticky `/tmp` and the nonroot
//! user's home.

use base64::Engine as _;

use super::layer::{Content, Entry, LayerSpec};

pub const NONROOT_UID: u64 = 65532;
pub const CA_BUNDLE_PATH: &str = "etc/ssl/certs/ca-certificates.crt";

const PASSWD: &str = "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n";
const GROUP: &str = "root:x:0:\nnonroot:x:65532:\n";
const NSSWITCH: &str =
    "# Written by drydock: look names up in /etc/hosts, then DNS.\nhosts: files dns\n";

/// The CA bundle in PEM, one certificate after another.
pub fn ca_bundle_pem() -> String {
    let mut out = String::new();
    for cert in webpki_root_certs::TLS_SERVER_ROOT_CERTS {
        let b64 = base64::engine::general_purpose::STANDARD.encode(cert.as_ref());
        out.push_str("-----BEGIN CERTIFICATE-----\n");
        for chunk in b64.as_bytes().chunks(64) {
            out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
            out.push('\n');
        }
        out.push_str("-----END CERTIFICATE-----\n");
    }
    out
}

/// The root files: drydock's own on scratch. On a base, the base's `/etc/passwd` and
/// `/etc/group` get the nonroot user and group added (when they lack them) instead of being
/// replaced, and its CA bundle and nsswitch.conf are kept when it has them.
pub fn root_files_layer(mtime: u64, base: Option<&crate::base::BaseFiles>) -> LayerSpec {
    let mut l = LayerSpec::new("root files", mtime);
    l.push(Entry::dir("etc", 0o755));
    let merged = |path: &str, ours: &str, entry: &str, id: &str| -> Vec<u8> {
        match base.and_then(|b| b.text(path)) {
            Some(mut theirs) => {
                let has = theirs.lines().any(|l| {
                    let f: Vec<&str> = l.split(':').collect();
                    f.first() == Some(&"nonroot") || f.get(2) == Some(&id)
                });
                if !has {
                    if !theirs.is_empty() && !theirs.ends_with('\n') {
                        theirs.push('\n');
                    }
                    theirs.push_str(entry);
                }
                theirs.into_bytes()
            }
            None => ours.as_bytes().to_vec(),
        }
    };
    l.push(Entry::file(
        "etc/passwd",
        0o644,
        Content::Bytes(merged(
            "etc/passwd",
            PASSWD,
            "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n",
            "65532",
        )),
    ));
    l.push(Entry::file(
        "etc/group",
        0o644,
        Content::Bytes(merged("etc/group", GROUP, "nonroot:x:65532:\n", "65532")),
    ));
    if !base.is_some_and(|b| b.exists("etc/nsswitch.conf")) {
        l.push(Entry::file(
            "etc/nsswitch.conf",
            0o644,
            Content::Bytes(NSSWITCH.into()),
        ));
    }
    if !base.is_some_and(|b| b.exists(CA_BUNDLE_PATH)) {
        l.push(Entry::file(
            CA_BUNDLE_PATH,
            0o644,
            Content::Bytes(ca_bundle_pem().into_bytes()),
        ));
    }
    l.push(Entry::dir("home", 0o755));
    l.push(Entry::dir("home/nonroot", 0o700).owned(NONROOT_UID, NONROOT_UID));
    l.push(Entry::dir("tmp", 0o1777));
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ca_bundle_is_pem_that_decodes() {
        let pem = ca_bundle_pem();
        let blocks: Vec<&str> = pem
            .split("-----END CERTIFICATE-----\n")
            .filter(|b| !b.is_empty())
            .collect();
        assert!(
            blocks.len() > 100,
            "Mozilla's store has well over 100 roots"
        );
        for b in blocks {
            let body: String = b
                .trim_start_matches("-----BEGIN CERTIFICATE-----\n")
                .lines()
                .collect();
            let der = base64::engine::general_purpose::STANDARD
                .decode(body)
                .unwrap();
            assert_eq!(der[0], 0x30, "DER SEQUENCE");
        }
    }
}
