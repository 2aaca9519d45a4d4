//! Dockerfile rules. Each file holds one rule: its catalog entry (code, name, practice,
//! severity, doc) and its check.

pub mod df001_untagged_base;
pub mod df002_apk_no_cache;
pub mod df003_apt_lists;
pub mod df004_root_user;
pub mod df005_non_numeric_user;
pub mod df006_no_healthcheck;
pub mod df007_shell_form_entrypoint;
pub mod df008_secret_in_env;
pub mod df009_add_instead_of_copy;
pub mod df010_copy_all_before_deps;
pub mod df011_bad_expose;
pub mod df012_repeated_instruction;
pub mod df013_duplicate_stage;
pub mod df014_copy_from_unknown_stage;
pub mod df015_relative_workdir;
pub mod df016_compiler_in_final_stage;
pub mod df017_go_build_with_cgo;
pub mod df018_heavy_base_for_static_binary;
pub mod df019_final_stage_ships_sources;
pub mod df020_sudo;
pub mod df021_cd_instead_of_workdir;
pub mod df022_apt_recommends;
pub mod df023_maintainer;
pub mod df024_no_user;

use crate::diagnostic::{Finding, Span};
use crate::view::DockerfileCtx;
use drydock_dockerfile::parser::Instruction;
use drydock_dockerfile::shell::{Command, WordSpan};
use drydock_dockerfile::stages::Stage;

/// A finding covering an instruction, from its keyword to the end of its last line.
pub fn at(
    ctx: &DockerfileCtx<'_>,
    ins: &Instruction,
    message: String,
    fix: Option<String>,
) -> Finding {
    let last = ctx
        .lines
        .get(ins.end_line.saturating_sub(1))
        .map(|l| l.chars().count())
        .unwrap_or(0);
    Finding {
        span: Span {
            line: ins.start_line,
            column: ins.column,
            end_line: ins.end_line,
            end_column: last + 1,
        },
        message,
        fix,
        path: None,
        severity: None,
    }
}

/// A finding on one word of an instruction's first line, when it can be found there.
pub fn at_word(
    ctx: &DockerfileCtx<'_>,
    ins: &Instruction,
    word: &str,
    message: String,
    fix: Option<String>,
) -> Finding {
    if let Some(line) = ctx.lines.get(ins.start_line.saturating_sub(1)) {
        if let Some(byte) = line.find(word) {
            let col = line[..byte].chars().count() + 1;
            return Finding {
                span: Span {
                    line: ins.start_line,
                    column: col,
                    end_line: ins.start_line,
                    end_column: col + word.chars().count(),
                },
                message,
                fix,
                path: None,
                severity: None,
            };
        }
    }
    at(ctx, ins, message, fix)
}

/// A finding on one command of a RUN, from its first word to its last, across continuation
/// lines: where the shell model places it, else the whole instruction. Every RUN rule points
/// at the command it is about this way.
pub fn at_command(
    ctx: &DockerfileCtx<'_>,
    ins: &Instruction,
    cmd: &Command,
    message: String,
    fix: Option<String>,
) -> Finding {
    match cmd.span.and_then(|w| file_span(ctx, w)) {
        Some(span) => Finding {
            span,
            message,
            fix,
            path: None,
            severity: None,
        },
        None => at(ctx, ins, message, fix),
    }
}

/// A finding on one word of a RUN's command (a package of an install), else on the command.
pub fn at_command_word(
    ctx: &DockerfileCtx<'_>,
    ins: &Instruction,
    cmd: &Command,
    word: &str,
    message: String,
    fix: Option<String>,
) -> Finding {
    match cmd.span_of(word).and_then(|w| file_span(ctx, w)) {
        Some(span) => Finding {
            span,
            message,
            fix,
            path: None,
            severity: None,
        },
        None => at_command(ctx, ins, cmd, message, fix),
    }
}

/// A span of the shell model (byte offsets) as a diagnostic span (1-based character columns).
fn file_span(ctx: &DockerfileCtx<'_>, w: WordSpan) -> Option<Span> {
    let col = |line: usize, byte: usize| -> Option<usize> {
        let l = ctx.lines.get(line.checked_sub(1)?)?;
        Some(l.get(..byte.min(l.len()))?.chars().count() + 1)
    };
    Some(Span {
        line: w.line,
        column: col(w.line, w.col)?,
        end_line: w.end_line,
        end_column: col(w.end_line, w.end_col)?,
    })
}

pub fn final_stage<'a>(ctx: &'a DockerfileCtx<'_>) -> Option<&'a Stage> {
    ctx.stages.last()
}

/// The stage a `FROM` or `--from` names: an earlier stage's alias or its index.
pub fn stage_named<'a>(ctx: &'a DockerfileCtx<'_>, name: &str) -> Option<&'a Stage> {
    ctx.stage_index(name).map(|i| &ctx.stages[i])
}

/// The stages whose layers are the final image's ([`DockerfileCtx::final_chain`]).
pub fn final_chain<'a>(ctx: &'a DockerfileCtx<'_>) -> Vec<&'a Stage> {
    ctx.final_chain.iter().map(|&i| &ctx.stages[i]).collect()
}

/// Whether a RUN (or any instruction) is in a stage whose layers reach the final image.
pub fn reaches_final(ctx: &DockerfileCtx<'_>, index: usize) -> bool {
    ctx.final_chain
        .iter()
        .any(|&i| ctx.stages[i].body.binary_search(&index).is_ok())
}

/// A Windows image: a Windows base (servercore, nanoserver, mcr.microsoft.com/windows) along the
/// final chain, or a Windows account as USER. Unix users and uids do not apply to it.
pub fn is_windows(ctx: &DockerfileCtx<'_>) -> bool {
    final_chain(ctx).iter().any(|s| {
        let b = s.base.to_ascii_lowercase();
        b.contains("windows")
            || b.contains("nanoserver")
            || b.contains("servercore")
            || body(ctx, s).any(|i| {
                i.is(drydock_dockerfile::Keyword::User)
                    && i.values().first().is_some_and(|u| {
                        matches!(
                            u.to_ascii_lowercase().as_str(),
                            "containeruser" | "containeradministrator"
                        )
                    })
            })
    })
}

pub fn body<'a>(
    ctx: &'a DockerfileCtx<'_>,
    s: &Stage,
) -> impl Iterator<Item = &'a Instruction> + 'a {
    let idx = s.body.clone();
    idx.into_iter().map(move |i| &ctx.df.instructions[i])
}

/// The shell text of a RUN (shell form, or the exec form's words joined).
pub fn run_text(ins: &Instruction) -> String {
    let mut t = ins.values().join(" ");
    for h in &ins.heredocs {
        t.push('\n');
        t.push_str(&h.content);
    }
    t
}

/// The RUN's commands, read by the one shell model (exec form and heredoc scripts included).
pub use drydock_dockerfile::shell::run_commands;

/// Stage names that are other stages, not images.
pub fn is_stage_ref(ctx: &DockerfileCtx<'_>, name: &str) -> bool {
    ctx.stages
        .iter()
        .any(|s| s.alias.as_deref() == Some(&name.to_ascii_lowercase()))
}
