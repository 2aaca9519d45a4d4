//! The .dockerignore matcher: parsing any file, then matching paths made from the same bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(m) = drydock_dockerignore::Matcher::parse(text) {
            for line in text.lines().take(16) {
                let _ = m.matched(line.trim_start_matches('!'));
            }
            let _ = m.matched("a/b/c.go");
        }
    }
});
