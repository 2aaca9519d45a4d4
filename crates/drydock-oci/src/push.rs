//! Pushing an image: every blob first (HEAD, then a cross-repository mount when the registry
//! has it elsewhere, then an upload: monolithic when small, chunked when large; several at once),
//! the manifest last, so that a reader never sees a manifest whose blobs are missing. A push that
//! was cut off is simply run again: what arrived is found by HEAD and not sent twice.
//! Progress (blobs and bytes) goes to the client's [`crate::registry::Events`] as [`crate::registry::Event::Transfer`].

use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use serde_json::{json, Value};

use crate::digest::Digest;
use crate::image::{Image, OCI_INDEX};
use crate::index::ImageIndex;
use crate::registry::{push_scopes, Client, Method, RegistryError, Req};
use crate::store::BlobStore;

/// Blobs up to this size go up in one request; larger ones in chunks of it.
pub const CHUNK: u64 = 8 << 20;

pub use crate::publish::PushReport;

enum Outcome {
    Existing,
    Mounted,
    Uploaded(u64),
}

/// Pushes `image` (its blobs read from `store`) as `repository:tag`. `mount_from` names other
/// repositories of the same registry that may hold some of the blobs (a base image's).
pub fn push(
    client: &Client,
    repository: &str,
    tag: &str,
    image: &Image,
    store: &dyn BlobStore,
    mount_from: &[&str],
) -> Result<PushReport, RegistryError> {
    let mut blobs: Vec<(Digest, u64)> =
        vec![(image.config_digest.clone(), image.config.len() as u64)];
    blobs.extend(image.layers.iter().map(|l| (l.digest.clone(), l.size)));
    let top = Manifest {
        media_type: image.format.manifest_media_type(),
        digest: &image.manifest_digest,
        bytes: &image.manifest,
    };
    push_tree(
        client,
        repository,
        tag,
        &blobs,
        &[],
        &top,
        store,
        mount_from,
    )
}

/// Pushes a multi-platform image as `repository:tag`: every platform's blobs (each once), each
/// platform's manifest by its digest, then the index under the tag, so that the tag never
/// names an index whose manifests are not all there.
pub fn push_index(
    client: &Client,
    repository: &str,
    tag: &str,
    index: &ImageIndex,
    store: &dyn BlobStore,
    mount_from: &[&str],
) -> Result<PushReport, RegistryError> {
    let mut blobs: Vec<(Digest, u64)> = Vec::new();
    for (_, i) in &index.images {
        let own = std::iter::once((i.config_digest.clone(), i.config.len() as u64))
            .chain(i.layers.iter().map(|l| (l.digest.clone(), l.size)));
        for b in own {
            if !blobs.iter().any(|(d, _)| *d == b.0) {
                blobs.push(b);
            }
        }
    }
    let manifests: Vec<Manifest> = index
        .images
        .iter()
        .map(|(_, i)| Manifest {
            media_type: i.format.manifest_media_type(),
            digest: &i.manifest_digest,
            bytes: &i.manifest,
        })
        .collect();
    let top = Manifest {
        media_type: index.media_type,
        digest: &index.digest,
        bytes: &index.bytes,
    };
    push_tree(
        client, repository, tag, &blobs, &manifests, &top, store, mount_from,
    )
}

/// A manifest or index to PUT.
struct Manifest<'a> {
    media_type: &'a str,
    digest: &'a Digest,
    bytes: &'a [u8],
}

