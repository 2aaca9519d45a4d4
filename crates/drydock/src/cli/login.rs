//! `drydock login` and `drydock logout`.

use std::io::Read;

use drydock::ui::Ui;
use drydock_oci::registry::auth::{remove_credential, store_credential, Credential, Secret};
use drydock_oci::registry::Client;

use super::args::LoginArgs;
use super::{out, Outcome};
use drydock::error::{ErrorKind, Failure};

pub fn run(a: LoginArgs, ui: &Ui) -> Outcome {
    let mut password = String::new();
    std::io::stdin()
        .read_to_string(&mut password)
        .map_err(|e| {
            Failure::new(
                ErrorKind::Input,
                format!("reading the password from standard input: {e}"),
            )
        })?;
    let password = Secret(password.trim_end_matches(['\n', '\r']).to_string());
    if password.0.is_empty() {
        return Err(
            Failure::new(ErrorKind::Usage, "no password on standard input").with_fix(
                "pipe it in: printf '%s' \"$PASSWORD\" | drydock login REGISTRY -u USER --password-stdin",
            ),
        );
    }
    let mut options = a.registry_args.options();
    options.credential = Some(Credential::Basic {
        username: a.username.clone(),
        password: password.clone(),
    });
    let client = Client::connect(&a.registry, options).map_err(super::failure)?;
    client.check_login().map_err(super::failure)?;
    let place = store_credential(&a.registry, &a.username, &password)
        .map_err(|e| Failure::new(ErrorKind::Failed, e))?;
    if !ui.quiet {
        out(&format!(
            "logged in to {} as {}; credentials in {place}\n",
            a.registry, a.username
        ));
    }
    Ok(0)
}

pub fn logout(registry: Option<&str>, ui: &Ui) -> Outcome {
    let registry = registry.unwrap_or("docker.io");
    let removed = remove_credential(registry).map_err(|p| Failure {
        path: p.path,
        line: p.line,
        ..Failure::new(ErrorKind::Config, p.message).with_fix(p.fix)
    })?;
    if !ui.quiet {
        if removed.is_empty() {
            out(&format!(
                "not logged in to {registry}: no credentials stored for it (nothing removed)\n"
            ));
        } else {
            out(&format!(
                "logged out of {registry}: removed from {}\n",
                removed.join(", ")
            ));
        }
    }
    Ok(0)
}
