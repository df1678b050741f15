//! A real etcd (Debian's `etcd-server` 3.4) over TLS on 127.0.0.1, for the
//! certificates `milvus-certs add etcd` makes: started with bounded waits,
//! taken down by its pid when dropped.
//!
//! The flags are etcd's "Transport security" ones (etcd 3.4
//! `Documentation/op-guide/security.md` and `etcd --help`): `--cert-file`,
//! `--key-file`, `--trusted-ca-file`, `--client-cert-auth` for clients;
//! `--peer-cert-file`, `--peer-key-file`, `--peer-trusted-ca-file`,
//! `--peer-client-cert-auth` between members.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Whether the etcd and etcdctl binaries are here; under CI=true their
/// absence fails the test.
pub fn available() -> bool {
    // etcdctl 3.4 has `version`, no `--version`.
    let ok = [("etcd", "--version"), ("etcdctl", "version")]
        .iter()
        .all(|(b, v)| {
            Command::new(b)
                .arg(v)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        });
    if !ok {
        super::skip_unless_ci(
            "etcd 3.4 over TLS needs etcd and etcdctl (apt-get install -y etcd-server etcd-client)",
        );
    }
    ok
}

/// A free TCP port on 127.0.0.1 (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One etcd member.
pub struct Etcd {
    child: Child,
    /// Its name.
    pub name: String,
    /// Its client URL, `https://127.0.0.1:PORT`.
    pub client_url: String,
    /// Its peer URL.
    pub peer_url: String,
    /// Its log (stdout and stderr).
    pub log: PathBuf,
}

impl Drop for Etcd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A member's ports and the cluster it belongs to.
pub struct Member {
    pub name: String,
    pub client_port: u16,
    pub peer_port: u16,
}

impl Member {
    pub fn new(name: &str) -> Member {
        Member {
            name: name.into(),
            client_port: free_port(),
            peer_port: free_port(),
        }
    }

    pub fn peer_url(&self) -> String {
        format!("https://127.0.0.1:{}", self.peer_port)
    }

    pub fn client_url(&self) -> String {
        format!("https://127.0.0.1:{}", self.client_port)
    }
}

/// Starts `member` of `cluster` with `certs`' `cert`/`key` (e.g.
/// `etcd.pem`/`etcd.key`) and `ca.pem`, client-certificate auth on both
/// sides, data in `data`. Does not wait: see [`wait_healthy`].
pub fn start(
    certs: &Path,
    cert: &str,
    key: &str,
    member: &Member,
    cluster: &[&Member],
    data: &Path,
) -> Etcd {
    let initial: Vec<String> = cluster
        .iter()
        .map(|m| format!("{}={}", m.name, m.peer_url()))
        .collect();
    let log = data.with_extension("log");
    let out = std::fs::File::create(&log).unwrap();
    let err = out.try_clone().unwrap();
    let p = |f: &str| certs.join(f).display().to_string();
    let child = Command::new("etcd")
        .args(["--name", &member.name, "--data-dir"])
        .arg(data)
        .args(["--listen-client-urls", &member.client_url()])
        .args(["--advertise-client-urls", &member.client_url()])
        .args(["--listen-peer-urls", &member.peer_url()])
        .args(["--initial-advertise-peer-urls", &member.peer_url()])
        .args(["--initial-cluster", &initial.join(",")])
        .args(["--initial-cluster-state", "new"])
        .args(["--initial-cluster-token", "milvus-certs-test"])
        .args(["--cert-file", &p(cert), "--key-file", &p(key)])
        .args(["--trusted-ca-file", &p("ca.pem"), "--client-cert-auth"])
        .args(["--peer-cert-file", &p(cert), "--peer-key-file", &p(key)])
        .args([
            "--peer-trusted-ca-file",
            &p("ca.pem"),
            "--peer-client-cert-auth",
        ])
        // Short elections: a two-member test cluster settles in seconds.
        .args(["--heartbeat-interval", "100", "--election-timeout", "1000"])
        .env_remove("ETCDCTL_API")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("start etcd");
    Etcd {
        child,
        name: member.name.clone(),
        client_url: member.client_url(),
        peer_url: member.peer_url(),
        log,
    }
}

impl Etcd {
    /// Its log so far, for failure messages.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().ok().flatten().is_none()
    }

    /// Waits (at most `limit`) until its client port accepts TCP.
    pub fn wait_listening(&mut self, limit: Duration) {
        let addr: SocketAddr = self
            .client_url
            .trim_start_matches("https://")
            .parse()
            .unwrap();
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return;
            }
            assert!(
                self.running(),
                "etcd {} exited:\n{}",
                self.name,
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "etcd {} did not listen within {limit:?}:\n{}",
            self.name,
            self.log_text()
        );
    }
}

/// `etcdctl` against `endpoints` with `certs`' ca.pem and the client
/// `cert`/`key`, bounded by `timeout`.
pub fn etcdctl(certs: &Path, endpoints: &str, cert: &str, key: &str, args: &[&str]) -> Output {
    Command::new("timeout")
        .args(["30", "etcdctl", "--endpoints", endpoints])
        .arg("--cacert")
        .arg(certs.join("ca.pem"))
        .arg("--cert")
        .arg(certs.join(cert))
        .arg("--key")
        .arg(certs.join(key))
        .args(["--dial-timeout", "3s", "--command-timeout", "5s"])
        .args(args)
        .env("ETCDCTL_API", "3")
        .stdin(Stdio::null())
        .output()
        .expect("run etcdctl")
}

/// Waits (at most `limit`) until `etcdctl endpoint health` with the given
/// client certificate succeeds on `endpoints`.
pub fn wait_healthy(
    certs: &Path,
    endpoints: &str,
    cert: &str,
    key: &str,
    limit: Duration,
) -> Result<(), String> {
    let deadline = Instant::now() + limit;
    let mut last = String::new();
    while Instant::now() < deadline {
        let out = etcdctl(certs, endpoints, cert, key, &["endpoint", "health"]);
        if out.status.success() {
            return Ok(());
        }
        last = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    Err(last)
}

/// `curl` POSTing `body` to `url` with ca.pem and a client certificate,
/// bounded: (HTTP status, body).
pub fn curl_post(certs: &Path, url: &str, cert: &str, key: &str, body: &str) -> (String, String) {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10", "-o", "-", "-w", "\n%{http_code}"])
        .arg("--cacert")
        .arg(certs.join("ca.pem"))
        .arg("--cert")
        .arg(certs.join(cert))
        .arg("--key")
        .arg(certs.join(key))
        .args(["-X", "POST", "-d", body, url])
        .stdin(Stdio::null())
        .output()
        .expect("curl is needed: apt-get install -y curl");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", &text));
    (
        code.to_string(),
        format!("{body}{}", String::from_utf8_lossy(&out.stderr)),
    )
}
