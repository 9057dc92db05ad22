//! Launching runs: signals, progress and status reporting, joining a cluster, local clusters.

pub mod cluster;
pub mod dir_lock;
pub mod handshake;
pub mod hostfile;
pub mod local_cluster;
pub mod progress;
pub mod signals;
pub mod status;
pub mod stopping;
