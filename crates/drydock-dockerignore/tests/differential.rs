//! drydock's `.dockerignore` matcher against Docker's own (moby/patternmatcher, built from
//! Debian's Go sources): the reference cases, then thousands of generated ones.

use std::io::Write;
use std::process::{Command, Stdio};

use drydock_dockerignore::Matcher;

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn oracle(queries: &serde_json::Value) -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle");
    let bin = tempfile::tempdir().unwrap();
    let exe = bin.path().join("oracle");
    let mut build = Command::new("go");
    build
        .args(["build", "-o"])
        .arg(&exe)
        .arg(".")
        .current_dir(&dir)
        .env("GO111MODULE", "off")
        .env("CGO_ENABLED", "0");
    if std::env::var_os("GOPATH").is_none() {
        build.env("GOPATH", "/usr/share/gocode");
    }
    // Go and moby/patternmatcher come from Debian (./scripts/setup); not skipped when missing.
    let out = build
        .output()
        .expect("`go` is not installed: run ./scripts/setup (and source scripts/env.sh) first");
    assert!(
        out.status.success(),
        "building the patternmatcher oracle failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut child = Command::new(&exe)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(queries.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

fn ours(patterns: &[String], path: &str) -> String {
    match Matcher::from_patterns(patterns.iter().map(|s| s.as_str())) {
        Err(_) => "error".into(),
        Ok(m) if m.matched(path) => "excluded".into(),
        Ok(_) => "included".into(),
    }
}

#[test]
fn generated_cases_agree_with_moby_patternmatcher() {
    let mut rng = Rng(0x5eed_d0c4_e12a_b1e5);
    let tokens = [
        "a", "b", "dir", "x.go", "*", "**", "?", "/", "[a-c]", "[^b]", ".", "..", "\\*", "*.md",
        "!", "z", "-", "+",
    ];
    let segs = [
        "a",
        "b",
        "dir",
        "x.go",
        "README.md",
        "ab",
        "a.b",
        "*",
        "zz",
        "c",
        "-",
        "dir2",
    ];
    let mut cases = Vec::new();
    for _ in 0..4000 {
        let n_pat = 1 + rng.below(3);
        let patterns: Vec<String> = (0..n_pat)
            .map(|_| {
                let mut p = String::new();
                if rng.below(5) == 0 {
                    p.push('!');
                }
                for _ in 0..1 + rng.below(4) {
                    p.push_str(rng.pick(&tokens));
                }
                p
            })
            .collect();
        let path: Vec<&str> = (0..1 + rng.below(4)).map(|_| rng.pick(&segs)).collect();
        cases.push((patterns, path.join("/")));
    }
    let queries = serde_json::Value::Array(
        cases
            .iter()
            .map(|(p, path)| serde_json::json!({"patterns": p, "path": path}))
            .collect(),
    );
    let want = oracle(&queries);
    let mut diffs = Vec::new();
    for ((patterns, path), want) in cases.iter().zip(&want) {
        let got = ours(patterns, path);
        if &got != want {
            diffs.push(format!(
                "{patterns:?} on {path:?}: docker says {want}, drydock says {got}"
            ));
        }
    }
    let errors = want.iter().filter(|w| *w == "error").count();
    let excluded = want.iter().filter(|w| *w == "excluded").count();
    assert!(
        excluded > 400 && errors < 2000,
        "the generator exercises all outcomes ({excluded} excluded, {errors} errors)"
    );
    assert!(
        diffs.is_empty(),
        "{} of {} differ:\n{}",
        diffs.len(),
        cases.len(),
        diffs[..diffs.len().min(30)].join("\n")
    );
}
