//! The command line's contract, command by command, on the real binary: exit codes (0 ok, 1 a
//! failed build or tool, 2 bad usage, configuration or input), the JSON error object, a quiet
//! exit on a closed pipe, and the cases a new user hit in the first hour (issue 9).

mod common;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

use common::*;

fn code(cmd: &mut Command) -> (i32, String, String) {
    let out = run(cmd);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn go_project(dir: &Path, main: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("main.go"), main).unwrap();
}

const HELLO: &str = "package main\n\nimport \"net/http\"\n\nfunc main() {\n\thttp.HandleFunc(\"/ping\", func(w http.ResponseWriter, r *http.Request) {})\n\thttp.ListenAndServe(\":7070\", nil)\n}\n";

/// README's JSON error object, on stdout under `--format json`: exactly
/// `{"error": {"kind", "message", "path", "line", "fix"}}`, kind as given, a message, and path,
/// line and fix each a value or null. Returns the inner object.
fn error_object(stdout: &str, kind: &str, what: &str) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(stdout)
        .unwrap_or_else(|e| panic!("{what}: stdout is not one JSON value ({e}): {stdout:?}"));
    let outer: Vec<&String> = v
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    assert_eq!(outer, ["error"], "{what}: {stdout}");
    let e = &v["error"];
    let mut keys: Vec<&String> = e.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        ["fix", "kind", "line", "message", "path"],
        "{what}: {stdout}"
    );
    assert_eq!(e["kind"], kind, "{what}: {stdout}");
    assert!(
        e["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{what}: {stdout}"
    );
    assert!(
        e["path"].is_string() || e["path"].is_null(),
        "{what}: {stdout}"
    );
    assert!(
        e["line"].is_u64() || e["line"].is_null(),
        "{what}: {stdout}"
    );
    assert!(
        e["fix"].is_string() || e["fix"].is_null(),
        "{what}: {stdout}"
    );
    e.clone()
}

/// The exit-code table: each command, each kind of bad input.
#[test]
fn exit_codes_command_by_command() {
    let t = tempfile::tempdir().unwrap();
    let cache = t.path().join("cache");
    let missing = t.path().join("missing");
    let file = t.path().join("file.txt");
    std::fs::write(&file, "x").unwrap();
    let empty = t.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let cases: Vec<(&str, Vec<String>, i32, &str)> = vec![
        // (what, args, exit code, part of the message)
        (
            "build, missing DIR",
            vec!["build".into(), missing.display().to_string()],
            2,
            "no such directory",
        ),
        (
            "context, missing DIR",
            vec!["context".into(), missing.display().to_string()],
            2,
            "no such directory",
        ),
        (
            "deploy, missing DIR",
            vec!["deploy".into(), missing.display().to_string()],
            2,
            "no such directory",
        ),
        (
            "run, missing DIR",
            vec!["run".into(), missing.display().to_string()],
            2,
            "no such directory",
        ),
        (
            "init, missing DIR",
            vec!["init".into(), missing.display().to_string()],
            2,
            "no such directory",
        ),
        (
            "lint, missing path",
            vec!["lint".into(), missing.display().to_string()],
            2,
            "does not exist",
        ),
        (
            "build, a file as DIR",
            vec!["build".into(), file.display().to_string()],
            2,
            "is a file, not a directory",
        ),
        (
            "init, a file as DIR",
            vec!["init".into(), file.display().to_string()],
            2,
            "is a file, not a directory",
        ),
        (
            "build, an empty dir",
            vec!["build".into(), empty.display().to_string()],
            2,
            "no Go or Rust project found",
        ),
        (
            "build, a bad --output",
            vec![
                "build".into(),
                empty.display().to_string(),
                "--output".into(),
                "tar:x".into(),
            ],
            2,
            "bad output",
        ),
        (
            "build, a missing --binary",
            vec![
                "build".into(),
                empty.display().to_string(),
                "--binary".into(),
                "nope".into(),
            ],
            2,
            "--binary nope",
        ),
        (
            "rule, unknown code",
            vec!["rule".into(), "XX999".into()],
            2,
            "no rule",
        ),
        (
            "lint, unknown rule",
            vec![
                "lint".into(),
                empty.display().to_string(),
                "--select".into(),
                "XX1".into(),
            ],
            2,
            "unknown rule code",
        ),
    ];
    for (what, args, want, msg) in cases {
        let (c, _, err) = code(
            drydock()
                .args(&args)
                .arg("--cache-dir")
                .arg(&cache)
                .env("DRYDOCK_CACHE_DIR", &cache),
        );
        // --cache-dir is not a flag of every command: such runs are usage errors (2), which
        // would pass for the wrong reason, so run again without it where clap refused it.
        let (c, err) = if err.contains("unexpected argument '--cache-dir'") {
            let (c, _, err) = code(drydock().args(&args).env("DRYDOCK_CACHE_DIR", &cache));
            (c, err)
        } else {
            (c, err)
        };
        assert_eq!(c, want, "{what}: {err}");
        assert!(err.contains(msg), "{what}: {err}");
        assert!(!err.contains("panicked"), "{what}: {err}");
    }
    // A cache dir that is a file, or that cannot be written: configuration, 2.
    let proj = t.path().join("proj");
    go_project(&proj, HELLO);
    let (c, _, err) = code(
        drydock()
            .arg("build")
            .arg(&proj)
            .arg("--cache-dir")
            .arg(&file),
    );
    assert_eq!(c, 2, "{err}");
    assert!(
        err.contains("cannot be used: it is not a directory"),
        "{err}"
    );
    // A failed compile is a failed tool: 1.
    go_project(&proj, "package main\n\nfunc main() { undefined() }\n");
    let (c, _, err) = code(test_env(
        drydock()
            .arg("build")
            .arg(&proj)
            .arg("--cache-dir")
            .arg(&cache),
    ));
    assert_eq!(c, 1, "{err}");
    // ... and names the user's file, not drydock's staging copy.
    assert!(
        err.contains(&format!("in {}", proj.display()))
            && !err.contains("/stage/go-proj/src")
            && !err.contains("gopath/src"),
        "{err}"
    );
}

#[test]
fn json_errors_on_stdout() {
    let t = tempfile::tempdir().unwrap();
    for cmd in ["build", "context", "init", "deploy"] {
        let (c, out, _) = code(
            drydock()
                .arg(cmd)
                .arg(t.path().join("nope"))
                .arg("--format")
                .arg("json"),
        );
        assert_eq!(c, 2, "{cmd}");
        let v: serde_json::Value =
            serde_json::from_str(&out).unwrap_or_else(|e| panic!("{cmd}: {e}: {out}"));
        let e = &v["error"];
        assert_eq!(e["kind"], "input", "{cmd}: {out}");
        assert!(
            e["message"].as_str().unwrap().contains("no such directory"),
            "{out}"
        );
        assert!(e["path"].as_str().unwrap().ends_with("nope"), "{out}");
        assert!(e["fix"].as_str().is_some(), "{out}");
    }
    // A config error carries its file and line.
    let proj = t.path().join("p");
    go_project(&proj, HELLO);
    std::fs::write(
        proj.join("drydock.toml"),
        "name = \"p\"\n[image]\nusr = 1\n",
    )
    .unwrap();
    let (c, out, _) = code(
        drydock()
            .arg("build")
            .arg(&proj)
            .arg("--format")
            .arg("json"),
    );
    assert_eq!(c, 2);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["error"]["kind"], "config");
    assert_eq!(v["error"]["line"], 3, "{out}");
    assert!(v["error"]["path"]
        .as_str()
        .unwrap()
        .ends_with("drydock.toml"));
}

