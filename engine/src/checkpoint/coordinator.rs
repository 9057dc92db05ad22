//! The checkpoint coordinator of one process: where workers hand their parts of each
//! checkpoint, the sink barrier that prepares the process's sinks once every local sink
//! operator has written an epoch, and the thread that completes checkpoints (process 0
//! writes the MANIFEST once every part is on disk) and tells the sinks and sources.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::Mutex;

use super::store::{CheckpointError, Manifest, Restored, Store};
use super::writer::{Failure, PartWriter};
use super::{Epoch, SourcePosition};
use crate::sink_writers::SinkWriters;

/// How a run checkpoints.
#[derive(Clone, Debug)]
pub struct CheckpointConfig {
    /// The checkpoint directory (shared by every process of a cluster).
    pub dir: PathBuf,
    /// Processing time between checkpoints, in milliseconds.
    pub every_ms: i64,
    /// Hash of the plan, stored in each manifest.
    pub plan_hash: u64,
    /// The plan's text, stored in each manifest to say what changed on a refusal.
    pub plan_text: String,
    /// The checkpoint to resume from, read and checked by the caller
    /// ([`Store::latest`]); `None` starts afresh.
    pub resume: Option<Arc<Restored>>,
}

/// The part holding stateful operator `node`'s state on global worker `worker`.
pub fn operator_part(node: usize, worker: usize) -> String {
    format!("op-{node}-w{worker}")
}

/// The part holding source `source`'s position on global worker `worker`.
pub fn source_part(source: usize, worker: usize) -> String {
    format!("src-{source}-w{worker}")
}

/// The part holding what process `process`'s sinks prepared.
pub fn sink_part(process: usize) -> String {
    format!("sinks-p{process}")
}

/// Where this process sits in its run.
#[derive(Clone, Copy, Debug)]
pub struct Placement {
    /// This process's index.
    pub process: usize,
    /// Processes in the run.
    pub processes: usize,
    /// Worker threads per process.
    pub workers: usize,
}

/// One process's checkpointing: shared by its workers through their context.
pub struct Checkpoints {
    /// The configuration.
    pub config: CheckpointConfig,
    store: Store,
    place: Placement,
    /// Epoch of the run's first records: 0, or the resumed checkpoint's next.
    pub first_epoch: Epoch,
    /// Sources read (their indices): each worker has a part for each.
    sources: Vec<usize>,
    /// Stateful operators per worker, once a worker has built its dataflow.
    operators: AtomicUsize,
    /// Local workers that have built their dataflow.
    built: AtomicUsize,
    /// Newest complete epoch + 1 (0: none yet).
    completed: AtomicU64,
    /// Parts whose owner has ended: the same bytes stand for every later epoch.
    finished: Mutex<HashMap<String, (Epoch, Vec<u8>)>>,
    sinks: SinkBarrier,
    /// Writes the parts in the background.
    writer: PartWriter,
    failure: Failure,
    stop: AtomicBool,
}

impl Checkpoints {
    /// Checkpointing for one process of a run reading `sources`.
    pub fn new(
        config: CheckpointConfig,
        place: Placement,
        sources: Vec<usize>,
    ) -> Result<Checkpoints, CheckpointError> {
        let store = Store::open(&config.dir)?;
        let first_epoch = config.resume.as_ref().map_or(0, |r| r.manifest.epoch + 1);
        let failure = Failure::default();
        let writer = PartWriter::start(store.clone(), Arc::clone(&failure));
        Ok(Checkpoints {
            config,
            store,
            place,
            first_epoch,
            sources,
            operators: AtomicUsize::new(0),
            built: AtomicUsize::new(0),
            completed: AtomicU64::new(0),
            finished: Mutex::new(HashMap::new()),
            sinks: SinkBarrier::new(first_epoch),
            writer,
            failure,
            stop: AtomicBool::new(false),
        })
    }

    /// The newest complete epoch, if any checkpoint of this run has completed.
    pub fn completed(&self) -> Option<Epoch> {
        self.completed.load(Ordering::Acquire).checked_sub(1)
    }

    /// The first failure writing or completing a checkpoint (the run stops on it).
    pub fn failure(&self) -> Option<String> {
        self.failure.lock().clone()
    }

    fn fail(&self, message: String) {
        self.failure.lock().get_or_insert(message);
    }

    /// Hands part `name` of checkpoint `epoch` to the writer thread (the caller goes on
    /// while it is written).
    pub fn submit(&self, epoch: Epoch, name: &str, bytes: Vec<u8>) {
        self.writer.write(epoch, name, bytes);
    }

    /// Part `name`'s owner ended during `epoch`: `bytes` stands for it in `epoch` and
    /// every later checkpoint.
    pub fn finish(&self, epoch: Epoch, name: &str, bytes: Vec<u8>) {
        self.submit(epoch, name, bytes.clone());
        self.finished
            .lock()
            .insert(name.to_string(), (epoch, bytes));
    }

