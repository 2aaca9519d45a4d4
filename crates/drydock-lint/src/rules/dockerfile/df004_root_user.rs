use super::{at, body, final_stage, is_windows};
use crate::diagnostic::{Finding, Severity};
use crate::rule::{Check, Rule};
use crate::rules::helpers::is_root;
use crate::view::{DockerfileCtx, ImagePurpose};
use drydock_dockerfile::Keyword;

pub static RULE: Rule = Rule {
    code: "DF004",
    name: "runs-as-root",
    practice: "P11",
    severity: Severity::Error,
    hadolint: &["DL3002"],
    pod_security: None,
    doc: r#"
## What it does
Flags an image that runs an application as root by its own word: its final stage's last `USER`
is root (`root`, `0`, `0:0`). An image that sets no `USER` at all is DF024's (opt-in).

## Why is this bad?
A process that runs as root in the container is root on the host's kernel: a container escape
or a writable host mount becomes a host compromise. Kubernetes' `runAsNonRoot` refuses such
images.

## When it does not apply
- The image is not an application (the shared judgement of what an image is for, from its final
  stage): a base image to build upon (no ENTRYPOINT, CMD or EXPOSE, or a bare shell or
  interpreter as its command) or a tool (a command-line program as ENTRYPOINT, a build or CI
  image on a toolchain, an image idling for `docker exec`). Services, one-shot jobs (tests, a
  migration, a batch job) and programs that are none of these are checked.
- It drops root by itself, as far as the Dockerfile shows: it installs or calls gosu, su-exec,
  setpriv, s6-setuidgid, runuser, `chroot --userspec` or `su -c`; a daemon is configured with
  its user (`APACHE_RUN_USER`, `user =` in a php-fpm pool, `user=` for mysqld, nginx's `user`
  directive); or it keeps the command of a server image whose master process switches user
  (nginx, httpd, php-fpm, postgres, mysql, redis…).
- It needs root by nature: a VPN's tun device, raw sockets, a packet filter, a Docker daemon
  (openvpn, wireguard, tailscale, iptables, tcpdump, nmap, dockerd…).
- Windows images (accounts, not uids), and a final stage built FROM another stage (it inherits
  that stage's USER).

## Example
```dockerfile
FROM debian:12-slim
COPY app /app
USER root
CMD ["/app"]
```

Use instead:
```dockerfile
FROM debian:12-slim
COPY app /app
USER 65532:65532
CMD ["/app"]
```

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
"#,
    check: Check::Dockerfile(check),
};

fn check(ctx: &DockerfileCtx<'_>) -> Vec<Finding> {
    match judge(ctx) {
        Some(Root::Written(f)) => vec![f],
        _ => vec![],
    }
}

/// How an application image comes to run as root, with the finding that says so.
pub(super) enum Root {
    /// Its last USER is root (DF004).
    Written(Finding),
    /// It sets no USER on a base that runs as root (DF024).
    Unset(Finding),
}

/// The one judgement of DF004 and DF024: whether the image runs an application as root, after
/// every exemption both rules document.
pub(super) fn judge(ctx: &DockerfileCtx<'_>) -> Option<Root> {
    let s = final_stage(ctx)?;
    // Windows images have accounts, not uids; root does not apply.
    if is_windows(ctx) {
        return None;
    }
    // A final stage built FROM another stage inherits its USER.
    if ctx
        .stages
        .iter()
        .any(|o| o.alias.as_deref() == Some(&s.base.to_ascii_lowercase()))
    {
        return None;
    }
    // A one-shot job runs the image's program as much as a service does.
    let purpose = ctx.purpose().0;
    if !(purpose.runs_app() || purpose == ImagePurpose::Job)
        || ctx.drops_privileges().is_some()
        || ctx.needs_root().is_some()
    {
        return None;
    }
    let last_user = body(ctx, s).filter(|i| i.is(Keyword::User)).last();
    match last_user {
        Some(u) if u.values().first().is_some_and(|v| is_root(v)) => Some(Root::Written(at(
            ctx,
            u,
            "the final stage runs as root".into(),
            Some("`USER 65532:65532` (a numeric non-root user)".into()),
        ))),
        Some(_) => None,
        None if ctx.base_runs_as_root() => Some(Root::Unset(at(
            ctx,
            &ctx.df.instructions[s.from],
            "the final stage sets no USER, so it runs as root".into(),
            Some("add `USER 65532:65532` before CMD/ENTRYPOINT".into()),
        ))),
        None => None,
    }
}
