//! `drydock deploy`: Kubernetes manifests that validate against the official schemas (through
//! kubernetes-validate) and pass a Pod Security "restricted" check, snapshots of every generated
//! file for both examples (every target), and a Dockerfile that hadolint parses.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::Value;

const IMAGE: &str = "registry.example.com/team/app@sha256:0000000000000000000000000000000000000000000000000000000000000000";

/// An example with its Ingress switched on, deployed to a temporary directory.
fn deployed(ex: &str, extra: &[&str]) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let (t, dir) = copy_example(ex);
    let cfg = std::fs::read_to_string(dir.join("drydock.toml")).unwrap();
    let cfg = cfg
        .replace(
            &format!("# host = \"{ex}.example.com\""),
            &format!("host = \"{ex}.example.com\""),
        )
        .replace(
            &format!("# tls_secret = \"{ex}-tls\""),
            &format!("tls_secret = \"{ex}-tls\""),
        )
        .replace("# class = \"nginx\"", "class = \"nginx\"")
        .replace(
            "# cert_manager_issuer = \"letsencrypt\"",
            "cert_manager_issuer = \"letsencrypt\"",
        );
    std::fs::write(dir.join("drydock.toml"), cfg).unwrap();
    let out = dir.join("deploy");
    run_ok(
        drydock()
            .arg("deploy")
            .arg(&dir)
            .args(["--image", IMAGE, "--out"])
            .arg(&out)
            .args(extra),
    );
    (t, dir, out)
}

