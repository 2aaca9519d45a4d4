//! Several images from one repository: drydock.toml's `[[images]]` tables (`cmd/api` and
//! `cmd/worker` of one Go module, two bins of one Cargo workspace). Which images a command is
//! about, how one output names each of them, and the builds, one [`crate::build::build`] per
//! image with the entry selected through [`Overrides::image`]; a drydock.toml without
//! `[[images]]` is one image, built exactly as before.
//!
//! The images are compiled one after the other, each through the rebuild cache, rather than by
//! one `go build -o DIR ./cmd/a ./cmd/b`: each binary then has its own fingerprint, so a change
//! that concerns one image never hands another a stale binary, and the second compile reuses
//! the first's work through the toolchain's own caches (Go's build cache, Cargo's target
//! directory in the shared stage): the shared packages are compiled once either way.

use std::path::Path;

use crate::build::{self, BuildError, Built};
use crate::config::Config;
use crate::project::{Overrides, ProjectError};
use crate::ui::Ui;

/// The `[[images]]` entries a command works on, in drydock.toml's order: those `wanted` names
/// (every one when it is empty, or the one whose main package `dir` is). Empty for a one-image drydock.toml, where naming an image is
/// a usage error; so is a name no entry has, and each error lists the names there are.
pub fn selected(dir: &Path, wanted: &[String]) -> Result<Vec<String>, ProjectError> {
    let (root, _) = crate::project::find_root(dir)?;
    let (cfg, path) = Config::load(&root)?;
    let shown = path.unwrap_or_else(|| root.join(crate::config::FILE_NAME));
    if cfg.images.is_empty() {
        if let Some(w) = wanted.first() {
            // The one error for naming an image where there are none.
            crate::project::select_image(&cfg, Some(w), &shown)?;
        }
        return Ok(Vec::new());
    }
    for w in wanted {
        crate::project::select_image(&cfg, Some(w), &shown)?;
    }
    // Every entry's main package is checked before the first image is built: a mistake in
    // the last table must not leave the others written.
    let ctx = crate::context::load(&root, &cfg.context.allow_secrets)?;
    for e in &cfg.images {
        crate::project::check_entry_main(e, &root, &ctx, &shown)?;
    }
    // In the directory of one image's main package (`drydock build cmd/worker`), that image,
    // as a build there of a one-image project builds the package there.
    let here = match (dir.canonicalize(), root.canonicalize()) {
        (Ok(d), Ok(r)) => d
            .strip_prefix(&r)
            .ok()
            .map(|p| p.to_string_lossy().into_owned()),
        _ => None,
    }
    .filter(|p| !p.is_empty());
    let at_here = |e: &crate::config::ImageEntry| {
        here.as_deref().is_some_and(|h| {
            e.main
                .as_deref()
                .is_some_and(|m| m.trim_start_matches("./").trim_end_matches('/') == h)
        })
    };
    let only_here = wanted.is_empty() && cfg.images.iter().any(at_here);
    Ok(cfg
        .images
        .iter()
        .filter(|e| {
            if only_here {
                at_here(e)
            } else {
                wanted.is_empty() || wanted.contains(&e.name)
            }
        })
        .map(|e| e.name.clone())
        .collect())
}

/// The one image a command that runs one (`run`, `bench`) is about: `--image NAME`, else the
/// image whose main package `dir` is, else none named (which [`crate::project::load`] refuses
/// with the names when there are several).
pub fn the_one(dir: &Path, wanted: Option<String>) -> Result<Option<String>, ProjectError> {
    if wanted.is_some() {
        return Ok(wanted);
    }
    let mut here = selected(dir, &[])?;
    Ok(if here.len() == 1 { here.pop() } else { None })
}

/// `reference` for the image `name` of several: its registry, path and tag with `name` as
/// the last component of the repository (`registry.example.com/team/api:1.4.2` gives
/// `registry.example.com/team/worker:1.4.2` for `worker`). One `--push REF` names every image.
pub fn reference_for(reference: &str, name: &str) -> String {
    crate::config::with_last_component(reference, name)
}

