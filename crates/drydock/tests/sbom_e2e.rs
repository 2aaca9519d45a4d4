//! `drydock build --sbom`: SPDX checked by spdx-tools, CycloneDX by cyclonedx-python-lib's
//! strict validator, both compared with what syft finds in the same image, on scratch and on a
//! Debian-like base with a dpkg database; and the same build twice gives the same bytes.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::Value;
use sha2::Digest as _;

fn venv(tool: &str) -> PathBuf {
    let tools = std::env::var("DRYDOCK_TOOLS").unwrap_or_else(|_| {
        format!(
            "{}/.cache/drydock-tools",
            std::env::var("HOME").unwrap_or_default()
        )
    });
    let p = Path::new(&tools).join("sbom-venv/bin").join(tool);
    assert!(
        p.is_file(),
        "{} is missing: run ./scripts/setup",
        p.display()
    );
    p
}

fn validate(spdx: &Path, cdx: &Path) {
    run_ok(Command::new(venv("pyspdxtools")).arg("-i").arg(spdx));
    let script = "import sys\nfrom cyclonedx.validation.json import JsonStrictValidator\nfrom cyclonedx.schema import SchemaVersion\ne = JsonStrictValidator(SchemaVersion.V1_6).validate_str(open(sys.argv[1]).read())\nif e is not None:\n    print(e)\n    sys.exit(1)\n";
    run_ok(Command::new(venv("python")).args(["-c", script]).arg(cdx));
}

