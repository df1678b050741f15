//! Every health rule, once, as typed findings.
//!
//! `inspect`, `inspect --connect`, `export`'s pre-flight checks and `renew`
//! (with `--if-expiring-within` and `--dry-run`) all ask these functions, and
//! decide by the [`Finding`] they get back, never by its text. Each finding
//! has a stable snake_case [`Finding::code`] (listed in docs/reference.md with what
//! it means and the fix), a [`Severity`], a message ([`std::fmt::Display`],
//! one sentence that does not assume a command line) and a [`Finding::fix`]
//! (what to do, with a command that works when copied as printed).
//!
//! The rules take `now` as a parameter and never print.
//!
//! Here: the findings, their codes and severities. Beside it:
//! - `message`: what each finding says (its `Display`).
//! - `fix`: what to do about it ([`Remedy`], [`Finding::fix`]).
//! - `validity`: the dates (expired, expiring, outliving the CA).
//! - `key`: a private key against its certificate, and its permissions.
//! - `chain`: CAs and what they issued (can sign, issued by, `ca.srl`).
//! - `purpose`: what a leaf is for (extendedKeyUsage, an added
//!   certificate's profile) and the names clients use.
//! - `folder`: a certificate folder's own rules: what each kind needs, a
//!   leaf and its key there (in `inspect`'s order, which `renew` shares),
//!   encodings, permissions, an interrupted write.

use std::path::PathBuf;

use time::OffsetDateTime;

use crate::names::SanName;
use crate::serial::Serial;

mod chain;
mod fix;
mod folder;
mod key;
mod message;
mod purpose;
mod validity;

pub use chain::ChainBreak;
pub(crate) use chain::{ca_extensions, issued_by, issued_by_any, not_a_ca, not_ca_reason, serial};
pub use fix::Remedy;
pub use folder::FolderKind;
pub(crate) use folder::{FolderLeaf, FolderScope, dir_permissions, pending_write};
pub(crate) use key::{key_matches, key_pair, key_permissions};
pub(crate) use purpose::{added, names, purpose};
pub(crate) use validity::{EXPORT_WARN_DAYS, days_left, outlives, validity};

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Worth knowing; nothing fails because of it yet.
    Warning,
    /// Something fails (a handshake, a renewal): `inspect` exits 2.
    Problem,
}

impl Severity {
    /// `warning` or `problem`.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Problem => "problem",
        }
    }
}

