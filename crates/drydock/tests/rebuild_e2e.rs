//! The rebuild cache, with the real Go toolchain and cargo: a no-change rebuild skips the
//! compiler and gives the same image; every input the compiler reads forces a rebuild when it
//! changes (a source file, a GOPATH package, a Cargo path dependency outside the context, an
//! environment variable, the toolchain, go.sum).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// `drydock build` with extra environment; returns the JSON report.
fn build(dir: &Path, cache: &Path, env: &[(&str, &str)], args: &[&str]) -> serde_json::Value {
    let mut cmd = drydock();
    cmd.arg("build")
        .arg(dir)
        .arg("--cache-dir")
        .arg(cache)
        .args(["--format", "json"])
        .args(args)
        .envs(env.iter().copied());
    let out = run(&mut cmd);
    assert!(
        out.status.success(),
        "drydock build failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON report")
}

fn cached(r: &serde_json::Value) -> bool {
    r["binary"]["cached"]
        .as_bool()
        .expect("binary.cached in the report")
}

fn write(path: &Path, body: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, body).unwrap();
}

/// A GOPATH-mode Go program importing a package of a private GOPATH.
fn go_project(t: &Path) -> (PathBuf, PathBuf) {
    let gopath = t.join("gopath");
    write(
        &gopath.join("src/example.com/greet/greet.go"),
        "package greet\n\nfunc Hello() string { return \"hello\" }\n",
    );
    let dir = t.join("app");
    write(
        &dir.join("main.go"),
        "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/greet\"\n)\n\nfunc main() { fmt.Println(greet.Hello()) }\n",
    );
    write(&dir.join(".dockerignore"), ".git\n");
    write(&dir.join("drydock.toml"), "name = \"app\"\nport = 8080\n");
    (gopath, dir)
}

#[test]
fn go_gopath_rebuild_skips_the_compiler_until_an_input_changes() {
    require_tool("go");
    let t = tempfile::tempdir().unwrap();
    let (gopath, dir) = go_project(t.path());
    let cache = t.path().join("cache");
    let gp = gopath.to_str().unwrap().to_string();
    let env = [("GOPATH", gp.as_str()), ("GO111MODULE", "off")];
    let b = |extra: &[(&str, &str)], args: &[&str]| {
        let mut e = env.to_vec();
        e.extend_from_slice(extra);
        build(&dir, &cache, &e, args)
    };

    let first = b(&[], &[]);
    assert!(!cached(&first), "a first build compiles");
    let again = b(&[], &[]);
    assert!(cached(&again), "nothing changed: the compiler is skipped");
    assert_eq!(
        again["digest"], first["digest"],
        "and the image is the same"
    );

    // The text report says so.
    let out = run_ok(
        drydock()
            .arg("build")
            .arg(&dir)
            .arg("--cache-dir")
            .arg(&cache)
            .envs(env),
    );
    assert!(out.contains("(cached"), "{out}");

    // A touched but unchanged file: same content hash, still cached.
    let main = dir.join("main.go");
    let body = std::fs::read_to_string(&main).unwrap();
    std::fs::write(&main, &body).unwrap();
    assert!(cached(&b(&[], &[])), "same content, new mtime: cached");

    // A source file of the context.
    std::fs::write(&main, body.replace("fmt.Println(", "fmt.Print(")).unwrap();
    let changed = b(&[], &[]);
    assert!(!cached(&changed), "a changed source file recompiles");
    assert_ne!(changed["digest"], first["digest"]);
    assert!(cached(&b(&[], &[])));

    // A GOPATH package the build used, outside the context: its content...
    let greet = gopath.join("src/example.com/greet/greet.go");
    std::fs::write(
        &greet,
        "package greet\n\nfunc Hello() string { return \"hellO\" }\n",
    )
    .unwrap();
    let dep = b(&[], &[]);
    assert!(!cached(&dep), "a changed GOPATH package recompiles");
    assert_ne!(dep["digest"], changed["digest"]);
    assert!(cached(&b(&[], &[])));
    // ...and a file added to it.
    write(
        &gopath.join("src/example.com/greet/extra.go"),
        "package greet\n\nfunc init() { println(\"init\") }\n",
    );
    assert!(!cached(&b(&[], &[])), "a file added to a GOPATH package");
    assert!(cached(&b(&[], &[])));

    // Environment the compiler sees.
    assert!(!cached(&b(&[("GOFLAGS", "-tags=extra")], &[])), "GOFLAGS");
    assert!(cached(&b(&[("GOFLAGS", "-tags=extra")], &[])));
    assert!(cached(&b(&[], &[])), "back to the first environment");
    // cgo builds read the C toolchain and system headers: never taken from the cache.
    assert!(!cached(&b(&[("CGO_ENABLED", "1")], &[])), "CGO_ENABLED=1");
    assert!(
        !cached(&b(&[("CGO_ENABLED", "1")], &[])),
        "cgo is not cached"
    );

    // The toolchain: another `go` first on PATH.
    let bin = t.path().join("bin");
    let real_go = Command::new("sh")
        .args(["-c", "command -v go"])
        .output()
        .unwrap();
    let real_go = String::from_utf8_lossy(&real_go.stdout).trim().to_string();
    write(
        &bin.join("go"),
        &format!("#!/bin/sh\nexec {real_go} \"$@\"\n"),
    );
    run_ok(Command::new("chmod").arg("+x").arg(bin.join("go")));
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    assert!(!cached(&b(&[("PATH", &path)], &[])), "another go toolchain");
    assert!(cached(&b(&[("PATH", &path)], &[])));
    // The same wrapper, rewritten (a toolchain update in place): run again.
    std::thread::sleep(std::time::Duration::from_millis(20));
    write(
        &bin.join("go"),
        &format!("#!/bin/sh\n# updated\nexec {real_go} \"$@\"\n"),
    );
    assert!(!cached(&b(&[("PATH", &path)], &[])), "an updated toolchain");

    // --no-cache runs the compiler whatever the cache holds.
    let forced = b(&[], &["--no-cache"]);
    assert!(!cached(&forced));
    assert_eq!(forced["digest"], b(&[], &[])["digest"]);
}

