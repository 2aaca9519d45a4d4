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
        a.target.clone()
    };
    // One workload per image: with several [[images]], each gets its own directory
    // (DIR/deploy/NAME/kubernetes, …), its own object names and its own image.
    let images = drydock::images::selected(&a.dir, &[]).map_err(failure)?;
    let several = images.len() > 1;
    let names: Vec<Option<&str>> = if images.is_empty() {
        vec![None]
    } else {
        images.iter().map(|n| Some(n.as_str())).collect()
    };
    let mut reports = Vec::new();
    for name in names {
        let per = |r: &str| drydock::images::reference_among(r, name, several);
        let r = deploy_one(&a, name, &targets, &per, several, ui)?;
        reports.push(r);
    }
    match (a.format, reports.as_slice()) {
        (Format::Json, [one]) if !several => out_json(one),
        (Format::Json, all) => out_json(&serde_json::json!({ "images": all })),
        (Format::Text, all) if !ui.quiet => {
            let mut s = String::new();
            for r in all {
                s.push_str(&format!("image {}\n", r.image));
                for w in &r.written {
                    s.push_str(&format!("wrote {}\n", w.display()));
                }
            }
            out(&s);
            Ok(0)
        }
        (Format::Text, _) => Ok(0),
    }
}

/// Builds (unless --image gives the reference) and writes the files of one image: the
/// `[[images]]` entry `name`, or the project's one image.
fn deploy_one(
    a: &DeployArgs,
    name: Option<&str>,
    targets: &[Target],
    per: &dyn Fn(&str) -> String,
    several: bool,
    ui: &Ui,
) -> Result<deploy::DeployReport, drydock::error::Failure> {
    let overrides = Overrides {
        image: name.map(str::to_string),
        ..Overrides::default()
    };
    let (project, image) = match &a.image {
        Some(img) => {
            let r = Reference::parse(&per(img)).map_err(failure)?;
            let (p, _) = drydock::project::load(&a.dir, &overrides).map_err(failure)?;
            let image = DeployImage {
                reference: r.to_string(),
                local: r.to_string(),
                digest: None,
            };
            (p, image)
        }
        None => {
            let push = a.push.as_deref().map(per);
            let outputs = drydock::publish::destinations(
                &[],
                push.as_deref(),
                &[],
                &a.registry.options_reporting(ui),
            )
            .map_err(failure)?;
            let b = build::build(
                BuildOptions {
                    dir: a.dir.clone(),
                    overrides,
                    outputs,
                    cache_dir: a.cache_dir.clone(),
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
    let mut dir = a.out.clone().unwrap_or_else(|| project.root.join("deploy"));
    if several {
        dir.push(&project.name);
    }
    let r = deploy::deploy(&project, &image, targets, &dir, a.tls, a.force).map_err(failure)?;
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
    Ok(r)
}
