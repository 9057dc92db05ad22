//! The Weir runtime: connectors, launch and the `weir` command line.