fn yaml(path: &Path) -> Value {
    serde_yaml_ng::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn manifests_validate_against_the_kubernetes_schemas() {
    require_tool("kubernetes-validate");
    for ex in ["gin-api", "axum-api"] {
        let (_t, _dir, out) = deployed(ex, &["--target", "k8s"]);
        let k8s = out.join("kubernetes");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&k8s)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        let kinds: Vec<String> = files
            .iter()
            .map(|f| yaml(f)["kind"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            kinds,
            [
                "Deployment",
                "HorizontalPodAutoscaler",
                "Ingress",
                "NetworkPolicy",
                "PodDisruptionBudget",
                "Service"
            ]
        );
        // The API version drydock's types are generated for, and the newest the validator knows.
        for version in ["1.34.0", "1.37.0"] {
            let out = run(Command::new("kubernetes-validate")
                .args(["--strict", "-k", version])
                .args(&files));
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(out.status.success(), "{ex} on {version}: {text}");
            assert_eq!(
                text.matches("passed for resource").count(),
                files.len(),
                "{ex} on {version}: {text}"
            );
        }
        // The validator does catch a broken manifest.
        let broken = k8s.join("broken.yaml");
        std::fs::write(
            &broken,
            std::fs::read_to_string(k8s.join("deployment.yaml"))
                .unwrap()
                .replace("replicas: 2", "replicas: two"),
        )
        .unwrap();
        assert!(!run(Command::new("kubernetes-validate")
            .args(["--strict", "-k", "1.34.0"])
            .arg(&broken))
        .status
        .success());
    }
}

/// The Pod Security Standards "restricted" profile (with baseline), as the admission controller
/// checks it (../shared/research/container-runtime.md, section 8). Returns the violations.
fn restricted_violations(pod: &Value) -> Vec<String> {
    let mut v = Vec::new();
    let psc = &pod["securityContext"];
    for host in ["hostNetwork", "hostPID", "hostIPC"] {
        if pod[host] == true {
            v.push(format!("{host} is set"));
        }
    }
    let allowed_volumes = [
        "configMap",
        "downwardAPI",
        "emptyDir",
        "projected",
        "secret",
        "csi",
        "persistentVolumeClaim",
        "ephemeral",
        "image",
    ];
    for vol in pod["volumes"].as_array().into_iter().flatten() {
        for k in vol.as_object().unwrap().keys().filter(|k| *k != "name") {
            if !allowed_volumes.contains(&k.as_str()) {
                v.push(format!("volume type {k}"));
            }
        }
    }
    if psc["runAsUser"] == 0 {
        v.push("pod runAsUser 0".into());
    }
    let seccomp_ok = |sc: &Value| {
        matches!(
            sc["seccompProfile"]["type"].as_str(),
            Some("RuntimeDefault" | "Localhost")
        )
    };
    for c in ["initContainers", "containers", "ephemeralContainers"]
        .iter()
        .flat_map(|k| pod[*k].as_array().into_iter().flatten())
    {
        let name = c["name"].as_str().unwrap_or("?");
        let sc = &c["securityContext"];
        if sc["privileged"] == true {
            v.push(format!("{name}: privileged"));
        }
        if sc["allowPrivilegeEscalation"] != false {
            v.push(format!("{name}: allowPrivilegeEscalation is not false"));
        }
        if sc["runAsNonRoot"] != true
            && !(sc["runAsNonRoot"].is_null() && psc["runAsNonRoot"] == true)
        {
            v.push(format!("{name}: runAsNonRoot is not true"));
        }
        if sc["runAsUser"] == 0 {
            v.push(format!("{name}: runAsUser 0"));
        }
        if !seccomp_ok(sc) && !(sc["seccompProfile"].is_null() && seccomp_ok(psc)) {
            v.push(format!(
                "{name}: seccompProfile is not RuntimeDefault or Localhost"
            ));
        }
        let drops: Vec<&str> = sc["capabilities"]["drop"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| d.as_str())
            .collect();
        if !drops.contains(&"ALL") {
            v.push(format!("{name}: capabilities do not drop ALL"));
        }
        for add in sc["capabilities"]["add"].as_array().into_iter().flatten() {
            if add != "NET_BIND_SERVICE" {
                v.push(format!("{name}: adds capability {add}"));
            }
        }
        for p in c["ports"].as_array().into_iter().flatten() {
            if p["hostPort"].as_i64().unwrap_or(0) != 0 {
                v.push(format!("{name}: hostPort"));
            }
        }
        if sc["procMount"].as_str().is_some_and(|m| m != "Default") {
            v.push(format!("{name}: procMount"));
        }
    }
    v
}

#[test]
fn the_deployment_passes_pod_security_restricted_and_more() {
    for ex in ["gin-api", "axum-api"] {
        let (_t, _dir, out) = deployed(ex, &["--target", "k8s"]);
        let d = yaml(&out.join("kubernetes/deployment.yaml"));
        let pod = &d["spec"]["template"]["spec"];
        assert_eq!(restricted_violations(pod), Vec::<String>::new(), "{ex}");
        let c = &pod["containers"][0];
        // Beyond "restricted": read-only root with a writable /tmp, no service account token,
        // requests and limits, distinct probes, a rollout that keeps capacity.
        assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
        assert_eq!(c["volumeMounts"][0]["mountPath"], "/tmp");
        assert_eq!(pod["automountServiceAccountToken"], false);
        assert_eq!(c["resources"]["requests"]["cpu"], "250m");
        assert_eq!(c["resources"]["limits"]["memory"], "256Mi");
        assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz");
        assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz");
        assert!(c["startupProbe"].is_object());
        assert_ne!(c["livenessProbe"], c["readinessProbe"]);
        assert_eq!(d["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"], 0);
        assert_eq!(c["image"], IMAGE);
        assert_eq!(
            c["env"][0]["valueFrom"]["secretKeyRef"]["name"], ex,
            "secrets by reference"
        );
        assert!(
            std::fs::read_to_string(out.join("kubernetes/deployment.yaml"))
                .unwrap()
                .find("value: ")
                .is_none(),
            "no literal values"
        );
        // The image has the helper, so no Downward API variables.
        assert!(!serde_json::to_string(c).unwrap().contains("GOMAXPROCS"));
    }
    // The checker can fail: a pod that breaks the profile is caught on every count.
    let bad: Value = serde_json::json!({
        "hostNetwork": true,
        "volumes": [{"name": "h", "hostPath": {"path": "/"}}],
        "containers": [{"name": "c", "securityContext": {"privileged": true, "runAsUser": 0, "capabilities": {"add": ["SYS_ADMIN"]}}, "ports": [{"containerPort": 80, "hostPort": 80}]}],
    });
    assert_eq!(
        restricted_violations(&bad).len(),
        10,
        "{:?}",
        restricted_violations(&bad)
    );
}

#[test]
fn go_without_the_helper_gets_gomaxprocs_from_the_downward_api() {
    let (_t, dir) = copy_example("gin-api");
    let cfg = std::fs::read_to_string(dir.join("drydock.toml")).unwrap();
    std::fs::write(
        dir.join("drydock.toml"),
        cfg.replace("[image]\n", "[image]\nhelper = false\n"),
    )
    .unwrap();
    let out = dir.join("deploy");
    run_ok(
        drydock()
            .arg("deploy")
            .arg(&dir)
            .args(["--image", IMAGE, "--target", "k8s", "--out"])
            .arg(&out),
    );
    let d = yaml(&out.join("kubernetes/deployment.yaml"));
    let env = d["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .unwrap()
        .clone();
    let field = |n: &str| {
        env.iter()
            .find(|e| e["name"] == n)
            .map(|e| e["valueFrom"]["resourceFieldRef"]["resource"].clone())
    };
    assert_eq!(field("GOMAXPROCS"), Some("limits.cpu".into()));
    assert_eq!(field("GOMEMLIMIT"), Some("limits.memory".into()));
}

#[test]
fn generated_files_match_their_snapshots() {
    let snapshots = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/deploy");
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some();
    let mut written = Vec::new();
    for ex in ["gin-api", "axum-api"] {
        let (_t, _dir, out) = deployed(ex, &["--target", "k8s,compose,dockerfile,swarm"]);
        let mut files = Vec::new();
        for sub in ["kubernetes", "compose", "docker", "swarm"] {
            for e in std::fs::read_dir(out.join(sub)).unwrap() {
                files.push(e.unwrap().path());
            }
        }
        files.sort();
        assert_eq!(files.len(), 12, "{ex}: {files:?}");
        for f in files {
            let rel = f.strip_prefix(&out).unwrap();
            let snap = snapshots.join(ex).join(rel);
            let got = std::fs::read_to_string(&f)
                .unwrap()
                .replace(&rust_minor(), "RUST_VERSION");
            if update {
                // Written and still failed below: a changed snapshot is always a reviewed diff.
                if std::fs::read_to_string(&snap).ok().as_deref() != Some(got.as_str()) {
                    std::fs::create_dir_all(snap.parent().unwrap()).unwrap();
                    std::fs::write(&snap, &got).unwrap();
                    written.push(snap.display().to_string());
                }
                continue;
            }
            let want = std::fs::read_to_string(&snap).unwrap_or_else(|_| {
                panic!(
                    "no snapshot {}: run with UPDATE_SNAPSHOTS=1",
                    snap.display()
                )
            });
            assert_eq!(
                got,
                want,
                "{} changed; if intended, rerun with UPDATE_SNAPSHOTS=1 and review the diff",
                snap.display()
            );
        }
    }
    assert!(
        written.is_empty(),
        "snapshots written, review the diff and run again: {written:?}"
    );
}

/// The Rust toolchain's version appears in the Rust Dockerfile; snapshots hold a placeholder.
fn rust_minor() -> String {
    let v = run_ok(Command::new("rustc").arg("--version"));
    let v = v
        .split_whitespace()
        .nth(1)
        .unwrap()
        .split('.')
        .take(2)
        .collect::<Vec<_>>()
        .join(".");
    format!("rust:{v}-")
}

#[test]
fn the_dockerfiles_parse() {
    require_tool("hadolint");
    for ex in ["gin-api", "axum-api"] {
        let (_t, _dir, out) = deployed(ex, &["--target", "dockerfile"]);
        let df = out.join("docker/Dockerfile");
        let o = run(Command::new("hadolint")
            .args(["--no-fail", "-f", "json"])
            .arg(&df));
        let findings: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
            panic!(
                "{ex}: hadolint output {e}: {}",
                String::from_utf8_lossy(&o.stdout)
            )
        });
        let codes: Vec<&str> = findings
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| f["code"].as_str())
            .collect();
        assert!(
            !codes.contains(&"DL1000"),
            "{ex}: hadolint cannot parse it: {findings}"
        );
        let text = std::fs::read_to_string(&df).unwrap();
        assert_eq!(
            text.lines().filter(|l| l.starts_with("FROM ")).count(),
            2,
            "multi-stage"
        );
        // drydock's own BuildKit-compatible parser reads it too.
        let parsed = drydock_dockerfile::parse(&text).unwrap();
        let names: Vec<String> = parsed.instructions.iter().map(|i| i.name()).collect();
        assert_eq!(names.first().map(String::as_str), Some("from"));
        assert_eq!(names.last().map(String::as_str), Some("entrypoint"));
        assert!(parsed.instructions.last().unwrap().json, "exec form");
        assert!(
            text.contains("USER 65532:65532")
                && text.contains("EXPOSE 8080\n")
                && text.contains("ENTRYPOINT [\""),
            "{text}"
        );
        // Dependency manifests are copied before the sources; a GOPATH-mode build (as the
        // tests build gin-api) has none and says so.
        if ex == "gin-api" {
            assert!(
                text.contains("ENV GO111MODULE=off") && !text.contains("go mod download"),
                "{text}"
            );
        } else {
            let deps = text.find("COPY Cargo.toml Cargo.lock").unwrap();
            assert!(deps < text.find("COPY . .").unwrap());
        }
    }
}

