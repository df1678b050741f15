//! Why a `--connect` handshake failed: its kind, from rustls's typed error
//! (what the report makes of it), and in words (which side refused, and
//! what to do).

use std::io;
use std::time::Duration;

use rustls::CertificateError;

/// What kind of failure ended the handshake, from rustls's typed error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Failure {
    /// The server certificate is not valid for the name.
    NameMismatch,
    /// The server rejected our client certificate.
    ClientRejected,
    /// The server requires a client certificate and we had none.
    ClientRequired,
    /// Anything else.
    Other,
}

/// A failed connection: its kind, and its description.
#[derive(Debug)]
pub(super) struct Failed(pub Failure, pub String);

impl From<String> for Failed {
    fn from(reason: String) -> Failed {
        Failed(Failure::Other, reason)
    }
}

/// The failure `e` ended the handshake with `target` in.
pub(super) fn failed(e: &io::Error, target: &str, timeout: Duration) -> Failed {
    let kind = match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        )) => Failure::NameMismatch,
        Some(rustls::Error::AlertReceived(rustls::AlertDescription::CertificateRequired)) => {
            Failure::ClientRequired
        }
        Some(rustls::Error::AlertReceived(
            rustls::AlertDescription::UnknownCA
            | rustls::AlertDescription::BadCertificate
            | rustls::AlertDescription::UnsupportedCertificate
            | rustls::AlertDescription::CertificateUnknown
            | rustls::AlertDescription::CertificateExpired
            | rustls::AlertDescription::CertificateRevoked
            | rustls::AlertDescription::AccessDenied,
        )) => Failure::ClientRejected,
        _ => Failure::Other,
    };
    Failed(kind, describe(e, target, timeout))
}

/// A handshake failure in words: which side refused and why.
fn describe(e: &io::Error, target: &str, timeout: Duration) -> String {
    let tls = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    match tls {
        Some(rustls::Error::InvalidCertificate(c)) => {
            format!("verification failed: {}", certificate_error(c))
        }
        Some(rustls::Error::AlertReceived(alert)) => format!(
            "the server ended the handshake with the alert {alert:?}{}",
            match alert {
                rustls::AlertDescription::CertificateRequired =>
                    ": it requires a client certificate (tlsMode 2); pass --dir or --client-cert/--client-key",
                rustls::AlertDescription::UnknownCA
                | rustls::AlertDescription::BadCertificate
                | rustls::AlertDescription::UnsupportedCertificate
                | rustls::AlertDescription::CertificateUnknown =>
                    ": it rejected the client certificate (not signed by the CA it trusts, or lacking clientAuth)",
                rustls::AlertDescription::ProtocolVersion => ": no TLS version in common",
                _ => "",
            }
        ),
        Some(rustls::Error::InvalidMessage(_))
        | Some(rustls::Error::InappropriateMessage { .. }) => format!(
            // A plaintext Milvus (gRPC over HTTP/2 without TLS) answers a
            // ClientHello with an HTTP/2 SETTINGS frame, an HTTP/1 server
            // with "HTTP/1.1 400": neither parses as a TLS record. With
            // Milvus this means tlsMode is 0 where the server reads its
            // configuration: 2.3 reads configs/milvus.yaml only, not the
            // user.yaml later releases add (pkg/util/paramtable/base_table.go).
            "{target} does not speak TLS: it answered in plaintext, so TLS is off there. \
             If it is Milvus, common.security.tlsMode is 0 or set in a file the server does not \
             read (Milvus 2.3 and earlier read configs/milvus.yaml only, not user.yaml: make a \
             full one with `milvus-certs export compose --milvus-config milvus.yaml`); \
             else it is another service's port"
        ),
        Some(other) => format!("the TLS handshake failed: {other}"),
        None => match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
                format!(
                    "no complete TLS answer from {target} within {} s: the handshake did not finish \
                     (is this Milvus's TLS port? on a slow link, pass a larger --timeout)",
                    timeout.as_secs()
                )
            }
            io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset => format!(
                "{target} closed the connection during the handshake (not TLS, or it refused us)"
            ),
            _ => format!("the TLS handshake with {target} failed: {e}"),
        },
    }
}

fn certificate_error(e: &CertificateError) -> String {
    match e {
        CertificateError::UnknownIssuer => {
            "it is signed by an unknown authority (not by the CA given)".into()
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            "it is not valid for the server name (its subjectAltNames do not include it)".into()
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            "it has expired".into()
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "it is not valid yet".into()
        }
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            "its extendedKeyUsage does not allow serverAuth".into()
        }
        other => format!("{other:?}"),
    }
}