    /// A local worker has built its dataflow, with `operators` stateful operators.
    pub fn built(&self, operators: usize) {
        self.operators.store(operators, Ordering::Release);
        self.built.fetch_add(1, Ordering::AcqRel);
    }

    /// The restored parts of stateful operator `node` (one per old worker), if resuming.
    pub fn operator_states(&self, node: usize) -> Vec<&[u8]> {
        let Some(restored) = &self.config.resume else {
            return Vec::new();
        };
        let prefix = format!("op-{node}-w");
        restored
            .parts
            .iter()
            .filter(|(name, _)| {
                name.strip_prefix(&prefix)
                    .is_some_and(|rest| rest.parse::<usize>().is_ok())
            })
            .map(|(_, bytes)| bytes.as_slice())
            .collect()
    }

    /// The restored positions of source `source` on every old worker, if resuming.
    pub fn source_positions(&self, source: usize) -> Option<Vec<SourcePosition>> {
        let restored = self.config.resume.as_ref()?;
        let workers = restored.manifest.workers;
        let prefix = format!("src-{source}-w");
        let mut positions: Vec<SourcePosition> = restored
            .parts_with_prefix(&prefix)
            .filter_map(|(rest, bytes)| {
                Some(SourcePosition {
                    worker: rest.parse().ok()?,
                    workers,
                    bytes: bytes.to_vec(),
                })
            })
            .collect();
        positions.sort_by_key(|p| p.worker);
        Some(positions)
    }

    /// The sink barrier of this process.
    pub fn sinks(&self) -> &SinkBarrier {
        &self.sinks
    }

    /// Every part checkpoint `epoch` must hold, once the operator count is known.
    fn expected_parts(&self) -> Option<Vec<String>> {
        if self.built.load(Ordering::Acquire) == 0 {
            return None;
        }
        let workers = self.place.workers * self.place.processes;
        let operators = self.operators.load(Ordering::Acquire);
        let mut names = Vec::new();
        for w in 0..workers {
            names.extend(self.sources.iter().map(|&s| source_part(s, w)));
            names.extend((0..operators).map(|n| operator_part(n, w)));
        }
        names.extend((0..self.place.processes).map(sink_part));
        Some(names)
    }

    /// One round of the completion thread: fills in ended owners' parts for epochs in
    /// progress, completes those that have every part (process 0), and commits the
    /// newest complete one.
    fn complete_round(&self, writers: &SinkWriters) -> Result<(), CheckpointError> {
        let expected = self.expected_parts();
        let all_built = self.built.load(Ordering::Acquire) >= self.place.workers;
        if all_built && self.sinks.none_registered() {
            let name = sink_part(self.place.process);
            if !self.finished.lock().contains_key(&name) {
                let empty: Vec<(String, usize, Option<Vec<u8>>)> = Vec::new();
                let bytes = bincode::serialize(&empty).unwrap_or_default();
                self.finish(self.first_epoch, &name, bytes);
            }
        }
        let done = self.completed.load(Ordering::Acquire);
        let mut newest = None;
        for epoch in self.store.epochs()?.into_iter().rev() {
            if epoch < self.first_epoch || epoch < done {
                continue;
            }
            if !self.store.is_complete(epoch) {
                for (name, (from, bytes)) in self.finished.lock().iter() {
                    if *from <= epoch && !self.store.has_parts(epoch, std::slice::from_ref(name)) {
                        self.store.write_part(epoch, name, bytes)?;
                    }
                }
                if let (0, Some(names)) = (self.place.process, &expected) {
                    if self.store.has_parts(epoch, names) {
                        self.store.complete(&self.manifest(epoch, names)?)?;
                    }
                }
            }
            if self.store.is_complete(epoch) {
                newest = Some(epoch);
            }
        }
        if let Some(epoch) = newest.filter(|&e| e >= done) {
            self.completed.store(epoch + 1, Ordering::Release);
            for (name, writer) in writers.iter() {
                writer.commit(epoch).map_err(|e| CheckpointError::Io {
                    path: format!("sink `{name}`"),
                    source: std::io::Error::other(e.to_string()),
                })?;
            }
        }
        Ok(())
    }

    fn manifest(&self, epoch: Epoch, names: &[String]) -> Result<Manifest, CheckpointError> {
        let parts = names
            .iter()
            .map(|n| self.store.entry(epoch, n))
            .collect::<Result<_, _>>()?;
        Ok(Manifest {
            epoch,
            state_format: super::store::STATE_FORMAT,
            plan_hash: self.config.plan_hash,
            plan_text: self.config.plan_text.clone(),
            workers: self.place.workers * self.place.processes,
            processes: self.place.processes,
            parts,
        })
    }

