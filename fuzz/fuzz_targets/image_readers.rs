//! The image readers: an OCI layout's index.json and a docker archive's tar and manifest.json.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = drydock_oci::layout::parse_index(data);
    let _ = drydock_oci::archive::is_docker_archive(data);
});
