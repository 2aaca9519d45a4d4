//! `drydock run --watch` against the Docker Engine: a change in the build context replaces the
//! container, a burst of saves is one rebuild, a compile error leaves the old one serving,
//! files .dockerignore leaves out start nothing, and SIGINT removes everything.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;

/// The body of GET /healthz, when it answers 200.
fn healthz(port: u16) -> Option<String> {
    match http_get(port, "/healthz") {
        Some((200, body)) => Some(body),
        _ => None,
    }
}

fn count(text: &Mutex<String>, what: &str) -> usize {
    text.lock().unwrap().matches(what).count()
}

fn set_status(main_go: &Path, status: &str) {
    let src = std::fs::read_to_string(main_go).unwrap();
    let start = src
        .find("gin.H{\"status\": \"ok")
        .expect("the /healthz handler");
    let end = start + src[start..].find('}').unwrap();
    let src = format!(
        "{}gin.H{{\"status\": \"{status}\"{}",
        &src[..start],
        &src[end..]
    );
    std::fs::write(main_go, src).unwrap();
}

/// `drydock run --watch DIR` in `eng` on `port`: the child, and its stderr so far.
fn spawn_watch(
    eng: &str,
    dir: &Path,
    cache: &Path,
    port: u16,
    tag: &str,
) -> (
    std::process::Child,
    Arc<Mutex<String>>,
    std::thread::JoinHandle<()>,
) {
    let mut child = drydock()
        .arg("run")
        .arg(dir)
        .args(["--watch", "--engine", eng, "-e", "API_TOKEN=dev"])
        .args(["--host-port", &port.to_string(), "--tag", tag])
        .arg("--cache-dir")
        .arg(cache)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let said = Arc::new(Mutex::new(String::new()));
    let reader = {
        let said = said.clone();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let line = line.unwrap_or_default();
                let mut s = said.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        })
    };
    (child, said, reader)
}

