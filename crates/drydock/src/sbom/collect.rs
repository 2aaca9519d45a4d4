//! Gathers what goes into the SBOM from the build: the compiled binary's module list (Go build
//! info, or `go list` in GOPATH mode with `dpkg -S` for where each source came from), Cargo.lock,
//! the toolchain, the base and its package database, and drydock's own files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use sha2::Digest as _;

use super::{id_for, ospkg, purl_escape, Component, Kind, Sbom, SbomError};
use crate::base::Base;
use crate::compile::goinfo::GoInfo;
use crate::compile::{Compiled, GoListEnv};
use crate::config::Language;
use crate::project::Project;

/// The webpki-root-certs release drydock's CA bundle comes from (a unit test keeps it equal to
/// Cargo.lock's).
pub const WEBPKI_ROOT_CERTS_VERSION: &str = "1.0.11";

pub struct Inputs<'a> {
    pub project: &'a Project,
    pub compiled: &'a Compiled,
    pub go: Option<&'a GoInfo>,
    pub base: Option<&'a Base>,
    /// `sha256:…` of the image manifest.
    pub digest: String,
    pub created: String,
    pub revision: Option<String>,
    pub source: Option<String>,
    /// Where GOPATH-mode answers (`go list`, `dpkg -S`) are kept between builds.
    pub cache_dir: Option<PathBuf>,
}

pub fn collect(i: &Inputs<'_>) -> Result<Sbom, SbomError> {
    let p = i.project;
    let hex = i.digest.strip_prefix("sha256:").unwrap_or(&i.digest);
    let mut image = Component::new(Kind::BaseImage, &p.name, Some(&i.digest));
    image.id = "image".into();
    let mut purl = format!("pkg:oci/{}@sha256%3A{hex}", purl_escape(&p.name));
    if p.image.tag.registry() != "docker.io" {
        purl.push_str(&format!(
            "?repository_url={}",
            purl_escape(&format!(
                "{}/{}",
                p.image.tag.registry(),
                p.image.tag.repository()
            ))
            .replace("%2F", "/")
        ));
    }
    image.purl = Some(purl);
    image.sha256 = Some(hex.to_string());
    image = image.prop("drydock:image:reference", p.image.tag.tagged());

    let mut sbom = Sbom {
        name: p.name.clone(),
        digest: i.digest.clone(),
        created: i.created.clone(),
        image,
        components: Vec::new(),
        notes: Vec::new(),
    };

    // The application.
    let bin_sha = std::fs::read(&i.compiled.binary)
        .ok()
        .map(|b| hex::encode(sha2::Sha256::digest(&b)));
    let tag_version = p
        .image
        .tag
        .tag()
        .filter(|t| *t != "latest")
        .map(str::to_string);
    let mut app = match (p.build.language, i.go) {
        (Language::Go, Some(g)) => go_app(&mut sbom, i, g, tag_version.clone())?,
        (Language::Rust, _) if i.compiled.tool != "prebuilt" => {
            rust_app(&mut sbom, i, tag_version.clone())
        }
        _ => Component::new(Kind::Application, &p.name, tag_version.as_deref()),
    };
    app.id = "application".into();
    app.sha256 = bin_sha;
    app = app.prop(
        "drydock:path",
        format!("/{}/{}", crate::image::app::APP_DIR, p.name),
    );
    app = app.prop("drydock:built-with", i.compiled.tool.clone());
    if let Some(r) = &i.revision {
        app = app.prop("drydock:vcs:revision", r.clone());
    }
    if let Some(s) = &i.source {
        app = app.prop("drydock:vcs:url", s.clone());
    }
    sbom.components.push(app);

    base_components(&mut sbom, i);
    drydock_files(&mut sbom, i);
    sbom.finish();
    Ok(sbom)
}

fn h1_to_sha256(sum: &str) -> Option<String> {
    let b = base64::engine::general_purpose::STANDARD
        .decode(sum.strip_prefix("h1:")?)
        .ok()?;
    (b.len() == 32).then(|| hex::encode(b))
}

