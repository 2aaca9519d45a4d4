//! Registry credentials: where they are found, stored and removed.
//!
//! Credentials come from where `docker login` and `podman login` leave them: Docker's
//! `config.json` (`$DOCKER_CONFIG` or `~/.docker`: `auths`, `credHelpers`, `credsStore`, through
//! the docker_credential crate, which runs `docker-credential-*` helpers), then podman's
//! `auth.json` (`$REGISTRY_AUTH_FILE`, `$XDG_RUNTIME_DIR/containers/auth.json`). Sending them is
//! the handshake's business ([`super::auth`]). A credential is never written into an error, a
//! log or a report: [`Secret`] prints as `***`.

use std::fmt;

use base64::Engine as _;

/// A value that must never be printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// What to authenticate with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    Anonymous,
    Basic {
        username: String,
        password: Secret,
    },
    /// An identity token (`docker login` with an OAuth2 flow): a refresh token for the realm.
    IdentityToken(Secret),
}

/// Why stored credentials could not be read: said when the registry then asks for them, so that
/// "log in first" is not the answer to a broken config.json or a missing helper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialProblem {
    pub message: String,
    pub path: Option<std::path::PathBuf>,
    pub line: Option<usize>,
    pub fix: String,
}

/// What a credential lookup found.
#[derive(Debug, Clone)]
pub struct Found {
    pub credential: Credential,
    /// Where it came from (`~/.docker/config.json`, `docker-credential-pass`), for messages.
    pub source: Option<String>,
    /// What could not be read on the way.
    pub problem: Option<CredentialProblem>,
}

/// Whether `prog` is an executable on PATH.
fn on_path(prog: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::env::var_os("PATH").is_some_and(|p| {
        std::env::split_paths(&p).any(|d| {
            std::fs::metadata(d.join(prog))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}

/// Docker's config.json, checked: `Ok(None)` when there is none, an error naming the line when
/// it is not JSON.
pub fn read_docker_config(
) -> Result<Option<(std::path::PathBuf, serde_json::Value)>, CredentialProblem> {
    let Some(path) = docker_config_path() else {
        return Ok(None);
    };
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(CredentialProblem {
                message: format!("{}: cannot be read ({e})", path.display()),
                path: Some(path),
                line: None,
                fix: "make it readable".into(),
            })
        }
    };
    match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(v) if v.is_object() => Ok(Some((path, v))),
        Ok(_) => Err(CredentialProblem {
            message: format!("{}: is not a JSON object", path.display()),
            path: Some(path.clone()),
            line: Some(1),
            fix: format!(
                "fix {} (or move it away), then log in again",
                path.display()
            ),
        }),
        Err(e) => Err(CredentialProblem {
            message: format!(
                "{}:{}:{}: is not valid JSON ({e})",
                path.display(),
                e.line(),
                e.column()
            ),
            path: Some(path.clone()),
            line: Some(e.line()),
            fix: format!(
                "fix {} at line {} (or move it away), then log in again",
                path.display(),
                e.line()
            ),
        }),
    }
}

/// The credential helper config.json names for `registry` (`credHelpers`, else `credsStore`),
/// and which key named it.
fn helper_for(config: &serde_json::Value, registry: &str) -> Option<(String, &'static str)> {
    if let Some(h) = config
        .get("credHelpers")
        .and_then(|h| h.get(registry))
        .and_then(|h| h.as_str())
    {
        return Some((h.to_string(), "credHelpers"));
    }
    config
        .get("credsStore")
        .and_then(|h| h.as_str())
        .filter(|h| !h.is_empty())
        .map(|h| (h.to_string(), "credsStore"))
}

impl Credential {
    /// The credential stored for `host` (`127.0.0.1:5000`, `ghcr.io`, `docker.io`), or
    /// anonymous when there is none.
    pub fn lookup(host: &str) -> Credential {
        Credential::find(host).credential
    }

    /// The credential stored for `host`, where it came from, and what could not be read.
    pub fn find(host: &str) -> Found {
        let keys = config_keys(host, "registry-1.docker.io");
        let mut problem = None;
        let mut docker_ok = true;
        match read_docker_config() {
            Ok(Some((path, config))) => {
                if let Some((h, key)) = keys.iter().find_map(|k| helper_for(&config, k)) {
                    let prog = format!("docker-credential-{h}");
                    if !on_path(&prog) {
                        docker_ok = false;
                        problem = Some(CredentialProblem {
                            message: format!(
                                "{} names the credential helper {prog} ({key}), which is not on PATH, so no stored credential could be read",
                                path.display()
                            ),
                            path: Some(path.clone()),
                            line: None,
                            fix: format!("install {prog}, or remove \"{key}\" from {} and log in again", path.display()),
                        });
                    }
                }
            }
            Ok(None) => {}
            Err(p) => {
                docker_ok = false;
                problem = Some(p);
            }
        }
        for k in &keys {
            let docker = if docker_ok {
                Some(docker_credential::get_credential(k))
            } else {
                None
            };
            for (found, from) in [
                (
                    docker,
                    docker_config_path().map(|p| p.display().to_string()),
                ),
                (
                    Some(docker_credential::get_podman_credential(k)),
                    Some("podman's auth.json".to_string()),
                ),
            ] {
                match found {
                    Some(Ok(docker_credential::DockerCredential::UsernamePassword(u, p))) => {
                        return Found {
                            credential: Credential::Basic {
                                username: u,
                                password: Secret(p),
                            },
                            source: from,
                            problem,
                        }
                    }
                    Some(Ok(docker_credential::DockerCredential::IdentityToken(t))) => {
                        return Found {
                            credential: Credential::IdentityToken(Secret(t)),
                            source: from,
                            problem,
                        }
                    }
                    Some(Err(
                        e @ (docker_credential::CredentialRetrievalError::HelperCommunicationError
                        | docker_credential::CredentialRetrievalError::MalformedHelperResponse
                        | docker_credential::CredentialRetrievalError::HelperFailure { .. }
                        | docker_credential::CredentialRetrievalError::CredentialDecodingError),
                    )) if problem.is_none() => {
                        problem = Some(CredentialProblem {
                            message: format!("reading the credential stored for {host}: {e}"),
                            path: docker_config_path(),
                            line: None,
                            fix: format!(
                                "log in again: drydock login {host} -u USER --password-stdin"
                            ),
                        });
                    }
                    _ => {}
                }
            }
        }
        Found {
            credential: Credential::Anonymous,
            source: None,
            problem,
        }
    }

    /// The `Authorization` header value for Basic auth, if this is a username and password.
    pub(crate) fn basic_header(&self) -> Option<String> {
        match self {
            Credential::Basic { username, password } => Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD
                    .encode(format!("{username}:{}", password.0))
            )),
            _ => None,
        }
    }
}

