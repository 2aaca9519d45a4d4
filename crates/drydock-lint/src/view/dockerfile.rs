//! The view Dockerfile rules see: the parsed file, its lines, its stages, the stages whose layers
//! make the final image and, when it was read from disk, its build context.

use drydock_dockerfile::{stages, Dockerfile, Keyword, Stage};
use drydock_dockerignore::context::BuildContext;
use drydock_oci::reference::Reference;

/// What a Dockerfile rule sees.
pub struct DockerfileCtx<'a> {
    pub path: &'a str,
    pub lines: Vec<&'a str>,
    pub df: &'a Dockerfile,
    pub stages: Vec<Stage>,
    /// Indices into `stages` of the final stage and the stages it is built FROM, in turn: the
    /// stages whose layers are the final image's (a stage COPY --from'ed ships only the files
    /// copied, not its layers).
    pub final_chain: Vec<usize>,
    /// The build context with its .dockerignore applied, when the Dockerfile was read from disk.
    pub context: Option<&'a BuildContext>,
    /// Indices into `stages` of every stage the final image needs: the final chain and, in turn,
    /// the stages they COPY --from or mount from. Other stages (tests, linters, docs) are built
    /// only when asked for by `--target`.
    pub feeds_final: Vec<usize>,
}

impl<'a> DockerfileCtx<'a> {
    pub fn new(
        path: &'a str,
        text: &'a str,
        df: &'a Dockerfile,
        context: Option<&'a BuildContext>,
    ) -> DockerfileCtx<'a> {
        let mut ctx = DockerfileCtx {
            path,
            lines: text.lines().collect(),
            df,
            stages: stages(df),
            final_chain: Vec::new(),
            context,
            feeds_final: Vec::new(),
        };
        let mut next = ctx.stages.len().checked_sub(1);
        while let Some(i) = next {
            if ctx.final_chain.contains(&i) {
                break;
            }
            ctx.final_chain.push(i);
            next = ctx.stage_index(&ctx.stages[i].base).filter(|b| *b < i);
        }
        let mut todo: Vec<usize> = ctx.stages.len().checked_sub(1).into_iter().collect();
        while let Some(i) = todo.pop() {
            if ctx.feeds_final.contains(&i) {
                continue;
            }
            ctx.feeds_final.push(i);
            let s = &ctx.stages[i];
            todo.extend(ctx.stage_index(&s.base).filter(|b| *b < i));
            for &k in &s.body {
                for f in &df.instructions[k].flags {
                    let from = f.strip_prefix("--from=").or_else(|| {
                        f.strip_prefix("--mount=")?
                            .split(',')
                            .find_map(|o| o.strip_prefix("from="))
                    });
                    todo.extend(from.and_then(|n| ctx.stage_index(n)).filter(|b| *b < i));
                }
            }
        }
        ctx.feeds_final.sort_unstable();
        ctx
    }

    /// The stage a `FROM` or `--from` names: an earlier stage's alias or its index.
    pub fn stage_index(&self, name: &str) -> Option<usize> {
        let name = name.to_ascii_lowercase();
        self.stages
            .iter()
            .position(|s| s.alias.as_deref() == Some(name.as_str()))
            .or_else(|| {
                name.parse::<usize>()
                    .ok()
                    .filter(|i| *i < self.stages.len())
            })
    }
}

/// What an image is for, judged once from its final stage so that every rule asks the same
/// question the same way (see [`DockerfileCtx::purpose`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImagePurpose {
    /// It runs a service: it EXPOSEs a port, its ENTRYPOINT/CMD starts a server, or it runs a
    /// server image's own command (`FROM nginx` with a config copied in).
    Service,
    /// An image to build upon: no ENTRYPOINT, CMD or EXPOSE of its own on a base that has a
    /// shell, or a bare shell or interpreter as its command (`CMD ["bash"]`, `CMD ["python3"]`).
    Base,
    /// A tool: a CLI as ENTRYPOINT (`ENTRYPOINT ["trivy"]`), a command showing help or version,
    /// an image kept idle for `docker exec` (`tail -f /dev/null`), or a build/CI image whose
    /// final stage is a toolchain (`FROM golang`, `FROM gcr.io/cloud-builders/…`) running no
    /// server.
    Tool,
    /// A one-shot job: a test run or a migration (`pytest`, `go test`, `migrate`).
    Job,
    /// Build output exported with `docker build --output`, never run: a `scratch` stage with
    /// no command and no run-time settings that only copies files to `/` or from other stages.
    Artifact,
    /// Anything else: a program of its own that is neither of the above (`CMD ["/app"]`).
    /// Rules treat it like a service.
    Unknown,
}

