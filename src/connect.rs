//! `inspect --connect`: a TLS handshake (rustls, TLS 1.2 and 1.3) with a
//! running server, reporting the chain it presents and whether it verifies.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::sign::CertifiedKey;
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use time::OffsetDateTime;

use crate::certinfo::CertInfo;
use crate::checks::{self, Finding};
use crate::input;
use crate::inspect::{ClientAuth, Entry, InspectOptions, finish, role_from_content};
use crate::issue::CertRole;
use crate::leaf::Role;
use crate::names::SanName;

/// How to reach and verify a server.
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    /// The CA certificate(s) to verify the server against.
    pub ca: PathBuf,
    /// The client certificate to present when the server asks for one.
    pub client_cert: Option<PathBuf>,
    /// Its key.
    pub client_key: Option<PathBuf>,
    /// The name to verify (the first; default: the host).
    pub server_names: Vec<String>,
    /// One deadline for the name lookup, the connection, the handshake and
    /// the wait for a rejection alert, counted from the start.
    pub timeout: Duration,
}

/// Wraps webpki's verifier to keep the chain the server presented, so it can
/// be reported even when verification fails.
#[derive(Debug)]
struct Recording {
    inner: Arc<WebPkiServerVerifier>,
    chain: Mutex<Vec<CertificateDer<'static>>>,
}

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Ok(mut chain) = self.chain.lock() {
            *chain = std::iter::once(end_entity)
                .chain(intermediates)
                .map(|c| c.clone().into_owned())
                .collect();
        }
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Presents the client certificate, and remembers that the server asked.
#[derive(Debug)]
struct ClientCert {
    key: Option<Arc<CertifiedKey>>,
    asked: AtomicBool,
}

impl rustls::client::ResolvesClientCert for ClientCert {
    fn resolve(&self, _hints: &[&[u8]], _schemes: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        self.asked.store(true, Ordering::SeqCst);
        self.key.clone()
    }

