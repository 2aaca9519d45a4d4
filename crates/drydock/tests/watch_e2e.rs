//! `drydock run --watch` against the Docker Engine and podman: a change in the build context
//! replaces the container start-first (a client hammering the port sees no failed request), a
//! burst of saves is one rebuild, a compile error leaves the old one serving, files
//! .dockerignore leaves out start nothing, SIGINT removes everything; a Rust service is
//! replaced the same way; a port drydock may not listen on makes replacements stop first, and
//! drydock says so.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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

/// A client sending GET /healthz on a new connection, one after the other, until stopped:
/// what every request got, in order (the body, or why it failed).
struct Hammer {
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<Result<String, String>>>>,
    thread: std::thread::JoinHandle<()>,
}

impl Hammer {
    fn start(port: u16) -> Hammer {
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (s, v) = (stop.clone(), seen.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                let got = match http_get(port, "/healthz") {
                    Some((200, body)) => Ok(body),
                    Some((code, body)) => Err(format!("{code} {body}")),
                    None => Err("no answer (refused, reset or closed)".into()),
                };
                v.lock().unwrap().push(got);
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        Hammer { stop, seen, thread }
    }

    /// Every answer so far, failures asserted away: (requests, answers with `new`).
    fn none_failed(&self, new: &str, log: &str) -> (usize, usize) {
        let seen = self.seen.lock().unwrap();
        let failed: Vec<_> = seen.iter().filter_map(|r| r.as_ref().err()).collect();
        assert!(
            failed.is_empty(),
            "{} of {} requests failed during the replacement, first: {}\n{log}",
            failed.len(),
            seen.len(),
            failed[0]
        );
        let new_ones = seen
            .iter()
            .filter(|r| r.as_ref().is_ok_and(|b| b.contains(new)))
            .count();
        // Once the new answer came, no request reached the old container again.
        let first = seen
            .iter()
            .position(|r| r.as_ref().is_ok_and(|b| b.contains(new)));
        if let Some(i) = first {
            assert_eq!(
                new_ones,
                seen.len() - i,
                "an old answer after a new one\n{log}"
            );
        }
        (seen.len(), new_ones)
    }

    fn finish(self) {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.join().unwrap();
    }
}

/// A failed assertion must not leave drydock running with its containers: on a panic, SIGINT
/// (drydock then stops and removes them) and a wait for it to end.
struct StopOnPanic(u32);

impl Drop for StopOnPanic {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        let pid = self.0.to_string();
        let _ = Command::new("kill").args(["-INT", &pid]).status();
        let start = Instant::now();
        while Path::new(&format!("/proc/{pid}")).exists()
            && start.elapsed() < Duration::from_secs(60)
        {
            std::thread::sleep(Duration::from_millis(200));
        }
    }
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
    spawn_watch_with(drydock(), eng, dir, cache, port, tag)
}

fn spawn_watch_with(
    mut command: Command,
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
    let mut child = command
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
    unique_tag_for("gin-api")
}

