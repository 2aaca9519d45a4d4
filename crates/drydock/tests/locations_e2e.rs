//! Every place an image can be, through one location syntax: an OCI layout is loaded into Docker
//! and podman (`--output docker-daemon:NAME`, `podman:NAME`), read back from them (`pull
//! docker-daemon:NAME`, `podman:NAME`, through their `save`) into another layout and a docker
//! archive, and the config comes back byte for byte.

mod common;

use std::path::Path;

use common::*;
use drydock_oci::{BlobStore, DirStore, ImageBuilder, Layer, Platform, Publisher, Reference};

/// A one-layer image in an OCI layout at `dir`, tagged `name`; returns its config digest.
fn small_layout(dir: &Path, work: &Path, name: &str) -> String {
    use std::io::Write;
    let store = DirStore::create(&work.join("store")).unwrap();
    let mut tar = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_ustar();
    h.set_size(6);
    h.set_mode(0o644);
    tar.append_data(&mut h, "etc/hello", &b"hello\n"[..])
        .unwrap();
    let raw = tar.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&raw).unwrap();
    let gz = gz.finish().unwrap();
    let layer = Layer {
        digest: store.put(&gz).unwrap(),
        diff_id: drydock_oci::Digest::of(&raw),
        size: gz.len() as u64,
        media_type: "application/vnd.oci.image.layer.v1.tar+gzip".into(),
    };
    let mut b = ImageBuilder::scratch(&Platform::linux_amd64());
    b.append_layer(layer, "2024-01-01T00:00:00Z", "test");
    b.runtime_mut()
        .insert("Cmd".into(), serde_json::json!(["/nothing"]));
    let image = b.build(&store).unwrap();
    drydock_oci::layout::OciLayout {
        dir: dir.to_path_buf(),
    }
    .publish(&drydock_oci::PublishRequest {
        index: None,
        store: &store,
        image: &image,
        tag: &Reference::parse(name).unwrap(),
        created: 0,
        sources: &[],
    })
    .unwrap();
    image.config_digest.to_string()
}

fn pulled(args: &[&str], cache: &Path) -> serde_json::Value {
    let out = run_ok(
        drydock()
            .arg("pull")
            .args(args)
            .args(["--format", "json", "--cache-dir"])
            .arg(cache),
    );
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[test]
fn an_image_goes_into_each_engine_and_comes_back() {
    let t = tempfile::tempdir().unwrap();
    let layout = t.path().join("layout");
    let name = format!("drydock-locations-e2e/small:{}", std::process::id());
    let config = small_layout(&layout, t.path(), &name);
    let cache = t.path().join("cache");
    for (engine, prefix) in [("docker", "docker-daemon:"), ("podman", "podman:")] {
        require_tool(engine);
        let into = format!("{prefix}{name}");
        let r = pulled(&[&format!("oci:{}", layout.display()), "-o", &into], &cache);
        assert!(r["outputs"][0].as_str().unwrap().starts_with(engine), "{r}");
        let back = t.path().join(format!("back-{engine}"));
        let archive = t.path().join(format!("{engine}.tar"));
        let r = pulled(
            &[
                &into,
                "-o",
                &format!("oci:{}", back.display()),
                "-o",
                &format!("docker-archive:{}", archive.display()),
            ],
            &cache,
        );
        let _ = engine_cmd(engine).args(["rmi", &name]).output();
        let (store, manifest) =
            drydock_oci::layout::read_image(&back, None, &Platform::linux_amd64()).unwrap();
        let image = drydock_oci::Image::read(&store, &manifest).unwrap();
        assert_eq!(image.config_digest.to_string(), config, "{engine}: {r}");
        assert_eq!(r["digest"].as_str(), Some(manifest.as_str()), "{r}");
        assert!(archive.is_file());
    }
    // A name an engine does not have is the input's fault, said once with its fix.
    let out = run(drydock()
        .args(["pull", "docker-daemon:drydock-locations-e2e/none:0", "-o"])
        .arg(format!("oci:{}", t.path().join("none").display()))
        .arg("--cache-dir")
        .arg(&cache));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.matches("fix:").count(), 1, "{err}");
}

fn engine_cmd(engine: &str) -> std::process::Command {
    common::engine(engine)
}
