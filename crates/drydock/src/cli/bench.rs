//! `drydock bench`.

use drydock::bench::{self, BenchOptions, Mode};
use drydock::build::{self, BuildOptions};
use drydock::config::parse_duration;
use drydock::error::{ErrorKind, Failure};
use drydock::project::Overrides;
use drydock::publish::{self, Engine};
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

fn usage(msg: String, fix: impl Into<String>) -> Failure {
    Failure::new(ErrorKind::Usage, msg).with_fix(fix)
}

/// A bad `--path`: what is wrong with it, and the fix.
struct BadPath {
    problem: String,
    fix: String,
}

/// A warm-up may be zero ("no warm-up"); any other duration is as for --duration.
fn warmup_duration(s: &str) -> Result<std::time::Duration, String> {
    let num = s.trim().trim_end_matches(|c: char| c.is_ascii_alphabetic());
    if num.parse::<f64>().is_ok_and(|v| v == 0.0)
        && parse_duration(&format!("1{}", &s.trim()[num.len()..])).is_ok()
    {
        return Ok(std::time::Duration::ZERO);
    }
    parse_duration(s)
}

/// `--path` as it goes on the request line: an absolute path (with a query, if any) of
/// printable ASCII, so that the request bench sends is the one the user named.
fn check_path(p: &str) -> Result<(), BadPath> {
    let bad = |problem: String, fix: String| Err(BadPath { problem, fix });
    if !p.starts_with('/') {
        return bad(
            format!("--path {p:?} does not start with /: it is the path part of the URL, sent as `GET {p} HTTP/1.1`"),
            format!("--path /{}", p.trim_start_matches('/')),
        );
    }
    if let Some(c) = p.chars().find(|c| !c.is_ascii_graphic()) {
        return bad(
            format!("--path {p:?} holds {c:?}, which cannot go on an HTTP request line as it is"),
            "percent-encode it (a space is %20)".into(),
        );
    }
    if p.contains('#') {
        return bad(
            format!("--path {p:?} holds a #fragment, which a client never sends"),
            "leave out what follows #".into(),
        );
    }
    Ok(())
}