    /// Starts the completion thread; it runs until [`Checkpoints::shut_down`].
    pub fn start(self: &Arc<Self>, writers: Arc<SinkWriters>) -> JoinHandle<()> {
        let this = Arc::clone(self);
        std::thread::spawn(move || {
            while !this.stop.load(Ordering::Acquire) {
                if let Err(e) = this.complete_round(&writers) {
                    this.fail(e.to_string());
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    }

    /// Writes the queued parts and stops the completion thread (the run has ended).
    pub fn shut_down(&self, thread: JoinHandle<()>) {
        self.writer.drain();
        self.stop.store(true, Ordering::Release);
        let _ = thread.join();
    }

    /// Prepares every sink of this process for `epoch` and stores what they return.
    fn prepare_sinks(&self, epoch: Epoch, writers: &SinkWriters) -> Option<Vec<u8>> {
        let mut prepared: Vec<(String, usize, Option<Vec<u8>>)> = Vec::new();
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (name, writer) in writers.iter() {
            let n = seen.entry(name).or_default();
            match writer.prepare_commit(epoch) {
                Ok(state) => prepared.push((name.to_string(), *n, state)),
                Err(e) => {
                    self.fail(format!("sink `{name}`: {e}"));
                    return None;
                }
            }
            *n += 1;
        }
        bincode::serialize(&prepared).ok()
    }

    /// Hands each sink of this process what it prepared in the resumed checkpoint.
    pub fn restore_sinks(&self, writers: &SinkWriters) -> Result<(), String> {
        let Some(restored) = &self.config.resume else {
            return Ok(());
        };
        let prepared: Vec<(String, usize, Option<Vec<u8>>)> =
            match restored.parts.get(&sink_part(self.place.process)) {
                Some(bytes) => bincode::deserialize(bytes)
                    .map_err(|e| format!("checkpoint sink state: {e}"))?,
                None => Vec::new(),
            };
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (name, writer) in writers.iter() {
            let n = seen.entry(name).or_default();
            let state = prepared
                .iter()
                .find(|(s, i, _)| s == name && i == n)
                .and_then(|(_, _, state)| state.as_deref());
            writer
                .restore(state)
                .map_err(|e| format!("sink `{name}`: {e}"))?;
            *n += 1;
        }
        Ok(())
    }
}

/// The sink barrier: a sink operator writes records of epoch `e` only once every local
/// sink operator has written all of epoch `e - 1` and the process's sinks were prepared
/// for it, so what a sink prepares for epoch `k` holds exactly the output of epochs up
/// to `k`.
pub struct SinkBarrier {
    state: Mutex<BarrierState>,
    /// The highest epoch whose records may be written now.
    writable: AtomicU64,
}

struct BarrierState {
    /// Per registered sink operator: the epoch through which it has written everything.
    written: Vec<Option<Epoch>>,
    /// Every sink operator of this process has ended.
    ended: bool,
}

impl SinkBarrier {
    fn new(first_epoch: Epoch) -> SinkBarrier {
        SinkBarrier {
            state: Mutex::new(BarrierState {
                written: Vec::new(),
                ended: false,
            }),
            writable: AtomicU64::new(first_epoch),
        }
    }

    /// Registers a sink operator; returns its index for [`SinkBarrier::report`].
    pub fn register(&self) -> usize {
        let mut state = self.state.lock();
        state.written.push(None);
        state.written.len() - 1
    }

    /// The highest epoch whose records may be written now.
    pub fn writable(&self) -> Epoch {
        self.writable.load(Ordering::Acquire)
    }

    /// Sink operator `me` has written every record of epochs up to `through`
    /// (`Epoch::MAX`: its input ended). Prepares the sinks when it was the last one
    /// holding back the writable epoch.
    pub fn report(
        &self,
        me: usize,
        through: Epoch,
        checkpoints: &Checkpoints,
        writers: &SinkWriters,
    ) {
        let mut state = self.state.lock();
        let slot = &mut state.written[me];
        *slot = Some(slot.map_or(through, |t| t.max(through)));
        if checkpoints.built.load(Ordering::Acquire) < checkpoints.place.workers || state.ended {
            return;
        }
        let Some(least) = state.written.iter().map(|w| w.unwrap_or(0)).min() else {
            return;
        };
        if state.written.iter().any(Option::is_none) {
            return;
        }
        let epoch = self.writable();
        if least == Epoch::MAX {
            // Nothing more will be written: what the sinks hold now stands for every
            // later checkpoint.
            state.ended = true;
            if let Some(bytes) = checkpoints.prepare_sinks(epoch, writers) {
                checkpoints.finish(epoch, &sink_part(checkpoints.place.process), bytes);
            }
            return;
        }
        // Every epoch all sinks have written through is prepared, oldest first.
        for epoch in epoch..=least {
            let Some(bytes) = checkpoints.prepare_sinks(epoch, writers) else {
                return;
            };
            checkpoints.submit(epoch, &sink_part(checkpoints.place.process), bytes);
            self.writable.store(epoch + 1, Ordering::Release);
        }
    }

    /// A process with no sink operator: its (empty) sink part stands for every epoch.
    pub fn none_registered(&self) -> bool {
        self.state.lock().written.is_empty()
    }
}
