//! Go module mode end to end, offline: the real Go toolchain resolves modules through a
//! file-system proxy made from Debian's packaged sources (scripts/make-goproxy), and drydock
//! builds in module mode with the user's Go environment (GOFLAGS, GOPROXY, GONOSUMDB, GOPRIVATE,
//! GOWORK) passed through. The build report must list the binary's modules.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use common::*;

/// The proxy, made once per test run (the script is idempotent and fast when nothing changed).
fn proxy() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        require_tool("go");
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("goproxy-debian");
        run_ok(Command::new(repo_root().join("scripts/make-goproxy")).arg(&dir));
        assert!(
            dir.join("github.com/gin-gonic/gin/@v/v1.8.1.zip").is_file(),
            "make-goproxy made no gin v1.8.1 (is golang-github-gin-gonic-gin-dev installed? run ./scripts/setup)"
        );
        dir
    })
}

/// A module cache for the proxy as it is now: shared by the tests (the go command keeps it safe
/// under concurrent use), and named by a digest of the proxy's files, because the go command
/// never refetches a version it has cached and the proxy changes with Debian's packages.
fn modcache() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        use std::hash::{Hash, Hasher};
        let mut files = Vec::new();
        let mut stack = vec![proxy().to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let e = e.unwrap();
                let meta = e.metadata().unwrap();
                if meta.is_dir() {
                    stack.push(e.path());
                } else {
                    files.push((e.path(), meta.len()));
                }
            }
        }
        files.sort();
        let mut h = std::collections::hash_map::DefaultHasher::new();
        for (path, len) in &files {
            path.hash(&mut h);
            len.hash(&mut h);
            if path.extension().is_some_and(|x| x == "mod") {
                std::fs::read(path).unwrap().hash(&mut h);
            }
        }
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("gomodcache-{:016x}", h.finish()))
    })
}

/// Module mode with the proxy and a fresh GOPATH. Nothing of the caller's Go environment leaks in.
fn go_env<'a>(cmd: &'a mut Command, gopath: &Path) -> &'a mut Command {
    for k in [
        "GO111MODULE",
        "GOFLAGS",
        "GOWORK",
        "GONOSUMDB",
        "GONOPROXY",
        "GOPRIVATE",
        "GOINSECURE",
    ] {
        cmd.env_remove(k);
    }
    cmd.env("GOPATH", gopath)
        .env("GOMODCACHE", modcache())
        .env("GOPROXY", format!("file://{}", proxy().display()))
        .env("GOSUMDB", "off")
}

struct Fixture {
    _t: tempfile::TempDir,
    dir: PathBuf,
    gopath: PathBuf,
    cache: PathBuf,
}

fn fixture() -> Fixture {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("svc");
    let gopath = t.path().join("gopath");
    let cache = t.path().join("cache");
    std::fs::create_dir_all(dir.join("cmd/api")).unwrap();
    std::fs::create_dir_all(dir.join("internal/greet")).unwrap();
    std::fs::write(
        dir.join("cmd/api/main.go"),
        "package main\n\nimport (\n\t\"github.com/gin-gonic/gin\"\n\n\t\"example.com/svc/internal/greet\"\n)\n\nfunc main() {\n\tr := gin.New()\n\tr.GET(\"/\", func(c *gin.Context) { c.String(200, greet.Hello()) })\n\t_ = r.Run(\":8080\")\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("internal/greet/greet.go"),
        "package greet\n\nfunc Hello() string { return \"hello\" }\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("go.mod"),
        "module example.com/svc\n\ngo 1.19\n\nrequire github.com/gin-gonic/gin v1.8.1\n",
    )
    .unwrap();
    Fixture {
        _t: t,
        dir,
        gopath,
        cache,
    }
}

impl Fixture {
    /// `go mod tidy` through the proxy writes go.mod and go.sum, as a user's would. `-e`: gin's
    /// go_json build tag imports github.com/goccy/go-json, which Debian does not package; the
    /// default build does not need it.
    fn tidy(&self) {
        run_ok(
            go_env(&mut Command::new("go"), &self.gopath)
                .args(["mod", "tidy", "-e"])
                .current_dir(&self.dir),
        );
        assert!(self.dir.join("go.sum").is_file());
    }

    fn build(&self, env: &[(&str, &str)]) -> Output {
        let mut cmd = drydock();
        go_env(&mut cmd, &self.gopath);
        cmd.envs(env.iter().copied());
        run(cmd
            .arg("build")
            .arg(&self.dir)
            .arg("--cache-dir")
            .arg(&self.cache)
            .args(["--format", "json"]))
    }