impl ImagePurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            ImagePurpose::Service => "a service",
            ImagePurpose::Base => "a base image",
            ImagePurpose::Tool => "a tool",
            ImagePurpose::Job => "a one-shot job",
            ImagePurpose::Artifact => "build output",
            ImagePurpose::Unknown => "an application",
        }
    }

    /// A service, or what rules treat as one.
    pub fn runs_app(self) -> bool {
        matches!(self, ImagePurpose::Service | ImagePurpose::Unknown)
    }
}

/// Programs that serve, whatever their arguments.
pub const SERVERS: &[&str] = &[
    "nginx",
    "httpd",
    "httpd-foreground",
    "apache2",
    "apache2ctl",
    "apache2-foreground",
    "gunicorn",
    "uvicorn",
    "hypercorn",
    "daphne",
    "waitress-serve",
    "puma",
    "unicorn",
    "caddy",
    "traefik",
    "haproxy",
    "envoy",
    "php-fpm",
    "mysqld",
    "mariadbd",
    "postgres",
    "mongod",
    "redis-server",
    "memcached",
    "java",
    "dotnet",
    "node",
    "deno",
    "bun",
    "supervisord",
    "rails",
    "flask",
    "catalina.sh",
    "kestrel",
];

/// Words in a program's name that say it serves (`api-server`, `runserver`, `mydaemon`).
const SERVE_WORDS: &[&str] = &[
    "serve",
    "server",
    "daemon",
    "runserver",
    "--port",
    "--bind",
    "--listen",
];

/// Shells and REPLs: run bare, they wait for a user, not for requests.
pub const INTERACTIVE: &[&str] = &[
    "sh",
    "bash",
    "ash",
    "dash",
    "zsh",
    "fish",
    "python",
    "python2",
    "python3",
    "node",
    "irb",
    "ruby",
    "ghci",
    "iex",
    "erl",
    "php",
    "perl",
    "lua",
    "psql",
    "mysql",
    "redis-cli",
    "jshell",
    "pwsh",
    "powershell",
    "cmd",
];

/// Programs that start another program as PID 1 or under another user (`tini -- app`,
/// `gosu app server`): the command is what follows them.
const LAUNCHERS: &[&str] = &[
    "tini",
    "tini-static",
    "dumb-init",
    "gosu",
    "su-exec",
    "exec",
    "catatonit",
    "s6-setuidgid",
];

/// Images that are toolchains: a final stage on one that runs no server is a build or CI image.
const TOOLCHAIN_IMAGES: &[&str] = &[
    "golang",
    "rust",
    "gcc",
    "clang",
    "maven",
    "gradle",
    "buildpack-deps",
    "docker",
    "cloud-sdk",
    "google-cloud-cli",
    "emsdk",
    "sdk",
    "bazel",
    "cross",
];

/// Official server images whose own command drops root (their entrypoint uses gosu or
/// su-exec, or the daemon switches to its configured user), used when a Dockerfile builds on
/// one and keeps its command.
pub const SERVER_IMAGES: &[&str] = &[
    "nginx",
    "httpd",
    "php",
    "mysql",
    "mariadb",
    "postgres",
    "mongo",
    "redis",
    "rabbitmq",
    "memcached",
    "elasticsearch",
    "cassandra",
    "couchdb",
    "wordpress",
    "nextcloud",
    "drupal",
    "joomla",
    "ghost",
    "haproxy",
    "traefik",
    "caddy",
    "envoy",
    "tomcat",
];

/// `./app`, `bin/app`: a program of the image's own, not a tool on PATH.
fn first_word_is_relative(words: &[String]) -> bool {
    words
        .first()
        .is_some_and(|w| w.starts_with("./") || (!w.starts_with('/') && w.contains('/')))
}

/// Language runtimes: images one runs an app on (`python`, `node`, a JRE), unlike a
/// distribution or an SDK.
pub const RUNTIME_IMAGES: &[&str] = &[
    "python",
    "pypy",
    "node",
    "ruby",
    "jruby",
    "php",
    "perl",
    "openjdk",
    "eclipse-temurin",
    "amazoncorretto",
    "ibmjava",
    "ibm-semeru-runtimes",
    "sapmachine",
    "elixir",
    "erlang",
    "tomcat",
    "jetty",
    "aspnet",
    "runtime",
    "deno",
    "bun",
];

