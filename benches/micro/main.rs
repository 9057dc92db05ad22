//! Criterion micro-benchmarks of the engine's and the language's hot paths, one module per
//! concept. Run them with `cargo bench --bench micro` (add a filter such as `-- windows` or `-- alerts`);
//! `cargo test --all-targets` runs each once as a smoke test, at the small sizes here.

mod alerts;
mod compile;
mod decode;
mod exchange;
mod expressions;
mod triggers;
mod windows;

/// The `weir` binary's allocator, so allocation costs here are the product's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

criterion::criterion_main!(
    windows::benches,
    triggers::benches,
    expressions::benches,
    exchange::benches,
    compile::benches,
    alerts::benches,
    decode::benches
);
