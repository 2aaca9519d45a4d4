//! The build stage: from a staged copy of the context to one static binary.
//!
//! The compiler only ever sees the context (what `.dockerignore` and the secret filter let
//! through), mirrored into a per-project directory in drydock's cache, so builds are the same
//! whichever directory the project sits in. The user's toolchain environment passes through;
//! drydock adds only what makes the result static and reproducible. Whatever comes out is
//! checked to be a static ELF before anything packages it.

pub mod elf;
pub mod fingerprint;
mod go;
pub mod goinfo;
pub mod gomod;
mod rust;

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::cache::{Cache, CacheError, StageDir};
use crate::config::Language;
use crate::context::{BuildContext, ContextError};
use crate::project::Project;
use crate::ui::Ui;

pub use elf::{verify_static, verify_static_bytes, Linkage, StaticError, StaticInfo};

#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    #[error("`{tool}` was not found on PATH")]
    ToolMissing { tool: String, fix: &'static str },
    #[error("{command} failed ({status}) in {dir}:\n{output}")]
    Failed {
        command: String,
        status: String,
        dir: PathBuf,
        output: String,
        /// What drydock knows about this failure (cgo, a missing go.sum, excluded files): the
        /// fix, the first that applies.
        hint: Option<String>,
    },
    #[error("interrupted: {command} was stopped, with every process it started")]
    Interrupted { command: String },
    #[error("cannot run {command}: {source}")]
    Run {
        command: String,
        source: std::io::Error,
    },
    #[error("{what} {}: {source}", .path.display())]
    Io {
        what: &'static str,
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    LocalPath(#[from] gomod::LocalPathError),
    #[error(transparent)]
    Static(#[from] StaticError),
    /// `--binary` (or `binary` in drydock.toml) is not something an image can run: bad input.
    #[error("{source}")]
    Prebuilt { path: PathBuf, source: StaticError },
    #[error(transparent)]
    Context(#[from] ContextError),
    #[error(transparent)]
    Cache(#[from] CacheError),
    /// The toolchain cannot compile for this platform here.
    #[error("cannot compile for {platform}: {why}")]
    Platform {
        platform: String,
        why: String,
        fix: String,
    },
}

impl CompileError {
    /// What to do about it, shown after the message (see [`crate::error::Classify::fix`]).
    pub fn fix(&self) -> Option<String> {
        Some(match self {
            CompileError::ToolMissing { fix, .. } => fix.to_string(),
            CompileError::Failed { hint, .. } => return hint.clone(),
            CompileError::LocalPath(e) => e.fix.clone(),
            CompileError::Static(e) | CompileError::Prebuilt { source: e, .. } => return e.fix(),
            CompileError::Context(e) => return e.fix(),
            CompileError::Cache(e) => return e.fix(),
            CompileError::Platform { fix, .. } => fix.clone(),
            _ => return None,
        })
    }
}

/// The binary the runtime stage packages.
pub struct Compiled {
    pub binary: PathBuf,
    pub info: StaticInfo,
    /// `go build`, `cargo build` or `prebuilt`.
    pub tool: String,
    /// The command that ran, for the report.
    pub command: Option<String>,
    /// GOPATH-mode Go builds: where and with what environment `go build` ran, so the SBOM can
    /// ask `go list` which packages it compiled.
    pub go_list: Option<GoListEnv>,
    /// Taken from the rebuild cache: nothing the compiler reads changed since it made it.
    pub cached: bool,
    /// The binary's SHA-256, when known without reading it again (a cache blob).
    pub digest: Option<crate::digest::Digest>,
    /// Held until the binary has been packaged: another build of the same project waits.
    pub _stage: Option<StageDir>,
}

/// The directory and environment a `go build` ran with.
pub struct GoListEnv {
    pub dir: PathBuf,
    pub env: Vec<(std::ffi::OsString, Option<std::ffi::OsString>)>,
}

/// How a binary may link: static always; dynamically only on a base image, which must then
/// provide the libraries (the build checks that against the base's files).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Linking {
    StaticOnly,
    DynamicAllowed,
}

impl Linking {
    /// Reads `path`'s linkage, refusing a binary this linking does not allow or whose ELF
    /// machine is not `platform`'s.
    fn check(
        self,
        path: &std::path::Path,
        fix: &'static str,
        platform: &drydock_oci::Platform,
    ) -> Result<StaticInfo, StaticError> {
        let info = match self {
            Linking::StaticOnly => verify_static(path, fix),
            Linking::DynamicAllowed => elf::read_elf_file(path),
        }?;
        elf::check_machine(path, &info, platform)?;
        Ok(info)
    }
}

/// The stage directory's name for a project's compile for `platform`: linux/amd64 keeps the
/// name it always had, so its stage (and Rust's target directory in it) is reused; other
/// platforms get their own, so platforms compile side by side.
pub fn stage_name(tool: &str, project: &str, platform: &drydock_oci::Platform) -> String {
    if *platform == drydock_oci::Platform::linux_amd64() {
        format!("{tool}-{project}")
    } else {
        format!(
            "{tool}-{project}-{}",
            platform.to_string().replace('/', "-")
        )
    }
}

/// One build's compile step: what to compile, where its stage and cache are, and how.
#[derive(Clone, Copy)]
pub struct Job<'a> {
    pub project: &'a Project,
    pub ctx: &'a BuildContext,
    pub cache: &'a Cache,
    pub ui: &'a Ui,
    pub linking: Linking,
    /// Whether the rebuild cache may stand in for the compiler.
    pub use_cache: bool,
    /// The platform the binary is for (GOOS/GOARCH, the Rust target).
    pub platform: &'a drydock_oci::Platform,
}

pub fn compile(job: &Job) -> Result<Compiled, CompileError> {
    let Job {
        project,
        ctx,
        linking,
        platform,
        ..
    } = *job;
    if let Some(bin) = &project.build.binary {
        let info = linking
            .check(bin, elf::FIX_ANY, platform)
            .map_err(|source| CompileError::Prebuilt {
                path: bin.clone(),
                source,
            })?;
        return Ok(Compiled {
            binary: bin.clone(),
            info,
            tool: "prebuilt".into(),
            command: None,
            go_list: None,
            cached: false,
            digest: None,
            _stage: None,
        });
    }
    match project.build.language {
        Language::Go => go::build(job),
        Language::Rust => rust::build(job),
    }
    .map_err(|e| explain(e, project, ctx))
}

/// A compiler failure in the user's terms: paths in the user's tree instead of drydock's stage
/// copy, and what drydock can tell about the cause.
fn explain(e: CompileError, project: &Project, ctx: &BuildContext) -> CompileError {
    let CompileError::Failed {
        command,
        status,
        dir,
        output,
        ..
    } = e
    else {
        return e;
    };
    let stage = dir.display().to_string();
    // What was staged: the project, or the workspace a Rust member builds in.
    let tree = project
        .build
        .cargo
        .as_ref()
        .map_or(&project.root, |c| &c.workspace_root);
    let root = tree.display().to_string();
    let output = output.replace(&stage, &root);
    let mut hints = Vec::new();
    if project.build.language == Language::Go {
        let sources = crate::detect::sources(ctx, Language::Go);
        let cgo = crate::detect::cgo_files(&sources);
        if !cgo.is_empty()
            && (output.contains("build constraints exclude all Go files")
                || output.contains("undefined: C")
                || output.contains("cgo"))
        {
            hints.push(format!("{} uses cgo (`import \"C\"`), and drydock builds Go with CGO_ENABLED=0 so that the binary is static for a scratch image; remove the cgo dependency (e.g. a pure-Go driver such as modernc.org/sqlite instead of mattn/go-sqlite3), build on a base image with a libc and set CGO_ENABLED = \"1\" under [build.env], or build a static cgo binary yourself and pass it with --binary", cgo.join(", ")));
        }
        if output.contains("missing go.sum entry") {
            hints.push("the module has no go.sum entries for its dependencies: run `go mod tidy` where a Go module proxy is reachable and commit go.sum; or build in GOPATH mode against packaged sources with GO111MODULE=off and GOPATH set (e.g. GOPATH=/usr/share/gocode with Debian's golang-*-dev packages)".into());
        } else if output.contains("module lookup disabled")
            || (output.contains("proxy.golang.org") && output.contains("dial tcp"))
        {
            hints.push("the module's dependencies could not be downloaded (GOPROXY is off, or no Go module proxy is reachable): set GOPROXY to one that is, vendor them (`go mod vendor`; the build then uses vendor/), or build in GOPATH mode against packaged sources with GO111MODULE=off and GOPATH set (e.g. GOPATH=/usr/share/gocode with Debian's golang-*-dev packages)".into());
        }
    }
    let excluded = excluded_sources(project, ctx);
    if !excluded.is_empty() {
        hints.push(format!(
            ".dockerignore keeps {} out of the build context, and the compiler only sees the context: un-ignore what the build needs",
            excluded.join(", ")
        ));
    }
    CompileError::Failed {
        command: command.replace(&stage, &root),
        status,
        dir: tree.clone(),
        output,
        hint: hints.into_iter().next(),
    }
}

/// Source files of the project's language (and its manifests) that `.dockerignore` excludes.
fn excluded_sources(project: &Project, ctx: &BuildContext) -> Vec<String> {
    let wanted = |name: &str| match project.build.language {
        Language::Go => name.ends_with(".go") || name == "go.mod" || name == "go.sum",
        Language::Rust => name.ends_with(".rs") || name == "Cargo.toml" || name == "Cargo.lock",
    };
    let mut found = Vec::new();
    let walker = ignore::WalkBuilder::new(&project.root)
        .hidden(false)
        .git_ignore(false)
        .filter_entry(|e| !matches!(e.file_name().to_str(), Some(".git" | "target" | "vendor")))
        .build();
    for entry in walker.flatten().take(20_000) {
        let Ok(rel) = entry.path().strip_prefix(&project.root) else {
            continue;
        };
        let rel = rel.to_string_lossy();
        let name = entry.file_name().to_string_lossy();
        if entry.file_type().is_some_and(|t| t.is_file())
            && wanted(&name)
            && !rel.ends_with("_test.go")
            && !ctx.contains(&rel)
            && ctx.matcher.matched(&rel)
        {
            found.push(rel.into_owned());
            if found.len() == 5 {
                found.push("…".into());
                break;
            }
        }
    }
    found
}

/// Runs a toolchain command in its own process group (which ends with drydock: see
/// [`crate::pgroup`]). Its output streams to stderr under `-v`; otherwise its latest line
/// follows the spinner on a terminal and nothing shows elsewhere. On failure, the last lines
/// of its output make the error.
fn run(
    mut cmd: Command,
    display: &str,
    dir: &Path,
    ui: &Ui,
    missing_fix: &'static str,
) -> Result<(), CompileError> {
    const KEEP: usize = 60;
    let label = format!("compiling: {display}");
    let step = ui.step(&label);
    if ui.verbose {
        ui.note(&label);
    }
    cmd.current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut group = crate::pgroup::Group::spawn(&mut cmd).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            CompileError::ToolMissing {
                tool: cmd.get_program().to_string_lossy().into_owned(),
                fix: missing_fix,
            }
        } else {
            CompileError::Run {
                command: display.to_string(),
                source: e,
            }
        }
    })?;
    let (tx, rx) = mpsc::channel::<String>();
    let mut readers = Vec::new();
    let streams: [Option<Box<dyn Read + Send>>; 2] = [
        group
            .child()
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
        group
            .child()
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    ];
    for stream in streams.into_iter().flatten() {
        let tx = tx.clone();
        readers.push(std::thread::spawn(move || {
            for line in BufReader::new(stream).split(b'\n').map_while(Result::ok) {
                if tx
                    .send(String::from_utf8_lossy(&line).into_owned())
                    .is_err()
                {
                    break;
                }
            }
        }));
    }
    drop(tx);
    let mut tail: VecDeque<String> = VecDeque::with_capacity(KEEP);
    let status = loop {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(line) => {
                ui.tool_line(&line);
                let shown = line.trim();
                if !shown.is_empty() {
                    step.set(&format!("{label} — {}", shorten(shown, 60)));
                }
                if tail.len() == KEEP {
                    tail.pop_front();
                }
                tail.push_back(line);
                continue;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                // A grandchild holding the pipes open must not keep drydock waiting once
                // the tool itself has ended (the group is killed then).
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                std::thread::sleep(Duration::from_millis(50))
            }
        }
        match group.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) => {}
            Err(e) => {
                return Err(CompileError::Run {
                    command: display.to_string(),
                    source: e,
                })
            }
        }
    };
    // The rest of the output; the group is gone, so the pipes close (a process that left the
    // group and still holds them is not waited for).
    drop(readers);
    while let Ok(line) = rx.recv_timeout(Duration::from_millis(500)) {
        ui.tool_line(&line);
        if tail.len() == KEEP {
            tail.pop_front();
        }
        tail.push_back(line);
    }
    let interrupted = group.interrupted();
    drop(group);
    drop(step);
    if interrupted {
        return Err(CompileError::Interrupted {
            command: display.to_string(),
        });
    }
    if !status.success() {
        return Err(CompileError::Failed {
            command: display.to_string(),
            status: status.to_string(),
            dir: dir.to_path_buf(),
            output: Vec::from(tail).join("\n"),
            hint: None,
        });
    }
    Ok(())
}

/// At most `max` characters of `s`, for a one-line progress message.
fn shorten(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// An environment variable as the compiler will see it: drydock.toml's [build.env] wins over
/// the process environment.
fn env_value(project: &Project, key: &str) -> Option<String> {
    project
        .build
        .env
        .get(key)
        .cloned()
        .or_else(|| std::env::var(key).ok())
        .filter(|v| !v.is_empty())
}
