//! `drydock run`.

use std::path::PathBuf;

use drydock::build::{self, BuildOptions, Built};
use drydock::project::Overrides;
use drydock::publish::{Engine, EngineLoad};
use drydock::run;
use drydock::ui::Ui;
use drydock::watch::RebuildFailed;

use super::args::RunArgs;
use super::{error_line, failure, Outcome};

/// Builds the project and loads the image into the engine.
fn build_and_load(
    dir: &std::path::Path,
    overrides: &Overrides,
    cache_dir: &Option<PathBuf>,
    engine: Engine,
    ui: &Ui,
) -> Result<Built, build::BuildError> {
    build::build(
        BuildOptions {
            dir: dir.to_path_buf(),
            overrides: overrides.clone(),
            outputs: vec![Box::new(EngineLoad::new(engine))],
            cache_dir: cache_dir.clone(),
            refresh_base: false,
            no_cache: false,
            // What runs here is the machine's own platform's image: only it is built.
            platforms: Some(drydock::platforms::PlatformSpec::List(vec![
                drydock::platforms::host(),
            ])),
            registry: Default::default(),
            sbom: None,
            sbom_dir: None,
            sign: None,
        },
        ui,
    )
}

/// The reference the engine knows the loaded image by.
fn engine_image(engine: Engine, reference: &str) -> String {
    match engine {
        Engine::Podman if !reference.contains('/') => format!("localhost/{reference}"),
        _ => reference.to_string(),
    }
}

pub fn run(a: RunArgs, ui: &Ui) -> Outcome {
    let (engine, fallback) = run::pick_engine(a.engine).map_err(failure)?;
    if let Some(w) = fallback {
        ui.warn(&w);
    }
    let env = run::resolve_env(&a.env).map_err(failure)?;
    let overrides = Overrides {
        tag: a.tag,
        no_helper: a.no_helper,
        image: drydock::images::the_one(&a.dir, a.image).map_err(failure)?,
        ..Default::default()
    };
    let built_at = std::time::SystemTime::now();
    let built = build_and_load(&a.dir, &overrides, &a.cache_dir, engine, ui).map_err(failure)?;
    let project = built.project;
    ui.note(&format!(
        "built {} {}",
        built.report.reference, built.report.digest
    ));
    let image = engine_image(engine, &built.report.reference);
    let host_port = a.host_port.unwrap_or_else(|| {
        if std::net::TcpListener::bind(("127.0.0.1", project.port)).is_ok() {
            project.port
        } else {
            std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map(|a| a.port())
                .unwrap_or(project.port)
        }
    });
    let opts = run::RunOptions {
        engine,
        image,
        host_port,
        env,
        wait: a.wait,
    };
    if !a.watch {
        return run::run(&project, &opts, ui).map_err(failure);
    }
    let dir = a.dir;
    let cache_dir = a.cache_dir;
    let mut rebuild = || match build_and_load(&dir, &overrides, &cache_dir, engine, ui) {
        Ok(b) => {
            ui.note(&format!("built {} {}", b.report.reference, b.report.digest));
            Ok(drydock::watch::Rebuilt {
                image: engine_image(engine, &b.report.reference),
                digest: b.report.digest.clone(),
                project: b.project,
            })
        }
        Err(e) => {
            let f = failure(e);
            // A build ended by SIGINT or SIGTERM is not news: watch stops everything next.
            if drydock::interrupt::requested() || f.exit_code() == 130 {
                return Err(RebuildFailed::Interrupted);
            }
            error_line(ui, &f.text());
            Err(RebuildFailed::Failed)
        }
    };
    drydock::watch::watch(
        project,
        built.report.digest.clone(),
        opts,
        built_at,
        ui,
        &mut rebuild,
    )
    .map_err(failure)
}
