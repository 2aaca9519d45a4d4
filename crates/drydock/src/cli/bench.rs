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
    std::process::Command::new(engine)
        .arg("info")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
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
    if let Some(p) = &a.plot {
        if p.extension().is_none_or(|e| e != "svg") {
            return Err(Failure::new(ErrorKind::Usage, format!("--plot {}: only SVG is drawn\n  fix: name a .svg file (convert it to PNG with rsvg-convert or a browser)", p.display())));
        }
    }
    if a.rate == 0 || a.connections == 0 {
        return Err(Failure::new(
            ErrorKind::Usage,
            "--rate and --connections must be at least 1",
        ));
    }
    let modes = if a.modes.is_empty() {
        let mut m = vec![Mode::Process];
        if answers("docker") {
            m.push(Mode::Docker);
        }
        if answers("podman") {
            m.push(Mode::Podman);
        }
        m
    } else {
        a.modes.clone()
    };
    let mut outputs: Vec<Box<dyn Publisher>> = Vec::new();
    for (mode, engine) in [
        (Mode::Docker, Engine::Docker),
        (Mode::Podman, Engine::Podman),
    ] {
        if modes.contains(&mode) {
            outputs.push(Box::new(EngineLoad { engine }));
        }
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
        drydock::fsutil::write_bytes_atomic(p, bench::svg(&report).as_bytes()).map_err(|e| {
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