fn go_app(
    sbom: &mut Sbom,
    i: &Inputs<'_>,
    g: &GoInfo,
    tag_version: Option<String>,
) -> Result<Component, SbomError> {
    let gov = g.version.trim_start_matches("go");
    let mut tc = Component::new(Kind::Toolchain, "go", Some(&g.version));
    tc.purl = Some(format!("pkg:golang/go@{}", purl_escape(gov)));
    tc.parent = Some("application".into());
    sbom.components.push(tc);
    let mut std = Component::new(Kind::Library, "stdlib", Some(&g.version));
    std.purl = Some(format!("pkg:golang/stdlib@{}", purl_escape(gov)));
    std.parent = Some("application".into());
    sbom.components.push(std);

    let Some(main) = &g.main_module else {
        let name = g.path.clone().unwrap_or_else(|| i.project.name.clone());
        let version = tag_version.unwrap_or_else(|| "(devel)".into());
        let mut app = Component::new(Kind::Application, &name, Some(&version));
        app.purl = Some(format!("pkg:golang/{name}"));
        app = app.prop("drydock:go:mode", "GOPATH");
        sbom.notes.push(
            "GOPATH-mode Go build: the binary records no modules, so the libraries listed are the packages `go list -deps` says the build compiled from outside the standard library, grouped by repository, each with the Debian package (and version) its sources came from when dpkg owns them; GOPATH mode has no module versions or h1: checksums, so none are given.".into(),
        );
        if let Some(env) = &i.compiled.go_list {
            sbom.components.extend(gopath_libraries_cached(i, env)?);
        }
        return Ok(app);
    };
    let version = tag_version.unwrap_or_else(|| main.version.clone());
    let mut app = Component::new(Kind::Application, &main.path, Some(&version));
    app.purl = Some(format!("pkg:golang/{}", main.path));
    if let Some(pkg) = &g.path {
        app = app.prop("drydock:go:main-package", pkg.clone());
    }
    for d in &g.deps {
        let used = d.replaced_by.as_deref().unwrap_or(d);
        let mut c = Component::new(Kind::Library, &d.path, Some(&used.version));
        c.purl = Some(format!(
            "pkg:golang/{}@{}",
            d.path,
            purl_escape(&used.version)
        ));
        c.parent = Some("application".into());
        if let Some(sum) = &used.sum {
            c.sha256 = h1_to_sha256(sum);
            c = c.prop("drydock:go:h1", sum.clone());
        }
        if let Some(r) = &d.replaced_by {
            c = c.prop(
                "drydock:go:replaced",
                format!("{} {} => {} {}", d.path, d.version, r.path, r.version),
            );
        }
        sbom.components.push(c);
    }
    Ok(app)
}

/// [`gopath_libraries`], kept in the cache under what decides its answer: the binary (the
/// packages it was compiled from), the environment and main package, and dpkg's database.
fn gopath_libraries_cached(i: &Inputs<'_>, env: &GoListEnv) -> Result<Vec<Component>, SbomError> {
    let key = (|| {
        let mut h = sha2::Sha256::new();
        h.update(std::fs::read(&i.compiled.binary).ok()?);
        h.update(format!("{:?}\0{}\0", env.env, i.project.build.main));
        let st = std::fs::metadata("/var/lib/dpkg/status").ok()?;
        h.update(format!("{:?}{}", st.modified().ok()?, st.len()));
        Some(hex::encode(h.finalize()))
    })();
    let path = i
        .cache_dir
        .as_ref()
        .zip(key)
        .map(|(d, k)| d.join("sbom").join(format!("gopath-{k}.json")));
    if let Some(cs) = path
        .as_ref()
        .and_then(|p| std::fs::read(p).ok())
        .and_then(|b| serde_json::from_slice::<Vec<Component>>(&b).ok())
    {
        return Ok(cs);
    }
    let cs = gopath_libraries(env, &i.project.build.main)?;
    // A failure to keep it only costs the next build the time to ask again.
    if let (Some(p), Ok(json)) = (&path, serde_json::to_vec(&cs)) {
        if let Some(d) = p.parent() {
            let _ = std::fs::create_dir_all(d);
        }
        let _ = crate::fsutil::write_bytes_atomic(p, &json);
    }
    Ok(cs)
}

