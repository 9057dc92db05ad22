//! Windows: assigning event times to windows.

pub mod assign;