    fn has_certs(&self) -> bool {
        self.key.is_some()
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// Splits `host:port` (`[v6]:port` too).
fn split_target(target: &str) -> Option<(String, u16)> {
    let (host, port) = target.rsplit_once(':')?;
    let port = port.parse().ok()?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    (!host.is_empty()).then(|| (host.to_string(), port))
}

/// Connects to `target` and returns one entry per certificate it presents
/// (or one `invalid` entry saying why there was none).
pub fn inspect_endpoint(
    target: &str,
    opts: &ConnectOptions,
    inspect: &InspectOptions,
    now: OffsetDateTime,
) -> Vec<Entry> {
    let fail = |reason: String| {
        let mut e = Entry::unreadable(
            target.to_string(),
            Some(CertRole::Leaf(Role::Server)),
            Finding::ConnectionFailed { reason },
        );
        finish(&mut e, now, inspect.warn_days);
        vec![e]
    };
    // A pymilvus `uri=` pasted as is: say what to pass instead.
    if let Some((scheme, rest)) = target.split_once("://") {
        let bare = rest.split('/').next().unwrap_or(rest);
        let bare = if bare.contains(':') {
            bare.to_string()
        } else {
            format!("{bare}:19530")
        };
        return fail(format!(
            "{target:?} has a scheme ({scheme}://), but --connect takes HOST:PORT: pass --connect {}",
            crate::shell::quote(&bare)
        ));
    }
    let Some((host, port)) = split_target(target) else {
        return fail(format!(
            "{target:?} is not HOST:PORT (for example milvus.example.com:19530)"
        ));
    };
    let name = opts
        .server_names
        .first()
        .cloned()
        .unwrap_or_else(|| host.clone());
    let server_name = match ServerName::try_from(name.clone()) {
        Ok(n) => n,
        Err(_) => return fail(format!("{name:?} is not a valid server name")),
    };
    let setup = match client_config(opts) {
        Ok(s) => s,
        Err(problem) => return fail(problem),
    };
    let (config, recording, client_cert) = setup;

    let outcome = handshake(&host, port, server_name, config, opts.timeout, &client_cert);
    let chain: Vec<CertificateDer<'static>> = recording
        .chain
        .lock()
        .map(|c| c.clone())
        .unwrap_or_default();
    let asked = client_cert.asked.load(Ordering::SeqCst);

    let mut entries: Vec<Entry> = Vec::new();
    for (i, der) in chain.iter().enumerate() {
        let source = if i == 0 {
            target.to_string()
        } else {
            format!("{target}#{}", i + 1)
        };
        match CertInfo::from_der(der) {
            Ok(cert) => {
                let role = if i == 0 {
                    Some(CertRole::Leaf(Role::Server))
                } else {
                    role_from_content(&cert)
                };
                let mut found = Vec::new();
                if i == 0 {
                    found.extend(checks::purpose(&cert, Role::Server, None));
                    let mut names: Vec<SanName> = inspect.server_names.clone();
                    if names.is_empty() {
                        names.extend(SanName::parse("--connect", &host).ok());
                    }
                    found.extend(checks::names(&cert, &names, None));
                }
                let mut e = Entry::of(source, role, cert);
                e.findings = found;
                entries.push(e);
            }
            Err(reason) => entries.push(Entry::unreadable(
                source,
                None,
                Finding::NotACertificate {
                    reason: format!("the server presented an unreadable certificate: {reason}"),
                },
            )),
        }
    }
    let client_auth = match (&outcome, asked) {
        (_, false) => None,
        (Err(Failed(Failure::ClientRejected, reason)), true) if opts.client_cert.is_some() => {
            Some(ClientAuth::Rejected(reason.clone()))
        }
        (Err(Failed(Failure::ClientRequired, _)), true) => Some(ClientAuth::NotGiven),
        (Err(_), true) => None,
        (Ok(()), true) => Some(match &opts.client_cert {
            Some(c) => ClientAuth::Accepted(c.clone()),
            None => ClientAuth::NotGiven,
        }),
    };
    if let Some(leaf) = entries.first_mut() {
        match &client_auth {
            Some(ClientAuth::Rejected(reason)) => leaf.findings.push(Finding::ClientCertRejected {
                reason: reason.clone(),
            }),
            Some(ClientAuth::NotGiven) => leaf.findings.push(Finding::ClientCertNotGiven),
            _ => {}
        }
        leaf.client_auth = client_auth.clone();
    }
    if let Err(Failed(kind, reason)) = outcome {
        match entries.first_mut() {
            Some(leaf) => {
                // Keep the name finding of our own rather than saying it twice.
                let named = leaf
                    .findings
                    .iter()
                    .any(|f| matches!(f, Finding::NameMismatch { .. }));
                let said = match kind {
                    Failure::NameMismatch => named,
                    Failure::ClientRejected => client_auth.is_some(),
                    _ => false,
                };
                if !said {
                    leaf.findings.push(Finding::ConnectionFailed { reason });
                }
            }
            None => return fail(reason),
        }
    }
    for e in &mut entries {
        finish(e, now, inspect.warn_days);
    }
    entries
}

type Setup = (Arc<rustls::ClientConfig>, Arc<Recording>, Arc<ClientCert>);

fn client_config(opts: &ConnectOptions) -> Result<Setup, String> {
    let pem = input::read_required(
        &opts.ca,
        "a PEM CA certificate",
        "the CA certificate to verify the server with",
        "pass --ca FILE or --dir DIR",
    )
    .map_err(|e| e.to_string())?;
    let mut roots = rustls::RootCertStore::empty();
    for der in input::parse_certificates(&opts.ca, &pem).map_err(|e| e.to_string())? {
        roots.add(der).map_err(|e| {
            format!(
                "{} cannot be used as a trust anchor: {e}",
                opts.ca.display()
            )
        })?;
    }
    let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
        .build()
        .map_err(|e| format!("cannot verify with {}: {e}", opts.ca.display()))?;
    let recording = Arc::new(Recording {
        inner,
        chain: Mutex::new(Vec::new()),
    });
    let key = match (&opts.client_cert, &opts.client_key) {
        (Some(c), Some(k)) => Some(Arc::new(certified_key(c, k)?)),
        _ => None,
    };
    let client_cert = Arc::new(ClientCert {
        key,
        asked: AtomicBool::new(false),
    });
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(recording.clone())
        .with_client_cert_resolver(client_cert.clone());
    Ok((Arc::new(config), recording, client_cert))
}

fn certified_key(cert: &std::path::Path, key: &std::path::Path) -> Result<CertifiedKey, String> {
    let pem = input::read_required(
        cert,
        "a PEM certificate",
        "the client certificate",
        "pass --client-cert",
    )
    .map_err(|e| e.to_string())?;
    let chain = input::parse_certificates(cert, &pem).map_err(|e| e.to_string())?;
    let key_pem = input::read_required(
        key,
        "a PEM private key",
        "the client key",
        "pass --client-key",
    )
    .map_err(|e| e.to_string())?;
    // Checked with our parser first, for its messages (encrypted, wrong label...).
    crate::keys::parse_private_key(key, &key_pem).map_err(|e| e.to_string())?;
    let der = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|_| format!("{} is not a PEM private key", key.display()))?;
    let signing = provider()
        .key_provider
        .load_private_key(der)
        .map_err(|e| format!("{} cannot be used: {e}", key.display()))?;
    Ok(CertifiedKey::new(chain, signing))
}

/// A socket whose every read and write may only use the time left before
/// one deadline. A per-read timeout is not enough: a server that sends a
/// byte now and then (a TLS record header, then one byte per second) would
/// reset it each time and keep the run going for ever.
struct Deadlined<'a> {
    sock: &'a TcpStream,
    deadline: Instant,
}

impl Deadlined<'_> {
    /// The time left, or a `TimedOut` error once there is none (a zero
    /// socket timeout would mean "no timeout", and is refused anyway).
    fn remaining(&self) -> io::Result<Duration> {
        match self.deadline.checked_duration_since(Instant::now()) {
            Some(left) if !left.is_zero() => Ok(left),
            _ => Err(io::ErrorKind::TimedOut.into()),
        }
    }
}

