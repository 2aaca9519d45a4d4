use super::{at, body, final_chain, final_stage};
use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::DockerfileCtx;
use drydock_dockerfile::stages::Stage;
use drydock_dockerfile::Keyword;

pub static RULE: Rule = Rule {
    code: "DF006",
    name: "missing-healthcheck",
    practice: "P8",
    severity: Severity::Info,
    hadolint: &[],
    pod_security: None,
    doc: r#"
## What it does
Flags an image that runs a service and has no `HEALTHCHECK` (in the final stage or the stages it
is built FROM).

An image runs a service when it `EXPOSE`s a port or its ENTRYPOINT/CMD starts a known server
(nginx, httpd, gunicorn, uvicorn, php-fpm, java, node, … or a command with `serve`, `server`,
`daemon`, `--port`, `--bind`). It does not when it is a base image (no ENTRYPOINT, CMD or EXPOSE), or
runs a CLI or a shell: `CMD ["--help"]`, `--version`, a bare shell or REPL (`bash`, `python3`,
`node`, `php -a`, `irb`), or neither EXPOSE nor a server command. Those are left alone.

## Why is this bad?
Without one, Docker and Compose consider a hung service healthy and never restart it, and
`depends_on: condition: service_healthy` cannot work. (Kubernetes ignores HEALTHCHECK and uses
its probes; if the image only runs there, ignore this rule in drydock.toml.)

## Example
```dockerfile
EXPOSE 8080
ENTRYPOINT ["/app/api"]
```

Use instead:
```dockerfile
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD ["/usr/local/bin/drydock-helper", "probe", "http://127.0.0.1:8080/healthz"]
ENTRYPOINT ["/app/api"]
```

## References
- https://docs.docker.com/reference/dockerfile/#healthcheck
"#,
    check: Check::Dockerfile(check),
};

fn check(ctx: &DockerfileCtx<'_>) -> Vec<Finding> {
    let Some(s) = final_stage(ctx) else {
        return vec![];
    };
    let chain = final_chain(ctx);
    let has = |k: Keyword| chain.iter().any(|st| body(ctx, st).any(|i| i.is(k)));
    if has(Keyword::Healthcheck) || !runs_a_service(ctx, &chain, has(Keyword::Expose)) {
        return vec![];
    }
    vec![at(
        ctx,
        &ctx.df.instructions[s.from],
        "the image runs a service and has no HEALTHCHECK".into(),
        Some("add an exec-form HEALTHCHECK that probes the service".into()),
    )]
}

/// Programs that serve, whatever their arguments.
const SERVERS: &[&str] = &[
    "nginx",
    "httpd",
    "apache2",
    "apache2ctl",
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

/// Shells and REPLs: run bare, they wait for a user, not for requests.
const INTERACTIVE: &[&str] = &[
    "sh",
    "bash",
    "ash",
    "dash",
    "zsh",
    "fish",
    "python",
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
];

fn runs_a_service(ctx: &DockerfileCtx<'_>, chain: &[&Stage], exposes: bool) -> bool {
    // The command: the last ENTRYPOINT and CMD along the chain, the final stage's first.
    let last = |k: Keyword| {
        chain
            .iter()
            .find_map(|st| body(ctx, st).filter(|i| i.is(k)).last())
    };
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
    // No command of its own: a base image, unless it exposes a port (the command then comes
    // from the image it is built on, as with `FROM nginx`).
    let Some(first) = words.first() else {
        return exposes;
    };
    let program = |w: &str| w.rsplit('/').next().unwrap_or(w).to_ascii_lowercase();
    let prog = program(first);
    // A CLI showing its help or version.
    if words.iter().any(|w| {
        matches!(
            w.as_str(),
            "--help" | "-h" | "help" | "--version" | "version"
        )
    }) {
        return false;
    }
    // A bare shell or REPL (`bash`, `python3`, `php -a`).
    if INTERACTIVE.contains(&prog.as_str()) && words[1..].iter().all(|w| w.starts_with('-')) {
        return false;
    }
    let serves = words.iter().any(|w| {
        let p = program(w);
        SERVERS.contains(&p.as_str())
            || [
                "serve",
                "server",
                "daemon",
                "runserver",
                "--port",
                "--bind",
                "--listen",
            ]
            .iter()
            .any(|k| p.contains(k))
    });
    exposes || serves
}
