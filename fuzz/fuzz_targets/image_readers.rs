//! The image readers: a manifest or an index as any place serves it, an OCI layout's index.json, a docker archive's tar and manifest.json, and
//! importing a docker archive into a blob store as a base image; and what `drydock verify`
//! reads about an image: DSSE envelopes and the in-toto statements in them.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = drydock_oci::layout::parse_index(data);
    let _ = drydock_oci::source::Manifest::parse(data, None);
    let _ = drydock_oci::source::Manifest::parse(data, Some("application/vnd.oci.image.index.v1+json"));
    let _ = drydock_oci::archive::is_docker_archive(data);
    let _ = drydock::sign::dsse::open(data);
    let subject = drydock_oci::Digest::of(b"subject");
    let _ = drydock::attest::judge(&[("fuzz".to_string(), data.to_vec())], 0, &subject, &[]);
    if let Ok(dir) = tempfile::tempdir() {
        let file = dir.path().join("image.tar");
        if std::fs::write(&file, data).is_ok() {
            if let Ok(store) = drydock_oci::DirStore::create(&dir.path().join("blobs")) {
                if let Ok(m) = drydock_oci::archive::read_image(&file, None, &store) {
                    let _ = drydock_oci::ImageBuilder::from_image(&store, &m);
                }
            }
        }
    }
});
