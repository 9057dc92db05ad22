//! Ctrl-C and SIGTERM stop a run gracefully; a second one exits at once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use weir_engine::stop::StopHandle;

/// Installs the handler and returns the stop handle it trips.
pub fn install(drain: bool) -> anyhow::Result<Arc<StopHandle>> {
    let stop = Arc::new(StopHandle::new());
    let handle = Arc::clone(&stop);
    let seen = AtomicBool::new(false);
    ctrlc::set_handler(move || {
        if seen.swap(true, Ordering::SeqCst) {
            eprintln!(
                "\nweir: second interrupt, exiting now (exit 130): records still in the \
                 pipeline or queued in sinks are not delivered"
            );
            std::process::exit(130);
        }
        let what = if drain {
            "firing open windows, then stopping"
        } else {
            "stopping sources"
        };
        eprintln!("\nweir: interrupted; {what} (interrupt again to exit at once)");
        handle.request(drain);
    })?;
    Ok(stop)
}

/// For a local cluster: forwards Ctrl-C / SIGTERM to every child (they run in their own
/// process group, so this is the only way a terminal's Ctrl-C reaches them). Each child
/// handles a first and a second signal as a single `weir run` does.
pub fn forward_to(children: Arc<parking_lot::Mutex<Vec<u32>>>) -> anyhow::Result<()> {
    ctrlc::set_handler(move || {
        for &id in children.lock().iter() {
            if let Ok(pid) = i32::try_from(id) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGINT,
                );
            }
        }
    })?;
    Ok(())
}