/// (name, version) of each package syft finds in the OCI layout.
/// syft's packages of the image in the layout at `oci`. syft's `oci-dir:` takes a layout of
/// one manifest and names no ref, so it reads a copy whose index lists the image alone (the
/// build attached its SBOMs and provenance beside it).
fn syft(oci: &Path) -> Vec<(String, String)> {
    let alone = oci.with_extension("image-only");
    let _ = std::fs::remove_dir_all(&alone);
    std::fs::create_dir_all(&alone).unwrap();
    std::os::unix::fs::symlink(oci.join("blobs"), alone.join("blobs")).unwrap();
    std::fs::copy(oci.join("oci-layout"), alone.join("oci-layout")).unwrap();
    let mut index: Value =
        serde_json::from_slice(&std::fs::read(oci.join("index.json")).unwrap()).unwrap();
    let images: Vec<Value> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m.get("artifactType").is_none())
        .cloned()
        .collect();
    assert_eq!(images.len(), 1, "{index}");
    index["manifests"] = Value::Array(images);
    std::fs::write(
        alone.join("index.json"),
        serde_json::to_vec(&index).unwrap(),
    )
    .unwrap();
    let out = run_ok(
        Command::new(venv("syft"))
            .env("SYFT_CHECK_FOR_APP_UPDATE", "false")
            .arg(format!("oci-dir:{}", alone.display()))
            .args(["-o", "json", "-q"]),
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    v["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap().to_string(),
                a["version"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn components(cdx: &Path) -> Vec<Value> {
    let v: Value = serde_json::from_slice(&std::fs::read(cdx).unwrap()).unwrap();
    v["components"].as_array().unwrap().clone()
}

fn has(cs: &[Value], name: &str, version: &str) -> bool {
    cs.iter()
        .any(|c| c["name"] == name && c["version"].as_str() == Some(version))
}

/// A one-layer docker archive with an os-release and a dpkg status of three packages (one
/// removed), as a Debian base has them.
fn debian_like_base(dir: &Path) -> PathBuf {
    let mut t = tar::Builder::new(Vec::new());
    let files: &[(&str, &str)] = &[
        ("etc/os-release", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n"),
        ("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"),
        ("etc/group", "root:x:0:\n"),
        ("var/lib/dpkg/status", "Package: base-files\nStatus: install ok installed\nPriority: required\nArchitecture: amd64\nVersion: 12.4+deb12u5\nDescription: Debian base system miscellaneous files\n\nPackage: tzdata\nStatus: install ok installed\nArchitecture: all\nVersion: 2024a-0+deb12u1\nDescription: time zone and daylight-saving time data\n\nPackage: libc6\nStatus: install ok installed\nArchitecture: amd64\nSource: glibc\nVersion: 2.36-9+deb12u4\nDescription: GNU C Library: Shared libraries\n\nPackage: removed-one\nStatus: deinstall ok config-files\nArchitecture: amd64\nVersion: 1.0-1\nDescription: gone\n\n"),
    ];
    for (path, body) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(0);
        t.append_data(&mut h, path, body.as_bytes()).unwrap();
    }
    let layer = t.into_inner().unwrap();
    let diff = format!("sha256:{}", hex::encode(sha2::Sha256::digest(&layer)));
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux", "config": {},
        "rootfs": {"type": "layers", "diff_ids": [diff]}
    })
    .to_string();
    let manifest = serde_json::json!([{
        "Config": "config.json", "RepoTags": ["sbomtest/debian:12"], "Layers": ["layer.tar"]
    }])
    .to_string();
    let mut a = tar::Builder::new(Vec::new());
    for (path, body) in [
        ("layer.tar", layer.as_slice()),
        ("config.json", config.as_bytes()),
        ("manifest.json", manifest.as_bytes()),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        a.append_data(&mut h, path, body).unwrap();
    }
    let file = dir.join("debian.tar");
    std::fs::write(&file, a.into_inner().unwrap()).unwrap();
    file
}

/// Builds with `--sbom both`, validates both documents, and checks every package syft finds
/// in the same image is in drydock's SBOM. Returns the CycloneDX components.
fn build_and_check(
    dir: &Path,
    cache: &Path,
    work: &Path,
    tag: &str,
    base: Option<&Path>,
) -> Vec<Value> {
    let sboms = work.join(format!("sbom-{tag}"));
    let oci = work.join(format!("oci-{tag}"));
    let mut args = vec![
        "--sbom".to_string(),
        "both".into(),
        "--sbom-dir".into(),
        sboms.display().to_string(),
        "--output".into(),
        format!("oci:{}", oci.display()),
    ];
    if let Some(b) = base {
        args.extend(["--base".into(), format!("docker-archive:{}", b.display())]);
    }
    let mut cmd = drydock();
    cmd.arg("build")
        .arg(dir)
        .arg("--cache-dir")
        .arg(cache)
        .args(["--format", "json"])
        .args(&args);
    // The Rust example's crates, compiled once for every run of this test.
    cmd.env(
        "CARGO_TARGET_DIR",
        repo_root().join("target/sbom-e2e-cargo"),
    );
    let out = run(&mut cmd);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let name = dir.file_name().unwrap().to_str().unwrap();
    let (spdx, cdx) = (
        sboms.join(format!("{name}.spdx.json")),
        sboms.join(format!("{name}.cdx.json")),
    );
    let written: Vec<&str> = report["sbom"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        written,
        [spdx.to_str().unwrap(), cdx.to_str().unwrap()],
        "{report}"
    );
    validate(&spdx, &cdx);
    // The same documents are attached to the image in the layout (OCI 1.1 artifacts).
    let index: Value =
        serde_json::from_slice(&std::fs::read(oci.join("index.json")).unwrap()).unwrap();
    for (kind, file) in [
        ("application/spdx+json", &spdx),
        ("application/vnd.cyclonedx+json", &cdx),
    ] {
        let entry = index["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["artifactType"] == kind)
            .unwrap_or_else(|| panic!("no {kind} in {index}"));
        let blob = |d: &Value| {
            let hex = d
                .as_str()
                .unwrap()
                .strip_prefix("sha256:")
                .unwrap()
                .to_string();
            std::fs::read(oci.join("blobs/sha256").join(hex)).unwrap()
        };
        let m: Value = serde_json::from_slice(&blob(&entry["digest"])).unwrap();
        assert_eq!(m["subject"]["digest"], report["digest"], "{m}");
        let mut attached = blob(&m["layers"][0]["digest"]);
        attached.push(b'\n');
        assert_eq!(attached, std::fs::read(file).unwrap(), "{kind}");
    }
    let cs = components(&cdx);
    for (n, v) in syft(&oci) {
        // syft lists every dpkg status entry; drydock only those installed.
        if n == "removed-one" {
            continue;
        }
        assert!(
            has(&cs, &n, &v),
            "syft found {n} {v}, drydock's SBOM has not: {cs:#?}"
        );
    }
    let doc: Value = serde_json::from_slice(&std::fs::read(&cdx).unwrap()).unwrap();
    let digest = report["digest"].as_str().unwrap();
    assert_eq!(doc["metadata"]["component"]["version"], digest);
    assert_eq!(
        doc["metadata"]["component"]["purl"].as_str().unwrap(),
        format!("pkg:oci/{name}@sha256%3A{}", &digest[7..])
    );
    assert_eq!(doc["metadata"]["timestamp"], report["created"]);
    if base.is_some() {
        assert!(
            has(&cs, "libc6", "2.36-9+deb12u4") && has(&cs, "tzdata", "2024a-0+deb12u1"),
            "{cs:#?}"
        );
        assert!(!cs.iter().any(|c| c["name"] == "removed-one"));
        let libc = cs.iter().find(|c| c["name"] == "libc6").unwrap();
        assert_eq!(
            libc["purl"],
            "pkg:deb/debian/libc6@2.36-9+deb12u4?arch=amd64&distro=debian-12"
        );
        assert!(cs
            .iter()
            .any(|c| c["name"] == format!("docker-archive:{}", base.unwrap().display())));
    } else {
        let ca = cs
            .iter()
            .find(|c| c["name"] == "ca-certificates")
            .expect("the CA bundle");
        assert!(
            ca["properties"].to_string().contains("webpki-root-certs"),
            "{ca}"
        );
    }
    assert!(cs
        .iter()
        .any(|c| c["name"] == "drydock-helper" && c["hashes"][0]["alg"] == "SHA-256"));
    cs
}

#[test]
fn gin_api_in_gopath_mode_lists_gin_from_debian_and_is_deterministic() {
    require_tool("go");
    let (_t, dir) = copy_example("gin-api");
    let work = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let cs = build_and_check(&dir, cache.path(), work.path(), "scratch", None);
    // What syft misses: Gin and its dependencies, each with the Debian package it came from.
    let gin = cs
        .iter()
        .find(|c| c["name"] == "github.com/gin-gonic/gin")
        .expect("Gin is listed");
    let props = gin["properties"].to_string();
    assert!(props.contains("golang-github-gin-gonic-gin-dev"), "{gin}");
    assert!(props.contains("github.com/gin-gonic/gin/render"), "{gin}");
    assert!(cs.iter().any(|c| c["name"] == "golang.org/x/net"));
    assert!(cs
        .iter()
        .any(|c| c["name"] == "go" && c["type"] == "application"));
    let doc: Value = serde_json::from_slice(
        &std::fs::read(work.path().join("sbom-scratch/gin-api.cdx.json")).unwrap(),
    )
    .unwrap();
    assert!(doc["metadata"]["properties"]
        .to_string()
        .contains("no module versions or h1: checksums"));

    // The same build in a fresh cache, and again with the GOPATH answers from the cache, gives
    // the same bytes.
    let cache2 = tempfile::tempdir().unwrap();
    build_and_check(&dir, cache2.path(), work.path(), "again", None);
    build_and_check(&dir, cache.path(), work.path(), "cached", None);
    for again in ["sbom-again", "sbom-cached"] {
        for f in ["gin-api.spdx.json", "gin-api.cdx.json"] {
            assert_eq!(
                std::fs::read(work.path().join("sbom-scratch").join(f)).unwrap(),
                std::fs::read(work.path().join(again).join(f)).unwrap(),
                "{f} differs between two builds ({again})"
            );
        }
    }

    // On a base with a dpkg database: its packages are listed, under the base, beside Gin.
    let base = debian_like_base(work.path());
    let cs = build_and_check(&dir, cache.path(), work.path(), "debian", Some(&base));
    assert!(cs.iter().any(|c| c["name"] == "github.com/gin-gonic/gin"));

    // A file drydock did not write is never replaced (exit 2, before building).
    let foreign = work.path().join("foreign");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("gin-api.spdx.json"), "{}\n").unwrap();
    let o = run(drydock()
        .arg("build")
        .arg(&dir)
        .arg("--cache-dir")
        .arg(cache.path())
        .arg("--sbom-dir")
        .arg(&foreign));
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("will not replace"));
    assert_eq!(
        std::fs::read_to_string(foreign.join("gin-api.spdx.json")).unwrap(),
        "{}\n"
    );
}

#[test]
fn axum_api_lists_its_crates_with_checksums() {
    require_tool("cargo");
    let (_t, dir) = copy_example("axum-api");
    let work = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let cs = build_and_check(&dir, cache.path(), work.path(), "scratch", None);
    let lock = std::fs::read_to_string(dir.join("Cargo.lock")).unwrap();
    let axum = cs
        .iter()
        .find(|c| c["name"] == "axum")
        .expect("axum is listed");
    let sum = axum["hashes"][0]["content"].as_str().unwrap();
    assert!(lock.contains(&format!("checksum = \"{sum}\"")), "{axum}");
    assert!(axum["purl"]
        .as_str()
        .unwrap()
        .starts_with("pkg:cargo/axum@"));
    assert!(cs.iter().any(|c| c["name"] == "rustc"));
    let app = cs.iter().find(|c| c["name"] == "axum-api").unwrap();
    assert_eq!(app["type"], "application");
    let base = debian_like_base(work.path());
    build_and_check(&dir, cache.path(), work.path(), "debian", Some(&base));
}