/// Waits for drydock to end after a signal; fails the test (killing drydock and what it
/// started gracefully, with a second SIGTERM) when it has not ended within two minutes.
fn wait_or_kill(child: &mut std::process::Child, said: &Mutex<String>) -> std::process::ExitStatus {
    let start = std::time::Instant::now();
    while start.elapsed() < Duration::from_secs(120) {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    std::thread::sleep(Duration::from_secs(20));
    let _ = child.kill();
    panic!(
        "drydock did not end within 120 s of the signal:\n{}",
        said.lock().unwrap()
    );
}

fn unique_tag() -> String {
    format!(
        "drydock-test/gin-api-watch:w{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
            % 1_000_000_000
    )
}

#[test]
fn watch_rebuilds_on_context_changes_only_and_cleans_up_on_sigint() {
    watch_cycle("docker");
    watch_cycle("podman");
}

fn watch_cycle(eng: &'static str) {
    require_tool(eng);
    require_tool("go");
    let (_t, dir) = copy_example("gin-api");
    let cache = tempfile::tempdir().unwrap();
    let ignore = dir.join(".dockerignore");
    let mut rules = std::fs::read_to_string(&ignore).unwrap();
    rules.push_str("notes.txt\n");
    std::fs::write(&ignore, rules).unwrap();
    let main_go = dir.join("main.go");
    let port = free_port();
    let tag = unique_tag();
    let (mut child, said, reader) = spawn_watch(eng, &dir, cache.path(), port, &tag);
    let pid = child.id();
    let long = Duration::from_secs(300);
    let log = || said.lock().unwrap().clone();

    eventually(
        "the first container to be healthy and watched",
        long,
        || (count(&said, "watching ") > 0).then_some(()),
    );
    let first = healthz(port).unwrap_or_else(|| panic!("healthy at first:\n{}", log()));
    assert!(first.contains("\"ok\""), "{first}");

    // A burst of saves: one rebuild, then the new answer.
    for s in ["ok-v1", "ok-v1b", "ok-v2"] {
        set_status(&main_go, s);
        std::thread::sleep(Duration::from_millis(50));
    }
    eventually("the new answer after the change", long, || {
        healthz(port).filter(|b| b.contains("ok-v2"))
    });
    eventually("the rebuild report", long, || {
        (count(&said, "rebuilt in ") == 1).then_some(())
    });
    let out = log();
    assert_eq!(
        count(&said, "changed; rebuilding"),
        1,
        "three quick saves are one rebuild:\n{out}"
    );
    assert!(
        out.contains("main.go changed; rebuilding")
            && out.contains("before starting the new image: it holds 127.0.0.1:")
            && out.contains("healthy after ")
            && !out.contains("exited with code"),
        "{out}"
    );

    // A syntax error: the compiler's message, and the old container keeps serving.
    let good = std::fs::read_to_string(&main_go).unwrap();
    std::fs::write(&main_go, format!("{good}\nfunc broken( {{\n")).unwrap();
    eventually("the failed rebuild", long, || {
        (count(&said, "the rebuild failed after") == 1).then_some(())
    });
    let out = log();
    assert!(
        out.contains("syntax error") && out.contains("keeps serving"),
        "the compiler's message is shown:\n{out}"
    );
    assert_eq!(count(&said, "rebuilt in "), 1, "{out}");
    let still = healthz(port).unwrap_or_else(|| panic!("the old one still answers:\n{out}"));
    assert!(still.contains("ok-v2"), "{still}");

    // Fixed: the next good change replaces it.
    std::fs::write(&main_go, &good).unwrap();
    set_status(&main_go, "ok-v3");
    eventually("the answer after the fix", long, || {
        healthz(port).filter(|b| b.contains("ok-v3"))
    });
    eventually("the second rebuild report", long, || {
        (count(&said, "rebuilt in ") == 2).then_some(())
    });

    // A build that compiles but whose service exits at once: the old container (stopped to
    // free the port) is started again and serves the previous answer.
    let v3 = std::fs::read_to_string(&main_go).unwrap();
    std::fs::write(
        &main_go,
        v3.replacen("func main() {", "func main() {\n\tos.Exit(3)", 1),
    )
    .unwrap();
    eventually("the old container back", long, || {
        (count(&said, "is serving again") == 1).then_some(())
    });
    let out = log();
    assert!(
        out.contains("the new image did not come up") && out.contains("exited with code 3"),
        "{out}"
    );
    let back = healthz(port).unwrap_or_else(|| panic!("the old one answers again:\n{out}"));
    assert!(back.contains("ok-v3"), "{back}");
    // The source as the serving image was built from: the same image, nothing replaced.
    std::fs::write(&main_go, &v3).unwrap();
    eventually("the rebuild of the serving source", long, || {
        (count(&said, "changed; rebuilding") == 5).then_some(())
    });
    eventually("its report", long, || {
        (count(&said, "the image is the same") == 1).then_some(())
    });
    assert_eq!(count(&said, "rebuilt in "), 3, "{}", log());

    // Files outside the context: ignored by .dockerignore (a name, a directory) or looking
    // like secrets. Nothing is rebuilt.
    let rebuilds = count(&said, "changed; rebuilding");
    assert_eq!(rebuilds, 5, "{}", log());
    std::fs::write(dir.join("notes.txt"), "a").unwrap();
    std::fs::create_dir_all(dir.join("tmp")).unwrap();
    std::fs::write(dir.join("tmp/scratch"), "b").unwrap();
    std::fs::write(dir.join(".env"), "A=1").unwrap();
    std::thread::sleep(Duration::from_secs(2));
    std::fs::write(dir.join("notes.txt"), "a longer note").unwrap();
    // Well past the poll interval and the quiet time (under a second together).
    std::thread::sleep(Duration::from_secs(6));
    assert_eq!(
        count(&said, "changed; rebuilding"),
        rebuilds,
        "no rebuild for ignored files:\n{}",
        log()
    );

    // SIGINT: the serving container stops cleanly (exit 0), and none is left.
    run_ok(Command::new("kill").args(["-INT", &pid.to_string()]));
    let status = wait_or_kill(&mut child, &said);
    reader.join().unwrap();
    let out = log();
    assert_eq!(status.code(), Some(0), "{out}");
    assert!(out.contains("exited with code 0"), "{out}");
    let left = run_ok(engine(eng).args([
        "ps",
        "-aq",
        "--filter",
        &format!("name=drydock-gin-api-{pid}"),
    ]));
    assert!(
        left.trim().is_empty(),
        "{eng}: containers left: {left}\n{out}"
    );
    let image = if eng == "podman" {
        format!("localhost/{tag}")
    } else {
        tag
    };
    let _ = run(engine(eng).args(["rmi", "-f", &image]));
    eprintln!("{eng}:\n{out}");
}

/// SIGTERM while a rebuild runs: the build stops, every container is stopped and removed, and
/// the exit code is as documented (0: the one serving stopped cleanly; 130 when the signal
/// came after it was stopped and before its successor was healthy).
#[test]
fn watch_sigterm_during_a_rebuild_leaves_nothing() {
    require_tool("docker");
    require_tool("go");
    let (_t, dir) = copy_example("gin-api");
    let cache = tempfile::tempdir().unwrap();
    let port = free_port();
    let tag = unique_tag();
    let (mut child, said, reader) = spawn_watch("docker", &dir, cache.path(), port, &tag);
    let pid = child.id();
    let long = Duration::from_secs(300);
    eventually(
        "the first container to be healthy and watched",
        long,
        || (count(&said, "watching ") > 0).then_some(()),
    );
    // A new file in the package: a rebuild that the cache cannot answer.
    std::fs::write(
        dir.join("extra.go"),
        "package main\n\nfunc extra() int { return 42 }\n",
    )
    .unwrap();
    eventually("the rebuild to start", long, || {
        (count(&said, "changed; rebuilding") == 1).then_some(())
    });
    run_ok(Command::new("kill").args(["-TERM", &pid.to_string()]));
    let status = wait_or_kill(&mut child, &said);
    reader.join().unwrap();
    let out = said.lock().unwrap().clone();
    assert!(
        matches!(status.code(), Some(0) | Some(130)),
        "{status}\n{out}"
    );
    assert!(
        !out.contains("error:"),
        "an interrupted build is not an error:\n{out}"
    );
    let left = run_ok(engine("docker").args([
        "ps",
        "-aq",
        "--filter",
        &format!("name=drydock-gin-api-{pid}"),
    ]));
    assert!(left.trim().is_empty(), "containers left: {left}\n{out}");
    let _ = run(engine("docker").args(["rmi", "-f", &tag]));
    eprintln!("{out}");
}
