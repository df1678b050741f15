//! `milvus-certs add NAME`: certificates for etcd, S3 and Kafka from the
//! directory's CA, written with the safety of gen and renew, and kept by renew.

mod common;

use std::fs;
use std::path::Path;

use common::*;
use milvus_certs::certinfo::CertInfo;
use milvus_certs::serial::Serial;

fn info(path: &Path) -> CertInfo {
    CertInfo::from_der(&cert_der(path)).unwrap()
}

fn srl(dir: &Path) -> Serial {
    Serial::parse_srl(&fs::read(dir.join("ca.srl")).unwrap()).unwrap()
}

fn names(c: &CertInfo) -> Vec<String> {
    c.sans.iter().map(|n| n.to_string()).collect()
}

fn eku(c: &CertInfo) -> Vec<String> {
    c.ext_key_usage.clone().unwrap_or_default()
}

fn key_matches(dir: &Path, name: &str) -> bool {
    let key =
        rcgen::KeyPair::from_pem(&fs::read_to_string(dir.join(format!("{name}.key"))).unwrap())
            .unwrap();
    key.public_key_raw()
        == info(&dir.join(format!("{name}.pem")))
            .public_key_bits
            .as_slice()
}

#[test]
fn ready_made_names_get_their_profile_names_and_the_next_serial() {
    let d = gen_dir(&[]);
    let dir = d.path();
    let ca = info(&dir.join("ca.pem"));
    let before = srl(dir);
    let server = fs::read(dir.join("server.pem")).unwrap();
    run_ok(
        dir,
        &["add", "etcd", "--san", "etcd-0.etcd", "--san", "10.0.0.7"],
    );
    let etcd = info(&dir.join("etcd.pem"));
    assert_eq!(etcd.serial, before.next().unwrap());
    assert_eq!(srl(dir), etcd.serial, "ca.srl holds the last serial issued");
    assert_eq!(eku(&etcd), ["serverAuth", "clientAuth"]);
    assert_eq!(
        names(&etcd),
        [
            "etcd",
            "localhost",
            "127.0.0.1",
            "::1",
            "etcd-0.etcd",
            "10.0.0.7"
        ]
    );
    assert_eq!(etcd.subject_attrs.common_name.as_deref(), Some("etcd"));
    assert_eq!(etcd.issuer_raw, ca.subject_raw);
    assert!(etcd.signed_by(&ca), "etcd.pem is signed by ca.pem");
    assert!(!etcd.is_ca());
    assert_eq!(mode(&dir.join("etcd.key")), 0o600);
    assert_eq!(mode(&dir.join("etcd.pem")), 0o644);
    assert!(key_matches(dir, "etcd"));
    assert!(openssl_ok(
        dir,
        &[
            "verify",
            "-CAfile",
            "ca.pem",
            "-purpose",
            "sslserver",
            "etcd.pem"
        ]
    ));
    assert!(openssl_ok(
        dir,
        &[
            "verify",
            "-CAfile",
            "ca.pem",
            "-purpose",
            "sslclient",
            "etcd.pem"
        ]
    ));

    run_ok(dir, &["add", "etcd-client"]);
    let client = info(&dir.join("etcd-client.pem"));
    assert_eq!(eku(&client), ["clientAuth"]);
    assert_eq!(
        names(&client),
        ["etcd-client"],
        "a client gets no loopback names"
    );
    assert_eq!(client.serial, etcd.serial.next().unwrap());
    assert!(!openssl_ok(
        dir,
        &[
            "verify",
            "-CAfile",
            "ca.pem",
            "-purpose",
            "sslserver",
            "etcd-client.pem"
        ]
    ));

    run_ok(dir, &["add", "s3", "--no-localhost"]);
    let s3 = info(&dir.join("s3.pem"));
    assert_eq!(eku(&s3), ["serverAuth"]);
    assert_eq!(
        names(&s3),
        ["s3", "minio"],
        "the Compose service name is on it"
    );

    run_ok(
        dir,
        &[
            "add",
            "kafka",
            "--profile",
            "server",
            "--key-type",
            "ecdsa-p256",
        ],
    );
    let kafka = info(&dir.join("kafka.pem"));
    assert_eq!(
        eku(&kafka),
        ["serverAuth"],
        "--profile overrides the ready-made one"
    );
    assert_eq!(kafka.key, "ecdsa-p256");
    assert!(key_matches(dir, "kafka"));

    run_ok(dir, &["add", "vault", "--profile", "peer", "--days", "30"]);
    let vault = info(&dir.join("vault.pem"));
    assert_eq!(eku(&vault), ["serverAuth", "clientAuth"]);
    let days = (vault.not_after - vault.not_before).whole_days();
    assert!((29..=30).contains(&days), "{days}");
    // The guide's seven are untouched.
    assert_eq!(fs::read(dir.join("server.pem")).unwrap(), server);
}

