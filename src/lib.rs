//! `milvus-certs`: makes and maintains the TLS files of a Milvus deployment,
//! replacing the `gen.sh` and `renew.sh` scripts of the Milvus guide
//! "Encryption in Transit".
//!
//! The library does the work and returns data; it never prints. The
//! `milvus-certs` binary renders what it returns: `src/main.rs` (one
//! library call per command, exit codes), `src/cli/` (the clap types and
//! their conversion to each command's options, a file per command),
//! `src/output/` (the printers, a file per command family; `json.rs` is the
//! `--json` schema) and `src/man.rs`.
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
pub mod add; // add NAME: one more leaf (etcd, S3, Kafka) from the same CA
pub mod doctor; // doctor: a deployment's TLS settings, in its four config shapes
pub mod export; // export: one file per target (compose, k8s, operator, helm, cert-manager, client, kafka)
pub mod generate; // gen: a new CA, server and client
pub mod inspect; // inspect: read, judge, rank; connect (--connect)
pub mod renew; // renew: leaves, --ca, what is due (--if-expiring-within), the --then hook
pub mod schedule; // schedule: the systemd timer and crontab line, values checked

// Model.
mod ca; // the CA's profile; loading and checking an existing one
mod certinfo; // a certificate parsed once: names, usages, signature check
mod checks; // every health rule once: Finding, its CODES, Display and fix
mod error; // the one Error enum
mod files; // the guide's seven file names, added names
mod input; // bounded reads, PEM/DER parsing of input files
mod issue; // issuing from a CA (gen, renew, add): CertRole, serials, keys
mod keys; // key types: generate, load, identify
mod leaf; // the server/client profile (the guide's [v3_req]); add's profiles
mod milvus_yaml; // editing a user's milvus.yaml in place (--milvus-config)
mod names; // subjects and SANs: validation, conversion
mod pkcs12; // PKCS#12 stores for Kafka
mod serial; // serial numbers and ca.srl, as OpenSSL writes them
mod shell; // quoting for sh, systemd and cron; commands that work when copied
mod validity; // validity periods, dates (every function takes now)
mod yaml; // the YAML writer of export

// File layer.
mod fsat; // descriptor-relative file operations, never following links
mod store; // the directory lock, journaled writes and recovery, --out writers

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

/// A word quoted for a POSIX shell, for commands that work when copied.
pub use shell::quote as shell_quote;
/// A date as the library's messages show it: `2036-11-26 21:19 UTC`.
pub use validity::date;