/// `drydock … | head -1`: no panic, no backtrace, exit 0.
#[test]
fn a_closed_pipe_ends_quietly() {
    let root = repo_root();
    for args in [
        // The repository root: a listing well past a pipe buffer.
        vec!["context".to_string(), root.display().to_string()],
        vec![
            "lint".into(),
            root.join("crates/drydock/tests/fixtures")
                .display()
                .to_string(),
            "--format".into(),
            "sarif".into(),
        ],
        vec!["rules".into()],
    ] {
        let mut child = drydock()
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Read a few bytes, then close our end, as `head -c 10` does.
        let mut stdout = child.stdout.take().unwrap();
        let mut buf = [0u8; 10];
        let _ = stdout.read(&mut buf);
        drop(stdout);
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe"),
            "{args:?}: {err}"
        );
        assert!(
            matches!(out.status.code(), Some(0) | Some(1)),
            "{args:?}: {:?} {err}",
            out.status
        );
    }
}

#[test]
fn bad_references_are_refused_with_why() {
    let t = tempfile::tempdir().unwrap();
    let proj = t.path().join("p");
    go_project(&proj, HELLO);
    for (tag, why) in [
        ("Foo:bar:baz", "more than one `:`"),
        ("", "it is empty"),
        ("x@sha256:abc", "not 64"),
        (&format!("x@sha256:{}", "a".repeat(64)), "names a digest"),
    ] {
        let (c, _, err) = code(drydock().arg("build").arg(&proj).arg("--tag").arg(tag));
        assert_eq!(c, 2, "{tag:?}: {err}");
        assert!(err.contains(why), "{tag:?}: {err}");
    }
    std::fs::write(
        proj.join("drydock.toml"),
        "[image]\ntag = \"Foo:bar:baz\"\n",
    )
    .unwrap();
    let (c, _, err) = code(drydock().arg("build").arg(&proj));
    assert_eq!(c, 2, "{err}");
    std::fs::remove_file(proj.join("drydock.toml")).unwrap();
    let (c, _, err) = code(
        drydock()
            .arg("deploy")
            .arg(&proj)
            .arg("--image")
            .arg("Bad Ref!!"),
    );
    assert_eq!(c, 2, "{err}");
    assert!(
        err.contains("not a valid image reference") && err.contains("contains ' '"),
        "{err}"
    );
    assert!(!proj.join("deploy").exists(), "nothing written");
}

/// Build and init share one detection, and say what was detected and what assumed.
#[test]
fn build_detects_what_init_detects() {
    let t = tempfile::tempdir().unwrap();
    let cache = t.path().join("cache");
    let proj = t.path().join("svc");
    go_project(&proj, HELLO);
    let v = build_json(&proj, &cache, &[]);
    let assumed: Vec<String> = serde_json::from_value(v["assumptions"].clone()).unwrap();
    assert!(
        assumed.contains(&"detected port 7070 from main.go:7".to_string()),
        "{assumed:?}"
    );
    assert!(
        assumed.contains(&"detected health path /ping from main.go:6".to_string()),
        "{assumed:?}"
    );
    let out = run_ok(test_env(
        drydock()
            .arg("build")
            .arg(&proj)
            .arg("--cache-dir")
            .arg(&cache)
            .arg("--output")
            .arg(format!("oci:{}", t.path().join("oci").display())),
    ));
    let _ = out;
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(t.path().join("oci/index.json")).unwrap()).unwrap();
    let manifest_digest = index["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .trim_start_matches("sha256:")
        .to_string();
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(t.path().join("oci/blobs/sha256").join(manifest_digest)).unwrap(),
    )
    .unwrap();
    let cfg_digest = manifest["config"]["digest"]
        .as_str()
        .unwrap()
        .trim_start_matches("sha256:")
        .to_string();
    let cfg: serde_json::Value = serde_json::from_slice(
        &std::fs::read(t.path().join("oci/blobs/sha256").join(cfg_digest)).unwrap(),
    )
    .unwrap();
    assert!(
        cfg["config"]["ExposedPorts"].get("7070/tcp").is_some(),
        "{cfg}"
    );
    // init writes the same values.
    let out = run_ok(drydock().arg("init").arg(&proj));
    assert!(out.contains("detected port 7070 from main.go:7"), "{out}");
    let toml = std::fs::read_to_string(proj.join("drydock.toml")).unwrap();
    assert!(
        toml.contains("port = 7070") && toml.contains("path = \"/ping\""),
        "{toml}"
    );
    // A PORT variable without a default is assumed, and says so.
    let other = t.path().join("envport");
    go_project(&other, "package main\n\nimport (\n\t\"net/http\"\n\t\"os\"\n)\n\nfunc main() { http.ListenAndServe(\":\"+os.Getenv(\"PORT\"), nil) }\n");
    let v = build_json(&other, &cache, &[]);
    let assumed = v["assumptions"].to_string();
    assert!(
        assumed.contains("assumed port 8080: PORT is read at main.go:8 with no default"),
        "{assumed}"
    );
}

#[test]
fn two_languages_are_refused() {
    let t = tempfile::tempdir().unwrap();
    let proj = t.path().join("both");
    go_project(&proj, HELLO);
    std::fs::write(proj.join("go.mod"), "module both\n\ngo 1.19\n").unwrap();
    std::fs::write(
        proj.join("Cargo.toml"),
        "[package]\nname = \"both\"\nversion = \"0.1.0\"\n",
    )
    .unwrap();
    let (c, _, err) = code(drydock().arg("build").arg(&proj));
    assert_eq!(c, 2, "{err}");
    assert!(
        err.contains("has both go.mod and Cargo.toml") && err.contains("language = \\\"go\\\"")
            || err.contains("language = \"go\""),
        "{err}"
    );
}

/// Relative --cache-dir, DRYDOCK_CACHE_DIR and --binary are relative to the working directory.
#[test]
fn relative_paths_are_from_the_working_directory() {
    let t = tempfile::tempdir().unwrap();
    let proj = t.path().join("binproj");
    std::fs::create_dir(&proj).unwrap();
    // Any static binary will do: the helper drydock's build script made.
    let helper = a_static_binary();
    std::fs::copy(&helper, proj.join("run.bin")).unwrap();
    let out = run_ok(drydock().current_dir(t.path()).args([
        "build",
        "binproj",
        "--binary",
        "binproj/run.bin",
        "--cache-dir",
        "relc",
        "--format",
        "json",
    ]));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["binary"]["tool"], "prebuilt", "{out}");
    assert!(
        t.path().join("relc/blobs").is_dir(),
        "cache in the working directory"
    );
    assert!(!proj.join("relc").exists(), "not in the project");
    run_ok(
        drydock()
            .current_dir(t.path())
            .env("DRYDOCK_CACHE_DIR", "envc")
            .args(["build", "binproj", "--binary", "binproj/run.bin"]),
    );
    assert!(t.path().join("envc/blobs").is_dir());
    // A Cargo project named by a relative path: cargo reads its manifest from there too.
    let rs = t.path().join("rsproj");
    std::fs::create_dir_all(rs.join("src")).unwrap();
    std::fs::write(
        rs.join("Cargo.toml"),
        "[package]\nname = \"rsproj\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    std::fs::write(rs.join("src/main.rs"), "fn main() {}\n").unwrap();
    std::fs::copy(&helper, rs.join("run.bin")).unwrap();
    let out = run_ok(drydock().current_dir(t.path()).args([
        "build",
        "rsproj",
        "--binary",
        "rsproj/run.bin",
        "--cache-dir",
        "relc",
        "--format",
        "json",
    ]));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["binary"]["tool"], "prebuilt", "{out}");
}

