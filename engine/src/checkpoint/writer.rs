//! The part writer: one thread per process that writes, fsyncs and renames the checkpoint
//! parts workers hand it, so that a snapshot costs a worker only serialising its state.
//!
//! Nothing else changes for consistency: a part gets its final name only once it is on
//! disk, and a checkpoint completes only when every part has its name (the MANIFEST),
//! so sources acknowledge and sinks commit exactly when they did with synchronous
//! writes. A source cuts the next epoch only after the previous checkpoint completed,
//! so at most one checkpoint's parts wait here.

use std::sync::mpsc::{self, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;

use parking_lot::Mutex;

use super::store::Store;
use super::Epoch;

/// A part to write: its epoch, its name and its contents.
type Job = (Epoch, String, Vec<u8>);

/// Where the writer reports the first part it could not write.
pub type Failure = Arc<Mutex<Option<String>>>;

/// The writer thread of one process.
pub struct PartWriter {
    jobs: Mutex<Option<Sender<Job>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    failure: Failure,
}

impl PartWriter {
    /// Starts the thread writing into `store`; a failed write is put in `failure`.
    pub fn start(store: Store, failure: Failure) -> PartWriter {
        let (jobs, queue) = mpsc::channel::<Job>();
        let failed = Arc::clone(&failure);
        let thread = std::thread::Builder::new()
            .name("weir-checkpoint-writer".into())
            .spawn(move || {
                for (epoch, name, bytes) in queue {
                    if let Err(e) = store.write_part(epoch, &name, &bytes) {
                        failed.lock().get_or_insert(e.to_string());
                    }
                }
            });
        let thread = match thread {
            Ok(handle) => Some(handle),
            Err(e) => {
                failure
                    .lock()
                    .get_or_insert(format!("cannot start the checkpoint writer: {e}"));
                None
            }
        };
        PartWriter {
            jobs: Mutex::new(Some(jobs)),
            thread: Mutex::new(thread),
            failure,
        }
    }

    /// Queues part `name` of `epoch`; it is written in the background.
    pub fn write(&self, epoch: Epoch, name: &str, bytes: Vec<u8>) {
        let sent = match &*self.jobs.lock() {
            Some(jobs) => jobs.send((epoch, name.to_string(), bytes)).is_ok(),
            None => false,
        };
        if !sent {
            self.failure
                .lock()
                .get_or_insert(format!("checkpoint part {name}: the writer has stopped"));
        }
    }

    /// Writes what is queued, then stops the thread (the run has ended).
    pub fn drain(&self) {
        self.jobs.lock().take();
        if let Some(thread) = self.thread.lock().take() {
            if thread.join().is_err() {
                self.failure
                    .lock()
                    .get_or_insert("the checkpoint writer panicked".into());
            }
        }
    }
}

impl Drop for PartWriter {
    fn drop(&mut self) {
        self.drain();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queued_parts_are_on_disk_once_drained() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("store");
        let failure: Failure = Arc::default();
        let writer = PartWriter::start(store.clone(), Arc::clone(&failure));
        for i in 0..20u8 {
            writer.write(3, &format!("op-0-w{i}"), vec![i; 1000]);
        }
        writer.drain();
        assert_eq!(*failure.lock(), None);
        for i in 0..20u8 {
            let part = store.read_part(3, &format!("op-0-w{i}")).expect("part");
            assert_eq!(part, vec![i; 1000]);
        }
    }

    #[test]
    fn a_part_the_file_system_refuses_is_reported() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path().join("state")).expect("store");
        // The epoch directory cannot be made: a file stands where it would go.
        std::fs::write(dir.path().join("state").join("epoch-1"), b"x").expect("file");
        let failure: Failure = Arc::default();
        let writer = PartWriter::start(store, Arc::clone(&failure));
        writer.write(1, "op-0-w0", vec![1, 2, 3]);
        writer.drain();
        let message = failure.lock().clone().expect("a failure");
        assert!(message.contains("epoch-1"), "{message}");
    }
}
