//! Where a built image goes. Every writer is drydock-oci's, one per place (OCI layout, docker
//! archive, local engine, registry), picked by [`Location::writer`]; this module turns the
//! command line's `--output`, `--push` and `--load` into them ([`destinations`]), in one place
//! for build, deploy and bench.

pub use drydock_oci::archive::{is_docker_archive, write_archive, DockerArchive};
pub use drydock_oci::engine::{Engine, EngineLoad};
pub use drydock_oci::layout::{parse_index, OciLayout};
pub use drydock_oci::location::{parse_output, Location};
pub use drydock_oci::publish::*;

use drydock_oci::push::RegistryPush;
use drydock_oci::Reference;

/// A destination the command line names that is none.
#[derive(Debug, thiserror::Error)]
pub enum DestinationError {
    /// An `--output` that names no place drydock writes to.
    #[error(transparent)]
    Output(PublishError),
    /// A `--push` reference that is not one.
    #[error(transparent)]
    Push(drydock_oci::reference::ReferenceError),
}

/// Where a build writes its image, as the command line says: each `--output SPEC` (any
/// [`Location`] written with its transport), `--push [REF]` (empty: the build's tag) and each
/// `--load ENGINE` (under the build's tag), in that order.
pub fn destinations(
    outputs: &[String],
    push: Option<&str>,
    load: &[Engine],
    registry: &drydock_oci::registry::Options,
) -> Result<Vec<Box<dyn Publisher>>, DestinationError> {
    let mut out = Vec::new();
    for spec in outputs {
        out.push(
            Location::parse_output(spec)
                .map_err(DestinationError::Output)?
                .writer(registry),
        );
    }
    if let Some(p) = push {
        let reference = match p {
            "" => None,
            p => Some(Reference::parse(p).map_err(DestinationError::Push)?),
        };
        out.push(Box::new(RegistryPush::new(
            reference,
            registry.clone(),
            Vec::new(),
        )));
    }
    out.extend(
        load.iter()
            .map(|&engine| Box::new(EngineLoad::new(engine)) as Box<dyn Publisher>),
    );
    Ok(out)
}