/// Run inside cmd/api of a module: the module is the project, cmd/api the main package.
#[test]
fn the_project_root_is_found_upward() {
    let t = tempfile::tempdir().unwrap();
    let cache = t.path().join("cache");
    let proj = t.path().join("mod");
    std::fs::create_dir_all(proj.join("cmd/api")).unwrap();
    std::fs::create_dir_all(proj.join("cmd/tool")).unwrap();
    std::fs::write(proj.join("go.mod"), "module example.com/mod\n\ngo 1.19\n").unwrap();
    std::fs::write(proj.join("cmd/api/main.go"), HELLO).unwrap();
    std::fs::write(
        proj.join("cmd/tool/main.go"),
        "package main\n\nfunc main() {}\n",
    )
    .unwrap();
    let v = build_json(&proj.join("cmd/api"), &cache, &[]);
    assert_eq!(v["reference"], "mod:latest", "{v}");
    let assumed = v["assumptions"].to_string();
    assert!(assumed.contains("its go.mod is above"), "{assumed}");
    assert!(
        v["binary"]["command"]
            .as_str()
            .unwrap()
            .ends_with("./cmd/api"),
        "{v}"
    );
}

#[test]
fn file_names_that_are_not_utf8() {
    use std::os::unix::ffi::OsStrExt;
    let t = tempfile::tempdir().unwrap();
    let cache = t.path().join("cache");
    let proj = t.path().join("p");
    go_project(&proj, HELLO);
    let bad = std::ffi::OsStr::from_bytes(b"caf\xe9.txt");
    std::fs::write(proj.join(bad), "x").unwrap();
    // Included: refused, naming it with its bytes escaped.
    let (c, _, err) = code(test_env(
        drydock()
            .arg("build")
            .arg(&proj)
            .arg("--cache-dir")
            .arg(&cache),
    ));
    assert_eq!(c, 2, "{err}");
    assert!(
        err.contains("caf\\xe9.txt") && err.contains("not UTF-8"),
        "{err}"
    );
    // Excluded: never read, the build works.
    std::fs::write(proj.join(".dockerignore"), "*.txt\n").unwrap();
    build_json(&proj, &cache, &[]);
}

#[test]
fn special_files_in_the_context_are_reported() {
    let t = tempfile::tempdir().unwrap();
    let cache = t.path().join("cache");
    let proj = t.path().join("p");
    go_project(&proj, HELLO);
    let status = Command::new("mkfifo")
        .arg(proj.join("pipe"))
        .status()
        .unwrap();
    assert!(status.success());
    let out = run(test_env(
        drydock()
            .arg("build")
            .arg(&proj)
            .arg("--cache-dir")
            .arg(&cache),
    ));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("warning: not in the build context: pipe (sockets, FIFOs"),
        "{err}"
    );
}

#[test]
fn a_corrupt_cache_blob_is_rebuilt_with_a_warning() {
    let t = tempfile::tempdir().unwrap();
    let cache = t.path().join("cache");
    let proj = t.path().join("p");
    go_project(&proj, HELLO);
    let v = build_json(&proj, &cache, &[]);
    let digest = v["layers"][0]["digest"]
        .as_str()
        .unwrap()
        .trim_start_matches("sha256:")
        .to_string();
    std::fs::write(cache.join("blobs/sha256").join(&digest), "garbage").unwrap();
    let out = run(test_env(
        drydock()
            .arg("build")
            .arg(&proj)
            .arg("--cache-dir")
            .arg(&cache),
    ));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("is corrupt") && err.contains("rebuilding that layer"),
        "{err}"
    );
}

/// cgo and a module without go.sum: say what is wrong and the ways out.
#[test]
fn go_failures_are_explained() {
    let t = tempfile::tempdir().unwrap();
    let cache = t.path().join("cache");
    let proj = t.path().join("cgo");
    go_project(&proj, "package main\n\n// int two() { return 2; }\nimport \"C\"\n\nfunc main() { println(C.two()) }\n");
    let (c, _, err) = code(test_env(
        drydock()
            .arg("build")
            .arg(&proj)
            .arg("--cache-dir")
            .arg(&cache),
    ));
    assert_eq!(c, 1, "{err}");
    assert!(
        err.contains("main.go uses cgo (`import \"C\"`)") && err.contains("CGO_ENABLED=0"),
        "{err}"
    );
    // gin-api in module mode, as shipped (its go.sum is the public one), with no proxy.
    let (_t2, gin) = copy_example("gin-api");
    let (c, _, err) = code(
        drydock()
            .arg("build")
            .arg(&gin)
            .arg("--cache-dir")
            .arg(&cache)
            .env("GO111MODULE", "on")
            .env("GOPROXY", "off"),
    );
    assert_eq!(c, 1, "{err}");
    assert!(
        err.contains("could not be downloaded")
            && err.contains("GOPROXY")
            && err.contains("GO111MODULE=off"),
        "{err}"
    );
    // Sources excluded by .dockerignore: say so.
    let ex = t.path().join("excluded");
    go_project(&ex, HELLO);
    std::fs::create_dir_all(ex.join("internal")).unwrap();
    std::fs::write(ex.join("go.mod"), "module ex\n\ngo 1.19\n").unwrap();
    std::fs::write(
        ex.join("main.go"),
        "package main\n\nimport \"ex/internal\"\n\nfunc main() { internal.Run() }\n",
    )
    .unwrap();
    std::fs::write(
        ex.join("internal/run.go"),
        "package internal\n\nfunc Run() {}\n",
    )
    .unwrap();
    std::fs::write(ex.join(".dockerignore"), "internal\n").unwrap();
    let (c, _, err) = code(
        drydock()
            .arg("build")
            .arg(&ex)
            .arg("--cache-dir")
            .arg(&cache)
            .env("GO111MODULE", "on")
            .env("GOPROXY", "off"),
    );
    assert_eq!(c, 1, "{err}");
    assert!(
        err.contains(".dockerignore keeps internal/run.go out of the build context"),
        "{err}"
    );
}