fn gopath_libraries(env: &GoListEnv, main: &str) -> Result<Vec<Component>, SbomError> {
    let mut cmd = Command::new("go");
    cmd.args([
        "list",
        "-deps",
        "-f",
        "{{.ImportPath}}\t{{.Dir}}\t{{.Standard}}",
        main,
    ])
    .current_dir(&env.dir);
    for (k, v) in &env.env {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let out = cmd.output().map_err(|e| SbomError::Tool {
        command: "go list -deps".into(),
        message: e.to_string(),
    })?;
    if !out.status.success() {
        return Err(SbomError::Tool {
            command: format!("go list -deps {main}"),
            message: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    // Group the packages by the repository they live in: the nearest go.mod above them, else
    // the repository root their import path names.
    let mut groups: BTreeMap<(String, PathBuf), BTreeSet<String>> = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let [import, dir, standard] = f[..] else {
            continue;
        };
        let dir = Path::new(dir);
        if standard == "true" || dir.starts_with(&env.dir) || import.starts_with("vendor/") {
            continue;
        }
        let (path, root) = repo_root(import, dir);
        groups
            .entry((path, root))
            .or_default()
            .insert(import.to_string());
    }
    let roots: Vec<&PathBuf> = groups.keys().map(|(_, r)| r).collect();
    let owners = dpkg_owners(&roots);
    let mut out = Vec::new();
    for ((path, root), pkgs) in &groups {
        let mut c = Component::new(Kind::Library, path, None);
        c.purl = Some(format!("pkg:golang/{path}"));
        c.parent = Some("application".into());
        c = c.prop(
            "drydock:go:packages",
            pkgs.iter().cloned().collect::<Vec<_>>().join(" "),
        );
        c = c.prop("drydock:go:dir", root.display().to_string());
        match owners.get(root) {
            Some((deb, version)) => {
                c.version = Some(version.clone());
                c.other_purls.push(format!(
                    "pkg:deb/debian/{}@{}",
                    purl_escape(deb),
                    purl_escape(version)
                ));
                c = c.prop("drydock:deb:package", format!("{deb} {version}"));
                c = c.prop("drydock:version-source", "the Debian package's version; GOPATH mode records no module version or checksum");
            }
            None => {
                c = c.prop("drydock:version-source", "unknown: GOPATH mode records no module version or checksum, and no Debian package owns this directory");
            }
        }
        c.id = id_for(Kind::Library, path, None);
        out.push(c);
    }
    Ok(out)
}

/// The module or repository a GOPATH package belongs to, and its directory.
fn repo_root(import: &str, dir: &Path) -> (String, PathBuf) {
    let depth = import.split('/').count();
    let mut d = dir.to_path_buf();
    for up in 0..depth {
        if let Ok(text) = std::fs::read_to_string(d.join("go.mod")) {
            if let Some(m) = text
                .lines()
                .find_map(|l| l.trim().strip_prefix("module "))
                .map(|m| m.trim().trim_matches('"').to_string())
            {
                return (m, d);
            }
            let parts: Vec<&str> = import.split('/').collect();
            return (parts[..depth - up].join("/"), d);
        }
        if !d.pop() {
            break;
        }
    }
    let parts: Vec<&str> = import.split('/').collect();
    let keep = match parts[0] {
        "github.com" | "gitlab.com" | "bitbucket.org" | "golang.org" | "go.googlesource.com" => 3,
        "gopkg.in" if parts.get(1).is_some_and(|p| p.contains('.')) => 2,
        "gopkg.in" => 3,
        "google.golang.org" | "go.uber.org" | "go.etcd.io" => 2,
        _ => 3,
    }
    .min(depth);
    let mut root = dir.to_path_buf();
    for _ in keep..depth {
        root.pop();
    }
    (parts[..keep].join("/"), root)
}

/// The Debian package (and its version) that owns each directory, from `dpkg -S`.
fn dpkg_owners(dirs: &[&PathBuf]) -> BTreeMap<PathBuf, (String, String)> {
    let mut out = BTreeMap::new();
    if dirs.is_empty() {
        return out;
    }
    let Ok(o) = Command::new("dpkg").arg("-S").args(dirs).output() else {
        return out;
    };
    let mut owner: BTreeMap<PathBuf, String> = BTreeMap::new();
    for line in String::from_utf8_lossy(&o.stdout).lines() {
        if let Some((pkgs, path)) = line.split_once(": ") {
            let first = pkgs.split(", ").next().unwrap_or(pkgs);
            let pkg = first.split(':').next().unwrap_or(first);
            owner.insert(PathBuf::from(path.trim()), pkg.to_string());
        }
    }
    let pkgs: BTreeSet<&String> = owner.values().collect();
    let mut versions = BTreeMap::new();
    if let Ok(o) = Command::new("dpkg-query")
        .args(["-W", "-f", "${Package}\t${Version}\n"])
        .args(pkgs.iter().map(|s| s.as_str()))
        .output()
    {
        for line in String::from_utf8_lossy(&o.stdout).lines() {
            if let Some((p, v)) = line.split_once('\t') {
                versions.insert(p.to_string(), v.to_string());
            }
        }
    }
    for (dir, pkg) in owner {
        if let Some(v) = versions.get(&pkg) {
            out.insert(dir, (pkg, v.clone()));
        }
    }
    out
}

#[derive(serde::Deserialize)]
struct Lock {
    #[serde(default)]
    package: Vec<LockPackage>,
}

#[derive(serde::Deserialize)]
struct LockPackage {
    name: String,
    version: String,
    source: Option<String>,
    checksum: Option<String>,
    #[serde(default)]
    dependencies: Vec<String>,
}

fn rust_app(sbom: &mut Sbom, i: &Inputs<'_>, tag_version: Option<String>) -> Component {
    let p = i.project;
    if let Some(v) = Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    {
        let version = v.split_whitespace().nth(1).unwrap_or(&v).to_string();
        let mut tc = Component::new(Kind::Toolchain, "rustc", Some(&version));
        tc.parent = Some("application".into());
        tc = tc.prop("drydock:rustc", v);
        sbom.components.push(tc);
    }
    let manifest: Option<toml::Value> = std::fs::read_to_string(p.root.join("Cargo.toml"))
        .ok()
        .and_then(|t| toml::from_str(&t).ok());
    let pkg_name = manifest
        .as_ref()
        .and_then(|m| m.get("package")?.get("name")?.as_str().map(str::to_string))
        .unwrap_or_else(|| p.build.main.clone());
    let lock: Option<Lock> = std::fs::read_to_string(p.root.join("Cargo.lock"))
        .ok()
        .and_then(|t| toml::from_str(&t).ok());
    let Some(lock) = lock else {
        sbom.notes
            .push("no Cargo.lock in the build context: the crates the binary was built from are not listed".into());
        return Component::new(Kind::Application, &pkg_name, tag_version.as_deref());
    };
    let root = lock
        .package
        .iter()
        .position(|l| l.name == pkg_name && l.source.is_none());
    let version = tag_version.or_else(|| root.map(|r| lock.package[r].version.clone()));
    let mut app = Component::new(Kind::Application, &pkg_name, version.as_deref());
    if let Some(v) = root.map(|r| &lock.package[r].version) {
        app.purl = Some(format!("pkg:cargo/{}@{}", pkg_name, purl_escape(v)));
    }
    sbom.notes.push("Rust crates: every package Cargo.lock reaches from the application, which may include dev-dependencies and dependencies for other platforms (Cargo.lock does not tell them apart)".into());
    // Every package reachable from the root through Cargo.lock's dependency lists.
    let find = |dep: &str| -> Option<usize> {
        let mut f = dep.split_whitespace();
        let name = f.next()?;
        let version = f.next();
        lock.package
            .iter()
            .position(|l| l.name == name && version.is_none_or(|v| l.version == v))
    };
    let mut seen = BTreeSet::new();
    let mut todo: Vec<usize> = root.into_iter().collect();
    while let Some(n) = todo.pop() {
        if !seen.insert(n) {
            continue;
        }
        todo.extend(lock.package[n].dependencies.iter().filter_map(|d| find(d)));
    }
    for n in seen {
        if Some(n) == root {
            continue;
        }
        let l = &lock.package[n];
        let mut c = Component::new(Kind::Library, &l.name, Some(&l.version));
        c.purl = Some(format!("pkg:cargo/{}@{}", l.name, purl_escape(&l.version)));
        c.parent = Some("application".into());
        c.sha256 = l.checksum.clone();
        if let Some(s) = &l.source {
            if !s.starts_with("registry+https://github.com/rust-lang/crates.io-index") {
                c = c.prop("drydock:cargo:source", s.clone());
            }
        }
        sbom.components.push(c);
    }
    app
}

fn base_components(sbom: &mut Sbom, i: &Inputs<'_>) {
    let Some(b) = i.base else { return };
    let name = base_purl_name(&b.name);
    let mut c = Component::new(Kind::BaseImage, &b.name, Some(&b.digest.to_string()));
    c.id = "base".into();
    let hex = b.digest.hex();
    let mut purl = format!("pkg:oci/{}@sha256%3A{hex}", purl_escape(&name));
    if let Ok(r) = drydock_oci::Reference::parse(&b.name) {
        purl.push_str(&format!(
            "?repository_url={}",
            purl_escape(&format!("{}/{}", r.registry(), r.repository())).replace("%2F", "/")
        ));
    }
    c.purl = Some(purl);
    c.sha256 = Some(hex.to_string());
    c = c.prop("drydock:base:resolved", b.how.clone());
    sbom.components.push(c);
    let (id, version) = b
        .files
        .text("etc/os-release")
        .or_else(|| b.files.text("usr/lib/os-release"))
        .map(|t| ospkg::os_release(&t))
        .unwrap_or((None, None));
    let mut found = false;
    if let Some(t) = b.files.text("var/lib/dpkg/status") {
        found = true;
        let distro = id.clone().unwrap_or_else(|| "debian".into());
        sbom.components
            .extend(ospkg::dpkg(&t, (&distro, version.as_deref()), "base"));
    }
    for (_, t) in b.files.texts_under("var/lib/dpkg/status.d") {
        found = true;
        let distro = id.clone().unwrap_or_else(|| "debian".into());
        sbom.components
            .extend(ospkg::dpkg(&t, (&distro, version.as_deref()), "base"));
    }
    if let Some(t) = b.files.text("lib/apk/db/installed") {
        found = true;
        sbom.components
            .extend(ospkg::apk(&t, version.as_deref(), "base"));
    }
    if !found {
        sbom.notes.push(format!(
            "the base {} has no package database (dpkg or apk): its files are not listed as packages",
            b.name
        ));
    }
}

/// The last path segment of a base's name, without its tag, as a purl name.
fn base_purl_name(written: &str) -> String {
    let s = written
        .strip_prefix("docker-archive:")
        .or_else(|| written.strip_prefix("oci:"))
        .unwrap_or(written);
    let s = s.split('@').next().unwrap_or(s);
    let last = s.rsplit('/').next().unwrap_or(s);
    let last = last.split(':').next().unwrap_or(last);
    let last = last.strip_suffix(".tar").unwrap_or(last);
    last.to_ascii_lowercase()
}

fn drydock_files(sbom: &mut Sbom, i: &Inputs<'_>) {
    let version = env!("CARGO_PKG_VERSION");
    if i.project.image.helper {
        let mut h = Component::new(Kind::DrydockFile, "drydock-helper", Some(version));
        h.sha256 = Some(hex::encode(sha2::Sha256::digest(
            crate::image::helper::HELPER,
        )));
        h = h.prop("drydock:path", crate::image::helper::HELPER_PATH);
        sbom.components.push(h);
    }
    let ca = crate::image::rootfs::CA_BUNDLE_PATH;
    if !i.base.is_some_and(|b| b.files.exists(ca)) {
        let pem = crate::image::rootfs::ca_bundle_pem();
        let mut c = Component::new(
            Kind::DrydockFile,
            "ca-certificates",
            Some(WEBPKI_ROOT_CERTS_VERSION),
        );
        c.sha256 = Some(hex::encode(sha2::Sha256::digest(pem.as_bytes())));
        c.other_purls.push(format!(
            "pkg:cargo/webpki-root-certs@{WEBPKI_ROOT_CERTS_VERSION}"
        ));
        c = c
            .prop("drydock:path", format!("/{ca}"))
            .prop("drydock:ca:source", format!("Mozilla's root store (CCADB IncludedCACertificateReportPEMCSV), as the webpki-root-certs {WEBPKI_ROOT_CERTS_VERSION} crate ships it"))
            .prop("drydock:ca:certificates", webpki_root_certs::TLS_SERVER_ROOT_CERTS.len().to_string())
            .prop("drydock:ca:date", "the crate records no date: its version is the snapshot's name");
        sbom.components.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ca_bundle_version_matches_cargo_lock() {
        let lock =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.lock"))
                .unwrap();
        let lock: Lock = toml::from_str(&lock).unwrap();
        let v = lock
            .package
            .iter()
            .find(|p| p.name == "webpki-root-certs")
            .map(|p| p.version.as_str());
        assert_eq!(v, Some(WEBPKI_ROOT_CERTS_VERSION));
    }

    #[test]
    fn h1_sums_are_sha256() {
        assert_eq!(
            h1_to_sha256("h1:Vw87yZ4J91bkqtaYnCG/4tV/qDY9ar7NKdbbYn2pKyA=").map(|s| s.len()),
            Some(64)
        );
        assert_eq!(h1_to_sha256("nope"), None);
    }

    #[test]
    fn base_names() {
        assert_eq!(base_purl_name("docker-archive:/x/Debian.tar"), "debian");
        assert_eq!(base_purl_name("127.0.0.1:5000/base/debian:12"), "debian");
        assert_eq!(base_purl_name("oci:out:1"), "out");
    }
}
