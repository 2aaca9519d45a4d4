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
