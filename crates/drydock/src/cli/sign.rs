//! `drydock keygen`, `drydock sign` and `drydock verify`: cosign-compatible keys and
//! signatures (the work is in `drydock::sign`). The password comes from DRYDOCK_KEY_PASSWORD,
//! else stdin (a terminal prompt without echo); it is never printed.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use drydock::attest;
use drydock::config::Requirement;
use drydock::error::{ErrorKind, Failure};
use drydock::reference::Reference;
use drydock::sign::keys::{self, Password};
use drydock::sign::{remote, SignError};
use drydock::ui::Ui;
use drydock_oci::pull::RegistrySource;
use drydock_oci::registry::Client;
use drydock_oci::Digest;

use super::args::{Format, KeygenArgs, SignArgs, VerifyArgs};
use super::{failure, out, out_json, Outcome};

pub const PASSWORD_ENV: &str = "DRYDOCK_KEY_PASSWORD";

/// The key password: the environment variable, else a prompt on a terminal (asked twice when
/// `confirm`), else all of stdin less one trailing newline (an empty stdin is an error).
fn password(confirm: bool) -> Result<Password, SignError> {
    if let Ok(p) = std::env::var(PASSWORD_ENV) {
        return Ok(Password::new(p));
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        let p = prompt("Enter password for private key: ")?;
        if confirm {
            let again = prompt("Enter password for private key again: ")?;
            if again.as_bytes() != p.as_bytes() {
                return Err(SignError::Password("the two passwords differ".into()));
            }
        }
        return Ok(p);
    }
    let mut s = String::new();
    stdin
        .lock()
        .read_to_string(&mut s)
        .map_err(|e| SignError::Password(format!("stdin: {e}")))?;
    // Nothing at all on stdin (a closed or empty one, as in CI) is a missing password, not an
    // empty one: an empty password is asked for with DRYDOCK_KEY_PASSWORD="" or a bare newline.
    if s.is_empty() {
        return Err(SignError::Password(format!(
            "{PASSWORD_ENV} is not set and stdin is empty"
        )));
    }
    if s.ends_with('\n') {
        s.pop();
        if s.ends_with('\r') {
            s.pop();
        }
    }
    Ok(Password::new(s))
}

/// One line from the terminal with echo off (restored even when reading fails).
fn prompt(text: &str) -> Result<Password, SignError> {
    let err = |e: std::io::Error| SignError::Password(format!("the terminal: {e}"));
    let mut stderr = std::io::stderr();
    let _ = stderr.write_all(text.as_bytes());
    let _ = stderr.flush();
    let fd = libc::STDIN_FILENO;
    // SAFETY: termios is plain data; tcgetattr fills it for a terminal fd.
    let mut old: libc::termios = unsafe { std::mem::zeroed() };
    if unsafe { libc::tcgetattr(fd, &mut old) } != 0 {
        return Err(err(std::io::Error::last_os_error()));
    }
    let mut quiet = old;
    quiet.c_lflag &= !libc::ECHO;
    quiet.c_lflag |= libc::ECHONL;
    // SAFETY: a termios read from the same fd, with echo cleared.
    unsafe { libc::tcsetattr(fd, libc::TCSANOW, &quiet) };
    let mut line = String::new();
    let r = std::io::stdin().read_line(&mut line);
    // SAFETY: restores what tcgetattr returned.
    unsafe { libc::tcsetattr(fd, libc::TCSANOW, &old) };
    r.map_err(err)?;
    let p = Password::new(line.trim_end_matches(['\n', '\r']).to_string());
    zeroize::Zeroize::zeroize(&mut line);
    Ok(p)
}

