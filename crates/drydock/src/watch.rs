//! `drydock run --watch`: the development loop. The service runs as `drydock run` runs it;
//! when the build context changes, drydock rebuilds and replaces the container, and a build
//! that fails leaves the old container serving.
//!
//! A replacement starts the new container first and stops the old one only once the new one
//! is healthy: drydock's forwarder ([`crate::forward`]) holds the user's port, each container
//! publishes a loopback port of its own, and new connections switch to the new container while
//! the old one finishes what it has open (SIGTERM, its grace period). When drydock cannot hold
//! the port (a privileged port the engine's daemon may bind and drydock may not), the container
//! publishes it itself, only one can hold it, and the old one stops first; drydock says so.
//!
//! What counts as a change is decided by the build's own definition of the context:
//! `.dockerignore`, the secret filter and `[context] allow_secrets`, through the same
//! `context::load` the build reads. A file outside it (an ignored file, `target/`, a `.env`)
//! never starts a rebuild.
//!
//! Changes are found by polling, not by inotify: every [`POLL`] the context is listed again and
//! each entry's size, modification time and mode compared. A file-watching crate (`notify`) is
//! on crates.io, but it would only say *when* to look again: whether a path is in the context
//! still takes the walk above, which also sees a `.dockerignore` edit re-include a directory.
//! Recursive inotify watches would also cover the ignored trees (a `target/` or `node_modules/`
//! with tens of thousands of directories, against the kernel's per-user watch limit), and miss
//! edits on file systems that do not send events (some bind mounts and VM shares). Listing a
//! context costs about 0.6 ms for examples/gin-api and 41 ms for 4,800 entries (a repository
//! with its Rust `target/` left in, page cache warm), so polling adds no dependency and no
//! visible delay; a context that large is listed less often (a tenth of the time at most) and is
//! one `.dockerignore` should trim anyway.
//!
//! Debounced: a rebuild starts once the context has stayed the same for [`QUIET`], so an editor
//! saving several files (or one file in several writes) causes one rebuild.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::context::{self, EntryKind};
use crate::forward::Forwarder;
use crate::project::Project;
use crate::run::{self, Publish, RunError, RunOptions, Started};
use crate::ui::Ui;

/// How often the context is listed again, at most (a context whose listing takes longer than a
/// tenth of this is listed less often).
pub const POLL: Duration = Duration::from_millis(100);
/// How long the context must stay unchanged after a change before the rebuild starts: an
/// editor's save of several files, or of one in several writes, takes a few milliseconds.
pub const QUIET: Duration = Duration::from_millis(150);

/// What one entry of the context looked like.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Stamp {
    File {
        size: u64,
        mtime_ns: i128,
        mode: u32,
    },
    Dir,
    Link(String),
    /// The context could not be read (a file removed mid-walk, a bad `.dockerignore`): kept
    /// as a value, so a lasting error is one change, and the build reports it.
    Error(String),
}

/// The build context's paths and their stamps, for the project root (and, for a Cargo
/// workspace member, the workspace root the compiler sees as well).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fingerprint(BTreeMap<String, Stamp>);

/// The roots whose contexts a project's build reads.
pub fn roots(project: &Project) -> Vec<(String, PathBuf, bool)> {
    let mut out = vec![(String::new(), project.root.clone(), true)];
    if let Some(c) = &project.build.cargo {
        let same = match (c.workspace_root.canonicalize(), project.root.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => c.workspace_root == project.root,
        };
        if !same {
            // compile/rust.rs reads the workspace's context without allowed secrets.
            out.push(("workspace:".into(), c.workspace_root.clone(), false));
        }
    }
    out
}

