//! Where and how often `weir run` takes checkpoints: the `.pipe` file's `checkpoint every
//! … to "…"` statement, overridden field by field by `--checkpoint-dir` and
//! `--checkpoint-every`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use weir_engine::plan::LogicalPlan;

/// The interval used when only a directory is given (`--checkpoint-dir` without
/// `--checkpoint-every` and no `checkpoint` statement).
pub const DEFAULT_EVERY: Duration = Duration::from_secs(10);

/// The checkpoint directory and interval of a run, or `None` for a run without
/// checkpoints. A flag wins over the statement for its own setting, so `--checkpoint-every
/// 1s` shortens the interval of a program that names its directory. Without a directory
/// (from a flag or the statement) there are no checkpoints. A relative directory stays
/// relative: it is read from the directory `weir run` starts in, as every other path of
/// a `.pipe` file is (file sources and sinks, tables, models).
pub fn checkpoint_settings(
    plan: &LogicalPlan,
    flag_dir: Option<&Path>,
    flag_every: Option<Duration>,
) -> Option<(PathBuf, Duration)> {
    let spec = plan.checkpoint.as_ref();
    let dir = match flag_dir {
        Some(dir) => dir.to_path_buf(),
        None => PathBuf::from(&spec?.dir),
    };
    let from_statement = spec
        .and_then(|s| u64::try_from(s.every_ms).ok())
        .filter(|ms| *ms > 0)
        .map(Duration::from_millis);
    let every = flag_every.or(from_statement).unwrap_or(DEFAULT_EVERY);
    Some((dir, every))
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_engine::plan::CheckpointSpec;

    fn plan(spec: Option<(i64, &str)>) -> LogicalPlan {
        LogicalPlan {
            checkpoint: spec.map(|(every_ms, dir)| CheckpointSpec {
                every_ms,
                dir: dir.to_string(),
            }),
            ..LogicalPlan::default()
        }
    }

    #[test]
    fn no_statement_and_no_flags_means_no_checkpoints() {
        assert_eq!(checkpoint_settings(&plan(None), None, None), None);
        // An interval alone names no directory to write to.
        assert_eq!(
            checkpoint_settings(&plan(None), None, Some(Duration::from_secs(1))),
            None
        );
    }

    #[test]
    fn the_statement_gives_both_settings() {
        assert_eq!(
            checkpoint_settings(&plan(Some((10_000, "state/"))), None, None),
            Some((PathBuf::from("state/"), Duration::from_secs(10)))
        );
    }

    #[test]
    fn each_flag_overrides_its_own_setting() {
        let p = plan(Some((10_000, "state/")));
        assert_eq!(
            checkpoint_settings(&p, Some(Path::new("/tmp/elsewhere")), None),
            Some((PathBuf::from("/tmp/elsewhere"), Duration::from_secs(10)))
        );
        assert_eq!(
            checkpoint_settings(&p, None, Some(Duration::from_millis(500))),
            Some((PathBuf::from("state/"), Duration::from_millis(500)))
        );
    }

    #[test]
    fn a_directory_flag_alone_uses_the_default_interval() {
        assert_eq!(
            checkpoint_settings(&plan(None), Some(Path::new("ck")), None),
            Some((PathBuf::from("ck"), DEFAULT_EVERY))
        );
    }
}