/// The repository's last path component, without tag or digest (`docker.io/library/nginx:1`
/// is `nginx`).
pub fn image_name(base: &str) -> &str {
    let repo = base.split('@').next().unwrap_or(base);
    let last = repo.rsplit('/').next().unwrap_or(repo);
    last.split(':').next().unwrap_or(last)
}

/// The tag of an image reference, or "".
pub fn image_tag(base: &str) -> &str {
    let repo = base.split('@').next().unwrap_or(base);
    let last = repo.rsplit('/').next().unwrap_or(repo);
    last.split_once(':').map_or("", |(_, t)| t)
}

/// A base image as a parsed reference: what the base-image rules match, by the repository's
/// path components and the tag rather than by substrings of the text. `None` for `scratch`
/// and for what is not a reference (a base that an ARG without a default decides).
pub struct BaseImage(Reference);

impl BaseImage {
    pub fn parse(base: &str) -> Option<BaseImage> {
        if base.eq_ignore_ascii_case("scratch") {
            return None;
        }
        Reference::parse(base).ok().map(BaseImage)
    }

    /// The repository's path components (`library`, `golang` for `golang:1.22`), without
    /// the registry.
    pub fn path(&self) -> impl Iterator<Item = &str> {
        self.0.repository().split('/')
    }

    /// The repository's last path component: `golang` of `golang:1.22`, of
    /// `docker.io/library/golang` and of `localhost:5000/golang`.
    pub fn name(&self) -> &str {
        self.path().last().unwrap_or("")
    }

    /// The tag written, or "" (a bare name's implied `latest` is not written).
    pub fn tag(&self) -> &str {
        let written = self.0.as_str().split('@').next().unwrap_or("");
        if written == self.0.name() {
            ""
        } else {
            self.0.tag().unwrap_or("")
        }
    }
}

impl<'a> DockerfileCtx<'a> {
    /// The stages whose output can reach the final image: [`Self::feeds_final`] when the final
    /// image takes files from other stages (the file then shows what it needs), else every
    /// stage (a sketch that names no COPY --from is judged whole).
    pub fn stages_for_final(&self) -> Vec<usize> {
        if self.feeds_final.len() > self.final_chain.len() {
            self.feeds_final.clone()
        } else {
            (0..self.stages.len()).collect()
        }
    }

    /// A stage and the stages it is built FROM in turn (its own index first).
    pub fn stage_chain(&self, i: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut next = Some(i);
        while let Some(k) = next {
            if out.contains(&k) || k >= self.stages.len() {
                break;
            }
            out.push(k);
            next = self.stage_index(&self.stages[k].base).filter(|b| *b < k);
        }
        out
    }

    /// The base image the final image starts from: the FROM at the root of the final chain.
    pub fn root_base(&self) -> Option<&Stage> {
        self.final_chain.last().map(|&i| &self.stages[i])
    }

