//! `go build` for the build stage, in module mode or GOPATH mode.
//!
//! Module mode (a go.mod or go.work) builds the staged copy as the go command would the user's
//! tree; local `replace`/`use` directories must be inside the context (see `gomod`).
//! GOPATH mode (GO111MODULE=off, or no go.mod) stages the sources at `GOPATH/src/<import
//! path>` inside a private GOPATH that precedes the user's, so the import path, and with
//! `-trimpath` every path in the binary, is the same wherever the project lives.

use std::process::Command;

use super::{env_value, run, CompileError, Compiled, Linking};
use crate::cache::Cache;
use crate::context::{stage, BuildContext};
use crate::project::Project;
use crate::ui::Ui;

const FIX: &str = "install Go (Debian: apt-get install golang-go) or pass --binary PATH";

pub fn build(
    project: &Project,
    ctx: &BuildContext,
    cache: &Cache,
    ui: &Ui,
    linking: Linking,
) -> Result<Compiled, CompileError> {
    let guard = cache.stage_dir(&format!("go-{}", project.name))?;
    let gopath_mode = !super::gomod::module_mode(
        ctx,
        env_value(project, "GO111MODULE").as_deref(),
        env_value(project, "GOWORK").as_deref(),
    );
    if !gopath_mode {
        let vendored = ctx.contains("vendor/modules.txt")
            && !env_value(project, "GOFLAGS")
                .is_some_and(|f| f.contains("-mod=mod") || f.contains("-mod=readonly"));
        super::gomod::check_local_paths(&project.root, ctx, vendored)?;
    }
    let (src_dir, gopath) = if gopath_mode {
        let import = project
            .go_module
            .clone()
            .unwrap_or_else(|| project.name.clone());
        let gopath = guard.dir.join("gopath");
        (gopath.join("src").join(import), Some(gopath))
    } else {
        (guard.dir.join("src"), None)
    };
    // Only one of the two layouts may hold sources.
    let other = if gopath_mode {
        guard.dir.join("src")
    } else {
        guard.dir.join("gopath")
    };
    if other.exists() {
        std::fs::remove_dir_all(&other).map_err(|source| CompileError::Io {
            what: "cleaning",
            path: other.clone(),
            source,
        })?;
    }
    stage(ctx, &src_dir, &[])?;
    let out = guard.dir.join("out").join(&project.name);

    let mut cmd = Command::new("go");
    cmd.args(["build", "-trimpath", "-ldflags=-s -w", "-o"])
        .arg(&out)
        .arg(&project.main);
    cmd.envs(&project.build_env);
    if env_value(project, "CGO_ENABLED").is_none() {
        cmd.env("CGO_ENABLED", "0");
    }
    cmd.env("GOOS", "linux");
    if env_value(project, "GOARCH").is_none() {
        cmd.env("GOARCH", "amd64");
    }
    if let Some(gp) = &gopath {
        let user = env_value(project, "GOPATH")
            .or_else(|| std::env::var("HOME").ok().map(|h| format!("{h}/go")))
            .unwrap_or_default();
        let joined = if user.is_empty() {
            gp.display().to_string()
        } else {
            format!("{}:{user}", gp.display())
        };
        cmd.env("GOPATH", joined).env("GO111MODULE", "off");
    }
    let display = format!(
        "go build -trimpath -ldflags='-s -w' -o {} {}",
        out.display(),
        project.main
    );
    let go_list = gopath.is_some().then(|| super::GoListEnv {
        dir: src_dir.clone(),
        env: cmd
            .get_envs()
            .map(|(k, v)| (k.to_owned(), v.map(|v| v.to_owned())))
            .collect(),
    });
    run(cmd, &display, &src_dir, ui, FIX)?;
    let info = linking.check(&out, super::elf::FIX_GO)?;
    Ok(Compiled {
        binary: out,
        info,
        tool: "go build".into(),
        command: Some(display),
        go_list,
        _stage: Some(guard),
    })
}
