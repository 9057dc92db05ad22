//! Windows: assigning event times to windows, and merging sessions.

pub mod assign;
pub mod merge;
