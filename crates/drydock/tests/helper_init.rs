//! drydock-helper as init, on the host: the binary drydock embeds, run directly, with a shell
//! script as the app. Exit codes, signal forwarding, exec failures.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};

/// The helper, written once for the whole test binary. Written per test, a file still open for
/// writing in one thread can be inherited by a child another thread forks, and exec then fails
/// with "Text file busy" (ETXTBSY).
fn helper() -> ((), std::path::PathBuf) {
    static PATH: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    let p = PATH.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap().keep();
        let p = dir.join("drydock-helper");
        std::fs::write(&p, drydock::image::helper::HELPER).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    });
    ((), p.clone())
}

#[test]
fn exit_codes_pass_through() {
    let (_t, h) = helper();
    let code = |script: &str| {
        Command::new(&h)
            .args(["--", "/bin/sh", "-c", script])
            .status()
            .unwrap()
            .code()
    };
    assert_eq!(code("exit 0"), Some(0));
    assert_eq!(code("exit 7"), Some(7));
    // Killed by a signal: 128 + its number, as a shell reports it.
    assert_eq!(code("kill -TERM $$"), Some(143));
    assert_eq!(code("kill -KILL $$"), Some(137));
    let out = Command::new(&h)
        .args(["--", "/no/such/app"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(127));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot exec /no/such/app: no such file"));
    // A name without a slash is looked up in PATH.
    assert_eq!(
        Command::new(&h)
            .args(["--", "true"])
            .status()
            .unwrap()
            .code(),
        Some(0)
    );
    assert_eq!(
        Command::new(&h).args(["--bogus"]).status().unwrap().code(),
        Some(2)
    );
}

#[test]
fn signals_are_forwarded_to_the_app() {
    let (_t, h) = helper();
    for sig in ["TERM", "INT", "HUP", "QUIT", "USR1", "USR2"] {
        let script = format!(
            "trap 'echo got-{sig}; exit 0' {sig}; echo ready; while :; do sleep 0.05; done"
        );
        let mut child = Command::new(&h)
            .args(["--", "/bin/sh", "-c", &script])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        assert_eq!(lines.next().unwrap().unwrap(), "ready");
        // To the helper, which forwards it; the shell's own trap must see it.
        assert!(Command::new("kill")
            .args([&format!("-{sig}"), &child.id().to_string()])
            .status()
            .unwrap()
            .success());
        assert_eq!(
            lines.next().unwrap().unwrap(),
            format!("got-{sig}"),
            "{sig} forwarded"
        );
        assert_eq!(
            child.wait().unwrap().code(),
            Some(0),
            "{sig}: the app's exit code"
        );
    }
}

/// The app: says `ready`, then `got-TERM <ms since ready>` on SIGTERM, and `served` every
/// 50 ms until then (it keeps serving while the helper holds the signal).
fn draining(
    h: &std::path::Path,
    delay: &str,
) -> (
    std::process::Child,
    std::io::Lines<BufReader<std::process::ChildStdout>>,
) {
    let script = "start=$(date +%s%3N); trap 'echo got-TERM $(( $(date +%s%3N) - start )); exit 0' TERM; echo ready; while :; do sleep 0.05; echo served; done";
    let mut child = Command::new(h)
        .args(["--", "/bin/sh", "-c", script])
        .env("DRYDOCK_DRAIN_DELAY", delay)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "ready");
    (child, lines)
}

fn kill(sig: &str, pid: u32) {
    assert!(Command::new("kill")
        .args([&format!("-{sig}"), &pid.to_string()])
        .status()
        .unwrap()
        .success());
}

#[test]
fn a_drain_delay_holds_the_first_sigterm_while_the_app_serves() {
    let (_t, h) = helper();
    let (child, lines) = draining(&h, "800ms");
    let sent = std::time::Instant::now();
    kill("TERM", child.id());
    let mut served_after = 0;
    let mut got = None;
    for l in lines {
        let l = l.unwrap();
        if l == "served" {
            served_after += 1;
        } else if let Some(ms) = l.strip_prefix("got-TERM ") {
            got = Some(ms.parse::<u64>().unwrap());
            break;
        }
    }
    let held = sent.elapsed();
    assert!(got.is_some(), "the app got SIGTERM in the end");
    assert!(
        held >= std::time::Duration::from_millis(800),
        "held {held:?}"
    );
    assert!(
        served_after >= 5,
        "the app kept serving meanwhile: {served_after}"
    );
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "the app's own exit");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("SIGTERM held 800 ms (DRYDOCK_DRAIN_DELAY)")
    );

    // A second SIGTERM while it is held goes through at once.
    let (mut child, mut lines) = draining(&h, "30s");
    kill("TERM", child.id());
    std::thread::sleep(std::time::Duration::from_millis(200));
    let sent = std::time::Instant::now();
    kill("TERM", child.id());
    assert!(lines.any(|l| l.unwrap().starts_with("got-TERM")));
    assert!(
        sent.elapsed() < std::time::Duration::from_secs(5),
        "not held again"
    );
    assert_eq!(child.wait().unwrap().code(), Some(0));

    // A value it cannot read is said and ignored: SIGTERM goes at once.
    let (child, mut lines) = draining(&h, "3 minutes");
    kill("TERM", child.id());
    let sent = std::time::Instant::now();
    assert!(lines.any(|l| l.unwrap().starts_with("got-TERM")));
    assert!(sent.elapsed() < std::time::Duration::from_secs(5));
    let out = child.wait_with_output().unwrap();
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("DRYDOCK_DRAIN_DELAY=\"3 minutes\" ignored")
    );
}

#[test]
fn go_mode_reports_its_decision_once_and_can_be_silenced() {
    let (_t, h) = helper();
    let out = Command::new(&h)
        .args(["--go", "--", "/bin/sh", "-c", "echo GOMAXPROCS=$GOMAXPROCS"])
        .env("GOMAXPROCS", "5")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "GOMAXPROCS=5");
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(said.lines().count(), 1, "{said}");
    assert!(
        said.contains("GOMAXPROCS=5 kept (set by the user)"),
        "{said}"
    );
    let out = Command::new(&h)
        .args(["--go", "--", "/bin/true"])
        .env("DRYDOCK_HELPER_QUIET", "1")
        .output()
        .unwrap();
    assert!(out.stderr.is_empty());
    // Not a Go app: nothing decided, nothing said.
    let out = Command::new(&h)
        .args(["--", "/bin/sh", "-c", "echo [$GOMAXPROCS]"])
        .env_remove("GOMAXPROCS")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "[]");
    assert!(out.stderr.is_empty());
}