impl Fingerprint {
    /// Lists the contexts of `roots` (prefix, directory, whether drydock.toml's allowed secrets
    /// apply) as the build would read them.
    pub fn of(roots: &[(String, PathBuf, bool)]) -> Fingerprint {
        let mut map = BTreeMap::new();
        for (prefix, root, own) in roots {
            let allowed = if *own {
                match crate::config::Config::load(root) {
                    Ok((cfg, _)) => cfg.context.allow_secrets,
                    Err(e) => {
                        map.insert(format!("{prefix}drydock.toml"), Stamp::Error(e.to_string()));
                        Vec::new()
                    }
                }
            } else {
                Vec::new()
            };
            // drydock.toml and .dockerignore shape the build even when the context leaves
            // them out.
            for f in ["drydock.toml", ".dockerignore"] {
                if let Some(s) = stamp_file(&root.join(f)) {
                    map.insert(format!("{prefix}{f}"), s);
                }
            }
            match context::load(root, &allowed) {
                Ok(ctx) => {
                    for e in &ctx.entries {
                        let s = match &e.kind {
                            EntryKind::Dir => Stamp::Dir,
                            EntryKind::Symlink { target } => Stamp::Link(target.clone()),
                            EntryKind::File { .. } => stamp_file(&root.join(&e.path))
                                .unwrap_or_else(|| Stamp::Error("gone".into())),
                        };
                        map.insert(format!("{prefix}{}", e.path), s);
                    }
                }
                Err(e) => {
                    map.insert(format!("{prefix}(context)"), Stamp::Error(e.to_string()));
                }
            }
        }
        Fingerprint(map)
    }

    /// The newest modification time of a file in it.
    fn newest(&self) -> Option<SystemTime> {
        self.0
            .values()
            .filter_map(|s| match s {
                Stamp::File { mtime_ns, .. } if *mtime_ns >= 0 => {
                    Some(UNIX_EPOCH + Duration::from_nanos(u64::try_from(*mtime_ns).unwrap_or(0)))
                }
                _ => None,
            })
            .max()
    }

    /// The paths that differ between `self` and `newer`, for saying what changed.
    pub fn changed(&self, newer: &Fingerprint) -> Vec<String> {
        let mut out: Vec<String> = newer
            .0
            .iter()
            .filter(|(p, s)| self.0.get(*p) != Some(*s))
            .map(|(p, _)| p.clone())
            .collect();
        out.extend(
            self.0
                .keys()
                .filter(|p| !newer.0.contains_key(*p))
                .map(|p| format!("{p} (removed)")),
        );
        out
    }
}

fn stamp_file(path: &Path) -> Option<Stamp> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    Some(Stamp::File {
        size: m.len(),
        mtime_ns: i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
        mode: m.mode(),
    })
}

/// "main.go", "main.go and 2 more".
fn describe(paths: &[String]) -> String {
    match paths {
        [] => "the context".into(),
        [one] => one.clone(),
        [first, rest @ ..] => format!("{first} and {} more", rest.len()),
    }
}

/// A new build, loaded into the engine.
pub struct Rebuilt {
    pub project: Project,
    /// The reference to run, as the engine names it.
    pub image: String,
    pub digest: String,
}

/// Why a rebuild gave no image.
pub enum RebuildFailed {
    /// The build failed; its error has been printed.
    Failed,
    /// SIGINT or SIGTERM ended it. While the compiler runs, its process group's handler
    /// (crate::pgroup) takes the signal, so the watch learns of it from the build's error.
    Interrupted,
}

fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

/// How a replacement goes.
enum Replace {
    /// drydock's forwarder holds the user's port and each container publishes a loopback port
    /// of its own: the new one starts and becomes healthy while the old one serves, new
    /// connections switch to it, then the old one drains and stops.
    StartFirst(Forwarder),
    /// The container publishes the user's port itself, and only one can hold it: the old one
    /// stops before the new one starts. Why the forwarder could not be used.
    StopFirst(String),
}

