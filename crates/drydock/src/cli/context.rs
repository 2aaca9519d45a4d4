//! `drydock context`.

use std::path::Path;

use drydock::context::{self, EntryKind};
use drydock::ui::{human_bytes as human, Ui};

use super::args::Format;
use super::{failure, out, out_json, Outcome};

pub fn run(dir: &Path, format: Format, ui: &Ui) -> Outcome {
    let (root, _) = drydock::project::find_root(dir).map_err(failure)?;
    let (cfg, _) = drydock::config::Config::load(&root).map_err(failure)?;
    let ctx = context::load(&root, &cfg.context.allow_secrets).map_err(failure)?;
    if !ctx.secrets_excluded.is_empty() {
        ui.warn(&format!(
            "left out because they look like secrets: {}",
            ctx.secrets_excluded.join(", ")
        ));
    }
    if !ctx.special_skipped.is_empty() {
        ui.warn(&format!(
            "not in the context (sockets, FIFOs or devices, which docker build does not send either): {}",
            ctx.special_skipped.join(", ")
        ));
    }
    if format == Format::Json {
        return out_json(&serde_json::json!({
            "root": ctx.root,
            "dockerignore": ctx.dockerignore,
            "files": ctx.file_count(),
            "total_size": ctx.total_size(),
            "entries": ctx.entries,
            "secrets_excluded": ctx.secrets_excluded,
            "secrets_allowed": ctx.secrets_allowed,
            "special_skipped": ctx.special_skipped,
        }));
    }
    let mut s = String::new();
    for e in &ctx.entries {
        match &e.kind {
            EntryKind::File { size, .. } => {
                s.push_str(&format!("{:>10}  {}\n", human(*size), e.path))
            }
            EntryKind::Dir => s.push_str(&format!("{:>10}  {}/\n", "", e.path)),
            EntryKind::Symlink { target } => {
                s.push_str(&format!("{:>10}  {} -> {target}\n", "", e.path))
            }
        }
        // Stream large listings instead of holding them.
        if s.len() > 1 << 16 {
            out(&s);
            s.clear();
        }
    }
    if !ui.quiet {
        s.push_str(&format!(
            "{} files, {} in the context{}\n",
            ctx.file_count(),
            human(ctx.total_size()),
            if ctx.dockerignore.is_some() {
                ""
            } else {
                " (no .dockerignore)"
            }
        ));
        let largest = ctx
            .entries
            .iter()
            .filter_map(|e| match e.kind {
                EntryKind::File { size, .. } => Some((size, e.path.as_str())),
                _ => None,
            })
            .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(a.1)));
        if let Some((size, path)) = largest {
            s.push_str(&format!("largest: {path} ({})\n", human(size)));
        }
    }
    out(&s);
    Ok(0)
}
