//! Image references and locations: parsing, and every accessor on what parses; an image
//! location (`oci:`, `docker-archive:`, `docker-daemon:`, `podman:`, a reference) as a source and
//! as an output.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(r) = drydock_oci::Reference::parse(s) {
            let _ = (r.name(), r.tag(), r.digest(), r.registry(), r.repository());
            let _ = r.tagged();
            let _ = r.with_digest("sha256:0000000000000000000000000000000000000000000000000000000000000000");
            let again = drydock_oci::Reference::parse(&r.tagged());
            assert!(again.is_ok(), "{s:?} parses but its tagged form {:?} does not", r.tagged());
        }
        let root = std::path::Path::new("/nonexistent-fuzz-root");
        if let Ok(l) = drydock_oci::Location::parse(s, root) {
            let _ = l.to_string();
        }
        let _ = drydock_oci::Location::parse_transport(s, root);
        if let Ok(l) = drydock_oci::Location::parse_output(s) {
            let _ = l.to_string();
        }
    }
});
