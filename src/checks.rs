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

use std::fmt;
use std::path::{Path, PathBuf};

use time::{Duration, OffsetDateTime};

use crate::certinfo::{CertInfo, ExtKeyUsage, KeyUsage};
use crate::input::Encoding;
use crate::keys::parse_private_key_or_der;
use crate::names::SanName;
use crate::serial::Serial;
use crate::shell;
use crate::validity::date;

/// The warning period `export` uses for the certificates it copies, and
/// `inspect`'s default `--warn-days`.
pub const EXPORT_WARN_DAYS: u32 = 30;

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

/// What to run (or do) to fix a finding about a certificate that is renewed
/// from a CA.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Remedy {
    /// The CA folder is known: `milvus-certs renew` with these arguments
    /// there (`--dir` added when it is not the current directory).
    Renew {
        /// The folder holding `ca.key`.
        dir: PathBuf,
        /// The arguments after `renew --dir DIR`, e.g. `["--only", "server"]`.
        args: Vec<String>,
    },
    /// The folder holds copies (a deployment or client folder, or loose
    /// files): renew where `ca.key` is, then copy or export them again.
    Elsewhere {
        /// The arguments of the `renew` to run there.
        args: Vec<String>,
    },
    /// Another command that works when copied (what renewing would keep,
    /// such as an added certificate's profile, needs `add --force`).
    Command(String),
}

impl Remedy {
    /// `renew ARGS` in `dir` when `dir` is the CA folder, else elsewhere.
    pub fn renew(ca_dir: Option<&Path>, args: &[&str]) -> Remedy {
        let args = args.iter().map(|a| a.to_string()).collect();
        match ca_dir {
            Some(dir) => Remedy::Renew {
                dir: dir.to_path_buf(),
                args,
            },
            None => Remedy::Elsewhere { args },
        }
    }
}

impl fmt::Display for Remedy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Remedy::Renew { dir, args } => {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                write!(f, "run `{}`", shell::milvus_certs("renew", dir, &args))
            }
            Remedy::Command(cmd) => write!(f, "run `{cmd}`"),
            Remedy::Elsewhere { args } => {
                let mut cmd = String::from("milvus-certs renew");
                for a in args {
                    cmd.push(' ');
                    cmd.push_str(&shell::quote(a));
                }
                write!(
                    f,
                    "run `{cmd}` in the folder that holds ca.key (or add --dir FOLDER), then copy the \
                     new files here (`milvus-certs export` writes them)"
                )
            }
        }
    }
}

