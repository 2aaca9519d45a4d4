//! How an image was built, as an in-toto statement (v1) with a SLSA provenance v1 predicate,
//! and the statements that carry an SBOM as an attestation (cosign's `attest --type spdxjson`).
//!
//! Everything in it comes from what the build resolved — the source revision, the toolchain,
//! the base image's digest, drydock's own files — which the SBOM already holds, and from the
//! build's parameters. It is deterministic: no host names, paths or clocks (SLSA's
//! `startedOn`/`finishedOn` and `invocationId` are left out, since a reproducible build must
//! give the same statement twice), so the same build gives the same bytes.

use serde_json::{json, Map, Value};

use crate::sbom::{Kind, Sbom};

pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
pub const SLSA_PROVENANCE: &str = "https://slsa.dev/provenance/v1";
/// cosign's predicate types for SBOM attestations.
pub const SPDX_PREDICATE: &str = "https://spdx.dev/Document";
pub const CYCLONEDX_PREDICATE: &str = "https://cyclonedx.org/bom";
/// What kind of build this is: a drydock image build, whose external parameters are below.
pub const BUILD_TYPE: &str = "https://drydock.dev/buildtypes/image/v1";
/// The builder: drydock run by whoever ran it (no hosted builder vouches for it).
pub const BUILDER_ID: &str = "https://drydock.dev/builders/local";

/// The build's parameters a user chose (SLSA's external parameters).
#[derive(Debug, Clone)]
pub struct Parameters {
    /// The reference the image was tagged with.
    pub tag: String,
    /// The base as drydock.toml or `--base` named it (`scratch` when none).
    pub base: String,
    pub language: String,
    pub platform: String,
    /// Whether the helper went in.
    pub helper: bool,
    /// The SBOM formats attached (`spdx`, `cyclonedx`, or none).
    pub sbom: Vec<&'static str>,
}

impl Parameters {
    /// The parameters of a build of `project` for `platform` that attaches SBOMs of `sbom`'s
    /// formats.
    pub fn of(
        project: &crate::project::Project,
        platform: &drydock_oci::Platform,
        sbom: crate::sbom::SbomFormat,
    ) -> Parameters {
        Parameters {
            tag: project.image.tag.tagged(),
            base: project.image.base.clone(),
            language: match project.build.language {
                crate::config::Language::Go => "go",
                crate::config::Language::Rust => "rust",
            }
            .into(),
            platform: platform.to_string(),
            helper: project.image.helper,
            sbom: [("spdx", sbom.spdx()), ("cyclonedx", sbom.cyclonedx())]
                .into_iter()
                .filter_map(|(f, on)| on.then_some(f))
                .collect(),
        }
    }
}

/// An in-toto statement about the image `sbom` describes, and about `index` too when the image
/// is one platform's of a multi-platform build (the attestations hang on the index, and
/// `drydock verify` of its tag finds them naming it).
pub fn statement(
    sbom: &Sbom,
    predicate_type: &str,
    predicate: Value,
    index: Option<&drydock_oci::Digest>,
) -> Vec<u8> {
    let name = sbom
        .image
        .properties
        .iter()
        .find(|(k, _)| k == "drydock:image:reference")
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| sbom.name.clone());
    let mut subject = vec![json!({"name": name, "digest": {"sha256": sbom.digest_hex()}})];
    if let Some(i) = index {
        subject.push(json!({"name": name, "digest": {"sha256": i.hex()}}));
    }
    let s = json!({
        "_type": STATEMENT_TYPE,
        "subject": subject,
        "predicateType": predicate_type,
        "predicate": predicate,
    });
    serde_json::to_vec(&s).unwrap_or_default()
}

