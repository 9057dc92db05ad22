//! Weir umbrella crate: re-exports the engine, the language and the runtime so that the
//! workspace-level `tests/`, `benches/` and `examples/` can use all three.

pub use weir_dsl as dsl;
pub use weir_engine as engine;
pub use weir_runtime as runtime;