/// Why a certificate does not chain to the CA it should.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChainBreak {
    /// Its issuer name is not the CA's subject.
    IssuerName,
    /// The names match but the CA's key does not verify its signature (an
    /// unrelated CA of the same name).
    Signature,
    /// No CA among those given verifies it.
    NoneOf,
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
pub const CODES: [&str; 39] = [
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

    /// What to do about it, when something can be done.
    pub fn fix(&self) -> Option<String> {
        let remedy = |r: &Option<Remedy>| r.as_ref().map(|r| r.to_string());
        match self {
            Finding::Expired { remedy: r, .. }
            | Finding::Expiring { remedy: r, .. }
            | Finding::NotIssuedByCa { remedy: r, .. }
            | Finding::NotALeaf { remedy: r, .. }
            | Finding::MissingServerAuth { remedy: r, .. }
            | Finding::MissingClientAuth { remedy: r, .. }
            | Finding::NameMismatch { remedy: r, .. } => remedy(r),
            Finding::KeyMismatch {
                remedy,
                backup,
                key_file,
            } => {
                let copy = match backup {
                    Some(b) => format!(" (an earlier {key_file} is in {}/)", b.display()),
                    None => String::new(),
                };
                Some(match remedy {
                    Some(r) => format!("restore the matching key{copy}, or {r}"),
                    None => format!("restore the matching key{copy}"),
                })
            }
            Finding::DerEncoded { fix, .. } => Some(fix.clone()),
            Finding::NotYetValid { .. } => Some("check this machine's clock".into()),
            Finding::KeyUnreadable { .. } | Finding::NotACertificate { .. } => Some(
                "restore a good copy (milvus-certs keeps the files it replaced under backup/)"
                    .into(),
            ),
            Finding::NotACa { .. } => Some(
                "use the ca.pem made by `milvus-certs gen` or the guide's gen.sh".into(),
            ),
            Finding::BadSignature => Some("restore a good copy".into()),
            Finding::OutlivesCa { .. } => None,
            Finding::SerialBehind { dir, .. } => Some(format!(
                "run `{}`, which continues after the highest serial (the guide's renew.sh would reuse one)",
                shell::milvus_certs("renew", dir, &[])
            )),
            Finding::SerialFileInvalid { .. } => Some(
                "fix it or remove it (a random serial is then used, as openssl -CAcreateserial does)"
                    .into(),
            ),
            Finding::FileMissing { .. } => Some(
                "restore it, or copy it from the folder made by `milvus-certs gen` (`milvus-certs export` writes deployment folders)"
                    .into(),
            ),
            Finding::KeyReadableByOthers { file, .. } => Some(format!(
                "run `chmod 600 {}` (in Kubernetes, mount the Secret with defaultMode 0400)",
                shell::quote(&file.to_string_lossy())
            )),
            Finding::DirectoryWritableByOthers { dir, .. } => Some(format!(
                "run `chmod go-w {}`",
                shell::quote(&dir.to_string_lossy())
            )),
            Finding::PendingWrite { dir } => Some(format!(
                "run `{}` to complete or roll it back",
                shell::milvus_certs("inspect", dir, &[])
            )),
            Finding::ConnectionFailed { .. } => None,
            Finding::ClientCertRejected { .. } => Some(
                "present a client certificate issued by the CA the server trusts, with clientAuth (--client-cert/--client-key, or --dir)"
                    .into(),
            ),
            Finding::ClientCertNotGiven => {
                Some("pass --dir or --client-cert/--client-key to present one".into())
            }
            Finding::CaMissingExtensions { missing, dir } => Some(format!(
                "add {} with `{}` (same key and subject: issued certificates stay valid)",
                if missing.len() == 1 { "it" } else { "them" },
                shell::milvus_certs("renew", dir, &["--ca"])
            )),
            Finding::TlsDisabled => Some(
                "set common.security.tlsMode: 1 (or 2 for mutual TLS) and the tls paths \
                 (`milvus-certs gen` makes the files, `milvus-certs export` the settings and mounts)"
                    .into(),
            ),
            Finding::InvalidTlsMode { .. } => Some(
                "set common.security.tlsMode to 0 (off), 1 (one-way TLS) or 2 (mutual TLS)".into(),
            ),
            Finding::RestPortSharesGrpcPort { .. } => Some(
                "set proxy.http.port: 8080 (any port but proxy.port) and publish it, as the guide does"
                    .into(),
            ),
            Finding::TlsUnderCommon { section } => Some(format!(
                "move `{section}:` out of `common:` to the top level of the configuration"
            )),
            Finding::LegacyTlsEnabled { .. } => Some(
                "remove common.security.tlsEnabled; common.security.tlsMode (1 or 2) turns TLS on"
                    .into(),
            ),
            Finding::ExampleCertificate { key, .. } => Some(format!(
                "point {key} at your own file, mounted outside /milvus/configs (e.g. /milvus/tls/); \
                 `milvus-certs gen` makes the files and `milvus-certs export` the settings and mounts"
            )),
            Finding::PathNotMounted { path, .. } => {
                let dir = Path::new(path)
                    .parent()
                    .map_or_else(|| "/".to_string(), |p| p.display().to_string());
                Some(format!(
                    "mount the folder holding the file at {dir} (a volume and a volumeMount, or a \
                     Compose bind mount), or point the key at a mounted path"
                ))
            }
            Finding::UserYamlIgnored { .. } => Some(
                "mount a full milvus.yaml (your release's, with the TLS keys set) at \
                 /milvus/configs/milvus.yaml instead, or use Milvus 2.4 or later"
                    .into(),
            ),
            Finding::InternalTlsUnsupported { .. } => {
                Some("use Milvus 2.5 or later for internal TLS".into())
            }
            Finding::EtcdEndpointNotHttps { .. } => Some(
                "write the endpoint as https://HOST:2379 (etcd.endpoints, or ETCD_ENDPOINTS)".into(),
            ),
            Finding::EtcdHttpsWithoutSsl { .. } => Some(
                "set etcd.ssl.enabled: true with etcd.ssl.tlsCert, tlsKey and tlsCACert \
                 (`milvus-certs add etcd-client` makes the client files, `export --etcd` the settings)"
                    .into(),
            ),
            Finding::EtcdSslPathMissing { key } => Some(format!(
                "set {key} to a mounted file (`milvus-certs add etcd-client` makes the client \
                 certificate and key; the CA is ca.pem)"
            )),
            Finding::EtcdTlsVersionTooLow { .. } => {
                Some("set etcd.ssl.tlsMinVersion: \"1.2\" or \"1.3\"".into())
            }
            Finding::MinioCaNotTrusted { .. } => Some(
                "mount a trust bundle holding your ca.pem over /etc/ssl/certs/ca-certificates.crt \
                 (`milvus-certs export --s3` does), or set minio.ssl.tlsCACert (Milvus 2.3.12 and later) to the CA's path"
                    .into(),
            ),
        }
    }

    /// The message and its fix, as one line: `MESSAGE; FIX`.
    pub fn with_fix(&self) -> String {
        match self.fix() {
            Some(fix) => format!("{self}; {fix}"),
            None => self.to_string(),
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::Expired { not_after, .. } => write!(f, "it expired on {}", date(*not_after)),
            Finding::NotYetValid { not_before } => {
                write!(f, "it is not valid until {}", date(*not_before))
            }
            Finding::Expiring {
                not_after,
                days_left,
                ..
            } => write!(
                f,
                "it expires on {} (in {days_left} day{})",
                date(*not_after),
                if *days_left == 1 { "" } else { "s" }
            ),
            Finding::KeyMismatch { key_file, .. } => write!(
                f,
                "{key_file} does not belong to this certificate: the key and certificate do not match"
            ),
            Finding::KeyUnreadable { reason } => f.write_str(reason),
            Finding::NotIssuedByCa {
                ca, issuer, why, ..
            } => match why {
                ChainBreak::IssuerName => write!(
                    f,
                    "it was not issued by {ca} (its issuer is {issuer}): clients trusting {ca} fail with \"unknown authority\""
                ),
                ChainBreak::Signature => write!(
                    f,
                    "its signature does not verify with {ca}'s key (a CA of the same name, {issuer}, but another key): \
                     clients trusting {ca} fail with \"unknown authority\""
                ),
                ChainBreak::NoneOf => write!(
                    f,
                    "it was not issued by any of the CA certificates given ({ca}; its issuer is {issuer}): \
                     clients trusting them fail with \"unknown authority\""
                ),
            },
            Finding::NotACa { reason } => write!(f, "it is not a CA certificate: {reason}"),
            Finding::BadSignature => f.write_str("its self-signature does not verify"),
            Finding::NotALeaf { .. } => f.write_str(
                "it is a CA certificate (basicConstraints CA:TRUE), not a server or client certificate",
            ),
            Finding::MissingServerAuth { .. } => f.write_str(
                "its extendedKeyUsage lacks serverAuth: clients reject it as a server certificate",
            ),
            Finding::MissingClientAuth { .. } => f.write_str(
                "its extendedKeyUsage lacks clientAuth: Milvus with tlsMode 2 (Go crypto/tls) rejects it \
                 (\"certificate specifies an incompatible key usage\")",
            ),
            Finding::NameMismatch { name, has, .. } => {
                let no_ip_sans = !has.iter().any(|h| h.parse::<std::net::IpAddr>().is_ok());
                if matches!(name, SanName::Ip(_)) && no_ip_sans {
                    write!(
                        f,
                        "no subjectAltName matches {name}: it has no IP SANs (clients fail with \"doesn't contain any IP SANs\")"
                    )
                } else {
                    let valid_for = if has.is_empty() {
                        "no names".to_string()
                    } else {
                        has.join(", ")
                    };
                    write!(
                        f,
                        "no subjectAltName matches {name}: clients fail with \"certificate is valid for {valid_for}, not {name}\""
                    )
                }
            }
            Finding::OutlivesCa { ca_not_after } => write!(
                f,
                "it outlives its CA (which expires {}): it stops working then",
                date(*ca_not_after)
            ),
            Finding::SerialBehind { srl, highest, .. } => write!(
                f,
                "ca.srl ({srl}) is below the serial {highest} already issued"
            ),
            Finding::SerialFileInvalid { reason } => f.write_str(reason),
            Finding::FileMissing {
                file,
                what,
                needed_by,
            } => write!(f, "{file} is missing ({what}; {needed_by})"),
            Finding::DerEncoded { file, .. } => write!(
                f,
                "{file} is DER (binary), but Milvus and its clients read PEM only (Go's crypto/tls \
                 fails with \"failed to find any PEM data\")"
            ),
            Finding::NotACertificate { reason } => f.write_str(reason),
            Finding::KeyReadableByOthers { file, mode } => write!(
                f,
                "{} is a private key readable by other users (mode {:04o})",
                file.display(),
                mode & 0o7777
            ),
            Finding::DirectoryWritableByOthers { dir, mode } => write!(
                f,
                "{} is writable by group or others (mode {:04o}): they may replace the certificates, \
                 and milvus-certs refuses to write there",
                dir.display(),
                mode & 0o7777
            ),
            Finding::PendingWrite { dir } => write!(
                f,
                "{} holds an interrupted write (.milvus-certs-pending) that was not completed: the files may be from two runs",
                dir.display()
            ),
            Finding::ConnectionFailed { reason } => f.write_str(reason),
            Finding::ClientCertRejected { reason } => {
                write!(f, "client certificate rejected: {reason}")
            }
            Finding::ClientCertNotGiven => f.write_str(
                "the server asked for a client certificate (mutual TLS) and none was given",
            ),
            Finding::CaMissingExtensions { missing, .. } => write!(
                f,
                "it has no {} (as the guide's gen.sh makes it): strict verifiers such as \
                 `openssl verify -x509_strict` refuse the certificates it issued",
                missing.join(" and no ")
            ),
            Finding::TlsDisabled => f.write_str(
                "TLS is off (common.security.tlsMode is 0 or not set): clients connect in plaintext",
            ),
            Finding::InvalidTlsMode { value } => write!(
                f,
                "common.security.tlsMode is {value:?}, not 0, 1 or 2: the proxy refuses to start"
            ),
            Finding::RestPortSharesGrpcPort { port } => write!(
                f,
                "TLS is on and the REST server shares the gRPC port {port} (proxy.http.port is not \
                 set to another port): current releases refuse to start the proxy (\"proxy \
                 server(http) and external grpc server share the same port, tls mode must be 0\"), \
                 and 2.4 answers no REST request there"
            ),
            Finding::TlsUnderCommon { section } => write!(
                f,
                "`{section}:` is under `common:`, where Milvus does not read it: its paths are \
                 ignored and Milvus uses the example certificates inside the image"
            ),
            Finding::LegacyTlsEnabled { tls_on: true } => f.write_str(
                "common.security.tlsEnabled is a legacy key Milvus ignores (tlsMode replaced it)",
            ),
            Finding::LegacyTlsEnabled { tls_on: false } => f.write_str(
                "common.security.tlsEnabled is a legacy key Milvus ignores (tlsMode replaced it), \
                 and tlsMode is 0 or not set: TLS is off",
            ),
            Finding::ExampleCertificate { key, path } => {
                match path {
                    Some(p) => write!(f, "{key} is {p}, the example file that ships in Milvus's configs/cert/")?,
                    None => write!(
                        f,
                        "{key} is not set, so Milvus uses its image's default, the example file in \
                         its configs/cert/ (with no default, as in the 2.3 wheel, the proxy does not start)"
                    )?,
                }
                if key.ends_with("caPemPath") {
                    f.write_str(": its CA's private key is public, so anyone can make a certificate Milvus trusts")
                } else {
                    f.write_str(": its private key is public, so anyone can impersonate this server")
                }
            }
            Finding::PathNotMounted { path, mounts } => {
                write!(f, "no volume is mounted at {path} or a folder above it")?;
                if mounts.is_empty() {
                    f.write_str(" (nothing is mounted)")?;
                } else {
                    write!(f, " (mounted: {})", mounts.join(", "))?;
                }
                f.write_str(": Milvus cannot read it and does not start")
            }
            Finding::InternalTlsUnsupported { image } => write!(
                f,
                "{image} has no internal TLS (Milvus 2.5 added it): common.security.internaltlsEnabled \
                 and internaltls are ignored, and its components talk to each other in plaintext"
            ),
            Finding::UserYamlIgnored { image } => write!(
                f,
                "{image} reads /milvus/configs/milvus.yaml alone (user.yaml is read since Milvus 2.4): \
                 the user.yaml mounted here, and its TLS settings, are ignored"
            ),
            Finding::EtcdEndpointNotHttps { endpoint } => write!(
                f,
                "etcd.ssl.enabled is true and the etcd endpoint {endpoint} is http://: the etcd \
                 client drops TLS for it and talks plaintext to the TLS port, and Milvus does not start"
            ),
            Finding::EtcdHttpsWithoutSsl { endpoint } => write!(
                f,
                "the etcd endpoint {endpoint} is https:// and etcd.ssl.enabled is not true: \
                 Milvus dials it trusting the system CAs only and with no client certificate, \
                 so an etcd with your own CA or client-certificate auth refuses it"
            ),
            Finding::EtcdSslPathMissing { key } => write!(
                f,
                "etcd.ssl.enabled is true and {key} is not set: Milvus cannot load its etcd \
                 TLS files and does not start"
            ),
            Finding::EtcdTlsVersionTooLow { value } => write!(
                f,
                "etcd.ssl.tlsMinVersion is {value:?}: TLS below 1.2 is broken and deprecated \
                 (RFC 8996), and etcd 3.5 and later refuse it by default"
            ),
            Finding::MinioCaNotTrusted { mounts_known } => {
                f.write_str(
                    "minio.useSSL is true and minio.ssl.tlsCACert is not set, so Milvus trusts only \
                     the system bundle /etc/ssl/certs/ca-certificates.crt (Milvus 2.3's C++ storage \
                     reads nothing else)",
                )?;
                if *mounts_known {
                    f.write_str(
                        ", and no volume is mounted over it: a storage certificate from your own CA \
                         is refused",
                    )
                } else {
                    f.write_str(": unless a bundle holding your CA is mounted over it, a storage \
                         certificate from your own CA is refused")
                }
            }
        }
    }
}

