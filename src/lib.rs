//! `milvus-certs`: makes and maintains the TLS files of a Milvus deployment,
//! replacing the `gen.sh` and `renew.sh` scripts of the Milvus guide
//! "Encryption in Transit".
//!
//! The library does the work and returns data; it never prints. The
//! `milvus-certs` binary renders what it returns.
//!
//! # The public surface
//!
//! One rule decides what is public:
//!
//! - **Commands are public modules**, one per command: [`generate`], [`add`],
//!   [`renew`], [`inspect`], [`doctor`], [`schedule`], [`export`]. Each
//!   offers its entry function, its options and its report (and what those
//!   carry that is its own); several have a `Report`, an `Options` or an
//!   `export`, so they keep their module path. Their inner modules are
//!   private.
//! - **The model and the file layer are private modules**; the types a
//!   command's options and reports carry (and the finding codes they
//!   report) are re-exported here, at the root, once each.
//!
//! Everything else is `pub(crate)` at most: the binary and the integration
//! tests use this surface and nothing more.

// Commands: over the model, never one over another.
pub mod add;
pub mod doctor;
pub mod export;
pub mod generate;
pub mod inspect;
pub mod renew;
pub mod schedule;

// Model.
mod ca;
mod certinfo;
mod checks;
mod error;
mod files;
mod input;
mod issue;
mod keys;
mod leaf;
mod milvus_yaml;
mod names;
mod pkcs12;
mod serial;
mod shell;
mod validity;
mod yaml;

// File layer.
mod fsat;
mod store;

// The parsers of untrusted input, property-tested.
#[cfg(test)]
mod properties;

/// The parsers of untrusted input the fuzz targets (`fuzz/`) reach besides
/// the public API. Built only by cargo-fuzz, which sets `--cfg fuzzing`;
/// not part of the API.
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzz {
    use std::path::Path;

    use rustls_pki_types::CertificateDer;
    use time::OffsetDateTime;

    use crate::{CertInfo, Result};

    /// The certificates of a PEM file, as every command reads them.
    pub fn parse_certificates(path: &Path, pem: &[u8]) -> Result<Vec<CertificateDer<'static>>> {
        crate::input::parse_certificates(path, pem)
    }

    /// A private key file read, and its key identifier computed.
    pub fn private_key(path: &Path, pem: &[u8]) -> Result<Vec<u8>> {
        let key = crate::keys::parse_private_key(path, pem)?;
        Ok(crate::keys::key_identifier(&key))
    }

    /// Why `cert` cannot be a CA, if it cannot.
    pub fn not_ca_reason(cert: &CertInfo) -> Option<&'static str> {
        crate::checks::not_ca_reason(cert)
    }

    /// Whether `cert`'s subject can be issued again (what `renew` keeps).
    pub fn subject_dn(cert: &CertInfo) -> bool {
        cert.subject_dn().is_ok()
    }

    /// Whether `dir` holds a CA `renew` can issue from.
    pub fn load_ca(dir: &Path, now: OffsetDateTime) -> bool {
        crate::ca::LoadedCa::load(dir, now, true).is_ok()
    }
}

// Errors.
pub use error::{Error, Result};

// Certificates and keys as read: what `inspect` reports and `renew` keeps.
pub use certinfo::{CertError, CertInfo, ExtKeyUsage, KeyUsage, SubjectAttrs};
pub use input::Encoding;
pub use keys::KeyType;
pub use names::{SanName, Subject};
pub use serial::{Serial, SrlError};

// Certificates as issued: what `generate`, `add` and `renew` report.
pub use issue::{CertRole, Issued, SerialSource};
pub use leaf::{Profile, Role, Target};

// The guide's seven file names, as the reports name them.
pub use files::{CA_KEY, CA_PEM, CA_SRL, CLIENT_KEY, CLIENT_PEM, SERVER_KEY, SERVER_PEM};

// Findings: every health rule's result, as `inspect`, `doctor`, `export`
// and `renew` report them.
pub use checks::{CODES, ChainBreak, Finding, FolderKind, Remedy, Severity};

// What a command did about a write an earlier run left unfinished.
pub use store::Recovery;

/// A date as the library's messages show it: `2036-11-26 21:19 UTC`.
pub use validity::date;