#[test]
fn bad_config_names_the_key_and_the_fix() {
    for (bad, key) in [
        ("[resources]\ncpu_limit = \"500x\"\n", "resources.cpu_limit"),
        (
            "[resources]\nmemory_request = \"512Mi\"\nmemory_limit = \"256Mi\"\n",
            "resources.memory_limit",
        ),
        (
            "[scaling]\nmin_replicas = 4\nmax_replicas = 2\n",
            "scaling.max_replicas",
        ),
        ("[ingres]\nhost = \"x.example.com\"\n", "ingres"),
    ] {
        let (_t, dir) = copy_example("gin-api");
        std::fs::write(
            dir.join("drydock.toml"),
            format!("name = \"gin-api\"\nport = 8080\n{bad}"),
        )
        .unwrap();
        let out = run(drydock().arg("deploy").arg(&dir).args(["--image", IMAGE]));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad}: {err}");
        assert!(
            err.contains(key) && err.contains("drydock.toml"),
            "{bad}: {err}"
        );
        assert!(
            !dir.join("deploy").exists(),
            "nothing written for bad config"
        );
    }
    let (_t, dir) = copy_example("gin-api");
    std::fs::write(dir.join("drydock.toml"), "port = 70000\n").unwrap();
    let out = run(drydock().arg("deploy").arg(&dir).args(["--image", IMAGE]));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`port` is 70000"));
}