    /// The instructions of the stages whose layers are the final image's, in build order.
    pub fn final_instructions(&self) -> Vec<&'a drydock_dockerfile::Instruction> {
        let df = self.df;
        let mut out = Vec::new();
        for &i in self.final_chain.iter().rev() {
            out.extend(self.stages[i].body.iter().map(|&k| &df.instructions[k]));
        }
        out
    }

    /// The command the image runs: the words of its last ENTRYPOINT then its last CMD along the
    /// final chain (shell form split on blanks), with quotes and brackets trimmed.
    pub fn command_words(&self) -> Vec<String> {
        let ins = self.final_instructions();
        let last = |k: Keyword| ins.iter().rev().find(|i| i.is(k));
        let mut words: Vec<String> = Vec::new();
        for i in [last(Keyword::Entrypoint), last(Keyword::Cmd)]
            .into_iter()
            .flatten()
        {
            words.extend(
                i.values()
                    .iter()
                    .flat_map(|v| v.split_whitespace())
                    .map(|w| w.trim_matches(['"', '\'', '[', ']', ',']).to_string()),
            );
        }
        words.retain(|w| !w.is_empty());
        words
    }

    /// Whether the final chain builds an app (`go build`, `cargo build`, `npm run build`,
    /// `mvn package`, `dotnet publish`…) or copies one into an app directory (`/app`, `/srv`,
    /// `/usr/src/app`).
    pub fn builds_app(&self) -> bool {
        self.final_instructions().iter().any(|i| match i.kind() {
            Keyword::Run => drydock_dockerfile::shell::run_commands(i).iter().any(|c| {
                let c = c.unwrapped();
                let sub = c.subcommand().unwrap_or("");
                (c.is("go") && sub == "build")
                    // `go install ./cmd/app` builds the app; `go install x@v1` fetches a tool.
                    || (c.is("go") && sub == "install" && !c.args().any(|a| a.contains('@')))
                    || (c.is("cargo") && sub == "build")
                    // `cargo install --path .` builds the app; `cargo install x` fetches a tool.
                    || (c.is("cargo") && sub == "install" && c.has_flag(&["path"], &[]))
                    || (matches!(c.name(), "npm" | "yarn" | "pnpm")
                        && c.args().next() == Some("build"))
                    || (matches!(c.name(), "mvn" | "mvnw")
                        && c.words.iter().any(|w| w == "package"))
                    || (c.is("dotnet") && sub == "publish")
            }),
            Keyword::Copy | Keyword::Add => i.values().last().is_some_and(|d| {
                ["/app", "/srv", "/usr/src/app", "/opt/app", "/home/app"]
                    .iter()
                    .any(|a| d.trim_end_matches('/') == *a || d.starts_with(&format!("{a}/")))
            }),
            _ => false,
        })
    }

    /// Whether the final chain EXPOSEs a port.
    pub fn exposes(&self) -> bool {
        self.final_instructions()
            .iter()
            .any(|i| i.is(Keyword::Expose))
    }

    /// What the image is for, and why ([`ImagePurpose`]).
    pub fn purpose(&self) -> (ImagePurpose, String) {
        let words = self.command_words();
        let exposes = self.exposes();
        let base = self.root_base().map(|s| s.base.to_ascii_lowercase());
        let base = base.as_deref().unwrap_or("");
        let base_name = image_name(base);
        let program = |w: &str| w.rsplit('/').next().unwrap_or(w).to_ascii_lowercase();
        // The program that really runs: past launchers (`tini --`, `gosu user`) and `sh -c`.
        let mut run: Vec<String> = words.clone();
        loop {
            let Some(first) = run.first().map(|w| program(w)) else {
                break;
            };
            // An entrypoint script with a CMD after it runs the CMD (`exec "$@"`).
            if run.len() > 1
                && (first.contains("entrypoint")
                    || first.ends_with(".sh") && run[1].starts_with('/'))
            {
                run = run[1..].to_vec();
            } else if LAUNCHERS.contains(&first.as_str()) {
                let skip_user = matches!(first.as_str(), "gosu" | "su-exec" | "s6-setuidgid");
                let mut rest: Vec<String> = run[1..].to_vec();
                while rest.first().is_some_and(|w| w.starts_with('-')) {
                    rest.remove(0);
                }
                if skip_user && !rest.is_empty() {
                    rest.remove(0);
                }
                run = rest;
            } else if matches!(first.as_str(), "sh" | "bash" | "ash" | "dash")
                && run
                    .get(1)
                    .is_some_and(|w| w.starts_with('-') && w.contains('c'))
            {
                run = run[2..].to_vec();
            } else {
                break;
            }
        }
        let serves = |ws: &[String]| {
            ws.iter().any(|w| {
                let p = program(w);
                SERVERS.contains(&p.as_str()) || SERVE_WORDS.iter().any(|k| p.contains(k))
            })
        };
        let toolchain = TOOLCHAIN_IMAGES.contains(&base_name)
            || base.contains("cloud-builders")
            || base.contains("devcontainers")
            || base.contains("/dotnet/sdk");
        let Some(first) = run.first().map(|w| program(w)) else {
            if exposes {
                return (
                    ImagePurpose::Service,
                    "it EXPOSEs a port and runs its base image's command".into(),
                );
            }
            if SERVER_IMAGES.contains(&base_name) {
                return (
                    ImagePurpose::Service,
                    format!("it runs the command of `{base}`, a server image"),
                );
            }
            let ins = self.final_instructions();
            let artifact = base == "scratch"
                && ins.iter().all(|i| match i.kind() {
                    Keyword::Copy | Keyword::Add => {
                        i.flags.iter().any(|f| f.starts_with("--from"))
                            || i.values()
                                .last()
                                .is_some_and(|d| matches!(*d, "/" | "." | "./"))
                    }
                    k => matches!(k, Keyword::Arg | Keyword::Label | Keyword::Run),
                });
            if artifact {
                return (
                    ImagePurpose::Artifact,
                    "a scratch stage with no command that only collects files".into(),
                );
            }
            // Without a shell nothing can be built upon it: it runs what it ships.
            if base.is_empty()
                || base == "scratch"
                || base.contains("distroless")
                || base.contains("chiseled")
                || self.root_base().is_some_and(|s| s.unresolved)
            {
                return (ImagePurpose::Unknown, "it has no command of its own".into());
            }
            if self.builds_app() {
                return (
                    ImagePurpose::Unknown,
                    "it builds or copies in an app but has no command of its own".into(),
                );
            }
            return (
                ImagePurpose::Base,
                "no ENTRYPOINT, CMD or EXPOSE: an image to build upon".into(),
            );
        };
        if run.iter().any(|w| {
            matches!(
                w.as_str(),
                "--help" | "-h" | "help" | "--version" | "version" | "--info"
            )
        }) {
            return (
                ImagePurpose::Tool,
                "its command shows help or a version".into(),
            );
        }
        let idle = (run.iter().any(|w| w == "tail") && run.iter().any(|w| w == "/dev/null"))
            || (first == "sleep" && run.iter().any(|w| w == "infinity" || w.len() > 4))
            || (first == "cat" && run.len() == 1);
        if idle && !serves(&run) {
            return (
                ImagePurpose::Tool,
                "it idles (`tail -f /dev/null`, `sleep infinity`) for `docker exec`".into(),
            );
        }
        if INTERACTIVE.contains(&first.as_str())
            && run[1..].iter().all(|w| w.starts_with('-'))
            && !exposes
        {
            return (
                ImagePurpose::Base,
                format!("its command is a bare shell or interpreter (`{first}`)"),
            );
        }
        if exposes || serves(&run) {
            return (
                ImagePurpose::Service,
                "it EXPOSEs a port or starts a server".into(),
            );
        }
        if matches!(
            first.as_str(),
            "echo" | "cat" | "true" | "false" | "ls" | "env" | "printenv" | "date" | "id"
        ) {
            return (
                ImagePurpose::Job,
                format!("its command (`{first}`) prints and exits"),
            );
        }
        let tests = [
            "pytest",
            "test",
            "tests",
            "migrate",
            "migration",
            "migrations",
        ];
        if run.iter().take(4).any(|w| {
            let p = program(w);
            tests.contains(&p.as_str()) || p.ends_with("_test") || p.starts_with("test_")
        }) {
            return (
                ImagePurpose::Job,
                "it runs tests or a migration once".into(),
            );
        }
        // A single-stage app on a toolchain image builds its program and runs it: not a tool.
        let own_program = first_word_is_relative(&run) || self.builds_app();
        if toolchain && !own_program {
            return (
                ImagePurpose::Tool,
                format!("its final stage is the toolchain image `{base}` and runs no server"),
            );
        }
        // A CLI on PATH as ENTRYPOINT (`trivy`, `/usr/local/bin/docker-compose`): a tool the
        // user gives arguments to.
        let ins = self.final_instructions();
        if let Some(ep) = ins.iter().rev().find(|i| i.is(Keyword::Entrypoint)) {
            if let Some(w) = ep
                .values()
                .first()
                .and_then(|v| v.split_whitespace().next())
            {
                let on_path = !w.contains('/')
                    || [
                        "/usr/bin/",
                        "/usr/local/bin/",
                        "/bin/",
                        "/usr/sbin/",
                        "/sbin/",
                    ]
                    .iter()
                    .any(|d| w.starts_with(d));
                let script = w.ends_with(".sh") || w.contains("entrypoint");
                if on_path
                    && !script
                    && !INTERACTIVE.contains(&program(w).as_str())
                    && !self.builds_app()
                {
                    return (
                        ImagePurpose::Tool,
                        format!("its ENTRYPOINT is the command-line tool `{w}`"),
                    );
                }
            }
        }
        (ImagePurpose::Unknown, "it runs a program of its own".into())
    }
}

