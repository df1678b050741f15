//! `milvus-certs`: makes and maintains the TLS files of a Milvus deployment,
//! replacing the `gen.sh` and `renew.sh` scripts of the Milvus guide
//! "Encryption in Transit".
//!
//! The library does the work and returns data; it never prints. The
//! `milvus-certs` binary renders what it returns.

#![warn(clippy::print_stdout, clippy::print_stderr, missing_docs)]

pub mod add;
pub mod ca;
pub mod certinfo;
pub mod checks;
pub mod doctor;
pub mod error;
pub mod export;
pub mod files;
mod fsat;
pub mod generate;
pub mod input;
pub mod inspect;
pub mod issue;
pub mod keys;
pub mod leaf;
pub mod milvus_yaml;
pub mod names;
pub mod pkcs12;
pub mod renew;
pub mod schedule;
pub mod serial;
pub mod shell;
pub mod store;
pub mod validity;
pub mod yaml;

// The parsers of untrusted input, property-tested.
#[cfg(test)]
mod properties;

pub use error::{Error, Result};
