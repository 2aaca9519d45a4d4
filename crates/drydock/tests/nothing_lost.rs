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
    assert_eq!(names, vec!["gin-api:one", "gin-api:two"], "{index}");
    // Both images are complete: skopeo reads and copies each, verifying every blob.
    for tag in ["gin-api:one", "gin-api:two"] {
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

/// The same tag under another name is another image (`api:1.0`, then `worker:1.0`): both stay,
/// and skopeo and umoci read each by its name.
#[test]
fn same_tag_different_names_stay_two_images() {
    require_tool("skopeo");
    require_tool("umoci");
    let (_t, dir) = copy_example("gin-api");
    let cache = tempfile::tempdir().unwrap();
    let t = tempfile::tempdir().unwrap();
    let layout = t.path().join("layout");
    let oci = format!("oci:{}", layout.display());
    let mut digests = Vec::new();
    for (name, body) in [("api", "\"ok\""), ("worker", "\"worker-ok\"")] {
        let main = dir.join("main.go");
        let src = std::fs::read_to_string(&main).unwrap();
        std::fs::write(&main, src.replace("\"ok\"", body)).unwrap();
        let r = build_json(
            &dir,
            cache.path(),
            &["--output", &oci, "--tag", &format!("{name}:1.0")],
        );
        digests.push(r["digest"].as_str().unwrap().to_string());
    }
    assert_ne!(digests[0], digests[1]);
    for (name, want) in ["api", "worker"].iter().zip(&digests) {
        let out = Command::new("skopeo")
            .args(["inspect", &format!("oci:{}:{name}:1.0", layout.display())])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["Digest"].as_str(), Some(want.as_str()), "{name}");
    }
    let out = Command::new("umoci")
        .args(["ls", "--layout"])
        .arg(&layout)
        .output()
        .unwrap();
    let ls = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(ls.contains("api:1.0") && ls.contains("worker:1.0"), "{ls}");
}