pub fn keygen(a: KeygenArgs, ui: &Ui) -> Outcome {
    let private = PathBuf::from(format!("{}.key", a.output_key_prefix));
    let public = PathBuf::from(format!("{}.pub", a.output_key_prefix));
    for p in [&private, &public] {
        if p.symlink_metadata().is_ok() {
            return Err(failure(SignError::Exists(p.clone())));
        }
    }
    let pw = password(true).map_err(failure)?;
    let pair = keys::generate(&pw).map_err(failure)?;
    keys::write_new(&private, pair.private_pem.as_bytes(), 0o600).map_err(failure)?;
    if let Err(e) = keys::write_new(&public, pair.public_pem.as_bytes(), 0o644) {
        // Never leave half a pair: the private key was ours, written a moment ago.
        let _ = std::fs::remove_file(&private);
        return Err(failure(e));
    }
    match a.format {
        Format::Json => out_json(&serde_json::json!({
            "private_key": private, "public_key": public,
        })),
        Format::Text if !ui.quiet => {
            out(&format!(
                "Private key written to {}\nPublic key written to {}\n",
                private.display(),
                public.display()
            ));
            Ok(0)
        }
        Format::Text => Ok(0),
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| {
        Failure::new(ErrorKind::Input, format!("{}: {e}", path.display()))
            .with_fix("name a readable key file")
    })
}

fn connect(
    reference: &str,
    a: &super::args::RegistryArgs,
) -> Result<(Reference, Client, Digest), Failure> {
    let r = Reference::parse(reference).map_err(failure)?;
    let client = Client::connect(r.registry(), a.options()).map_err(failure)?;
    let at = r.digest().or(r.tag()).unwrap_or("latest").to_string();
    let digest = remote::resolve(&client, r.repository(), &at).map_err(failure)?;
    Ok((r, client, digest))
}

/// The private key at `path`, decrypted with the password (never printed).
pub fn private_key(path: &Path) -> Result<p256::ecdsa::SigningKey, Failure> {
    let pem = read_file(path)?;
    let pw = password(false).map_err(failure)?;
    keys::parse_private(&pem, &pw, path).map_err(failure)
}

pub fn sign(a: SignArgs, ui: &Ui) -> Outcome {
    let key = private_key(&a.key)?;
    let (r, client, digest) = connect(&a.reference, &a.registry)?;
    let step = ui.step(&format!("signing {r}"));
    let signed = remote::sign(&client, r.repository(), &digest, &key).map_err(failure)?;
    drop(step);
    match a.format {
        Format::Json => out_json(&signed),
        Format::Text if !ui.quiet => {
            out(&format!(
                "{} {}\n  signature {}\n",
                if signed.added {
                    "signed"
                } else {
                    "already signed with this key:"
                },
                signed.image,
                signed.signature
            ));
            Ok(0)
        }
        Format::Text => Ok(0),
    }
}

/// The keys and requirements: the flags, else drydock.toml's [verify] (keys relative to it),
/// else every requirement.
fn policy(a: &VerifyArgs) -> Result<(Vec<PathBuf>, Vec<Requirement>), Failure> {
    let config = if a.key.is_empty() || a.require.is_empty() {
        Some(drydock::config::Config::load(&a.dir).map_err(failure)?.0)
    } else {
        None
    };
    let keys = if a.key.is_empty() {
        let keys: Vec<PathBuf> = config
            .as_ref()
            .map(|c| c.verify.keys.iter().map(|k| a.dir.join(k)).collect())
            .unwrap_or_default();
        if keys.is_empty() {
            return Err(
                Failure::new(ErrorKind::Usage, "no public key to verify with".to_string())
                    .with_fix("give --key PUB, or list keys under [verify] in drydock.toml"),
            );
        }
        keys
    } else {
        a.key.clone()
    };
    let mut require = if a.require.is_empty() {
        config.and_then(|c| c.verify.require).unwrap_or_else(|| {
            vec![
                Requirement::Signature,
                Requirement::Sbom,
                Requirement::Provenance,
            ]
        })
    } else {
        a.require.clone()
    };
    require.sort();
    require.dedup();
    if require.is_empty() {
        // Only drydock.toml can say this (clap needs a value for --require).
        return Err(Failure::new(
            ErrorKind::Config,
            "[verify] require is empty: verify would accept any image".to_string(),
        )
        .with_fix(
            "list what must be signed: require = [\"signature\", \"sbom\", \"provenance\"]",
        ));
    }
    Ok((keys, require))
}