/// A CA the guide's gen.sh made has no keyUsage (`openssl req -x509` adds
/// none), which RFC 5280 section 4.2.1.3 requires of a CA that signs
/// certificates: strict verifiers (`openssl verify -x509_strict`, Python's
/// default from 3.13) refuse the chain. `renew --ca` adds it, and a missing
/// subjectKeyIdentifier, with the same key and subject.
pub fn ca_extensions(ca: &CertInfo, dir: &Path) -> Option<Finding> {
    if !ca.is_ca() || not_ca_reason(ca).is_some() {
        return None;
    }
    let missing: Vec<&'static str> = [
        ("keyUsage", ca.key_usage.is_none()),
        ("subjectKeyIdentifier", ca.ski.is_none()),
    ]
    .into_iter()
    .filter_map(|(name, lacks)| lacks.then_some(name))
    .collect();
    (!missing.is_empty()).then(|| Finding::CaMissingExtensions {
        missing,
        dir: dir.to_path_buf(),
    })
}

/// Expired, not yet valid, or expiring within `warn_days`.
pub fn validity(
    cert: &CertInfo,
    now: OffsetDateTime,
    warn_days: u32,
    remedy: Option<Remedy>,
) -> Option<Finding> {
    if now > cert.not_after {
        Some(Finding::Expired {
            not_after: cert.not_after,
            remedy,
        })
    } else if now < cert.not_before {
        Some(Finding::NotYetValid {
            not_before: cert.not_before,
        })
    } else if cert.not_after - now < Duration::days(i64::from(warn_days)) {
        Some(Finding::Expiring {
            not_after: cert.not_after,
            days_left: days_left(cert, now),
            remedy,
        })
    } else {
        None
    }
}

