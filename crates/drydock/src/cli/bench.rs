//! `drydock bench`.

use drydock::bench::{self, BenchOptions, Mode};
use drydock::build::{self, BuildOptions};
use drydock::config::parse_duration;
use drydock::error::{ErrorKind, Failure};
use drydock::project::Overrides;
use drydock::publish::{Engine, EngineLoad, Publisher};
use drydock::ui::Ui;

use super::args::{BenchArgs, BenchFormat};
use super::{failure, out, out_json, Outcome};

fn answers(engine: &str) -> bool {
    bench::target::succeeds(std::process::Command::new(engine).arg("info"))
}

/// Every mode that works here: the process always; each engine that answers; Compose and Swarm
/// when the Docker Engine answers, a Compose tool runs, the swarm can be used (or made), and
/// the nginx image the bundles run is in the engine (bench pulls nothing by itself).
fn default_modes(ui: &Ui) -> Vec<Mode> {
    let mut m = vec![Mode::Process];
    let docker = answers("docker");
    if docker {
        m.push(Mode::Docker);
    }
    if answers("podman") {
        m.push(Mode::Podman);
    }
    if !docker {
        return m;
    }
    let nginx = bench::target::nginx_image();
    let have_nginx = bench::target::succeeds(
        std::process::Command::new("docker").args(["image", "inspect", &nginx]),
    );
    if !have_nginx {
        ui.warn(&format!("compose and swarm left out: the nginx image {nginx} is not in the Docker Engine (docker pull {nginx}, or set NGINX_IMAGE to one that is), or name them in --modes"));
        return m;
    }
    if bench::target::compose_command().is_some() {
        m.push(Mode::Compose);
    } else {
        ui.warn("compose left out: neither `docker compose` nor `docker-compose` runs here");
    }
    match bench::target::swarm_state().as_deref() {
        Some("active" | "inactive") => m.push(Mode::Swarm),
        other => ui.warn(&format!(
            "swarm left out: this node's swarm is {}",
            other.unwrap_or("unknown")
        )),
    }
    m
}

pub fn run(a: BenchArgs, ui: &Ui) -> Outcome {
    let dur = |s: &str, what: &str| {
        parse_duration(s).map_err(|p| {
            Failure::new(
                ErrorKind::Usage,
                format!("--{what} {p}\n  fix: write a duration such as 10s or 500ms"),
            )
        })
    };
    let duration = dur(&a.duration, "duration")?;
    let warmup = dur(&a.warmup, "warmup")?;
    let plot_png = match &a.plot {
        None => false,
        Some(p) => match p.extension().and_then(|e| e.to_str()) {
            Some("svg") => false,
            Some("png") => true,
            _ => {
                return Err(Failure::new(
                    ErrorKind::Usage,
                    format!(
                    "--plot {}: the plot is drawn as SVG or PNG\n  fix: name a .svg or .png file",
                    p.display()
                ),
                ))
            }
        },
    };
    if a.rate == 0 || a.connections == 0 || a.replicas == Some(0) {
        return Err(Failure::new(
            ErrorKind::Usage,
            "--rate, --connections and --replicas must be at least 1",
        ));
    }
    let modes = if a.modes.is_empty() {
        default_modes(ui)
    } else {
        a.modes.clone()
    };
    let mut outputs: Vec<Box<dyn Publisher>> = Vec::new();
    if modes
        .iter()
        .any(|m| matches!(m, Mode::Docker | Mode::Compose | Mode::Swarm))
    {
        outputs.push(Box::new(EngineLoad {
            engine: Engine::Docker,
        }));
    }
    if modes.contains(&Mode::Podman) {
        outputs.push(Box::new(EngineLoad {
            engine: Engine::Podman,
        }));
    }
    let built = build::build(
        BuildOptions {
            dir: a.dir.clone(),
            overrides: Overrides::default(),
            outputs,
            cache_dir: a.cache_dir.clone(),
            refresh_base: false,
            registry: Default::default(),
        },
        ui,
    )
    .map_err(failure)?;
    let opts = BenchOptions {
        modes,
        path: a
            .path
            .clone()
            .unwrap_or_else(|| built.project.health.path.clone()),
        rate: a.rate,
        connections: a.connections,
        duration,
        warmup,
        env: a.env.clone(),
        fault: !a.no_fault,
        replicas: a
            .replicas
            .unwrap_or(built.project.scaling.min_replicas.max(1)),
    };
    let step = ui.step("benchmarking");
    let mut report = bench::bench(
        &built.project,
        &built.report.binary.path,
        &built.project.tag.tagged(),
        built.report.compressed_size,
        &opts,
        &|m| step.set(m),
    )
    .map_err(|e| Failure::new(ErrorKind::Failed, e))?;
    drop(step);
    let mut wrote = None;
    if a.recommend {
        report.recommendation = bench::recommend(&report, &built.project.resources);
        if let (true, Some(rec)) = (a.write, &report.recommendation) {
            let path = built
                .project
                .config_path
                .clone()
                .unwrap_or_else(|| built.project.root.join(drydock::config::FILE_NAME));
            bench::write_resources(&path, rec).map_err(|e| Failure::new(ErrorKind::Failed, e))?;
            wrote = Some(path);
        }
    }
    if let Some(p) = &a.plot {
        let bytes = if plot_png {
            bench::png(&report).map_err(|e| {
                Failure::new(ErrorKind::Failed, format!("drawing {}: {e}", p.display()))
            })?
        } else {
            bench::svg(&report).into_bytes()
        };
        drydock::fsutil::write_bytes_atomic(p, &bytes).map_err(|e| {
            Failure::new(ErrorKind::Failed, format!("writing {}: {e}", p.display()))
        })?;
    }
    match a.format {
        BenchFormat::Json => out_json(&report),
        BenchFormat::Markdown | BenchFormat::Text => {
            let mut s = bench::markdown(&report);
            if let Some(r) = &report.recommendation {
                s.push_str(&format!(
                    "\nrecommended [resources]: cpu_request = \"{}\", cpu_limit = \"{}\", memory_request = \"{}Mi\", memory_limit = \"{}Mi\"\n",
                    drydock::quantity::format_cpu(r.cpu_request_milli),
                    drydock::quantity::format_cpu(r.cpu_limit_milli),
                    r.memory_request >> 20,
                    r.memory_limit >> 20
                ));
                for why in &r.reasons {
                    s.push_str(&format!("  {why}\n"));
                }
                if let Some(p) = &wrote {
                    s.push_str(&format!("  written to {}\n", p.display()));
                }
            }
            out(&s);
            Ok(0)
        }
    }
}