#[test]
fn config_messages() {
    let t = tempfile::tempdir().unwrap();
    let proj = t.path().join("p");
    go_project(&proj, HELLO);
    for (toml, want) in [
        (
            "[image]\nuser = \"0\"\n",
            "`image.user` is \"0\", the root user",
        ),
        (
            "[health]\ninterval = \"3s\"\ntimeout = \"5s\"\n",
            "`health.timeout` (5s) is not shorter than health.interval (3s)",
        ),
        (
            "[resources]\nmemory_request = \"1Gi\"\nmemory_limit = \"512Mi\"\n",
            "(512Mi) is below memory_request (1Gi)",
        ),
        ("port = \"8080\"\n", "expected a whole number"),
    ] {
        std::fs::write(proj.join("drydock.toml"), toml).unwrap();
        let (c, _, err) = code(drydock().arg("build").arg(&proj));
        assert_eq!(c, 2, "{toml}: {err}");
        assert!(
            err.contains(want) && err.contains("drydock.toml"),
            "{toml}: {err}"
        );
        assert!(!err.contains("i64"), "{err}");
    }
}

#[test]
fn help_texts() {
    let help = |args: &[&str]| run_ok(drydock().args(args).env("COLUMNS", "80"));
    let lint = help(&["lint", "--help"]);
    assert!(lint.contains("Compose"), "{lint}");
    for l in lint.lines() {
        assert!(l.chars().count() <= 80, "wrapped past 80: {l:?}");
    }
    for cmd in ["rule", "run"] {
        let h = help(&[cmd, "--help"]);
        assert!(!h.contains("--format"), "{cmd}: {h}");
    }
    assert!(help(&["rule", "--help"]).contains("Examples:"));
    let init = help(&["init", "--help"]);
    assert!(
        init.contains("--port") && init.contains("--main") && !init.contains("--binary"),
        "{init}"
    );
}

/// README's contract, for every command `drydock --help` lists: a usage error exits 2 and,
/// when the command line asks for JSON, prints `{"error": {"kind": "usage", …}}` on stdout
/// with `drydock CMD --help` as the fix; a command that takes input gives its input or
/// configuration error the same way, under `--format json` where the command has it.
#[test]
fn json_error_contract_for_every_command() {
    let t = tempfile::tempdir().unwrap();
    let missing = t.path().join("missing");
    let m = missing.display().to_string();
    let bad_lint_cfg = t.path().join("badlint");
    std::fs::create_dir(&bad_lint_cfg).unwrap();
    std::fs::write(
        bad_lint_cfg.join("drydock.toml"),
        "[lint]\nfail_on = \"sometimes\"\n",
    )
    .unwrap();
    let b = bad_lint_cfg.display().to_string();
    let oci_missing = format!("oci:{m}");
    // keygen never replaces a key: one already there is an input error.
    std::fs::write(t.path().join("existing.key"), "x").unwrap();
    let existing_key = t.path().join("existing").display().to_string();
    // rules --write-docs never replaces a file drydock did not write: the project's README.md.
    let docs = t.path().join("project");
    std::fs::create_dir(&docs).unwrap();
    std::fs::write(docs.join("README.md"), "# my project\n").unwrap();
    let docs = docs.display().to_string();
    // A cache directory that is a file.
    let not_a_dir = t.path().join("not-a-dir");
    std::fs::write(&not_a_dir, "x").unwrap();
    let not_a_dir = not_a_dir.display().to_string();
    // logout: a config.json that is not JSON (in DOCKER_CONFIG).
    let bad_docker = t.path().join("docker");
    std::fs::create_dir(&bad_docker).unwrap();
    std::fs::write(bad_docker.join("config.json"), "{\"auths\": {").unwrap();
    let bad_docker = bad_docker.display().to_string();
    // (command, has --format json, its input or configuration error: args, kind, environment,
    // part of the message). Commands without --format are checked as text (stdout empty).
    type Input<'a> = (Vec<&'a str>, &'a str, Vec<(&'a str, &'a str)>, &'a str);
    type Row<'a> = (&'a str, bool, Input<'a>);
    let table: Vec<Row> = vec![
        (
            "build",
            true,
            (vec!["build", &m], "input", vec![], "no such directory"),
        ),
        (
            "init",
            true,
            (vec!["init", &m], "input", vec![], "no such directory"),
        ),
        (
            "deploy",
            true,
            (vec!["deploy", &m], "input", vec![], "no such directory"),
        ),
        (
            "lint",
            true,
            (vec!["lint", &m], "input", vec![], "does not exist"),
        ),
        (
            "rules",
            true,
            (
                vec!["rules", "--write-docs", &docs],
                "input",
                vec![],
                "README.md is not written by drydock",
            ),
        ),
        (
            "rule",
            false,
            (vec!["rule", "XX999"], "usage", vec![], "no rule"),
        ),
        (
            "run",
            false,
            (vec!["run", &m], "input", vec![], "no such directory"),
        ),
        (
            "pull",
            true,
            (
                vec!["pull", "UPPER/X:1", "--output", &oci_missing],
                "usage",
                vec![],
                "UPPER/X:1",
            ),
        ),
        (
            "bench",
            true,
            (vec!["bench", &m], "input", vec![], "no such directory"),
        ),
        (
            "push",
            true,
            (
                vec!["push", &oci_missing, "127.0.0.1:1/x:1"],
                "input",
                vec![],
                "missing",
            ),
        ),
        (
            "login",
            false,
            (
                // stdin is empty: no password.
                vec!["login", "127.0.0.1:1", "-u", "ci", "--password-stdin"],
                "usage",
                vec![],
                "no password on standard input",
            ),
        ),
        (
            "cache",
            true,
            (
                vec!["cache", "prune", "--cache-dir", &not_a_dir],
                "config",
                vec![],
                "it is not a directory",
            ),
        ),
        (
            "logout",
            false,
            (
                vec!["logout", "127.0.0.1:5000"],
                "config",
                vec![("DOCKER_CONFIG", &bad_docker)],
                "config.json:1",
            ),
        ),
        (
            "context",
            true,
            (vec!["context", &m], "input", vec![], "no such directory"),
        ),
        (
            "keygen",
            true,
            (
                vec!["keygen", "--output-key-prefix", &existing_key],
                "input",
                vec![("DRYDOCK_KEY_PASSWORD", "pw")],
                "existing.key",
            ),
        ),
        (
            "sign",
            true,
            (
                vec!["sign", "127.0.0.1:1/x:1", "--key", &m],
                "input",
                vec![],
                "missing",
            ),
        ),
        (
            "verify",
            true,
            (
                vec!["verify", "127.0.0.1:1/x:1", "--key", &m],
                "input",
                vec![],
                "missing",
            ),
        ),
    ];
    // Every command the help lists is in the table: a new command needs its row.
    let help = run_ok(drydock().arg("--help").env("COLUMNS", "200"));
    let listed: Vec<String> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect();
    assert!(listed.len() >= 12, "{help}");
    for c in &listed {
        assert!(
            table.iter().any(|(name, _, _)| name == c),
            "`drydock {c}` is not in the JSON contract table"
        );
    }
    for (cmd, has_format, input) in &table {
        // A usage error, with JSON asked for in either spelling.
        for json_flag in [&["--format", "json"][..], &["--format=json"][..]] {
            let (c, out, err) = code(drydock().args([cmd, "--no-such-flag"]).args(json_flag));
            assert_eq!(c, 2, "{cmd}: {err}");
            let e = error_object(&out, "usage", cmd);
            assert!(
                e["message"].as_str().unwrap().contains("--no-such-flag")
                    || !has_format && e["message"].as_str().unwrap().contains("--format"),
                "{cmd}: {out}"
            );
            assert_eq!(e["fix"], format!("drydock {cmd} --help"), "{cmd}: {out}");
            assert!(err.contains("error: unexpected argument"), "{cmd}: {err}");
        }
        // Without JSON asked for: text on stderr only.
        let (c, out, err) = code(drydock().args([cmd, "--no-such-flag"]));
        assert_eq!((c, out.as_str()), (2, ""), "{cmd}: {err}");
        assert!(err.contains("--no-such-flag"), "{cmd}: {err}");
        // Input and configuration errors.
        let (args, kind, env, msg) = input;
        let mut cmd_line = drydock();
        cmd_line.args(args).stdin(Stdio::null());
        for (k, v) in env {
            cmd_line.env(k, v);
        }
        if *has_format {
            let (c, out, err) = code(cmd_line.args(["--format", "json"]));
            assert_eq!(c, 2, "{cmd}: {err}");
            let e = error_object(&out, kind, cmd);
            assert!(e["message"].as_str().unwrap().contains(msg), "{cmd}: {out}");
            assert!(
                e["fix"].as_str().is_some_and(|f| !f.contains("fix:")),
                "{out}"
            );
            assert!(
                err.starts_with("error: ") || err.contains("\nerror: "),
                "{err}"
            );
            assert!(err.contains(msg), "{cmd}: {err}");
        } else {
            // No --format on this command: the error is text, and stdout stays empty.
            let (c, out, err) = code(&mut cmd_line);
            assert_eq!((c, out.as_str()), (2, ""), "{cmd}: {err}");
            assert!(err.contains("error: ") && err.contains(msg), "{cmd}: {err}");
            assert_eq!(err.matches("fix:").count(), 1, "{cmd}: {err}");
        }
    }
    // A configuration error: lint's [lint] section.
    let (c, out, _) = code(drydock().args(["lint", &b, "--format", "json"]));
    assert_eq!(c, 2);
    let e = error_object(&out, "config", "lint config");
    assert!(
        e["path"].as_str().unwrap().ends_with("drydock.toml"),
        "{out}"
    );
    assert_eq!(e["line"], 2, "{out}");
    // --help and --version are not errors.
    for a in [
        &["--version"][..],
        &["lint", "--help", "--format", "json"][..],
    ] {
        let (c, out, _) = code(drydock().args(a));
        assert_eq!(c, 0, "{a:?}");
        assert!(!out.contains("\"error\""), "{a:?}: {out}");
    }
}