#[test]
fn go_module_rebuild_follows_go_mod_and_go_sum() {
    require_tool("go");
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("m");
    write(&dir.join("go.mod"), "module example.com/m\n\ngo 1.19\n");
    write(&dir.join("go.sum"), "");
    write(
        &dir.join("main.go"),
        "package main\n\nfunc main() { println(\"m\") }\n",
    );
    write(&dir.join(".dockerignore"), ".git\n");
    write(&dir.join("drydock.toml"), "name = \"m\"\nport = 8080\n");
    let cache = t.path().join("cache");
    let env = [("GO111MODULE", "on"), ("GOFLAGS", "-mod=mod")];
    let first = build(&dir, &cache, &env, &[]);
    assert!(!cached(&first));
    assert!(cached(&build(&dir, &cache, &env, &[])));
    // go.sum stands for the module cache (immutable per version): a change recompiles.
    write(
        &dir.join("go.sum"),
        "golang.org/x/text v0.3.0/go.mod h1:NqM8EUOU14njkJ3fqMW+pc6Ldnwhi/IjpwHt7yyuwOQ=\n",
    );
    assert!(!cached(&build(&dir, &cache, &env, &[])), "go.sum changed");
    assert!(cached(&build(&dir, &cache, &env, &[])));
    write(&dir.join("go.mod"), "module example.com/m\n\ngo 1.20\n");
    assert!(!cached(&build(&dir, &cache, &env, &[])), "go.mod changed");
}

