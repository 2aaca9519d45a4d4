//! Pulling an image into a blob store: the manifest (from an index, the platform's, skipping
//! attestations), its config and layers, each verified against its digest. Blobs the store
//! already holds intact are not fetched again.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use serde_json::Value;

use super::{pull_scopes, Client, Method, RegistryError, Req};
use crate::digest::Digest;
use crate::image::{Format, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST};
use crate::platform::Platform;
use crate::store::{BlobStore, DirStore};

const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

/// What a pull resolved.
#[derive(Debug, Clone)]
pub struct Pulled {
    /// The platform's image manifest.
    pub manifest: Digest,
    /// The index it was picked from, when the reference named one.
    pub index: Option<Digest>,
    pub format: Format,
    pub fetched_bytes: u64,
    pub fetched: usize,
    pub cached: usize,
}

fn get_manifest(
    client: &Client,
    repository: &str,
    reference: &str,
    store: &DirStore,
) -> Result<(Digest, String, Value), RegistryError> {
    let req = Req {
        method: Method::GET,
        url: client.url(repository, &format!("manifests/{reference}")),
        headers: vec![("accept", ACCEPT.into())],
        body: None,
        scopes: pull_scopes(repository),
        what: format!("manifest {reference}"),
        repository,
    };
    let r = client.send(&req)?;
    if r.status != 200 {
        let fix = if r.status == 404 {
            "check the name and tag (or push the image first)"
        } else {
            "check the registry's logs"
        };
        return Err(client.status_error(&req, r, fix));
    }
    let content_type = r.header("content-type").unwrap_or_default();
    let bytes = r.bytes(4 << 20).map_err(|e| RegistryError::Invalid {
        registry: client.registry.clone(),
        problem: format!("reading manifest {reference}: {e}"),
    })?;
    let digest = Digest::of(&bytes);
    if let Some(want) = Digest::parse(reference) {
        if want != digest {
            return Err(RegistryError::Invalid {
                registry: client.registry.clone(),
                problem: format!(
                    "sent a manifest for {reference} whose content hashes to {digest}"
                ),
            });
        }
    }
    let v: Value = serde_json::from_slice(&bytes).map_err(|e| RegistryError::Invalid {
        registry: client.registry.clone(),
        problem: format!("manifest {reference} is not JSON ({e})"),
    })?;
    let media = v
        .get("mediaType")
        .and_then(|m| m.as_str())
        .map(str::to_string)
        .unwrap_or_else(|| {
            content_type
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        });
    store.put(&bytes)?;
    Ok((digest, media, v))
}

