//! YAML with positions, and the Kubernetes and Compose rules over whatever it yields.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(f) = drydock_lint::yaml::parse_file("x.yaml", text) {
            let opts = drydock_lint::LintOptions::default();
            let files = [f];
            let _ = drydock_lint::lint_kubernetes(&files, &opts);
            let _ = drydock_lint::lint_compose(&files, &opts);
        }
    }
});