#[test]
fn refusals_change_nothing_and_say_what_to_do() {
    let d = gen_dir(&[]);
    let dir = d.path();
    run_ok(dir, &["add", "etcd"]);
    let before = snapshot(dir);
    let out = run(dir, &["add", "etcd"]);
    assert_one_error_line(&out, 1, &["etcd.pem", "etcd.key", "--force"]);
    for (name, needle) in [
        ("server", "milvus-certs renew --only server"),
        ("ca", "milvus-certs renew --ca"),
        ("backup", "folder of backups"),
        ("Etcd", "lowercase"),
        ("../x", "lowercase"),
        ("-x", "lowercase"),
        ("a.b", "lowercase"),
    ] {
        let out = run(dir, &["add", "--profile", "server", "--", name]);
        assert_one_error_line(&out, 2, &["invalid NAME", needle]);
    }
    let out = run(dir, &["add", "vault"]);
    let line = assert_one_error_line(
        &out,
        2,
        &["--profile", "milvus-certs add vault --profile server"],
    );
    assert!(
        line.contains("etcd, etcd-client, s3, kafka, kafka-client"),
        "{line}"
    );
    let out = run(dir, &["add", "s3", "--san", "https://minio:9000"]);
    assert_one_error_line(&out, 2, &["--san", "minio"]);
    let out = run(dir, &["add", "s3", "--days", "0"]);
    assert_one_error_line(&out, 2, &["--days"]);
    assert_eq!(snapshot(dir), before, "nothing changed");

    // No CA: nothing is made.
    let empty = tempfile::tempdir().unwrap();
    let out = run(empty.path(), &["add", "etcd"]);
    assert_one_error_line(&out, 1, &["ca.pem"]);
    assert_eq!(fs::read_dir(empty.path()).unwrap().count(), 0);
}

#[test]
fn force_replaces_and_keeps_a_backup() {
    let d = gen_dir(&[]);
    let dir = d.path();
    run_ok(dir, &["add", "etcd"]);
    let old = fs::read(dir.join("etcd.pem")).unwrap();
    let old_key = fs::read(dir.join("etcd.key")).unwrap();
    run_ok(dir, &["add", "etcd", "--force"]);
    assert_ne!(fs::read(dir.join("etcd.pem")).unwrap(), old);
    assert!(key_matches(dir, "etcd"));
    let backups: Vec<_> = fs::read_dir(dir.join("backup"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(backups.len(), 1);
    assert_eq!(fs::read(backups[0].join("etcd.pem")).unwrap(), old);
    assert_eq!(fs::read(backups[0].join("etcd.key")).unwrap(), old_key);
    assert_eq!(mode(&backups[0].join("etcd.key")), 0o600);
}

#[test]
fn an_interrupted_add_is_completed_by_the_next_run() {
    // A committed write whose journal names etcd.pem and etcd.key (as add
    // leaves it when killed after its commit point) is rolled forward.
    let d = gen_dir(&[]);
    let dir = d.path();
    run_ok(dir, &["add", "etcd"]);
    let staging = dir.join(".milvus-certs-pending");
    fs::create_dir(&staging).unwrap();
    fs::set_permissions(
        &staging,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    let other = gen_dir(&[]);
    run_ok(other.path(), &["add", "etcd"]);
    for f in ["etcd.pem", "etcd.key"] {
        fs::copy(other.path().join(f), staging.join(f)).unwrap();
    }
    fs::write(
        staging.join("COMMIT"),
        "milvus-certs journal v1\nfile etcd.key\nfile etcd.pem\nend\n",
    )
    .unwrap();
    let out = run_ok(dir, &["add", "s3"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("etcd.key, etcd.pem") || stderr.contains("completed"),
        "{stderr}"
    );
    assert_eq!(
        fs::read(dir.join("etcd.pem")).unwrap(),
        fs::read(other.path().join("etcd.pem")).unwrap()
    );
    assert!(!staging.exists());
}