/// The generated Dockerfile builds with `docker build` and the image serves, for the project as
/// it is: gin-api as the tests build it (GOPATH mode against Debian's Gin) and a GOPATH project
/// with no go.mod at all. Base images are made locally by bench/make-base-images (nothing can
/// be pulled here). The Rust Dockerfile is checked by text only: no Rust builder image can be
/// made here (crates.io is reachable from the host, but a rust:*-bookworm toolchain image is not).
#[test]
fn generated_go_dockerfiles_build_with_docker() {
    let status = Command::new("bash")
        .arg(repo_root().join("bench/make-base-images"))
        .status()
        .unwrap();
    assert!(status.success(), "bench/make-base-images");
    let t = tempfile::tempdir().unwrap();
    let gopath = t.path().join("hello");
    std::fs::create_dir(&gopath).unwrap();
    std::fs::write(
        gopath.join("main.go"),
        "package main\n\nimport (\n\t\"net/http\"\n\n\t\"github.com/gin-gonic/gin\"\n)\n\nfunc main() {\n\tr := gin.New()\n\tr.GET(\"/healthz\", func(c *gin.Context) { c.String(http.StatusOK, \"ok\") })\n\tr.Run(\":8080\")\n}\n",
    )
    .unwrap();
    let (_g, gin) = copy_example("gin-api");
    // A builder like Docker Hub's golang image: GOPATH=/go, which holds no Gin. A GOPATH project
    // builds there only with its dependencies in vendor/ (nothing can be fetched here).
    let official = format!("drydock-data-golang-gopath:{}", std::process::id());
    let ctx = t.path().join("official");
    std::fs::create_dir(&ctx).unwrap();
    std::fs::write(ctx.join("Dockerfile"), "FROM golang:1.19\nENV GOPATH=/go\n").unwrap();
    run_ok(
        Command::new("/usr/bin/docker")
            .env("DOCKER_BUILDKIT", "1")
            .args(["build", "-q", "-t", &official])
            .arg(&ctx),
    );
    let vendored = t.path().join("vendored");
    std::fs::create_dir(&vendored).unwrap();
    std::fs::copy(gopath.join("main.go"), vendored.join("main.go")).unwrap();
    let list = run_ok(test_env(Command::new("go").current_dir(&vendored).args([
        "list",
        "-deps",
        "-f",
        "{{if not .Standard}}{{.ImportPath}} {{.Dir}}{{end}}",
        ".",
    ])));
    for line in list.lines().filter(|l| !l.trim().is_empty()) {
        let (import, src) = line.split_once(' ').unwrap();
        let dst = vendored.join("vendor").join(import);
        std::fs::create_dir_all(&dst).unwrap();
        for e in std::fs::read_dir(src).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_file() {
                std::fs::copy(e.path(), dst.join(e.file_name())).unwrap();
            }
        }
    }
    for (name, dir, env, from) in [
        ("gopath-hello", gopath.as_path(), vec![], None),
        ("gin-api", gin.as_path(), vec!["API_TOKEN=t"], None),
        (
            "vendored",
            vendored.as_path(),
            vec![],
            Some(official.as_str()),
        ),
    ] {
        let out = run(test_env(drydock().arg("deploy").arg(dir).args([
            "--target",
            "dockerfile",
            "--image",
            "unused:1",
        ])));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{name}: {err}");
        let df = dir.join("deploy/docker/Dockerfile");
        let mut text = std::fs::read_to_string(&df).unwrap();
        assert!(
            !text.contains("go mod download") && !text.contains("COPY go.mod"),
            "{name}: {text}"
        );
        if name == "vendored" {
            // Dependencies in vendor/: nothing to fetch, and nothing to warn about.
            assert!(
                !text.contains("go get") && !err.contains("docker/Dockerfile:"),
                "{text}\n{err}"
            );
        } else {
            // Gin is not vendored: the Dockerfile fetches what the builder lacks, and both it and
            // deploy's output say what that means.
            assert!(
                text.contains("go get -d ./...") && text.contains("not reproducible"),
                "{text}"
            );
            assert!(
                err.contains("docker/Dockerfile:") && err.contains("github.com/gin-gonic/gin"),
                "{err}"
            );
        }
        if let Some(from) = from {
            text = text.replace(
                "FROM golang:1.19-bookworm AS build",
                &format!("FROM {from} AS build"),
            );
            std::fs::write(&df, &text).unwrap();
        }
        let tag = format!("drydock-df-{name}:{}", std::process::id());
        let out = Command::new("/usr/bin/docker")
            .env("DOCKER_BUILDKIT", "1")
            .args(["build", "-q", "-f"])
            .arg(&df)
            .args(["-t", &tag])
            .arg(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: docker build: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = free_port();
        let mut args = vec!["-p".to_string(), format!("127.0.0.1:{port}:8080")];
        for e in &env {
            args.push("-e".into());
            args.push(e.to_string());
        }
        args.push(tag.clone());
        let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let c = Container::run("docker", &arg_refs);
        let got = wait_http(port, "/healthz", 200, std::time::Duration::from_secs(30));
        assert!(got.is_ok(), "{name}: {got:?}\n{}", c.logs());
        assert_eq!(c.inspect("{{.Config.User}}"), "65532:65532");
        drop(c);
        let _ = run(engine("docker").args(["rmi", "-f", &tag]));
    }
    let _ = run(engine("docker").args(["rmi", "-f", &official]));
    // Rust without a Cargo.lock: no --locked, no COPY of a missing file.
    let (_r, axum) = copy_example("axum-api");
    std::fs::remove_file(axum.join("Cargo.lock")).unwrap();
    run_ok(drydock().arg("deploy").arg(&axum).args([
        "--target",
        "dockerfile",
        "--image",
        "unused:1",
    ]));
    let text = std::fs::read_to_string(axum.join("deploy/docker/Dockerfile")).unwrap();
    assert!(
        !text.contains("Cargo.lock") && !text.contains("--locked"),
        "{text}"
    );
    assert!(text.contains("COPY Cargo.toml ./"), "{text}");
}

