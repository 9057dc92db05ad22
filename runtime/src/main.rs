//! The `weir` binary: parses arguments and hands over to the library.

use std::process::ExitCode;

use clap::Parser;

// Records are many small allocations freed on other worker threads, where mimalloc
// beats the system allocator (measured in BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = weir_runtime::cli::Cli::parse();
    match weir_runtime::cli::dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