fn unique_tag_for(example: &str) -> String {
    format!(
        "drydock-test/{example}-watch:w{}",
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
    let _stop = StopOnPanic(pid);
    let long = Duration::from_secs(300);
    let log = || said.lock().unwrap().clone();

    eventually(
        "the first container to be healthy and watched",
        long,
        || (count(&said, "watching ") > 0).then_some(()),
    );
    let first = healthz(port).unwrap_or_else(|| panic!("healthy at first:\n{}", log()));
    assert!(first.contains("\"ok\""), "{first}");
    assert!(
        log().contains("replacements start the new container first"),
        "{}",
        log()
    );

    // A burst of saves: one rebuild, then the new answer, while a client hammers the port:
    // start-first, so not one request fails.
    let hammer = Hammer::start(port);
    std::thread::sleep(Duration::from_millis(300));
    let saved = Instant::now();
    for s in ["ok-v1", "ok-v1b", "ok-v2"] {
        set_status(&main_go, s);
        std::thread::sleep(Duration::from_millis(20));
    }
    eventually("the new answer after the change", long, || {
        let seen = hammer.seen.lock().unwrap();
        seen.last()
            .and_then(|r| r.as_ref().ok())
            .filter(|b| b.contains("ok-v2"))
            .map(|_| ())
    });
    let to_answer = saved.elapsed();
    eventually("the old container to drain and stop", long, || {
        (count(&said, "(the previous image) exited with code") == 1).then_some(())
    });
    std::thread::sleep(Duration::from_millis(300));
    let out = log();
    let (requests, new_ones) = hammer.none_failed("ok-v2", &out);
    hammer.finish();
    assert!(
        requests > 20 && new_ones > 0,
        "{requests} requests, {new_ones} new"
    );
    eprintln!("{eng}: save -> first answer of the new binary: {to_answer:.2?}, {requests} requests, none failed");
    assert_eq!(
        count(&said, "changed; rebuilding"),
        1,
        "three quick saves are one rebuild:\n{out}"
    );
    assert!(
        out.contains("main.go changed; rebuilding")
            && out.contains("healthy after ")
            && out.contains("now reaches it")
            && out.contains("drains what it has open")
            && out.contains("(the previous image) exited with code 0")
            && !out.contains("before starting the new image"),
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

    // A build that compiles but whose service exits at once: the old container never stopped,
    // and serves the previous answer throughout.
    let v3 = std::fs::read_to_string(&main_go).unwrap();
    let hammer = Hammer::start(port);
    std::fs::write(
        &main_go,
        v3.replacen("func main() {", "func main() {\n\tos.Exit(3)", 1),
    )
    .unwrap();
    eventually("the failed start reported", long, || {
        (count(&said, "the new image did not come up") == 1).then_some(())
    });
    let out = log();
    assert!(
        out.contains("exited with code 3") && out.contains("keeps serving; the next change"),
        "{out}"
    );
    let (requests, _) = hammer.none_failed("never", &out);
    hammer.finish();
    assert!(requests > 0);
    let back = healthz(port).unwrap_or_else(|| panic!("the old one answers:\n{out}"));
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
    let _stop = StopOnPanic(pid);
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

/// SIGINT, then: drydock ends with 0 and leaves no container named after it.
fn stop_and_check_clean(
    eng: &str,
    example: &str,
    mut child: std::process::Child,
    said: &Mutex<String>,
    reader: std::thread::JoinHandle<()>,
    image: &str,
) -> String {
    let pid = child.id();
    run_ok(Command::new("kill").args(["-INT", &pid.to_string()]));
    let status = wait_or_kill(&mut child, said);
    reader.join().unwrap();
    let out = said.lock().unwrap().clone();
    assert_eq!(status.code(), Some(0), "{out}");
    let left = run_ok(engine(eng).args([
        "ps",
        "-aq",
        "--filter",
        &format!("name=drydock-{example}-{pid}"),
    ]));
    assert!(left.trim().is_empty(), "containers left: {left}\n{out}");
    let _ = run(engine(eng).args(["rmi", "-f", image]));
    out
}

/// A Rust service under --watch, compiled by real cargo: a changed handler is replaced
/// start-first, with no failed request, and the new binary answers.
#[test]
fn watch_replaces_a_rust_service_start_first() {
    require_tool("docker");
    require_tool("cargo");
    let (_t, dir) = copy_example("axum-api");
    let cache = tempfile::tempdir().unwrap();
    let main_rs = dir.join("src/main.rs");
    let port = free_port();
    let tag = unique_tag_for("axum-api");
    let (child, said, reader) = spawn_watch("docker", &dir, cache.path(), port, &tag);
    let _stop = StopOnPanic(child.id());
    let long = Duration::from_secs(900);
    eventually(
        "the first container to be healthy and watched",
        long,
        || (count(&said, "watching ") > 0).then_some(()),
    );
    let log = || said.lock().unwrap().clone();
    assert!(
        healthz(port).is_some_and(|b| b.contains("\"ok\"")),
        "{}",
        log()
    );
    let hammer = Hammer::start(port);
    std::thread::sleep(Duration::from_millis(300));
    let src = std::fs::read_to_string(&main_rs).unwrap();
    let saved = Instant::now();
    std::fs::write(
        &main_rs,
        src.replacen(
            r#"json!({"status": "ok"})"#,
            r#"json!({"status": "ok-rust2"})"#,
            1,
        ),
    )
    .unwrap();
    eventually("the new binary's answer", long, || {
        let seen = hammer.seen.lock().unwrap();
        seen.last()
            .and_then(|r| r.as_ref().ok())
            .filter(|b| b.contains("ok-rust2"))
            .map(|_| ())
    });
    let to_answer = saved.elapsed();
    eventually("the old container to drain and stop", long, || {
        (count(&said, "(the previous image) exited with code") == 1).then_some(())
    });
    let out = log();
    let (requests, new_ones) = hammer.none_failed("ok-rust2", &out);
    hammer.finish();
    assert!(
        requests > 20 && new_ones > 0,
        "{requests} requests, {new_ones} new"
    );
    assert!(
        out.contains("src/main.rs changed; rebuilding") && out.contains("now reaches it"),
        "{out}"
    );
    eprintln!("axum-api: save -> first answer of the new binary: {to_answer:.2?}, {requests} requests, none failed");
    let out = stop_and_check_clean("docker", "axum-api", child, &said, reader, &tag);
    eprintln!("{out}");
}

/// A port below the unprivileged range, with drydock lacking CAP_NET_BIND_SERVICE (dropped
/// by setpriv) while Docker's daemon may bind it: drydock cannot hold the port, the
/// container publishes it, and replacements stop first; drydock says so, and why.
#[test]
fn watch_stops_first_when_drydock_cannot_hold_the_port() {
    require_tool("docker");
    require_tool("go");
    require_tool("setpriv");
    let (_t, dir) = copy_example("gin-api");
    let cache = tempfile::tempdir().unwrap();
    let main_go = dir.join("main.go");
    // A free privileged port (the test itself may bind it).
    let port = (900..1000)
        .rev()
        .find(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok())
        .expect("a free port in 900..1000");
    let tag = unique_tag();
    let mut setpriv = Command::new("setpriv");
    test_env(&mut setpriv);
    setpriv
        .args(["--bounding-set", "-net_bind_service"])
        .args(["--inh-caps", "-net_bind_service", "--"])
        .arg(env!("CARGO_BIN_EXE_drydock"));
    let (child, said, reader) = spawn_watch_with(setpriv, "docker", &dir, cache.path(), port, &tag);
    let _stop = StopOnPanic(child.id());
    let long = Duration::from_secs(300);
    eventually(
        "the first container to be healthy and watched",
        long,
        || (count(&said, "watching ") > 0).then_some(()),
    );
    let log = || said.lock().unwrap().clone();
    let out = log();
    assert!(
        out.contains("replacements stop the old container first")
            && out.contains(&format!("drydock may not listen on 127.0.0.1:{port}"))
            && out.contains("need CAP_NET_BIND_SERVICE")
            && out.contains("so docker publishes it"),
        "{out}"
    );
    assert!(healthz(port).is_some(), "{out}");
    set_status(&main_go, "ok-stopfirst");
    eventually("the new answer", long, || {
        healthz(port).filter(|b| b.contains("ok-stopfirst"))
    });
    eventually("the rebuild report", long, || {
        (count(&said, "rebuilt in ") == 1).then_some(())
    });
    let out = log();
    assert!(
        out.contains("before starting the new image: drydock may not listen on")
            && out.contains("(down "),
        "{out}"
    );
    let out = stop_and_check_clean("docker", "gin-api", child, &said, reader, &tag);
    eprintln!("{out}");
}
