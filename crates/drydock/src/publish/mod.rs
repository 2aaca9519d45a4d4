//! Where a built image goes. The OCI layout and docker-archive publishers are drydock-oci's; a
//! local engine (`--load docker|podman`) is drydock's own, in [`engine`].

mod engine;

pub use drydock_oci::archive::{is_docker_archive, write_archive, DockerArchive};
pub use drydock_oci::layout::{parse_index, OciLayout};
pub use drydock_oci::publish::*;
pub use engine::{Engine, EngineLoad};