/// Programs that run a command as another user: an image that installs or calls one drops root
/// itself (the docker-library pattern: `exec gosu redis "$@"` in the entrypoint).
const PRIVILEGE_DROPPERS: &[&str] = &[
    "gosu",
    "su-exec",
    "setpriv",
    "s6-setuidgid",
    "runuser",
    "chpst",
    "setuidgid",
    "su-exec-static",
];

/// Daemons that switch to an unprivileged user by themselves.
const DROPPING_DAEMONS: &[&str] = &[
    "nginx",
    "httpd",
    "httpd-foreground",
    "apache2",
    "apache2ctl",
    "apache2-foreground",
    "php-fpm",
    "postgres",
    "mysqld",
    "mysqld_safe",
    "mariadbd",
    "openresty",
];

/// Packages and programs that need root by nature: tun devices, raw sockets, packet filters,
/// a Docker daemon.
const ROOT_BY_NATURE: &[&str] = &[
    "openvpn",
    "wireguard",
    "wireguard-tools",
    "wg-quick",
    "tailscale",
    "tailscaled",
    "iptables",
    "ip6tables",
    "nftables",
    "nft",
    "tcpdump",
    "nmap",
    "masscan",
    "hping3",
    "strongswan",
    "keepalived",
    "dockerd",
    "dockerd-entrypoint.sh",
    "containerd",
    "buildkitd",
];

