//! Parse values in their REST encoding, with serde impls that read what Parse Server sends
//! and write what it accepts.

mod file;

pub use file::File;
