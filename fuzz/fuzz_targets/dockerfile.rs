//! The Dockerfile parser and every Dockerfile rule: any input gives findings or an error.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let opts = drydock_lint::LintOptions::default();
        let _ = drydock_lint::lint_dockerfile("Dockerfile", text, &opts);
    }
});
