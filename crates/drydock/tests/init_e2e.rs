//! `drydock init` on the examples: what it writes is exactly the examples' own drydock.toml and
//! .dockerignore (which makes them its snapshots), it never overwrites without --force, and
//! what it writes builds.

mod common;

use common::*;

#[test]
fn init_writes_the_examples_own_files() {
    for ex in ["gin-api", "axum-api"] {
        let (_t, dir) = copy_example(ex);
        std::fs::remove_file(dir.join("drydock.toml")).unwrap();
        std::fs::remove_file(dir.join(".dockerignore")).unwrap();
        let out = run_ok(drydock().arg("init").arg(&dir).args(["--format", "json"]));
        let r: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(r["name"], ex);
        assert_eq!(r["port"], 8080);
        assert_eq!(
            (r["health_path"].as_str(), r["ready_path"].as_str()),
            (Some("/healthz"), Some("/readyz"))
        );
        assert_eq!(r["secrets"], serde_json::json!(["API_TOKEN"]));
        assert_eq!(r["gin"], ex == "gin-api");
        for f in ["drydock.toml", ".dockerignore"] {
            let want =
                std::fs::read_to_string(repo_root().join("examples").join(ex).join(f)).unwrap();
            let got = std::fs::read_to_string(dir.join(f)).unwrap();
            assert_eq!(got, want, "{ex}/{f} differs from what `drydock init` writes; if the change is intended, copy the new output into examples/{ex}/");
        }
    }
}

#[test]
fn init_never_overwrites_without_force() {
    let (_t, dir) = copy_example("gin-api");
    std::fs::write(dir.join(".dockerignore"), "mine\n").unwrap();
    std::fs::remove_file(dir.join("drydock.toml")).unwrap();
    // The missing drydock.toml is written; the existing .dockerignore is kept and reported.
    let out = run(drydock().arg("init").arg(&dir));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("kept ") && text.contains(".dockerignore (it exists; --force replaces it)"),
        "{text}"
    );
    assert!(
        dir.join("drydock.toml").is_file(),
        "the missing file is written"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join(".dockerignore")).unwrap(),
        "mine\n",
        "untouched"
    );
    // With both there, nothing is written: exit 2, naming both.
    std::fs::write(dir.join("drydock.toml"), "name = \"mine\"\n").unwrap();
    let out = run(drydock().arg("init").arg(&dir));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("drydock.toml and")
            && err.contains(".dockerignore already exist")
            && err.contains("--force"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("drydock.toml")).unwrap(),
        "name = \"mine\"\n",
        "untouched"
    );
    run_ok(drydock().arg("init").arg(&dir).arg("--force"));
    assert!(std::fs::read_to_string(dir.join(".dockerignore"))
        .unwrap()
        .contains("drydock init"));
}

#[test]
fn init_on_a_bare_go_service_detects_what_it_can() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("Billing_Service");
    std::fs::create_dir_all(dir.join("cmd/billing")).unwrap();
    std::fs::create_dir_all(dir.join("public")).unwrap();
    std::fs::write(
        dir.join("go.mod"),
        "module example.com/billing\n\ngo 1.19\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("cmd/billing/main.go"),
        "package main\n\nimport (\"net/http\"; \"os\")\n\nfunc main() {\n\t_ = os.Getenv(\"DB_PASSWORD\")\n\thttp.HandleFunc(\"/health\", nil)\n\thttp.ListenAndServe(\":9090\", nil)\n}\n",
    )
    .unwrap();
    std::fs::write(dir.join("lib.go"), "package billing\n").unwrap();
    let r: serde_json::Value = serde_json::from_str(&run_ok(
        drydock().arg("init").arg(&dir).args(["--format", "json"]),
    ))
    .unwrap();
    assert_eq!(r["name"], "billing");
    assert_eq!(r["main"], "./cmd/billing");
    assert_eq!(r["port"], 9090);
    assert_eq!(
        (r["health_path"].as_str(), r["ready_path"].as_str()),
        (Some("/health"), Some("/health"))
    );
    assert_eq!(r["assets"], serde_json::json!(["public"]));
    assert_eq!(r["secrets"], serde_json::json!(["DB_PASSWORD"]));
    let toml = std::fs::read_to_string(dir.join("drydock.toml")).unwrap();
    assert!(
        toml.contains("env = \"DB_PASSWORD\"") && toml.contains("port = 9090"),
        "{toml}"
    );
}

