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
Flags an image that runs an application as root: its final stage's last `USER` is root (`root`,
`0`, `0:0`), or it sets no `USER` on a base that runs as root.

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
- No USER is set and the base image is another publisher's (it sets its own USER, which the
  Dockerfile does not show) or is given by `--build-arg`: the rule judges `scratch`, official
  images, distroless, Microsoft's and Red Hat's images, whose default user is known.
- Windows images (accounts, not uids), and a final stage built FROM another stage (it inherits
  that stage's USER).

## Example
```dockerfile
FROM gcr.io/distroless/static-debian12
COPY app /app
```

Use instead:
```dockerfile
FROM gcr.io/distroless/static-debian12
COPY app /app
USER 65532:65532
```

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
"#,
    check: Check::Dockerfile(check),
};

fn check(ctx: &DockerfileCtx<'_>) -> Vec<Finding> {
    let Some(s) = final_stage(ctx) else {
        return vec![];
    };
    // Windows images have accounts, not uids; root does not apply.
    if is_windows(ctx) {
        return vec![];
    }
    // A final stage built FROM another stage inherits its USER.
    if ctx
        .stages
        .iter()
        .any(|o| o.alias.as_deref() == Some(&s.base.to_ascii_lowercase()))
    {
        return vec![];
    }
    // A one-shot job runs the image's program as much as a service does.
    let purpose = ctx.purpose().0;
    if !(purpose.runs_app() || purpose == ImagePurpose::Job)
        || ctx.drops_privileges().is_some()
        || ctx.needs_root().is_some()
    {
        return vec![];
    }
    let last_user = body(ctx, s).filter(|i| i.is(Keyword::User)).last();
    match last_user {
        Some(u) if u.values().first().is_some_and(|v| is_root(v)) => {
            vec![at(
                ctx,
                u,
                "the final stage runs as root".into(),
                Some("`USER 65532:65532` (a numeric non-root user)".into()),
            )]
        }
        Some(_) => vec![],
        None if ctx.base_runs_as_root() => vec![at(
            ctx,
            &ctx.df.instructions[s.from],
            "the final stage sets no USER, so it runs as root".into(),
            Some("add `USER 65532:65532` before CMD/ENTRYPOINT".into()),
        )],
        None => vec![],
    }
}