/// Pushes `blobs` (in parallel), then `manifests` by digest, then `top` as `tag`.
#[allow(clippy::too_many_arguments)]
fn push_tree(
    client: &Client,
    repository: &str,
    tag: &str,
    blobs: &[(Digest, u64)],
    manifests: &[Manifest],
    top: &Manifest,
    store: &dyn BlobStore,
    mount_from: &[&str],
) -> Result<PushReport, RegistryError> {
    let scopes = push_scopes(repository, mount_from);
    // The tag already names this very manifest: its blobs are there (a registry accepts a
    // manifest only when they are), and there is nothing to send.
    let head = Req {
        method: Method::HEAD,
        url: client.url(repository, &format!("manifests/{tag}")),
        headers: vec![("accept", top.media_type.to_string())],
        body: None,
        scopes: scopes.clone(),
        what: format!("manifest {tag}"),
        repository,
    };
    let r = client.send(&head)?;
    if r.status == 200 && r.header("docker-content-digest").as_deref() == Some(top.digest.as_str())
    {
        return Ok(PushReport {
            reference: format!("{}/{repository}:{tag}@{}", client.registry, top.digest),
            digest: top.digest.to_string(),
            existing: blobs.iter().map(|(d, _)| d.to_string()).collect(),
            ..PushReport::default()
        });
    }
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Result<Outcome, RegistryError>)>> = Mutex::new(Vec::new());
    let done = AtomicUsize::new(0);
    let total: u64 = blobs.iter().map(|(_, n)| n).sum();
    let bytes_done = std::sync::atomic::AtomicU64::new(0);
    client
        .options
        .events
        .emit(&crate::registry::Event::Transfer {
            blobs_done: 0,
            blobs: blobs.len(),
            bytes_done: 0,
            bytes: total,
        });
    std::thread::scope(|s| {
        for _ in 0..client.options.jobs.clamp(1, 16).min(blobs.len()) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some((d, size)) = blobs.get(i) else { break };
                let r = push_blob(client, repository, d, *size, store, mount_from, &scopes);
                let n = done.fetch_add(1, Ordering::SeqCst) + 1;
                let b = bytes_done.fetch_add(*size, Ordering::SeqCst) + size;
                client
                    .options
                    .events
                    .emit(&crate::registry::Event::Transfer {
                        blobs_done: n,
                        blobs: blobs.len(),
                        bytes_done: b,
                        bytes: total,
                    });
                let failed = r.is_err();
                results.lock().unwrap().push((i, r));
                if failed {
                    // Stop handing out work; the running uploads finish.
                    next.store(blobs.len(), Ordering::SeqCst);
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|(i, _)| *i);
    let mut report = PushReport::default();
    for (i, r) in results {
        let d = blobs[i].0.to_string();
        match r? {
            Outcome::Existing => report.existing.push(d),
            Outcome::Mounted => report.mounted.push(d),
            Outcome::Uploaded(n) => report.uploaded.push((d, n)),
        }
    }
    for m in manifests {
        put_checked(client, repository, m.digest.as_str(), m, &scopes)?;
    }
    put_checked(client, repository, tag, top, &scopes)?;
    report.digest = top.digest.to_string();
    report.reference = format!("{}/{repository}:{tag}@{}", client.registry, top.digest);
    Ok(report)
}

/// PUTs `m` as `manifests/<reference>` and checks the digest the registry stored it under.
fn put_checked(
    client: &Client,
    repository: &str,
    reference: &str,
    m: &Manifest,
    scopes: &[String],
) -> Result<(), RegistryError> {
    let req = Req {
        method: Method::PUT,
        url: client.url(repository, &format!("manifests/{reference}")),
        headers: vec![("content-type", m.media_type.to_string())],
        body: Some(m.bytes),
        scopes: scopes.to_vec(),
        what: format!("manifest {reference}"),
        repository,
    };
    let r = client.send(&req)?;
    if r.status != 201 && r.status != 200 {
        return Err(client.status_error(
            &req,
            r,
            "the registry refused the manifest; check that it accepts this media type",
        ));
    }
    if let Some(d) = r.header("docker-content-digest") {
        if d != m.digest.as_str() {
            return Err(RegistryError::Invalid {
                registry: client.registry.clone(),
                problem: format!("stored the manifest as {d}, not {}", m.digest),
            });
        }
    }
    Ok(())
}

/// Pushes `artifacts` about `subject` to `repository` (each manifest by its digest), then makes
/// them findable: a registry with the referrers API indexes them itself; on one without it,
/// the `sha256-<hex>` index is read, the new descriptors merged in (one per digest), and
/// written back.
pub fn push_artifacts(
    client: &Client,
    repository: &str,
    subject: &crate::attach::Subject,
    artifacts: &[crate::attach::Artifact],
    store: &dyn BlobStore,
) -> Result<Vec<crate::attach::Attached>, RegistryError> {
    let mut pushed = Vec::new();
    for a in artifacts {
        pushed.push((a, a.image(subject, store)?));
    }
    // Each artifact is a small push of its own (a HEAD when the registry has it already, as
    // on a rebuild): several at once, as blobs are. Their one shared blob, the empty config,
    // goes first and alone: distribution 2.8 writes a blob's repository link in place, and a
    // manifest checked while another upload of the same blob rewrites that link is refused
    // (DIGEST_INVALID). Every other blob belongs to one artifact.
    if let Some((_, first)) = pushed.first() {
        let scopes = push_scopes(repository, &[]);
        push_blob(
            client,
            repository,
            &first.config_digest,
            first.config.len() as u64,
            store,
            &[],
            &scopes,
        )?;
    }
    let next = AtomicUsize::new(0);
    let failed: Mutex<Option<RegistryError>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..client.options.jobs.clamp(1, 8).min(pushed.len()) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some((_, image)) = pushed.get(i) else {
                    break;
                };
                let r = push(
                    client,
                    repository,
                    image.manifest_digest.as_str(),
                    image,
                    store,
                    &[],
                );
                if let Err(e) = r {
                    next.store(pushed.len(), Ordering::SeqCst);
                    failed.lock().unwrap().get_or_insert(e);
                }
            });
        }
    });
    if let Some(e) = failed.into_inner().unwrap() {
        return Err(e);
    }
    let location =
        |image: &Image| format!("{}/{repository}@{}", client.registry, image.manifest_digest);
    if has_referrers_api(client, repository, &subject.digest)? {
        return Ok(pushed
            .iter()
            .map(|(a, image)| crate::attach::Attached {
                artifact_type: a.artifact_type.clone(),
                digest: image.manifest_digest.to_string(),
                location: location(image),
                found_by: "referrers API".into(),
            })
            .collect());
    }
    let tag = crate::attach::referrers_tag(&subject.digest);
    let mut entries: Vec<Value> = match get_index(client, repository, &tag)? {
        Some(v) => v["manifests"].as_array().cloned().unwrap_or_default(),
        None => Vec::new(),
    };
    let before = entries.clone();
    for (a, image) in &pushed {
        let entry = a.index_entry(image);
        if !entries.contains(&entry) {
            entries.retain(|e| e["digest"].as_str() != Some(image.manifest_digest.as_str()));
            entries.push(entry);
        }
    }
    let index = crate::image::canonical_json(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": entries,
    }))
    .map_err(|e| RegistryError::Invalid {
        registry: client.registry.clone(),
        problem: format!("the referrers index: {e}"),
    })?;
    // The same artifacts again (a rebuild): the index already lists them as they are.
    if entries != before {
        put_manifest(client, repository, &tag, OCI_INDEX, &index)?;
    }
    Ok(pushed
        .iter()
        .map(|(a, image)| crate::attach::Attached {
            artifact_type: a.artifact_type.clone(),
            digest: image.manifest_digest.to_string(),
            location: location(image),
            found_by: format!("referrers tag {tag}"),
        })
        .collect())
}

