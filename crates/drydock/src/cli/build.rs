//! `drydock build`.

use drydock::build::{BuildOptions, BuildReport};
use drydock::compile::goinfo::{GoInfo, GoModule};
use drydock::project::Overrides;
use drydock::publish::{self, Written};
use drydock::ui::{human_bytes as human, Ui};

use super::args::{BuildArgs, Format};
use super::{failure, out, out_json, Outcome};
use drydock::error::{ErrorKind, Failure};

pub fn run(a: BuildArgs, ui: &Ui) -> Outcome {
    // drydock.toml's [[images]]: which to build (none for a one-image file).
    let images = drydock::images::selected(&a.dir, &a.image).map_err(failure)?;
    drydock::images::check_outputs(&a.output, &images).map_err(failure)?;
    if images.len() > 1 {
        for (flag, given) in [
            ("--name", a.name.is_some()),
            ("--main", a.main.is_some()),
            ("--port", a.port.is_some()),
            ("--binary", a.binary.is_some()),
            ("--tag", a.tag.is_some()),
        ] {
            if given {
                return Err(Failure::new(
                    ErrorKind::Usage,
                    format!("{flag} names one image, and this build makes {} ({})", images.len(), images.join(", ")),
                )
                .with_fix("build one with --image NAME, or set it in that image's [[images]] table in drydock.toml"));
            }
        }
    }
    // The key is read (and its password asked) before anything is built.
    let sign = match &a.sign {
        Some(path) => Some(super::sign::private_key(path)?),
        None => None,
    };
    let platforms = if a.platform.is_empty() {
        None
    } else {
        Some(
            drydock::platforms::PlatformSpec::parse(&a.platform).map_err(|e| {
                Failure::new(ErrorKind::Usage, format!("--platform: {e}"))
                    .with_fix("e.g. --platform linux/amd64,linux/arm64, or --platform all")
            })?,
        )
    };
    let registry = a.registry.options_reporting(ui);
    let overrides = Overrides {
        name: a.name,
        port: a.port,
        main: a.main,
        language: a.language,
        binary: a.binary,
        tag: a.tag,
        user: a.user,
        no_helper: a.no_helper,
        base: a.base,
        image: None,
    };
    let several = images.len() > 1;
    let built = drydock::images::build(
        &images,
        |name| {
            // Each image's own repository, where an output names one.
            let output: Vec<String> = a
                .output
                .iter()
                .map(|o| drydock::images::output_for(o, name, several))
                .collect();
            let push = a
                .push
                .as_deref()
                .map(|r| drydock::images::reference_among(r, name, several));
            let outputs = publish::destinations(&output, push.as_deref(), &a.load, &registry)
                .map_err(failure)?;
            Ok::<_, Failure>(BuildOptions {
                platforms: platforms.clone(),
                dir: a.dir.clone(),
                overrides: drydock::images::overrides_for(&overrides, name),
                outputs,
                cache_dir: a.cache_dir.clone(),
                refresh_base: a.refresh_base,
                no_cache: a.no_cache,
                registry: registry.clone(),
                sbom: a.sbom,
                sbom_dir: a.sbom_dir.clone(),
                sign: sign.clone(),
            })
        },
        ui,
    )?;
    match (a.format, built.as_slice()) {
        // One image: the report as it always was.
        (Format::Json, [one]) if images.is_empty() => out_json(&one.report),
        (Format::Json, all) => out_json(&serde_json::json!({
            "images": all.iter().map(|b| &b.report).collect::<Vec<_>>(),
        })),
        (Format::Text, all) if !ui.quiet => {
            for b in all {
                print_report(&b.report, ui);
            }
            Ok(0)
        }
        (Format::Text, _) => Ok(0),
    }
}

fn secs(ms: u128) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{:.2} s", ms as f64 / 1000.0)
    }
}

/// The Go version and the modules the binary was built from, as its build info records them.
fn go_modules(g: &GoInfo) -> String {
    let Some(main) = &g.main_module else {
        return format!("  {}; no modules recorded (GOPATH mode)\n", g.version);
    };
    let module = |m: &GoModule| {
        let mut t = format!("{} {}", m.path, m.version);
        if let Some(sum) = &m.sum {
            t.push_str(&format!(" {sum}"));
        }
        if let Some(r) = &m.replaced_by {
            t.push_str(" => ");
            t.push_str(&module_plain(r));
        }
        t
    };
    let mut s = format!(
        "  {}; module {}, {} {}\n",
        g.version,
        module(main),
        g.deps.len(),
        if g.deps.len() == 1 {
            "dependency"
        } else {
            "dependencies"
        }
    );
    for d in &g.deps {
        s.push_str(&format!("    {}\n", module(d)));
    }
    s
}

fn module_plain(m: &GoModule) -> String {
    match &m.sum {
        Some(sum) => format!("{} {} {sum}", m.path, m.version),
        None => format!("{} {}", m.path, m.version),
    }
}

