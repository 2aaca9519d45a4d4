//! The drydock command line. Errors are reported here, with exit codes CI systems understand:
//! 0 success, 1 a build or tool failed, 2 bad usage, configuration or input.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use drydock::build::{self, BuildOptions, BuildReport};
use drydock::context::{self, EntryKind};
use drydock::project::Overrides;
use drydock::publish::{self, Engine, EngineLoad, Publisher};
use drydock::ui::Ui;

#[derive(Parser)]
#[command(
    name = "drydock",
    version,
    about = "Small, safe, reproducible container images for Go (Gin) and Rust services, without a Docker daemon"
)]
struct Cli {
    /// Print nothing but errors (and the result with --format json).
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Format {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Cmd {
    /// Compile a static binary and assemble a minimal OCI image from it, reproducibly.
    #[command(after_help = "Examples:
  drydock build examples/gin-api --output docker-archive:gin-api.tar
  drydock build . --load docker --tag registry.example.com/api:1.4.2
  drydock build . --output oci:out/api --format json
  drydock build . --binary ./dist/api --port 9000 --load podman

Go projects build in module mode, or in GOPATH mode when GO111MODULE=off (your GOPATH,
GOFLAGS, GOPROXY and the rest of the Go environment pass through). Rust projects build with
cargo for a static target. The same sources give the same image digest, wherever and whenever
they are built; set SOURCE_DATE_EPOCH to choose the creation time (default: the last commit's
time, or 1970 outside git).")]
    Build(BuildArgs),
    /// Detect the project and write a commented drydock.toml and a .dockerignore.
    #[command(after_help = "Examples:
  drydock init
  drydock init services/api --force

Detects the language, name, main package or binary, service port, health paths, asset folders
and the secrets the app reads from its environment, and writes drydock.toml (every key
commented) and a .dockerignore suited to the language. Existing files are never replaced
without --force; when one exists, nothing is written.")]
    Init {
        /// The project directory.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Replace an existing drydock.toml and .dockerignore.
        #[arg(long)]
        force: bool,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Write what runs the image: Kubernetes manifests, a Compose bundle behind a TLS proxy, and
    /// a Dockerfile for `docker build`.
    #[command(after_help = "Examples:
  drydock deploy examples/gin-api
  drydock deploy . --target k8s --image registry.example.com/api:1.4.2 --out deploy
  drydock deploy . --target compose --tls self-signed
  drydock deploy . --target dockerfile

Without --image, drydock builds the image first (from its cache when nothing changed) and
refers to it by digest. Files go to DIR/deploy unless --out says otherwise:
  kubernetes/  Deployment, Service, HorizontalPodAutoscaler, PodDisruptionBudget,
               NetworkPolicy, and an Ingress with TLS when [ingress] names a host
  compose/     compose.yaml (the app behind nginx, which terminates TLS) and nginx.conf;
               with --tls self-signed also certs/tls.crt and certs/tls.key
  docker/      Dockerfile and Dockerfile.dockerignore")]
    Deploy {
        /// The project directory.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// What to write (repeatable; default: all).
        #[arg(long, value_enum)]
        target: Vec<drydock::deploy::Target>,
        /// Output directory (default: DIR/deploy).
        #[arg(long)]
        out: Option<PathBuf>,
        /// The image reference to deploy, instead of building it to learn its digest.
        #[arg(long)]
        image: Option<String>,
        /// TLS for the Compose bundle's proxy: your own certificate, or a self-signed one for
        /// development.
        #[arg(long, value_enum, default_value = "provided")]
        tls: drydock::deploy::Tls,
        /// Cache directory for the build (default: $DRYDOCK_CACHE_DIR, else $XDG_CACHE_HOME/drydock).
        #[arg(long, value_name = "DIR")]
        cache_dir: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Check Dockerfiles, their .dockerignore, and Kubernetes manifests against the practices.
    #[command(after_help = "Examples:
  drydock lint                          # every Dockerfile and manifest below here (honouring .gitignore)
  drydock lint deploy/kubernetes/       # Kubernetes YAML: findings at the exact key
  drydock lint Dockerfile build/api.Dockerfile
  drydock lint . --format sarif > drydock.sarif
  drydock lint . --format github        # annotations in a GitHub Actions log
  drydock lint . --ignore DF006 --fail-on error

Suppress a finding with a comment on the line above the instruction:
  # drydock:ignore DF004 the init container must run as root
or for the whole file with `# drydock:ignore-file CODE reason`; in Kubernetes, with the
annotation `drydock.dev/ignore: CODE,CODE` on the object or its pod template. drydock.toml's [lint] section
sets select, ignore, severity and fail_on for a project. Exit codes: 0 no findings at or above
--fail-on, 1 findings, 2 bad usage or a file that does not parse.")]
    Lint(LintArgs),
    /// List the lint rules.
    #[command(after_help = "Examples:
  drydock rules
  drydock rules --format json
  drydock rules --write-docs docs/rules")]
    Rules {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Write one Markdown page per rule into DIR.
        #[arg(long, value_name = "DIR")]
        write_docs: Option<PathBuf>,
    },
    /// Explain one lint rule.
    Rule {
        /// A rule code (DF004) or name (runs-as-root).
        code: String,
    },
    /// Build, then run the service locally with production limits and wait until it is healthy.
    #[command(after_help = "Examples:
  drydock run examples/gin-api -e API_TOKEN=dev-token
  drydock run . --engine podman --host-port 18080 -e API_TOKEN

The container gets the CPU and memory limits of drydock.toml's [resources], a read-only root
filesystem with a tmpfs /tmp, no capabilities and no-new-privileges, and its port is published
on 127.0.0.1 only. Ctrl-C stops it gracefully (SIGTERM first). Exit code: 0 when the service
stopped cleanly, 1 when it failed, exited non-zero or never became healthy.")]
    Run(RunArgs),
    /// List what a build of DIR would see: the files .dockerignore lets through.
    #[command(after_help = "Examples:
  drydock context .
  drydock context examples/gin-api --format json | jq '.total_size'")]
    Context {
        /// The project directory.
        #[arg(default_value = ".")]
        dir: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(clap::Args)]
struct BuildArgs {
    /// The project directory.
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Where to write the image: oci:DIR (an OCI image layout) or docker-archive:FILE (for
    /// `docker load` / `podman load`). Repeatable.
    #[arg(long, short, value_name = "SPEC")]
    output: Vec<String>,
    /// Load the image into a local engine. Repeatable.
    #[arg(long, value_enum, value_name = "ENGINE")]
    load: Vec<Engine>,
    /// The image reference to tag (default: NAME:latest).
    #[arg(long, short)]
    tag: Option<String>,
    /// Image and binary name (overrides drydock.toml).
    #[arg(long)]
    name: Option<String>,
    /// The service port, the only one exposed (overrides drydock.toml).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    port: Option<u16>,
    /// Go main package or Rust binary target (overrides drydock.toml).
    #[arg(long)]
    main: Option<String>,
    /// Package this prebuilt binary instead of compiling.
    #[arg(long, value_name = "PATH")]
    binary: Option<PathBuf>,
    /// Numeric uid[:gid] to run as (default 65532:65532).
    #[arg(long)]
    user: Option<String>,
    /// Leave drydock-helper (init, GOMAXPROCS/GOMEMLIMIT, health probe) out of the image.
    #[arg(long)]
    no_helper: bool,
    /// Cache directory (default: $DRYDOCK_CACHE_DIR, else $XDG_CACHE_HOME/drydock).
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(clap::Args)]
struct LintArgs {
    /// Files or directories (default: the current directory).
    paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = drydock::lint::output::Format::Text)]
    format: drydock::lint::output::Format,
    /// The lowest severity that fails the run (default: drydock.toml's, else warning).
    #[arg(long, value_enum)]
    fail_on: Option<drydock::lint::Severity>,
    /// Only these rules (comma-separated codes).
    #[arg(long, value_delimiter = ',')]
    select: Vec<String>,
    /// Skip these rules (comma-separated codes).
    #[arg(long, value_delimiter = ',')]
    ignore: Vec<String>,
    /// Ignore `# drydock:ignore` comments (for organisations that forbid them).
    #[arg(long)]
    no_suppressions: bool,
    /// How secrets may reach a container's environment: by reference (default) or only as files.
    #[arg(long, value_enum)]
    secret_env: Option<drydock::lint::SecretEnvStance>,
}

#[derive(clap::Args)]
struct RunArgs {
    /// The project directory.
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// docker or podman (default: Docker when it answers, else podman).
    #[arg(long, value_enum)]
    engine: Option<Engine>,
    /// Environment for the container: KEY=VALUE, or KEY to pass it from your environment.
    #[arg(long = "env", short = 'e', value_name = "KEY[=VALUE]")]
    env: Vec<String>,
    /// Host port on 127.0.0.1 (default: the service port when free, else any free port).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    host_port: Option<u16>,
    /// How long to wait for the service to become healthy.
    #[arg(long, default_value = "60s", value_parser = parse_wait)]
    wait: std::time::Duration,
    /// The image reference to tag (default: NAME:latest).
    #[arg(long, short)]
    tag: Option<String>,
    /// Leave drydock-helper out of the image.
    #[arg(long)]
    no_helper: bool,
    /// Cache directory (default: $DRYDOCK_CACHE_DIR, else $XDG_CACHE_HOME/drydock).
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
}

fn parse_wait(s: &str) -> Result<std::time::Duration, String> {
    drydock::config::parse_duration(s).map_err(|e| format!("--wait {e}"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let ui = Ui::new(cli.quiet);
    match cli.command {
        Cmd::Build(args) => cmd_build(args, &ui),
        Cmd::Run(args) => cmd_run(args, &ui),
        Cmd::Init { dir, force, format } => cmd_init(&dir, force, format, &ui),
        Cmd::Lint(args) => cmd_lint(args, &ui),
        Cmd::Rules { format, write_docs } => cmd_rules(format, write_docs, &ui),
        Cmd::Rule { code } => match drydock::lint::catalog::find(&code) {
            Some(r) => {
                print!("{}", r.markdown());
                ExitCode::SUCCESS
            }
            None => fail(
                &ui,
                &format!("no rule {code:?}: `drydock rules` lists them"),
                2,
            ),
        },
        Cmd::Deploy {
            dir,
            target,
            out,
            image,
            tls,
            cache_dir,
            format,
        } => cmd_deploy(
            DeployArgs {
                dir,
                targets: target,
                out,
                image,
                tls,
                cache_dir,
                format,
            },
            &ui,
        ),
        Cmd::Context { dir, format } => cmd_context(&dir, format, &ui),
    }
}

fn fail(ui: &Ui, err: &dyn std::fmt::Display, code: u8) -> ExitCode {
    if ui.color {
        eprintln!("\x1b[31merror\x1b[0m: {err}");
    } else {
        eprintln!("error: {err}");
    }
    ExitCode::from(code)
}

fn cmd_build(a: BuildArgs, ui: &Ui) -> ExitCode {
    let mut outputs: Vec<Box<dyn Publisher>> = Vec::new();
    for spec in &a.output {
        match publish::parse_output(spec) {
            Ok(p) => outputs.push(p),
            Err(e) => return fail(ui, &e, 2),
        }
    }
    outputs.extend(
        a.load
            .iter()
            .map(|&engine| Box::new(EngineLoad { engine }) as Box<dyn Publisher>),
    );
    let opts = BuildOptions {
        dir: a.dir,
        overrides: Overrides {
            name: a.name,
            port: a.port,
            main: a.main,
            binary: a.binary,
            tag: a.tag,
            user: a.user,
            no_helper: a.no_helper,
        },
        outputs,
        cache_dir: a.cache_dir,
    };
    match build::build(opts, ui) {
        Ok(built) => {
            match a.format {
                Format::Json => match serde_json::to_string_pretty(&built.report) {
                    Ok(s) => println!("{s}"),
                    Err(e) => return fail(ui, &e, 1),
                },
                Format::Text if !ui.quiet => print_report(&built.report, ui),
                Format::Text => {}
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            let code = if e.is_usage() { 2 } else { 1 };
            fail(ui, &e, code)
        }
    }
}

fn cmd_init(dir: &std::path::Path, force: bool, format: Format, ui: &Ui) -> ExitCode {
    use drydock::init::{init, InitError};
    match init(dir, force) {
        Ok(r) => {
            if format == Format::Json {
                match serde_json::to_string_pretty(&r) {
                    Ok(s) => println!("{s}"),
                    Err(e) => return fail(ui, &e, 1),
                }
            } else if !ui.quiet {
                println!(
                    "detected a {} project: {} (main {}{}), port {}, health {} / ready {}",
                    match r.language {
                        drydock::config::Language::Go => "Go",
                        drydock::config::Language::Rust => "Rust",
                    },
                    r.name,
                    r.main,
                    if r.gin { ", Gin" } else { "" },
                    r.port,
                    r.health_path,
                    r.ready_path
                );
                if !r.assets.is_empty() {
                    println!("assets: {}", r.assets.join(", "));
                }
                if !r.secrets.is_empty() {
                    println!("secrets, by reference: {}", r.secrets.join(", "));
                }
                for w in &r.written {
                    println!("wrote {}", w.display());
                }
            }
            ExitCode::SUCCESS
        }
        Err(e @ InitError::Exists(_)) => fail(ui, &e, 2),
        Err(e) => fail(ui, &e, 1),
    }
}

struct DeployArgs {
    dir: PathBuf,
    targets: Vec<drydock::deploy::Target>,
    out: Option<PathBuf>,
    image: Option<String>,
    tls: drydock::deploy::Tls,
    cache_dir: Option<PathBuf>,
    format: Format,
}

fn cmd_deploy(a: DeployArgs, ui: &Ui) -> ExitCode {
    use drydock::deploy::{self, Target};
    let DeployArgs {
        dir,
        targets,
        out,
        image,
        tls,
        cache_dir,
        format,
    } = a;
    let targets = if targets.is_empty() {
        vec![Target::K8s, Target::Compose, Target::Dockerfile]
    } else {
        targets
    };
    let (project, image) = match image {
        Some(img) => match build::load_project(&dir, &Overrides::default()) {
            Ok((p, _)) => (p, img),
            Err(e) => return fail(ui, &e, if e.is_usage() { 2 } else { 1 }),
        },
        None => {
            let opts = BuildOptions {
                dir: dir.clone(),
                overrides: Overrides::default(),
                outputs: Vec::new(),
                cache_dir,
            };
            match build::build(opts, ui) {
                Ok(b) => {
                    let reference = format!("{}@{}", b.report.reference, b.report.digest);
                    (b.project, reference)
                }
                Err(e) => return fail(ui, &e, if e.is_usage() { 2 } else { 1 }),
            }
        }
    };
    let out = out.unwrap_or_else(|| dir.join("deploy"));
    match deploy::deploy(&project, &image, &targets, &out, tls) {
        Ok(r) => {
            match format {
                Format::Json => match serde_json::to_string_pretty(&r) {
                    Ok(s) => println!("{s}"),
                    Err(e) => return fail(ui, &e, 1),
                },
                Format::Text if !ui.quiet => {
                    println!("image {}", r.image);
                    for w in &r.written {
                        println!("wrote {}", w.display());
                    }
                }
                Format::Text => {}
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(ui, &e, 1),
    }
}

fn cmd_lint(a: LintArgs, ui: &Ui) -> ExitCode {
    use drydock::lint::{self, LintOptions, Severity};
    let paths = if a.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        a.paths
    };
    // drydock.toml of the first directory given, else of the current directory.
    let cfg_dir = paths
        .iter()
        .find(|p| p.is_dir())
        .cloned()
        .unwrap_or_else(|| PathBuf::from("."));
    let cfg = match drydock::config::Config::load(&cfg_dir) {
        Ok((c, _)) => c.lint,
        Err(e) => return fail(ui, &e, 2),
    };
    let upper = |v: Vec<String>| {
        v.into_iter()
            .map(|s| s.trim().to_ascii_uppercase())
            .filter(|s| !s.is_empty())
            .collect::<std::collections::BTreeSet<_>>()
    };
    let opts = LintOptions {
        select: if a.select.is_empty() {
            upper(cfg.select)
        } else {
            upper(a.select)
        },
        ignore: upper(cfg.ignore)
            .into_iter()
            .chain(upper(a.ignore))
            .collect(),
        severity: cfg
            .severity
            .into_iter()
            .map(|(k, v)| (k.to_ascii_uppercase(), v))
            .collect(),
        no_suppressions: a.no_suppressions,
        secret_env: a.secret_env.or(cfg.secret_env).unwrap_or_default(),
    };
    if let Err(e) = opts.validate() {
        return fail(ui, &e, 2);
    }
    let fail_on = a.fail_on.or(cfg.fail_on).unwrap_or(Severity::Warning);
    let found = match lint::discover(&paths) {
        Ok(f) => f,
        Err(e) => return fail(ui, &e, 2),
    };
    let (diags, sources, errors) = lint::lint_paths(&found, &opts);
    let broken = !errors.is_empty();
    for e in &errors {
        let _ = fail(ui, e, 2);
    }
    print!(
        "{}",
        lint::output::render(
            a.format,
            &diags,
            &sources,
            ui.color
                && a.format == lint::output::Format::Text
                && std::io::IsTerminal::is_terminal(&std::io::stdout())
        )
    );
    if broken {
        ExitCode::from(2)
    } else if diags.iter().any(|d| d.severity >= fail_on) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn cmd_rules(format: Format, write_docs: Option<PathBuf>, ui: &Ui) -> ExitCode {
    use drydock::lint::catalog::RULES;
    if let Some(dir) = write_docs {
        for r in RULES {
            let path = dir.join(format!("{}.md", r.code));
            if let Err(e) = drydock::fsutil::write_bytes_atomic(&path, r.markdown().as_bytes()) {
                return fail(ui, &format!("writing {}: {e}", path.display()), 1);
            }
        }
        let index = drydock::lint::catalog::index_markdown();
        if let Err(e) =
            drydock::fsutil::write_bytes_atomic(&dir.join("README.md"), index.as_bytes())
        {
            return fail(ui, &format!("writing {}: {e}", dir.display()), 1);
        }
        ui.note(&format!(
            "wrote {} rule pages and README.md into {}",
            RULES.len(),
            dir.display()
        ));
        return ExitCode::SUCCESS;
    }
    if format == Format::Json {
        let v: Vec<serde_json::Value> = RULES
            .iter()
            .map(|r| serde_json::json!({"code": r.code, "name": r.name, "practice": r.practice, "severity": r.severity, "hadolint": r.hadolint, "summary": r.summary()}))
            .collect();
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return ExitCode::SUCCESS;
    }
    for r in RULES {
        println!(
            "{:<6} {:<36} {:<12} {:<8} {}",
            r.code,
            r.name,
            r.practice,
            r.severity.as_str(),
            r.summary()
        );
    }
    ExitCode::SUCCESS
}

fn cmd_run(a: RunArgs, ui: &Ui) -> ExitCode {
    use drydock::run;
    let engine = match run::pick_engine(a.engine) {
        Ok(e) => e,
        Err(e) => return fail(ui, &e, 1),
    };
    let env = match run::resolve_env(&a.env) {
        Ok(e) => e,
        Err(e) => return fail(ui, &e, 2),
    };
    let opts = BuildOptions {
        dir: a.dir,
        overrides: Overrides {
            tag: a.tag,
            no_helper: a.no_helper,
            ..Default::default()
        },
        outputs: vec![Box::new(EngineLoad { engine })],
        cache_dir: a.cache_dir,
    };
    let built = match build::build(opts, ui) {
        Ok(b) => b,
        Err(e) => return fail(ui, &e, if e.is_usage() { 2 } else { 1 }),
    };
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
    match run::run(
        &project,
        &run::RunOptions {
            engine,
            image,
            host_port,
            env,
            wait: a.wait,
        },
        ui,
    ) {
        Ok(code) => ExitCode::from(code),
        Err(e) => fail(ui, &e, 1),
    }
}

use drydock::ui::human_bytes as human;

fn secs(ms: u128) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{:.2} s", ms as f64 / 1000.0)
    }
}

fn print_report(r: &BuildReport, ui: &Ui) {
    for a in &r.assumptions {
        println!("assumed {a}");
    }
    println!(
        "{} {}",
        ui.bold(&format!("built {}", r.reference)),
        r.digest
    );
    println!(
        "  {:<12} {:>10}  {:<8} {}",
        "layer", "size", "cache", "digest"
    );
    for l in &r.layers {
        println!(
            "  {:<12} {:>10}  {:<8} {}",
            l.name,
            human(l.stored.size),
            if l.cached { "cached" } else { "built" },
            &l.stored.digest.as_str()[..19]
        );
    }
    println!(
        "  image {} compressed; binary {} ({}, {})",
        human(r.compressed_size),
        human(r.binary.size),
        r.binary.linkage,
        r.binary.tool
    );
    let t = &r.times;
    println!(
        "  time: context {}, compile {}, layers {}, outputs {}; total {}",
        secs(t.context_ms),
        secs(t.compile_ms),
        secs(t.layers_ms),
        secs(t.publish_ms),
        secs(t.total_ms)
    );
    for o in &r.outputs {
        println!("  wrote {o}");
    }
    if r.outputs.is_empty() {
        println!("  (image kept in the cache only: add --output oci:DIR, --output docker-archive:FILE or --load docker|podman)");
    }
}

fn cmd_context(dir: &std::path::Path, format: Format, ui: &Ui) -> ExitCode {
    let allowed = match drydock::config::Config::load(dir) {
        Ok((c, _)) => c.context.allow_secrets,
        Err(e) => return fail(ui, &e, 2),
    };
    let ctx = match context::load(dir, &allowed) {
        Ok(c) => c,
        Err(e @ context::ContextError::Dockerignore { .. }) => return fail(ui, &e, 2),
        Err(e) => return fail(ui, &e, 1),
    };
    if format == Format::Json {
        let v = serde_json::json!({
            "root": ctx.root,
            "dockerignore": ctx.dockerignore,
            "files": ctx.file_count(),
            "total_size": ctx.total_size(),
            "entries": ctx.entries,
            "secrets_excluded": ctx.secrets_excluded,
            "secrets_allowed": ctx.secrets_allowed,
        });
        match serde_json::to_string_pretty(&v) {
            Ok(s) => println!("{s}"),
            Err(e) => return fail(ui, &e, 1),
        }
        return ExitCode::SUCCESS;
    }
    for e in &ctx.entries {
        match &e.kind {
            EntryKind::File { size, .. } => println!("{:>10}  {}", human(*size), e.path),
            EntryKind::Dir => println!("{:>10}  {}/", "", e.path),
            EntryKind::Symlink { target } => println!("{:>10}  {} -> {target}", "", e.path),
        }
    }
    let mut largest: Vec<(u64, &str)> = ctx
        .entries
        .iter()
        .filter_map(|e| {
            if let EntryKind::File { size, .. } = e.kind {
                Some((size, e.path.as_str()))
            } else {
                None
            }
        })
        .collect();
    largest.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    if !ui.quiet {
        println!(
            "{} files, {} in the context{}",
            ctx.file_count(),
            human(ctx.total_size()),
            if ctx.dockerignore.is_some() {
                ""
            } else {
                " (no .dockerignore)"
            }
        );
        if let Some((size, path)) = largest.first() {
            println!("largest: {path} ({})", human(*size));
        }
    }
    if !ctx.secrets_excluded.is_empty() {
        ui.warn(&format!(
            "left out because they look like secrets: {}",
            ctx.secrets_excluded.join(", ")
        ));
    }
    ExitCode::SUCCESS
}
