//! Helpers shared by the integration tests: run the binary, parse and verify
//! certificates, run real TLS peers.
#![allow(dead_code)]

pub mod etcd;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use x509_parser::prelude::*;

pub const BIN: &str = env!("CARGO_BIN_EXE_milvus-certs");
pub const SEVEN: [&str; 7] = [
    "ca.key",
    "ca.pem",
    "ca.srl",
    "server.key",
    "server.pem",
    "client.key",
    "client.pem",
];
/// The lock file every command takes in a certificate directory, and the
/// folder an interrupted write leaves: names users see (and may exclude
/// from backups), so they are spelled here rather than read from the
/// library, where a rename would go unnoticed.
pub const LOCK_FILE: &str = ".milvus-certs.lock";
pub const STAGING_DIR: &str = ".milvus-certs-pending";

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Runs `milvus-certs ARGS` in `cwd`: output into a pipe, which has no
/// colours unless CLICOLOR_FORCE is set (removed here, as NO_COLOR is: the
/// output must be plain without them).
pub fn run(cwd: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .output()
        .expect("run milvus-certs")
}

/// Runs it and requires success.
pub fn run_ok(cwd: &Path, args: &[&str]) -> Output {
    let out = run(cwd, args);
    assert!(
        out.status.success(),
        "milvus-certs {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    out
}

/// Asserts a failed run that printed exactly one `error:` line containing
/// every one of `needles`, and no panic.
pub fn assert_one_error_line(out: &Output, code: i32, needles: &[&str]) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(code), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "expected one line, got: {stderr}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
    for n in needles {
        assert!(stderr.contains(n), "{n:?} not in {stderr:?}");
    }
    stderr
}

/// A fresh `gen` in a new temporary directory.
pub fn gen_dir(extra: &[&str]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let mut args = vec!["gen", "--dir", "."];
    args.extend_from_slice(extra);
    run_ok(d.path(), &args);
    d
}

/// The DER of the one certificate in a PEM file.
pub fn cert_der(path: &Path) -> Vec<u8> {
    let ders: Vec<_> = CertificateDer::pem_file_iter(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        ders.len(),
        1,
        "{} holds {} certificates",
        path.display(),
        ders.len()
    );
    ders[0].to_vec()
}

pub fn parse(der: &[u8]) -> X509Certificate<'_> {
    let (rest, cert) = X509Certificate::from_der(der).expect("parse certificate");
    assert!(rest.is_empty());
    cert
}

/// Verifies `child`'s signature with `issuer`'s public key (aws-lc-rs).
pub fn signature_ok(child: &X509Certificate<'_>, issuer: &X509Certificate<'_>) -> bool {
    use aws_lc_rs::signature as sig;
    use x509_parser::oid_registry as oids;
    let alg = &child.signature_algorithm.algorithm;
    let verifier: &dyn sig::VerificationAlgorithm = if *alg == oids::OID_PKCS1_SHA256WITHRSA {
        &sig::RSA_PKCS1_2048_8192_SHA256
    } else if *alg == oids::OID_SIG_ECDSA_WITH_SHA256 {
        if issuer.public_key().raw.len() > 100 {
            &sig::ECDSA_P384_SHA256_ASN1
        } else {
            &sig::ECDSA_P256_SHA256_ASN1
        }
    } else if *alg == oids::OID_SIG_ECDSA_WITH_SHA384 {
        &sig::ECDSA_P384_SHA384_ASN1
    } else if *alg == oids::OID_SIG_ED25519 {
        &sig::ED25519
    } else {
        panic!("unexpected signature algorithm {alg}");
    };
    sig::UnparsedPublicKey::new(verifier, &issuer.public_key().subject_public_key.data)
        .verify(child.tbs_certificate.as_ref(), &child.signature_value.data)
        .is_ok()
}