/// docker-archive:FILE over `docker save`'s archive of other images is refused, byte for byte
/// and mode for mode; over an earlier build of the same image it is replaced and keeps its mode.
#[test]
fn docker_archives_of_other_images_are_refused() {
    let (_t, dir) = copy_example("gin-api");
    let cache = tempfile::tempdir().unwrap();
    let t = tempfile::tempdir().unwrap();
    // Two tiny images, made here (nothing can be pulled), saved into one archive.
    let rootfs = t.path().join("rootfs.tar");
    {
        let mut b = tar::Builder::new(std::fs::File::create(&rootfs).unwrap());
        let mut h = tar::Header::new_gnu();
        h.set_size(2);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, "hello", &b"hi"[..]).unwrap();
        b.finish().unwrap();
    }
    let pid = std::process::id();
    let tags = [
        format!("drydock-data-a:{pid}"),
        format!("drydock-data-b:{pid}"),
    ];
    for tag in &tags {
        run_ok(engine("docker").arg("import").arg(&rootfs).arg(tag));
    }
    let saved = t.path().join("saved.tar");
    let out = run(engine("docker")
        .arg("save")
        .arg("-o")
        .arg(&saved)
        .args(&tags));
    let single = t.path().join("single.tar");
    let out1 = run(engine("docker")
        .arg("save")
        .arg("-o")
        .arg(&single)
        .arg(&tags[0]));
    for tag in &tags {
        let _ = run(engine("docker").args(["rmi", "-f", tag]));
    }
    assert!(out.status.success() && out1.status.success());
    for archive in [&saved, &single] {
        std::fs::set_permissions(archive, std::fs::Permissions::from_mode(0o600)).unwrap();
        let before = std::fs::read(archive).unwrap();
        let out = build(
            &dir,
            cache.path(),
            &["--output", &format!("docker-archive:{}", archive.display())],
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains(&tags[0]) && err.contains("would replace"),
            "{err}"
        );
        assert_eq!(std::fs::read(archive).unwrap(), before, "untouched");
        assert_eq!(
            std::fs::metadata(archive).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // drydock's own archive of gin-api, made 0600 by its owner: a new build replaces it, and
    // it stays 0600.
    let mine = t.path().join("mine.tar");
    let spec = format!("docker-archive:{}", mine.display());
    let out = build(&dir, cache.path(), &["--output", &spec]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::set_permissions(&mine, std::fs::Permissions::from_mode(0o600)).unwrap();
    let first = std::fs::read(&mine).unwrap();
    let main = dir.join("main.go");
    let src = std::fs::read_to_string(&main).unwrap();
    std::fs::write(&main, src.replace("\"ok\"", "\"ok2\"")).unwrap();
    let out = build(&dir, cache.path(), &["--output", &spec]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_ne!(std::fs::read(&mine).unwrap(), first, "replaced");
    assert_eq!(
        std::fs::metadata(&mine).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // The same archive under another tag would lose gin-api: refused.
    let out = build(&dir, cache.path(), &["--output", &spec, "--tag", "other:1"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("gin-api:latest"), "{err}");
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

/// `rules --write-docs DIR` replaces only the pages it wrote: in a project root it refuses to
/// touch README.md (or a CODE.md of the user's), writes nothing, and says which file; --force
/// overrides; its own pages, old or new, are rewritten.
#[test]
fn rule_docs_never_replace_a_projects_files() {
    let t = tempfile::tempdir().unwrap();
    let readme = t.path().join("README.md");
    std::fs::write(&readme, "# my project\n").unwrap();
    let write_docs = |args: &[&str]| {
        run(drydock()
            .args(["rules", "--write-docs"])
            .arg(t.path())
            .args(args))
    };
    let out = write_docs(&[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("README.md") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&readme).unwrap(), "# my project\n");
    assert_eq!(
        std::fs::read_dir(t.path()).unwrap().count(),
        1,
        "nothing written"
    );
    // JSON: the error object names the file.
    let out = run(drydock()
        .args(["rules", "--format", "json", "--write-docs"])
        .arg(t.path()));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "input");
    assert!(
        v["error"]["path"].as_str().unwrap().ends_with("README.md"),
        "{v}"
    );
    // A page of the user's with a rule's name: refused the same way.
    std::fs::remove_file(&readme).unwrap();
    let page = t.path().join("DF001.md");
    std::fs::write(&page, "my notes on DF001\n").unwrap();
    let out = write_docs(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        std::fs::read_to_string(&page).unwrap(),
        "my notes on DF001\n"
    );
    // --force replaces it; then, without --force, drydock's own pages are rewritten, and so is
    // a page written before pages carried the mark (it starts with the rule's title).
    assert!(write_docs(&["--force"]).status.success());
    let generated = std::fs::read_to_string(&page).unwrap();
    assert!(
        generated.contains("Generated by `drydock rules --write-docs"),
        "{generated}"
    );
    let old_style = generated.lines().skip(1).collect::<Vec<_>>().join("\n") + "\nstale\n";
    std::fs::write(&page, &old_style).unwrap();
    std::fs::write(t.path().join("README.md"), "# drydock lint rules\n\nGenerated by `drydock rules --write-docs docs/rules`; do not edit by hand.\nstale\n").unwrap();
    let out = write_docs(&[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&page).unwrap(), generated);
    assert!(!std::fs::read_to_string(t.path().join("README.md"))
        .unwrap()
        .contains("stale"));
}

/// A deploy that fails midway (here a file where a directory must go, as a full disk would
/// fail it) writes nothing and leaves no record behind; once the cause is gone the same deploy
/// succeeds. Files already holding what drydock writes (a deploy that stopped before its
/// record) are taken as drydock's, not refused.
#[test]
fn a_failed_deploy_changes_nothing_and_a_retry_works() {
    let (_t, dir) = copy_example("gin-api");
    let cache = tempfile::tempdir().unwrap();
    let out_dir = dir.join("deploy");
    std::fs::create_dir(&out_dir).unwrap();
    // kubernetes/ and compose/ come before docker/, which cannot be made.
    std::fs::write(out_dir.join("docker"), "in the way\n").unwrap();
    let out = deploy(&dir, cache.path(), &["--tls", "self-signed"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("deploy/docker/Dockerfile"), "{err}");
    assert_eq!(
        snapshot(&out_dir),
        vec![("docker".to_string(), b"in the way\n".to_vec())],
        "nothing written, no record, no temp files"
    );
    assert_eq!(
        std::fs::read_dir(&out_dir).unwrap().count(),
        1,
        "no directory left"
    );
    std::fs::remove_file(out_dir.join("docker")).unwrap();
    let out = deploy(&dir, cache.path(), &["--tls", "self-signed"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("kept"), "{err}");
    let written = snapshot(&out_dir);
    // The record lost (an older drydock stopped before writing it): a retry takes the files
    // that hold what it writes as its own, and keeps the key pair.
    std::fs::remove_file(out_dir.join(".drydock-deploy.json")).unwrap();
    let out = deploy(&dir, cache.path(), &["--tls", "self-signed"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("not written by drydock"), "{err}");
    let files = |s: Vec<(String, Vec<u8>)>| -> Vec<(String, Vec<u8>)> {
        s.into_iter()
            .filter(|(n, _)| n != ".drydock-deploy.json")
            .collect()
    };
    assert!(
        files(snapshot(&out_dir)) == files(written),
        "the same files"
    );
}

/// A corrupt record is an error naming it and the fix (exit 2), not an empty record that makes
/// every file "not written by drydock".
#[test]
fn a_corrupt_deploy_record_is_a_clear_error() {
    let (_t, dir) = copy_example("gin-api");
    let cache = tempfile::tempdir().unwrap();
    assert!(deploy(&dir, cache.path(), &["--target", "k8s"])
        .status
        .success());
    let record = dir.join("deploy/.drydock-deploy.json");
    for garbage in ["{\"files\": {\"kubernetes/deployment.yaml\": ", "[]"] {
        std::fs::write(&record, garbage).unwrap();
        let out = deploy(&dir, cache.path(), &["--target", "k8s", "--format", "json"]);
        assert_eq!(out.status.code(), Some(2));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["error"]["kind"], "input", "{v}");
        assert!(
            v["error"]["path"]
                .as_str()
                .unwrap()
                .ends_with(".drydock-deploy.json"),
            "{v}"
        );
        assert!(
            v["error"]["fix"].as_str().unwrap().contains("remove it"),
            "{v}"
        );
        assert_eq!(
            std::fs::read_to_string(&record).unwrap(),
            garbage,
            "left for the user"
        );
    }
    // --force rewrites it.
    let out = deploy(&dir, cache.path(), &["--target", "k8s", "--force"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&record).unwrap()).unwrap();
    assert!(v["files"]["kubernetes/deployment.yaml"].is_string(), "{v}");
}

/// The cache is the same: `--cache-dir` naming a directory of someone else's files is refused
/// (exit 2, nothing created in it); a sparse file of the project stays sparse in the cache's
/// copy of the context.
#[test]
fn the_cache_is_made_only_where_it_is_drydocks() {
    use std::os::unix::fs::MetadataExt;
    let (_t, dir) = copy_example("gin-api");
    let before = snapshot(&dir);
    let out = build(&dir, &dir, &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("not drydock's cache"), "{err}");
    assert_eq!(snapshot(&dir), before, "nothing created in the project");
    // A 4 GiB file that is one hole and a line of data.
    let img = dir.join("disk.img");
    let f = std::fs::File::create(&img).unwrap();
    f.set_len(4 << 30).unwrap();
    std::os::unix::fs::FileExt::write_at(&f, b"data", 1 << 31).unwrap();
    drop(f);
    let cache = tempfile::tempdir().unwrap();
    let out = build(&dir, cache.path(), &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let copies: Vec<_> = walk(cache.path())
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n == "disk.img"))
        .collect();
    assert_eq!(copies.len(), 1, "the context's copy: {copies:?}");
    let m = std::fs::metadata(&copies[0]).unwrap();
    assert_eq!(m.len(), 4 << 30);
    assert!(
        m.blocks() * 512 < 1 << 20,
        "{} bytes allocated",
        m.blocks() * 512
    );
    assert!(cache.path().join("CACHEDIR.TAG").is_file());
    // The cache, now tagged, is used again.
    let out = build(&dir, cache.path(), &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
