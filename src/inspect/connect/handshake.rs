//! The TLS handshake of `inspect --connect` (rustls on aws-lc-rs, TLS 1.2
//! and 1.3): the client set up from the CA and client files, and one
//! deadline over the name lookup, the connection and the handshake.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::sign::CertifiedKey;
use rustls::{DigitallySignedStruct, SignatureScheme};

use super::ConnectOptions;
use super::failure::{Failed, failed};
use crate::input;

/// What one connection saw.
pub(super) struct Session {
    /// The chain the server presented (empty when none arrived).
    pub chain: Vec<CertificateDer<'static>>,
    /// Whether the server asked for a client certificate.
    pub asked: bool,
    /// How the handshake ended.
    pub outcome: Result<(), Failed>,
}

/// Sets the client up (the CA to verify with, the client certificate to
/// present) and shakes hands with `host:port`, verifying `name`. Err says
/// why the client could not be set up.
pub(super) fn connect(
    host: &str,
    port: u16,
    name: ServerName<'static>,
    opts: &ConnectOptions,
) -> Result<Session, String> {
    let (config, recording, client_cert) = client_config(opts)?;
    let outcome = handshake(host, port, name, config, opts.timeout, &client_cert);
    let chain = recording
        .chain
        .lock()
        .map(|c| c.clone())
        .unwrap_or_default();
    let asked = client_cert.asked.load(Ordering::SeqCst);
    Ok(Session {
        chain,
        asked,
        outcome,
    })
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