    fn build_ok_args(&self, args: &[&str]) -> serde_json::Value {
        let mut cmd = drydock();
        go_env(&mut cmd, &self.gopath);
        let out = run(cmd
            .arg("build")
            .arg(&self.dir)
            .arg("--cache-dir")
            .arg(&self.cache)
            .args(["--format", "json"])
            .args(args));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("JSON report")
    }

    fn build_ok(&self, env: &[(&str, &str)]) -> serde_json::Value {
        let out = self.build(env);
        assert!(
            out.status.success(),
            "drydock build failed: {}\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("JSON report")
    }
}

fn dep<'a>(report: &'a serde_json::Value, path: &str) -> &'a serde_json::Value {
    report["binary"]["go"]["deps"]
        .as_array()
        .and_then(|d| d.iter().find(|m| m["path"] == path))
        .unwrap_or_else(|| panic!("no dependency {path} in {}", report["binary"]["go"]))
}

/// The `h1:` hash go.sum holds for a module zip.
fn go_sum_hash(dir: &Path, module: &str, version: &str) -> String {
    let sum = std::fs::read_to_string(dir.join("go.sum")).unwrap();
    sum.lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() == 3 && f[0] == module && f[1] == version).then(|| f[2].to_string())
        })
        .unwrap_or_else(|| panic!("no {module} {version} in go.sum:\n{sum}"))
}

#[test]
fn module_with_go_sum_builds_and_the_report_lists_its_modules() {
    let f = fixture();
    f.tidy();
    let report = f.build_ok(&[]);
    let assumptions = report["assumptions"].to_string();
    assert!(
        assumptions.contains("main package: ./cmd/api"),
        "{assumptions}"
    );
    let go = &report["binary"]["go"];
    assert_eq!(go["path"], "example.com/svc/cmd/api", "{go}");
    assert_eq!(go["main_module"]["path"], "example.com/svc", "{go}");
    assert_eq!(go["main_module"]["version"], "(devel)", "{go}");
    // Each dependency with the version and hash go.sum holds for it: the build info is the
    // binary's own record, not a copy of go.sum.
    let gin = dep(&report, "github.com/gin-gonic/gin");
    assert_eq!(gin["version"], "v1.8.1");
    assert_eq!(
        gin["sum"].as_str().unwrap(),
        go_sum_hash(&f.dir, "github.com/gin-gonic/gin", "v1.8.1")
    );
    let deps = go["deps"].as_array().unwrap();
    assert!(deps.len() >= 10, "{go}");
    for d in deps {
        let (p, v) = (d["path"].as_str().unwrap(), d["version"].as_str().unwrap());
        assert_eq!(d["sum"].as_str().unwrap(), go_sum_hash(&f.dir, p, v), "{d}");
    }
    // `go version -m` agrees on the list.
    let binary = f.cache.join("bin");
    std::fs::create_dir_all(&binary).unwrap();
    let out = run_ok(
        go_env(&mut Command::new("go"), &f.gopath)
            .args(["build", "-o"])
            .arg(binary.join("api"))
            .arg("./cmd/api")
            .env("CGO_ENABLED", "0")
            .current_dir(&f.dir),
    );
    let _ = out;
    let listed = run_ok(
        Command::new("go")
            .args(["version", "-m"])
            .arg(binary.join("api")),
    );
    let go_deps = listed
        .lines()
        .filter(|l| l.trim_start().starts_with("dep\t"))
        .count();
    assert_eq!(go_deps, deps.len(), "{listed}");

    // The text report shows the same list.
    let mut cmd = drydock();
    go_env(&mut cmd, &f.gopath);
    let text = run_ok(
        cmd.arg("build")
            .arg(&f.dir)
            .arg("--cache-dir")
            .arg(&f.cache),
    );
    assert!(
        text.contains("module example.com/svc (devel),")
            && text.contains(&format!(
                "    github.com/gin-gonic/gin v1.8.1 {}\n",
                gin["sum"].as_str().unwrap()
            )),
        "{text}"
    );
    // GO111MODULE=on is the same build.
    let on = f.build_ok(&[("GO111MODULE", "on")]);
    assert_eq!(on["binary"]["go"]["deps"], report["binary"]["go"]["deps"]);
}

