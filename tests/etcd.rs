//! Issue 15: a real etcd 3.4 (Debian's etcd-server) over mutual TLS on the
//! certificates `milvus-certs add etcd` and `add etcd-client` make: etcdctl,
//! the HTTP gateway, a two-member cluster with peer TLS, the certificates
//! etcd must refuse, and the same after `renew`.

use std::fs;
use std::path::Path;
use std::time::Duration;

use crate::common::etcd::{self, Member};
use crate::common::*;

const UP: Duration = Duration::from_secs(30);

fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A CA folder with etcd (peer) and etcd-client certificates.
fn certs() -> tempfile::TempDir {
    let d = gen_dir(&[]);
    run_ok(d.path(), &["add", "etcd"]);
    run_ok(d.path(), &["add", "etcd-client"]);
    d
}

/// put, then get through etcdctl, and range through the HTTP gateway.
fn assert_kv_works(dir: &Path, endpoints: &str, value: &str) {
    let put = etcd::etcdctl(
        dir,
        endpoints,
        "etcd-client.pem",
        "etcd-client.key",
        &["put", "milvus-certs", value],
    );
    assert!(put.status.success(), "put: {}", text(&put));
    let get = etcd::etcdctl(
        dir,
        endpoints,
        "etcd-client.pem",
        "etcd-client.key",
        &["get", "milvus-certs", "--print-value-only"],
    );
    assert!(get.status.success(), "get: {}", text(&get));
    assert_eq!(String::from_utf8_lossy(&get.stdout).trim(), value);
}

fn assert_gateway_range(dir: &Path, client_url: &str, value: &str) {
    let body = format!("{{\"key\":\"{}\"}}", base64(b"milvus-certs"));
    let (code, out) = etcd::curl_post(
        dir,
        &format!("{client_url}/v3/kv/range"),
        "etcd-client.pem",
        "etcd-client.key",
        &body,
    );
    assert_eq!(code, "200", "gateway /v3/kv/range: {out}");
    assert!(
        out.contains(&base64(value.as_bytes())),
        "the value is in the gateway's answer: {out}"
    );
}

#[test]
fn etcd_serves_mutual_tls_on_added_certificates_and_refuses_the_wrong_clients() {
    if !etcd::available() {
        return;
    }
    let d = certs();
    let dir = d.path();
    let data = tempfile::tempdir().unwrap();
    let m = Member::new("m1");
    let mut server = etcd::start(
        dir,
        "etcd.pem",
        "etcd.key",
        &m,
        &[&m],
        &data.path().join("m1"),
    );
    server.wait_listening(UP);
    let url = m.client_url();
    etcd::wait_healthy(dir, &url, "etcd-client.pem", "etcd-client.key", UP)
        .unwrap_or_else(|e| panic!("etcd never became healthy: {e}\n{}", server.log_text()));
    assert_kv_works(dir, &url, "v1");
    // The gateway dials etcd itself with etcd.pem as a client certificate:
    // it needs clientAuth too (the peer profile).
    assert_gateway_range(dir, &url, "v1");

    // server.pem of the same CA has serverAuth only: refused as a client.
    let o = etcd::etcdctl(
        dir,
        &url,
        "server.pem",
        "server.key",
        &["get", "milvus-certs"],
    );
    assert!(
        !o.status.success(),
        "server.pem as a client must be refused: {}",
        text(&o)
    );
    // A client certificate from another CA: refused.
    let other = gen_dir(&[]);
    run_ok(other.path(), &["add", "etcd-client"]);
    for f in ["etcd-client.pem", "etcd-client.key"] {
        fs::copy(other.path().join(f), dir.join(format!("other-{f}"))).unwrap();
    }
    let o = etcd::etcdctl(
        dir,
        &url,
        "other-etcd-client.pem",
        "other-etcd-client.key",
        &["get", "milvus-certs"],
    );
    assert!(
        !o.status.success(),
        "another CA's client must be refused: {}",
        text(&o)
    );
    // The refusals were etcd's, not a broken client: the right one still works.
    assert_kv_works(dir, &url, "v2");
}

