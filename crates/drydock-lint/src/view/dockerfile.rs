//! The view Dockerfile rules see: the parsed file, its lines, its stages and, when it was read
//! from disk, its build context.

use drydock_dockerfile::{Dockerfile, Stage};
use drydock_dockerignore::context::BuildContext;

/// What a Dockerfile rule sees.
pub struct DockerfileCtx<'a> {
    pub path: &'a str,
    pub lines: Vec<&'a str>,
    pub df: &'a Dockerfile,
    pub stages: Vec<Stage>,
    /// The build context (the Dockerfile's directory) with its .dockerignore applied, when the
    /// Dockerfile was read from disk.
    pub context: Option<&'a BuildContext>,
}
