//! Reading from a registry: [`RegistrySource`] is a registry's [`ImageSource`], and [`pull`]
//! what its `fetch` does: the manifest (from an index, the platform's, skipping attestations),
//! its config and layers, several at once, each verified against its digest. Blobs the store
//! already holds intact are not fetched again. Progress (blobs and bytes) goes to the client's
//! [`crate::registry::Events`] as [`crate::registry::Event::Transfer`].

use std::collections::BTreeMap;
use std::io::{Read, Seek};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use serde_json::Value;

use crate::digest::Digest;
use crate::image::{Format, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST};
use crate::platform::Platform;
use crate::reference::Reference;
use crate::registry::{Client, Method, Options, RegistryError};
use crate::source::{
    platform_name, Descriptor, Fetched, ImageSource, Index, Manifest, ReadError, Resolved,
};
use crate::store::{BlobStore, DirStore, StoreError};

/// What a pull resolved.
pub type Pulled = Fetched;

/// A manifest by tag or digest: its digest, media type, JSON and bytes.
fn get_manifest(
    client: &Client,
    repository: &str,
    reference: &str,
) -> Result<(Digest, String, Value, Vec<u8>), RegistryError> {
    let req = client.manifest_request(repository, reference);
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
    Ok((digest, media, v, bytes))
}

