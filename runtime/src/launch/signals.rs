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
            eprintln!("\nweir: second interrupt, exiting now");
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