/// A directory with both go.mod and Cargo.toml: init and build refuse without a language
/// (exit 2, saying --language), and succeed with `--language`, or with `[build] language` in an
/// existing drydock.toml; the same for GOPATH-mode Go (`package main`, no go.mod) beside a
/// Cargo.toml. A GOPATH-mode program under a Rust project's directory is a Go project of its
/// own, not the Rust project above it.
#[test]
fn init_and_build_choose_the_language_where_both_are_present() {
    let t = tempfile::tempdir().unwrap();
    let both = t.path().join("both");
    std::fs::create_dir_all(both.join("src")).unwrap();
    std::fs::write(
        both.join("main.go"),
        "package main\n\nimport \"net/http\"\n\nfunc main() { http.ListenAndServe(\":7070\", nil) }\n",
    )
    .unwrap();
    std::fs::write(
        both.join("Cargo.toml"),
        "[package]\nname = \"both\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    std::fs::write(both.join("src/main.rs"), "fn main() {}\n").unwrap();
    for with_go_mod in [false, true] {
        if with_go_mod {
            std::fs::write(both.join("go.mod"), "module both\n\ngo 1.19\n").unwrap();
        }
        let _ = std::fs::remove_file(both.join("drydock.toml"));
        let _ = std::fs::remove_file(both.join(".dockerignore"));
        let out = run(drydock().arg("init").arg(&both));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "go.mod {with_go_mod}: {err}");
        assert!(err.contains("--language go"), "{err}");
        assert!(
            !both.join("drydock.toml").exists(),
            "nothing written on refusal"
        );
        for (lang, want) in [("go", "go"), ("rust", "rust")] {
            let out = run_ok(drydock().arg("init").arg(&both).args([
                "--language",
                lang,
                "--force",
                "--format",
                "json",
            ]));
            let r: serde_json::Value = serde_json::from_str(&out).unwrap();
            assert_eq!(r["language"], want, "{out}");
            let toml = std::fs::read_to_string(both.join("drydock.toml")).unwrap();
            assert!(toml.contains(&format!("language = \"{want}\"")), "{toml}");
            // init again (--force) reads the language from the drydock.toml it wrote.
            let out = run_ok(
                drydock()
                    .arg("init")
                    .arg(&both)
                    .args(["--force", "--format", "json"]),
            );
            let r: serde_json::Value = serde_json::from_str(&out).unwrap();
            assert_eq!(r["language"], want, "[build] language honoured: {out}");
        }
    }
    // build: --language chooses too (a prebuilt binary keeps it fast: the language is resolved
    // all the same).
    std::fs::remove_file(both.join("drydock.toml")).unwrap();
    let out = run(drydock()
        .arg("build")
        .arg(&both)
        .arg("--cache-dir")
        .arg(t.path().join("c")));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--language"));
    let out = run_ok(
        drydock()
            .arg("build")
            .arg(&both)
            .args(["--language", "rust", "--port", "8080", "--format", "json"])
            .arg("--cache-dir")
            .arg(t.path().join("c"))
            .arg("--output")
            .arg(format!("oci:{}", t.path().join("out").display())),
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["binary"]["tool"], "cargo build", "{out}");

    // GOPATH mode below a Rust project: the Go program is the project.
    let nested = t.path().join("both/tools/gen");
    std::fs::create_dir_all(&nested).unwrap();
    std::fs::write(
        nested.join("gen.go"),
        "package main\n\nimport \"net/http\"\n\nfunc main() { http.ListenAndServe(\":7071\", nil) }\n",
    )
    .unwrap();
    std::fs::remove_file(both.join("go.mod")).unwrap();
    let out = run_ok(
        drydock()
            .arg("init")
            .arg(&nested)
            .args(["--format", "json"]),
    );
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["language"], "go", "{out}");
    assert_eq!(r["port"], 7071, "{out}");
    assert!(nested.join("drydock.toml").is_file());
}