impl<'a> DockerfileCtx<'a> {
    /// Every word of the final chain's RUN commands, ENTRYPOINT, CMD and ENV, for the questions
    /// below.
    fn final_words(&self) -> Vec<String> {
        let mut out = Vec::new();
        for i in self.final_instructions() {
            match i.kind() {
                Keyword::Run => {
                    for c in drydock_dockerfile::shell::run_commands(i) {
                        out.extend(c.env.iter().cloned());
                        out.extend(c.words);
                    }
                }
                Keyword::Entrypoint | Keyword::Cmd | Keyword::Env | Keyword::Arg => out.extend(
                    i.values()
                        .iter()
                        .flat_map(|v| v.split_whitespace())
                        .map(|w| w.trim_matches(['"', '\'', '[', ']', ',']).to_string()),
                ),
                _ => {}
            }
        }
        out
    }

    /// Whether the app runs on an interpreter from its sources (python, node, ruby, php, perl,
    /// and their distroless variants): its sources are what it runs.
    pub fn runs_sources(&self) -> bool {
        self.root_base().is_some_and(|r| {
            let name = image_name(&r.base.to_ascii_lowercase()).to_string();
            [
                "python", "pypy", "node", "nodejs", "ruby", "jruby", "php", "perl", "deno", "bun",
            ]
            .iter()
            .any(|i| {
                name == *i
                    || name.starts_with(&format!("{i}3"))
                    || name.starts_with(&format!("{i}2"))
                    || name.starts_with(&format!("{i}1"))
            })
        })
    }

    /// Whether the image is a desktop application, run by hand with a display (`docker run -e
    /// DISPLAY -v /tmp/.X11-unix…`), not deployed: it sets DISPLAY or installs X11, Wayland,
    /// GTK, Qt, OpenGL or PulseAudio libraries.
    pub fn is_desktop_app(&self) -> bool {
        self.final_words().iter().any(|w| {
            let w = w.to_ascii_lowercase();
            w.starts_with("display=")
                || w == "display"
                || [
                    "libx11",
                    "x11-",
                    "xorg",
                    "libgtk",
                    "gtk3",
                    "libqt5",
                    "libqt6",
                    "qt5-",
                    "qt6-",
                    "libwayland",
                    "libgl1",
                    "mesa",
                    "pulseaudio",
                    "libpulse",
                    "xdg-utils",
                ]
                .iter()
                .any(|m| w.starts_with(m))
        })
    }