/// Where `docker login` keeps credentials: `$DOCKER_CONFIG/config.json`, else
/// `~/.docker/config.json`.
pub fn docker_config_path() -> Option<std::path::PathBuf> {
    std::env::var_os("DOCKER_CONFIG")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".docker")))
        .map(|d| d.join("config.json"))
}

/// Stores a username and password for `registry` as `docker login` does: through the
/// configured `credsStore` helper, or base64 in `auths` (the file written whole, mode 0600).
/// Returns where they went.
pub fn store_credential(
    registry: &str,
    username: &str,
    password: &Secret,
) -> Result<String, String> {
    let path = docker_config_path().ok_or("no home directory: set DOCKER_CONFIG")?;
    let mut config: serde_json::Value = match std::fs::read(&path) {
        Ok(b) => serde_json::from_slice(&b).map_err(|e| {
            format!(
                "{}: not JSON ({e}); fix or move it, then log in again",
                path.display()
            )
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => serde_json::json!({}),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    if !config.is_object() {
        return Err(format!(
            "{}: not a JSON object; fix or move it, then log in again",
            path.display()
        ));
    }
    let helper = config
        .get("credHelpers")
        .and_then(|h| h.get(registry))
        .or_else(|| config.get("credsStore"))
        .and_then(|h| h.as_str())
        .map(str::to_string);
    if let Some(h) = helper {
        let prog = format!("docker-credential-{h}");
        let mut child = std::process::Command::new(&prog)
            .arg("store")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| format!("{prog}: {e} (config.json names it as the credential store)"))?;
        let input =
            serde_json::json!({"ServerURL": registry, "Username": username, "Secret": password.0});
        if let Some(mut stdin) = child.stdin.take() {
            use std::io::Write;
            stdin
                .write_all(input.to_string().as_bytes())
                .map_err(|e| format!("{prog}: {e}"))?;
        }
        let out = child
            .wait_with_output()
            .map_err(|e| format!("{prog}: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "{prog} store failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        return Ok(prog);
    }
    let auth =
        base64::engine::general_purpose::STANDARD.encode(format!("{username}:{}", password.0));
    let obj = config.as_object_mut().expect("checked above");
    let auths = obj.entry("auths").or_insert_with(|| serde_json::json!({}));
    if !auths.is_object() {
        *auths = serde_json::json!({});
    }
    auths[registry] = serde_json::json!({ "auth": auth });
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let text = serde_json::to_vec_pretty(&config).map_err(|e| e.to_string())?;
    crate::fsutil::write_bytes_atomic_mode(&path, &text, 0o600)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path.display().to_string())
}

/// The keys docker's config.json may hold a registry's credential under: Docker Hub's own
/// (its v1 URL and names; `hub_alias` is the other name the caller knows it by), else the host
/// bare and as https:// and http:// URLs.
fn config_keys(host: &str, hub_alias: &str) -> Vec<String> {
    if host == "docker.io" || host == hub_alias {
        vec![
            "https://index.docker.io/v1/".into(),
            "docker.io".into(),
            "index.docker.io".into(),
        ]
    } else {
        vec![
            host.to_string(),
            format!("https://{host}"),
            format!("http://{host}"),
        ]
    }
}

/// Removes what `docker login` / `drydock login` stored for `registry`: through the credential
/// helper config.json names for it (`erase`), and its `auths` entry in config.json, which is
/// rewritten atomically with every other byte kept. Returns where it was removed from (empty
/// when nothing was stored).
pub fn remove_credential(registry: &str) -> Result<Vec<String>, CredentialProblem> {
    let mut removed = Vec::new();
    let Some((path, config)) = read_docker_config()? else {
        return Ok(removed);
    };
    let keys = config_keys(registry, "index.docker.io");
    let problem = |message: String, fix: String| CredentialProblem {
        message,
        path: Some(path.clone()),
        line: None,
        fix,
    };
    if let Some((h, key)) = helper_for(&config, registry) {
        let prog = format!("docker-credential-{h}");
        if !on_path(&prog) {
            return Err(problem(
                format!(
                    "{} names the credential helper {prog} ({key}), which is not on PATH",
                    path.display()
                ),
                format!(
                    "install {prog} to erase the credential it holds, or remove \"{key}\" from {}",
                    path.display()
                ),
            ));
        }
        for k in &keys {
            let mut child = std::process::Command::new(&prog)
                .arg("erase")
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .map_err(|e| problem(format!("{prog}: {e}"), format!("check that {prog} runs")))?;
            if let Some(mut stdin) = child.stdin.take() {
                use std::io::Write;
                let _ = stdin.write_all(k.as_bytes());
            }
            let out = child
                .wait_with_output()
                .map_err(|e| problem(format!("{prog}: {e}"), format!("check that {prog} runs")))?;
            let said = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            if out.status.success() {
                removed.push(format!("{prog} ({k})"));
            } else if !said.to_ascii_lowercase().contains("not found") {
                return Err(problem(
                    format!("{prog} erase {k} failed: {}", said.trim()),
                    format!("erase it with {prog} by hand"),
                ));
            }
        }
    }
    let mut text = std::fs::read_to_string(&path).map_err(|e| {
        problem(
            format!("{}: {e}", path.display()),
            "make it readable".into(),
        )
    })?;
    let mut changed = false;
    for k in &keys {
        if let Some(t) = json_remove_member(&text, "auths", k) {
            text = t;
            changed = true;
            removed.push(format!("{} ({k})", path.display()));
        }
    }
    if changed {
        let mode = {
            use std::os::unix::fs::PermissionsExt;
            std::fs::metadata(&path)
                .map(|m| m.permissions().mode() & 0o7777)
                .unwrap_or(0o600)
        };
        crate::fsutil::write_bytes_atomic_mode(&path, text.as_bytes(), mode).map_err(|e| {
            problem(
                format!("{}: cannot be rewritten ({e})", path.display()),
                "make its directory writable".into(),
            )
        })?;
    }
    Ok(removed)
}

/// `text` without the member `key` of the top-level object `outer`, every other byte kept;
/// `None` when there is no such member. The result is checked to parse as the same JSON minus
/// that member.
fn json_remove_member(text: &str, outer: &str, key: &str) -> Option<String> {
    let b = text.as_bytes();
    let ws = |mut i: usize| {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        i
    };
    // The end (exclusive) of the string starting at `i` (a `"`).
    let string_end = |mut i: usize| {
        i += 1;
        while i < b.len() {
            match b[i] {
                b'\\' => i += 2,
                b'"' => return Some(i + 1),
                _ => i += 1,
            }
        }
        None
    };
    let value_end = |i: usize| -> Option<usize> {
        match b.get(i)? {
            b'"' => string_end(i),
            b'{' | b'[' => {
                let mut depth = 0usize;
                let mut j = i;
                while j < b.len() {
                    match b[j] {
                        b'"' => {
                            j = string_end(j)?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                return Some(j + 1);
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
                None
            }
            _ => {
                let mut j = i;
                while j < b.len()
                    && !matches!(b[j], b',' | b'}' | b']')
                    && !b[j].is_ascii_whitespace()
                {
                    j += 1;
                }
                Some(j)
            }
        }
    };
    // Members of the object at `open`: (key, key start, value end).
    let members = |open: usize| -> Option<Vec<(String, usize, usize)>> {
        let mut out = Vec::new();
        let mut i = ws(open + 1);
        if b.get(i) == Some(&b'}') {
            return Some(out);
        }
        loop {
            let ks = i;
            let ke = string_end(ks)?;
            let k: String = serde_json::from_str(&text[ks..ke]).ok()?;
            i = ws(ke);
            if b.get(i) != Some(&b':') {
                return None;
            }
            let vs = ws(i + 1);
            let ve = value_end(vs)?;
            out.push((k, ks, ve));
            i = ws(ve);
            match b.get(i)? {
                b',' => i = ws(i + 1),
                b'}' => return Some(out),
                _ => return None,
            }
        }
    };
    let top = members(ws(0))?;
    let (_, ks, ve) = top.iter().find(|(k, _, _)| k == outer)?;
    let colon = ws(ks + string_end(*ks)? - ks);
    let open = ws(colon + 1);
    if b.get(open) != Some(&b'{') || value_end(open)? != *ve {
        return None;
    }
    let inner = members(open)?;
    let j = inner.iter().position(|(k, _, _)| k == key)?;
    let (start, end) = if inner.len() == 1 {
        (inner[0].1, inner[0].2)
    } else if j + 1 < inner.len() {
        (inner[j].1, inner[j + 1].1)
    } else {
        (inner[j - 1].2, inner[j].2)
    };
    let out = format!("{}{}", &text[..start], &text[end..]);
    // Checked: the same document, minus that member.
    let mut want: serde_json::Value = serde_json::from_str(text).ok()?;
    want.get_mut(outer)?.as_object_mut()?.remove(key);
    let got: serde_json::Value = serde_json::from_str(&out).ok()?;
    (got == want).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_is_removed_with_every_other_byte_kept() {
        let text = "{\n\t\"auths\": {\n\t\t\"a:1\": {\n\t\t\t\"auth\": \"eDp5\"\n\t\t},\n\t\t\"b:2\": {\"auth\": \"e30=\"}\n\t},\n\t\"x\": [1, \"}\"]\n}\n";
        let out = json_remove_member(text, "auths", "a:1").unwrap();
        assert_eq!(
            out,
            "{\n\t\"auths\": {\n\t\t\"b:2\": {\"auth\": \"e30=\"}\n\t},\n\t\"x\": [1, \"}\"]\n}\n"
        );
        let out = json_remove_member(text, "auths", "b:2").unwrap();
        assert_eq!(out, "{\n\t\"auths\": {\n\t\t\"a:1\": {\n\t\t\t\"auth\": \"eDp5\"\n\t\t}\n\t},\n\t\"x\": [1, \"}\"]\n}\n");
        assert_eq!(json_remove_member(text, "auths", "c:3"), None);
        let one = "{\"auths\": {\"a\": {}}, \"k\": 1}";
        assert_eq!(
            json_remove_member(one, "auths", "a").unwrap(),
            "{\"auths\": {}, \"k\": 1}"
        );
    }

    #[test]
    fn secrets_never_print() {
        let c = Credential::Basic {
            username: "u".into(),
            password: Secret("hunter2".into()),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
        assert_eq!(c.basic_header().unwrap(), "Basic dTpodW50ZXIy");
    }
}
