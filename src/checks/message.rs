//! What each finding says: one sentence that does not assume a command
//! line (the fix is [`Finding::fix`]'s).

use std::fmt;

use super::{ChainBreak, Finding};
use crate::names::SanName;
use crate::validity::date;

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
            Finding::NoCertificateFiles { dir } => write!(
                f,
                "{} holds none of the seven files gen writes ({})",
                dir.display(),
                crate::files::ALL.join(", ")
            ),
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
