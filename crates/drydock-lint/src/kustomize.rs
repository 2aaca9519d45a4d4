//! kustomize: the files a kustomization lists as patches (`patches`, `patchesStrategicMerge`,
//! `patchesJson6902`) hold partial objects, whose absent fields come from the resources they
//! patch; the rules must not report those fields missing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::discover::normalize;

use crate::yaml::{parse, Node};

const NAMES: &[&str] = &["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// The patch files named by the kustomizations in the folders of `manifests`, as normalized
/// paths.
pub fn patch_files(manifests: &[PathBuf]) -> BTreeSet<PathBuf> {
    let dirs: BTreeSet<PathBuf> = manifests
        .iter()
        .filter_map(|m| m.parent().map(Path::to_path_buf))
        .collect();
    let mut out = BTreeSet::new();
    for dir in dirs {
        for name in NAMES {
            let Ok(text) = std::fs::read_to_string(dir.join(name)) else {
                continue;
            };
            // A kustomization that does not parse is linted (and reported) as a manifest.
            let Ok(docs) = parse(&text) else { continue };
            for doc in &docs {
                for p in patch_paths(doc) {
                    out.insert(normalize(&dir.join(p)));
                }
            }
        }
    }
    out
}

fn patch_paths(k: &Node) -> Vec<&str> {
    let mut out: Vec<&str> = k
        .at("patchesStrategicMerge")
        .seq()
        .iter()
        .filter_map(Node::as_str)
        .collect();
    for key in ["patches", "patchesJson6902"] {
        out.extend(k.at(key).seq().iter().filter_map(|p| {
            // A bare string is a strategic-merge file in kustomize's newest form too.
            p.as_str().or_else(|| p.at("path").as_str())
        }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_every_patch_form() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        std::fs::write(
            d.join("kustomization.yaml"),
            "resources: [deploy.yaml]\npatches:\n- path: patch-replicas.yaml\n- patch: |-\n    - op: replace\npatchesStrategicMerge:\n- ./sm.yaml\npatchesJson6902:\n- path: json/ops.yaml\n",
        )
        .unwrap();
        let got = patch_files(&[d.join("deploy.yaml")]);
        let want: BTreeSet<PathBuf> = ["patch-replicas.yaml", "sm.yaml", "json/ops.yaml"]
            .iter()
            .map(|p| normalize(&d.join(p)))
            .collect();
        assert_eq!(got, want);
    }
}