#[test]
fn cargo_rebuild_follows_path_dependencies_outside_the_context_and_rustflags() {
    require_tool("cargo");
    let t = tempfile::tempdir().unwrap();
    let dep = t.path().join("dep");
    write(
        &dep.join("Cargo.toml"),
        "[package]\nname = \"dep\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    write(
        &dep.join("src/lib.rs"),
        "pub fn word() -> &'static str { \"one\" }\n",
    );
    let dir = t.path().join("app");
    write(
        &dir.join("Cargo.toml"),
        &format!(
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\ndep = {{ path = \"{}\" }}\n",
            dep.display()
        ),
    );
    write(
        &dir.join("src/main.rs"),
        "fn main() { println!(\"{}\", dep::word()); }\n",
    );
    write(&dir.join(".dockerignore"), "target/\n");
    run_ok(
        Command::new("cargo")
            .args(["generate-lockfile", "--offline"])
            .current_dir(&dir),
    );
    let _ = std::fs::remove_dir_all(dir.join("target"));
    let cache = t.path().join("cache");
    let first = build(&dir, &cache, &[], &[]);
    assert!(!cached(&first));
    let again = build(&dir, &cache, &[], &[]);
    assert!(cached(&again), "nothing changed");
    assert_eq!(again["digest"], first["digest"]);

    // The path dependency lives outside the context: its change is still seen.
    write(
        &dep.join("src/lib.rs"),
        "pub fn word() -> &'static str { \"two\" }\n",
    );
    let changed = build(&dir, &cache, &[], &[]);
    assert!(!cached(&changed), "a changed path dependency recompiles");
    assert_ne!(changed["digest"], first["digest"]);
    assert!(cached(&build(&dir, &cache, &[], &[])));

    // RUSTFLAGS.
    let env = [("RUSTFLAGS", "-C debug-assertions=on")];
    assert!(!cached(&build(&dir, &cache, &env, &[])), "RUSTFLAGS");
    assert!(cached(&build(&dir, &cache, &env, &[])));

    // A source file of the context.
    write(
        &dir.join("src/main.rs"),
        "fn main() { println!(\"{}!\", dep::word()); }\n",
    );
    assert!(
        !cached(&build(&dir, &cache, &[], &[])),
        "a changed source file"
    );
}

#[test]
fn a_file_rewritten_with_the_same_size_and_mtime_is_not_served_stale() {
    require_tool("go");
    let t = tempfile::tempdir().unwrap();
    let (gopath, dir) = go_project(t.path());
    let gp = gopath.to_str().unwrap().to_string();
    let env = [("GOPATH", gp.as_str()), ("GO111MODULE", "off")];
    let cache = t.path().join("cache");
    let main = dir.join("main.go");
    let body = std::fs::read_to_string(&main).unwrap();
    let mtime = std::fs::metadata(&main).unwrap().modified().unwrap();
    let first = build(&dir, &cache, &env, &[]);
    // Same size, same mtime, other bytes: only the content tells.
    std::fs::write(&main, body.replace("fmt.Println(", "fmt.Print(  ")).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&main)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    let changed = build(&dir, &cache, &env, &[]);
    assert!(!cached(&changed), "the content changed");
    assert_ne!(changed["digest"], first["digest"]);
    // What a fresh cache builds from the same tree: the compiler saw the new bytes.
    let fresh = build(&dir, &t.path().join("fresh"), &env, &[]);
    assert_eq!(changed["digest"], fresh["digest"]);
}

/// The dependency lists (`deps-*.json`) in the cache's compile directory, with their bytes and
/// inode (a list written again, atomically, gets a new one).
fn deps_lists(cache: &Path) -> Vec<(String, Vec<u8>, u64)> {
    use std::os::unix::fs::MetadataExt;
    let mut out: Vec<_> = std::fs::read_dir(cache.join("compile"))
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name().to_string_lossy().starts_with("deps-"))
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
                e.metadata().unwrap().ino(),
            )
        })
        .collect();
    out.sort();
    out
}

