//! What a workload is for: a long-running service, a one-shot job, an init helper or a toolbox.
//! Rules about running services (probes, health checks, limits) ask this instead of guessing on
//! their own; Compose (view/compose.rs) and Kubernetes (view/kubernetes.rs) each decide it in one
//! place from what their format says, and from the command the container runs, read here.
//! This module only reads commands; it never decides a finding.

/// What a container or a Compose service is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Runs until stopped and serves or processes something: probes, health checks and limits
    /// are about it.
    Service,
    /// Runs to completion and exits: a Job, a migration, a container that creates buckets.
    OneShot,
    /// A Kubernetes init container (not a sidecar): runs to completion before the others start.
    InitHelper,
    /// Kept alive doing nothing (`sleep infinity`, `tail -f /dev/null`) or never started
    /// (`deploy.replicas: 0`), for someone to `exec` or `run` into it.
    Toolbox,
}

impl Purpose {
    /// A long-running service, which is what probe, health-check and limit rules are about.
    pub fn is_service(self) -> bool {
        self == Purpose::Service
    }

    /// For rule messages and docs.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Service => "a long-running service",
            Purpose::OneShot => "a one-shot job",
            Purpose::InitHelper => "an init helper",
            Purpose::Toolbox => "a toolbox",
        }
    }
}

/// What a command line says about how long it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runs {
    /// It only keeps the container alive (`sleep infinity`, `tail -f /dev/null`), after at most
    /// some setup (installing packages, creating folders).
    KeepAlive,
    /// Its last step is a program that finishes (`echo`, `mc mb`, `go build`, `psql < x.sql`).
    ToCompletion,
    /// Anything else: a server, or a program this module does not know.
    Unknown,
}

/// How long `argv` runs. `argv` is the container's command line as the runtime starts it (a
/// Compose string command is split on blanks, as Compose does); `sh -c SCRIPT` is read as the
/// script's steps.
pub fn runs(argv: &[String]) -> Runs {
    let steps = steps(argv);
    let Some((last, before)) = steps.split_last() else {
        return Runs::Unknown;
    };
    if keep_alive(last) && before.iter().all(|s| setup(s)) {
        return Runs::KeepAlive;
    }
    if finite(last) {
        return Runs::ToCompletion;
    }
    Runs::Unknown
}

/// The steps of a command line: its shell script's commands (split on `&&`, `||`, `;`, `|` and
/// new lines) when it is `sh -c SCRIPT`, else the command line itself.
fn steps(argv: &[String]) -> Vec<Vec<String>> {
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let shells = ["sh", "bash", "ash", "dash", "zsh"];
    let script = match argv.as_slice() {
        [sh, flag, script, ..]
            if shells.contains(&base(sh)) && flag.starts_with('-') && flag.contains('c') =>
        {
            Some(*script)
        }
        _ => None,
    };
    let Some(script) = script else {
        let words = argv.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        return if words.is_empty() {
            vec![]
        } else {
            vec![words]
        };
    };
    script
        .replace("&&", "\n")
        .replace("||", "\n")
        .split(['\n', ';', '|'])
        .map(|s| {
            s.split_whitespace()
                .map(|w| w.trim_matches(|c| c == '"' || c == '\'').to_string())
                .collect::<Vec<_>>()
        })
        .filter(|w| !w.is_empty() && !w[0].starts_with('#'))
        .collect()
}

