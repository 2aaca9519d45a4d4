use super::at_word;
use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::view::DockerfileCtx;
use drydock_dockerfile::Keyword;

pub static RULE: Rule = Rule {
    code: "DF011",
    name: "invalid-expose",
    practice: "P9",
    severity: Severity::Error,
    hadolint: &["DL3011"],
    pod_security: None,
    doc: r#"
## What it does
Flags `EXPOSE` of ports outside 1–65535 and of malformed ports (errors), and notes more than one
port in the final stage (info: `EXPOSE 80 443` is valid, but a service usually serves one).

## Why is this bad?
An invalid port fails the build or the run. Every extra exposed port is one more way in: `-P`
publishes them all, and readers assume each is meant to be reachable. A service exposes its one
service port.

## When it does not apply
A port written as a variable (`EXPOSE $PORT`) is not judged; ranges (`8000-8010`) and `/tcp`,
`/udp` or `/sctp` are valid. The note about several ports counts only the EXPOSEs of the final
stage itself, not those of earlier stages or of a stage it is built FROM. Invalid ports are
errors in every stage.

## Example
```dockerfile
EXPOSE 8080 9090 70000
```

Use instead:
```dockerfile
EXPOSE 8080
```

## References
- https://docs.docker.com/reference/dockerfile/#expose
"#,
    check: Check::Dockerfile(check),
};

fn valid(p: &str) -> bool {
    let (port, proto) = p.split_once('/').unwrap_or((p, "tcp"));
    let ok_proto = matches!(proto.to_ascii_lowercase().as_str(), "tcp" | "udp" | "sctp");
    let ok_port = |s: &str| s.parse::<u32>().is_ok_and(|n| (1..=65535).contains(&n));
    ok_proto
        && match port.split_once('-') {
            Some((a, b)) => ok_port(a) && ok_port(b),
            None => port.starts_with('$') || ok_port(port),
        }
}

fn check(ctx: &DockerfileCtx<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let final_from = ctx.stages.last().map(|s| s.from);
    let mut final_ports = Vec::new();
    for (idx, ins) in ctx.df.instructions.iter().enumerate() {
        if !ins.is(Keyword::Expose) {
            continue;
        }
        let in_final =
            ctx.stages.last().is_some_and(|s| s.body.contains(&idx)) && final_from.is_some();
        for p in ins.values() {
            if !valid(p) {
                out.push(at_word(
                    ctx,
                    ins,
                    p,
                    format!("`{p}` is not a valid port (1-65535, optionally /tcp or /udp)"),
                    None,
                ));
            } else if in_final {
                final_ports.push((ins, p));
            }
        }
    }
    if final_ports.len() > 1 {
        // Valid, and common (`EXPOSE 80 443`): a note, never an error.
        for (ins, p) in &final_ports[1..] {
            out.push(
                at_word(
                    ctx,
                    ins,
                    p,
                    format!(
                        "`{p}` is exposed besides `{}`: a service usually listens on one port",
                        final_ports[0].1
                    ),
                    Some("expose only the ports the service really serves".into()),
                )
                .downgraded(crate::diagnostic::Severity::Info),
            );
        }
    }
    out
}
