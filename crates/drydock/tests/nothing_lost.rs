//! Nothing lost: outputs never replace what drydock did not write, deploy keeps files edited
//! since it wrote them, and a self-signed key pair survives a second deploy.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use common::*;

fn build(dir: &Path, cache: &Path, args: &[&str]) -> std::process::Output {
    run(test_env(
        drydock()
            .arg("build")
            .arg(dir)
            .arg("--cache-dir")
            .arg(cache)
            .args(args),
    ))
}

fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = walk(dir)
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap_or_default();
            (p.strip_prefix(dir).unwrap().display().to_string(), bytes)
        })
        .collect();
    v.sort();
    v
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn oci_outputs_never_replace_what_drydock_did_not_write() {
    let (_t, dir) = copy_example("gin-api");
    let cache = tempfile::tempdir().unwrap();
    let before = snapshot(&dir);
    // Into the project's own directory: refused, exit 2, the sources untouched.
    let out = build(
        &dir,
        cache.path(),
        &["--output", &format!("oci:{}", dir.display())],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("is not empty and is not an OCI image layout"),
        "{err}"
    );
    assert_eq!(snapshot(&dir), before, "the project is untouched");
    // `oci:.` from inside it: the same, and no temp directory left behind.
    let out = run(test_env(
        drydock()
            .current_dir(&dir)
            .args(["build", ".", "--output", "oci:."])
            .arg("--cache-dir")
            .arg(cache.path()),
    ));
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(snapshot(&dir), before);
    // A directory of unrelated files, and a file.
    let t = tempfile::tempdir().unwrap();
    let other = t.path().join("notes");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("todo.txt"), "mine").unwrap();
    let file = t.path().join("file.txt");
    std::fs::write(&file, "mine").unwrap();
    for target in [&other, &file] {
        let out = build(
            &dir,
            cache.path(),
            &["--output", &format!("oci:{}", target.display())],
        );
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(
        std::fs::read_to_string(other.join("todo.txt")).unwrap(),
        "mine"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");
    // docker-archive:FILE over a file that is not an archive: refused too.
    let out = build(
        &dir,
        cache.path(),
        &["--output", &format!("docker-archive:{}", file.display())],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");
    let leftovers: Vec<_> = std::fs::read_dir(t.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".drydock"))
        .collect();
    assert!(leftovers.is_empty(), "no temp files left: {leftovers:?}");
}

#[test]
fn an_existing_layout_gains_the_image_and_keeps_the_others() {
    require_tool("skopeo");
    let (_t, dir) = copy_example("gin-api");
    let cache = tempfile::tempdir().unwrap();
    let t = tempfile::tempdir().unwrap();
    let layout = t.path().join("layout");
    // An empty directory is fine.
    std::fs::create_dir(&layout).unwrap();
    let oci = format!("oci:{}", layout.display());
    let out = build(
        &dir,
        cache.path(),
        &["--output", &oci, "--tag", "gin-api:one"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A second image, tagged differently, after a change.
    let main = dir.join("main.go");
    let src = std::fs::read_to_string(&main).unwrap();
    std::fs::write(&main, src.replace("\"ok\"", "\"ok2\"")).unwrap();
    let out = build(
        &dir,
        cache.path(),
        &["--output", &oci, "--tag", "gin-api:two"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let names: Vec<&str> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            m["annotations"]["org.opencontainers.image.ref.name"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(names, vec!["one", "two"], "{index}");
    // Both images are complete: skopeo reads and copies each, verifying every blob.
    for tag in ["one", "two"] {
        let dest = t.path().join(format!("copy-{tag}"));
        let out = Command::new("skopeo")
            .args([
                "copy",
                &format!("oci:{}:{tag}", layout.display()),
                &format!("oci:{}:{tag}", dest.display()),
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{tag}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The same tag again replaces its own entry only.
    let out = build(
        &dir,
        cache.path(),
        &["--output", &oci, "--tag", "gin-api:two"],
    );
    assert!(out.status.success());
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["manifests"].as_array().unwrap().len(), 2, "{index}");
}

fn deploy(dir: &Path, cache: &Path, args: &[&str]) -> std::process::Output {
    run(test_env(
        drydock()
            .arg("deploy")
            .arg(dir)
            .arg("--cache-dir")
            .arg(cache)
            .args(args),
    ))
}

#[test]
fn deploy_keeps_edited_files_and_the_key_pair() {
    let (_t, dir) = copy_example("gin-api");
    let cache = tempfile::tempdir().unwrap();
    let out = deploy(&dir, cache.path(), &["--tls", "self-signed"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = dir.join("deploy/compose/certs/tls.key");
    let crt = dir.join("deploy/compose/certs/tls.crt");
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let (key1, crt1) = (std::fs::read(&key).unwrap(), std::fs::read(&crt).unwrap());
    // The user edits one manifest; another file is not touched.
    let edited = dir.join("deploy/kubernetes/deployment.yaml");
    let mut text = std::fs::read_to_string(&edited).unwrap();
    text.push_str("# my change\n");
    std::fs::write(&edited, &text).unwrap();
    // A change to drydock.toml changes what deploy would write.
    let toml = dir.join("drydock.toml");
    let cfg = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(&toml, cfg.replace("min_replicas = 2", "min_replicas = 3")).unwrap();
    let out = deploy(&dir, cache.path(), &["--tls", "self-signed"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("kept") && err.contains("deployment.yaml: edited since drydock wrote it"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&edited).unwrap(),
        text,
        "the edit is kept"
    );
    // Unedited files follow the new config.
    let hpa = std::fs::read_to_string(dir.join("deploy/kubernetes/hpa.yaml")).unwrap();
    assert!(hpa.contains("minReplicas: 3"), "{hpa}");
    // The key pair is the same.
    assert_eq!(std::fs::read(&key).unwrap(), key1);
    assert_eq!(std::fs::read(&crt).unwrap(), crt1);
    // A file drydock never wrote is not replaced either.
    let foreign = dir.join("deploy/docker/Dockerfile");
    std::fs::remove_file(dir.join("deploy/.drydock-deploy.json")).unwrap();
    std::fs::write(&foreign, "FROM mine\n").unwrap();
    let out = deploy(&dir, cache.path(), &["--target", "dockerfile"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not written by drydock"), "{err}");
    assert_eq!(std::fs::read_to_string(&foreign).unwrap(), "FROM mine\n");
    // --force replaces both, and makes a new key pair.
    let out = deploy(&dir, cache.path(), &["--tls", "self-signed", "--force"]);
    assert!(out.status.success());
    assert!(!std::fs::read_to_string(&edited)
        .unwrap()
        .contains("# my change"));
    assert!(std::fs::read_to_string(&foreign)
        .unwrap()
        .contains("drydock deploy"));
    assert_ne!(std::fs::read(&key).unwrap(), key1);
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
}