/// A reference given on the command line (`--push REF`, `deploy --image REF`) for the image
/// `name`: [`reference_for`] when the command makes several images, else as given (an empty
/// `--push`, meaning each image's own tag, stays empty).
pub fn reference_among(reference: &str, name: Option<&str>, several: bool) -> String {
    match name {
        Some(n) if several && !reference.is_empty() => reference_for(reference, n),
        _ => reference.to_string(),
    }
}

/// Outputs that hold or name exactly one image (a docker archive, `docker-daemon:NAME`,
/// `podman:NAME`) cannot take several: refused before anything is built.
pub fn check_outputs(outputs: &[String], images: &[String]) -> Result<(), ProjectError> {
    if images.len() < 2 {
        return Ok(());
    }
    for o in outputs {
        let one = ["docker-archive:", "docker-daemon:", "podman:"]
            .iter()
            .find(|p| o.starts_with(*p));
        if let Some(kind) = one {
            return Err(ProjectError::Image {
                message: format!(
                    "--output {o}: {} holds one image, and this build makes {} ({})",
                    kind.trim_end_matches(':'),
                    images.len(),
                    images.join(", ")
                ),
                fix: "write them all to --output oci:DIR, --load docker|podman or --push REF, or build one with --image NAME".into(),
            });
        }
    }
    Ok(())
}

/// An output for the image `name` of several: a registry reference (`docker://REF`) names
/// the image's own repository, as `--push REF` does; every other output is shared (an OCI
/// layout holds them all, each under its own `name:tag`).
pub fn output_for(spec: &str, name: Option<&str>, several: bool) -> String {
    match spec.strip_prefix("docker://") {
        Some(r) => format!("docker://{}", reference_among(r, name, several)),
        None => spec.to_string(),
    }
}

/// Builds each image of `images` (or the one image of a drydock.toml without `[[images]]`,
/// when `images` is empty), in order, with the options `options_for` makes for it: its
/// `[[images]]` name goes into [`Overrides::image`]. Stops at the first failure; the images
/// built before it stay written.
pub fn build<E: From<BuildError>>(
    images: &[String],
    mut options_for: impl FnMut(Option<&str>) -> Result<build::BuildOptions, E>,
    ui: &Ui,
) -> Result<Vec<Built>, E> {
    if images.is_empty() {
        return Ok(vec![build::build(options_for(None)?, ui)?]);
    }
    let mut built = Vec::new();
    for name in images {
        let mut o = options_for(Some(name))?;
        o.overrides.image = Some(name.clone());
        built.push(build::build(o, ui)?);
    }
    Ok(built)
}

/// The overrides for the image `name` of several: the command line's, with the entry named.
pub fn overrides_for(o: &Overrides, name: Option<&str>) -> Overrides {
    Overrides {
        image: name.map(str::to_string).or(o.image.clone()),
        ..o.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_reference_names_each_image() {
        assert_eq!(
            reference_for("registry.example.com/team/api:1.4.2", "worker"),
            "registry.example.com/team/worker:1.4.2"
        );
        assert_eq!(
            reference_for("127.0.0.1:5000/api", "worker"),
            "127.0.0.1:5000/worker"
        );
        assert_eq!(reference_for("api:latest", "worker"), "worker:latest");
        assert_eq!(
            output_for("docker://127.0.0.1:5000/t/api:1", Some("w"), true),
            "docker://127.0.0.1:5000/t/w:1"
        );
        assert_eq!(
            output_for("docker://127.0.0.1:5000/t/api:1", Some("w"), false),
            "docker://127.0.0.1:5000/t/api:1",
            "one image of [[images]] (--image w) goes where it is told"
        );
        assert_eq!(output_for("oci:out", Some("w"), true), "oci:out");
        assert_eq!(reference_among("", Some("w"), true), "");
    }

    #[test]
    fn single_image_outputs_are_refused_for_several() {
        let two = ["api".to_string(), "worker".to_string()];
        let e = check_outputs(&["docker-archive:x.tar".into()], &two).unwrap_err();
        assert!(e.to_string().contains("api, worker"), "{e}");
        assert!(check_outputs(&["oci:out".into()], &two).is_ok());
        assert!(check_outputs(&["docker-archive:x.tar".into()], &two[..1]).is_ok());
    }
}
