//! `drydock init`.

use drydock::init::{init, InitOptions};
use drydock::ui::Ui;

use super::args::{Format, InitArgs};
use super::{failure, out, out_json, Outcome};

pub fn run(a: InitArgs, ui: &Ui) -> Outcome {
    let r = init(&InitOptions {
        dir: a.dir,
        force: a.force,
        port: a.port,
        main: a.main,
        language: a.language,
    })
    .map_err(failure)?;
    for w in r.secret_files.iter().filter_map(|f| f.warning()) {
        ui.warn(&w);
    }
    if a.format == Format::Json {
        return out_json(&r);
    }
    if ui.quiet {
        return Ok(0);
    }
    let language = match r.language {
        drydock::config::Language::Go => "Go",
        drydock::config::Language::Rust => "Rust",
    };
    let gin = if r.gin { ", Gin" } else { "" };
    let mut s = if r.images.is_empty() {
        format!("{language} project {} (main {}{gin})\n", r.name, r.main)
    } else {
        format!(
            "{language} project {} ({} images{gin})\n",
            r.name,
            r.images.len()
        )
    };
    for i in &r.images {
        s.push_str(&format!(
            "image {} (main {}, port {})\n",
            i.name, i.main, i.port
        ));
    }
    for d in &r.detection {
        s.push_str(&format!("{d}\n"));
    }
    if !r.assets.is_empty() {
        s.push_str(&format!("assets: {}\n", r.assets.join(", ")));
    }
    if !r.secrets.is_empty() {
        s.push_str(&format!(
            "secrets, by reference: {}\n",
            r.secrets.join(", ")
        ));
        for f in &r.secret_files {
            s.push_str(&format!("  {}: {}\n", f.env, f.delivery()));
        }
    }
    for w in &r.written {
        s.push_str(&format!("wrote {}\n", w.display()));
    }
    for k in &r.kept {
        s.push_str(&format!(
            "kept {} (it exists; --force replaces it)\n",
            k.display()
        ));
    }
    out(&s);
    Ok(0)
}