/// What deploy's options, output and comments say: `--target` takes a comma list as `--modes`
/// does, the help lists swarm, a secret delivered as a file is said plainly (and loudly when the
/// app never reads `<VAR>_FILE`), a NetworkPolicy without an Ingress admits the app's own
/// namespace (and validates), and without the helper no file claims a health check. Every
/// file passes `drydock lint`.
#[test]
fn deploy_says_what_it_wrote_and_what_the_app_needs() {
    require_tool("kubernetes-validate");
    let help = run_ok(drydock().args(["deploy", "--help"]));
    assert!(
        help.contains("swarm") && help.contains("k8s,compose"),
        "{help}"
    );
    let (_t, dir) = copy_example("gin-api");
    // An app that reads DB_PASSWORD only (besides the example's API_TOKEN, read both ways).
    let cfg = std::fs::read_to_string(dir.join("drydock.toml")).unwrap();
    std::fs::write(
        dir.join("drydock.toml"),
        format!(
            "{}\n[[secrets]]\nenv = \"DB_PASSWORD\"\nsecret = \"gin-api\"\nkey = \"db-password\"\n",
            cfg.replacen("[image]\n", "[image]\nhelper = false\n", 1)
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("db.go"),
        "package main\n\nimport \"os\"\n\nvar dbPassword = os.Getenv(\"DB_PASSWORD\")\n",
    )
    .unwrap();
    let out =
        run(drydock()
            .arg("deploy")
            .arg(&dir)
            .args(["--image", IMAGE, "--target", "k8s,compose"]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let deploy = dir.join("deploy");
    assert!(deploy.join("kubernetes/deployment.yaml").is_file());
    assert!(deploy.join("compose/compose.yaml").is_file());
    assert!(!deploy.join("docker").exists(), "only the targets named");
    assert!(
        err.contains("DB_PASSWORD_FILE") && err.contains("will get nothing"),
        "{err}"
    );
    assert!(
        err.contains("the app reads API_TOKEN_FILE") && !err.contains("API_TOKEN itself"),
        "{err}"
    );
    let compose = std::fs::read_to_string(deploy.join("compose/compose.yaml")).unwrap();
    assert!(
        compose.contains("secrets/db-password  ->  DB_PASSWORD (the app reads DB_PASSWORD_FILE)"),
        "{compose}"
    );
    // helper = false: no health check, and no comment claiming one.
    let c: Value = serde_yaml_ng::from_str(&compose).unwrap();
    assert!(
        c["services"]["app"].get("healthcheck").is_none(),
        "{compose}"
    );
    assert!(!compose.contains("is health-checked"), "{compose}");
    assert!(
        compose.contains("The app has no health check either"),
        "{compose}"
    );
    // No Ingress: the pods of the namespace may call the app's port, nothing else.
    let np = yaml(&deploy.join("kubernetes/networkpolicy.yaml"));
    assert_eq!(
        np["spec"]["ingress"][0]["from"],
        serde_json::json!([{"podSelector": {}}]),
        "{np}"
    );
    assert_eq!(np["spec"]["ingress"][0]["ports"][0]["port"], 8080);
    let text = std::fs::read_to_string(deploy.join("kubernetes/networkpolicy.yaml")).unwrap();
    assert!(text.contains("There is no Ingress"), "{text}");
    let v = run(Command::new("kubernetes-validate")
        .args(["--strict", "-k", "1.34.0"])
        .arg(deploy.join("kubernetes/networkpolicy.yaml")));
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));
    // Everything written passes drydock's own lint.
    let lint = run(drydock().arg("lint").arg(&deploy));
    assert_eq!(
        lint.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&lint.stdout),
        String::from_utf8_lossy(&lint.stderr)
    );
    // With an Ingress, only the controller's namespace.
    let (_t2, _dir2, out2) = deployed("gin-api", &["--target", "k8s"]);
    let np = yaml(&out2.join("kubernetes/networkpolicy.yaml"));
    assert_eq!(
        np["spec"]["ingress"][0]["from"][0]["namespaceSelector"]["matchLabels"]
            ["kubernetes.io/metadata.name"],
        "ingress-nginx"
    );
    // A bad HTTPS_PORT is a usage error naming it.
    let out = run(drydock()
        .env("HTTPS_PORT", "https")
        .arg("deploy")
        .arg(&dir)
        .args(["--image", IMAGE, "--target", "compose"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("HTTPS_PORT"));
}

/// The HTTP→HTTPS redirect of the Swarm bundle's nginx keeps the port HTTPS is published on
/// (issue 19: `HTTPS_PORT=18443` redirected to 443), as the Compose one does: the server on
/// 8080, which the stack publishes as HTTP_PORT, redirects to `https://$host:PORT`, and PORT is
/// the default the stack publishes 8443 on. Read from the written files; Swarm is not run.
#[test]
fn swarm_redirect_keeps_a_custom_https_port() {
    let (_t, dir) = copy_example("gin-api");
    // The `return` of the server that listens on `port`, in an nginx.conf.
    fn redirect_on(conf: &str, port: u16) -> Option<String> {
        let listen = format!("listen {port};");
        conf.split("server {")
            .skip(1)
            .find(|block| block.lines().any(|l| l.trim() == listen))?
            .lines()
            .find_map(|l| l.trim().strip_prefix("return 301 "))
            .map(|r| r.trim_end_matches(';').to_string())
    }
    for (https_port, origin, published) in [
        (Some("18443"), "https://$host:18443", "${HTTPS_PORT:-18443}"),
        (None, "https://$host", "${HTTPS_PORT:-443}"),
        (Some("443"), "https://$host", "${HTTPS_PORT:-443}"),
    ] {
        let out = dir.join(format!("deploy-{}", https_port.unwrap_or("unset")));
        let mut cmd = drydock();
        cmd.env_remove("HTTPS_PORT");
        if let Some(p) = https_port {
            cmd.env("HTTPS_PORT", p);
        }
        run_ok(
            cmd.arg("deploy")
                .arg(&dir)
                .args(["--image", IMAGE, "--target", "swarm,compose", "--out"])
                .arg(&out),
        );
        let want = format!("{origin}$request_uri");
        for bundle in ["swarm", "compose"] {
            let conf = std::fs::read_to_string(out.join(bundle).join("nginx.conf")).unwrap();
            assert_eq!(
                redirect_on(&conf, 8080).as_deref(),
                Some(want.as_str()),
                "{bundle}, HTTPS_PORT={https_port:?}:\n{conf}"
            );
            assert!(
                conf.contains("        listen 8443 ssl;\n"),
                "{bundle}: TLS on 8443:\n{conf}"
            );
        }
        // The stack publishes 8443 on the port the redirect names, 8080 on HTTP_PORT, and
        // gives nginx this nginx.conf.
        let stack_text = std::fs::read_to_string(out.join("swarm/stack.yaml")).unwrap();
        let stack: Value = serde_yaml_ng::from_str(&stack_text).unwrap();
        let proxy = &stack["services"]["proxy"];
        let published_on = |target: u16| {
            proxy["ports"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["target"] == target)
                .unwrap_or_else(|| panic!("no port {target}: {proxy}"))["published"]
                .clone()
        };
        assert_eq!(published_on(8443), published, "{proxy}");
        assert_eq!(published_on(8080), "${HTTP_PORT:-80}", "{proxy}");
        assert_eq!(stack["configs"]["nginx_conf"]["file"], "./nginx.conf");
        assert_eq!(
            proxy["configs"],
            serde_json::json!([{"source": "nginx_conf", "target": "/etc/nginx/nginx.conf"}])
        );
        let port = https_port.unwrap_or("443");
        assert!(
            stack_text.contains(&format!("# The HTTP redirect names port {port} ")),
            "{stack_text}"
        );
    }
}