/// Start-first when drydock can listen on the port; an error when nothing could (the port is
/// taken); stop-first, saying why, when only the engine can publish it (a port below the
/// unprivileged range: rootful Docker's daemon may bind it, drydock without
/// CAP_NET_BIND_SERVICE may not).
fn replace_mode(opts: &RunOptions) -> Result<Replace, RunError> {
    let port = opts.host_port;
    match Forwarder::listen(port) {
        Ok(f) => Ok(Replace::StartFirst(f)),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Err(RunError::PortInUse {
            port,
            engine: "drydock",
        }),
        Err(e) => {
            let why = if e.kind() == std::io::ErrorKind::PermissionDenied {
                let first =
                    std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start")
                        .ok()
                        .and_then(|s| s.trim().parse::<u32>().ok())
                        .unwrap_or(1024);
                format!("drydock may not listen on 127.0.0.1:{port} ({e}: ports below {first} need CAP_NET_BIND_SERVICE)")
            } else {
                format!("drydock cannot listen on 127.0.0.1:{port} ({e})")
            };
            Ok(Replace::StopFirst(format!(
                "{why}, so {} publishes it, and only one container can hold it",
                opts.engine.program()
            )))
        }
    }
}

/// How long a switched-away container keeps getting nothing new before its SIGTERM: a
/// connection the forwarder handed it just before the switch has been accepted by the app by
/// then (the engine's own port proxy dials the container after accepting).
const SETTLE: Duration = Duration::from_millis(200);

/// Whether a container that served has exited on its own. Its `logs -f` stream ends when it
/// does, which costs nothing to ask; the engine is asked besides once a second.
fn exited(engine: crate::publish::Engine, c: &mut Started, asked: &mut Instant) -> bool {
    let stream_ended = c
        .logs
        .as_mut()
        .is_some_and(|l| matches!(l.try_wait(), Ok(Some(_))));
    if !stream_ended && asked.elapsed() < Duration::from_secs(1) {
        return false;
    }
    *asked = Instant::now();
    run::state(engine, &c.id).0 != "running"
}

