//! `drydock run`.

use drydock::build::{self, BuildOptions};
use drydock::project::Overrides;
use drydock::publish::{Engine, EngineLoad};
use drydock::run;
use drydock::ui::Ui;

use super::args::RunArgs;
use super::{failure, Outcome};

pub fn run(a: RunArgs, ui: &Ui) -> Outcome {
    let (engine, fallback) = run::pick_engine(a.engine).map_err(failure)?;
    if let Some(w) = fallback {
        ui.warn(&w);
    }
    let env = run::resolve_env(&a.env).map_err(failure)?;
    let built = build::build(
        BuildOptions {
            dir: a.dir,
            overrides: Overrides {
                tag: a.tag,
                no_helper: a.no_helper,
                ..Default::default()
            },
            outputs: vec![Box::new(EngineLoad::new(engine))],
            cache_dir: a.cache_dir,
            refresh_base: false,
            no_cache: false,
            registry: Default::default(),
            sbom: None,
            sbom_dir: None,
            sign: None,
        },
        ui,
    )
    .map_err(failure)?;
    let project = built.project;
    ui.note(&format!(
        "built {} {}",
        built.report.reference, built.report.digest
    ));
    let image = match engine {
        Engine::Podman if !built.report.reference.contains('/') => {
            format!("localhost/{}", built.report.reference)
        }
        _ => built.report.reference.clone(),
    };
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
    run::run(
        &project,
        &run::RunOptions {
            engine,
            image,
            host_port,
            env,
            wait: a.wait,
        },
        ui,
    )
    .map_err(failure)
}