/// Whole days until notAfter, rounded down (negative once expired).
pub fn days_left(cert: &CertInfo, now: OffsetDateTime) -> i64 {
    (cert.not_after - now).whole_seconds().div_euclid(86400)
}

/// Whether `key` (a key pair) is the key of `cert`.
pub fn key_matches(key: &rcgen::KeyPair, cert: &CertInfo) -> bool {
    key.public_key_raw() == cert.public_key_bits.as_slice()
}

/// Reads `key_bytes` (from `key_path`, PEM or DER) and checks it is
/// `cert`'s key; returns how it was encoded, when it could be read.
pub fn key_pair(
    key_path: &Path,
    key_bytes: &[u8],
    cert: &CertInfo,
    remedy: Option<Remedy>,
) -> (Option<Encoding>, Option<Finding>) {
    match parse_private_key_or_der(key_path, key_bytes) {
        Err(e) => (
            None,
            Some(Finding::KeyUnreadable {
                reason: e.to_string(),
            }),
        ),
        Ok((key, encoding)) if !key_matches(&key, cert) => (
            Some(encoding),
            Some(Finding::KeyMismatch {
                key_file: file_name(key_path),
                backup: crate::error::latest_backup_of(key_path),
                remedy,
            }),
        ),
        Ok((_, encoding)) => (Some(encoding), None),
    }
}

