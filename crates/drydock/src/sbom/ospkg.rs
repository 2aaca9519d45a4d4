//! A base image's OS packages, from its package database: dpkg (`/var/lib/dpkg/status`, or
//! distroless's `/var/lib/dpkg/status.d/*`) and apk (`/lib/apk/db/installed`).

use base64::Engine as _;

use super::{purl_escape, Component, Kind};

/// `ID` and `VERSION_ID` of an os-release file.
pub fn os_release(text: &str) -> (Option<String>, Option<String>) {
    let get = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .map(|v| v.trim().trim_matches('"').to_string())
            .filter(|v| !v.is_empty())
    };
    (get("ID"), get("VERSION_ID"))
}

fn paragraphs(text: &str) -> impl Iterator<Item = Vec<(String, String)>> + '_ {
    text.split("\n\n").map(|p| {
        let mut fields: Vec<(String, String)> = Vec::new();
        for line in p.lines() {
            if line.starts_with(' ') || line.starts_with('\t') {
                continue;
            }
            if let Some((k, v)) = line.split_once(':') {
                fields.push((k.to_string(), v.trim().to_string()));
            }
        }
        fields
    })
}

fn field<'a>(p: &'a [(String, String)], k: &str) -> Option<&'a str> {
    p.iter().find(|(f, _)| f == k).map(|(_, v)| v.as_str())
}

/// Installed packages of a dpkg status file (or one status.d entry).
pub fn dpkg(text: &str, distro: (&str, Option<&str>), parent: &str) -> Vec<Component> {
    let mut out = Vec::new();
    for p in paragraphs(text) {
        let (Some(name), Some(version)) = (field(&p, "Package"), field(&p, "Version")) else {
            continue;
        };
        // status.d entries have no Status field: they are installed by being there.
        if field(&p, "Status").is_some_and(|s| !s.ends_with(" installed")) {
            continue;
        }
        let arch = field(&p, "Architecture").unwrap_or("all");
        let mut purl = format!(
            "pkg:deb/{}/{}@{}?arch={arch}",
            distro.0,
            purl_escape(name),
            purl_escape(version)
        );
        if let Some(v) = distro.1 {
            purl.push_str(&format!("&distro={}-{v}", distro.0));
        }
        let mut c = Component::new(Kind::OsPackage, name, Some(version));
        c.purl = Some(purl);
        c.parent = Some(parent.to_string());
        if let Some(src) = field(&p, "Source") {
            c = c.prop("drydock:deb:source", src);
        }
        out.push(c);
    }
    out
}

/// Installed packages of an apk database; `C:` (the control checksum, `Q1` + base64 SHA-1) as
/// the SHA-1.
pub fn apk(text: &str, distro: Option<&str>, parent: &str) -> Vec<Component> {
    let mut out = Vec::new();
    for p in paragraphs(text) {
        let (Some(name), Some(version)) = (field(&p, "P"), field(&p, "V")) else {
            continue;
        };
        let arch = field(&p, "A").unwrap_or("x86_64");
        let mut purl = format!(
            "pkg:apk/alpine/{}@{}?arch={arch}",
            purl_escape(name),
            purl_escape(version)
        );
        if let Some(v) = distro {
            purl.push_str(&format!("&distro=alpine-{v}"));
        }
        let mut c = Component::new(Kind::OsPackage, name, Some(version));
        c.purl = Some(purl);
        c.parent = Some(parent.to_string());
        c.sha1 = field(&p, "C")
            .and_then(|q| q.strip_prefix("Q1"))
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .filter(|b| b.len() == 20)
            .map(hex::encode);
        if let Some(o) = field(&p, "o") {
            c = c.prop("drydock:apk:origin", o);
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dpkg_installed_only_with_epochs_escaped() {
        let text = "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nSource: glibc\nVersion: 2.36-9+deb12u4\nDescription: x\n continued: line\n\nPackage: gone\nStatus: deinstall ok config-files\nVersion: 1\n\nPackage: tzdata\nStatus: install ok installed\nArchitecture: all\nVersion: 1:2024a-0+deb12u1\n";
        let c = dpkg(text, ("debian", Some("12")), "base");
        assert_eq!(c.len(), 2);
        assert_eq!(
            c[0].purl.as_deref(),
            Some("pkg:deb/debian/libc6@2.36-9+deb12u4?arch=amd64&distro=debian-12")
        );
        assert_eq!(
            c[1].purl.as_deref(),
            Some("pkg:deb/debian/tzdata@1%3A2024a-0+deb12u1?arch=all&distro=debian-12")
        );
    }

    #[test]
    fn apk_with_checksums() {
        let text = "C:Q1SGBEtJpFJSwxNgaaJ3Tc/lUSA5w=\nP:musl\nV:1.2.4-r2\nA:x86_64\no:musl\n\nP:busybox\nV:1.36.1-r5\n";
        let c = apk(text, Some("3.18"), "base");
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].sha1.as_deref().map(str::len), Some(40));
        assert_eq!(
            c[0].purl.as_deref(),
            Some("pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.18")
        );
        assert_eq!(
            os_release("ID=alpine\nVERSION_ID=\"3.18.4\"\n")
                .1
                .as_deref(),
            Some("3.18.4")
        );
    }
}
