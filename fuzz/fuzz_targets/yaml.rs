//! YAML with positions, and the Kubernetes and Compose rules over whatever it yields.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(f) = drydock::lint::kubernetes::parse_file("x.yaml", text) {
            let opts = drydock::lint::LintOptions::default();
            let files = [f];
            let _ = drydock::lint::kubernetes::lint(&files, &opts);
            let _ = drydock::lint::compose::lint(&files, &opts);
        }
    }
});
