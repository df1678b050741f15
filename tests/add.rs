//! `milvus-certs add NAME`: certificates for etcd, S3 and Kafka from the
//! directory's CA, written with the safety of gen and renew, and kept by renew.

use std::fs;
use std::path::Path;

use crate::common::*;
use milvus_certs::CertInfo;
use milvus_certs::Serial;

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
    let usages = c.ext_key_usage.as_deref().unwrap_or_default();
    usages.iter().map(|u| u.to_string()).collect()
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

/// Serial, EKU, names, lifetime in days, key type of NAME.pem.
fn facts(dir: &Path, name: &str) -> (Serial, Vec<String>, Vec<String>, i64, String) {
    let c = info(&dir.join(format!("{name}.pem")));
    let days = ((c.not_after - c.not_before).whole_seconds() + 43_200).div_euclid(86_400);
    (c.serial.clone(), eku(&c), names(&c), days, c.key.clone())
}

fn stack_dir() -> tempfile::TempDir {
    let d = gen_dir(&[]);
    let dir = d.path();
    run_ok(
        dir,
        &["add", "etcd", "--days", "100", "--san", "etcd-0.etcd"],
    );
    run_ok(dir, &["add", "etcd-client"]);
    run_ok(
        dir,
        &["add", "s3", "--no-localhost", "--key-type", "ecdsa-p256"],
    );
    run_ok(
        dir,
        &["add", "kafka", "--profile", "server", "--days", "400"],
    );
    run_ok(dir, &["add", "registry", "--profile", "client"]);
    d
}

const ADDED: [&str; 5] = ["etcd", "etcd-client", "s3", "kafka", "registry"];