/// SIGINT or SIGTERM ends every command the same way: `interrupted` (the JSON error object
/// under --format json) and exit 130. `lint -` waits on its input, which makes the moment of
/// the signal certain.
#[test]
fn an_interrupt_is_reported_as_interrupted() {
    for (signal, json) in [("INT", true), ("TERM", true), ("INT", false)] {
        let mut cmd = drydock();
        cmd.args(["lint", "-"]);
        if json {
            cmd.args(["--format", "json"]);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Kept open until drydock has ended: its input never ends by itself.
        let _stdin = child.stdin.take();
        std::thread::sleep(std::time::Duration::from_millis(300));
        let ok = Command::new("kill")
            .args([format!("-{signal}"), child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(130), "{signal}: {stderr}");
        assert!(stderr.contains("error: interrupted"), "{stderr}");
        if json {
            let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
            assert_eq!(v["error"]["kind"], "interrupted", "{stdout}");
        } else {
            assert_eq!(stdout, "");
        }
    }
}

/// Exit 1 is "the build or a tool failed", kind `failed` in the JSON error object, for every
/// command where such a failure can be provoked offline: a compile that fails (build, deploy,
/// run, bench build first), a registry on a closed port (push, pull, sign, verify, login), a
/// directory nothing can be written into (rules --write-docs, keygen). lint's 1 is findings:
/// its report, never an error object. Every command `drydock --help` lists is either here or
/// named below with why it has no such case.
#[test]
fn a_failure_is_exit_1_and_kind_failed_command_by_command() {
    require_tool("go");
    let t = tempfile::tempdir().unwrap();
    let p = |name: &str| t.path().join(name).display().to_string();
    let bad = t.path().join("bad");
    go_project(&bad, "package main\n\nfunc main() { undefined() }\n");
    // An image to push (from a prebuilt static binary: no compile), and a key pair for sign
    // and verify.
    let layout = image_and_key(t.path());
    // A Dockerfile with findings.
    std::fs::create_dir(t.path().join("df")).unwrap();
    std::fs::write(
        t.path().join("df/Dockerfile"),
        "FROM alpine:latest\nRUN apt-get install curl\n",
    )
    .unwrap();
    // No credentials of this machine's user take part.
    std::fs::create_dir(t.path().join("docker")).unwrap();
    let closed = "127.0.0.1:1/x:1";
    let bad = bad.display().to_string();
    // (command, args, has --format json, part of the message). /proc/self is the directory of
    // the drydock process itself, where no file can be made, even by root.
    let cases: Vec<(&str, Vec<String>, bool, &str)> = vec![
        (
            "build",
            vec!["build".into(), bad.clone()],
            true,
            "undefined",
        ),
        (
            "deploy",
            vec!["deploy".into(), bad.clone()],
            true,
            "undefined",
        ),
        (
            "bench",
            vec![
                "bench".into(),
                bad.clone(),
                "--modes".into(),
                "process".into(),
            ],
            true,
            "undefined",
        ),
        ("run", vec!["run".into(), bad.clone()], false, "undefined"),
        (
            "push",
            vec!["push".into(), layout.clone(), closed.into()],
            true,
            "127.0.0.1:1",
        ),
        (
            "pull",
            vec![
                "pull".into(),
                closed.into(),
                "--output".into(),
                format!("oci:{}", p("pulled")),
            ],
            true,
            "127.0.0.1:1",
        ),
        (
            "sign",
            vec!["sign".into(), closed.into(), "--key".into(), p("key.key")],
            true,
            "127.0.0.1:1",
        ),
        (
            "verify",
            vec!["verify".into(), closed.into(), "--key".into(), p("key.pub")],
            true,
            "127.0.0.1:1",
        ),
        (
            "login",
            vec![
                "login".into(),
                "127.0.0.1:1".into(),
                "-u".into(),
                "ci".into(),
                "--password-stdin".into(),
            ],
            false,
            "127.0.0.1:1",
        ),
        (
            "rules",
            vec!["rules".into(), "--write-docs".into(), "/proc/self".into()],
            true,
            "/proc/self/",
        ),
        (
            "keygen",
            vec![
                "keygen".into(),
                "--output-key-prefix".into(),
                "/proc/self/release".into(),
            ],
            true,
            "/proc/self/release.key",
        ),
    ];
    // No failure of theirs comes without an I/O fault this test cannot make: init and context
    // (their errors are input errors), cache (prune removes what it may), logout (a credential
    // store it cannot read is a configuration error), rule (it only reads its catalog).
    let without: [&str; 5] = ["init", "context", "cache", "logout", "rule"];
    let help = run_ok(drydock().arg("--help").env("COLUMNS", "200"));
    for c in help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help" && *c != "lint")
    {
        assert!(
            cases.iter().any(|(name, ..)| *name == c) || without.contains(&c),
            "`drydock {c}`: no failure case, and not said why"
        );
    }
    // All at once: the registry cases each wait out their retries (some seconds).
    let children: Vec<_> = cases
        .iter()
        .map(|(cmd, args, json, _)| {
            let mut c = drydock();
            test_env(&mut c)
                .args(args)
                .args(if *json {
                    &["--format", "json"][..]
                } else {
                    &[][..]
                })
                .env("DRYDOCK_CACHE_DIR", p(&format!("cache-{cmd}")))
                .env("DRYDOCK_KEY_PASSWORD", "pw")
                .env("DOCKER_CONFIG", p("docker"))
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            let mut child = c.spawn().unwrap();
            // login's password; the others read no input.
            let mut stdin = child.stdin.take().unwrap();
            if *cmd == "login" {
                std::io::Write::write_all(&mut stdin, b"pw").unwrap();
            }
            drop(stdin);
            child
        })
        .collect();
    for ((cmd, args, json, msg), child) in cases.iter().zip(children) {
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{cmd} {args:?}: {stdout}{stderr}"
        );
        assert!(
            stderr.starts_with("error: ") || stderr.contains("\nerror: "),
            "{cmd}: {stderr}"
        );
        assert!(stderr.contains(msg), "{cmd}: {stderr}");
        assert!(stderr.matches("fix:").count() <= 1, "{cmd}: {stderr}");
        assert!(!stderr.contains("panicked"), "{cmd}: {stderr}");
        if *json {
            let e = error_object(&stdout, "failed", cmd);
            assert!(
                e["message"].as_str().unwrap().contains(msg),
                "{cmd}: {stdout}"
            );
        } else {
            assert_eq!(stdout, "", "{cmd}");
        }
    }
    // lint: 1 is findings, reported as findings (an array), not as an error.
    let (c, out, err) = code(drydock().args(["lint", &p("df"), "--format", "json"]));
    assert_eq!(c, 1, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        v.as_array()
            .is_some_and(|a| a.iter().any(|f| f["code"] == "DF001")),
        "{out}"
    );
}

/// A registry that accepts connections and never answers: what a command talks to it is
/// surely doing when the signal comes. Counts the connections it took.
fn a_silent_registry() -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let taken = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = taken.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    (port, taken)
}