pub fn verify(a: VerifyArgs, ui: &Ui) -> Outcome {
    let (key_paths, require) = policy(&a)?;
    let mut keys = Vec::new();
    for p in &key_paths {
        keys.push(keys::parse_public(&read_file(p)?, p).map_err(failure)?);
    }
    let r = Reference::parse(&a.reference).map_err(failure)?;
    let source = RegistrySource::new(&r, a.registry.options());
    let client = source.client().map_err(failure)?;
    let at = r.digest().or(r.tag()).unwrap_or("latest").to_string();
    let digest = remote::resolve(client, r.repository(), &at).map_err(failure)?;

    // The signature: the first key that vouches, else what the first key found.
    let mut signature = None;
    for (k, path) in keys.iter().zip(&key_paths) {
        let v = remote::verify(client, r.repository(), &digest, k).map_err(failure)?;
        let ok = v.ok();
        if signature.is_none() || ok {
            signature = Some((v, path.clone()));
        }
        if ok {
            break;
        }
    }
    let Some((sig, sig_key)) = signature else {
        return Err(Failure::new(ErrorKind::Usage, "no public key".to_string()));
    };
    let wants = |w: Requirement| require.contains(&w);
    let (sbom, provenance) = if wants(Requirement::Sbom) || wants(Requirement::Provenance) {
        let (envelopes, plain) = attest::fetch(&source, &digest).map_err(failure)?;
        let (s, p) = attest::judge(&envelopes, plain, &digest, &keys);
        (Some(s), Some(p))
    } else {
        (None, None)
    };
    let ok = (!wants(Requirement::Signature) || sig.ok())
        && (!wants(Requirement::Sbom) || sbom.as_ref().is_some_and(attest::Finding::ok))
        && (!wants(Requirement::Provenance)
            || provenance.as_ref().is_some_and(attest::Finding::ok));
    let code = if ok { 0 } else { 1 };
    match a.format {
        Format::Json => {
            out_json(&serde_json::json!({
                "verified": ok, "image": sig.image, "required": require,
                "signature": sig.signature, "found": sig.found, "signatures": sig.checked,
                "signature_verified": sig.ok(),
                "sbom": sbom, "provenance": provenance,
            }))?;
        }
        Format::Text => {
            let mut lines = Vec::new();
            if wants(Requirement::Signature) {
                lines.push(if sig.ok() {
                    format!("  signature: signed with {}", sig_key.display())
                } else if !sig.found {
                    format!(
                        "  signature: not signed (no {}); sign it with `drydock sign {} --key KEY`",
                        sig.signature, a.reference
                    )
                } else {
                    let why: Vec<String> = sig
                        .checked
                        .iter()
                        .map(|c| {
                            format!(
                                "{}: {}",
                                c.payload,
                                c.rejected.as_deref().unwrap_or("valid")
                            )
                        })
                        .collect();
                    format!(
                        "  signature: no signature by the keys vouches for it ({})",
                        why.join("; ")
                    )
                });
            }
            for f in [&sbom, &provenance].into_iter().flatten() {
                let wanted = match f.what {
                    "sbom" => wants(Requirement::Sbom),
                    _ => wants(Requirement::Provenance),
                };
                if !wanted {
                    continue;
                }
                let unsigned = match f.unsigned_documents {
                    0 => String::new(),
                    1 => "; 1 unsigned SBOM beside it".into(),
                    n => format!("; {n} unsigned SBOMs beside it"),
                };
                lines.push(match (&f.verified, f.found) {
                    (Some(at), _) => format!("  {}: signed, at {at}", f.what),
                    (None, 0) => format!(
                        "  {}: no signed attestation found{unsigned}; build with `drydock build --push REF --sbom spdx --sign KEY`",
                        f.what
                    ),
                    (None, n) => format!(
                        "  {}: {n} attestation{} found, none signed by the keys for this digest{unsigned} ({})",
                        f.what,
                        if n == 1 { "" } else { "s" },
                        f.problems.join("; ")
                    ),
                });
            }
            if ok {
                if !ui.quiet {
                    out(&format!("verified {}\n{}\n", sig.image, lines.join("\n")));
                }
            } else {
                super::error_line(
                    ui,
                    &format!("{}: not verified\n{}", sig.image, lines.join("\n")),
                );
            }
        }
    }
    Ok(code)
}