impl Read for Deadlined<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.sock.set_read_timeout(Some(self.remaining()?))?;
        (&mut &*self.sock).read(buf)
    }
}

impl Write for Deadlined<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.sock.set_write_timeout(Some(self.remaining()?))?;
        (&mut &*self.sock).write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        (&mut &*self.sock).flush()
    }
}

/// How long a TLS 1.3 server may take to reject our client certificate
/// after the handshake (never past the deadline).
const ALERT_WAIT: Duration = Duration::from_millis(500);

/// Resolves `host` within `timeout`. The system resolver has no timeout of
/// ours, so it runs on a thread that is left behind if it does not answer
/// in time (the run ends soon after; the thread only holds a name).
fn resolve(host: &str, port: u16, timeout: Duration) -> Result<Vec<SocketAddr>, String> {
    let lookup = move |host: &str| {
        (host, port)
            .to_socket_addrs()
            .map(|a| a.collect::<Vec<_>>())
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let owned = host.to_string();
    let answer = match std::thread::Builder::new()
        .name("resolve".into())
        .spawn(move || {
            let _ = tx.send(lookup(&owned));
        }) {
        Ok(_) => rx.recv_timeout(timeout),
        // No thread to spare: look up here, unbounded, rather than fail.
        Err(_) => Ok(lookup(host)),
    };
    match answer {
        Ok(Ok(addrs)) => Ok(addrs),
        Ok(Err(e)) => Err(format!("cannot resolve {host}: {e}")),
        Err(_) => Err(format!(
            "cannot resolve {host} within {} s: check its name and the DNS servers, or pass an IP address",
            timeout.as_secs()
        )),
    }
}

fn handshake(
    host: &str,
    port: u16,
    name: ServerName<'static>,
    config: Arc<rustls::ClientConfig>,
    timeout: Duration,
    client_cert: &ClientCert,
) -> Result<(), Failed> {
    // One deadline for everything below: resolving, connecting (to every
    // address in turn), the handshake and the wait for a rejection alert.
    let deadline = Instant::now() + timeout;
    let target = format!("{host}:{port}");
    let addrs = resolve(host, port, timeout)?;
    let mut last = None;
    let mut sock = None;
    for addr in &addrs {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            last = Some(io::ErrorKind::TimedOut.into());
            break;
        }
        match TcpStream::connect_timeout(addr, left) {
            Ok(s) => {
                sock = Some(s);
                break;
            }
            Err(e) => last = Some(e),
        }
    }
    let sock = sock.ok_or_else(|| match last {
        Some(e) if e.kind() == io::ErrorKind::ConnectionRefused => format!(
            "connection refused: nothing listens on {target} (is Milvus running, and is this its port?)"
        ),
        Some(e) if matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock) => {
            format!(
                "no answer from {target} within {} s: check the host and port, and that no firewall drops the connection",
                timeout.as_secs()
            )
        }
        Some(e) => format!("cannot connect to {target}: {e}"),
        None => format!("{host} has no address"),
    })?;
    let mut io = Deadlined {
        sock: &sock,
        deadline,
    };
    let mut conn =
        rustls::ClientConnection::new(config, name).map_err(|e| Failed::from(e.to_string()))?;
    while conn.is_handshaking() {
        conn.complete_io(&mut io)
            .map_err(|e| failed(&e, &target, timeout))?;
    }
    // In TLS 1.3 the server checks our certificate after our handshake is
    // done; a rejection arrives as an alert just after. Wait briefly for it,
    // within the deadline; no alert in that time means accepted.
    if client_cert.asked.load(Ordering::SeqCst) {
        let mut wait = Deadlined {
            sock: &sock,
            deadline: deadline.min(Instant::now() + ALERT_WAIT),
        };
        let mut buf = [0u8; 1];
        match conn.complete_io(&mut wait) {
            Err(e)
                if !matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Err(failed(&e, &target, timeout));
            }
            _ => {}
        }
        if let Err(e) = conn.reader().read(&mut buf)
            && e.kind() != io::ErrorKind::WouldBlock
        {
            return Err(failed(&e, &target, timeout));
        }
    }
    conn.send_close_notify();
    let _ = conn.complete_io(&mut io);
    Ok(())
}

/// What kind of failure ended the handshake, from rustls's typed error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Failure {
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
struct Failed(Failure, String);

impl From<String> for Failed {
    fn from(reason: String) -> Failed {
        Failed(Failure::Other, reason)
    }
}

fn failed(e: &io::Error, target: &str, timeout: Duration) -> Failed {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_split() {
        assert_eq!(split_target("milvus:19530"), Some(("milvus".into(), 19530)));
        assert_eq!(split_target("[::1]:443"), Some(("::1".into(), 443)));
        assert_eq!(split_target("milvus"), None);
        assert_eq!(split_target(":1"), None);
        assert_eq!(split_target("h:99999"), None);
    }
}
