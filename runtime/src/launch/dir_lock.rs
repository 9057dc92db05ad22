//! One process per checkpoint directory and process index: `DIR/.lock-pI`, held with
//! `flock` for the whole run. The kernel releases it when the process ends, however it
//! ends (SIGKILL included), so a restart waits here for the processes of a killed run
//! to be gone before it reads the newest checkpoint or removes what comes after it: a
//! process of the old run still writing would otherwise add to the resumed output.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

/// How long a start waits for the processes of a killed run to end (a process killed in
/// the middle of an fsync ends when that returns) before it gives up.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// How often a waiting start tries the lock again.
const RETRY: Duration = Duration::from_millis(10);

/// A held lock of a checkpoint directory; released when dropped or when the process ends.
#[derive(Debug)]
pub struct DirLock {
    _lock: Flock<File>,
}

/// The checkpoint directory could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum DirLockError {
    /// The lock file could not be opened or locked.
    #[error("cannot lock {}: {source}", path.display())]
    Io {
        /// The lock file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Another process held it for all of [`PATIENCE`].
    #[error(
        "{} is in use by another `weir run` (process {process} of a run with the same \
         --checkpoint-dir) for {waited:?}; stop that run first, or use another directory",
        path.display()
    )]
    Busy {
        /// The lock file.
        path: PathBuf,
        /// The process index the lock is for.
        process: usize,
        /// How long this start waited.
        waited: Duration,
    },
}

/// The lock file of process `process` in `dir`.
fn lock_path(dir: &Path, process: usize) -> PathBuf {
    dir.join(format!(".lock-p{process}"))
}

impl DirLock {
    /// Takes process `process`'s lock of `dir` (which exists), waiting up to `patience`
    /// for a process of an earlier run to end; says on stderr when it has to wait.
    pub fn acquire(
        dir: &Path,
        process: usize,
        patience: Duration,
    ) -> Result<DirLock, DirLockError> {
        let path = lock_path(dir, process);
        let io = |source: std::io::Error| DirLockError::Io {
            path: path.clone(),
            source,
        };
        let started = Instant::now();
        let mut told = false;
        loop {
            let file = OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .map_err(io)?;
            match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
                Ok(lock) => return Ok(DirLock { _lock: lock }),
                Err((_, Errno::EWOULDBLOCK)) => {}
                Err((_, errno)) => return Err(io(errno.into())),
            }
            let waited = started.elapsed();
            if waited >= patience {
                return Err(DirLockError::Busy {
                    path,
                    process,
                    waited,
                });
            }
            if !told && waited >= Duration::from_secs(1) {
                eprintln!(
                    "weir: waiting for the process holding {} to end",
                    path.display()
                );
                told = true;
            }
            std::thread::sleep(RETRY);
        }
    }

    /// Waits until no process holds any lock of `dir` (a run of any number of processes
    /// may have left one per process), then lets them go: what a `--local-cluster` parent
    /// does before it starts its children, so that none of them meets a process of a
    /// killed run.
    pub fn wait_until_free(dir: &Path, patience: Duration) -> Result<(), DirLockError> {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Ok(());
        };
        let processes = entries.filter_map(|e| {
            let name = e.ok()?.file_name();
            name.to_str()?
                .strip_prefix(".lock-p")?
                .parse::<usize>()
                .ok()
        });
        for process in processes.collect::<Vec<_>>() {
            drop(DirLock::acquire(dir, process, patience)?);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_waits_then_is_refused_naming_the_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        let held = DirLock::acquire(dir.path(), 0, PATIENCE).expect("first");
        let err = DirLock::acquire(dir.path(), 0, Duration::from_millis(50)).expect_err("busy");
        assert!(
            matches!(err, DirLockError::Busy { process: 0, .. }),
            "{err}"
        );
        assert!(err.to_string().contains(".lock-p0"), "{err}");
        // Another process index is free; the parent's wait sees process 0 busy.
        let other = DirLock::acquire(dir.path(), 1, PATIENCE).expect("other index");
        drop(other);
        let wait = DirLock::wait_until_free(dir.path(), Duration::from_millis(50));
        assert!(wait.is_err());
        drop(held);
        DirLock::acquire(dir.path(), 0, Duration::ZERO).expect("released");
        DirLock::wait_until_free(dir.path(), Duration::ZERO).expect("free");
    }
}