/// The SHA-1 of the BIT STRING subjectPublicKey (RFC 5280 4.2.1.2 method 1).
pub fn method1_key_id(cert: &X509Certificate<'_>) -> Vec<u8> {
    use aws_lc_rs::digest;
    digest::digest(
        &digest::SHA1_FOR_LEGACY_USE_ONLY,
        &cert.public_key().subject_public_key.data,
    )
    .as_ref()
    .to_vec()
}

pub fn ski(cert: &X509Certificate<'_>) -> Option<Vec<u8>> {
    cert.extensions()
        .iter()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(k) => Some(k.0.to_vec()),
            _ => None,
        })
}

pub fn aki(cert: &X509Certificate<'_>) -> Option<Vec<u8>> {
    cert.extensions()
        .iter()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::AuthorityKeyIdentifier(a) => {
                a.key_identifier.as_ref().map(|k| k.0.to_vec())
            }
            _ => None,
        })
}

pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Every file below `dir` (recursively) and its contents, to prove a failed
/// command changed nothing.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (u32, Vec<u8>)> {
    let mut map = BTreeMap::new();
    fn walk(base: &Path, dir: &Path, map: &mut BTreeMap<PathBuf, (u32, Vec<u8>)>) {
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(base).unwrap().to_path_buf();
            let meta = fs::symlink_metadata(&p).unwrap();
            if meta.is_dir() {
                map.insert(rel.clone(), (mode(&p), Vec::new()));
                walk(base, &p, map);
            } else if meta.file_type().is_symlink() {
                map.insert(
                    rel,
                    (
                        0,
                        fs::read_link(&p)
                            .unwrap()
                            .into_os_string()
                            .into_encoded_bytes(),
                    ),
                );
            } else {
                map.insert(rel, (mode(&p), fs::read(&p).unwrap_or_default()));
            }
        }
    }
    walk(dir, dir, &mut map);
    map
}

/// Requires the `openssl` CLI (CI installs it).
pub fn openssl(cwd: &Path, args: &[&str]) -> Output {
    Command::new("openssl")
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the openssl CLI is needed by this test: apt-get install -y openssl")
}