#[test]
fn without_go_sum_readonly_fails_with_the_fix_and_goflags_mod_mod_builds() {
    let f = fixture();
    let out = f.build(&[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("missing go.sum entry") && stdout.contains("go mod tidy"),
        "{stdout}"
    );
    // GOFLAGS passes through to go build: -mod=mod resolves and records the sums itself, in
    // drydock's staged copy, never in the user's tree.
    let report = f.build_ok(&[("GOFLAGS", "-mod=mod")]);
    assert_eq!(
        dep(&report, "github.com/gin-gonic/gin")["version"],
        "v1.8.1"
    );
    assert!(dep(&report, "github.com/gin-gonic/gin")["sum"]
        .as_str()
        .unwrap()
        .starts_with("h1:"));
    assert!(
        !f.dir.join("go.sum").exists(),
        "drydock wrote the user's go.sum"
    );
}

#[test]
fn vendor_directory_builds_with_no_proxy() {
    let f = fixture();
    f.tidy();
    run_ok(
        go_env(&mut Command::new("go"), &f.gopath)
            .args(["mod", "vendor", "-e"])
            .current_dir(&f.dir),
    );
    assert!(f.dir.join("vendor/modules.txt").is_file());
    // No proxy and an empty module cache: everything must come from vendor/.
    let empty = f.gopath.join("empty-modcache");
    let empty = empty.to_str().unwrap();
    let offline = [("GOPROXY", "off"), ("GOMODCACHE", empty)];
    let mut env = offline.to_vec();
    env.push(("GOFLAGS", "-mod=vendor"));
    let report = f.build_ok(&env);
    assert_eq!(
        dep(&report, "github.com/gin-gonic/gin")["version"],
        "v1.8.1"
    );
    // With go 1.14+ and vendor/modules.txt, vendor mode is the default.
    let report = f.build_ok(&offline);
    assert_eq!(
        dep(&report, "github.com/gin-gonic/gin")["version"],
        "v1.8.1"
    );
    // -mod=mod passes through too, and then needs the modules: none are reachable.
    let mut env = offline.to_vec();
    env.push(("GOFLAGS", "-mod=mod"));
    let out = f.build(&env);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn gonosumdb_and_goprivate_pass_through_to_the_checksum_database_lookup() {
    let f = fixture();
    // A checksum database on a loopback port where nothing listens: any lookup fails, offline.
    let sumdb = format!("sum.golang.org http://127.0.0.1:{}", free_port());
    let base = [("GOFLAGS", "-mod=mod"), ("GOSUMDB", sumdb.as_str())];
    let out = f.build(&base);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("verifying"), "{stdout}");

    let patterns = "github.com,golang.org,google.golang.org,gopkg.in";
    let mut env = base.to_vec();
    env.push(("GONOSUMDB", patterns));
    f.build_ok(&env);

    // GOPRIVATE implies GONOSUMDB (and GONOPROXY, which `none` turns back to the proxy).
    let mut env = base.to_vec();
    env.extend([("GOPRIVATE", patterns), ("GONOPROXY", "none")]);
    f.build_ok(&env);
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A module using `example.com/lib` through a local `replace` to `target`.
fn replace_fixture(target: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("svc");
    let lib = dir.join(target);
    write(
        &dir.join("go.mod"),
        &format!("module example.com/svc\n\ngo 1.19\n\nrequire example.com/lib v0.0.0\n\nreplace example.com/lib => {target}\n"),
    );
    write(
        &dir.join("main.go"),
        "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/lib\"\n)\n\nfunc main() { fmt.Println(lib.Name()) }\n",
    );
    write(&lib.join("go.mod"), "module example.com/lib\n\ngo 1.19\n");
    write(
        &lib.join("lib.go"),
        "package lib\n\nfunc Name() string { return \"lib\" }\n",
    );
    let gopath = t.path().join("gopath");
    (t, dir, gopath)
}

fn build_in(dir: &Path, gopath: &Path, cache: &Path, env: &[(&str, &str)]) -> Output {
    let mut cmd = drydock();
    go_env(&mut cmd, gopath);
    cmd.envs(env.iter().copied());
    run(cmd
        .arg("build")
        .arg(dir)
        .arg("--cache-dir")
        .arg(cache)
        .args(["--format", "json"]))
}

#[test]
fn replace_to_a_local_directory_inside_the_context_builds() {
    let (t, dir, gopath) = replace_fixture("./third_party/lib");
    let out = build_in(
        &dir,
        &gopath,
        &t.path().join("cache"),
        &[("GOPROXY", "off")],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let lib = dep(&report, "example.com/lib");
    assert_eq!(lib["version"], "v0.0.0", "{lib}");
    assert_eq!(lib["replaced_by"]["path"], "./third_party/lib", "{lib}");
    assert_eq!(lib["replaced_by"]["version"], "(devel)", "{lib}");

    // Left out by .dockerignore: named, with the line and the fix, before go runs.
    std::fs::write(dir.join(".dockerignore"), "third_party/\n").unwrap();
    let out = build_in(
        &dir,
        &gopath,
        &t.path().join("cache"),
        &[("GOPROXY", "off")],
    );
    assert_eq!(out.status.code(), Some(2));
    let err: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let e = &err["error"];
    assert_eq!(e["kind"], "input", "{e}");
    assert_eq!(e["line"], 7, "{e}");
    assert!(e["path"].as_str().unwrap().ends_with("svc/go.mod"), "{e}");
    assert!(
        e["message"].as_str().unwrap().contains(".dockerignore")
            && e["fix"]
                .as_str()
                .unwrap()
                .contains("un-ignore third_party/lib/"),
        "{e}"
    );
}

#[test]
fn replace_to_a_directory_outside_the_context_is_refused_with_the_line_and_fix() {
    let (t, dir, gopath) = replace_fixture("../lib");
    // go itself builds it from the user's tree ...
    run_ok(
        go_env(&mut Command::new("go"), &gopath)
            .args(["build", "-o", "/dev/null", "."])
            .env("GOPROXY", "off")
            .current_dir(&dir),
    );
    // ... but drydock compiles only the context, and says why and what to do.
    let out = build_in(
        &dir,
        &gopath,
        &t.path().join("cache"),
        &[("GOPROXY", "off")],
    );
    assert_eq!(out.status.code(), Some(2));
    let err: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let e = &err["error"];
    assert_eq!(e["kind"], "input", "{e}");
    assert_eq!(e["line"], 7, "{e}");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("replace points at ../lib, outside the build context"),
        "{e}"
    );
    assert!(e["fix"].as_str().unwrap().contains("go.work"), "{e}");

    // Vendored, the replacement directory is not read: it builds.
    run_ok(
        go_env(&mut Command::new("go"), &gopath)
            .args(["mod", "vendor"])
            .env("GOPROXY", "off")
            .current_dir(&dir),
    );
    let out = build_in(
        &dir,
        &gopath,
        &t.path().join("cache"),
        &[("GOPROXY", "off")],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn go_work_workspace_is_the_project_from_any_of_its_modules() {
    let t = tempfile::tempdir().unwrap();
    let ws = t.path().join("ws");
    write(
        &ws.join("go.work"),
        "go 1.19\n\nuse (\n\t./api\n\t./lib\n)\n",
    );
    // api needs example.com/lib, which only the workspace provides (no replace, no proxy).
    write(
        &ws.join("api/go.mod"),
        "module example.com/api\n\ngo 1.19\n\nrequire example.com/lib v0.0.0\n",
    );
    write(
        &ws.join("api/cmd/server/main.go"),
        "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/lib\"\n)\n\nfunc main() { fmt.Println(lib.Name()) }\n",
    );
    write(
        &ws.join("lib/go.mod"),
        "module example.com/lib\n\ngo 1.19\n",
    );
    write(
        &ws.join("lib/lib.go"),
        "package lib\n\nfunc Name() string { return \"lib\" }\n",
    );
    let gopath = t.path().join("gopath");
    let cache = t.path().join("cache");
    for dir in [ws.clone(), ws.join("api/cmd/server")] {
        let out = build_in(&dir, &gopath, &cache, &[("GOPROXY", "off")]);
        assert!(
            out.status.success(),
            "{}: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stdout)
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let assumptions = report["assumptions"].to_string();
        assert!(
            if dir == ws {
                assumptions.contains("main package: ./api/cmd/server")
            } else {
                assumptions.contains("its go.work is above")
            },
            "{assumptions}"
        );
        let go = &report["binary"]["go"];
        assert_eq!(go["path"], "example.com/api/cmd/server", "{go}");
        assert_eq!(go["main_module"]["path"], "example.com/api", "{go}");
        let lib = dep(&report, "example.com/lib");
        assert_eq!(lib["version"], "(devel)", "{lib}");
    }
    // GOWORK=off: the go command builds api alone, and says it cannot find example.com/lib.
    let out = build_in(
        &ws.join("api/cmd/server"),
        &gopath,
        &cache,
        &[("GOPROXY", "off"), ("GOWORK", "off")],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("example.com/lib"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn module_mode_sbom_lists_every_module_with_its_go_sum_hash() {
    let f = fixture();
    f.tidy();
    let out = f.dir.parent().unwrap().join("sbom");
    let o = out.display().to_string();
    let report = f.build_ok_args(&["--sbom", "both", "--sbom-dir", &o]);
    let cdx: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("svc.cdx.json")).unwrap()).unwrap();
    let cs = cdx["components"].as_array().unwrap();
    let app = cs.iter().find(|c| c["bom-ref"] == "application").unwrap();
    assert_eq!(app["name"], "example.com/svc", "{app}");
    // Every module of the build info, with go.sum's h1: hash, and that hash as SHA-256.
    let deps = report["binary"]["go"]["deps"].as_array().unwrap();
    assert!(!deps.is_empty());
    for d in deps {
        let (path, version) = (d["path"].as_str().unwrap(), d["version"].as_str().unwrap());
        let c = cs
            .iter()
            .find(|c| c["name"] == path)
            .unwrap_or_else(|| panic!("{path} is not in the SBOM"));
        assert_eq!(c["version"], version);
        assert_eq!(
            c["purl"].as_str().unwrap(),
            format!("pkg:golang/{path}@{version}")
        );
        let h1 = go_sum_hash(&f.dir, path, version);
        assert!(c["properties"].to_string().contains(&h1), "{c}");
        let sha = c["hashes"][0]["content"].as_str().unwrap();
        use base64::Engine as _;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(h1.strip_prefix("h1:").unwrap())
            .unwrap();
        assert_eq!(sha, hex::encode(raw));
    }
    let spdx: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("svc.spdx.json")).unwrap()).unwrap();
    assert_eq!(spdx["packages"].as_array().unwrap().len(), cs.len() + 1);
}

/// go.sum's `h1:` hash of a go.mod file alone, as the go command computes it (dirhash Hash1
/// over the one file `go.mod`).
fn go_mod_h1(go_mod: &[u8]) -> String {
    use base64::Engine as _;
    use sha2::{Digest as _, Sha256};
    let summary = format!("{:x}  go.mod\n", Sha256::digest(go_mod));
    format!(
        "h1:{}",
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(summary.as_bytes()))
    )
}

/// examples/gin-api ships the go.mod and go.sum that `go mod tidy` writes against the public
/// proxy (for a user who has it). The checksum database cannot be reached here, so what can be
/// checked is checked: every module go.mod requires has both its lines in go.sum, and the
/// `/go.mod` hashes of the modules Debian packages at those same versions (gin v1.8.1, sse
/// v0.1.0, yaml.v2 v2.4.0) are the hashes of Debian's go.mod files, computed here.
#[test]
fn the_gin_example_go_sum_covers_its_go_mod_and_agrees_with_debians_go_mod_files() {
    let dir = repo_root().join("examples/gin-api");
    let go_mod = std::fs::read_to_string(dir.join("go.mod")).unwrap();
    let sum = std::fs::read_to_string(dir.join("go.sum")).unwrap();
    let required: Vec<(&str, &str)> = go_mod
        .lines()
        .map(|l| l.trim().trim_start_matches("require ").trim())
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 2 && f[1].starts_with('v') && f[0].contains('.')).then(|| (f[0], f[1]))
        })
        .collect();
    assert_eq!(
        required.len(),
        19,
        "gin and its 18 indirect modules:\n{go_mod}"
    );
    for (m, v) in &required {
        go_sum_hash(&dir, m, v);
        go_sum_hash(&dir, m, &format!("{v}/go.mod"));
    }
    for (module, version) in [
        ("github.com/gin-gonic/gin", "v1.8.1"),
        ("github.com/gin-contrib/sse", "v0.1.0"),
        ("gopkg.in/yaml.v2", "v2.4.0"),
    ] {
        let debian = std::fs::read(
            Path::new("/usr/share/gocode/src")
                .join(module)
                .join("go.mod"),
        )
        .unwrap_or_else(|e| panic!("Debian's {module} go.mod (run ./scripts/setup): {e}"));
        assert_eq!(
            go_sum_hash(&dir, module, &format!("{version}/go.mod")),
            go_mod_h1(&debian),
            "{module} {version}"
        );
    }
}
