//! The ELF reader behind the static-binary check and Go build info.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = drydock::compile::verify_static_bytes(std::path::Path::new("bin"), data, "fix");
    let _ = drydock::compile::goinfo::read(data);
});