fn print_report(r: &BuildReport, ui: &Ui) {
    let mut s = String::new();
    for a in &r.assumptions {
        s.push_str(&format!("{a}\n"));
    }
    s.push_str(&format!(
        "{} {}\n",
        ui.bold(&format!("built {}", r.reference)),
        r.digest
    ));
    if r.platforms.len() > 1 {
        // One line per platform; the layers and binary below are the first line's.
        s.push_str(&format!(
            "  an image index of {} platforms:\n",
            r.platforms.len()
        ));
        for p in &r.platforms {
            s.push_str(&format!(
                "    {:<14} {}  image {}, binary {} ({}{})\n",
                p.platform,
                p.digest,
                human(p.compressed_size),
                human(p.binary.size),
                p.binary.linkage,
                if p.binary.cached { ", cached" } else { "" }
            ));
        }
        s.push_str(&format!("  {} (what an engine here runs):\n", r.platform));
    }
    if let Some(b) = &r.base {
        s.push_str(&format!("  base {}@{} ({})\n", b.name, b.digest, b.how));
    }
    s.push_str(&format!(
        "  {:<12} {:>10}  {:<8} {}\n",
        "layer", "size", "cache", "digest"
    ));
    for l in &r.layers {
        s.push_str(&format!(
            "  {:<12} {:>10}  {:<8} {}\n",
            l.name,
            human(l.stored.size),
            if l.cached { "cached" } else { "built" },
            &l.stored.digest.as_str()[..19]
        ));
    }
    s.push_str(&format!(
        "  image {} compressed; binary {} ({}, {})\n",
        human(r.compressed_size),
        human(r.binary.size),
        r.binary.linkage,
        r.binary.tool
    ));
    if let Some(g) = &r.binary.go {
        s.push_str(&go_modules(g));
    }
    let t = &r.times;
    s.push_str(&format!(
        "  time: context {}, compile {}{}, layers {}, outputs {}; total {}\n",
        secs(t.context_ms),
        secs(t.compile_ms),
        if r.binary.cached {
            " (cached: nothing the compiler reads changed)"
        } else {
            ""
        },
        secs(t.layers_ms),
        secs(t.publish_ms),
        secs(t.total_ms)
    ));
    // Pushes are told below, with what they sent.
    let pushes = r.written.iter().map(|w| matches!(w, Written::Registry(_)));
    for (o, _) in r.outputs.iter().zip(pushes).filter(|(_, push)| !push) {
        s.push_str(&format!("  wrote {o}\n"));
    }
    for w in &r.sbom {
        s.push_str(&format!(
            "  wrote the {} SBOM {} ({} components)\n",
            if w.format == "spdx" {
                "SPDX"
            } else {
                "CycloneDX"
            },
            w.path.display(),
            w.components
        ));
    }
    for p in &r.pushed {
        s.push_str(&format!(
            "  pushed {}\n    {} uploaded ({}), {} already there, {} mounted\n",
            p.reference,
            p.uploaded.len(),
            human(p.uploaded_bytes()),
            p.existing.len(),
            p.mounted.len()
        ));
    }
    // Attestations, one line per place: what kinds went there and how readers find them.
    let mut places: Vec<(&str, &str, Vec<&str>)> = Vec::new();
    let cosign: Vec<&str> = r
        .attached
        .iter()
        .filter(|a| a.found_by.starts_with("cosign tag"))
        .map(|a| a.location.as_str())
        .collect();
    for a in r
        .attached
        .iter()
        .filter(|a| !a.found_by.starts_with("cosign tag"))
    {
        let kind = match a.artifact_type.as_str() {
            drydock::attest::SPDX_MEDIA_TYPE => "SPDX SBOM",
            drydock::attest::CYCLONEDX_MEDIA_TYPE => "CycloneDX SBOM",
            drydock::sign::dsse::MEDIA_TYPE => "attestation",
            other => other,
        };
        let place = a.location.split('@').next().unwrap_or(&a.location);
        match places
            .iter_mut()
            .find(|(p, f, _)| *p == place && *f == a.found_by)
        {
            Some((_, _, kinds)) => kinds.push(kind),
            None => places.push((place, &a.found_by, vec![kind])),
        }
    }
    for (place, found_by, kinds) in places {
        let mut counted: Vec<String> = Vec::new();
        for k in &kinds {
            let n = kinds.iter().filter(|x| *x == k).count();
            let t = if n > 1 {
                format!("{n} {k}s")
            } else {
                k.to_string()
            };
            if !counted.contains(&t) {
                counted.push(t);
            }
        }
        s.push_str(&format!(
            "  attached {} to {place} ({found_by})\n",
            counted.join(", ")
        ));
    }
    if let Some((first, rest)) = cosign.split_first() {
        let suffixes: Vec<&str> = rest.iter().filter_map(|l| l.rsplit('.').next()).collect();
        let mut line = format!("  and at cosign's tags: {first}");
        for x in suffixes {
            line.push_str(&format!(", .{x}"));
        }
        s.push_str(&line);
        s.push('\n');
    }
    for g in &r.signed {
        let how = if g.added {
            "signed"
        } else {
            "already signed with this key:"
        };
        s.push_str(&format!(
            "  {how} {}\n    signature {}\n",
            g.image, g.signature
        ));
    }
    if r.outputs.is_empty() {
        s.push_str("  (image kept in the cache only: add --output oci:DIR, --output docker-archive:FILE, --load docker|podman or --push REF)\n");
    }
    out(&s);
}