/// Compose and Swarm deliver a secret as a file and set `<VAR>_FILE` to its path, never `<VAR>`
/// itself (issue 19): init's drydock.toml, its summary and its JSON say so for each secret, and
/// warn when the sources never mention `<VAR>_FILE`. What init says is checked against what
/// `drydock deploy` then writes from that drydock.toml, for Compose, Swarm and Kubernetes.
#[test]
fn init_says_secrets_reach_compose_and_swarm_apps_as_files() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("svc");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("go.mod"), "module example.com/svc\n\ngo 1.19\n").unwrap();
    // DB_PASSWORD is read only as itself; API_KEY also through API_KEY_FILE.
    std::fs::write(
        dir.join("main.go"),
        "package main\n\nimport (\"net/http\"; \"os\")\n\nfunc main() {\n\t_ = os.Getenv(\"DB_PASSWORD\")\n\t_ = os.Getenv(\"API_KEY\")\n\t_ = os.Getenv(\"API_KEY_FILE\")\n\thttp.ListenAndServe(\":9090\", nil)\n}\n",
    )
    .unwrap();
    let out = run(drydock().arg("init").arg(&dir));
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    // The summary: each secret, how Compose and Swarm deliver it.
    for line in [
        "  DB_PASSWORD: Kubernetes sets DB_PASSWORD; Compose and Swarm mount the file /run/secrets/db-password and set DB_PASSWORD_FILE to its path, not DB_PASSWORD\n",
        "  API_KEY: Kubernetes sets API_KEY; Compose and Swarm mount the file /run/secrets/api-key and set API_KEY_FILE to its path, not API_KEY\n",
    ] {
        assert!(stdout.contains(line), "{stdout}");
    }
    // A warning for the secret the app never reads as a file, none for the other.
    assert!(
        stderr.contains("never mention DB_PASSWORD_FILE")
            && stderr.contains("DB_PASSWORD is not set and it will get nothing"),
        "{stderr}"
    );
    assert!(!stderr.contains("API_KEY_FILE"), "{stderr}");
    // drydock.toml: the general rule, then each entry with its variable.
    let toml = std::fs::read_to_string(dir.join("drydock.toml")).unwrap();
    assert!(
        toml.contains("the app gets <env>_FILE holding that path; <env> itself is\n# not set there, so an app that reads only <env> gets nothing"),
        "{toml}"
    );
    assert!(
        toml.contains("env = \"DB_PASSWORD\"  # Kubernetes sets DB_PASSWORD; Compose and Swarm set DB_PASSWORD_FILE=/run/secrets/db-password instead\n")
            && toml.contains("env = \"API_KEY\"  # Kubernetes sets API_KEY; Compose and Swarm set API_KEY_FILE=/run/secrets/api-key instead\n"),
        "{toml}"
    );
    assert!(
        toml.contains("# Warning: the sources never mention DB_PASSWORD_FILE")
            && !toml.contains("never mention API_KEY_FILE"),
        "{toml}"
    );
    // JSON: the same, as data.
    let r: serde_json::Value = serde_json::from_str(&run_ok(
        drydock()
            .arg("init")
            .arg(&dir)
            .args(["--force", "--format", "json"]),
    ))
    .unwrap();
    assert_eq!(
        r["secret_files"],
        serde_json::json!([
            {"env": "API_KEY", "key": "api-key", "file_env": "API_KEY_FILE", "path": "/run/secrets/api-key", "app_reads_file_env": true},
            {"env": "DB_PASSWORD", "key": "db-password", "file_env": "DB_PASSWORD_FILE", "path": "/run/secrets/db-password", "app_reads_file_env": false},
        ]),
        "{r}"
    );
    // What deploy writes from that drydock.toml is what init said.
    let image = "registry.example.com/svc@sha256:0000000000000000000000000000000000000000000000000000000000000000";
    run_ok(drydock().arg("deploy").arg(&dir).args([
        "--image",
        image,
        "--target",
        "k8s,compose,swarm",
    ]));
    let yaml = |rel: &str| -> serde_json::Value {
        serde_yaml_ng::from_str(&std::fs::read_to_string(dir.join("deploy").join(rel)).unwrap())
            .unwrap()
    };
    for (rel, secrets_dir) in [
        ("compose/compose.yaml", "compose"),
        ("swarm/stack.yaml", "swarm"),
    ] {
        let f = yaml(rel);
        let env = &f["services"]["app"]["environment"];
        for s in r["secret_files"].as_array().unwrap() {
            let (var, file_env, key) = (
                s["env"].as_str().unwrap(),
                s["file_env"].as_str().unwrap(),
                s["key"].as_str().unwrap(),
            );
            assert_eq!(env[file_env], s["path"], "{rel}: {env}");
            assert!(env.get(var).is_none(), "{rel}: {var} is set: {env}");
            assert_eq!(
                f["secrets"][key]["file"],
                format!("./secrets/{key}"),
                "{rel} ({secrets_dir}/secrets/{key})"
            );
        }
    }
    // Kubernetes sets the variable itself, from the Secret.
    let d = yaml("kubernetes/deployment.yaml");
    let env = d["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .unwrap()
        .clone();
    for (var, key) in [("DB_PASSWORD", "db-password"), ("API_KEY", "api-key")] {
        let e = env
            .iter()
            .find(|e| e["name"] == var)
            .unwrap_or_else(|| panic!("{var}: {env:?}"));
        assert_eq!(e["valueFrom"]["secretKeyRef"]["key"], key, "{e}");
    }
    assert!(env
        .iter()
        .all(|e| !e["name"].as_str().unwrap().ends_with("_FILE")));
}