/// In a folder, a DER certificate or key that Milvus or a client loads is a
/// problem (`ca.key` is read by milvus-certs and OpenSSL alone), with the
/// command that converts it (to a new file first: a half-written key must
/// never replace the old one, and a new key file must be 0600).
pub fn der_encoded(
    dir: &Path,
    cert_name: &str,
    cert: Option<Encoding>,
    key: Option<Encoding>,
) -> Vec<Finding> {
    let key_name = cert_name.replace(".pem", ".key");
    let mut out = Vec::new();
    if cert == Some(Encoding::Der) {
        out.push(Finding::DerEncoded {
            file: cert_name.to_string(),
            fix: crate::input::der_to_pem(&dir.join(cert_name), false),
        });
    }
    if cert_name != crate::files::CA_PEM && key == Some(Encoding::Der) {
        out.push(Finding::DerEncoded {
            fix: crate::input::der_to_pem(&dir.join(&key_name), true),
            file: key_name,
        });
    }
    out
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}

/// Why `cert` cannot act as a CA, if it cannot: basicConstraints CA:TRUE is
/// required, and keyCertSign when keyUsage is present (RFC 5280 4.2.1.3, 4.2.1.9).
pub fn not_ca_reason(cert: &CertInfo) -> Option<&'static str> {
    match cert.basic_constraints {
        None => Some("it has no basicConstraints CA:TRUE"),
        Some((false, _)) => Some("its basicConstraints says CA:FALSE"),
        Some((true, _)) => match &cert.key_usage {
            Some(ku) if !ku.contains(&KeyUsage::KeyCertSign) => {
                Some("its keyUsage lacks keyCertSign")
            }
            _ => None,
        },
    }
}

