//! The view Dockerfile rules see: the parsed file, its lines, its stages, the stages whose layers
//! make the final image and, when it was read from disk, its build context.

use drydock_dockerfile::{stages, Dockerfile, Stage};
use drydock_dockerignore::context::BuildContext;

/// What a Dockerfile rule sees.
pub struct DockerfileCtx<'a> {
    pub path: &'a str,
    pub lines: Vec<&'a str>,
    pub df: &'a Dockerfile,
    pub stages: Vec<Stage>,
    /// Indices into `stages` of the final stage and the stages it is built FROM, in turn: the
    /// stages whose layers are the final image's (a stage COPY --from'ed ships only the files
    /// copied, not its layers).
    pub final_chain: Vec<usize>,
    /// The build context with its .dockerignore applied, when the Dockerfile was read from disk.
    pub context: Option<&'a BuildContext>,
}

impl<'a> DockerfileCtx<'a> {
    pub fn new(
        path: &'a str,
        text: &'a str,
        df: &'a Dockerfile,
        context: Option<&'a BuildContext>,
    ) -> DockerfileCtx<'a> {
        let mut ctx = DockerfileCtx {
            path,
            lines: text.lines().collect(),
            df,
            stages: stages(df),
            final_chain: Vec::new(),
            context,
        };
        let mut next = ctx.stages.len().checked_sub(1);
        while let Some(i) = next {
            if ctx.final_chain.contains(&i) {
                break;
            }
            ctx.final_chain.push(i);
            next = ctx.stage_index(&ctx.stages[i].base).filter(|b| *b < i);
        }
        ctx
    }

    /// The stage a `FROM` or `--from` names: an earlier stage's alias or its index.
    pub fn stage_index(&self, name: &str) -> Option<usize> {
        let name = name.to_ascii_lowercase();
        self.stages
            .iter()
            .position(|s| s.alias.as_deref() == Some(name.as_str()))
            .or_else(|| {
                name.parse::<usize>()
                    .ok()
                    .filter(|i| *i < self.stages.len())
            })
    }
}
