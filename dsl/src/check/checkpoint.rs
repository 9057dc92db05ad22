//! `checkpoint every 10s to "state/"`: one per program, a positive interval, a directory.

use weir_engine::plan::CheckpointSpec;

use super::{durations, Ctx};
use crate::ast::{CheckpointDecl, Item, Program};
use crate::codes;
use crate::diagnostic::Diagnostic;

/// The program's checkpoint settings, if it has a valid `checkpoint` statement; every
/// statement is checked, and a second one is refused.
pub(crate) fn check(program: &Program, cx: &mut Ctx<'_>) -> Option<CheckpointSpec> {
    let mut first: Option<&CheckpointDecl> = None;
    let mut spec = None;
    for item in &program.items {
        let Item::Checkpoint(decl) = item else {
            continue;
        };
        let checked = check_one(decl, cx);
        match first {
            None => {
                first = Some(decl);
                spec = checked;
            }
            Some(earlier) => cx.push(
                Diagnostic::error(
                    codes::DUPLICATE_CHECKPOINT,
                    "a second `checkpoint` statement",
                    decl.span,
                    "second checkpoint statement",
                )
                .with_secondary(earlier.span, "the first one")
                .with_help("a run has one checkpoint interval and directory: keep one statement"),
            ),
        }
    }
    spec
}

fn check_one(decl: &CheckpointDecl, cx: &mut Ctx<'_>) -> Option<CheckpointSpec> {
    let every = durations::require(&decl.every, "checkpoint interval", cx);
    let every_ms = match every {
        Some(ms) if ms > 0 && !decl.negative => Some(ms),
        Some(_) => {
            let written = if decl.negative {
                format!(
                    "-{}",
                    cx.text[decl.every.span.lo..decl.every.span.hi].trim()
                )
            } else {
                cx.text[decl.every.span.lo..decl.every.span.hi].to_string()
            };
            cx.push(
                Diagnostic::error(
                    codes::BAD_CHECKPOINT_INTERVAL,
                    format!("the checkpoint interval must be positive, not `{written}`"),
                    decl.every.span,
                    "not a positive duration",
                )
                .with_help("write how often to take a checkpoint, e.g. `checkpoint every 10s`")
                .with_note(
                    "a checkpoint costs a snapshot of every operator's state; 10s to 1m \
                     is usual",
                ),
            );
            None
        }
        None => None,
    };
    let dir = match decl.dir.as_deref() {
        Some(dir) if dir.trim().is_empty() => {
            cx.push(
                Diagnostic::error(
                    codes::EMPTY_CHECKPOINT_DIR,
                    "the checkpoint directory is empty",
                    decl.dir_span,
                    "an empty directory name",
                )
                .with_help(
                    "name a directory, e.g. `to \"state/\"` (relative to the directory \
                     `weir run` starts in)",
                ),
            );
            None
        }
        Some(dir) => Some(dir.to_string()),
        None => None,
    };
    Some(CheckpointSpec {
        every_ms: every_ms?,
        dir: dir?,
    })
}

#[cfg(test)]
mod tests {
    use weir_engine::plan::CheckpointSpec;

    use crate::compile;

    const BASE: &str = "source s = sensors() {\n  temp: f64\n}\nsink out = stdout()\npipeline p { from s | to out }\n";

    #[test]
    fn the_statement_reaches_the_plan_and_explain_anywhere_in_the_file() {
        for text in [
            format!("checkpoint every 1m to \"state/\"\n{BASE}"),
            format!("{BASE}checkpoint every 1m to \"state/\" # at the end\n"),
        ] {
            let plan = compile("c.pipe", &text).expect("compiles").plan;
            assert_eq!(
                plan.checkpoint,
                Some(CheckpointSpec {
                    every_ms: 60_000,
                    dir: "state/".into()
                })
            );
            assert!(
                plan.explain()
                    .starts_with("checkpoint every 1m to \"state/\"\n"),
                "{}",
                plan.explain()
            );
        }
        let plain = compile("c.pipe", BASE).expect("compiles").plan;
        assert_eq!(plain.checkpoint, None);
        assert!(!plain.explain().contains("checkpoint"));
    }

    #[test]
    fn a_unitless_interval_asks_for_a_unit_and_checkpoint_stays_a_field_name() {
        let Err(err) = compile("c.pipe", &format!("checkpoint every 10 to \"s\"\n{BASE}")) else {
            panic!("a unitless interval compiled");
        };
        assert_eq!(err[0].code, crate::codes::DURATION_WITHOUT_UNIT);
        // A keyword only where a statement starts: a field may be called `checkpoint`.
        let text = "source s = sensors() {\n  checkpoint: f64\n}\nsink out = stdout()\npipeline p { from s | where checkpoint > 1.0 | to out }\n";
        compile("c.pipe", text).expect("a field named checkpoint");
    }
}
