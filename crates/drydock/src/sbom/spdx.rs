//! SPDX 2.3 JSON: the image is the described package; it CONTAINS the application, the
//! toolchain, the base and drydock's files; the application DEPENDS_ON its libraries; the base
//! CONTAINS its OS packages.

use serde::Serialize;

use super::{Component, Kind, Sbom};

pub const CREATOR: &str = concat!("Tool: drydock-", env!("CARGO_PKG_VERSION"));

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document<'a> {
    spdx_version: &'static str,
    data_license: &'static str,
    #[serde(rename = "SPDXID")]
    spdx_id: &'static str,
    name: String,
    document_namespace: String,
    creation_info: CreationInfo<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
    packages: Vec<Package>,
    relationships: Vec<Relationship>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreationInfo<'a> {
    created: &'a str,
    creators: Vec<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Package {
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_info: Option<String>,
    download_location: &'static str,
    files_analyzed: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    checksums: Vec<Checksum>,
    license_concluded: &'static str,
    license_declared: &'static str,
    copyright_text: &'static str,
    primary_package_purpose: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_refs: Vec<ExternalRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Checksum {
    algorithm: &'static str,
    checksum_value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRef {
    reference_category: &'static str,
    reference_type: &'static str,
    reference_locator: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Relationship {
    spdx_element_id: String,
    relationship_type: &'static str,
    related_spdx_element: String,
}

fn spdx_id(id: &str) -> String {
    format!("SPDXRef-{id}")
}

fn package(c: &Component) -> Package {
    let mut checksums = Vec::new();
    if let Some(s) = &c.sha1 {
        checksums.push(Checksum {
            algorithm: "SHA1",
            checksum_value: s.clone(),
        });
    }
    if let Some(s) = &c.sha256 {
        checksums.push(Checksum {
            algorithm: "SHA256",
            checksum_value: s.clone(),
        });
    }
    let external_refs = c
        .purl
        .iter()
        .chain(&c.other_purls)
        .map(|p| ExternalRef {
            reference_category: "PACKAGE-MANAGER",
            reference_type: "purl",
            reference_locator: p.clone(),
        })
        .collect();
    let comment = (!c.properties.is_empty()).then(|| {
        c.properties
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join("\n")
    });
    Package {
        spdx_id: spdx_id(&c.id),
        name: c.name.clone(),
        version_info: c.version.clone(),
        download_location: "NOASSERTION",
        files_analyzed: false,
        checksums,
        license_concluded: "NOASSERTION",
        license_declared: "NOASSERTION",
        copyright_text: "NOASSERTION",
        primary_package_purpose: match c.kind {
            Kind::Application => "APPLICATION",
            Kind::Library => "LIBRARY",
            Kind::Toolchain => "APPLICATION",
            Kind::BaseImage => "CONTAINER",
            Kind::OsPackage => "LIBRARY",
            Kind::DrydockFile => "FILE",
        },
        external_refs,
        comment,
    }
}

pub fn render(sbom: &Sbom) -> Vec<u8> {
    let mut packages = vec![{
        let mut p = package(&sbom.image);
        p.primary_package_purpose = "CONTAINER";
        p
    }];
    let mut relationships = vec![Relationship {
        spdx_element_id: "SPDXRef-DOCUMENT".into(),
        relationship_type: "DESCRIBES",
        related_spdx_element: spdx_id(&sbom.image.id),
    }];
    for c in &sbom.components {
        packages.push(package(c));
        let parent = c.parent.as_deref().unwrap_or(&sbom.image.id);
        let parent_kind = sbom
            .components
            .iter()
            .find(|p| p.id == parent)
            .map(|p| p.kind);
        relationships.push(Relationship {
            spdx_element_id: spdx_id(parent),
            relationship_type: match (c.kind, parent_kind) {
                (Kind::Library, Some(Kind::Application)) => "DEPENDS_ON",
                (Kind::Toolchain, _) => "BUILD_DEPENDENCY_OF",
                _ => "CONTAINS",
            },
            related_spdx_element: spdx_id(&c.id),
        });
    }
    // BUILD_DEPENDENCY_OF reads the other way round: the toolchain builds the application.
    for r in &mut relationships {
        if r.relationship_type == "BUILD_DEPENDENCY_OF" {
            std::mem::swap(&mut r.spdx_element_id, &mut r.related_spdx_element);
        }
    }
    let doc = Document {
        spdx_version: "SPDX-2.3",
        data_license: "CC0-1.0",
        spdx_id: "SPDXRef-DOCUMENT",
        name: format!("{}@{}", sbom.name, sbom.digest),
        document_namespace: format!(
            "https://drydock.invalid/spdx/{}/{}",
            super::purl_escape(&sbom.name),
            sbom.digest_hex()
        ),
        creation_info: CreationInfo {
            created: &sbom.created,
            creators: vec![CREATOR],
        },
        comment: (!sbom.notes.is_empty()).then(|| sbom.notes.join("\n")),
        packages,
        relationships,
    };
    serde_json::to_vec_pretty(&doc).unwrap_or_default()
}