/// One thing found about a certificate, a key, a file or a folder.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Finding {
    /// Past notAfter.
    Expired {
        /// notAfter.
        not_after: OffsetDateTime,
        /// How to renew it (None for a file that is not renewed from a CA).
        remedy: Option<Remedy>,
    },
    /// Before notBefore.
    NotYetValid {
        /// notBefore.
        not_before: OffsetDateTime,
    },
    /// Valid, but expiring within the warning period.
    Expiring {
        /// notAfter.
        not_after: OffsetDateTime,
        /// Whole days left.
        days_left: i64,
        /// How to renew it.
        remedy: Option<Remedy>,
    },
    /// The private key is not the certificate's.
    KeyMismatch {
        /// The key file's name.
        key_file: String,
        /// The newest backup folder holding an earlier copy of the key.
        backup: Option<PathBuf>,
        /// How to make a matching pair.
        remedy: Option<Remedy>,
    },
    /// The private key file cannot be used (unreadable, encrypted, not a key).
    KeyUnreadable {
        /// Why, naming the file.
        reason: String,
    },
    /// Not issued by the CA it must chain to.
    NotIssuedByCa {
        /// The CA file (or files) it was checked against.
        ca: String,
        /// Its issuer as written in it.
        issuer: String,
        /// What failed.
        why: ChainBreak,
        /// How to issue it from that CA.
        remedy: Option<Remedy>,
    },
    /// A CA certificate that cannot sign certificates.
    NotACa {
        /// Why (basicConstraints, keyUsage).
        reason: &'static str,
    },
    /// A CA's self-signature does not verify (a damaged file).
    BadSignature,
    /// A server or client certificate that is a CA certificate.
    NotALeaf {
        /// How to make the leaf.
        remedy: Option<Remedy>,
    },
    /// A server certificate whose extendedKeyUsage lacks serverAuth.
    MissingServerAuth {
        /// How to make a new one.
        remedy: Option<Remedy>,
    },
    /// A client certificate whose extendedKeyUsage lacks clientAuth.
    MissingClientAuth {
        /// How to make a new one.
        remedy: Option<Remedy>,
    },
    /// A name clients use that no subjectAltName matches.
    NameMismatch {
        /// The name.
        name: SanName,
        /// The names the certificate has.
        has: Vec<String>,
        /// How to add it.
        remedy: Option<Remedy>,
    },
    /// A leaf that expires after its CA: it stops working then.
    OutlivesCa {
        /// The CA's notAfter.
        ca_not_after: OffsetDateTime,
    },
    /// `ca.srl` is below a serial the CA already issued.
    SerialBehind {
        /// What `ca.srl` holds.
        srl: Serial,
        /// The highest serial issued.
        highest: Serial,
        /// The CA folder.
        dir: PathBuf,
    },
    /// `ca.srl` cannot be read as a serial number.
    SerialFileInvalid {
        /// Why, naming the file.
        reason: String,
    },
    /// A file the folder needs is not there.
    FileMissing {
        /// The file's name.
        file: String,
        /// What it is for.
        what: &'static str,
        /// Why this folder needs it.
        needed_by: &'static str,
    },
    /// A folder asked for (`inspect --dir`) that holds none of the files
    /// `gen` writes and no certificate `add` made: a wrong `--dir` more
    /// likely than seven lost files, so one finding, not one per file.
    NoCertificateFiles {
        /// The folder.
        dir: PathBuf,
    },
    /// A certificate or key file Milvus or its clients read is DER: they
    /// read PEM only (Go's crypto/tls: "failed to find any PEM data").
    DerEncoded {
        /// The file's name.
        file: String,
        /// The command that converts it.
        fix: String,
    },
    /// An input holds no usable certificate (empty, DER, garbage, a key...).
    NotACertificate {
        /// Why, naming the file.
        reason: String,
    },
    /// A private key file others may read.
    KeyReadableByOthers {
        /// The file.
        file: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A certificate folder anyone may write into.
    DirectoryWritableByOthers {
        /// The folder.
        dir: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// An interrupted write (`.milvus-certs-pending`) that was not completed.
    PendingWrite {
        /// The folder.
        dir: PathBuf,
    },
    /// `inspect --connect` could not connect or finish the handshake.
    ConnectionFailed {
        /// Why.
        reason: String,
    },
    /// The server asked for a client certificate and refused the one given.
    ClientCertRejected {
        /// Why.
        reason: String,
    },
    /// The server asked for a client certificate and none was given.
    ClientCertNotGiven,
    /// A CA without keyUsage (or subjectKeyIdentifier), as the guide's
    /// gen.sh makes it: `renew --ca` adds them.
    CaMissingExtensions {
        /// The extensions it lacks, e.g. `["keyUsage"]`.
        missing: Vec<&'static str>,
        /// The CA folder.
        dir: PathBuf,
    },
    /// `doctor`: TLS is off (`common.security.tlsMode` 0 or unset).
    TlsDisabled,
    /// `doctor`: `common.security.tlsMode` is not 0, 1 or 2.
    InvalidTlsMode {
        /// The value as written.
        value: String,
    },
    /// `doctor`: tlsMode 1 or 2 with the REST server on the gRPC port: the
    /// proxy refuses to start ("proxy server(http) and external grpc server
    /// share the same port, tls mode must be 0": newHTTPListner in
    /// internal/distributed/proxy; milvus-io/milvus#46312); 2.4 starts but
    /// serves no REST over TLS there (milvus-io/milvus#36724).
    RestPortSharesGrpcPort {
        /// The port both would use.
        port: String,
    },
    /// `doctor`: `tls:` or `internaltls:` written under `common:`; Milvus
    /// reads them at the top level only.
    TlsUnderCommon {
        /// `tls` or `internaltls`.
        section: String,
    },
    /// `doctor`: the legacy `common.security.tlsEnabled`, ignored since
    /// `common.security.tlsMode` replaced it.
    LegacyTlsEnabled {
        /// Whether tlsMode turns TLS on anyway.
        tls_on: bool,
    },
    /// `doctor`: a TLS path at the example files of Milvus's `configs/cert/`
    /// (their private keys are public), or unset, so Milvus uses them.
    ExampleCertificate {
        /// The key, e.g. `tls.serverKeyPath`.
        key: String,
        /// The path as written (None: not set).
        path: Option<String>,
    },
    /// `doctor`: a TLS path no volume mounts into the container.
    PathNotMounted {
        /// The path in the container.
        path: String,
        /// The mount points there are.
        mounts: Vec<String>,
    },
    /// `doctor`: a `user.yaml` mounted for a Milvus release that reads
    /// `milvus.yaml` alone (before 2.4).
    UserYamlIgnored {
        /// The image.
        image: String,
    },
    /// `doctor`: internal TLS enabled for a Milvus release before 2.5,
    /// which has no internal TLS (`InternalTLSConfig` is new in 2.5.0).
    InternalTlsUnsupported {
        /// The image.
        image: String,
    },
    /// `doctor`: `etcd.ssl.enabled` is true and an `etcd.endpoints` entry
    /// is `http://`: Milvus dials it in plaintext and the TLS etcd refuses.
    EtcdEndpointNotHttps {
        /// The endpoint as written.
        endpoint: String,
    },
    /// `doctor`: an `https://` entry in `etcd.endpoints` and
    /// `etcd.ssl.enabled` not true: Milvus dials it with neither the CA nor
    /// the client certificate of `etcd.ssl`.
    EtcdHttpsWithoutSsl {
        /// The endpoint as written.
        endpoint: String,
    },
    /// `doctor`: `etcd.ssl.enabled` is true and one of `etcd.ssl.tlsCert`,
    /// `etcd.ssl.tlsKey`, `etcd.ssl.tlsCACert` is not set.
    EtcdSslPathMissing {
        /// The key, e.g. `etcd.ssl.tlsCert`.
        key: String,
    },
    /// `doctor`: `etcd.ssl.tlsMinVersion` below 1.2.
    EtcdTlsVersionTooLow {
        /// The value as written.
        value: String,
    },
    /// `doctor`: `minio.useSSL` is true and nothing makes Milvus trust the
    /// storage's CA: no `minio.ssl.tlsCACert` and no trust bundle mounted
    /// over `/etc/ssl/certs/ca-certificates.crt`.
    MinioCaNotTrusted {
        /// Whether the deployment says what is mounted (Compose, Helm,
        /// operator); a lone milvus.yaml does not.
        mounts_known: bool,
    },
}

/// Every finding code, as docs/reference.md lists them.
pub const CODES: [&str; 40] = [
    "expired",
    "not_yet_valid",
    "expiring",
    "key_mismatch",
    "key_unreadable",
    "not_issued_by_ca",
    "not_a_ca",
    "bad_signature",
    "not_a_leaf",
    "missing_server_auth",
    "missing_client_auth",
    "name_mismatch",
    "outlives_ca",
    "serial_behind",
    "serial_file_invalid",
    "file_missing",
    "no_certificate_files",
    "der_encoded",
    "not_a_certificate",
    "key_readable_by_others",
    "directory_writable_by_others",
    "pending_write",
    "connection_failed",
    "client_cert_rejected",
    "client_cert_not_given",
    "ca_missing_extensions",
    "tls_disabled",
    "invalid_tls_mode",
    "rest_port_shares_grpc_port",
    "tls_under_common",
    "legacy_tls_enabled",
    "example_certificate",
    "path_not_mounted",
    "user_yaml_ignored",
    "internal_tls_unsupported",
    "etcd_endpoints_not_https",
    "etcd_https_without_ssl",
    "etcd_ssl_path_missing",
    "etcd_tls_version_too_low",
    "minio_ca_not_trusted",
];

impl Finding {
    /// The stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            Finding::Expired { .. } => "expired",
            Finding::NotYetValid { .. } => "not_yet_valid",
            Finding::Expiring { .. } => "expiring",
            Finding::KeyMismatch { .. } => "key_mismatch",
            Finding::KeyUnreadable { .. } => "key_unreadable",
            Finding::NotIssuedByCa { .. } => "not_issued_by_ca",
            Finding::NotACa { .. } => "not_a_ca",
            Finding::BadSignature => "bad_signature",
            Finding::NotALeaf { .. } => "not_a_leaf",
            Finding::MissingServerAuth { .. } => "missing_server_auth",
            Finding::MissingClientAuth { .. } => "missing_client_auth",
            Finding::NameMismatch { .. } => "name_mismatch",
            Finding::OutlivesCa { .. } => "outlives_ca",
            Finding::SerialBehind { .. } => "serial_behind",
            Finding::SerialFileInvalid { .. } => "serial_file_invalid",
            Finding::FileMissing { .. } => "file_missing",
            Finding::NoCertificateFiles { .. } => "no_certificate_files",
            Finding::DerEncoded { .. } => "der_encoded",
            Finding::NotACertificate { .. } => "not_a_certificate",
            Finding::KeyReadableByOthers { .. } => "key_readable_by_others",
            Finding::DirectoryWritableByOthers { .. } => "directory_writable_by_others",
            Finding::PendingWrite { .. } => "pending_write",
            Finding::ConnectionFailed { .. } => "connection_failed",
            Finding::ClientCertRejected { .. } => "client_cert_rejected",
            Finding::ClientCertNotGiven => "client_cert_not_given",
            Finding::CaMissingExtensions { .. } => "ca_missing_extensions",
            Finding::TlsDisabled => "tls_disabled",
            Finding::InvalidTlsMode { .. } => "invalid_tls_mode",
            Finding::RestPortSharesGrpcPort { .. } => "rest_port_shares_grpc_port",
            Finding::TlsUnderCommon { .. } => "tls_under_common",
            Finding::LegacyTlsEnabled { .. } => "legacy_tls_enabled",
            Finding::ExampleCertificate { .. } => "example_certificate",
            Finding::PathNotMounted { .. } => "path_not_mounted",
            Finding::UserYamlIgnored { .. } => "user_yaml_ignored",
            Finding::InternalTlsUnsupported { .. } => "internal_tls_unsupported",
            Finding::EtcdEndpointNotHttps { .. } => "etcd_endpoints_not_https",
            Finding::EtcdHttpsWithoutSsl { .. } => "etcd_https_without_ssl",
            Finding::EtcdSslPathMissing { .. } => "etcd_ssl_path_missing",
            Finding::EtcdTlsVersionTooLow { .. } => "etcd_tls_version_too_low",
            Finding::MinioCaNotTrusted { .. } => "minio_ca_not_trusted",
        }
    }

    /// Problem or warning.
    pub fn severity(&self) -> Severity {
        match self {
            Finding::Expiring { .. }
            | Finding::OutlivesCa { .. }
            | Finding::KeyReadableByOthers { .. }
            | Finding::PendingWrite { .. }
            | Finding::ClientCertNotGiven
            | Finding::CaMissingExtensions { .. }
            | Finding::TlsDisabled
            | Finding::MinioCaNotTrusted {
                mounts_known: false,
            }
            | Finding::LegacyTlsEnabled { tls_on: true } => Severity::Warning,
            _ => Severity::Problem,
        }
    }

    /// Whether it is a problem.
    pub fn is_problem(&self) -> bool {
        self.severity() == Severity::Problem
    }
}

#[cfg(test)]
mod tests;
