//! Naive batch answers of the Nexmark queries over a generated stream, for tests to
//! compare the engine's output with.