/// A change inside a function body keeps the GOPATH build's dependency list (no `go list`
/// beside the compiler), and the list stays right: a change to a GOPATH package it names still
/// recompiles; an import added lists again, and the new package is followed from then on.
#[test]
fn a_body_change_reuses_the_gopath_dependency_list_and_it_stays_right() {
    require_tool("go");
    let t = tempfile::tempdir().unwrap();
    let (gopath, dir) = go_project(t.path());
    let cache = t.path().join("cache");
    let gp = gopath.to_str().unwrap().to_string();
    let env = [("GOPATH", gp.as_str()), ("GO111MODULE", "off")];
    let b = || build(&dir, &cache, &env, &[]);
    assert!(!cached(&b()));
    let lists = deps_lists(&cache);
    assert_eq!(lists.len(), 1, "one dependency list");
    assert!(String::from_utf8_lossy(&lists[0].1).contains("example.com/greet"));

    // A body change: compiled, and the list is the one recorded (not listed again).
    let main = dir.join("main.go");
    let body = std::fs::read_to_string(&main).unwrap();
    std::fs::write(&main, body.replace("fmt.Println(", "fmt.Print(")).unwrap();
    assert!(!cached(&b()));
    assert_eq!(deps_lists(&cache), lists, "the same list, not rewritten");
    assert!(cached(&b()));

    // The GOPATH package the reused list names: a change recompiles.
    let greet = gopath.join("src/example.com/greet/greet.go");
    std::fs::write(
        &greet,
        "package greet\n\nfunc Hello() string { return \"hi\" }\n",
    )
    .unwrap();
    assert!(!cached(&b()), "a changed GOPATH package recompiles");
    assert!(cached(&b()));

    // A new import: the header changed, so the build lists again, and follows the new package.
    write(
        &gopath.join("src/example.com/other/other.go"),
        "package other\n\nfunc N() int { return 1 }\n",
    );
    std::fs::write(
        &main,
        "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/greet\"\n\t\"example.com/other\"\n)\n\nfunc main() { fmt.Print(greet.Hello(), other.N()) }\n",
    )
    .unwrap();
    assert!(!cached(&b()));
    assert_eq!(
        deps_lists(&cache).len(),
        2,
        "a second list, for the new imports"
    );
    assert!(cached(&b()));
    write(
        &gopath.join("src/example.com/other/other.go"),
        "package other\n\nfunc N() int { return 2 }\n",
    );
    assert!(!cached(&b()), "the newly imported package is followed");
    // A body change after it: the list for these imports is found again (its packages changed
    // since it was written, so it is listed anew), and still names the new package.
    let now = std::fs::read_to_string(&main).unwrap();
    std::fs::write(&main, now.replace("other.N()", "other.N() + 1")).unwrap();
    assert!(!cached(&b()));
    write(
        &gopath.join("src/example.com/other/other.go"),
        "package other\n\nfunc N() int { return 3 }\n",
    );
    assert!(!cached(&b()), "still followed after a reused list");
}

/// `GOFLAGS=-ldflags=-X=main.version=…` (version stamping, as with ko) reaches the linker after
/// drydock's own `-s -w`, and a new version is a new binary, never the cached one.
#[test]
fn goflags_ldflags_stamp_the_version_and_a_new_one_rebuilds() {
    require_tool("go");
    let t = tempfile::tempdir().unwrap();
    let (gopath, dir) = go_project(t.path());
    write(
        &dir.join("main.go"),
        "package main\n\nimport \"fmt\"\n\nvar version = \"dev\"\n\nfunc main() { fmt.Println(\"version\", version) }\n",
    );
    let cache = t.path().join("cache");
    let gp = gopath.to_str().unwrap().to_string();
    let stamped = |v: &str| {
        let flags = format!("-ldflags=-X=main.version={v}");
        let r = build(
            &dir,
            &cache,
            &[
                ("GOPATH", gp.as_str()),
                ("GO111MODULE", "off"),
                ("GOFLAGS", flags.as_str()),
            ],
            &[],
        );
        let bin = r["binary"]["path"].as_str().unwrap().to_string();
        let out = run_ok(&mut Command::new(&bin));
        (r, out)
    };
    let (r, out) = stamped("1.2.3");
    assert_eq!(out.trim(), "version 1.2.3");
    assert!(
        r["binary"]["command"]
            .as_str()
            .unwrap()
            .contains("-ldflags='-s -w -X=main.version=1.2.3'"),
        "{r}"
    );
    let (r, out) = stamped("1.2.4");
    assert!(!cached(&r));
    assert_eq!(out.trim(), "version 1.2.4");
}