/// Whether the registry answers `GET /v2/<name>/referrers/<digest>` (OCI distribution 1.1); a
/// 404 means it does not, and the tag schema is used.
fn has_referrers_api(
    client: &Client,
    repository: &str,
    subject: &Digest,
) -> Result<bool, RegistryError> {
    let mut req = client.get_request(repository, &format!("referrers/{subject}"));
    req.headers.push(("accept", OCI_INDEX.into()));
    req.what = format!("the referrers of {subject}");
    let r = client.send(&req)?;
    match r.status {
        200 => Ok(r
            .header("content-type")
            .is_some_and(|t| t.starts_with(OCI_INDEX))),
        404 => Ok(false),
        _ => Err(client.status_error(&req, r, "check the registry's logs")),
    }
}

/// The index tagged `tag`, or `None` when there is none.
fn get_index(client: &Client, repository: &str, tag: &str) -> Result<Option<Value>, RegistryError> {
    let req = client.manifest_request(repository, tag);
    match client.fetch(&req, 4 << 20, "check the registry's logs") {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| RegistryError::Invalid {
                registry: client.registry.clone(),
                problem: format!("{repository}:{tag} is not JSON ({e})"),
            }),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// PUTs a manifest (or an index) whose blobs are already in the repository under `tag`.
pub fn put_manifest(
    client: &Client,
    repository: &str,
    tag: &str,
    media_type: &str,
    bytes: &[u8],
) -> Result<Digest, RegistryError> {
    let req = Req {
        method: Method::PUT,
        url: client.url(repository, &format!("manifests/{tag}")),
        headers: vec![("content-type", media_type.to_string())],
        body: Some(bytes),
        scopes: push_scopes(repository, &[]),
        what: format!("manifest {tag}"),
        repository,
    };
    let r = client.send(&req)?;
    if r.status != 201 && r.status != 200 {
        return Err(client.status_error(&req, r, "the registry refused the manifest"));
    }
    Ok(Digest::of(bytes))
}

fn push_blob(
    client: &Client,
    repository: &str,
    digest: &Digest,
    size: u64,
    store: &dyn BlobStore,
    mount_from: &[&str],
    scopes: &[String],
) -> Result<Outcome, RegistryError> {
    let what = format!("blob {digest}");
    let head = Req {
        method: Method::HEAD,
        url: client.url(repository, &format!("blobs/{digest}")),
        headers: vec![],
        body: None,
        scopes: scopes.to_vec(),
        what: what.clone(),
        repository,
    };
    let r = client.send(&head)?;
    match r.status {
        200 => return Ok(Outcome::Existing),
        404 => {}
        _ => return Err(client.status_error(&head, r, "check the registry's logs")),
    }
    // A mount, when another repository may hold it; a refusal (202) still opens an upload.
    let mut location = None;
    for from in mount_from.iter().filter(|f| **f != repository) {
        let req = Req {
            method: Method::POST,
            url: client.url(
                repository,
                &format!(
                    "blobs/uploads/?mount={digest}&from={}",
                    crate::registry::urlencode(from)
                ),
            ),
            headers: vec![("content-length", "0".into())],
            body: None,
            scopes: scopes.to_vec(),
            what: what.clone(),
            repository,
        };
        let r = client.send(&req)?;
        match r.status {
            201 => return Ok(Outcome::Mounted),
            202 => {
                location = r.header("location");
                break;
            }
            _ => {}
        }
    }
    let location = match location {
        Some(l) => l,
        None => {
            let req = Req {
                method: Method::POST,
                url: client.url(repository, "blobs/uploads/"),
                headers: vec![("content-length", "0".into())],
                body: None,
                scopes: scopes.to_vec(),
                what: what.clone(),
                repository,
            };
            let r = client.send(&req)?;
            if r.status != 202 {
                return Err(client.status_error(
                    &req,
                    r,
                    "the registry would not start an upload; check that it accepts pushes",
                ));
            }
            r.header("location").ok_or_else(|| RegistryError::Invalid {
                registry: client.registry.clone(),
                problem: "started an upload without a Location".into(),
            })?
        }
    };
    // Opening verifies the blob: a corrupt store never reaches a registry.
    let mut reader = store.open(digest)?;
    let mut location = client.location(&location);
    let mut sent = 0u64;
    let finish = |loc: &str| {
        let sep = if loc.contains('?') { '&' } else { '?' };
        format!("{loc}{sep}digest={digest}")
    };
    if size <= CHUNK {
        let mut body = Vec::with_capacity(size as usize);
        reader
            .read_to_end(&mut body)
            .map_err(|e| io_err(client, digest, e))?;
        let req = Req {
            method: Method::PUT,
            url: finish(&location),
            headers: vec![("content-type", "application/octet-stream".into())],
            body: Some(&body),
            scopes: scopes.to_vec(),
            what: what.clone(),
            repository,
        };
        let r = client.send(&req)?;
        if r.status != 201 {
            return Err(client.status_error(&req, r, "the registry refused the blob"));
        }
        return Ok(Outcome::Uploaded(body.len() as u64));
    }
    let mut chunk = vec![0u8; CHUNK as usize];
    loop {
        let mut n = 0;
        while n < chunk.len() {
            let k = reader
                .read(&mut chunk[n..])
                .map_err(|e| io_err(client, digest, e))?;
            if k == 0 {
                break;
            }
            n += k;
        }
        if n == 0 {
            break;
        }
        let req = Req {
            method: Method::PATCH,
            url: location.clone(),
            headers: vec![
                ("content-type", "application/octet-stream".into()),
                ("content-range", format!("{sent}-{}", sent + n as u64 - 1)),
            ],
            body: Some(&chunk[..n]),
            scopes: scopes.to_vec(),
            what: what.clone(),
            repository,
        };
        let r = client.send(&req)?;
        if r.status != 202 {
            return Err(client.status_error(&req, r, "the registry refused a chunk of the blob"));
        }
        if let Some(l) = r.header("location") {
            location = client.location(&l);
        }
        sent += n as u64;
    }
    let req = Req {
        method: Method::PUT,
        url: finish(&location),
        headers: vec![("content-length", "0".into())],
        body: None,
        scopes: scopes.to_vec(),
        what,
        repository,
    };
    let r = client.send(&req)?;
    if r.status != 201 {
        return Err(client.status_error(&req, r, "the registry refused the blob"));
    }
    Ok(Outcome::Uploaded(sent))
}

fn io_err(client: &Client, digest: &Digest, e: std::io::Error) -> RegistryError {
    RegistryError::ReadBlob {
        registry: client.registry.clone(),
        digest: digest.to_string(),
        source: e,
    }
}

/// `--push REF`: a registry as a publisher. Without a reference it pushes under the build's tag.
pub struct RegistryPush {
    pub reference: Option<crate::Reference>,
    pub options: crate::registry::Options,
    /// Other repositories of the same registry that may hold some blobs (a base image's).
    pub mount_from: Vec<String>,
    /// The client `check` connected, kept for `publish` (one ping and login per push).
    connected: std::sync::Mutex<Option<Client>>,
}

impl RegistryPush {
    pub fn new(
        reference: Option<crate::Reference>,
        options: crate::registry::Options,
        mount_from: Vec<String>,
    ) -> RegistryPush {
        RegistryPush {
            reference,
            options,
            mount_from,
            connected: std::sync::Mutex::new(None),
        }
    }
}

impl crate::publish::Publisher for RegistryPush {
    fn destination(&self) -> String {
        match &self.reference {
            Some(r) => format!("registry {r}"),
            None => "registry".into(),
        }
    }

    fn check(&self) -> Result<(), crate::publish::PublishError> {
        if let Some(r) = &self.reference {
            if r.digest().is_some() {
                return Err(crate::publish::PublishError::BadTarget {
                    spec: format!("--push {r}: a push names a tag; the digest is what it computes"),
                });
            }
            // Reachable, and the credentials accepted, before a build spends minutes.
            let client = Client::connect(r.registry(), self.options.clone())?;
            if let Ok(mut c) = self.connected.lock() {
                *c = Some(client);
            }
        }
        Ok(())
    }

    fn publish(
        &self,
        req: &crate::publish::PublishRequest<'_>,
    ) -> Result<crate::publish::Published, crate::publish::PublishError> {
        let r = self.reference.clone().unwrap_or_else(|| req.tag.clone());
        let checked = self.connected.lock().ok().and_then(|mut c| c.take());
        let client = match checked {
            Some(c) if c.registry == r.registry() => c,
            _ => Client::connect(r.registry(), self.options.clone())?,
        };
        let tag = r.tag().unwrap_or("latest").to_string();
        let from: Vec<&str> = self
            .mount_from
            .iter()
            .map(String::as_str)
            .chain(
                req.sources
                    .iter()
                    .filter(|s| s.registry() == r.registry())
                    .map(|s| s.repository()),
            )
            .collect();
        let report = match req.index {
            Some(index) => push_index(&client, r.repository(), &tag, index, req.store, &from)?,
            None => push(&client, r.repository(), &tag, req.image, req.store, &from)?,
        };
        // Kept for `attach`, which follows on the same registry.
        if let Ok(mut c) = self.connected.lock() {
            *c = Some(client);
        }
        Ok(crate::publish::Published {
            destination: format!("registry {}", report.reference),
            digest: req.top().1.clone(),
            reference: r,
            written: crate::publish::Written::Registry(report),
        })
    }

    fn attach(
        &self,
        published: &crate::publish::Published,
        subject: &crate::attach::Subject,
        store: &dyn BlobStore,
        artifacts: &[crate::attach::Artifact],
    ) -> Result<Vec<crate::attach::Attached>, crate::publish::PublishError> {
        if artifacts.is_empty() {
            return Ok(Vec::new());
        }
        let r = &published.reference;
        let kept = self.connected.lock().ok().and_then(|mut c| c.take());
        let client = match kept {
            Some(c) if c.registry == r.registry() => c,
            _ => Client::connect(r.registry(), self.options.clone())?,
        };
        let attached = push_artifacts(&client, r.repository(), subject, artifacts, store)?;
        if let Ok(mut c) = self.connected.lock() {
            *c = Some(client);
        }
        Ok(attached)
    }
}