#[test]
fn renew_renews_every_leaf_keeping_profile_names_key_type_and_lifetime() {
    let d = stack_dir();
    let dir = d.path();
    let ca = info(&dir.join("ca.pem"));
    let before: Vec<_> = ADDED.iter().map(|n| facts(dir, n)).collect();
    // Another CA's certificate, and a leaf without its key, kept in the
    // folder under valid names: not ours, left alone.
    let other = gen_dir(&[]);
    fs::copy(other.path().join("ca.pem"), dir.join("old-ca.pem")).unwrap();
    fs::copy(other.path().join("server.pem"), dir.join("foreign.pem")).unwrap();
    let kept = (
        fs::read(dir.join("old-ca.pem")).unwrap(),
        fs::read(dir.join("foreign.pem")).unwrap(),
    );
    let srl_before = srl(dir);
    let out = run_ok(dir, &["renew"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("the services using etcd.pem"), "{stdout}");
    let mut serials = Vec::new();
    for (name, old) in ADDED.iter().zip(&before) {
        let new = facts(dir, name);
        assert_ne!(new.0, old.0, "{name}: a new serial");
        assert!(new.0 > srl_before, "{name}: serials continue from ca.srl");
        assert_eq!(new.1, old.1, "{name}: profile kept");
        assert_eq!(new.2, old.2, "{name}: names kept");
        assert_eq!(new.3, old.3, "{name}: lifetime kept");
        assert_eq!(new.4, old.4, "{name}: key type kept");
        assert!(key_matches(dir, name), "{name}: the new key matches");
        assert!(info(&dir.join(format!("{name}.pem"))).signed_by(&ca));
        assert_eq!(mode(&dir.join(format!("{name}.key"))), 0o600);
        serials.push(new.0);
    }
    for f in ["server", "client"] {
        serials.push(info(&dir.join(format!("{f}.pem"))).serial);
    }
    serials.sort();
    serials.dedup();
    assert_eq!(serials.len(), 7, "seven distinct serials: {serials:?}");
    assert_eq!(
        (
            fs::read(dir.join("old-ca.pem")).unwrap(),
            fs::read(dir.join("foreign.pem")).unwrap()
        ),
        kept
    );
    assert_eq!(srl(dir), *serials.last().unwrap());
    assert_eq!(facts(dir, "etcd").3, 100);
    assert_eq!(facts(dir, "kafka").3, 400);
    assert_eq!(facts(dir, "s3").4, "ecdsa-p256");
    // The backup holds every replaced file.
    let backup = fs::read_dir(dir.join("backup"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    for n in ADDED {
        assert!(
            backup.join(format!("{n}.pem")).is_file() && backup.join(format!("{n}.key")).is_file()
        );
    }
    run_ok(dir, &["inspect", "--dir", "."]);
}

#[test]
fn renew_only_name_renews_that_one_and_refuses_unknown_names() {
    let d = stack_dir();
    let dir = d.path();
    let before = snapshot(dir);
    run_ok(dir, &["renew", "--only", "etcd", "--san", "etcd-1.etcd"]);
    let after = snapshot(dir);
    for (path, v) in &before {
        let name = path.to_string_lossy();
        let changed = after.get(path) != Some(v);
        let expected = ["etcd.pem", "etcd.key", "ca.srl"].contains(&name.as_ref());
        assert_eq!(changed, expected, "{name}");
    }
    let (_, eku_, names_, days, _) = facts(dir, "etcd");
    assert_eq!(eku_, ["serverAuth", "clientAuth"]);
    assert_eq!(
        names_,
        [
            "etcd",
            "localhost",
            "127.0.0.1",
            "::1",
            "etcd-0.etcd",
            "etcd-1.etcd"
        ],
        "--san with --only NAME adds to that one"
    );
    assert_eq!(days, 100);

    let before = snapshot(dir);
    // A NAME that names no certificate here is an invalid --only value:
    // a usage error (exit 2), which says how to make it.
    let out = run(dir, &["renew", "--only", "vault"]);
    assert_one_error_line(
        &out,
        2,
        &[
            "invalid --only \"vault\"",
            "vault.pem is missing",
            "milvus-certs add vault --profile server",
        ],
    );
    // The daily run says the same.
    let out = run(
        dir,
        &["renew", "--only", "vault", "--if-expiring-within", "30"],
    );
    assert_one_error_line(
        &out,
        2,
        &["invalid --only \"vault\"", "vault.pem is missing"],
    );
    let out = run(dir, &["renew", "--only", "Vault"]);
    assert_one_error_line(&out, 2, &["--only", "server, client, or the NAME"]);
    assert_eq!(snapshot(dir), before);
}

#[test]
fn due_added_certificates_are_renewed_by_the_daily_run() {
    let d = gen_dir(&[]);
    let dir = d.path();
    run_ok(dir, &["add", "etcd", "--days", "10"]);
    run_ok(dir, &["add", "s3"]);
    let s3 = fs::read(dir.join("s3.pem")).unwrap();
    let server = fs::read(dir.join("server.pem")).unwrap();
    let old = facts(dir, "etcd");
    let out = run_ok(dir, &["renew", "--if-expiring-within", "30"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("etcd.pem: it expires in"), "{stdout}");
    let new = facts(dir, "etcd");
    assert_ne!(new.0, old.0);
    assert_eq!((new.1, new.2, new.3), (old.1, old.2, old.3));
    assert_eq!(
        fs::read(dir.join("s3.pem")).unwrap(),
        s3,
        "not due: untouched"
    );
    assert_eq!(fs::read(dir.join("server.pem")).unwrap(), server);
    // Nothing due now: the not-due list names the added ones too.
    let out = run_ok(dir, &["renew", "--if-expiring-within", "5"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Nothing to renew") && stdout.contains("s3.pem"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Next renewal:") && stdout.contains("(etcd.pem)"),
        "{stdout}"
    );
}

#[test]
fn inspect_checks_added_certificates_against_their_profile() {
    let d = gen_dir(&[]);
    let dir = d.path();
    run_ok(dir, &["add", "etcd", "--profile", "server"]);
    run_ok(dir, &["add", "s3"]);
    // etcd needs clientAuth too (its gateway and peers connect with it).
    let out = run(dir, &["inspect", "--dir", "."]);
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("etcd.pem  added  invalid"), "{stdout}");
    assert!(stdout.contains("lacks clientAuth"), "{stdout}");
    assert!(
        stdout.contains("run `milvus-certs add etcd --profile peer --force`"),
        "{stdout}"
    );
    // renew gives a ready-made name at least what it needs.
    run_ok(dir, &["renew", "--only", "etcd"]);
    assert_eq!(
        eku(&info(&dir.join("etcd.pem"))),
        ["serverAuth", "clientAuth"]
    );
    run_ok(dir, &["inspect", "--dir", "."]);

    // A key of another certificate, and a certificate of another CA.
    fs::copy(dir.join("s3.key"), dir.join("etcd.key")).unwrap();
    let other = gen_dir(&[]);
    run_ok(other.path(), &["add", "s3"]);
    fs::copy(other.path().join("s3.pem"), dir.join("s3.pem")).unwrap();
    fs::copy(other.path().join("s3.key"), dir.join("s3.key")).unwrap();
    let out = run(dir, &["inspect", "--dir", ".", "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let entry = |file: &str| {
        json["certificates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["source"].as_str().unwrap().ends_with(file))
            .unwrap_or_else(|| panic!("{file} not inspected: {json}"))
            .clone()
    };
    let etcd = entry("etcd.pem");
    assert_eq!(etcd["role"], "added");
    let problems = etcd["problems"].to_string();
    assert!(problems.contains("key_mismatch"), "{problems}");
    assert!(problems.contains("renew --only etcd"), "{problems}");
    let s3 = entry("s3.pem");
    assert!(
        s3["problems"].to_string().contains("not_issued_by_ca"),
        "{s3}"
    );
    // Another CA's s3.pem: renew refuses to sign its names, and the fix
    // printed is `add s3 --force`. The fixes, run as printed, make the
    // folder healthy.
    assert!(
        s3["problems"].to_string().contains("add s3 --force"),
        "{s3}"
    );
    let refused = run(dir, &["renew", "--only", "etcd", "--only", "s3"]);
    assert_eq!(refused.status.code(), Some(1));
    run_ok(dir, &["renew", "--only", "etcd"]);
    run_ok(dir, &["add", "s3", "--force"]);
    run_ok(dir, &["inspect", "--dir", "."]);
}

#[test]
fn a_certificate_linked_out_of_the_folder_is_not_read() {
    // Root runs renew from a timer: NAME.pem linked to a file outside the
    // folder is neither renewed from nor exported (as for the seven).
    let d = gen_dir(&[]);
    let dir = d.path();
    let elsewhere = gen_dir(&[]);
    run_ok(elsewhere.path(), &["add", "etcd"]);
    std::os::unix::fs::symlink(elsewhere.path().join("etcd.pem"), dir.join("etcd.pem")).unwrap();
    fs::copy(elsewhere.path().join("etcd.key"), dir.join("etcd.key")).unwrap();
    let before = snapshot(dir);
    let out = run(dir, &["renew", "--only", "etcd"]);
    assert_one_error_line(&out, 1, &["etcd.pem"]);
    let out = run(dir, &["export", "compose", "--etcd", "--out", "deploy"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(snapshot(dir), before);
}

#[test]
fn the_scheduled_command_renews_added_certificates_when_due() {
    // schedule's timer and crontab run `renew --if-expiring-within`, with
    // no --only: run that command as written and see an added one renewed.
    let d = gen_dir(&[]);
    let dir = d.path();
    run_ok(dir, &["add", "kafka", "--days", "5"]);
    let old = facts(dir, "kafka");
    let out = run_ok(dir, &["schedule", "--dir", "."]);
    let text = String::from_utf8_lossy(&out.stdout);
    let exec = text
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .unwrap_or_else(|| panic!("no ExecStart: {text}"));
    assert!(
        exec.contains(" renew ") && exec.contains("--if-expiring-within 30"),
        "{exec}"
    );
    assert!(!exec.contains("--only"), "{exec}");
    let out = shell_ok("sh", dir, exec, &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("kafka.pem: it expires in"), "{stdout}");
    let new = facts(dir, "kafka");
    assert_ne!(new.0, old.0);
    assert_eq!((new.1, new.2, new.3), (old.1, old.2, old.3));
}

/// A CA whose subject rcgen cannot write again byte for byte (the issuer of
/// what it signs must be exactly its subject) is refused with the reason,
/// before anything is written.
#[test]
fn a_ca_subject_that_cannot_be_reproduced_is_refused_with_the_reason() {
    for (subj, reason) in [
        ("/CN=ca+O=acme -multivalue-rdn", "it has a multi-valued RDN"),
        ("/OU=a/OU=b/CN=ca", "it repeats the attribute OU"),
    ] {
        let d = tempfile::tempdir().unwrap();
        let args = format!(
            "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
             -out ca.pem -days 3650 -addext basicConstraints=critical,CA:TRUE -subj {subj}"
        );
        assert!(openssl_ok(d.path(), &args.split(' ').collect::<Vec<_>>()));
        let before = snapshot(d.path());
        let out = run(d.path(), &["add", "etcd"]);
        let expected = "ca.pem is not a CA certificate milvus-certs can sign with: ";
        assert_one_error_line(&out, 1, &[expected, reason]);
        assert_eq!(snapshot(d.path()), before, "nothing is written");
    }
}
