//! `drydock cache prune`.

use drydock::ui::{human_bytes, Ui};

use super::args::{Format, PruneArgs};
use super::{failure, out, out_json, Outcome};

pub fn prune(a: PruneArgs, ui: &Ui) -> Outcome {
    let older_than = (!a.all).then_some(a.older_than);
    let r = drydock::cache::prune(
        a.cache_dir.as_deref(),
        older_than,
        || ui.note("waiting for the drydock builds that are using the cache to finish…"),
        drydock::compile::fingerprint::entry_binary,
    )
    .map_err(failure)?;
    if a.format == Format::Json {
        return out_json(&r);
    }
    if !ui.quiet {
        out(&format!(
            "pruned {}: {} freed ({} blobs, {} layer entries, {} build stages, {} temporary files); kept {} blobs, {}\n",
            r.cache_dir.display(),
            human_bytes(r.bytes_freed),
            r.removed_blobs,
            r.removed_layer_entries,
            r.removed_stage_dirs,
            r.removed_temp_files,
            r.kept_blobs,
            human_bytes(r.kept_bytes),
        ));
    }
    Ok(0)
}