/// [`get_manifest`], kept in `store`.
fn get_manifest_into(
    client: &Client,
    repository: &str,
    reference: &str,
    store: &DirStore,
) -> Result<(Digest, String, Value), RegistryError> {
    let (digest, media, v, bytes) = get_manifest(client, repository, reference)?;
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
) -> Result<Pulled, RegistryError> {
    let (mut digest, mut media, mut manifest) =
        get_manifest_into(client, repository, reference, store)?;
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
                    .map(platform_name)
                    .collect(),
            })?;
        let d = entry
            .get("digest")
            .and_then(|d| d.as_str())
            .unwrap_or("")
            .to_string();
        index = Some(digest);
        (digest, media, manifest) = get_manifest_into(client, repository, &d, store)?;
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
            available: vec![platform_name(&config)],
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
        client
            .options
            .events
            .emit(&crate::registry::Event::Transfer {
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

fn fetch_blob(
    client: &Client,
    repository: &str,
    digest: &Digest,
    store: &DirStore,
    on_bytes: &dyn Fn(u64),
) -> Result<u64, RegistryError> {
    let req = client.blob_request(repository, digest);
    let attempts = client.options.attempts.max(1);
    let mut last = None;
    let mut tried = 0;
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
            // A body cut off midway: fetch it again. One that stopped coming (nothing for
            // the response timeout) is tried twice at most, as any timeout.
            Err(e) => {
                let stalled = stalled(&e);
                last = Some(e);
                tried += 1;
                if stalled && tried >= 2 {
                    let host = client.base().split("://").nth(1).unwrap_or_default();
                    return Err(RegistryError::Connect {
                        registry: client.registry.clone(),
                        message: format!(
                            "GET blob {digest}: the registry stopped sending it (nothing for {:.0} s)",
                            client.options.response_timeout.as_secs_f64()
                        ),
                        attempts: tried,
                        fix: format!("the registry at {host} stopped mid-blob: check that it is running normally (its logs), then run the command again (what arrived is kept)"),
                    });
                }
            }
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

/// Whether reading a body failed because nothing came for the response timeout.
fn stalled(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::TimedOut
        || e.get_ref()
            .and_then(|i| i.downcast_ref::<ureq::Error>())
            .is_some_and(|u| matches!(u, ureq::Error::Timeout(_)))
}

/// A registry reference read as an image source. The client connects on first use; manifests
/// read are kept in memory, and blobs are fetched (verified) when opened.
pub struct RegistrySource {
    pub reference: Reference,
    options: Options,
    client: OnceLock<Client>,
    manifests: Mutex<BTreeMap<Digest, Vec<u8>>>,
}

impl RegistrySource {
    pub fn new(reference: &Reference, options: Options) -> RegistrySource {
        RegistrySource {
            reference: reference.clone(),
            options,
            client: OnceLock::new(),
            manifests: Mutex::new(BTreeMap::new()),
        }
    }

    /// The connected client (one ping and login per source).
    pub fn client(&self) -> Result<&Client, RegistryError> {
        if let Some(c) = self.client.get() {
            return Ok(c);
        }
        let c = Client::connect(self.reference.registry(), self.options.clone())?;
        Ok(self.client.get_or_init(|| c))
    }

    /// A digest when the reference has one, else its tag (`latest` when none was written).
    pub fn wanted(&self) -> String {
        self.reference
            .digest()
            .or(self.reference.tag())
            .unwrap_or("latest")
            .to_string()
    }

    fn named(&self) -> String {
        let (registry, repository, r) = (
            self.reference.registry(),
            self.reference.repository(),
            self.wanted(),
        );
        if r.contains(':') {
            format!("{registry}/{repository}@{r}")
        } else {
            format!("{registry}/{repository}:{r}")
        }
    }

    fn get(&self, reference: &str) -> Result<(Digest, Manifest, Vec<u8>), ReadError> {
        let client = self.client()?;
        let (digest, media, _, bytes) =
            get_manifest(client, self.reference.repository(), reference)?;
        let manifest =
            Manifest::parse(&bytes, Some(&media)).map_err(|why| RegistryError::Invalid {
                registry: client.registry.clone(),
                problem: format!("manifest {reference} is {why}"),
            })?;
        if let Ok(mut m) = self.manifests.lock() {
            m.insert(digest.clone(), bytes.clone());
        }
        Ok((digest, manifest, bytes))
    }

    fn read_only(&self) -> StoreError {
        StoreError::Io {
            path: self.named().into(),
            source: std::io::Error::other("a registry is read here, not written"),
        }
    }
}

impl ImageSource for RegistrySource {
    fn describe(&self) -> String {
        self.named()
    }

    fn resolve(&self) -> Result<Resolved, ReadError> {
        let (digest, manifest, bytes) = self.get(&self.wanted())?;
        Ok(Resolved {
            digest,
            bytes,
            manifest,
        })
    }

    fn manifest(&self, digest: &Digest) -> Result<Vec<u8>, ReadError> {
        if let Some(b) = self
            .manifests
            .lock()
            .ok()
            .and_then(|m| m.get(digest).cloned())
        {
            return Ok(b);
        }
        Ok(self.get(digest.as_str())?.2)
    }

    fn blobs(&self) -> &dyn BlobStore {
        self
    }

    /// The OCI 1.1 referrers API, or on a registry without it the referrers tag schema's
    /// `sha256-<hex>` index; and a cosign signature tagged `sha256-<hex>.sig`.
    fn referrers(&self, digest: &Digest) -> Result<Vec<Descriptor>, ReadError> {
        let client = self.client()?;
        let repository = self.reference.repository();
        let mut req = client.get_request(repository, &format!("referrers/{digest}"));
        req.headers.push(("accept", OCI_INDEX.into()));
        req.what = format!("the referrers of {digest}");
        let r = client.send(&req)?;
        let index = match r.status {
            200 => {
                let bytes = r.bytes(4 << 20).map_err(|e| RegistryError::Invalid {
                    registry: client.registry.clone(),
                    problem: format!("reading the referrers of {digest}: {e}"),
                })?;
                Manifest::parse(&bytes, Some(OCI_INDEX)).map(Some)
            }
            404 => match get_manifest(client, repository, &format!("sha256-{}", digest.hex())) {
                Ok((_, media, _, bytes)) => Manifest::parse(&bytes, Some(&media)).map(Some),
                Err(RegistryError::Status { status: 404, .. }) => Ok(None),
                Err(e) => return Err(e.into()),
            },
            _ => {
                return Err(client
                    .status_error(&req, r, "check the registry's logs")
                    .into())
            }
        };
        let mut found = match index {
            Ok(Some(Manifest::Index(i))) => i.manifests,
            Ok(_) => Vec::new(),
            Err(why) => {
                return Err(RegistryError::Invalid {
                    registry: client.registry.clone(),
                    problem: format!("the referrers of {digest} are {why}"),
                }
                .into())
            }
        };
        // A cosign signature: the manifest tagged `sha256-<hex>.sig`.
        match get_manifest(client, repository, &format!("sha256-{}.sig", digest.hex())) {
            Ok((d, media, _, bytes)) if !found.iter().any(|f| f.digest == d) => {
                let kind = match Manifest::parse(&bytes, Some(&media)) {
                    Ok(Manifest::Image(m)) => Some(m.kind().to_string()),
                    _ => None,
                };
                found.push(Descriptor {
                    media_type: media,
                    digest: d,
                    size: bytes.len() as u64,
                    platform: None,
                    annotations: BTreeMap::new(),
                    artifact_type: kind,
                });
            }
            Ok(_) | Err(RegistryError::Status { status: 404, .. }) => {}
            Err(e) => return Err(e.into()),
        }
        Ok(found)
    }

    fn no_platform(&self, platform: &Platform, index: &Index) -> ReadError {
        RegistryError::NoPlatform {
            reference: self.named(),
            asked: platform.to_string(),
            available: index.platforms(),
        }
        .into()
    }

    /// [`pull`]: several blobs at once, progress reported.
    fn fetch(&self, platform: &Platform, store: &DirStore) -> Result<Fetched, ReadError> {
        Ok(pull(
            self.client()?,
            self.reference.repository(),
            &self.wanted(),
            platform,
            store,
        )?)
    }
}

impl BlobStore for RegistrySource {
    fn has(&self, digest: &Digest) -> bool {
        if self.manifests.lock().is_ok_and(|m| m.contains_key(digest)) {
            return true;
        }
        let Ok(client) = self.client() else {
            return false;
        };
        let repository = self.reference.repository();
        let mut req = client.blob_request(repository, digest);
        req.method = Method::HEAD;
        client.send(&req).is_ok_and(|r| r.status == 200)
    }

    fn put(&self, _bytes: &[u8]) -> Result<Digest, StoreError> {
        Err(self.read_only())
    }

    fn verify(&self, digest: &Digest) -> Result<(), StoreError> {
        let mut r = self.open(digest)?;
        std::io::copy(&mut r, &mut std::io::sink()).map_err(|source| StoreError::Io {
            path: digest.as_str().into(),
            source,
        })?;
        Ok(())
    }

    /// A manifest read before, or the blob fetched into a temporary file and verified.
    fn open(&self, digest: &Digest) -> Result<Box<dyn Read + Send>, StoreError> {
        if let Some(b) = self
            .manifests
            .lock()
            .ok()
            .and_then(|m| m.get(digest).cloned())
        {
            return Ok(Box::new(std::io::Cursor::new(b)));
        }
        let io = |source: std::io::Error| StoreError::Io {
            path: digest.as_str().into(),
            source,
        };
        let fetched = (|| -> Result<std::fs::File, RegistryError> {
            let client = self.client()?;
            let repository = self.reference.repository();
            let req = client.blob_request(repository, digest);
            let r = client.send(&req)?;
            if r.status != 200 {
                return Err(client.status_error(
                    &req,
                    r,
                    "the registry lacks a blob its manifest names",
                ));
            }
            let invalid = |problem: String| RegistryError::Invalid {
                registry: client.registry.clone(),
                problem,
            };
            let mut f = tempfile::tempfile().map_err(|e| invalid(e.to_string()))?;
            let (got, _) = Client::read_into(r, &mut f, &|_| {})
                .map_err(|e| invalid(format!("reading blob {digest}: {e}")))?;
            if &got != digest {
                return Err(invalid(format!(
                    "sent blob {digest} with content that hashes to {got}"
                )));
            }
            f.rewind().map_err(|e| invalid(e.to_string()))?;
            Ok(f)
        })();
        match fetched {
            Ok(f) => Ok(Box::new(f)),
            Err(e) => Err(io(std::io::Error::other(e.to_string()))),
        }
    }
}