/// SIGINT or SIGTERM while a command works, not only while it waits on its input (see
/// `an_interrupt_is_reported_as_interrupted`): during a compile (build, deploy) and while it
/// talks to a registry (push, pull, sign, verify, login), `interrupted` in the JSON error
/// object where the command has `--format json`, the text on stderr, exit 130.
#[test]
fn an_interrupt_while_working_is_interrupted_in_json() {
    require_tool("cargo");
    let t = tempfile::tempdir().unwrap();
    let p = |name: &str| t.path().join(name).display().to_string();
    // A crate whose constant takes rustc minutes: the compiler is surely running.
    let spin = t.path().join("spin");
    slow_to_compile_crate(&spin);
    let layout = image_and_key(t.path());
    std::fs::create_dir(t.path().join("docker")).unwrap();
    let (port, taken) = a_silent_registry();
    let image = format!("127.0.0.1:{port}/x:1");
    let spin = spin.display().to_string();
    // (what it is doing, args, has --format json, signal)
    let cases: Vec<(&str, Vec<String>, bool, &str)> = vec![
        ("compiling", vec!["build".into(), spin.clone()], true, "INT"),
        (
            "compiling",
            vec!["deploy".into(), spin.clone()],
            true,
            "TERM",
        ),
        (
            "in the registry",
            vec!["push".into(), layout, image.clone()],
            true,
            "INT",
        ),
        (
            "in the registry",
            vec![
                "pull".into(),
                image.clone(),
                "--output".into(),
                format!("oci:{}", p("pulled")),
            ],
            true,
            "TERM",
        ),
        (
            "in the registry",
            vec!["sign".into(), image.clone(), "--key".into(), p("key.key")],
            true,
            "INT",
        ),
        (
            "in the registry",
            vec!["verify".into(), image.clone(), "--key".into(), p("key.pub")],
            true,
            "INT",
        ),
        (
            "in the registry",
            vec![
                "login".into(),
                format!("127.0.0.1:{port}"),
                "-u".into(),
                "ci".into(),
                "--password-stdin".into(),
            ],
            false,
            "INT",
        ),
    ];
    for (doing, args, json, signal) in cases {
        let what = format!("{} {doing}, SIG{signal}", args[0]);
        let before = taken.load(std::sync::atomic::Ordering::SeqCst);
        let mut child = drydock()
            .args(&args)
            .args(if json {
                &["--format", "json"][..]
            } else {
                &[][..]
            })
            .env("DRYDOCK_CACHE_DIR", p(&format!("cache-{}", args[0])))
            .env("DRYDOCK_KEY_PASSWORD", "pw")
            .env("DOCKER_CONFIG", p("docker"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        if args[0] == "login" {
            std::io::Write::write_all(&mut stdin, b"pw").unwrap();
        }
        drop(stdin);
        let pid = child.id();
        // The tree drydock started, to end it here should drydock leave any of it.
        let tree = if doing == "compiling" {
            eventually(&what, std::time::Duration::from_secs(60), || {
                compiling_spin(pid)
            })
        } else {
            eventually(&what, std::time::Duration::from_secs(20), || {
                (taken.load(std::sync::atomic::Ordering::SeqCst) > before).then_some(())
            });
            Vec::new()
        };
        let ok = Command::new("kill")
            .args([format!("-{signal}"), pid.to_string()])
            .status()
            .unwrap();
        assert!(ok.success(), "{what}");
        let out = child.wait_with_output().unwrap();
        for (p, _, _) in &tree {
            let _ = Command::new("kill")
                .args(["-KILL", &p.to_string()])
                .stderr(Stdio::null())
                .status();
        }
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(130), "{what}: {stdout}{stderr}");
        assert!(stderr.contains("error: interrupted"), "{what}: {stderr}");
        if json {
            let e = error_object(&stdout, "interrupted", &what);
            assert_eq!(
                (e["path"].clone(), e["line"].clone()),
                (serde_json::Value::Null, serde_json::Value::Null),
                "{what}: {stdout}"
            );
        } else {
            assert_eq!(stdout, "", "{what}");
        }
    }
}

/// An error that wraps another error's text shows one fix, not the inner one and its own.
#[test]
fn one_error_shows_one_fix() {
    let t = tempfile::tempdir().unwrap();
    let proj = t.path().join("p");
    go_project(&proj, HELLO);
    let not_layout = t.path().join("not-a-layout");
    std::fs::create_dir(&not_layout).unwrap();
    std::fs::write(not_layout.join("index.json"), "{").unwrap();
    let garbage = t.path().join("garbage.tar");
    std::fs::write(&garbage, "not a tar").unwrap();
    let dockerignore = t.path().join("di");
    std::fs::create_dir(&dockerignore).unwrap();
    std::fs::write(dockerignore.join("Dockerfile"), "FROM alpine:3.20\n").unwrap();
    std::fs::write(dockerignore.join(".dockerignore"), "[\n").unwrap();
    let cases: Vec<Vec<String>> = vec![
        vec![
            "build".into(),
            proj.display().to_string(),
            "--base".into(),
            format!("oci:{}", not_layout.display()),
        ],
        vec![
            "build".into(),
            proj.display().to_string(),
            "--base".into(),
            format!("docker-archive:{}", garbage.display()),
        ],
        vec![
            "push".into(),
            format!("oci:{}", not_layout.display()),
            "127.0.0.1:1/x:1".into(),
        ],
        vec!["build".into(), dockerignore.display().to_string()],
        vec![
            "build".into(),
            proj.display().to_string(),
            "--base".into(),
            "UPPER:1".into(),
        ],
    ];
    for args in cases {
        let (c, out, err) = code(
            drydock()
                .args(&args)
                .args(["--format", "json"])
                .env("DRYDOCK_CACHE_DIR", t.path().join("cache")),
        );
        assert!(c == 2 || c == 1, "{args:?}: {err}");
        assert_eq!(err.matches("fix:").count(), 1, "{args:?}: {err}");
        let v: serde_json::Value =
            serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}: {out}"));
        let fix = v["error"]["fix"]
            .as_str()
            .unwrap_or_else(|| panic!("{args:?}: {out}"));
        assert!(!fix.contains("fix:"), "{args:?}: {out}");
        assert!(
            !v["error"]["message"].as_str().unwrap().contains("fix:"),
            "{args:?}: {out}"
        );
    }
}

