//! OCI images without a daemon.
//!
//! - [`Digest`], [`Reference`] (parsed and normalised per the distribution spec), [`Platform`].
//! - [`BlobStore`]: where blobs live; [`DirStore`] keeps them as files (drydock's cache is one,
//!   an OCI layout's `blobs/` another); a registry read as a source is a third.
//! - [`ImageBuilder`]: an image built by changing another, as go-containerregistry's `mutate`
//!   does: from [`ImageBuilder::scratch`] (the empty image) or a base read with
//!   [`ImageBuilder::from_image`], layers appended, the config changed.
//! - [`Location`]: where an image is or goes (`oci:DIR[:REF|@DIGEST]`,
//!   `docker-archive:FILE[:TAG]`, `docker-daemon:NAME`, `podman:NAME`, a registry reference),
//!   parsed once; it picks the reader and the writer.
//! - [`ImageSource`] ([`source`]): the one reading trait (an index or a manifest, the platform's
//!   image, blobs verified, the artifacts that refer to an image); [`Publisher`] ([`publish`]):
//!   the one writing trait. One implementation of each per place: [`layout`], [`archive`],
//!   [`engine`], [`registry`].
//!
//! ```
//! use drydock_oci::{BlobStore, DirStore, ImageBuilder, Layer, Platform, Reference};
//! use drydock_oci::layout::{read_image, OciLayout};
//! use drydock_oci::publish::{PublishRequest, Publisher};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let store = DirStore::create(&dir.path().join("blobs")).unwrap();
//! // A layer's bytes would normally be a gzip-compressed tar; any blob shows the bookkeeping.
//! let blob = store.put(b"layer bytes").unwrap();
//! let layer = Layer { digest: blob.clone(), diff_id: blob.clone(), size: 11, media_type: "application/vnd.oci.image.layer.v1.tar+gzip".into() };
//!
//! let mut base = ImageBuilder::scratch(&Platform::linux_amd64());
//! base.append_layer(layer, "2024-01-01T00:00:00Z", "base").merge_env(&["PATH=/bin".into()]);
//! let image = base.build(&store).unwrap();
//! let tag = Reference::parse("example/base:1").unwrap();
//! let out = dir.path().join("layout");
//! let published = OciLayout { dir: out.clone() }
//!     .publish(&PublishRequest { store: &store, image: &image, index: None, tag: &tag, created: 0, sources: &[] })
//!     .unwrap();
//! assert_eq!(published.digest, image.manifest_digest);
//!
//! // Read it back as a base and build on it.
//! let (layout_store, manifest) = read_image(&out, Some("1"), &Platform::linux_amd64()).unwrap();
//! let mut app = ImageBuilder::from_image(&layout_store, &manifest).unwrap();
//! app.merge_env(&["APP=1".into()]);
//! assert_eq!(app.layers().len(), 1);
//! assert_eq!(app.runtime()["Env"], serde_json::json!(["PATH=/bin", "APP=1"]));
//! ```

pub mod archive;
pub mod attach;
pub mod digest;
pub mod engine;
pub mod fsutil;
pub mod image;
pub mod index;
pub mod layout;
pub mod location;
pub mod platform;
pub mod publish;
pub mod pull;
pub mod push;
pub mod reference;
pub mod registry;
pub mod source;
pub mod store;

pub use digest::Digest;
pub use engine::Engine;
pub use image::{Format, Image, ImageBuilder, ImageError, Layer};
pub use index::ImageIndex;
pub use location::Location;
pub use platform::Platform;
pub use publish::{PublishError, PublishRequest, Published, Publisher, PushReport, Written};
pub use reference::{Reference, ReferenceError};
pub use source::{Fetched, ImageSource, ReadError};
pub use store::{BlobStore, DirStore, StoreError};