    /// How the image drops root by itself, when the Dockerfile shows it: a privilege-dropping
    /// program installed or called (gosu, su-exec, setpriv, `chroot --userspec`, `su -c`,
    /// s6-setuidgid, runuser), a daemon configured with its user (`APACHE_RUN_USER`, `user =` in
    /// a php-fpm pool, `user=` for mysqld, nginx's `user` directive), or a server image's own
    /// command kept (`FROM nginx`, `FROM php:8-fpm`: their master process switches user).
    pub fn drops_privileges(&self) -> Option<String> {
        let words = self.final_words();
        let base = |w: &str| w.rsplit('/').next().unwrap_or(w).to_string();
        if let Some(w) = words
            .iter()
            .map(|w| base(w))
            .find(|w| PRIVILEGE_DROPPERS.contains(&w.as_str()))
        {
            return Some(format!("it uses `{w}` to run its process as another user"));
        }
        for (i, w) in words.iter().enumerate() {
            let next = words.get(i + 1).map(String::as_str).unwrap_or("");
            if base(w) == "chroot"
                && words[i..]
                    .iter()
                    .take(4)
                    .any(|x| x.starts_with("--userspec"))
            {
                return Some("it runs its process with `chroot --userspec`".into());
            }
            if base(w) == "su" && words[i + 1..].iter().take(3).any(|x| x == "-c") {
                return Some("it runs its process with `su -c`".into());
            }
            let sets_user = |t: &str| {
                t.lines().any(|l| {
                    let l = l.trim_start();
                    l.strip_prefix("user").is_some_and(|r| {
                        r.trim_start().starts_with('=')
                            || (r.starts_with(' ') && r.trim_end().ends_with(';'))
                    })
                })
            };
            let config =
                w.starts_with("APACHE_RUN_USER") || (w == "user" && next == "=") || sets_user(w);
            if config {
                return Some(format!("its daemon is configured with a user (`{w}`)"));
            }
            if w.contains("s/^user") || w.contains("s/user") || w.contains(";user ") {
                return Some("its daemon's configuration sets a user".into());
            }
        }
        // Daemons whose default configuration switches the workers to an unprivileged user
        // (nginx's `user`, httpd's `User`, php-fpm's pool `user`), or that refuse to run as
        // root (postgres, mysqld).
        let cmd = self.command_words();
        if let Some(d) = cmd
            .iter()
            .map(|w| base(w))
            .find(|p| DROPPING_DAEMONS.contains(&p.as_str()) || p.starts_with("php-fpm"))
        {
            return Some(format!(
                "`{d}` starts as root and runs its workers as an unprivileged user"
            ));
        }
        // A server image's own command (their entrypoints and daemons switch user).
        let root = self.root_base()?;
        let name = image_name(&root.base.to_ascii_lowercase()).to_string();
        let own_entrypoint = self
            .final_instructions()
            .iter()
            .any(|i| i.is(Keyword::Entrypoint));
        let tag = image_tag(&root.base).to_ascii_lowercase();
        let server = SERVER_IMAGES.contains(&name.as_str())
            && (name != "php" || tag.contains("fpm") || tag.contains("apache"));
        (server && !own_entrypoint && name != "tomcat").then(|| {
            format!(
                "it keeps the command of `{}`, which switches to an unprivileged user",
                root.base
            )
        })
    }

    /// What in the image needs root by nature (a VPN's tun device, raw sockets, a packet
    /// filter, a Docker daemon), when the Dockerfile shows it.
    pub fn needs_root(&self) -> Option<String> {
        let mut words = self.final_words();
        if let Some(root) = self.root_base() {
            words.push(image_name(&root.base).to_string());
            if image_name(&root.base) == "docker" && image_tag(&root.base).contains("dind") {
                words.push("dockerd".into());
            }
        }
        words
            .iter()
            .map(|w| w.rsplit('/').next().unwrap_or(w))
            .find(|w| ROOT_BY_NATURE.contains(w))
            .map(|w| format!("`{w}` needs root (devices, raw sockets or the host's network)"))
            .or_else(|| {
                words
                    .iter()
                    .any(|w| w.contains("/dev/net/tun"))
                    .then(|| "it uses /dev/net/tun, which needs root".into())
            })
    }

    /// Whether the final image's base runs as root when no USER says otherwise, as far as the
    /// Dockerfile lets one know: `scratch`, official images (`debian`, `python`, `node`…),
    /// distroless without `:nonroot`, Microsoft's and Red Hat's images except the chiseled and
    /// distroless ones. Another publisher's image sets its own USER, which the Dockerfile does
    /// not show; a base given by `--build-arg` is not known.
    pub fn base_runs_as_root(&self) -> bool {
        let Some(root) = self.root_base() else {
            return false;
        };
        if root.unresolved {
            return false;
        }
        let b = root.base.to_ascii_lowercase();
        let b = b.strip_prefix("docker.io/").unwrap_or(&b);
        let b = b.strip_prefix("library/").unwrap_or(b);
        let repo = b.split(['@']).next().unwrap_or(b);
        let repo = match repo.rsplit_once(':') {
            Some((r, t)) if !t.contains('/') => r,
            _ => repo,
        };
        let tag = image_tag(b);
        if tag.contains("nonroot") || b.contains("chiseled") || b.contains("chainguard") {
            return false;
        }
        b == "scratch"
            || !repo.contains('/')
            || (repo.starts_with("gcr.io/distroless/"))
            || (repo.starts_with("mcr.microsoft.com/") && !b.contains("distroless"))
            || repo.starts_with("registry.access.redhat.com/")
            || repo.starts_with("redhat/ubi")
            || repo.starts_with("public.ecr.aws/docker/library/")
            || repo.starts_with("amazonlinux")
    }