/// The static x86_64 helper drydock's build script made: any static binary will do for --binary.
/// In `dir`: an OCI layout `layout` holding an image built from a prebuilt static binary (no
/// compile), and a key pair `key.key`/`key.pub` (password `pw`). Returns `oci:DIR/layout`.
fn image_and_key(dir: &Path) -> String {
    let p = |name: &str| dir.join(name).display().to_string();
    std::fs::create_dir(dir.join("img")).unwrap();
    let layout = format!("oci:{}", p("layout"));
    run_ok(
        drydock()
            .args(["build", &p("img"), "--port", "8080", "--output", &layout])
            .arg("--binary")
            .arg(a_static_binary())
            .args(["--cache-dir", &p("cache-img")]),
    );
    run_ok(
        drydock()
            .args(["keygen", "--output-key-prefix", &p("key")])
            .env("DRYDOCK_KEY_PASSWORD", "pw"),
    );
    layout
}

fn a_static_binary() -> std::path::PathBuf {
    let target = Path::new(env!("CARGO_BIN_EXE_drydock")).parent().unwrap();
    std::fs::read_dir(target.join("build"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("out/drydock-helper-x86_64"))
        .find(|p| p.is_file())
        .expect("the helper built by build.rs")
}

/// Everything --binary (or `binary` in drydock.toml) can wrongly name is bad input, exit 2,
/// saying what it is: missing, a directory, a script, not ELF, dynamically linked.
#[test]
fn a_bad_prebuilt_binary_is_bad_input() {
    let t = tempfile::tempdir().unwrap();
    let proj = t.path().join("p");
    std::fs::create_dir(&proj).unwrap();
    let script = t.path().join("run.sh");
    std::fs::write(&script, "#!/bin/sh\necho hi\n").unwrap();
    let text = t.path().join("notes.txt");
    std::fs::write(&text, "hello").unwrap();
    let short = t.path().join("short");
    std::fs::write(&short, "\x7fE").unwrap();
    let cases = [
        (t.path().join("nope"), "does not exist"),
        (t.path().to_path_buf(), "is a directory"),
        (script, "is a script, not an ELF executable"),
        (text, "is not an ELF executable"),
        (short, "is not an ELF executable"),
        ("/bin/ls".into(), "is dynamically linked"),
    ];
    for (bin, want) in cases {
        let (c, out, err) = code(
            drydock()
                .arg("build")
                .arg(&proj)
                .arg("--binary")
                .arg(&bin)
                .args(["--cache-dir"])
                .arg(t.path().join("cache"))
                .args(["--format", "json"]),
        );
        assert_eq!(c, 2, "{}: {out}{err}", bin.display());
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let msg = v["error"]["message"].as_str().unwrap_or_default();
        assert!(msg.contains(want), "{}: {out}", bin.display());
        assert!(v["error"]["fix"].is_string(), "{out}");
    }
}

/// SOURCE_DATE_EPOCH: negative, not a number, a fraction, past year 9999 — each is refused,
/// exit 2, saying which; the last second of year 9999 and surrounding blanks are fine.
#[test]
fn bad_source_date_epoch_values_are_refused() {
    let t = tempfile::tempdir().unwrap();
    let proj = t.path().join("p");
    std::fs::create_dir(&proj).unwrap();
    let bin = a_static_binary();
    let build = |v: &str| {
        code(
            drydock()
                .arg("build")
                .arg(&proj)
                .arg("--binary")
                .arg(&bin)
                .arg("--cache-dir")
                .arg(t.path().join("cache"))
                .arg("--output")
                .arg(format!("oci:{}", t.path().join("out").display()))
                .args(["--format", "json"])
                .env("SOURCE_DATE_EPOCH", v),
        )
    };
    for (v, want) in [
        ("-1", "is negative"),
        ("abc", "is not a whole number"),
        ("1.5", "is not a whole number"),
        ("0x10", "is not a whole number"),
        ("253402300800", "is after the year 9999"),
        ("99999999999999999999999999", "is after the year 9999"),
    ] {
        let (c, out, err) = build(v);
        assert_eq!(c, 2, "{v}: {out}{err}");
        assert!(
            out.contains(want) && out.contains("SOURCE_DATE_EPOCH"),
            "{v}: {out}"
        );
    }
    for (v, created) in [
        ("253402300799", "9999-12-31T23:59:59Z"),
        (" 17 ", "1970-01-01T00:00:17Z"),
    ] {
        let (c, out, err) = build(v);
        assert_eq!(c, 0, "{v}: {err}");
        let layout = t.path().join("out");
        let index: serde_json::Value =
            serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
        let _ = out;
        let manifests = index["manifests"].as_array().unwrap();
        let found = manifests.iter().any(|m| {
            let digest = m["digest"].as_str().unwrap().replace("sha256:", "");
            let man: serde_json::Value = serde_json::from_slice(
                &std::fs::read(layout.join("blobs/sha256").join(digest)).unwrap(),
            )
            .unwrap();
            let cfg = man["config"]["digest"]
                .as_str()
                .unwrap()
                .replace("sha256:", "");
            let cfg: serde_json::Value = serde_json::from_slice(
                &std::fs::read(layout.join("blobs/sha256").join(cfg)).unwrap(),
            )
            .unwrap();
            cfg["created"] == created
        });
        assert!(found, "{v}: created {created}");
    }
}

/// A literal secret in `[image] env` would be baked into the image: refused (exit 2) with the
/// key and the fix, by the judgement DF008 makes on a Dockerfile — a password in a URL too;
/// references, placeholders and plain settings pass, and `allow_secret_env` lets a named key
/// through.
#[test]
fn secrets_in_image_env_are_refused_at_build_time() {
    let t = tempfile::tempdir().unwrap();
    let proj = t.path().join("p");
    std::fs::create_dir(&proj).unwrap();
    let bin = a_static_binary();
    let build = |toml: &str| {
        std::fs::write(proj.join("drydock.toml"), toml).unwrap();
        code(
            drydock()
                .arg("build")
                .arg(&proj)
                .arg("--binary")
                .arg(&bin)
                .arg("--cache-dir")
                .arg(t.path().join("cache"))
                .arg("--output")
                .arg(format!("oci:{}", t.path().join("out").display())),
        )
    };
    for (env, key) in [
        ("API_TOKEN = \"tok-4f1c9a2b7e\"", "image.env.API_TOKEN"),
        ("DB_PASSWORD = \"hunter2hunter2\"", "image.env.DB_PASSWORD"),
        (
            "DATABASE_URL = \"postgres://app:s3cr3tpw@db/app\"",
            "image.env.DATABASE_URL",
        ),
    ] {
        let (c, _, err) = build(&format!(
            "name = \"p\"\nport = 8080\n[image]\nenv = {{ {env} }}\n"
        ));
        assert_eq!(c, 2, "{env}: {err}");
        assert!(
            err.contains("drydock.toml") && err.contains(key) && err.contains("DF008"),
            "{env}: {err}"
        );
        assert!(
            err.contains("fix: remove it from [image] env and pass it at run time"),
            "{err}"
        );
    }
    for env in [
        "TZ = \"UTC\"",
        "API_TOKEN = \"changeme\"",
        "API_TOKEN = \"${TOKEN}\"",
        "TOKEN_FILE = \"/run/secrets/token\"",
    ] {
        let (c, _, err) = build(&format!(
            "name = \"p\"\nport = 8080\n[image]\nenv = {{ {env} }}\n"
        ));
        assert_eq!(c, 0, "{env}: {err}");
    }
    let (c, _, err) = build(
        "name = \"p\"\nport = 8080\n[image]\nenv = { API_TOKEN = \"public-demo-token-1\" }\nallow_secret_env = [\"API_TOKEN\"]\n",
    );
    assert_eq!(c, 0, "allowed explicitly: {err}");
    let (c, _, err) = build(
        "name = \"p\"\nport = 8080\n[image]\nenv = { TZ = \"UTC\" }\nallow_secret_env = [\"API_TOKN\"]\n",
    );
    assert_eq!(c, 2, "{err}");
    assert!(
        err.contains("image.allow_secret_env") && err.contains("API_TOKN"),
        "{err}"
    );
}

/// Asset destinations that would overwrite drydock's own files (users, groups, CA bundle, the
/// helper, the binary), turn them into directories, replace its directories with files, land in
/// /tmp or the nonroot home, escape with `..`, or collide with another asset: a config error
/// naming the asset and the path. `dst = "/"` puts the contents at the image root.
#[test]
fn asset_destinations_never_collide_with_drydocks_files() {
    let t = tempfile::tempdir().unwrap();
    let proj = t.path().join("p");
    std::fs::create_dir_all(proj.join("static/css")).unwrap();
    std::fs::write(proj.join("static/index.html"), "<p>hi</p>").unwrap();
    std::fs::write(proj.join("static/css/a.css"), "p{}").unwrap();
    std::fs::create_dir_all(proj.join("etcfiles")).unwrap();
    std::fs::write(proj.join("etcfiles/passwd"), "root:x:0:0::/:/bin/sh\n").unwrap();
    std::fs::write(proj.join("one.txt"), "1").unwrap();
    let bin = a_static_binary();
    let build = |assets: &str, extra: &str| {
        std::fs::write(
            proj.join("drydock.toml"),
            format!("name = \"p\"\nport = 8080\n[image]\n{extra}assets = [{assets}]\n"),
        )
        .unwrap();
        let archive = t.path().join("img.tar");
        let _ = std::fs::remove_file(&archive);
        let r = code(
            drydock()
                .arg("build")
                .arg(&proj)
                .arg("--binary")
                .arg(&bin)
                .arg("--cache-dir")
                .arg(t.path().join("cache"))
                .arg("--output")
                .arg(format!("docker-archive:{}", archive.display())),
        );
        (r, archive)
    };
    let refused = [
        (
            r#"{ src = "etcfiles", dst = "/etc" }"#,
            "",
            "/etc/passwd",
            "users file",
        ),
        (
            r#"{ src = "one.txt", dst = "/etc/group" }"#,
            "",
            "/etc/group",
            "groups file",
        ),
        (
            r#"{ src = "one.txt", dst = "/etc/ssl/certs/ca-certificates.crt" }"#,
            "",
            "ca-certificates.crt",
            "CA bundle",
        ),
        (
            r#"{ src = "one.txt", dst = "/usr/local/bin/drydock-helper" }"#,
            "",
            "drydock-helper",
            "entrypoint",
        ),
        (
            r#"{ src = "one.txt", dst = "/app/p" }"#,
            "",
            "/app/p",
            "service binary",
        ),
        (
            r#"{ src = "static", dst = "/etc/passwd/sub" }"#,
            "",
            "/etc/passwd/sub",
            "(a file)",
        ),
        (
            r#"{ src = "one.txt", dst = "/usr/local/bin" }"#,
            "",
            "/usr/local/bin",
            "with a file",
        ),
        (
            r#"{ src = "static", dst = "/tmp/static" }"#,
            "",
            "/tmp/static",
            "tmpfs",
        ),
        (
            r#"{ src = "static", dst = "/home/nonroot" }"#,
            "",
            "/home/nonroot",
            "home",
        ),
        (
            r#"{ src = "static", dst = "/srv" }, { src = "static", dst = "/srv" }"#,
            "",
            "/srv/css/a.css",
            "image.assets[0] writes too",
        ),
        (
            r#"{ src = "static", dst = "/app/../etc" }"#,
            "",
            "image.assets[0].dst",
            "`..`",
        ),
    ];
    for (assets, extra, path, why) in refused {
        let ((c, _, err), _) = build(assets, extra);
        assert_eq!(c, 2, "{assets}: {err}");
        assert!(
            err.contains("drydock.toml") && err.contains(path) && err.contains(why),
            "{assets}: {err}"
        );
        assert!(err.contains("fix:") && !err.contains("panicked"), "{err}");
    }
    // Without the helper, its path is free.
    let ((c, _, err), _) = build(
        r#"{ src = "one.txt", dst = "/usr/local/bin/drydock-helper" }"#,
        "helper = false\n",
    );
    assert_eq!(c, 0, "{err}");
    // dst = "/": the source's contents at the root, drydock's files intact.
    let ((c, _, err), archive) = build(r#"{ src = "static", dst = "/" }"#, "");
    assert_eq!(c, 0, "{err}");
    let (_, _, files) = read_docker_archive(&archive);
    assert_eq!(files["/index.html"].data, b"<p>hi</p>");
    assert_eq!(files["/css/a.css"].data, b"p{}");
    assert!(String::from_utf8_lossy(&files["/etc/passwd"].data).contains("nonroot"));
    assert_eq!(files["/tmp"].mode & 0o7777, 0o1777);
}