fn base(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

/// The program of a step, past `exec`, `env`, `VAR=value` prefixes and a `tini --` init.
fn program(step: &[String]) -> (&str, &[String]) {
    let mut i = 0;
    while i < step.len() {
        let w = step[i].as_str();
        let b = base(w);
        let wrapper = w == "exec" || b == "env" || b == "tini" || b == "dumb-init" || w == "--";
        let assignment = w.contains('=') && !w.starts_with('-') && !w.starts_with('=');
        if wrapper || assignment {
            i += 1;
        } else {
            return (b, &step[i + 1..]);
        }
    }
    ("", &[])
}

fn keep_alive(step: &[String]) -> bool {
    let (p, args) = program(step);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match p {
        "sleep" => match args.as_slice() {
            ["infinity" | "inf"] => true,
            // A day or more is a way of saying "forever".
            [n] => n
                .trim_end_matches('s')
                .parse::<u64>()
                .is_ok_and(|n| n >= 86_400),
            _ => false,
        },
        "tail" => args.contains(&"/dev/null") && args.iter().any(|a| a.starts_with("-f")),
        "cat" => args.is_empty(),
        _ => false,
    }
}

/// Steps that only prepare a toolbox: installing, creating, printing.
fn setup(step: &[String]) -> bool {
    let (p, _) = program(step);
    matches!(
        p,
        "apk"
            | "apt-get"
            | "apt"
            | "yum"
            | "dnf"
            | "microdnf"
            | "pip"
            | "pip3"
            | "npm"
            | "echo"
            | "printf"
            | "set"
            | "export"
            | "mkdir"
            | "cd"
            | "cp"
            | "chmod"
            | "chown"
            | "ln"
            | "touch"
            | "true"
    )
}

/// A step whose program finishes by itself.
fn finite(step: &[String]) -> bool {
    let (p, args) = program(step);
    let sub = args.first().map(String::as_str).unwrap_or("");
    match p {
        "echo" | "printf" | "cat" | "ls" | "true" | "false" | "exit" | "env" | "date" | "id"
        | "whoami" | "cp" | "rm" | "mv" | "mkdir" | "chmod" | "chown" | "tar" | "touch" | "mc"
        | "curl" | "wget" | "protoc" | "buf" | "kafka-topics" | "kafka-topics.sh" | "rpk"
        | "aws" | "gsutil" | "make" | "psql" | "mysql" | "mariadb" | "mongosh" | "mongo"
        | "mongoimport" | "mongorestore" | "pg_restore" | "sqlite3" | "migrate" | "goose"
        | "flyway" | "liquibase" | "sqlx" | "diesel" | "createdb" | "pg_dump" | "mysqldump"
        | "htpasswd" | "openssl" | "ssh-keygen" | "keytool" | "cockroach"
            if p != "cockroach" || sub == "init" =>
        {
            true
        }
        "sleep" => !keep_alive(step),
        "ping" => args.iter().any(|a| a == "-c" || a.starts_with("-c")),
        "go" => matches!(
            sub,
            "build" | "vet" | "test" | "generate" | "mod" | "install" | "get"
        ),
        "cargo" => matches!(
            sub,
            "build" | "test" | "check" | "fetch" | "install" | "clippy"
        ),
        "bazel" | "bazelisk" => matches!(sub, "build" | "test" | "fetch"),
        "npm" | "yarn" | "pnpm" => {
            matches!(sub, "ci" | "install" | "build" | "test")
                || (sub == "run" && args.get(1).is_some_and(|a| a.contains("build")))
        }
        "python" | "python3" => {
            sub == "-m" && args.get(1).is_some_and(|m| m.ends_with("protoc"))
                || args.iter().any(|a| a == "migrate")
        }
        _ => args.first().is_some_and(|a| a == "migrate") && args.len() <= 3,
    }
}

/// Words of a name (`airflow-init`, `prepare_mysql`, `createbuckets`) that say it runs once.
pub fn name_says_one_shot(name: &str) -> bool {
    name.to_ascii_lowercase()
        .split(|c: char| !c.is_ascii_alphabetic())
        .any(|w| {
            matches!(
                w,
                "init"
                    | "setup"
                    | "migrate"
                    | "migration"
                    | "migrations"
                    | "migrator"
                    | "seed"
                    | "seeder"
                    | "prepare"
                    | "bootstrap"
                    | "provision"
                    | "provisioner"
                    | "createbuckets"
                    | "compile"
                    | "installer"
            )
        })
}

/// A Compose-style command (a string split on blanks, or a list) as argv.
pub fn argv(node: &crate::yaml::Node) -> Vec<String> {
    if let Some(s) = node.as_str() {
        return split_words(s);
    }
    node.seq().iter().filter_map(|n| n.text()).collect()
}

/// Splits a command string as Compose does (shell-like quoting, no shell).
fn split_words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in s.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                any = true;
            }
            (None, c) if c.is_whitespace() => {
                if !cur.is_empty() || any {
                    out.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            (None, c) => cur.push(c),
        }
    }
    if !cur.is_empty() || any {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(cmd: &str) -> Runs {
        runs(&split_words(cmd))
    }

    #[test]
    fn keep_alive_commands() {
        assert_eq!(r("sleep infinity"), Runs::KeepAlive);
        assert_eq!(r("tail -f /dev/null"), Runs::KeepAlive);
        assert_eq!(r("sleep 9999999"), Runs::KeepAlive);
        assert_eq!(
            r("sh -c 'apk add curl && tail -f /dev/null'"),
            Runs::KeepAlive
        );
        // A daemon started in the background and kept alive is a service.
        assert_eq!(
            r("/bin/sh -c '/bin/start_vsftpd.sh && tail -f /dev/null'"),
            Runs::Unknown
        );
    }

    #[test]
    fn finite_commands() {
        assert_eq!(r("echo hello"), Runs::ToCompletion);
        assert_eq!(r("sleep 2"), Runs::ToCompletion);
        assert_eq!(
            r("/bin/sh -c 'mc alias set m http://minio:9000 a b; mc mb m/bucket; exit 0;'"),
            Runs::ToCompletion
        );
        assert_eq!(
            r("sh -c 'psql postgresql://db/x < prepare.sql'"),
            Runs::ToCompletion
        );
        assert_eq!(r("go build -o /out/x ."), Runs::ToCompletion);
        assert_eq!(r("go run ."), Runs::Unknown);
        assert_eq!(r("nginx -g 'daemon off;'"), Runs::Unknown);
        assert_eq!(r("--config /etc/x.conf"), Runs::Unknown);
        assert_eq!(
            r("python -m grpc.tools.protoc -I/p x.proto"),
            Runs::ToCompletion
        );
    }

    #[test]
    fn names() {
        assert!(name_says_one_shot("airflow-init"));
        assert!(name_says_one_shot("prepare_mysql"));
        assert!(name_says_one_shot("createbuckets"));
        assert!(!name_says_one_shot("datagen"));
        assert!(!name_says_one_shot("initiator"));
    }
}
