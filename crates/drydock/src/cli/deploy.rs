//! `drydock deploy`.

use drydock::build::{self, BuildOptions};
use drydock::deploy::{self, DeployImage, Target};
use drydock::project::Overrides;
use drydock::reference::Reference;
use drydock::ui::Ui;

use super::args::{DeployArgs, Format};
use super::{failure, out, out_json, Outcome};

pub fn run(a: DeployArgs, ui: &Ui) -> Outcome {
    let targets = if a.target.is_empty() {
        vec![Target::K8s, Target::Compose, Target::Dockerfile]
    } else {
        a.target
    };
    let (project, image) = match a.image {
        Some(img) => {
            let r = Reference::parse(&img).map_err(failure)?;
            let (p, _) = drydock::project::load(&a.dir, &Overrides::default()).map_err(failure)?;
            let image = DeployImage {
                reference: r.to_string(),
                local: r.to_string(),
                digest: None,
            };
            (p, image)
        }
        None => {
            let outputs = drydock::publish::destinations(
                &[],
                a.push.as_deref(),
                &[],
                &a.registry.options_reporting(ui),
            )
            .map_err(failure)?;
            let b = build::build(
                BuildOptions {
                    dir: a.dir.clone(),
                    overrides: Overrides::default(),
                    outputs,
                    cache_dir: a.cache_dir,
                    refresh_base: false,
                    no_cache: false,
                    platforms: None,
                    registry: a.registry.options_reporting(ui),
                    sbom: None,
                    sbom_dir: None,
                    sign: None,
                },
                ui,
            )
            .map_err(failure)?;
            // A pushed image is deployed as the registry serves it.
            let reference = match b.report.pushed.first() {
                Some(p) => p.reference.clone(),
                None => b.project.image.tag.with_digest(&b.report.digest),
            };
            let image = DeployImage {
                reference,
                local: b.project.image.tag.tagged(),
                digest: Some(b.report.digest.clone()),
            };
            (b.project, image)
        }
    };
    let dir = a.out.unwrap_or_else(|| project.root.join("deploy"));
    let r = deploy::deploy(&project, &image, &targets, &dir, a.tls, a.force).map_err(failure)?;
    for k in &r.kept {
        ui.warn(&format!("kept {}: {}", k.path.display(), k.why));
    }
    for n in &r.notes {
        // A secret the app will not find is a warning; how it is delivered, a note.
        if n.contains("will get nothing") || n.starts_with("docker/Dockerfile:") {
            ui.warn(n);
        } else {
            ui.note(n);
        }
    }
    match a.format {
        Format::Json => out_json(&r),
        Format::Text if !ui.quiet => {
            let mut s = format!("image {}\n", r.image);
            for w in &r.written {
                s.push_str(&format!("wrote {}\n", w.display()));
            }
            out(&s);
            Ok(0)
        }
        Format::Text => Ok(0),
    }
}