/// [`not_ca_reason`] as a finding.
pub fn not_a_ca(cert: &CertInfo) -> Option<Finding> {
    not_ca_reason(cert).map(|reason| Finding::NotACa { reason })
}

/// `cert` must be issued by `ca` (`ca_name` is how the CA is called in the
/// message): by name and by signature.
pub fn issued_by(
    cert: &CertInfo,
    ca: &CertInfo,
    ca_name: &str,
    remedy: Option<Remedy>,
) -> Option<Finding> {
    let why = if cert.issuer_raw != ca.subject_raw {
        ChainBreak::IssuerName
    } else if !cert.signed_by(ca) {
        ChainBreak::Signature
    } else {
        return None;
    };
    Some(Finding::NotIssuedByCa {
        ca: ca_name.to_string(),
        issuer: cert.issuer.clone(),
        why,
        remedy,
    })
}

/// `cert` must verify against one of `cas` (by signature, not by name).
pub fn issued_by_any(
    cert: &CertInfo,
    cas: &[(&str, &CertInfo)],
    remedy: Option<Remedy>,
) -> Option<Finding> {
    if cas
        .iter()
        .any(|(_, ca)| cert.issuer_raw == ca.subject_raw && cert.signed_by(ca))
    {
        return None;
    }
    if let [(name, ca)] = cas {
        return issued_by(cert, ca, name, remedy);
    }
    let names: Vec<&str> = cas.iter().map(|(n, _)| *n).collect();
    Some(Finding::NotIssuedByCa {
        ca: names.join(", "),
        issuer: cert.issuer.clone(),
        why: ChainBreak::NoneOf,
        remedy,
    })
}

/// What a leaf is for: the end of a TLS connection it serves, the same
/// type the issuing side makes `server.pem` and `client.pem` with.
pub use crate::leaf::Role as Purpose;

/// A leaf must not be a CA and must allow its purpose.
pub fn purpose(cert: &CertInfo, purpose: Purpose, ca_dir: Option<&Path>) -> Vec<Finding> {
    let remedy = || Some(Remedy::renew(ca_dir, &["--only", purpose.name()]));
    let mut out = Vec::new();
    if cert.is_ca() {
        out.push(Finding::NotALeaf { remedy: remedy() });
    }
    match purpose {
        Purpose::Server if !cert.allows_eku(&ExtKeyUsage::ServerAuth) => {
            out.push(Finding::MissingServerAuth { remedy: remedy() })
        }
        Purpose::Client if !cert.allows_eku(&ExtKeyUsage::ClientAuth) => {
            out.push(Finding::MissingClientAuth { remedy: remedy() })
        }
        _ => {}
    }
    out
}