pub fn openssl_ok(cwd: &Path, args: &[&str]) -> bool {
    let out = openssl(cwd, args);
    if !out.status.success() {
        eprintln!(
            "openssl {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out.status.success()
}

// --- rustls peers -------------------------------------------------------

pub fn certs(path: &Path) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_file_iter(path)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

pub fn key(path: &Path) -> PrivateKeyDer<'static> {
    PrivateKeyDer::from_pem_file(path).unwrap()
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

fn roots(ca: &Path) -> Arc<rustls::RootCertStore> {
    let mut roots = rustls::RootCertStore::empty();
    for c in certs(ca) {
        roots.add(c).unwrap();
    }
    Arc::new(roots)
}

/// A TLS 1.3-only server (as Milvus: Go crypto/tls with MinVersion TLS 1.3)
/// with `dir`'s server files; with `mutual_ca`, it requires a client
/// certificate that verifies against that CA (tlsMode 2).
pub fn server_config(dir: &Path, mutual_ca: Option<&Path>) -> Arc<rustls::ServerConfig> {
    let b = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap();
    let b = match mutual_ca {
        Some(ca) => b.with_client_cert_verifier(
            rustls::server::WebPkiClientVerifier::builder_with_provider(roots(ca), provider())
                .build()
                .unwrap(),
        ),
        None => b.with_no_client_auth(),
    };
    Arc::new(
        b.with_single_cert(certs(&dir.join("server.pem")), key(&dir.join("server.key")))
            .unwrap(),
    )
}

/// A client trusting `ca`, presenting `client` (cert, key) when given.
pub fn client_config(ca: &Path, client: Option<(&Path, &Path)>) -> Arc<rustls::ClientConfig> {
    let b = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots(ca));
    Arc::new(match client {
        Some((cert, k)) => b.with_client_auth_cert(certs(cert), key(k)).unwrap(),
        None => b.with_no_client_auth(),
    })
}

/// A full handshake between a rustls client and server in memory, followed
/// by one application-data round trip (so the server has verified the
/// client's certificate before we call it a success).
pub fn handshake(
    server: Arc<rustls::ServerConfig>,
    client: Arc<rustls::ClientConfig>,
    name: &str,
) -> Result<(), rustls::Error> {
    use std::io::{Read, Write};
    let mut c =
        rustls::ClientConnection::new(client, ServerName::try_from(name.to_string()).unwrap())?;
    let mut s = rustls::ServerConnection::new(server)?;
    c.writer().write_all(b"ping").unwrap();
    for _ in 0..10 {
        pump(&mut c, &mut s)?;
        pump(&mut s, &mut c)?;
        let mut got = [0u8; 4];
        if !s.is_handshaking() && s.reader().read_exact(&mut got).is_ok() {
            assert_eq!(&got, b"ping");
            return Ok(());
        }
    }
    panic!("the handshake did not finish");
}

fn pump<A, B>(from: &mut A, to: &mut B) -> Result<(), rustls::Error>
where
    A: std::ops::DerefMut<Target = rustls::ConnectionCommon<A::Data>> + ConnData,
    B: std::ops::DerefMut<Target = rustls::ConnectionCommon<B::Data>> + ConnData,
{
    let mut buf = Vec::new();
    while from.wants_write() {
        from.write_tls(&mut buf).unwrap();
    }
    let mut rd = &buf[..];
    while !rd.is_empty() {
        to.read_tls(&mut rd).unwrap();
        to.process_new_packets()?;
    }
    Ok(())
}

pub trait ConnData {
    type Data;
}
impl ConnData for rustls::ClientConnection {
    type Data = rustls::client::ClientConnectionData;
}
impl ConnData for rustls::ServerConnection {
    type Data = rustls::server::ServerConnectionData;
}

// --- openssl s_server --------------------------------------------------

/// A running `openssl s_server` on a loopback port, killed when dropped.
pub struct SServer {
    child: std::process::Child,
    pub port: u16,
}

impl Drop for SServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `openssl s_server` with `dir`'s server.pem/server.key (and
/// `extra` arguments) on a free 127.0.0.1 port, and waits until it accepts.
pub fn s_server(dir: &Path, extra: &[&str]) -> SServer {
    s_server_on(dir, std::net::Ipv4Addr::LOCALHOST.into(), extra)
}

/// [`s_server`] on a free port of `ip` (e.g. `::1`).
pub fn s_server_on(dir: &Path, ip: std::net::IpAddr, extra: &[&str]) -> SServer {
    use std::net::{SocketAddr, TcpListener, TcpStream};
    for _attempt in 0..5 {
        let port = TcpListener::bind(SocketAddr::new(ip, 0))
            .unwrap_or_else(|e| panic!("cannot listen on {ip}: {e}"))
            .local_addr()
            .unwrap()
            .port();
        let accept = SocketAddr::new(ip, port).to_string();
        let child = Command::new("openssl")
            .args([
                "s_server",
                "-accept",
                &accept,
                "-cert",
                "server.pem",
                "-key",
                "server.key",
                "-www",
                "-quiet",
            ])
            .args(extra)
            .current_dir(dir)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("the openssl CLI is needed by this test: apt-get install -y openssl");
        let mut server = SServer { child, port };
        for _ in 0..100 {
            if TcpStream::connect(SocketAddr::new(ip, port)).is_ok() {
                return server;
            }
            if server.child.try_wait().unwrap().is_some() {
                break; // the port was taken meanwhile: try another
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = server.child.kill();
    }
    panic!("openssl s_server did not start");
}

/// `openssl s_client` to `server`, trusting `dir/ca.pem` and verifying the
/// certificate for the IP address `ip` (`-verify_ip`, as a client given
/// `https://IP:PORT` does): whether the handshake and the verification succeeded.
pub fn s_client_verify_ip(
    dir: &Path,
    server: &SServer,
    connect: std::net::IpAddr,
    ip: &str,
) -> bool {
    let target = std::net::SocketAddr::new(connect, server.port).to_string();
    let out = Command::new("timeout")
        .args([
            "20", "openssl", "s_client", "-connect", &target, "-CAfile", "ca.pem",
        ])
        .args(["-verify_ip", ip, "-verify_return_error", "-brief"])
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("the openssl CLI is needed by this test: apt-get install -y openssl");
    let stderr = String::from_utf8_lossy(&out.stderr);
    out.status.success() && stderr.contains("Verification: OK")
}

/// Whether this machine has an IPv6 loopback (`::1` on lo). Tests that need
/// it fail when it is missing under CI=true, instead of passing silently.
pub fn ipv6_loopback_available() -> bool {
    let ok = std::net::TcpListener::bind("[::1]:0").is_ok();
    if !ok {
        skip_unless_ci("the ::1 part needs the IPv6 loopback (see `ip -6 addr show lo`)");
    }
    ok
}

/// A check that cannot run on this machine: under `CI=true` (where
/// `.ci/run` installs everything) that is a failure, never a silent pass;
/// elsewhere the test says SKIPPED and what it needs.
pub fn skip_unless_ci(what: &str) {
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "cannot check here, and CI must: {what}"
    );
    eprintln!("SKIPPED: {what}");
}

/// Milvus's two external TLS modes with `dir`'s files, for a client trusting
/// `ca`: tlsMode 1 (one-way) and tlsMode 2 (mutual, with `dir`'s client
/// certificate) succeed for every name, and a name not on the certificate fails.
pub fn assert_milvus_tls_works(dir: &Path, ca: &Path, names: &[&str]) {
    let (cc, ck) = (dir.join("client.pem"), dir.join("client.key"));
    for name in names {
        handshake(server_config(dir, None), client_config(ca, None), name)
            .unwrap_or_else(|e| panic!("tlsMode 1 for {name}: {e}"));
        handshake(
            server_config(dir, Some(ca)),
            client_config(ca, Some((&cc, &ck))),
            name,
        )
        .unwrap_or_else(|e| panic!("tlsMode 2 for {name}: {e}"));
    }
    assert!(
        handshake(
            server_config(dir, None),
            client_config(ca, None),
            "not-on-the-cert.example"
        )
        .is_err(),
        "a name not on the certificate must fail"
    );
}

/// `openssl verify -CAfile ca.pem FLAGS FILE` in `dir`: whether OpenSSL
/// accepts `file` (for the purpose and names given in `flags`).
pub fn openssl_verify(dir: &Path, flags: &[&str], file: &str) -> bool {
    let mut args = vec!["verify", "-CAfile", "ca.pem"];
    args.extend_from_slice(flags);
    args.push(file);
    openssl_ok(dir, &args)
}

/// Whether OpenSSL, with `-x509_strict`, accepts `dir/server.pem` as a TLS
/// server certificate for `host`.
pub fn openssl_verify_server(dir: &Path, host: &str) -> bool {
    openssl_verify(
        dir,
        &[
            "-x509_strict",
            "-purpose",
            "sslserver",
            "-verify_hostname",
            host,
        ],
        "server.pem",
    )
}

/// Requires `systemd-analyze verify UNITS` to pass. Without systemd-analyze
/// the check is skipped with a note, except under `CI=true`, where it fails:
/// a check that silently did not run proves nothing.
pub fn systemd_verify(units: &[&Path]) {
    match Command::new("systemd-analyze").arg("--version").output() {
        Ok(_) => {
            let v = Command::new("systemd-analyze")
                .arg("verify")
                .args(units)
                .output()
                .unwrap();
            assert!(
                v.status.success(),
                "systemd-analyze verify {units:?}: {}",
                String::from_utf8_lossy(&v.stderr)
            );
        }
        Err(e) => skip_unless_ci(&format!(
            "systemd-analyze verify (apt-get install -y systemd): {e}"
        )),
    }
}

// --- a Python TLS server ------------------------------------------------

/// A Python `http.server` behind TLS 1.3 (as Milvus's proxy), answering
/// every GET and POST with a small JSON body; with `mutual` it requires a
/// client certificate issued by `ca.pem` (Python's ssl checks clientAuth).
/// Killed when dropped.
pub struct PyServer {
    child: std::process::Child,
    pub port: u16,
}

impl Drop for PyServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const PY_SERVER: &str = r#"
import http.server, json, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
ctx.load_cert_chain("server.pem", "server.key")
if sys.argv[1] == "2":
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations("ca.pem")
class Handler(http.server.BaseHTTPRequestHandler):
    def reply(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"code": 0, "data": [], "path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_GET = do_POST = reply
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
"#;

/// Starts [`PyServer`] with `dir`'s server.pem, server.key and ca.pem.
pub fn py_tls_server(dir: &Path, mutual: bool) -> PyServer {
    use std::io::BufRead;
    let mut child = Command::new("python3")
        .args(["-c", PY_SERVER, if mutual { "2" } else { "1" }])
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("python3 is needed by this test");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .trim()
        .parse()
        .expect("the Python TLS server did not start");
    PyServer { child, port }
}

/// Runs `shell -c script` in `cwd` with `$BIN` set to milvus-certs and
/// `envs`, under a time limit (so a hung peer fails the test instead of
/// hanging it), and requires success.
pub fn shell_ok(shell: &str, cwd: &Path, script: &str, envs: &[(&str, &str)]) -> Output {
    let out = Command::new("timeout")
        .args(["60", shell, "-c", script])
        .current_dir(cwd)
        .env("BIN", BIN)
        .envs(envs.iter().copied())
        .output()
        .expect("run a shell");
    assert!(
        out.status.success(),
        "{shell} -c {script:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs the binary as an unprivileged user when we are root (root reads
/// any file, so "unreadable" needs another user): `setpriv` from
/// util-linux. Returns None, after saying why, when that is not possible.
pub fn run_unprivileged(cwd: &Path, args: &[&str]) -> Option<Output> {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false);
    if !root {
        return Some(run(cwd, args));
    }
    let (_keep, bin) = shared_bin();
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(bin)
        .args(args)
        .current_dir(cwd)
        .output();
    match out {
        Ok(o) => Some(o),
        Err(e) => {
            skip_unless_ci(&format!(
                "running as root needs setpriv (util-linux) to drop to another user ({e})"
            ));
            None
        }
    }
}

/// A copy of the binary that another user can run: the checkout may lie
/// under a directory only root can enter (/root).
pub fn shared_bin() -> (tempfile::TempDir, PathBuf) {
    let d = shared_dir();
    let path = d.path().join("milvus-certs");
    write_executable(&path, &fs::read(BIN).unwrap());
    (d, path)
}

/// Writes an executable file (0755) through a child process, never through
/// a descriptor of this one: a child that another test thread forks at that
/// moment would inherit the descriptor open for writing, and running the
/// file would fail with ETXTBSY ("Text file busy") until that child execs.
pub fn write_executable(path: &Path, contents: &[u8]) {
    use std::io::Write;
    let mut child = Command::new("sh")
        .args(["-c", "cat > \"$0\" && chmod 755 \"$0\""])
        .arg(path)
        .stdin(Stdio::piped())
        .spawn()
        .expect("run sh");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(contents)
        .expect("write to sh");
    assert!(
        child.wait().expect("wait for sh").success(),
        "{}",
        path.display()
    );
}

/// A temp dir another user can enter (its parent is 0700 for root).
pub fn shared_dir() -> tempfile::TempDir {
    let d = tempfile::Builder::new()
        .prefix("milvus-certs-shared")
        .tempdir_in("/tmp")
        .unwrap();
    fs::set_permissions(
        d.path(),
        <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o755),
    )
    .unwrap();
    d
}

/// A scratch folder in which to run the real binary, with expectations on
/// each run (in the manner of `just`'s test builder):
///
/// ```ignore
/// let t = Test::new();
/// t.cmd(&["gen", "--dir", "cert"]).stdout_snapshot("gen.txt").run();
/// t.cmd(&["renew", "--dir", "nope"]).status(1).stderr_contains("is missing").run();
/// ```
pub struct Test {
    dir: tempfile::TempDir,
}

impl Test {
    pub fn new() -> Test {
        Test {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// The scratch folder.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `milvus-certs ARGS` in the scratch folder, expected to exit 0 with
    /// nothing on stderr unless told otherwise.
    pub fn cmd<'t>(&'t self, args: &[&str]) -> Run<'t> {
        Run {
            test: self,
            args: args.iter().map(|a| a.to_string()).collect(),
            env: Vec::new(),
            status: 0,
            stdout: Vec::new(),
            stderr: vec![Expect::Empty],
        }
    }
}

enum Expect {
    Empty,
    Contains(String),
    Snapshot(String),
}

/// One run of the binary and what it must print; `run` asserts it all.
pub struct Run<'t> {
    test: &'t Test,
    args: Vec<String>,
    env: Vec<(String, String)>,
    status: i32,
    stdout: Vec<Expect>,
    stderr: Vec<Expect>,
}

impl Run<'_> {
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// The exit status; anything but 0 allows stderr output.
    pub fn status(mut self, code: i32) -> Self {
        self.status = code;
        if code != 0 {
            self.stderr.retain(|e| !matches!(e, Expect::Empty));
        }
        self
    }

    pub fn stdout_contains(mut self, text: &str) -> Self {
        self.stdout.push(Expect::Contains(text.into()));
        self
    }

    pub fn stderr_contains(mut self, text: &str) -> Self {
        self.stderr.retain(|e| !matches!(e, Expect::Empty));
        self.stderr.push(Expect::Contains(text.into()));
        self
    }

    pub fn stdout_snapshot(mut self, name: &str) -> Self {
        self.stdout.push(Expect::Snapshot(name.into()));
        self
    }

    pub fn stderr_snapshot(mut self, name: &str) -> Self {
        self.stderr.retain(|e| !matches!(e, Expect::Empty));
        self.stderr.push(Expect::Snapshot(name.into()));
        self
    }

    pub fn run(self) -> Output {
        let out = Command::new(BIN)
            .args(&self.args)
            .current_dir(self.test.path())
            .env("NO_COLOR", "1")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .output()
            .expect("run milvus-certs");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let what = format!(
            "milvus-certs {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
            self.args
        );
        assert_eq!(out.status.code(), Some(self.status), "{what}");
        assert!(!stderr.contains("panicked"), "{what}");
        for (text, expects) in [(&stdout, &self.stdout), (&stderr, &self.stderr)] {
            for e in expects {
                match e {
                    Expect::Empty => assert!(text.is_empty(), "{what}"),
                    Expect::Contains(s) => assert!(text.contains(s.as_str()), "{s:?} in {what}"),
                    Expect::Snapshot(name) => {
                        assert_snapshot(name, &redact(text, self.test.path()))
                    }
                }
            }
        }
        out
    }
}

/// Output made comparable across runs: the scratch folder's path, dates and
/// times, serial numbers, key identifiers, backup folder names, base64 and
/// PEM bodies (keys, certificates) are replaced by placeholders.
pub fn redact(text: &str, scratch: &Path) -> String {
    use regex_lite::Regex;
    let mut s = text
        .replace(BIN, "[BIN]")
        .replace(&scratch.display().to_string(), "[DIR]");
    let rules = [
        // schedule spreads the crontab minute by the folder's name.
        (r"(?m)^\d{1,2} (\d{1,2}) \* \* \*", "[MIN] $1 * * *"),
        (
            r"-----BEGIN ([A-Z ]+)-----[\s\S]*?-----END [A-Z ]+-----",
            "[PEM $1]",
        ),
        (
            r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})",
            "[TIME]",
        ),
        (r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}( UTC)?", "[DATE]"),
        (r"\d{8}T\d{6}Z(-\d+)?", "[STAMP]"),
        (r"\b[0-9A-Fa-f]{16,}\b", "[HEX]"),
        (r"[A-Za-z0-9+/]{60,}={0,2}", "[BASE64]"),
    ];
    for (pattern, with) in rules {
        s = Regex::new(pattern)
            .unwrap()
            .replace_all(&s, with)
            .into_owned();
    }
    s
}