pub fn run(a: BenchArgs, ui: &Ui) -> Outcome {
    let duration = parse_duration(&a.duration).map_err(|p| {
        usage(
            format!("--duration {p}"),
            "write a duration above zero, such as 4s or 500ms",
        )
    })?;
    let warmup = warmup_duration(&a.warmup).map_err(|p| {
        usage(
            format!("--warmup {p}"),
            "write a duration such as 1s or 500ms, or 0s for no warm-up",
        )
    })?;
    if let Some(p) = &a.path {
        check_path(p).map_err(|b| usage(b.problem, b.fix))?;
    }
    let plot_png = match &a.plot {
        None => false,
        Some(p) => match p.extension().and_then(|e| e.to_str()) {
            Some("svg") => false,
            Some("png") => true,
            _ => {
                return Err(usage(
                    format!("--plot {}: the plot is drawn as SVG or PNG", p.display()),
                    "name a .svg or .png file",
                ))
            }
        },
    };
    let modes = if a.modes.is_empty() {
        default_modes(ui)
    } else {
        let mut m = a.modes.clone();
        m.dedup();
        m
    };
    let docker = modes
        .iter()
        .any(|m| matches!(m, Mode::Docker | Mode::Compose | Mode::Swarm));
    let podman = modes.contains(&Mode::Podman);
    // The tag the engines get: bench's own, never one that names an image already.
    // `-e KEY` takes KEY from drydock's environment, as `drydock run` does (unset: a usage
    // error, before anything is built); every mode then gets `KEY=VALUE`, containers through
    // an env file.
    let env: Vec<String> = drydock::run::resolve_env(&a.env)
        .map_err(failure)?
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    // --write edits the shared [resources]; an image of several may have its own.
    if a.write
        && !drydock::images::selected(&a.dir, &[])
            .map_err(failure)?
            .is_empty()
    {
        return Err(usage(
            "--write puts [resources] into drydock.toml, and with [[images]] each image may have its own [images.resources]: bench does not yet write into an [[images]] table".into(),
            "run --recommend without --write, and copy the values into that image's [images.resources]",
        ));
    }
    let selected = Overrides {
        image: drydock::images::the_one(&a.dir, a.image.clone()).map_err(failure)?,
        ..Overrides::default()
    };
    let (project, _) = drydock::project::load(&a.dir, &selected).map_err(failure)?;
    let tag = match &a.tag {
        Some(t) => {
            // The reference's own fix when it gives one: the one closest to the cause.
            let r = drydock::reference::Reference::parse(t).map_err(|e| {
                usage(
                    format!("--tag {t}: {e}"),
                    e.fix().unwrap_or_else(|| {
                        format!("name and tag, e.g. {}:bench", project.image.tag.name())
                    }),
                )
            })?;
            if r.digest().is_some() {
                return Err(usage(
                    format!("--tag {t}: engines tag by name and tag, not by digest"),
                    format!("e.g. {}:bench", project.image.tag.name()),
                ));
            }
            r.tagged()
        }
        None => format!(
            "{}:drydock-bench-{}",
            project.image.tag.name(),
            std::process::id()
        ),
    };
    let engines: Vec<&str> = [(docker, "docker"), (podman, "podman")]
        .into_iter()
        .filter_map(|(on, e)| on.then_some(e))
        .collect();
    for e in &engines {
        if bench::target::has_image(e, &tag) {
            return Err(usage(
                format!("{tag} already names an image in {e}: bench loads its image under a tag of its own and removes it afterwards, so it does not replace one it did not make"),
                format!("--tag another NAME:TAG (or remove that one: {e} rmi {tag})"),
            ));
        }
    }
    let _untag: Vec<bench::target::BenchTag> = engines
        .iter()
        .map(|e| bench::target::BenchTag::new(e, &tag))
        .collect();
    let load: Vec<Engine> = [(docker, Engine::Docker), (podman, Engine::Podman)]
        .into_iter()
        .filter_map(|(on, e)| on.then_some(e))
        .collect();
    let outputs = publish::destinations(&[], None, &load, &Default::default()).map_err(failure)?;
    let built = build::build(
        BuildOptions {
            dir: a.dir.clone(),
            overrides: Overrides {
                tag: Some(tag.clone()),
                ..selected
            },
            outputs,
            cache_dir: a.cache_dir.clone(),
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
    .map_err(failure)?;
    let opts = BenchOptions {
        modes,
        path: a
            .path
            .clone()
            .unwrap_or_else(|| built.project.image.health.path.clone()),
        rate: a.rate,
        connections: a.connections as usize,
        duration,
        warmup,
        env,
        fault: !a.no_fault,
        replicas: a
            .replicas
            .unwrap_or(built.project.deploy.scaling.min_replicas.max(1)),
        rounds: a.rounds,
    };
    let step = ui.step("benchmarking");
    let mut report = bench::bench(
        &built.project,
        &built.report.binary.path,
        &tag,
        built.report.compressed_size,
        &opts,
        &|m| step.set(m),
        &|m| ui.note(m),
    )
    .map_err(|e| Failure {
        fix: e.fix(),
        ..Failure::new(ErrorKind::Failed, e)
    })?;
    drop(step);
    let mut wrote = None;
    let mut code = 0;
    if a.recommend {
        report.recommendation = bench::recommend(&report, &built.project.runtime.resources);
        if let Some(rec) = &mut report.recommendation {
            for w in &rec.warnings {
                ui.warn(w);
            }
            if a.write {
                let refused = rec
                    .refuse_write(&built.project.runtime.resources)
                    .filter(|_| !a.force);
                if let Some(why) = refused {
                    ui.warn(&why);
                    rec.not_written = Some(why);
                    code = 1;
                } else {
                    let path = built
                        .project
                        .config_path
                        .clone()
                        .unwrap_or_else(|| built.project.root.join(drydock::config::FILE_NAME));
                    bench::write_resources(&path, rec)
                        .map_err(|e| Failure::new(ErrorKind::Failed, e))?;
                    wrote = Some(path);
                }
            }
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
        BenchFormat::Json => {
            out_json(&report)?;
            Ok(code)
        }
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
                for why in r.reasons.iter().chain(&r.warnings) {
                    s.push_str(&format!("  {why}\n"));
                }
                if let Some(p) = &wrote {
                    s.push_str(&format!("  written to {}\n", p.display()));
                }
                if let Some(why) = &r.not_written {
                    s.push_str(&format!("  {why}\n"));
                }
            }
            out(&s);
            Ok(code)
        }
    }
}
