//! Multi-platform builds (`--platform linux/amd64,linux/arm64`): an image index written to every
//! output, real cross-compiles (Go with GOARCH, Rust for aarch64-unknown-linux-musl linked by
//! rust-lld), the arm64 images run in the Docker Engine under Debian's qemu-user-static (the
//! binfmt handler scripts/setup enables), a registry push pulled back by this amd64 engine, and
//! a base index used platform by platform.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::*;
use drydock_oci::{BlobStore, DirStore, ImageBuilder, ImageIndex, Layer, Platform, Reference};

const BOTH: &str = "linux/amd64,linux/arm64";

/// The one index entry of a layout, and the index it points at.
fn layout_index(dir: &Path) -> (serde_json::Value, serde_json::Value) {
    let top: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let entries = top["manifests"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{top}");
    let digest = entries[0]["digest"].as_str().unwrap();
    let blob = dir.join("blobs/sha256").join(&digest["sha256:".len()..]);
    (
        entries[0].clone(),
        serde_json::from_slice(&std::fs::read(blob).unwrap()).unwrap(),
    )
}

/// The platforms an index lists, and each one's manifest digest.
fn platforms_of(index: &serde_json::Value) -> Vec<(String, String)> {
    index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                format!(
                    "{}/{}",
                    m["platform"]["os"].as_str().unwrap(),
                    m["platform"]["architecture"].as_str().unwrap()
                ),
                m["digest"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Loads a docker archive, returning the image ID docker gave it.
fn docker_load(archive: &Path) -> String {
    let out = run_ok(engine("docker").arg("load").arg("-i").arg(archive));
    out.lines()
        .find_map(|l| l.strip_prefix("Loaded image: "))
        .unwrap_or_else(|| panic!("docker load said {out}"))
        .trim()
        .to_string()
}

/// Builds `example` for both platforms into a layout and per-platform archives, checks the
/// index, that its amd64 manifest is the single-platform build's, and that the arm64 image
/// serves /healthz in Docker under emulation with the helper setting the Go limits and
/// forwarding `docker stop`'s SIGTERM.
fn both_platforms(example: &str, env: &[&str], shutdown_line: &str) {
    require_tool("qemu-aarch64-static");
    let (_t, dir) = copy_example(example);
    let work = tempfile::tempdir().unwrap();
    let cache = work.path().join("cache");
    let layout = work.path().join("oci");
    let archive = work.path().join("app.tar");
    let tag = format!("drydock-platforms-{example}:1");
    let report = build_json(
        &dir,
        &cache,
        &[
            "--platform",
            BOTH,
            "--tag",
            &tag,
            "--output",
            &format!("oci:{}", layout.display()),
            "--output",
            &format!("docker-archive:{}", archive.display()),
        ],
    );
    let (entry, index) = layout_index(&layout);
    assert_eq!(
        entry["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    assert_eq!(entry["digest"], report["digest"]);
    assert_eq!(report["index_media_type"], entry["mediaType"]);
    let listed = platforms_of(&index);
    assert_eq!(
        listed.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(),
        ["linux/amd64", "linux/arm64"]
    );
    let reported: Vec<_> = report["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["platform"].as_str().unwrap().to_string(),
                p["digest"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(reported, listed);
    assert_eq!(report["platform"], "linux/amd64");

    // skopeo reads the layout's index as one.
    let raw = run_ok(Command::new("skopeo").args([
        "inspect",
        "--raw",
        &format!("oci:{}:{tag}", layout.display()),
    ]));
    let raw: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(platforms_of(&raw), listed);

    // The amd64 manifest is the one a single-platform build makes, byte for byte.
    let single = build_json(&dir, &cache, &["--tag", &tag]);
    assert_eq!(single["digest"].as_str().unwrap(), listed[0].1);
    assert_eq!(single["binary"]["cached"], true, "the same compile, cached");

    // Each archive holds its platform's image, its binary built for that machine.
    for (platform, arch, machine) in [
        ("linux-amd64", "amd64", 62u16),
        ("linux-arm64", "arm64", 183u16),
    ] {
        let file = work.path().join(format!("app-{platform}.tar"));
        let (_, config, files) = read_docker_archive(&file);
        assert_eq!(config["architecture"], arch);
        let name = report_binary_name(&report);
        let bin = &files[&format!("/app/{name}")].data;
        assert_eq!(
            u16::from_le_bytes([bin[18], bin[19]]),
            machine,
            "{platform}"
        );
        let helper = &files["/usr/local/bin/drydock-helper"].data;
        assert_eq!(u16::from_le_bytes([helper[18], helper[19]]), machine);
    }
    assert!(
        !archive.exists(),
        "one archive per platform, none under the plain name"
    );

    // The arm64 image, run as arm64 on this amd64 engine.
    let id = docker_load(&work.path().join("app-linux-arm64.tar"));
    let port = free_port();
    let mut args = vec![
        "--platform".to_string(),
        "linux/arm64".into(),
        "--cpus".into(),
        "1.5".into(),
        "--memory".into(),
        "128m".into(),
        "-p".into(),
        format!("127.0.0.1:{port}:8080"),
    ];
    for e in env {
        args.push("-e".into());
        args.push(e.to_string());
    }
    args.push(id.clone());
    let c = Container::run(
        "docker",
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert_eq!(c.inspect("{{.Platform}}"), "linux");
    let image_arch =
        run_ok(engine("docker").args(["image", "inspect", "--format", "{{.Architecture}}", &id]));
    assert_eq!(image_arch.trim(), "arm64");
    if let Err(e) = wait_http(port, "/healthz", 200, Duration::from_secs(60)) {
        panic!("{e}\n{}", c.logs());
    }
    let logs = c.logs();
    if example == "gin-api" {
        assert!(
            logs.contains("GOMAXPROCS=2 (CPU limit 1.50)") && logs.contains("GOMEMLIMIT="),
            "{logs}"
        );
    }
    run_ok(engine("docker").args(["stop", "-t", "20", &c.id]));
    let logs = c.logs();
    assert!(
        logs.contains(shutdown_line),
        "SIGTERM reached the app:\n{logs}"
    );
    assert_eq!(c.inspect("{{.State.ExitCode}}"), "0", "{logs}");
    drop(c);
    let _ = run(engine("docker").args(["rmi", "-f", &id]));
}

fn report_binary_name(report: &serde_json::Value) -> String {
    Path::new(report["binary"]["path"].as_str().unwrap())
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

#[test]
fn gin_api_for_amd64_and_arm64_runs_on_arm64_under_emulation() {
    both_platforms("gin-api", &["API_TOKEN=t"], "shut down cleanly");
}

#[test]
fn axum_api_for_amd64_and_arm64_runs_on_arm64_under_emulation() {
    both_platforms(
        "axum-api",
        &["API_TOKEN=t"],
        "axum-api: received SIGTERM, shutting down",
    );
}

#[test]
fn a_pushed_index_is_an_index_and_this_engine_pulls_its_amd64_image() {
    let registry = Registry::start(None);
    let (_t, dir) = copy_example("gin-api");
    let cache = tempfile::tempdir().unwrap();
    let reference = format!("{}/platforms/gin:1", registry.host());
    let report = build_json(
        &dir,
        cache.path(),
        &["--platform", BOTH, "--push", &reference],
    );
    let raw = run_ok(Command::new("skopeo").args([
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("docker://{reference}"),
    ]));
    let raw: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(raw["mediaType"], "application/vnd.oci.image.index.v1+json");
    let listed = platforms_of(&raw);
    assert_eq!(listed.len(), 2);
    assert!(report["pushed"][0]["reference"]
        .as_str()
        .unwrap()
        .ends_with(report["digest"].as_str().unwrap()));
    // Blobs both platforms share (the root files, the assets) went up once.
    let pushed = &report["pushed"][0];
    let sent: Vec<&str> = pushed["uploaded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u[0].as_str().unwrap())
        .collect();
    let mut unique = sent.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), sent.len(), "{sent:?}");

    // Docker on this amd64 machine takes the amd64 manifest from the index.
    run_ok(engine("docker").args(["pull", "-q", &reference]));
    let inspected = run_ok(engine("docker").args([
        "image",
        "inspect",
        "--format",
        "{{.Architecture}} {{index .RepoDigests 0}}",
        &reference,
    ]));
    let _ = run(engine("docker").args(["rmi", "-f", &reference]));
    assert!(inspected.starts_with("amd64 "), "{inspected}");

    // Pushing the same again sends nothing.
    let again = build_json(
        &dir,
        cache.path(),
        &["--platform", BOTH, "--push", &reference],
    );
    assert_eq!(again["digest"], report["digest"]);
    assert_eq!(again["pushed"][0]["uploaded"].as_array().unwrap().len(), 0);

    // `drydock push` of a multi-platform layout pushes the index, the same digest as the build's.
    let layout = cache.path().join("layout");
    build_json(
        &dir,
        cache.path(),
        &[
            "--platform",
            BOTH,
            "--output",
            &format!("oci:{}", layout.display()),
        ],
    );
    let copy = format!("{}/platforms/copy:1", registry.host());
    let pushed: serde_json::Value = serde_json::from_str(&run_ok(drydock().args([
        "push",
        &format!("oci:{}:gin-api:latest", layout.display()),
        &copy,
        "--format",
        "json",
    ])))
    .unwrap();
    assert_eq!(pushed["digest"], report["digest"]);
    let raw = run_ok(Command::new("skopeo").args([
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("docker://{copy}"),
    ]));
    let raw: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(platforms_of(&raw), listed);
}

/// A base image for both platforms, made here: each platform's image carries a file naming
/// its architecture, so the built images show which base each got.
fn base_index(dir: &Path, platforms: &[&str]) {
    let store = DirStore::create(&dir.join("store")).unwrap();
    let mut images = Vec::new();
    for p in platforms {
        let platform = Platform::parse(p).unwrap();
        let mut tar = tar::Builder::new(Vec::new());
        let body = format!("{p}\n");
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(0);
        h.set_cksum();
        tar.append_data(&mut h, "etc/base-platform", body.as_bytes())
            .unwrap();
        let layer = tar.into_inner().unwrap();
        let digest = store.put(&layer).unwrap();
        let mut b = ImageBuilder::scratch(&platform);
        b.append_layer(
            Layer {
                digest: digest.clone(),
                diff_id: digest,
                size: layer.len() as u64,
                media_type: "application/vnd.oci.image.layer.v1.tar".into(),
            },
            "1970-01-01T00:00:00Z",
            "base",
        );
        images.push((platform, b.build(&store).unwrap()));
    }
    let index = ImageIndex::build(&store, images).unwrap();
    use drydock_oci::Publisher;
    drydock_oci::layout::OciLayout {
        dir: dir.join("base"),
    }
    .publish(&drydock_oci::PublishRequest {
        store: &store,
        image: &index.images[0].1,
        index: Some(&index),
        tag: &Reference::parse("base:1").unwrap(),
        created: 0,
        sources: &[],
    })
    .unwrap();
}

#[test]
fn a_base_index_gives_each_platform_its_own_base_and_all_takes_its_platforms() {
    let (_t, dir) = copy_example("gin-api");
    let work = tempfile::tempdir().unwrap();
    base_index(
        work.path(),
        &["linux/amd64", "linux/arm64", "linux/riscv64"],
    );
    let base = format!("oci:{}:base:1", work.path().join("base").display());
    let cache = work.path().join("cache");
    let out = work.path().join("out");
    let report = build_json(
        &dir,
        &cache,
        &[
            "--base",
            &base,
            "--platform",
            "all",
            "--output",
            &format!("oci:{}", out.display()),
        ],
    );
    // riscv64 is the base's, but drydock has no helper for it: left out, with a warning.
    let platforms: Vec<&str> = report["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["platform"].as_str().unwrap())
        .collect();
    assert_eq!(platforms, ["linux/amd64", "linux/arm64"]);
    assert!(
        report["warnings"].to_string().contains("linux/riscv64"),
        "{}",
        report["warnings"]
    );
    let (_, index) = layout_index(&out);
    for (platform, manifest) in platforms_of(&index) {
        let store = DirStore::open_existing(&out.join("blobs"));
        let d = drydock_oci::Digest::parse(&manifest).unwrap();
        let m: serde_json::Value = serde_json::from_slice(&store.read(&d).unwrap()).unwrap();
        // The first layer is the base's, whose one file names its platform.
        let first = drydock_oci::Digest::parse(m["layers"][0]["digest"].as_str().unwrap()).unwrap();
        let mut a = tar::Archive::new(std::io::Cursor::new(store.read(&first).unwrap()));
        let mut e = a.entries().unwrap().next().unwrap().unwrap();
        let mut s = String::new();
        std::io::Read::read_to_string(&mut e, &mut s).unwrap();
        assert_eq!(s.trim(), platform);
        assert_eq!(
            m["annotations"]["org.opencontainers.image.base.name"],
            base.as_str()
        );
    }
}

#[test]
fn platforms_that_cannot_be_built_are_refused_with_what_to_do() {
    let (_t, dir) = copy_example("gin-api");
    let work = tempfile::tempdir().unwrap();
    let cache = work.path().join("cache");
    let fails = |args: &[&str], says: &str| {
        let out = run(drydock()
            .arg("build")
            .arg(&dir)
            .arg("--cache-dir")
            .arg(&cache)
            .args(args));
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        // A value clap refuses gets its usage line; the others, drydock's fix.
        let usage = err.contains("--help");
        assert!(
            err.contains(says) && (usage || err.contains("fix:")),
            "{args:?}: {err}"
        );
    };
    // A base without the platform asked for names what it has.
    base_index(work.path(), &["linux/amd64"]);
    let base = format!("oci:{}:base:1", work.path().join("base").display());
    fails(
        &["--base", &base, "--platform", BOTH],
        "has no image for linux/arm64; it has linux/amd64",
    );
    fails(&["--platform", "linux/riscv64"], "linux/riscv64");
    // Without the helper too: refused before any compile, and nothing staged for it.
    fails(
        &["--platform", "windows/amd64", "--no-helper"],
        "drydock does not build for windows/amd64",
    );
    assert!(
        !cache.join("stage/go-gin-api-windows-amd64").exists(),
        "no stage for a refused platform"
    );
    fails(&["--platform", "linux/amd64,linux/amd64"], "named twice");
    fails(&["--platform", "amd64"], "is not a platform");
    // A prebuilt amd64 binary is not an arm64 image.
    let bin = work.path().join("app");
    std::fs::copy("/bin/busybox", &bin).unwrap();
    fails(
        &[
            "--binary",
            bin.to_str().unwrap(),
            "--platform",
            "linux/arm64",
        ],
        "is built for x86-64, not linux/arm64",
    );
    fails(
        &["--binary", bin.to_str().unwrap(), "--platform", BOTH],
        "a prebuilt binary",
    );
    // [image] platforms in drydock.toml is read, and checked.
    let toml = dir.join("drydock.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(
        &toml,
        text.replacen(
            "[image]",
            "[image]\nplatforms = [\"linux/arm64\", \"x\"]",
            1,
        ),
    )
    .unwrap();
    fails(&[], "image.platforms");
    std::fs::write(
        &toml,
        text.replacen("[image]", "[image]\nplatforms = [\"linux/arm64\"]", 1),
    )
    .unwrap();
    let r = build_json(&dir, &cache, &[]);
    assert_eq!(r["platform"], "linux/arm64");
    assert_eq!(r["platforms"].as_array().unwrap().len(), 1);
    let arm64_helper =
        drydock::image::helper::for_platform(&Platform::parse("linux/arm64").unwrap()).unwrap();
    assert_eq!(
        r["helper_size"],
        arm64_helper.len(),
        "the arm64 helper's size"
    );
    // --platform wins over the file.
    let r = build_json(&dir, &cache, &["--platform", "linux/amd64"]);
    assert_eq!(r["platform"], "linux/amd64");
}

#[test]
fn each_platform_is_cached_on_its_own_and_a_change_recompiles_both() {
    let (_t, dir) = copy_example("gin-api");
    let cache = tempfile::tempdir().unwrap();
    let cached = |r: &serde_json::Value| -> Vec<bool> {
        r["platforms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["binary"]["cached"].as_bool().unwrap())
            .collect()
    };
    let first = build_json(&dir, cache.path(), &["--platform", BOTH]);
    assert_eq!(cached(&first), [false, false]);
    let again = build_json(&dir, cache.path(), &["--platform", BOTH]);
    assert_eq!(cached(&again), [true, true]);
    assert_eq!(again["digest"], first["digest"], "reproducible");
    // arm64 alone reuses its compile from the two-platform build.
    let arm = build_json(&dir, cache.path(), &["--platform", "linux/arm64"]);
    assert_eq!(cached(&arm), [true]);
    assert_eq!(arm["digest"], first["platforms"][1]["digest"]);
    let main = dir.join("main.go");
    let src = std::fs::read_to_string(&main).unwrap();
    std::fs::write(&main, format!("{src}\n// a change\nvar _ = 1\n")).unwrap();
    let changed = build_json(&dir, cache.path(), &["--platform", BOTH]);
    assert_eq!(cached(&changed), [false, false]);
    assert_ne!(changed["digest"], first["digest"]);
}

/// `--sbom`, `--sbom-dir` and `--sign` with several platforms: one SBOM per platform (its file
/// named with the platform), the SBOMs and the signed provenance of both platforms attached to
/// the index (in the layout and in the registry), the index signed; `drydock verify` of the tag
/// vouches for all three, and each statement names its platform's image and the index.
#[test]
fn a_multi_platform_build_is_attested_and_signed_on_its_index() {
    const PASSWORD: &str = "dd-platforms-Pw-31c9";
    let registry = Registry::start(None);
    let (_t, dir) = copy_example("gin-api");
    let work = tempfile::tempdir().unwrap();
    let keys = work.path().join("release");
    run_ok(
        drydock()
            .args(["keygen", "--output-key-prefix"])
            .arg(&keys)
            .env("DRYDOCK_KEY_PASSWORD", PASSWORD),
    );
    let reference = format!("{}/platforms/attested:1", registry.host());
    let sboms = work.path().join("sbom");
    let layout = work.path().join("oci");
    let out = run(drydock()
        .arg("build")
        .arg(&dir)
        .arg("--cache-dir")
        .arg(work.path().join("cache"))
        .args(["--platform", BOTH, "--sbom", "spdx", "--push", &reference])
        .arg("--sbom-dir")
        .arg(&sboms)
        .arg("--output")
        .arg(format!("oci:{}", layout.display()))
        .arg("--sign")
        .arg(keys.with_extension("key"))
        .args(["--format", "json"])
        .env("DRYDOCK_KEY_PASSWORD", PASSWORD));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let index = report["digest"].as_str().unwrap().to_string();
    let platforms: Vec<String> = report["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["digest"].as_str().unwrap().to_string())
        .collect();
    // One SBOM per platform, each describing its platform's image.
    for (suffix, digest) in ["linux-amd64", "linux-arm64"].iter().zip(&platforms) {
        let file = sboms.join(format!("gin-api-{suffix}.spdx.json"));
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file:?}: {e}"));
        assert!(text.contains(&digest["sha256:".len()..]), "{file:?}");
    }
    assert!(!sboms.join("gin-api.spdx.json").exists());

    // The layout lists the artifacts beside the index, naming it as their subject.
    let top: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let artifacts: Vec<&serde_json::Value> = top["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["annotations"]["dev.drydock.subject"] == index.as_str())
        .collect();
    // Two SPDX documents, two provenances, two SPDX attestations.
    assert_eq!(artifacts.len(), 6, "{top}");

    // verify of the tag: the index's signature, and an SBOM and a provenance that name it.
    let v = run(drydock()
        .args(["verify", &reference, "--key"])
        .arg(keys.with_extension("pub"))
        .args(["--require", "signature,sbom,provenance", "--format", "json"]));
    let verdict: serde_json::Value = serde_json::from_slice(&v.stdout).unwrap_or_default();
    assert_eq!(
        v.status.code(),
        Some(0),
        "{verdict}\n{}",
        String::from_utf8_lossy(&v.stderr)
    );
    assert_eq!(verdict["verified"], true);
    // Both platforms' provenances were found (each counted once).
    assert_eq!(verdict["provenance"]["found"], 2, "{verdict}");
}