/// A certificate made by `milvus-certs add NAME`, in the CA folder `dir`:
/// not a CA, allowing what its profile needs (a ready-made name's, else
/// what it was made with: [`crate::issue::expected_profile`]), and naming
/// NAME when it serves. Every fix is `renew --only NAME` (with `--san NAME`
/// for a missing name), or `add NAME --profile ... --force` for a purpose
/// renewing would keep.
pub fn added(cert: &CertInfo, name: &str, dir: &Path) -> Vec<Finding> {
    let only = || Some(Remedy::renew(Some(dir), &["--only", name]));
    let readd = |profile: &str| {
        Some(Remedy::Command(shell::milvus_certs(
            "add",
            dir,
            &[name, "--profile", profile, "--force"],
        )))
    };
    let mut out = Vec::new();
    if cert.is_ca() {
        out.push(Finding::NotALeaf { remedy: only() });
    }
    let profile = crate::issue::expected_profile(name, cert);
    let (server, client) = profile.map_or((true, false), |p| p.needs());
    let fix = profile.unwrap_or(crate::leaf::Profile::Server).name();
    if server && !cert.allows_eku(&ExtKeyUsage::ServerAuth) {
        out.push(Finding::MissingServerAuth { remedy: readd(fix) });
    }
    if client && !cert.allows_eku(&ExtKeyUsage::ClientAuth) {
        out.push(Finding::MissingClientAuth { remedy: readd(fix) });
    }
    if server
        && let Ok(own) = SanName::parse("NAME", name)
        && !cert.matches_name(&own)
    {
        out.push(Finding::NameMismatch {
            name: own.clone(),
            has: cert.sans.iter().map(|s| s.to_string()).collect(),
            remedy: Some(Remedy::renew(
                Some(dir),
                &["--only", name, "--san", &own.to_string()],
            )),
        });
    }
    out
}

/// One finding for each of `names` that no subjectAltName of `cert` matches
/// (IP names against IP SANs).
pub fn names(cert: &CertInfo, names: &[SanName], ca_dir: Option<&Path>) -> Vec<Finding> {
    names
        .iter()
        .filter(|n| !cert.matches_name(n))
        .map(|name| Finding::NameMismatch {
            name: name.clone(),
            has: cert.sans.iter().map(|s| s.to_string()).collect(),
            remedy: Some(Remedy::renew(
                ca_dir,
                &["--only", "server", "--san", &name.to_string()],
            )),
        })
        .collect()
}

/// A leaf that expires after its CA stops working when the CA expires.
pub fn outlives(cert: &CertInfo, ca: &CertInfo) -> Option<Finding> {
    (cert.not_after > ca.not_after).then_some(Finding::OutlivesCa {
        ca_not_after: ca.not_after,
    })
}

/// `ca.srl` must not be below a serial the CA issued.
pub fn serial(srl: &Serial, issued: &[&CertInfo], ca: &CertInfo, dir: &Path) -> Option<Finding> {
    let highest = issued
        .iter()
        .filter(|c| c.issuer_raw == ca.subject_raw)
        .map(|c| &c.serial)
        .max()?;
    (highest > srl).then(|| Finding::SerialBehind {
        srl: srl.clone(),
        highest: highest.clone(),
        dir: dir.to_path_buf(),
    })
}

/// A private key file that other users can read (group or others bits).
pub fn key_permissions(path: &Path) -> Option<Finding> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    (mode & 0o044 != 0).then(|| Finding::KeyReadableByOthers {
        file: path.to_path_buf(),
        mode,
    })
}

/// A folder group or others may write into (without the sticky bit): they
/// could swap the files, and commands that write refuse it.
pub fn dir_permissions(dir: &Path) -> Option<Finding> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir).ok()?.permissions().mode();
    (mode & 0o022 != 0 && mode & 0o1000 == 0).then(|| Finding::DirectoryWritableByOthers {
        dir: dir.to_path_buf(),
        mode,
    })
}

