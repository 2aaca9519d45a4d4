//! CycloneDX 1.6 JSON: the image is `metadata.component` (a container); everything else is a
//! component, and `dependencies` says what holds or needs what.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Component, Kind, Sbom};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Bom {
    bom_format: &'static str,
    spec_version: &'static str,
    serial_number: String,
    version: u32,
    metadata: Metadata,
    components: Vec<Cdx>,
    dependencies: Vec<Dependency>,
}

#[derive(Serialize)]
struct Metadata {
    timestamp: String,
    tools: Tools,
    component: Cdx,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property>,
}

#[derive(Serialize)]
struct Tools {
    components: Vec<Tool>,
}

#[derive(Serialize)]
struct Tool {
    #[serde(rename = "type")]
    kind: &'static str,
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Cdx {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(rename = "bom-ref")]
    bom_ref: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hashes: Vec<Hash>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purl: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property>,
}

#[derive(Serialize)]
struct Hash {
    alg: &'static str,
    content: String,
}

#[derive(Serialize)]
struct Property {
    name: String,
    value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Dependency {
    #[serde(rename = "ref")]
    reference: String,
    depends_on: Vec<String>,
}

fn component(c: &Component) -> Cdx {
    let mut hashes = Vec::new();
    if let Some(s) = &c.sha1 {
        hashes.push(Hash {
            alg: "SHA-1",
            content: s.clone(),
        });
    }
    if let Some(s) = &c.sha256 {
        hashes.push(Hash {
            alg: "SHA-256",
            content: s.clone(),
        });
    }
    let mut properties: Vec<Property> = c
        .properties
        .iter()
        .map(|(k, v)| Property {
            name: k.clone(),
            value: v.clone(),
        })
        .collect();
    properties.extend(c.other_purls.iter().map(|p| Property {
        name: "drydock:purl".into(),
        value: p.clone(),
    }));
    Cdx {
        kind: match c.kind {
            Kind::Application => "application",
            Kind::Library => "library",
            Kind::Toolchain => "application",
            Kind::BaseImage => "container",
            Kind::OsPackage => "library",
            Kind::DrydockFile => "file",
        },
        bom_ref: c.id.clone(),
        name: c.name.clone(),
        version: c.version.clone(),
        hashes,
        purl: c.purl.clone(),
        properties,
    }
}

pub fn render(sbom: &Sbom) -> Vec<u8> {
    let mut image = component(&sbom.image);
    image.kind = "container";
    let mut deps: BTreeMap<String, Vec<String>> = BTreeMap::new();
    deps.insert(sbom.image.id.clone(), Vec::new());
    for c in &sbom.components {
        deps.entry(c.id.clone()).or_default();
        let parent = match (c.kind, &c.parent) {
            // The toolchain built the application; the image holds neither it nor its output
            // through it, so it hangs off the image.
            (Kind::Toolchain, _) | (_, None) => sbom.image.id.clone(),
            (_, Some(p)) => p.clone(),
        };
        deps.entry(parent).or_default().push(c.id.clone());
    }
    let bom = Bom {
        bom_format: "CycloneDX",
        spec_version: "1.6",
        serial_number: format!("urn:uuid:{}", super::uuid_from_hex(sbom.digest_hex())),
        version: 1,
        metadata: Metadata {
            timestamp: sbom.created.clone(),
            tools: Tools {
                components: vec![Tool {
                    kind: "application",
                    name: "drydock",
                    version: env!("CARGO_PKG_VERSION"),
                }],
            },
            component: image,
            properties: sbom
                .notes
                .iter()
                .map(|n| Property {
                    name: "drydock:note".into(),
                    value: n.clone(),
                })
                .collect(),
        },
        components: sbom.components.iter().map(component).collect(),
        dependencies: deps
            .into_iter()
            .map(|(reference, mut depends_on)| {
                depends_on.sort();
                Dependency {
                    reference,
                    depends_on,
                }
            })
            .collect(),
    };
    serde_json::to_vec_pretty(&bom).unwrap_or_default()
}
