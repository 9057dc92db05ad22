//! `weir run --checkpoint-dir DIR`: the checkpoint configuration of a run, and which
//! checkpoint it resumes from (the newest complete one that passes its checks; `--fresh`
//! removes them all first).

use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use weir_engine::checkpoint::{CheckpointConfig, Store};
use weir_engine::plan::LogicalPlan;

use super::checkpoint_settings::checkpoint_settings;
use super::RunArgs;
use crate::launch::dir_lock::{DirLock, PATIENCE};
use crate::launch::handshake::plan_hash;

/// The checkpointing of this run, if `--checkpoint-dir` or the file's `checkpoint`
/// statement asks for it (each flag overrides its part of the statement). Says on stderr
/// which checkpoint it resumes from and which newer ones it skipped (torn or corrupt).
/// Process 0 removes what a resumed run will write again (epochs after the one it
/// resumes from) before the cluster connects, so no process can mix them in. First it
/// takes this process's lock of the directory (held as long as the returned guard), so
/// that it waits for the same process of a killed run to be gone.
pub(super) fn checkpoint_config(
    args: &RunArgs,
    plan: &LogicalPlan,
) -> anyhow::Result<(Option<CheckpointConfig>, Option<DirLock>)> {
    let flags = (args.checkpoint_dir.as_deref(), args.checkpoint_every);
    let Some((dir, every)) = checkpoint_settings(plan, flags.0, flags.1) else {
        if args.fresh || args.checkpoint_every.is_some() {
            bail!(
                "--fresh and --checkpoint-every need --checkpoint-dir DIR \
                 (or a `checkpoint every … to \"DIR\"` statement in the file)"
            );
        }
        return Ok((None, None));
    };
    if every < Duration::from_millis(1) {
        bail!("--checkpoint-every must be at least 1ms");
    }
    let dir = &dir;
    let store = Store::open(dir)?;
    let lock = DirLock::acquire(dir, args.process, PATIENCE)?;
    if args.fresh && args.process == 0 {
        store
            .clear()
            .with_context(|| format!("cannot remove the checkpoints in {}", dir.display()))?;
    }
    let plan_text = plan_text(plan);
    let hash = plan_hash(plan);
    let latest = store.latest(hash, &plan_text)?;
    for skipped in &latest.skipped {
        eprintln!("weir: {skipped}; resuming from an older checkpoint");
    }
    let resumed = latest.restored.as_ref().map(|r| r.manifest.epoch);
    if args.process == 0 {
        store.discard_after(resumed)?;
    }
    if let (Some(epoch), false) = (resumed, args.quiet) {
        eprintln!(
            "weir: resuming from checkpoint {}",
            dir.join(format!("epoch-{epoch}")).display()
        );
    }
    let config = CheckpointConfig {
        dir: dir.clone(),
        every_ms: i64::try_from(every.as_millis()).unwrap_or(i64::MAX),
        plan_hash: hash,
        plan_text,
        resume: latest.restored.map(Arc::new),
    };
    Ok((Some(config), Some(lock)))
}

/// Reads `--checkpoint-every`: a whole number of `ms`, `s`, `m` or `h`, at least 1ms.
pub(super) fn parse_every(text: &str) -> Result<Duration, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration such as 10s"))?;
    let ms = match unit {
        "ms" => n,
        "s" => n.saturating_mul(1000),
        "m" => n.saturating_mul(60_000),
        "h" => n.saturating_mul(3_600_000),
        _ => return Err(format!("`{text}`: the unit is one of ms, s, m, h")),
    };
    if ms == 0 {
        return Err("a checkpoint interval must be at least 1ms".into());
    }
    Ok(Duration::from_millis(ms))
}

/// The plan as stored in each manifest: its EXPLAIN tree (so a refusal names the node
/// that changed), then the checked plan as JSON (what the hash covers).
fn plan_text(plan: &LogicalPlan) -> String {
    let json = serde_json::to_string_pretty(plan).unwrap_or_default();
    format!("{}\n--- plan as JSON ---\n{json}", plan.explain())
}
