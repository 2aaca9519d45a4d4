//! What drydock reads from registries and for base images: WWW-Authenticate challenges, base
//! specs, drydock.lock, and a base layer's tar (whiteouts, links) with path resolution after it.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = drydock_oci::registry::Challenge::parse(s);
        let _ = drydock::base::BaseSpec::parse(s, std::path::Path::new("/nonexistent"));
        let _ = serde_json::from_str::<drydock::base::Lock>(s);
    }
    let mut files = drydock::base::BaseFiles::default();
    let _ = files.apply_layer(data);
    let _ = files.missing(Some("/lib64/ld-linux-x86-64.so.2"), &["libc.so.6".to_string()], &["/opt/x".to_string()]);
    let _ = files.text("etc/passwd");
});