/// An interrupted write left in `dir`.
pub fn pending_write(dir: &Path) -> Option<Finding> {
    crate::store::has_pending_write(dir).then(|| Finding::PendingWrite {
        dir: dir.to_path_buf(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_has_a_listed_unique_code_and_a_message() {
        let t = OffsetDateTime::UNIX_EPOCH;
        let s = String::from("x");
        let all = [
            Finding::Expired {
                not_after: t,
                remedy: None,
            },
            Finding::NotYetValid { not_before: t },
            Finding::Expiring {
                not_after: t,
                days_left: 1,
                remedy: None,
            },
            Finding::KeyMismatch {
                key_file: s.clone(),
                backup: None,
                remedy: None,
            },
            Finding::KeyUnreadable { reason: s.clone() },
            Finding::NotIssuedByCa {
                ca: s.clone(),
                issuer: s.clone(),
                why: ChainBreak::Signature,
                remedy: None,
            },
            Finding::NotACa { reason: "r" },
            Finding::BadSignature,
            Finding::NotALeaf { remedy: None },
            Finding::MissingServerAuth { remedy: None },
            Finding::MissingClientAuth { remedy: None },
            Finding::NameMismatch {
                name: SanName::Dns(s.clone()),
                has: Vec::new(),
                remedy: None,
            },
            Finding::OutlivesCa { ca_not_after: t },
            Finding::SerialBehind {
                srl: Serial::from_be_bytes(&[1]),
                highest: Serial::from_be_bytes(&[2]),
                dir: ".".into(),
            },
            Finding::SerialFileInvalid { reason: s.clone() },
            Finding::FileMissing {
                file: s.clone(),
                what: "w",
                needed_by: "n",
            },
            Finding::DerEncoded {
                file: s.clone(),
                fix: s.clone(),
            },
            Finding::NotACertificate { reason: s.clone() },
            Finding::KeyReadableByOthers {
                file: "k".into(),
                mode: 0o644,
            },
            Finding::DirectoryWritableByOthers {
                dir: "d".into(),
                mode: 0o777,
            },
            Finding::PendingWrite { dir: "d".into() },
            Finding::ConnectionFailed { reason: s.clone() },
            Finding::ClientCertRejected { reason: s.clone() },
            Finding::ClientCertNotGiven,
            Finding::CaMissingExtensions {
                missing: vec!["keyUsage"],
                dir: ".".into(),
            },
            Finding::TlsDisabled,
            Finding::InvalidTlsMode { value: s.clone() },
            Finding::RestPortSharesGrpcPort { port: s.clone() },
            Finding::TlsUnderCommon { section: s.clone() },
            Finding::LegacyTlsEnabled { tls_on: false },
            Finding::ExampleCertificate {
                key: s.clone(),
                path: None,
            },
            Finding::PathNotMounted {
                path: s.clone(),
                mounts: Vec::new(),
            },
            Finding::UserYamlIgnored { image: s.clone() },
            Finding::InternalTlsUnsupported { image: s.clone() },
            Finding::EtcdEndpointNotHttps {
                endpoint: s.clone(),
            },
            Finding::EtcdHttpsWithoutSsl {
                endpoint: s.clone(),
            },
            Finding::EtcdSslPathMissing { key: s.clone() },
            Finding::EtcdTlsVersionTooLow { value: s.clone() },
            Finding::MinioCaNotTrusted { mounts_known: true },
        ];
        let codes: Vec<&str> = all.iter().map(Finding::code).collect();
        assert_eq!(codes, CODES);
        for f in &all {
            assert!(!f.to_string().is_empty());
            assert!(f.code().chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        }
    }

    #[test]
    fn codes_are_snake_case_and_fixes_carry_the_dir() {
        let f = Finding::Expired {
            not_after: OffsetDateTime::UNIX_EPOCH,
            remedy: Some(Remedy::renew(
                Some(Path::new("old certs")),
                &["--only", "server"],
            )),
        };
        assert_eq!(f.code(), "expired");
        assert!(f.is_problem());
        assert_eq!(
            f.fix().unwrap(),
            "run `milvus-certs renew --dir 'old certs' --only server`"
        );
        let f = Finding::Expiring {
            not_after: OffsetDateTime::UNIX_EPOCH,
            days_left: 3,
            remedy: Some(Remedy::renew(Some(Path::new(".")), &[])),
        };
        assert_eq!(f.severity(), Severity::Warning);
        assert_eq!(f.fix().unwrap(), "run `milvus-certs renew`");
    }
}