/// Runs the service and rebuilds it on every change of its build context until SIGINT or
/// SIGTERM; returns drydock's exit code. `built_at` is when the first build started: a file
/// saved while it ran starts a rebuild at once. `rebuild` builds and loads the image again,
/// and prints the build's error itself when it fails.
pub fn watch(
    project: Project,
    digest: String,
    mut opts: RunOptions,
    built_at: SystemTime,
    ui: &Ui,
    rebuild: &mut dyn FnMut() -> Result<Rebuilt, RebuildFailed>,
) -> Result<u8, RunError> {
    let stop = Arc::new(AtomicBool::new(false));
    // SIGINT and SIGTERM only set `stop`, during a rebuild too: the compiler's process group
    // gets the signal (crate::pgroup) and the build returns; then everything is removed here.
    let _handled_here = crate::interrupt::handle_here(stop.clone());
    let engine = opts.engine;
    let mut mode = replace_mode(&opts)?;
    let publish = match &mode {
        Replace::StartFirst(_) => {
            ui.note(&format!(
                "replacements start the new container first: drydock listens on 127.0.0.1:{} and forwards each connection to the container serving, published on a loopback port of its own",
                opts.host_port
            ));
            Publish::AnyPort
        }
        Replace::StopFirst(why) => {
            ui.warn(&format!(
                "replacements stop the old container first (the service is down until the new one is healthy): {why}"
            ));
            Publish::HostPort
        }
    };
    let base = format!("drydock-{}-{}", project.name, std::process::id());
    let mut generation = 0u32;
    let mut project = project;
    let mut digest = digest;
    let watched = roots(&project);
    let mut seen = Fingerprint::of(&watched);
    // What the running image was built from; empty when a file changed during the first build.
    let mut built = if seen.newest().is_some_and(|t| t > built_at) {
        Fingerprint::default()
    } else {
        seen.clone()
    };
    let mut changed_at = Instant::now();

    let mut current = {
        let c = run::start(&project, &opts, &base, publish, ui)?;
        match run::wait_healthy(&project, &opts, &c, &stop, ui) {
            Ok(false) => {
                if let Replace::StartFirst(f) = &mode {
                    f.switch(Some(c.host_port), Duration::from_secs(1));
                }
                ui.note(&format!(
                    "{} is healthy on http://127.0.0.1:{}{}; watching {} for changes (Ctrl-C stops it)",
                    project.name,
                    opts.host_port,
                    project.image.health.path,
                    project.root.display()
                ));
                Some(c)
            }
            Ok(true) => {
                run::stop_gracefully(engine, &project, &c, ui);
                run::remove(engine, c);
                return Err(RunError::Interrupted { name: base });
            }
            Err(e) => {
                // The development loop goes on: the next change may fix it.
                run::remove(engine, c);
                ui.warn(&format!(
                    "{e}\nwatching {} for a change to rebuild",
                    project.root.display()
                ));
                None
            }
        }
    };

    std::thread::scope(|scope| {
        // A container switched away from drains and stops on its own thread, so the next
        // change need not wait for its grace period; the scope waits for all of them.
        let retire = |old: Started, p: Project| {
            scope.spawn(move || {
                std::thread::sleep(SETTLE);
                run::stop_gracefully(engine, &p, &old, ui);
                let name = old.name.clone();
                let code = run::remove(engine, old);
                ui.note(&format!(
                    "{name} (the previous image) exited with code {code}"
                ));
            });
        };
        let mut asked = Instant::now();
        let mut wait = POLL;
        loop {
            let slept = Instant::now();
            while slept.elapsed() < wait && !stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(10).min(wait));
            }
            if stop.load(Ordering::SeqCst) {
                break;
            }
            if current
                .as_mut()
                .is_some_and(|c| exited(engine, c, &mut asked))
            {
                if let Replace::StartFirst(f) = &mode {
                    f.switch(None, Duration::ZERO);
                }
                if let Some(c) = current.take() {
                    let name = c.name.clone();
                    let code = run::remove(engine, c);
                    ui.warn(&format!(
                        "{name} exited with code {code}; the next change rebuilds it"
                    ));
                }
            }
            let listed = Instant::now();
            let now = Fingerprint::of(&watched);
            // Listing a large context often would cost a core: at most a tenth of the time.
            let interval = POLL.max(listed.elapsed() * 10);
            if now != seen {
                seen = now;
                changed_at = Instant::now();
            }
            if seen != built && changed_at.elapsed() < QUIET {
                wait = QUIET
                    .saturating_sub(changed_at.elapsed())
                    .max(Duration::from_millis(10));
                continue;
            }
            wait = interval;
            if seen == built {
                continue;
            }
            let what = describe(&built.changed(&seen));
            built = seen.clone();
            ui.note(&format!("{what} changed; rebuilding"));
            let t = Instant::now();
            let result = rebuild();
            let build_time = t.elapsed();
            if matches!(result, Err(RebuildFailed::Interrupted)) {
                stop.store(true, Ordering::SeqCst);
            }
            if stop.load(Ordering::SeqCst) {
                break;
            }
            let rb = match result {
                Ok(rb) => rb,
                Err(_) => {
                    ui.warn(&format!(
                        "the rebuild failed after {}; {}; the next change rebuilds",
                        secs(build_time),
                        match &current {
                            Some(c) => format!("{} keeps serving", c.name),
                            None => "nothing is running".into(),
                        }
                    ));
                    continue;
                }
            };
            if let Some(c) = current.as_ref().filter(|_| rb.digest == digest) {
                ui.note(&format!(
                    "rebuilt in {}: the image is the same ({}), so {} keeps serving",
                    secs(build_time),
                    rb.digest,
                    c.name
                ));
                continue;
            }
            // Replace.
            let old = current.take();
            let down = Instant::now();
            if let (Replace::StopFirst(why), Some(o)) = (&mode, &old) {
                ui.note(&format!(
                    "stopping {} before starting the new image: {why}",
                    o.name
                ));
                run::stop_gracefully(engine, &project, o, ui);
            }
            generation += 1;
            let name = format!("{base}-{generation}");
            let old_image = std::mem::replace(&mut opts.image, rb.image.clone());
            // The health wait counts from the engine's `run`: starting is part of the wait.
            let health_start = Instant::now();
            let started = run::start(&rb.project, &opts, &name, publish, ui);
            let outcome = started.map(|c| {
                let h = run::wait_healthy(&rb.project, &opts, &c, &stop, ui);
                (c, h)
            });
            match outcome {
                Ok((c, Ok(false))) => {
                    let health = health_start.elapsed();
                    match &mode {
                        Replace::StartFirst(f) => {
                            f.switch(Some(c.host_port), Duration::from_secs(1));
                            ui.note(&format!(
                                "rebuilt in {}, {} healthy after {}; http://127.0.0.1:{}{} now reaches it{}",
                                secs(build_time),
                                c.name,
                                secs(health),
                                opts.host_port,
                                rb.project.image.health.path,
                                match &old {
                                    Some(o) => format!(
                                        " ({} drains what it has open, then stops)",
                                        o.name
                                    ),
                                    None => String::new(),
                                }
                            ));
                            if let Some(o) = old {
                                retire(o, project.clone());
                            }
                        }
                        Replace::StopFirst(_) => {
                            ui.note(&format!(
                                "rebuilt in {}, {} healthy after {} (down {}); serving on http://127.0.0.1:{}{}",
                                secs(build_time),
                                c.name,
                                secs(health),
                                secs(down.elapsed()),
                                opts.host_port,
                                rb.project.image.health.path
                            ));
                            if let Some(o) = old {
                                run::remove(engine, o);
                            }
                        }
                    }
                    current = Some(c);
                    project = rb.project;
                    digest = rb.digest;
                }
                Ok((c, Ok(true))) => {
                    // Interrupted while the new one started: it never served. The old one, if
                    // it still runs (start-first), is stopped below like any serving one.
                    run::stop_gracefully(engine, &rb.project, &c, ui);
                    run::remove(engine, c);
                    opts.image = old_image;
                    match (&mode, old) {
                        (Replace::StartFirst(_), old) => current = old,
                        (Replace::StopFirst(_), Some(o)) => {
                            run::remove(engine, o);
                        }
                        (Replace::StopFirst(_), None) => {}
                    }
                    break;
                }
                failed => {
                    let e = match failed {
                        Ok((c, Err(e))) => {
                            run::remove(engine, c);
                            e
                        }
                        Err(e) => e,
                        Ok((_, Ok(_))) => unreachable!(),
                    };
                    opts.image = old_image;
                    match (&mode, old) {
                        (Replace::StartFirst(_), Some(o)) => {
                            ui.warn(&format!(
                                "the new image did not come up: {e}\n{} keeps serving; the next change rebuilds",
                                o.name
                            ));
                            current = Some(o);
                        }
                        (Replace::StopFirst(_), Some(o)) => {
                            ui.warn(&format!("the new image did not come up: {e}"));
                            current = restart(&project, &opts, o, &stop, ui);
                            if stop.load(Ordering::SeqCst) {
                                break;
                            }
                        }
                        (_, None) => {
                            ui.warn(&format!("the new image did not come up: {e}"));
                            ui.note("nothing is running; the next change rebuilds");
                        }
                    }
                }
            }
        }
        // Stopped by SIGINT or SIGTERM. The port refuses new connections from now on; the one
        // serving is stopped gracefully, as `run` does, finishing what it has open.
        if let Replace::StartFirst(f) = &mut mode {
            f.close();
        }
        match current.take() {
            Some(c) => {
                run::stop_gracefully(engine, &project, &c, ui);
                let name = c.name.clone();
                let code = run::remove(engine, c);
                ui.note(&format!("{name} exited with code {code}"));
                Ok(if code == 0 { 0 } else { 1 })
            }
            None => Err(RunError::Interrupted { name: base.clone() }),
        }
    })
}

