//! The command line's shape: every command, flag and help text. (Help texts are wrapped by
//! clap to the terminal; their own lines stay under 80 columns so that wrapping never splits a
//! sentence mid-line on a standard terminal.)

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use drydock::publish::Engine;

#[derive(Parser)]
#[command(
    name = "drydock",
    version,
    about = "Small, safe, reproducible container images for Go (Gin) and Rust services, without a Docker daemon",
    after_help = "Exit codes, for every command: 0 success; 1 findings, or a build or tool
failed; 2 bad usage, configuration or input; 130 interrupted."
)]
pub struct Cli {
    /// Print nothing but errors and the requested output.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Show what the compiler prints as it builds (without it: a progress line on a terminal,
    /// nothing otherwise).
    #[arg(long, short, global = true, conflicts_with = "quiet")]
    pub verbose: bool,
    #[command(subcommand)]
    pub command: Cmd,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
pub enum Format {
    Text,
    Json,
}

#[derive(Subcommand)]
pub enum Cmd {
    /// Compile a static binary and assemble a minimal OCI image from it, reproducibly.
    #[command(after_help = "Examples:
  drydock build examples/gin-api --output docker-archive:gin-api.tar
  drydock build . --load docker --tag registry.example.com/api:1.4.2
  drydock build . --output oci:out/api --format json
  drydock build . --binary ./dist/api --port 9000 --load podman
  drydock build . --push registry.example.com/team/api:1.4.2
  drydock build . --platform linux/amd64,linux/arm64 --push registry.example.com/team/api:1.4.2

DIR may be inside the project: its root is the nearest directory above with
a drydock.toml, else a go.mod or Cargo.toml.

Go projects build in module mode, or in GOPATH mode when GO111MODULE=off (your
GOPATH, GOFLAGS, GOPROXY and the rest of the Go environment pass through).
Rust projects build with cargo for a static target. The same sources give the
same image digest, wherever and whenever they are built; SOURCE_DATE_EPOCH
sets the creation time (default: the last commit's time, or 1970).

oci:DIR must be missing, empty or an OCI layout (the image is added to it);
docker-archive:FILE must be missing or a docker archive. Anything else is
refused before the build starts.

Several images: with [[images]] tables in drydock.toml (cmd/api and
cmd/worker, two bins of a workspace), build makes each of them into the same
outputs: one OCI layout holds them all, each under its own name:tag; --push
REF sends each to REF's repository with the image's name as its last part.
  drydock build . --output oci:out                   # every image
  drydock build . --image worker --load docker       # only worker
  drydock build . --push registry.example.com/team/api:1.4.2   # team/api, team/worker")]
    Build(BuildArgs),
    /// Detect the project and write a commented drydock.toml and a .dockerignore.
    #[command(after_help = "Examples:
  drydock init
  drydock init services/api --port 9000 --main ./cmd/api
  drydock init services/api --force

Detects the language, name, main package or binary, service port, health
paths, asset folders and the secrets the app reads from its environment, and
says for each value whether it was detected (and where) or assumed. Writes
drydock.toml (every key commented) and a .dockerignore suited to the language.
A file that exists is kept and reported; --force replaces it.

Several services (Go: cmd/NAME directories of `package main`; Rust: the bins
of a Cargo workspace) get one [[images]] table each, with its main and port.")]
    Init(InitArgs),
    /// Write what runs the image: Kubernetes manifests, a Compose bundle behind a TLS proxy,
    /// and a Dockerfile for `docker build`; a Docker Swarm stack on request.
    #[command(after_help = "Examples:
  drydock deploy examples/gin-api
  drydock deploy . --target k8s --image registry.example.com/api:1.4.2
  drydock deploy . --target k8s --push registry.example.com/api:1.4.2
  drydock deploy . --target compose --tls self-signed
  drydock deploy . --target dockerfile --out ops/
  drydock deploy . --target k8s,compose
  HTTPS_PORT=8443 drydock deploy . --target swarm --tls self-signed

Without --image, drydock builds the image first (from its cache when nothing
changed); with --push it also pushes it, and Kubernetes refers to the pushed
REF@sha256:… . Kubernetes refers to it by digest; Compose, which runs on the local
engine, by its local tag (load it with `drydock build --load docker`).
Files go to DIR/deploy unless --out says otherwise:
  kubernetes/  Deployment, Service, HorizontalPodAutoscaler,
               PodDisruptionBudget, NetworkPolicy, and an Ingress with TLS
               when [ingress] names a host
  compose/     compose.yaml (the app behind nginx, which terminates TLS) and
               nginx.conf; with --tls self-signed also certs/tls.crt and
               certs/tls.key (kept when they exist; the key is 0600)
  docker/      Dockerfile and Dockerfile.dockerignore
  swarm/       (only with --target swarm) stack.yaml for `docker stack deploy`
               and its nginx.conf; certs as for compose/
Compose and Swarm deliver each secret as a file: the app gets <VAR>_FILE (a
path) instead of <VAR>, and must read it; deploy says so for each secret.
The HTTP-to-HTTPS redirect names HTTPS_PORT as set when deploy runs (else 443).
drydock records what it wrote in .drydock-deploy.json: a file edited since
is kept and reported, and --force replaces it.

With several [[images]] in drydock.toml, each image gets its own workload in
DIR/deploy/NAME/ (kubernetes/, compose/ as its own Compose project, …);
--image REF and --push REF name each image's repository with its own name.")]
    Deploy(DeployArgs),
    /// Check Dockerfiles, their .dockerignore, Kubernetes manifests and Compose files against
    /// the practices.
    #[command(after_help = "Examples:
  drydock lint                     # everything below here (honours .gitignore)
  drydock lint deploy/kubernetes/  # Kubernetes YAML: findings at the exact key
  drydock lint Dockerfile build/api.Dockerfile compose.yaml
  drydock lint . --format sarif > drydock.sarif
  drydock lint . --format github   # annotations in a GitHub Actions log
  drydock lint . --ignore DF006 --fail-on error
  drydock lint . --extend-select DF024  # an opt-in rule on top of the defaults
  helm template charts/api | drydock lint - --stdin-filename api.yaml

A file named on the command line whose kind is not known from its name is
judged by its content, and skipped with a note when it is none of the three.
YAML is judged by its content too: a Compose file needs no compose name.
Directory searches honour .gitignore (--no-ignore: not) and leave out what
[lint] exclude in drydock.toml or --exclude matches (.gitignore-style
patterns); a file named on the command line is always linted.

Suppress a finding with a comment on the line above the instruction:
  # drydock:ignore DF004 the init container must run as root
or for the whole file with `# drydock:ignore-file CODE reason`. In Kubernetes,
use the annotation `drydock.dev/ignore: CODE,CODE` on the object or its pod
template; in Compose, the label `drydock.dev/ignore: CODE` on the service.
drydock.toml's [lint] section sets select, extend_select, ignore, severity and
fail_on.

Rules: the default selection holds the rules whose findings were right on
judged samples of real files; `drydock rules` marks the others opt-in and
says why. Turn them on with `--extend-select CODE` (or `--select ALL`).

Exit codes: 0 no findings at or above --fail-on; 1 findings; 2 bad usage or
a file that cannot be read or parsed (it is then in the JSON, SARIF and
GitHub output too).")]
    Lint(LintArgs),
    /// List the lint rules.
    #[command(after_help = "Examples:
  drydock rules
  drydock rules --format json
  drydock rules --write-docs docs/rules")]
    Rules(RulesArgs),
    /// Explain one lint rule.
    #[command(after_help = "Examples:
  drydock rule DF004
  drydock rule runs-as-root")]
    Rule {
        /// A rule code (DF004) or name (runs-as-root).
        code: String,
    },
    /// Build, then run the service locally with production limits and wait until it is healthy.
    #[command(after_help = "Examples:
  drydock run examples/gin-api -e API_TOKEN=dev-token
  drydock run . --engine podman --host-port 18080 -e API_TOKEN
  drydock run . --watch -e API_TOKEN=dev-token
  drydock run . --image worker      # one of drydock.toml's [[images]]

The container gets the CPU and memory limits of drydock.toml's [resources], a
read-only root filesystem with a tmpfs /tmp, no capabilities and
no-new-privileges, and its port is published on 127.0.0.1 only. Ctrl-C stops
it gracefully: SIGTERM, then SIGKILL after [lifecycle] shutdown_grace.
Exit codes: 0 the service stopped cleanly; 1 it failed, exited non-zero or
never became healthy; 2 bad usage (a port in use, a bad -e); 130 interrupted
before it became healthy.

--watch: after a change in the build context (what `drydock context` lists;
files .dockerignore leaves out do not count), once nothing has changed for
0.15 s, drydock rebuilds and replaces the container, printing the rebuild time
and the health wait. drydock listens on the host port itself and forwards
connections to the container serving (published on a loopback port of its
own), so the new container starts and becomes healthy first, new connections
switch to it, and the old one drains (SIGTERM, shutdown_grace) and is removed;
if the new one does not come up, the old one goes on serving. When drydock may
not listen on the port (below 1024 without CAP_NET_BIND_SERVICE) but the
engine may, the old container is stopped first, and drydock says so. A failed
build prints the compiler's message and the old container keeps serving. Ctrl-C or SIGTERM stops and removes every
container it started: exit 0 when the one serving stopped cleanly, 1 when it
exited non-zero, 130 when none was serving (interrupted while a new one
started). A first container that does not become healthy is reported, and the
watch goes on: the next change rebuilds.")]
    Run(RunArgs),
    /// Pull an image from a registry, daemonless, into an OCI layout or a docker archive.
    #[command(after_help = "Examples:
  drydock pull 127.0.0.1:5000/team/api:1.4.2 --output oci:out/api
  drydock pull registry.example.com/base@sha256:0123… -o docker-archive:base.tar
  drydock pull registry.example.com/base:1 --platform linux/arm64 -o oci:base

Every blob is verified against its digest and kept in drydock's cache, so a
second pull of the same image does not download it again.")]
    Pull(PullArgs),
    /// Measure the service as a process, in Docker, podman, Compose and Swarm: latency,
    /// throughput, CPU, memory, cold start, recovery from a kill and a rolling update.
    #[command(after_help = "Examples:
  drydock bench examples/gin-api
  drydock bench . --modes process,docker --rate 500 --duration 10s --rounds 5 --format markdown
  drydock bench . --path /api/v1/items --connections 16 --format json
  drydock bench . --modes docker --rate 300 --recommend --write
  drydock bench . --modes compose,swarm --replicas 3 --plot bench.png
  drydock bench . --image api --modes docker   # one of drydock.toml's [[images]]

Builds the image first (from the cache when nothing changed) and loads it into
each engine under a tag of bench's own (--tag; NAME:drydock-bench-PID by default),
removed afterwards: a tag bench did not make is never replaced. Each mode runs the service alone, with drydock.toml's limits for the
engines, on 127.0.0.1 only; on two cores or more the service gets core 1 and the
load generator core 0. compose runs the bundle of `drydock deploy --target
compose` and swarm the stack of `--target swarm` (on a single-node swarm made for
the run when there is none, and left after it), both through nginx over TLS with a
fresh self-signed certificate; NGINX_IMAGE names the nginx image (default
nginx:1.27). The fixed-rate run measures latency from each request's intended send
time (no coordinated omission); the maximum run uses closed-loop connections. Then
the service is killed with SIGKILL under load, and the time until it answers again
is measured under each engine's own mechanism (a bare process does not come
back); swarm also replaces the task and rolls the service to a new image under load.
Ctrl-C removes whatever bench started.

Every mode is started first; then the modes take turns for --rounds rounds
(A, B, C, A, B, C, ...), so that a busy stretch of a shared machine falls on all of
them, and the table gives each figure's median with its range over the rounds,
saying where the differences between modes are within that noise (JSON: each
round's figures too). Default: 3 rounds of 1 s warm-up and 4 s measured per run.

While a mode starts, bench says what it waits for (on stderr; --quiet silences
it), and gives up early on a service that exits or listens on another port than
the one it was given (PORT for the process, drydock.toml's port in the engines).
Exit 1 when a mode fails, including when more than half of a run's requests fail
(a --path the service does not answer: the message says what they got); exit 2 on
bad flags (--path without a leading /, --duration 0, --rounds 0, ...).")]
    Bench(BenchArgs),
    /// Push an image written earlier (an OCI layout or a docker archive) to a registry.
    #[command(after_help = "Examples:
  drydock push oci:out/api 127.0.0.1:5000/team/api:1.4.2
  drydock push docker-archive:api.tar:api:1.4.2 registry.example.com/team/api:1.4.2

As build --push does: blobs the registry has are not sent again, the manifest
goes last, and the report gives REF@sha256:….")]
    Push(PushArgs),
    /// Make a cosign-format key pair (ECDSA P-256) for signing images.
    #[command(after_help = "Examples:
  DRYDOCK_KEY_PASSWORD=... drydock keygen --output-key-prefix release

Writes NAME.key (the private key, encrypted with scrypt + secretbox, mode 0600)
and NAME.pub, as cosign generate-key-pair does; cosign, skopeo and podman read
them. The password comes from DRYDOCK_KEY_PASSWORD, else stdin. An existing
key is never replaced (exit 2).")]
    Keygen(KeygenArgs),
    /// Sign an image in a registry where cosign does (tag sha256-<hex>.sig).
    #[command(after_help = "Examples:
  drydock sign 127.0.0.1:5000/team/api:1.4.2 --key release.key

Signs the manifest digest the tag names now, with cosign's simple-signing
payload; skopeo, podman and cosign verify it with the public key.")]
    Sign(SignArgs),
    /// Verify an image's signature, SBOM and provenance with public keys (exit 1 when one is
    /// missing or none of the keys vouches for it).
    #[command(after_help = "Examples:
  drydock verify 127.0.0.1:5000/team/api:1.4.2 --key release.pub
  drydock verify 127.0.0.1:5000/team/api:1.4.2 --key release.pub --require signature
  drydock verify 127.0.0.1:5000/team/api:1.4.2      # keys and requirements from [verify]

Checks the cosign signature at sha256-<hex>.sig, and the signed SBOM and SLSA
provenance attestations (DSSE) found through the referrers API, the
sha256-<hex> referrers tag or cosign's sha256-<hex>.att: each must be signed
by one of the keys and name this digest. Without --key or --require, the
[verify] section of DIR/drydock.toml says which keys and what is required:
  [verify]
  keys = [\"keys/release.pub\"]
  require = [\"signature\", \"sbom\", \"provenance\"]   # the default")]
    Verify(VerifyArgs),
    /// Store credentials for a registry where `docker login` does.
    #[command(after_help = "Examples:
  printf '%s' \"$TOKEN\" | drydock login registry.example.com -u ci --password-stdin

The credentials are checked against the registry first, then written to
$DOCKER_CONFIG/config.json (default ~/.docker/config.json, mode 0600), or to
its credsStore helper when one is configured. docker, podman and drydock
all read them from there.")]
    Login(LoginArgs),
    /// Manage drydock's cache of layers, blobs and build stages.
    #[command(subcommand)]
    Cache(CacheCmd),
    /// Remove the credentials stored for a registry (where `docker login` keeps them).
    #[command(after_help = "Examples:
  drydock logout registry.example.com
  drydock logout 127.0.0.1:5000

Removes the registry's entry from $DOCKER_CONFIG/config.json (default
~/.docker/config.json; the rest of the file is kept as it is), or erases it
through the credsStore / credHelpers helper that holds it. Without REGISTRY:
Docker Hub. Nothing stored is not an error: it says so.")]
    Logout {
        /// The registry host (default: docker.io).
        registry: Option<String>,
    },
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

#[derive(Subcommand)]
pub enum CacheCmd {
    /// Remove cache entries not used recently (or all of them), and say how much was freed.
    #[command(after_help = "Examples:
  drydock cache prune                 # what no build used in the last 30 days
  drydock cache prune --older-than 7d
  drydock cache prune --all --format json

Removes layer index entries, blobs that no kept entry refers to, idle build
stages and temporary files of interrupted writers. Safe beside running builds:
every drydock process holds a shared lock on the cache while it uses it, and
prune waits until none does. What it removes is rebuilt (or pulled again) on
next use.")]
    Prune(PruneArgs),
}

#[derive(clap::Args)]
pub struct PruneArgs {
    /// Remove everything, however recently used.
    #[arg(long, conflicts_with = "older_than")]
    pub all: bool,
    /// Remove what was last used longer ago than this: 30d, 12h, 90m.
    #[arg(long, value_name = "AGE", default_value = "30d", value_parser = parse_age)]
    pub older_than: std::time::Duration,
    /// Cache directory (default: $DRYDOCK_CACHE_DIR, else $XDG_CACHE_HOME/drydock).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// An age: days (`30d`) or any duration drydock.toml takes (`12h`, `90m`, `10s`).
fn parse_age(s: &str) -> Result<std::time::Duration, String> {
    let t = s.trim();
    if let Some(days) = t.strip_suffix('d') {
        return days
            .parse::<u64>()
            .ok()
            .filter(|d| *d > 0 && *d < 100_000)
            .map(|d| std::time::Duration::from_secs(d * 86_400))
            .ok_or_else(|| format!("{s:?} is not a number of days (e.g. 30d)"));
    }
    drydock::config::parse_duration(t).map_err(|e| format!("the age {e}; use e.g. 30d, 12h or 90m"))
}

#[derive(clap::Args)]
pub struct BuildArgs {
    /// The project directory.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Where to write the image: oci:DIR (an OCI image layout), docker-archive:FILE (for
    /// `docker load` / `podman load`), docker-daemon:NAME or podman:NAME (loaded under NAME),
    /// or docker://REFERENCE (a registry). Repeatable.
    #[arg(long, short, value_name = "SPEC")]
    pub output: Vec<String>,
    /// Load the image into a local engine. Repeatable.
    #[arg(long, value_enum, value_name = "ENGINE")]
    pub load: Vec<Engine>,
    /// The image reference to tag (default: NAME:latest).
    #[arg(long, short)]
    pub tag: Option<String>,
    /// Image and binary name (overrides drydock.toml).
    #[arg(long)]
    pub name: Option<String>,
    /// The service port, the only one exposed (overrides drydock.toml).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub port: Option<u16>,
    /// Go main package or Rust binary target (overrides drydock.toml).
    #[arg(long)]
    pub main: Option<String>,
    /// Build the Go or the Rust service, where a directory has both (overrides drydock.toml).
    #[arg(long, value_enum)]
    pub language: Option<drydock::config::Language>,
    /// Package this prebuilt binary instead of compiling (relative to the current directory).
    #[arg(long, value_name = "PATH")]
    pub binary: Option<PathBuf>,
    /// Numeric uid[:gid] to run as (default 65532:65532).
    #[arg(long)]
    pub user: Option<String>,
    /// Leave drydock-helper (init, GOMAXPROCS/GOMEMLIMIT, health probe) out of the image.
    #[arg(long)]
    pub no_helper: bool,
    /// Build on this base image: scratch, a registry reference, oci:DIR[:REF|@DIGEST],
    /// docker-archive:FILE[:TAG], docker-daemon:NAME or podman:NAME (overrides [image] base).
    #[arg(long, value_name = "BASE")]
    pub base: Option<String>,
    /// Resolve the base's tag again instead of using the digest pinned in drydock.lock.
    #[arg(long)]
    pub refresh_base: bool,
    /// Run the compiler even when nothing it reads changed (bypass the rebuild cache).
    #[arg(long)]
    pub no_cache: bool,
    /// Push the image to a registry, daemonless, as REF (default: the image's tag). With
    /// several [[images]], each goes to REF's repository with its own name as the last part.
    #[arg(long, value_name = "REF", num_args = 0..=1, default_missing_value = "")]
    pub push: Option<String>,
    /// With [[images]] in drydock.toml: build only these (comma-separated or repeated;
    /// default: all of them).
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    pub image: Vec<String>,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Cache directory (default: $DRYDOCK_CACHE_DIR, else $XDG_CACHE_HOME/drydock).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Which SBOM to make (default: [image] sbom, else spdx). Given here or in [image] sbom,
    /// the SBOM and the SLSA provenance are attached to every OCI layout and registry output.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub sbom: Option<drydock::sbom::SbomFormat>,
    /// Also write the SBOM here as NAME.spdx.json / NAME.cdx.json.
    #[arg(long, value_name = "DIR")]
    pub sbom_dir: Option<PathBuf>,
    /// Sign each pushed image (cosign's sha256-<hex>.sig) and the attestations with this key
    /// (cosign format; password from DRYDOCK_KEY_PASSWORD or stdin).
    #[arg(long, value_name = "KEY")]
    pub sign: Option<PathBuf>,
    /// The platforms to build for, comma-separated or repeated (linux/amd64, linux/arm64), or
    /// `all` (every platform of the base drydock builds for). Several make an image index.
    /// Default: [image] platforms, else linux/amd64.
    #[arg(long, value_name = "OS/ARCH,...", value_parser = platform_arg)]
    pub platform: Vec<String>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// One `--platform` value, checked alone (the list as a whole is checked by the build).
fn platform_arg(s: &str) -> Result<String, String> {
    drydock::platforms::PlatformSpec::parse(&[s]).map(|_| s.to_string())
}

/// How to reach a registry: shared by build, deploy, pull and login.
#[derive(clap::Args, Clone, Default)]
pub struct RegistryArgs {
    /// Talk plain HTTP to the registry (automatic for localhost, 127.0.0.0/8 and ::1).
    #[arg(long)]
    pub allow_http: bool,
    /// Accept any TLS certificate from the registry (a separate switch from --allow-http).
    #[arg(long)]
    pub skip_tls_verify: bool,
    /// Also trust this CA certificate (PEM) for the registry. Repeatable.
    #[arg(long, value_name = "FILE")]
    pub registry_ca: Vec<PathBuf>,
}

impl RegistryArgs {
    pub fn options(&self) -> drydock_oci::registry::Options {
        drydock_oci::registry::Options {
            allow_http: self.allow_http,
            skip_tls_verify: self.skip_tls_verify,
            ca_files: self.registry_ca.clone(),
            ..Default::default()
        }
    }

    /// The same, saying each retry and warning on stderr (unless `--quiet`), for commands whose
    /// registry work is one step among others (a base pulled, `--push`): the transfer's blobs
    /// and bytes show in that step's spinner.
    pub fn options_reporting(&self, ui: &drydock::ui::Ui) -> drydock_oci::registry::Options {
        drydock_oci::registry::Options {
            events: ui.step_transfer(),
            ..self.options()
        }
    }
}

#[derive(clap::Args)]
pub struct PullArgs {
    /// The image to pull: NAME[:TAG] or NAME@sha256:DIGEST (or any other place an image can
    /// be: oci:DIR[:REF], docker-archive:FILE[:TAG], docker-daemon:NAME, podman:NAME).
    pub reference: String,
    /// Where to write it: oci:DIR, docker-archive:FILE, docker-daemon:NAME, podman:NAME or
    /// docker://REFERENCE. Repeatable.
    #[arg(long, short, value_name = "SPEC", required = true)]
    pub output: Vec<String>,
    /// The platform to pick from a multi-platform image.
    #[arg(long, default_value = "linux/amd64")]
    pub platform: String,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Cache directory (default: $DRYDOCK_CACHE_DIR, else $XDG_CACHE_HOME/drydock).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(clap::Args)]
pub struct BenchArgs {
    /// The project directory.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Where to run it (comma-separated; default: every mode that works here).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub modes: Vec<drydock::bench::Mode>,
    /// The path to load, starting with / (default: the health path); it must answer 2xx.
    #[arg(long)]
    pub path: Option<String>,
    /// Requests per second of the fixed-rate (open-loop) run.
    #[arg(long, default_value_t = 200, allow_negative_numbers = true, value_parser = clap::value_parser!(u64).range(1..))]
    pub rate: u64,
    /// Connections, for both runs (1 to 4096).
    #[arg(long, default_value_t = 8, allow_negative_numbers = true, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub connections: u64,
    /// How long each run measures, per round, e.g. 4s.
    #[arg(long, default_value = "4s")]
    pub duration: String,
    /// Warm-up before each run, not measured; 0s for none.
    #[arg(long, default_value = "1s")]
    pub warmup: String,
    /// Rounds: every mode is measured this many times, the modes taking turns (A, B, A, B, …);
    /// the table gives each figure's median and range.
    #[arg(long, value_name = "N", default_value_t = 3, allow_negative_numbers = true, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub rounds: u32,
    /// The tag bench loads the image under in the engines, removed afterwards (default:
    /// NAME:drydock-bench-PID). Refused if it already names an image.
    #[arg(long, value_name = "NAME:TAG")]
    pub tag: Option<String>,
    /// Environment for the service, KEY=VALUE (repeatable; secrets get a stand-in otherwise).
    #[arg(long, short)]
    pub env: Vec<String>,
    /// Skip the fault-recovery measurement (SIGKILL under load; for swarm also the rolling update).
    #[arg(long)]
    pub no_fault: bool,
    /// Replicas of the swarm stack (default: [scaling] min_replicas).
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = clap::value_parser!(u32).range(1..))]
    pub replicas: Option<u32>,
    /// Propose [resources] values from what was measured (and the throttling and OOM kills seen).
    #[arg(long)]
    pub recommend: bool,
    /// With --recommend: write them into drydock.toml, keeping its comments. A value is not
    /// lowered from under 10 s or 1000 requests measured at the fixed rate, unless --force.
    #[arg(long, requires = "recommend")]
    pub write: bool,
    /// With --write: lower values even from a short run.
    #[arg(long, requires = "write")]
    pub force: bool,
    /// With several [[images]] in drydock.toml: the one to measure.
    #[arg(long, value_name = "NAME")]
    pub image: Option<String>,
    /// Also draw the results (latency percentiles and throughput per mode), as SVG or PNG.
    #[arg(long, value_name = "FILE.svg|png")]
    pub plot: Option<PathBuf>,
    /// Cache directory (default: as for build).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = BenchFormat::Text)]
    pub format: BenchFormat,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
pub enum BenchFormat {
    Text,
    Markdown,
    Json,
}

#[derive(clap::Args)]
pub struct PushArgs {
    /// The image to push: oci:DIR[:REF|@DIGEST], docker-archive:FILE[:TAG],
    /// docker-daemon:NAME, podman:NAME or docker://REFERENCE.
    pub source: String,
    /// Where: REGISTRY/REPOSITORY[:TAG].
    pub reference: String,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Cache directory, where a docker archive's blobs are imported (default: as for build).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(clap::Args)]
pub struct LoginArgs {
    /// The registry host, e.g. registry.example.com or 127.0.0.1:5000.
    pub registry: String,
    /// The user name.
    #[arg(long, short)]
    pub username: String,
    /// Read the password from standard input (the only way: never on the command line).
    #[arg(long, required = true)]
    pub password_stdin: bool,
    #[command(flatten)]
    pub registry_args: RegistryArgs,
}

#[derive(clap::Args)]
pub struct InitArgs {
    /// The project directory.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Replace an existing drydock.toml and .dockerignore.
    #[arg(long)]
    pub force: bool,
    /// The service port, instead of detecting it.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub port: Option<u16>,
    /// Go main package or Rust binary target, instead of detecting it.
    #[arg(long)]
    pub main: Option<String>,
    /// go or rust, instead of detecting it (a directory with both needs it, or [build] language
    /// in an existing drydock.toml).
    #[arg(long, value_enum)]
    pub language: Option<drydock::config::Language>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(clap::Args)]
pub struct DeployArgs {
    /// The project directory.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// What to write, comma-separated or repeated (default: k8s,compose,dockerfile; swarm only
    /// when named).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub target: Vec<drydock::deploy::Target>,
    /// Output directory (default: DIR/deploy).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The image reference to deploy, instead of building it to learn its digest. With
    /// several [[images]], each is REF's repository with its own name as the last part.
    #[arg(long)]
    pub image: Option<String>,
    /// TLS for the Compose bundle's proxy: your own certificate, or a self-signed one for
    /// development.
    #[arg(long, value_enum, default_value = "provided")]
    pub tls: drydock::deploy::Tls,
    /// Replace files edited since drydock wrote them (and a kept key pair).
    #[arg(long)]
    pub force: bool,
    /// Build and push the image as REF (default: the image's tag); the manifests then refer to
    /// the pushed REF@sha256:… that a cluster can pull.
    #[arg(long, value_name = "REF", num_args = 0..=1, default_missing_value = "", conflicts_with = "image")]
    pub push: Option<String>,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Cache directory for the build (default: $DRYDOCK_CACHE_DIR, else $XDG_CACHE_HOME/drydock).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(clap::Args)]
pub struct LintArgs {
    /// Files or directories (default: the current directory); `-` reads standard input.
    pub paths: Vec<PathBuf>,
    /// With `-`: the name the input stands for, which says its kind (Dockerfile, compose.yaml,
    /// deploy.yaml); without it, the input's first lines do.
    #[arg(long, value_name = "NAME")]
    pub stdin_filename: Option<String>,
    #[arg(long, value_enum, default_value_t = drydock::lint::output::Format::Text)]
    pub format: drydock::lint::output::Format,
    /// The lowest severity that fails the run (default: drydock.toml's, else warning).
    #[arg(long, value_enum)]
    pub fail_on: Option<drydock::lint::Severity>,
    /// Only these rules (comma-separated codes, families such as `DF` or `PS01`, or `ALL`),
    /// instead of the default selection.
    #[arg(long, value_delimiter = ',')]
    pub select: Vec<String>,
    /// These rules on top of the selection: how opt-in rules are turned on.
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    pub extend_select: Vec<String>,
    /// Skip these rules (comma-separated codes).
    #[arg(long, value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Ignore `# drydock:ignore` comments (for organisations that forbid them).
    #[arg(long)]
    pub no_suppressions: bool,
    /// Leave out of directory searches what this .gitignore-style pattern matches (repeatable;
    /// added to drydock.toml's [lint] exclude).
    #[arg(long, value_name = "PATTERN")]
    pub exclude: Vec<String>,
    /// Also search what .gitignore excludes.
    #[arg(long)]
    pub no_ignore: bool,
    /// How secrets may reach a container's environment: by reference (default) or only as files.
    #[arg(long, value_enum)]
    pub secret_env: Option<drydock::lint::SecretEnvStance>,
    /// The Pod Security Standards profile pods are held to (default: restricted; a Namespace in
    /// the input labelled pod-security.kubernetes.io/enforce sets its own objects').
    #[arg(long, value_enum)]
    pub pod_security: Option<drydock::lint::PodSecurity>,
}

#[derive(clap::Args)]
pub struct RulesArgs {
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write one Markdown page per rule, and their index README.md, into DIR. Pages drydock
    /// wrote before are replaced; any other file of the same name is refused (exit 2).
    #[arg(long, value_name = "DIR")]
    pub write_docs: Option<PathBuf>,
    /// With --write-docs: replace files of the same name that drydock did not write.
    #[arg(long, requires = "write_docs")]
    pub force: bool,
}

#[derive(clap::Args)]
pub struct RunArgs {
    /// The project directory.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// docker or podman (default: Docker when it answers, else podman).
    #[arg(long, value_enum)]
    pub engine: Option<Engine>,
    /// Environment for the container: KEY=VALUE, or KEY to pass it from your environment.
    #[arg(long = "env", short = 'e', value_name = "KEY[=VALUE]")]
    pub env: Vec<String>,
    /// Host port on 127.0.0.1 (default: the service port when free, else any free port).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub host_port: Option<u16>,
    /// How long to wait for the service to become healthy.
    #[arg(long, default_value = "60s", value_parser = parse_wait)]
    pub wait: std::time::Duration,
    /// The image reference to tag (default: NAME:latest).
    #[arg(long, short)]
    pub tag: Option<String>,
    /// Leave drydock-helper out of the image.
    #[arg(long)]
    pub no_helper: bool,
    /// Cache directory (default: $DRYDOCK_CACHE_DIR, else $XDG_CACHE_HOME/drydock).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// With several [[images]] in drydock.toml: the one to run.
    #[arg(long, value_name = "NAME")]
    pub image: Option<String>,
    /// Rebuild and replace the container whenever a file of the build context changes
    /// (files .dockerignore leaves out do not count); a failed build leaves it serving.
    #[arg(long)]
    pub watch: bool,
}

fn parse_wait(s: &str) -> Result<std::time::Duration, String> {
    drydock::config::parse_duration(s).map_err(|e| format!("--wait {e}"))
}

#[derive(clap::Args)]
pub struct KeygenArgs {
    /// Write NAME.key and NAME.pub.
    #[arg(long, value_name = "NAME", default_value = "cosign")]
    pub output_key_prefix: String,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(clap::Args)]
pub struct SignArgs {
    /// The image: REGISTRY/REPOSITORY[:TAG|@sha256:DIGEST].
    pub reference: String,
    /// The private key (cosign format; password from DRYDOCK_KEY_PASSWORD or stdin).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(clap::Args)]
pub struct VerifyArgs {
    /// The image: REGISTRY/REPOSITORY[:TAG|@sha256:DIGEST].
    pub reference: String,
    /// A public key (PEM) that may vouch for it. Repeatable (default: [verify] keys).
    #[arg(long, value_name = "FILE")]
    pub key: Vec<PathBuf>,
    /// What must be signed: signature, sbom, provenance (comma list; default: [verify]
    /// require, else all three).
    #[arg(long, value_enum, value_delimiter = ',', value_name = "WHAT")]
    pub require: Vec<drydock::config::Requirement>,
    /// The project whose drydock.toml [verify] section is the policy.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}