/// The SLSA v1 provenance predicate of the build `sbom` describes.
pub fn predicate(sbom: &Sbom, p: &Parameters) -> Value {
    let prop = |c: &crate::sbom::Component, k: &str| {
        c.properties
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    let app = sbom.components.iter().find(|c| c.kind == Kind::Application);
    let revision = app.and_then(|a| prop(a, "drydock:vcs:revision"));
    let url = app.and_then(|a| prop(a, "drydock:vcs:url"));

    let mut deps = Vec::new();
    if let Some(rev) = &revision {
        let uri = match &url {
            Some(u) => format!("git+{u}@{rev}"),
            None => format!("git+unknown@{rev}"),
        };
        deps.push(json!({"uri": uri, "digest": {"gitCommit": rev}}));
    }
    for c in &sbom.components {
        if !matches!(
            c.kind,
            Kind::Toolchain | Kind::BaseImage | Kind::DrydockFile
        ) {
            continue;
        }
        let mut d = Map::new();
        // A package URL: the component's own, else the first other one it has, else a
        // generic one (SLSA wants a URI).
        let uri = c
            .purl
            .clone()
            .or_else(|| c.other_purls.first().cloned())
            .unwrap_or_else(|| {
                let name = crate::sbom::purl_escape(&c.name);
                match &c.version {
                    Some(v) => format!("pkg:generic/{name}@{}", crate::sbom::purl_escape(v)),
                    None => format!("pkg:generic/{name}"),
                }
            });
        d.insert("uri".into(), json!(uri));
        d.insert("name".into(), json!(c.name));
        if let Some(h) = &c.sha256 {
            d.insert("digest".into(), json!({"sha256": h}));
        }
        deps.push(Value::Object(d));
    }

    let mut external = json!({
        "tag": p.tag,
        "base": p.base,
        "language": p.language,
        "platform": p.platform,
        "helper": p.helper,
        "sbom": p.sbom,
    });
    if revision.is_some() || url.is_some() {
        external["source"] = json!({"uri": url, "revision": revision});
    }
    json!({
        "buildDefinition": {
            "buildType": BUILD_TYPE,
            "externalParameters": external,
            "internalParameters": {"drydock": env!("CARGO_PKG_VERSION")},
            "resolvedDependencies": deps,
        },
        "runDetails": {
            "builder": {
                "id": BUILDER_ID,
                "version": {"drydock": env!("CARGO_PKG_VERSION")},
            },
            "metadata": {},
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sbom::Component;

    fn sbom() -> Sbom {
        let mut image = Component::new(Kind::BaseImage, "api", Some("sha256:ab"));
        image.id = "image".into();
        image = image.prop("drydock:image:reference", "127.0.0.1:5000/api:1");
        let app = Component::new(Kind::Application, "example.com/api", Some("v1"))
            .prop("drydock:vcs:revision", "0123abcd")
            .prop("drydock:vcs:url", "https://example.com/api.git");
        let mut go = Component::new(Kind::Toolchain, "go", Some("go1.19.8"));
        go.purl = Some("pkg:golang/go@go1.19.8".into());
        let mut base = Component::new(Kind::BaseImage, "debian", Some("sha256:cd"));
        base.sha256 = Some("cd".into());
        let lib = Component::new(Kind::Library, "github.com/gin-gonic/gin", Some("v1.8.1"));
        Sbom {
            name: "api".into(),
            digest: format!("sha256:{}", "ab".repeat(32)),
            created: "2023-11-14T22:13:20Z".into(),
            image,
            components: vec![app, go, base, lib],
            notes: Vec::new(),
        }
    }

    fn params() -> Parameters {
        Parameters {
            tag: "127.0.0.1:5000/api:1".into(),
            base: "debian".into(),
            language: "go".into(),
            platform: "linux/amd64".into(),
            helper: true,
            sbom: vec!["spdx"],
        }
    }

    #[test]
    fn a_platform_image_statement_also_names_its_index() {
        let s = sbom();
        let index = drydock_oci::Digest::parse(&format!("sha256:{}", "cd".repeat(32))).unwrap();
        let v: Value = serde_json::from_slice(&statement(
            &s,
            SLSA_PROVENANCE,
            predicate(&s, &params()),
            Some(&index),
        ))
        .unwrap();
        let digests: Vec<&str> = v["subject"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["digest"]["sha256"].as_str().unwrap())
            .collect();
        assert_eq!(digests, ["ab".repeat(32), "cd".repeat(32)]);
    }

    #[test]
    fn the_statement_names_the_image_and_what_the_build_resolved() {
        let s = sbom();
        let bytes = statement(&s, SLSA_PROVENANCE, predicate(&s, &params()), None);
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["_type"], STATEMENT_TYPE);
        assert_eq!(v["subject"][0]["name"], "127.0.0.1:5000/api:1");
        assert_eq!(v["subject"][0]["digest"]["sha256"], "ab".repeat(32));
        assert_eq!(v["predicateType"], SLSA_PROVENANCE);
        let deps = v["predicate"]["buildDefinition"]["resolvedDependencies"]
            .as_array()
            .unwrap();
        assert_eq!(deps[0]["uri"], "git+https://example.com/api.git@0123abcd");
        assert_eq!(deps[0]["digest"]["gitCommit"], "0123abcd");
        assert!(deps.iter().any(|d| d["uri"] == "pkg:golang/go@go1.19.8"));
        assert!(deps.iter().any(|d| d["digest"]["sha256"] == "cd"));
        // Libraries are the SBOM's business, not the provenance's.
        assert!(!deps.iter().any(|d| d["name"] == "github.com/gin-gonic/gin"));
        assert_eq!(
            v["predicate"]["buildDefinition"]["externalParameters"]["source"]["revision"],
            "0123abcd"
        );
        // Deterministic.
        assert_eq!(
            bytes,
            statement(&s, SLSA_PROVENANCE, predicate(&s, &params()), None)
        );
    }
}