#[test]
fn a_server_only_certificate_breaks_etcds_gateway() {
    // Why `add etcd` makes a peer certificate: with serverAuth only, the
    // gateway's own connection to etcd is refused.
    if !etcd::available() {
        return;
    }
    let d = certs();
    let dir = d.path();
    run_ok(dir, &["add", "etcd", "--profile", "server", "--force"]);
    let data = tempfile::tempdir().unwrap();
    let m = Member::new("m1");
    let mut server = etcd::start(
        dir,
        "etcd.pem",
        "etcd.key",
        &m,
        &[&m],
        &data.path().join("m1"),
    );
    server.wait_listening(UP);
    let url = m.client_url();
    etcd::wait_healthy(dir, &url, "etcd-client.pem", "etcd-client.key", UP)
        .unwrap_or_else(|e| panic!("etcd never became healthy: {e}\n{}", server.log_text()));
    assert_kv_works(dir, &url, "v1");
    let body = format!("{{\"key\":\"{}\"}}", base64(b"milvus-certs"));
    let (code, out) = etcd::curl_post(
        dir,
        &format!("{url}/v3/kv/range"),
        "etcd-client.pem",
        "etcd-client.key",
        &body,
    );
    assert!(
        code != "200" || !out.contains(&base64(b"v1")),
        "the gateway worked without clientAuth: {code} {out}"
    );
    // And inspect says so, with the fix.
    let o = run(dir, &["inspect", "--dir", "."]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(
        t.contains("milvus-certs add etcd --profile peer --force"),
        "{t}"
    );
}

#[test]
fn a_two_member_cluster_talks_peer_tls_and_works_again_after_renew() {
    if !etcd::available() {
        return;
    }
    let d = certs();
    let dir = d.path();
    let data = tempfile::tempdir().unwrap();
    let (m1, m2) = (Member::new("m1"), Member::new("m2"));
    let endpoints = format!("{},{}", m1.client_url(), m2.client_url());
    {
        let mut a = etcd::start(
            dir,
            "etcd.pem",
            "etcd.key",
            &m1,
            &[&m1, &m2],
            &data.path().join("m1"),
        );
        let mut b = etcd::start(
            dir,
            "etcd.pem",
            "etcd.key",
            &m2,
            &[&m1, &m2],
            &data.path().join("m2"),
        );
        a.wait_listening(UP);
        b.wait_listening(UP);
        etcd::wait_healthy(dir, &endpoints, "etcd-client.pem", "etcd-client.key", UP)
            .unwrap_or_else(|e| {
                panic!(
                    "the cluster never became healthy: {e}\n{}\n{}",
                    a.log_text(),
                    b.log_text()
                )
            });
        let list = etcd::etcdctl(
            dir,
            &m1.client_url(),
            "etcd-client.pem",
            "etcd-client.key",
            &["member", "list"],
        );
        let l = text(&list);
        assert!(list.status.success(), "{l}");
        assert_eq!(
            l.matches(", started, ").count(),
            2,
            "two started members: {l}"
        );
        // Written on one member, read on the other: replicated over peer TLS.
        let put = etcd::etcdctl(
            dir,
            &m1.client_url(),
            "etcd-client.pem",
            "etcd-client.key",
            &["put", "milvus-certs", "replicated"],
        );
        assert!(put.status.success(), "{}", text(&put));
        let get = etcd::etcdctl(
            dir,
            &m2.client_url(),
            "etcd-client.pem",
            "etcd-client.key",
            &[
                "get",
                "milvus-certs",
                "--print-value-only",
                "--consistency",
                "l",
            ],
        );
        assert_eq!(
            String::from_utf8_lossy(&get.stdout).trim(),
            "replicated",
            "{}",
            text(&get)
        );
    }

    // renew renews them all, keeping what etcd needs; the cluster restarts
    // on the renewed files.
    let before: Vec<_> = ["etcd", "etcd-client"]
        .iter()
        .map(|n| {
            milvus_certs::CertInfo::from_der(&cert_der(&dir.join(format!("{n}.pem")))).unwrap()
        })
        .collect();
    run_ok(dir, &["renew"]);
    for (n, old) in ["etcd", "etcd-client"].iter().zip(&before) {
        let new =
            milvus_certs::CertInfo::from_der(&cert_der(&dir.join(format!("{n}.pem")))).unwrap();
        assert_ne!(new.serial, old.serial, "{n}");
        assert_eq!(new.ext_key_usage, old.ext_key_usage, "{n}");
        assert_eq!(new.sans, old.sans, "{n}");
        assert_eq!(
            (new.not_after - new.not_before).whole_days(),
            (old.not_after - old.not_before).whole_days(),
            "{n}"
        );
    }
    let mut a = etcd::start(
        dir,
        "etcd.pem",
        "etcd.key",
        &m1,
        &[&m1, &m2],
        &data.path().join("m1"),
    );
    let mut b = etcd::start(
        dir,
        "etcd.pem",
        "etcd.key",
        &m2,
        &[&m1, &m2],
        &data.path().join("m2"),
    );
    a.wait_listening(UP);
    b.wait_listening(UP);
    etcd::wait_healthy(dir, &endpoints, "etcd-client.pem", "etcd-client.key", UP).unwrap_or_else(
        |e| {
            panic!(
                "not healthy after renew: {e}\n{}\n{}",
                a.log_text(),
                b.log_text()
            )
        },
    );
    let get = etcd::etcdctl(
        dir,
        &m2.client_url(),
        "etcd-client.pem",
        "etcd-client.key",
        &["get", "milvus-certs", "--print-value-only"],
    );
    assert_eq!(
        String::from_utf8_lossy(&get.stdout).trim(),
        "replicated",
        "{}",
        text(&get)
    );
    assert_gateway_range(dir, &m1.client_url(), "replicated");
}

/// Standard base64, as etcd's JSON gateway takes keys and values.
fn base64(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(data)
}
