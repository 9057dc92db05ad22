//! One process of a cluster: timely's TCP allocator over sockets the caller connected.
//!
//! The runtime opens one TCP connection to every other process (with a bounded wait and a
//! plan check); this module hands those sockets to timely's own zero-copy networking
//! (`initialize_networking_from_sockets`), so records and progress travel on timely's
//! protocol. It also turns timely's way of reporting a lost peer — a panic in the
//! `timely:recv-N` / `timely:send-N` thread, then poisoned queues in every worker — into
//! a [`PeerLoss`] that names process `N`.

use std::net::TcpStream;
use std::sync::{Arc, Once};

use parking_lot::Mutex;
use timely::communication::allocator::zero_copy::initialize::{
    initialize_networking_from_sockets, CommsGuard,
};
use timely::communication::allocator::ProcessBuilder;
use timely::communication::{AllocatorBuilder, Hooks};

/// Connected sockets to every other process of a cluster, ready for timely.
#[derive(Debug)]
pub struct ClusterLink {
    /// This process's index, `0..processes`.
    pub process: usize,
    /// The address of every process, by index (used to name peers in errors).
    pub addresses: Vec<String>,
    /// One socket per process, `None` at this process's own index.
    pub sockets: Vec<Option<TcpStream>>,
}

impl ClusterLink {
    /// Number of processes in the cluster.
    pub fn processes(&self) -> usize {
        self.sockets.len()
    }

    /// `process 1 (10.0.0.2:2101)`.
    pub fn describe(addresses: &[String], process: usize) -> String {
        match addresses.get(process) {
            Some(a) => format!("process {process} ({a})"),
            None => format!("process {process}"),
        }
    }
}

/// A peer process that went away mid-run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerLoss {
    /// Index of the lost process.
    pub process: usize,
    /// What timely's network thread saw (`socket closed`, `connection reset`).
    pub detail: String,
}

/// Builds timely allocators for `threads` local workers on `link`'s sockets.
pub(crate) fn allocators(
    link: ClusterLink,
    threads: usize,
) -> std::io::Result<(Vec<AllocatorBuilder>, CommsGuard)> {
    let hooks = Hooks::default();
    let local =
        ProcessBuilder::new_typed_vector(threads, hooks.refill.clone(), hooks.spill.clone());
    let (builders, guard) =
        initialize_networking_from_sockets(local, link.sockets, link.process, threads, hooks)?;
    Ok((
        builders.into_iter().map(AllocatorBuilder::Tcp).collect(),
        guard,
    ))
}

/// Watches the threads of the current cluster run for a lost peer or a crashed worker.
///
/// A process runs at most one cluster at a time, so one process-wide watch suffices.
#[derive(Debug, Default)]
pub(crate) struct PeerWatch {
    lost: Mutex<Vec<PeerLoss>>,
    worker_panic: Mutex<Option<String>>,
}

static ACTIVE: Mutex<Option<Arc<PeerWatch>>> = Mutex::new(None);

impl PeerWatch {
    /// Starts watching (installing the panic hook once per process).
    pub(crate) fn start() -> Arc<PeerWatch> {
        static HOOK: Once = Once::new();
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                if !intercept(info) {
                    previous(info);
                }
            }));
        });
        let watch = Arc::new(PeerWatch::default());
        *ACTIVE.lock() = Some(Arc::clone(&watch));
        watch
    }

    /// Every lost peer seen so far, first first.
    pub(crate) fn lost(&self) -> Vec<PeerLoss> {
        self.lost.lock().clone()
    }

    /// The message of a local worker's own panic (a bug), if one happened.
    pub(crate) fn worker_panic(&self) -> Option<String> {
        self.worker_panic.lock().clone()
    }

    fn anything(&self) -> bool {
        !self.lost.lock().is_empty() || self.worker_panic.lock().is_some()
    }

    /// Stops watching; later panics print as usual. After a lost peer the watch stays
    /// on: the detached network threads of the other peers still end in panics of their
    /// own while the process prints its summary and exits, and those are consequences.
    pub(crate) fn stop(&self) {
        if !self.lost.lock().is_empty() {
            return;
        }
        let mut active = ACTIVE.lock();
        if active.as_ref().is_some_and(|a| std::ptr::eq(&**a, self)) {
            *active = None;
        }
    }
}

/// Records a lost peer (a network thread's I/O error) or a worker's own panic, and
/// silences the panics that merely follow from one (poisoned queues, joins); returns
/// false for panics that should still print through the previous hook.
fn intercept(info: &std::panic::PanicHookInfo<'_>) -> bool {
    let Some(watch) = ACTIVE.lock().clone() else {
        return false;
    };
    let message = info
        .payload()
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| info.payload().downcast_ref::<&str>().copied())
        .unwrap_or("");
    let consequence = message.contains("MergeQueue poisoned")
        || message.contains("Send thread panic")
        || message.contains("Recv thread panic");
    let thread = std::thread::current();
    let name = thread.name().unwrap_or("");
    const IO: &str = "timely communication error: ";
    let network = name
        .strip_prefix("timely:recv-")
        .or_else(|| name.strip_prefix("timely:send-"))
        .and_then(|n| n.parse::<usize>().ok());
    if let (Some(process), Some(detail)) = (network, message.strip_prefix(IO)) {
        let mut lost = watch.lost.lock();
        if !lost.iter().any(|l| l.process == process) {
            lost.push(PeerLoss {
                process,
                detail: detail.to_string(),
            });
        }
        return true;
    }
    if consequence && watch.anything() {
        return true;
    }
    if name.starts_with("timely:work-") {
        watch
            .worker_panic
            .lock()
            .get_or_insert_with(|| message.to_string());
    }
    false
}

/// Lets the network threads end, or detaches them when a peer was lost (joining would
/// re-raise their panics).
pub(crate) fn release(guard: CommsGuard, lost: bool) {
    if lost {
        std::mem::forget(guard);
        return;
    }
    // Joining waits for every peer's end-of-stream; a peer lost at this last moment makes
    // the join panic, which the watch silences and records.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(guard)));
}
