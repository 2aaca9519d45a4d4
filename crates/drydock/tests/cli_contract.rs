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
    // gin-api in module mode, as shipped (no go.sum), with no proxy.
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
        err.contains("go mod tidy") && err.contains("GO111MODULE=off"),
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
    // (command, has --format json, input error args, its kind); None: the command takes no
    // input beyond its flags (rules), or has no --format (then the error is checked as text).
    type Row<'a> = (&'a str, bool, Option<(Vec<&'a str>, &'a str)>);
    let table: Vec<Row> = vec![
        ("build", true, Some((vec!["build", &m], "input"))),
        ("init", true, Some((vec!["init", &m], "input"))),
        ("deploy", true, Some((vec!["deploy", &m], "input"))),
        ("lint", true, Some((vec!["lint", &m], "input"))),
        ("rules", true, None),
        ("rule", false, Some((vec!["rule", "XX999"], "usage"))),
        ("run", false, Some((vec!["run", &m], "input"))),
        (
            "pull",
            true,
            Some((vec!["pull", "UPPER/X:1", "--output", &oci_missing], "usage")),
        ),
        ("bench", true, Some((vec!["bench", &m], "input"))),
        (
            "push",
            true,
            Some((vec!["push", &oci_missing, "127.0.0.1:1/x:1"], "input")),
        ),
        ("login", false, None),
        ("cache", true, None),
        ("logout", false, None),
        ("context", true, Some((vec!["context", &m], "input"))),
        (
            "keygen",
            true,
            Some((
                vec!["keygen", "--output-key-prefix", &existing_key],
                "input",
            )),
        ),
        (
            "sign",
            true,
            Some((vec!["sign", "127.0.0.1:1/x:1", "--key", &m], "input")),
        ),
        (
            "verify",
            true,
            Some((vec!["verify", "127.0.0.1:1/x:1", "--key", &m], "input")),
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
    let json_of = |out: &str, what: &str| -> serde_json::Value {
        serde_json::from_str(out).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {out:?}"))
    };
    for (cmd, has_format, input) in &table {
        // A usage error, with JSON asked for in either spelling.
        for json_flag in [&["--format", "json"][..], &["--format=json"][..]] {
            let (c, out, err) = code(drydock().args([cmd, "--no-such-flag"]).args(json_flag));
            assert_eq!(c, 2, "{cmd}: {err}");
            let e = &json_of(&out, cmd)["error"];
            assert_eq!(e["kind"], "usage", "{cmd}: {out}");
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
        let Some((args, kind)) = input else { continue };
        if *has_format {
            let (c, out, err) = code(
                drydock()
                    .args(args)
                    .args(["--format", "json"])
                    .stdin(Stdio::null()),
            );
            assert_eq!(c, 2, "{cmd}: {err}");
            let e = &json_of(&out, cmd)["error"];
            assert_eq!(e["kind"], *kind, "{cmd}: {out}");
            assert!(
                e["message"].as_str().is_some_and(|m| !m.is_empty()),
                "{out}"
            );
            assert!(
                e["fix"].as_str().is_some_and(|f| !f.contains("fix:")),
                "{out}"
            );
            assert!(
                err.starts_with("error: ") || err.contains("\nerror: "),
                "{err}"
            );
        } else {
            // No --format on this command: the error is text, and stdout stays empty.
            let (c, out, err) = code(drydock().args(args).stdin(Stdio::null()));
            assert_eq!((c, out.as_str()), (2, ""), "{cmd}: {err}");
            assert!(err.contains("error: "), "{cmd}: {err}");
        }
    }
    // A configuration error: lint's [lint] section.
    let (c, out, _) = code(drydock().args(["lint", &b, "--format", "json"]));
    assert_eq!(c, 2);
    let e = &json_of(&out, "lint config")["error"];
    assert_eq!(e["kind"], "config", "{out}");
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