/// Compares `actual` with `tests/snapshots/NAME`; `UPDATE_SNAPSHOTS=1
/// cargo test` writes it instead (review the diff before committing).
pub fn assert_snapshot(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        fs::write(&path, actual).unwrap();
    }
    let want = fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "{} missing: run UPDATE_SNAPSHOTS=1 cargo test, then review it",
            path.display()
        )
    });
    assert_eq!(
        actual, want,
        "{name} changed: review, then UPDATE_SNAPSHOTS=1 cargo test"
    );
}

/// A temporary directory for a test that runs servers with `in_namespace`:
/// in target/tmp, since /tmp is the namespace's own.
pub fn server_tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("servers-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("a temporary directory in target/tmp")
}

/// Runs `py DRIVER ARGS` inside fresh network, PID and mount namespaces
/// with loopback up, for at most `limit_s` seconds: when the driver exits,
/// or `timeout` kills it, the kernel ends every process left in the
/// namespace (the servers included). The server reads /proc/<its pid>
/// (gopsutil): hence a /proc of the new PID namespace.
pub fn in_namespace(py: &Path, driver: &str, args: &[&str], limit_s: u32) -> Output {
    let out = Command::new("timeout")
        .args(["-k", "10", &limit_s.to_string()])
        .args([
            "unshare",
            "--net",
            "--pid",
            "--fork",
            "--mount-proc",
            "--kill-child",
            "sh",
            "-c",
        ])
        // A /tmp of its own: Milvus 2.3 keeps /tmp/milvus/server_id_<pid>
        // and SeaweedFS its gRPC sockets at /tmp/seaweedfs-*-<port>.sock,
        // names that servers in other namespaces (same pids, same ports)
        // would share. The test's files live outside /tmp: server_tempdir.
        .arg("ip link set lo up && mount -t tmpfs -o mode=1777 tmpfs /tmp && exec \"$0\" \"$@\"")
        .arg(py)
        .arg(driver)
        .args(args)
        .output()
        .expect("run unshare");
    assert!(
        out.status.success(),
        "{driver} {args:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The JSON document a run printed (`--json`).
pub fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The JSON entry of `inspect` whose source ends with `source_suffix`.
pub fn entry<'a>(doc: &'a serde_json::Value, source_suffix: &str) -> &'a serde_json::Value {
    doc["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["source"].as_str().unwrap().ends_with(source_suffix))
        .unwrap_or_else(|| panic!("no entry for {source_suffix} in {doc:#}"))
}

/// The Milvus 2.3.5 virtualenv's python (`$MILVUS_VENV`, default
/// `/opt/milvus-venv`, made by `.ci/run`) when the real server can run
/// here: Linux x86_64, root, and `tools` on the PATH; else why not.
pub fn milvus_python(tools: &[&str]) -> Result<PathBuf, String> {
    if !cfg!(all(target_os = "linux", target_arch = "x86_64")) {
        return Err("the milvus wheel's server is built for Linux x86_64".into());
    }
    let venv = std::env::var_os("MILVUS_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/milvus-venv"));
    let py = venv.join("bin/python");
    let ok = Command::new(&py)
        .args([
            "-c",
            "import milvus, pymilvus; assert milvus.__version__ == '2.3.5'",
        ])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        return Err(format!(
            "{} cannot import milvus 2.3.5 and pymilvus: run the virtualenv step of .ci/run",
            py.display()
        ));
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout == b"0\n");
    let have = |t: &&str| {
        Command::new("sh")
            .args(["-c", &format!("command -v {t}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !root || !tools.iter().all(have) {
        return Err(format!("it needs root and {}", tools.join(", ")));
    }
    Ok(py)
}
