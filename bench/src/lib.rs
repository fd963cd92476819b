//! Shared pieces of the load, soak and speed measurements (see the binaries).