/// Starts the stopped old container again after its successor failed (stop-first only); None
/// when it does not come back healthy (then it is removed).
fn restart(
    project: &Project,
    opts: &RunOptions,
    mut old: Started,
    stop: &AtomicBool,
    ui: &Ui,
) -> Option<Started> {
    let engine = opts.engine;
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    run::finish_logs(&mut old.logs);
    if let Err(e) = run::engine_cmd(engine, &["start", &old.id]) {
        ui.warn(&format!("cannot start {} again: {e}", old.name));
        run::remove(engine, old);
        return None;
    }
    old.logs = run::follow_logs(engine, &old.id, Some(since));
    match run::wait_healthy(project, opts, &old, stop, ui) {
        Ok(false) => {
            ui.note(&format!(
                "{} is serving again (the previous image); the next change rebuilds",
                old.name
            ));
            Some(old)
        }
        Ok(true) => {
            run::remove(engine, old);
            None
        }
        Err(e) => {
            ui.warn(&format!("{e}"));
            run::remove(engine, old);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(dir: &Path) -> Fingerprint {
        Fingerprint::of(&[(String::new(), dir.to_path_buf(), true)])
    }

    #[test]
    fn only_changes_in_the_context_count() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        std::fs::write(d.join(".dockerignore"), "ignored.txt\ntarget\n").unwrap();
        std::fs::write(d.join("main.go"), "package main\n").unwrap();
        std::fs::create_dir(d.join("target")).unwrap();
        std::fs::write(d.join("target/out"), "1").unwrap();
        let a = fp(d);
        // Outside the context: an ignored file, something under an ignored directory, a
        // secret-looking file.
        std::fs::write(d.join("ignored.txt"), "x").unwrap();
        std::fs::write(d.join("target/out"), "22").unwrap();
        std::fs::write(d.join(".env"), "A=1").unwrap();
        assert_eq!(a, fp(d), "{:?}", a.changed(&fp(d)));
        // Inside: an edit (size), a new file, a removal.
        std::fs::write(d.join("main.go"), "package main\n\n").unwrap();
        let b = fp(d);
        assert_eq!(a.changed(&b), ["main.go"]);
        std::fs::write(d.join("extra.go"), "package main\n").unwrap();
        std::fs::remove_file(d.join("main.go")).unwrap();
        let c = fp(d);
        assert_eq!(b.changed(&c), ["extra.go", "main.go (removed)"]);
        assert_eq!(describe(&b.changed(&c)), "extra.go and 1 more");
        // Editing .dockerignore is a change (it may re-include a file).
        std::fs::write(d.join(".dockerignore"), "target\n").unwrap();
        let e = fp(d);
        assert_eq!(c.changed(&e), [".dockerignore", "ignored.txt"]);
    }

    fn opts(port: u16) -> RunOptions {
        RunOptions {
            engine: crate::publish::Engine::Docker,
            image: "x".into(),
            host_port: port,
            env: Vec::new(),
            wait: Duration::from_secs(1),
        }
    }

    #[test]
    fn start_first_when_drydock_holds_the_port_and_an_error_when_it_is_taken() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        assert!(matches!(
            replace_mode(&opts(port)),
            Err(RunError::PortInUse { port: p, .. }) if p == port
        ));
        drop(taken);
        match replace_mode(&opts(port)) {
            Ok(Replace::StartFirst(f)) => assert_eq!(f.addr().port(), port),
            Ok(Replace::StopFirst(why)) => panic!("stop-first: {why}"),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn same_size_edits_count_by_mtime() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        let f = d.join("main.go");
        std::fs::write(&f, "aaaa").unwrap();
        let a = fp(d);
        std::fs::write(&f, "bbbb").unwrap();
        let later = SystemTime::now() + Duration::from_secs(5);
        std::fs::File::options()
            .write(true)
            .open(&f)
            .unwrap()
            .set_modified(later)
            .unwrap();
        let b = fp(d);
        assert_eq!(a.changed(&b), ["main.go"]);
        assert!(b.newest().unwrap() >= later);
    }
}
