//! `drydock keygen`, `drydock sign` and `drydock verify`: cosign-compatible keys and
//! signatures (the work is in `drydock::sign`). The password comes from DRYDOCK_KEY_PASSWORD,
//! else stdin (a terminal prompt without echo); it is never printed.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use drydock::error::{ErrorKind, Failure};
use drydock::reference::Reference;
use drydock::sign::keys::{self, Password};
use drydock::sign::{remote, SignError};
use drydock::ui::Ui;
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

pub fn sign(a: SignArgs, ui: &Ui) -> Outcome {
    let pem = read_file(&a.key)?;
    let pw = password(false).map_err(failure)?;
    let key = keys::parse_private(&pem, &pw, &a.key).map_err(failure)?;
    drop(pw);
    let (r, client, digest) = connect(&a.reference, &a.registry)?;
    let step = ui.step(&format!("signing {r}"));
    let signed = remote::sign(&client, r.repository(), &digest, &key).map_err(failure)?;
    drop(step);
    match a.format {
        Format::Json => out_json(&signed),
        Format::Text if !ui.quiet => {
            out(&format!(
                "signed {}\n  signature {}\n",
                signed.image, signed.signature
            ));
            Ok(0)
        }
        Format::Text => Ok(0),
    }
}

pub fn verify(a: VerifyArgs, ui: &Ui) -> Outcome {
    let pem = read_file(&a.key)?;
    let key = keys::parse_public(&pem, &a.key).map_err(failure)?;
    let (r, client, digest) = connect(&a.reference, &a.registry)?;
    let v = remote::verify(&client, r.repository(), &digest, &key).map_err(failure)?;
    let code = if v.ok() { 0 } else { 1 };
    match a.format {
        Format::Json => {
            out_json(&serde_json::json!({
                "verified": v.ok(), "image": v.image, "signature": v.signature,
                "found": v.found, "signatures": v.checked,
            }))?;
        }
        Format::Text => {
            if v.ok() {
                if !ui.quiet {
                    out(&format!(
                        "verified {}\n  signed with {}\n",
                        v.image,
                        a.key.display()
                    ));
                }
            } else if !v.found {
                super::error_line(
                    ui,
                    &format!(
                        "{}: not signed (no {})\n  fix: sign it with `drydock sign {} --key KEY`",
                        v.image, v.signature, a.reference
                    ),
                );
            } else {
                let why: Vec<String> = v
                    .checked
                    .iter()
                    .map(|c| {
                        format!(
                            "  {}: {}",
                            c.payload,
                            c.rejected.as_deref().unwrap_or("valid")
                        )
                    })
                    .collect();
                super::error_line(
                    ui,
                    &format!(
                        "{}: no signature by {} vouches for it\n{}",
                        v.image,
                        a.key.display(),
                        why.join("\n")
                    ),
                );
            }
        }
    }
    Ok(code)
}