    /// The value of `${NAME}` words at instruction `idx`: the stage's ARG defaults (global ones
    /// re-declared included) and ENV values before it.
    pub fn expand_at(&self, idx: usize, word: &str) -> String {
        use std::collections::BTreeMap;
        // No variable in it: nothing to look up, and no walk of the stage before `idx` (which,
        // for every ADD of a long Dockerfile, made lint time grow with the square of its length).
        if !word.contains('$') {
            return drydock_dockerfile::expand(word, &BTreeMap::new(), self.df.escape);
        }
        let mut global: BTreeMap<String, Option<String>> = BTreeMap::new();
        let mut vars: BTreeMap<String, Option<String>> = BTreeMap::new();
        let pairs = |i: &drydock_dockerfile::Instruction| -> Vec<(String, Option<String>)> {
            let v = i.values();
            match i.kind() {
                Keyword::Arg => v
                    .iter()
                    .map(|a| match a.split_once('=') {
                        Some((k, val)) => (k.to_string(), Some(val.trim_matches('"').to_string())),
                        None => (a.to_string(), None),
                    })
                    .collect(),
                Keyword::Env => v
                    .chunks(3)
                    .filter(|c| c.len() == 3)
                    .map(|c| (c[0].to_string(), Some(c[1].trim_matches('"').to_string())))
                    .collect(),
                _ => vec![],
            }
        };
        let first_from = self.stages.first().map_or(idx, |s| s.from);
        for i in &self.df.instructions[..first_from.min(idx)] {
            global.extend(pairs(i));
        }
        if let Some(s) = self.stages.iter().rev().find(|s| s.from < idx) {
            for &k in s.body.iter().filter(|&&k| k < idx) {
                let i = &self.df.instructions[k];
                for (name, val) in pairs(i) {
                    let val = match val {
                        Some(v) => Some(drydock_dockerfile::expand(&v, &vars, self.df.escape)),
                        None if i.is(Keyword::Arg) => global.get(&name).cloned().flatten(),
                        None => None,
                    };
                    vars.insert(name, val);
                }
            }
        }
        drydock_dockerfile::expand(word, &vars, self.df.escape)
    }

    /// Whether the build reads its whole context: a COPY or ADD whose source is the context's
    /// root (`.`, `./`, `/`, `*`; not `--from` another stage or image, not a URL or git
    /// repository, not a heredoc), or a `RUN --mount` that binds the context's root. BuildKit
    /// sends a build only the paths its COPY, ADD and bind mounts name (the Dockerfile
    /// frontend gives the context's transfer those paths), unless one of them is the root:
    /// then it sends everything a .dockerignore does not exclude. A build that names its
    /// sources gains little from a .dockerignore; one that reads nothing, nothing.
    pub fn reads_whole_context(&self) -> bool {
        let root = |p: &str| {
            let p = p.trim_matches('"');
            let p = p.trim_start_matches("./").trim_start_matches('/');
            let p = p.trim_end_matches('/');
            p.is_empty() || p == "." || p == "*"
        };
        self.df
            .instructions
            .iter()
            .enumerate()
            .any(|(idx, i)| match i.kind() {
                Keyword::Copy | Keyword::Add => {
                    if i.flags.iter().any(|f| f.starts_with("--from")) {
                        return false;
                    }
                    let v = i.values();
                    if v.len() < 2 {
                        return false;
                    }
                    v[..v.len() - 1].iter().any(|word| {
                        let src = self.expand_at(idx, word);
                        let heredoc = src.starts_with("<<");
                        // A source that is only unset build arguments is given at build time
                        // (`--build-arg`): a path, not known to be the root.
                        let unknown = src.trim_matches('"').is_empty() && word.contains('$');
                        !heredoc && !is_remote(&src) && !unknown && root(&src)
                    })
                }
                Keyword::Run => i.flags.iter().any(|f| {
                    let Some(m) = f.strip_prefix("--mount=") else {
                        return false;
                    };
                    let opts: Vec<&str> = m.split(',').collect();
                    let typ = opts
                        .iter()
                        .find_map(|o| o.strip_prefix("type="))
                        .unwrap_or("bind");
                    let source = opts
                        .iter()
                        .find_map(|o| o.strip_prefix("source=").or(o.strip_prefix("src=")))
                        .unwrap_or(".");
                    typ == "bind"
                        && !opts.iter().any(|o| o.starts_with("from="))
                        && root(&self.expand_at(idx, source))
                }),
                _ => false,
            })
    }
}

/// A URL or a git repository, which ADD fetches instead of reading the context.
pub fn is_remote(src: &str) -> bool {
    src.contains("://") || src.starts_with("git@")
}