/// Resolves `reference` (a tag or a digest) to the manifest for `platform` and pulls what it
/// needs into `store`.
pub fn pull(
    client: &Client,
    repository: &str,
    reference: &str,
    platform: &Platform,
    store: &DirStore,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Pulled, RegistryError> {
    let (mut digest, mut media, mut manifest) = get_manifest(client, repository, reference, store)?;
    let named = if reference.contains(':') {
        format!("{}/{repository}@{reference}", client.registry)
    } else {
        format!("{}/{repository}:{reference}", client.registry)
    };
    let mut index = None;
    if media == OCI_INDEX || media == DOCKER_MANIFEST_LIST {
        // Attestations (`unknown/unknown`) are not images to run.
        let images: Vec<&Value> = manifest["manifests"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| {
                m.get("platform")
                    .is_some_and(|p| p.get("os").and_then(|o| o.as_str()) != Some("unknown"))
            })
            .collect();
        let entry = images
            .iter()
            .find(|m| m.get("platform").is_some_and(|p| platform.matches(p)))
            .ok_or_else(|| RegistryError::NoPlatform {
                reference: named.clone(),
                asked: platform.to_string(),
                available: images
                    .iter()
                    .filter_map(|m| m.get("platform"))
                    .map(platform_of)
                    .collect(),
            })?;
        let d = entry
            .get("digest")
            .and_then(|d| d.as_str())
            .unwrap_or("")
            .to_string();
        index = Some(digest);
        (digest, media, manifest) = get_manifest(client, repository, &d, store)?;
    }
    let format = match media.as_str() {
        OCI_MANIFEST => Format::Oci,
        DOCKER_MANIFEST => Format::Docker,
        m => {
            return Err(RegistryError::Invalid {
                registry: client.registry.clone(),
                problem: format!("{named} is a {m:?}, not an image manifest"),
            })
        }
    };
    // A single image is checked too: its config says what it was built for.
    let config_digest = manifest["config"]
        .get("digest")
        .and_then(|d| d.as_str())
        .and_then(Digest::parse)
        .ok_or_else(|| RegistryError::Invalid {
            registry: client.registry.clone(),
            problem: format!("manifest {digest} has no valid config digest"),
        })?;
    let config_fetched = if store.verify(&config_digest).is_err() {
        Some(fetch_blob(
            client,
            repository,
            &config_digest,
            store,
            &|_| {},
        )?)
    } else {
        None
    };
    let config: Value = serde_json::from_slice(&store.read(&config_digest)?).map_err(|e| {
        RegistryError::Invalid {
            registry: client.registry.clone(),
            problem: format!("the config {config_digest} of {named} is not JSON ({e})"),
        }
    })?;
    if index.is_none() && !platform.matches(&config) {
        return Err(RegistryError::NoPlatform {
            reference: named,
            asked: platform.to_string(),
            available: vec![platform_of(&config)],
        });
    }
    let mut blobs: Vec<Digest> = Vec::new();
    for d in std::iter::once(&manifest["config"])
        .chain(manifest["layers"].as_array().into_iter().flatten())
    {
        let d = d
            .get("digest")
            .and_then(|d| d.as_str())
            .and_then(Digest::parse)
            .ok_or_else(|| RegistryError::Invalid {
                registry: client.registry.clone(),
                problem: format!("manifest {digest} lists a blob without a valid digest"),
            })?;
        blobs.push(d);
    }
    let sizes: std::collections::BTreeMap<String, u64> = manifest["layers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| {
            Some((
                l.get("digest")?.as_str()?.to_string(),
                l.get("size")?.as_u64()?,
            ))
        })
        .collect();
    let missing: Vec<&Digest> = blobs.iter().filter(|d| store.verify(d).is_err()).collect();
    let cached = blobs.len() - missing.len() - usize::from(config_fetched.is_some());
    let total_bytes: u64 = missing.iter().filter_map(|d| sizes.get(d.as_str())).sum();
    let next = AtomicUsize::new(0);
    let bytes = AtomicUsize::new(0);
    let streamed = std::sync::atomic::AtomicU64::new(0);
    let done = AtomicUsize::new(0);
    let report = |done: usize, streamed: u64| {
        client.options.events.emit(&super::Event::Transfer {
            blobs_done: done,
            blobs: missing.len(),
            bytes_done: streamed,
            bytes: total_bytes,
        })
    };
    let errors: Mutex<Vec<RegistryError>> = Mutex::new(Vec::new());
    if !missing.is_empty() {
        report(0, 0);
    }
    std::thread::scope(|s| {
        for _ in 0..client.options.jobs.clamp(1, 16).min(missing.len()) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(d) = missing.get(i) else { break };
                progress(&format!("pulling blobs {}/{}", i + 1, missing.len()));
                let on_bytes = |n: u64| {
                    let total = streamed.fetch_add(n, Ordering::SeqCst) + n;
                    report(done.load(Ordering::SeqCst), total);
                };
                match fetch_blob(client, repository, d, store, &on_bytes) {
                    Ok(n) => {
                        bytes.fetch_add(n as usize, Ordering::SeqCst);
                        let k = done.fetch_add(1, Ordering::SeqCst) + 1;
                        report(k, streamed.load(Ordering::SeqCst));
                    }
                    Err(e) => {
                        errors.lock().unwrap().push(e);
                        next.store(missing.len(), Ordering::SeqCst);
                    }
                }
            });
        }
    });
    if let Some(e) = errors.into_inner().unwrap().into_iter().next() {
        return Err(e);
    }
    Ok(Pulled {
        manifest: digest,
        index,
        format,
        fetched_bytes: bytes.into_inner() as u64 + config_fetched.unwrap_or(0),
        fetched: missing.len() + usize::from(config_fetched.is_some()),
        cached,
    })
}

/// `os/architecture[/variant]` of an index entry's platform or a config.
fn platform_of(v: &Value) -> String {
    let f = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("");
    let mut s = format!("{}/{}", f("os"), f("architecture"));
    if !f("variant").is_empty() {
        s.push('/');
        s.push_str(f("variant"));
    }
    s
}

fn fetch_blob(
    client: &Client,
    repository: &str,
    digest: &Digest,
    store: &DirStore,
    on_bytes: &dyn Fn(u64),
) -> Result<u64, RegistryError> {
    let req = Req {
        method: Method::GET,
        url: client.url(repository, &format!("blobs/{digest}")),
        headers: vec![],
        body: None,
        scopes: pull_scopes(repository),
        what: format!("blob {digest}"),
        repository,
    };
    let attempts = client.options.attempts.max(1);
    let mut last = None;
    for _ in 0..attempts {
        let r = client.send(&req)?;
        if r.status != 200 {
            return Err(client.status_error(
                &req,
                r,
                "the registry lacks a blob its manifest names",
            ));
        }
        let tmp = store.temp()?;
        let mut f = std::io::BufWriter::new(tmp.reopen().map_err(|e| RegistryError::Invalid {
            registry: client.registry.clone(),
            problem: e.to_string(),
        })?);
        match Client::read_into(r, &mut f, on_bytes) {
            Ok((got, n)) if &got == digest => {
                std::io::Write::flush(&mut f).map_err(|e| RegistryError::Invalid {
                    registry: client.registry.clone(),
                    problem: e.to_string(),
                })?;
                drop(f);
                store.commit(tmp, digest)?;
                return Ok(n);
            }
            Ok((got, _)) => {
                return Err(RegistryError::Invalid {
                    registry: client.registry.clone(),
                    problem: format!("sent blob {digest} with content that hashes to {got}"),
                })
            }
            // A body cut off midway: fetch it again.
            Err(e) => last = Some(e),
        }
    }
    Err(RegistryError::Connect {
        registry: client.registry.clone(),
        message: format!(
            "reading blob {digest}: {}",
            last.map(|e| e.to_string()).unwrap_or_default()
        ),
        attempts,
        fix: "the connection kept breaking mid-blob: run the command again (what arrived is kept)"
            .into(),
    })
}
