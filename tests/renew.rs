//! `milvus-certs renew` and `renew --ca`: interoperability with OpenSSL's
//! files and scripts, what is kept and what changes, checks, handshakes.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::common::*;
use milvus_certs::Serial;
use milvus_certs::{CertInfo, ExtKeyUsage};

fn info(path: &Path) -> CertInfo {
    CertInfo::from_der(&cert_der(path)).unwrap()
}

fn srl(dir: &Path) -> Serial {
    Serial::parse_srl(&fs::read(dir.join("ca.srl")).unwrap()).unwrap()
}

fn copy_dir(src: &Path, dst: &Path) {
    fs::create_dir_all(dst).unwrap();
    for e in fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            fs::copy(e.path(), dst.join(e.file_name())).unwrap();
        }
    }
}

fn guide_copy() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    copy_dir(&fixtures().join("openssl/guide"), d.path());
    d
}

fn keys_match(dir: &Path) {
    for role in ["ca", "server", "client"] {
        let key =
            rcgen::KeyPair::from_pem(&fs::read_to_string(dir.join(format!("{role}.key"))).unwrap())
                .unwrap();
        assert_eq!(
            key.public_key_raw(),
            info(&dir.join(format!("{role}.pem")))
                .public_key_bits
                .as_slice(),
            "{role}.key matches {role}.pem"
        );
    }
}

#[test]
fn renews_a_directory_made_by_the_guides_script() {
    let d = guide_copy();
    let dir = d.path();
    let old_srl = srl(dir);
    let old_server = info(&dir.join("server.pem"));
    let ca_before = (
        fs::read(dir.join("ca.pem")).unwrap(),
        fs::read(dir.join("ca.key")).unwrap(),
    );
    let out = run_ok(dir, &["renew"]);
    let stdout = String::from_utf8_lossy(&out.stdout);

    let server = info(&dir.join("server.pem"));
    let client = info(&dir.join("client.pem"));
    // Serials continue from the script's ca.srl, +1 per certificate.
    assert_eq!(server.serial, old_srl.next().unwrap());
    assert_eq!(client.serial, old_srl.next().unwrap().next().unwrap());
    assert_eq!(srl(dir), client.serial);
    assert_eq!(
        fs::read_to_string(dir.join("ca.srl")).unwrap(),
        client.serial.to_srl()
    );
    // The CA files are never modified.
    assert_eq!(
        (
            fs::read(dir.join("ca.pem")).unwrap(),
            fs::read(dir.join("ca.key")).unwrap()
        ),
        ca_before
    );
    // Subject, names and key type are the old certificate's.
    assert_eq!(server.subject, old_server.subject);
    assert_eq!(server.issuer_raw, info(&dir.join("ca.pem")).subject_raw);
    assert_eq!(server.sans, old_server.sans);
    assert_eq!(server.key, "rsa2048");
    assert_eq!(
        client.ext_key_usage.as_deref(),
        Some(&[ExtKeyUsage::ClientAuth][..])
    );
    assert!(server.signed_by(&info(&dir.join("ca.pem"))));
    keys_match(dir);
    for k in ["server.key", "client.key"] {
        assert!(
            fs::read_to_string(dir.join(k))
                .unwrap()
                .starts_with("-----BEGIN PRIVATE KEY-----")
        );
        assert_eq!(mode(&dir.join(k)), 0o600);
    }
    // OpenSSL accepts the results for their purposes.
    assert!(openssl_verify(
        dir,
        &["-purpose", "sslserver", "-verify_hostname", "localhost"],
        "server.pem"
    ));
    assert!(openssl_verify(
        dir,
        &["-purpose", "sslclient"],
        "client.pem"
    ));
    // The output names old and new expiry.
    assert!(stdout.contains("(was "), "{stdout}");
    // A backup of what was replaced.
    let backups: Vec<_> = fs::read_dir(dir.join("backup"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(backups.len(), 1);
    assert_eq!(mode(&backups[0]), 0o700);
    assert_eq!(
        fs::read(backups[0].join("server.pem")).unwrap(),
        fs::read(fixtures().join("openssl/guide/server.pem")).unwrap()
    );
    assert_eq!(mode(&backups[0].join("server.key")), 0o600);
    assert!(stdout.contains(&*backups[0].file_name().unwrap().to_string_lossy()));
}

#[test]
fn the_guides_renew_sh_continues_from_our_files() {
    let d = gen_dir(&[]);
    let dir = d.path();
    let our_srl = srl(dir);
    let out = Command::new("sh")
        .arg(fixtures().join("openssl/renew.sh"))
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let server = info(&dir.join("server.pem"));
    let client = info(&dir.join("client.pem"));
    assert_eq!(
        server.serial,
        our_srl.next().unwrap(),
        "renew.sh continued from our ca.srl"
    );
    assert_eq!(client.serial, server.serial.next().unwrap());
    assert_eq!(srl(dir), client.serial);
    assert!(openssl_verify_server(dir, "localhost"));
    // ... and we continue from what OpenSSL wrote.
    run_ok(dir, &["renew", "--no-backup"]);
    assert_eq!(
        info(&dir.join("server.pem")).serial,
        client.serial.next().unwrap()
    );
}

#[test]
fn handshakes_work_after_renew_with_the_unchanged_ca() {
    let d = gen_dir(&["--common-name", "milvus.example.com"]);
    let dir = d.path();
    let kept_ca = tempfile::tempdir().unwrap();
    let ca = kept_ca.path().join("ca.pem");
    fs::copy(dir.join("ca.pem"), &ca).unwrap();
    let before = fs::read(dir.join("server.pem")).unwrap();
    run_ok(dir, &["renew", "--san", "127.0.0.1"]);
    assert_ne!(fs::read(dir.join("server.pem")).unwrap(), before);
    assert_milvus_tls_works(dir, &ca, &["milvus.example.com", "127.0.0.1"]);
}

#[test]
fn options_override_what_is_kept() {
    let d = gen_dir(&["--key-type", "ecdsa-p256", "--san", "10.0.0.5"]);
    let dir = d.path();
    let client_before = fs::read(dir.join("client.pem")).unwrap();

    // --only server, --days, --san adds; key type kept.
    run_ok(
        dir,
        &[
            "renew",
            "--only",
            "server",
            "--days",
            "365",
            "--san",
            "milvus-proxy",
        ],
    );
    let s = info(&dir.join("server.pem"));
    assert_eq!(
        fs::read(dir.join("client.pem")).unwrap(),
        client_before,
        "--only server leaves the client alone"
    );
    assert_eq!(s.key, "ecdsa-p256");
    let names: Vec<String> = s.sans.iter().map(|n| n.to_string()).collect();
    // The old names (gen's loopback addresses for localhost too), then --san.
    assert_eq!(
        names,
        ["localhost", "127.0.0.1", "::1", "10.0.0.5", "milvus-proxy"]
    );
    assert_eq!((s.not_after - s.not_before).whole_days(), 365);
    assert_eq!(srl(dir), s.serial, "one serial used");

    // --common-name and --replace-sans, subject and key type overrides.
    run_ok(
        dir,
        &[
            "renew",
            "--only",
            "client",
            "--common-name",
            "milvus.example.com",
            "--replace-sans",
            "--san",
            "10.9.9.9",
            "--organization",
            "acme",
            "--key-type",
            "ed25519",
        ],
    );
    let c = info(&dir.join("client.pem"));
    let names: Vec<String> = c.sans.iter().map(|n| n.to_string()).collect();
    assert_eq!(names, ["milvus.example.com", "10.9.9.9"]);
    assert_eq!(
        c.subject,
        "C=US, ST=CA, L=Redwood City, O=acme, OU=devops, CN=milvus.example.com"
    );
    assert_eq!(c.key, "ed25519");
    assert_eq!(
        c.ext_key_usage.as_deref(),
        Some(&[ExtKeyUsage::ClientAuth][..])
    );
    keys_match(dir);

    // Same validation as gen, and nothing changes.
    let before = snapshot(dir);
    for (args, needle) in [
        (&["renew", "--country", "USA"][..], "--country"),
        (&["renew", "--days", "0"], "--days"),
        (&["renew", "--san", "a..b"], "--san"),
        (&["renew", "--common-name", "bad name"], "--common-name"),
    ] {
        // Invalid values are usage errors (exit 2), with --dry-run too.
        assert_one_error_line(&run(dir, args), 2, &[needle]);
        let mut dry = args.to_vec();
        dry.push("--dry-run");
        assert_one_error_line(&run(dir, &dry), 2, &[needle]);
        assert_eq!(snapshot(dir), before);
    }
    // Usage errors (clap): exit 2.
    assert_eq!(
        run(dir, &["renew", "--ca", "--only", "server"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(run(dir, &["renew", "--only", "ca"]).status.code(), Some(2));
}

#[test]
fn a_missing_leaf_is_made_from_the_other_or_the_ca() {
    let d = gen_dir(&["--common-name", "milvus.example.com", "--san", "10.0.0.5"]);
    let dir = d.path();
    fs::remove_file(dir.join("client.pem")).unwrap();
    fs::remove_file(dir.join("client.key")).unwrap();
    run_ok(dir, &["renew", "--only", "client", "--no-backup"]);
    let c = info(&dir.join("client.pem"));
    assert_eq!(
        c.subject_attrs.common_name.as_deref(),
        Some("milvus.example.com")
    );
    assert_eq!(c.sans.len(), 2);
    // Neither leaf: from the CA (its CN without our " CA").
    for f in ["server.pem", "server.key", "client.pem", "client.key"] {
        fs::remove_file(dir.join(f)).unwrap();
    }
    run_ok(dir, &["renew", "--no-backup"]);
    let s = info(&dir.join("server.pem"));
    assert_eq!(
        s.subject_attrs.common_name.as_deref(),
        Some("milvus.example.com")
    );
    keys_match(dir);
}

#[test]
fn accepts_pkcs1_and_sec1_ca_keys_and_lowercase_srl() {
    for (kt, convert) in [
        ("rsa2048", &["rsa", "-traditional"][..]),
        ("ecdsa-p384", &["ec"][..]),
    ] {
        let d = gen_dir(&["--key-type", kt]);
        let dir = d.path();
        let mut args = convert.to_vec();
        args.extend_from_slice(&["-in", "ca.key", "-out", "ca.key.legacy"]);
        assert!(openssl_ok(dir, &args));
        fs::rename(dir.join("ca.key.legacy"), dir.join("ca.key")).unwrap();
        let label = fs::read_to_string(dir.join("ca.key")).unwrap();
        assert!(
            label.starts_with("-----BEGIN RSA PRIVATE KEY-----")
                || label.starts_with("-----BEGIN EC PRIVATE KEY-----"),
            "{label}"
        );
        let lower = fs::read_to_string(dir.join("ca.srl"))
            .unwrap()
            .to_lowercase();
        fs::write(dir.join("ca.srl"), &lower).unwrap();
        let old = Serial::parse_srl(lower.as_bytes()).unwrap();
        run_ok(dir, &["renew"]);
        assert_eq!(
            info(&dir.join("server.pem")).serial,
            old.next().unwrap(),
            "{kt}"
        );
        assert!(
            openssl_verify(dir, &["-purpose", "sslserver"], "server.pem"),
            "{kt}"
        );
        assert_eq!(
            fs::read_to_string(dir.join("ca.srl")).unwrap(),
            srl(dir).to_srl(),
            "written back uppercase"
        );
    }
}

#[test]
fn a_missing_ca_srl_starts_from_a_random_serial_and_says_so() {
    let d = gen_dir(&[]);
    let dir = d.path();
    fs::remove_file(dir.join("ca.srl")).unwrap();
    let out = run_ok(dir, &["renew", "--no-backup"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("note: ./ca.srl was missing"));
    let server = info(&dir.join("server.pem"));
    assert!(server.serial.as_bytes().len() >= 16, "random 159-bit start");
    assert_eq!(srl(dir), info(&dir.join("client.pem")).serial);
}

#[test]
fn a_ca_srl_behind_the_issued_serials_is_skipped_past() {
    let d = gen_dir(&[]);
    let dir = d.path();
    let client = info(&dir.join("client.pem"));
    fs::write(dir.join("ca.srl"), "01\n").unwrap();
    let out = run_ok(dir, &["renew", "--no-backup"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("warning:"));
    assert_eq!(
        info(&dir.join("server.pem")).serial,
        client.serial.next().unwrap()
    );
}

#[test]
fn bad_ca_files_are_refused_and_nothing_changes() {
    let d = gen_dir(&[]);
    let dir = d.path();
    type Breaker = Box<dyn Fn(&Path)>;
    let cases: Vec<(Breaker, &[&str])> = vec![
        (
            Box::new(|p: &Path| {
                fs::copy(p.join("server.key"), p.join("ca.key"))
                    .map(|_| ())
                    .unwrap()
            }),
            &["ca.key", "does not belong to", "ca.pem"],
        ),
        (
            Box::new(|p: &Path| {
                fs::copy(p.join("server.pem"), p.join("ca.pem"))
                    .map(|_| ())
                    .unwrap()
            }),
            &["ca.pem", "not a CA", "CA:FALSE"],
        ),
        (
            Box::new(|p: &Path| fs::remove_file(p.join("ca.key")).unwrap()),
            &["ca.key", "missing"],
        ),
        (
            Box::new(|p: &Path| fs::remove_file(p.join("ca.pem")).unwrap()),
            &["ca.pem", "missing"],
        ),
        (
            Box::new(|p: &Path| fs::write(p.join("ca.srl"), "xyz\n").unwrap()),
            &["ca.srl", "hexadecimal"],
        ),
        (
            Box::new(|p: &Path| {
                fs::copy(p.join("ca.key"), p.join("ca.pem"))
                    .map(|_| ())
                    .unwrap()
            }),
            &["ca.pem", "private key"],
        ),
        (
            Box::new(|p: &Path| fs::write(p.join("server.pem"), "garbage").unwrap()),
            &["server.pem", "move it away"],
        ),
    ];
    for (break_it, needles) in cases {
        let t = tempfile::tempdir().unwrap();
        copy_dir(dir, t.path());
        break_it(t.path());
        let before = snapshot(t.path());
        let out = run(t.path(), &["renew"]);
        assert_one_error_line(&out, 1, needles);
        assert_eq!(snapshot(t.path()), before, "{needles:?}");
    }
}

#[test]
fn an_expired_ca_is_refused_and_renew_ca_revives_it() {
    use milvus_certs::generate::{GenOptions, generate};
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let past = time::OffsetDateTime::now_utc() - time::Duration::days(400);
    let opts = GenOptions {
        dir: dir.to_path_buf(),
        ca_days: 30,
        days: 10,
        key_type: milvus_certs::KeyType::EcdsaP256,
        ..GenOptions::default()
    };
    generate(&opts, past).unwrap();
    let before = snapshot(dir);
    let out = run(dir, &["renew"]);
    assert_one_error_line(&out, 1, &["ca.pem", "expired on", "renew --ca"]);
    assert_eq!(snapshot(dir), before);

    let old_server = fs::read(dir.join("server.pem")).unwrap();
    run_ok(dir, &["renew", "--ca", "--ca-days", "3650"]);
    let ca = info(&dir.join("ca.pem"));
    assert!(ca.not_after > time::OffsetDateTime::now_utc() + time::Duration::days(3600));
    run_ok(dir, &["renew"]);
    assert!(info(&dir.join("server.pem")).signed_by(&ca));
    assert_ne!(fs::read(dir.join("server.pem")).unwrap(), old_server);
}

#[test]
fn renew_ca_keeps_old_leaves_valid() {
    let d = gen_dir(&["--ca-days", "100"]);
    let dir = d.path();
    let old_ca = info(&dir.join("ca.pem"));
    let key_before = fs::read(dir.join("ca.key")).unwrap();
    let old_srl = srl(dir);
    let server_before = fs::read(dir.join("server.pem")).unwrap();
    let out = run_ok(dir, &["renew", "--ca"]);
    let ca = info(&dir.join("ca.pem"));
    assert_eq!(
        fs::read(dir.join("ca.key")).unwrap(),
        key_before,
        "same key"
    );
    assert_eq!(
        ca.subject_raw, old_ca.subject_raw,
        "same subject, byte for byte"
    );
    assert_eq!(ca.ski, old_ca.ski);
    assert_eq!(ca.public_key_bits, old_ca.public_key_bits);
    assert_eq!(ca.basic_constraints, old_ca.basic_constraints);
    assert_eq!(ca.key_usage, old_ca.key_usage);
    assert_eq!(
        ca.serial,
        old_srl.next().unwrap(),
        "a new serial, from ca.srl"
    );
    assert_eq!(srl(dir), ca.serial);
    // The CA keeps its 100-day lifetime.
    assert_eq!((ca.not_after - ca.not_before).whole_days(), 100);
    assert!(ca.not_after >= old_ca.not_after);
    assert_eq!(
        fs::read(dir.join("server.pem")).unwrap(),
        server_before,
        "leaves untouched"
    );
    // The old server.pem verifies against the re-signed CA, by OpenSSL and in a handshake.
    assert!(openssl_verify_server(dir, "localhost"));
    let ca_path = dir.join("ca.pem");
    handshake(
        server_config(dir, Some(&ca_path)),
        client_config(
            &ca_path,
            Some((&dir.join("client.pem"), &dir.join("client.key"))),
        ),
        "localhost",
    )
    .unwrap();
    // Backed up like the leaves.
    let backups: Vec<_> = fs::read_dir(dir.join("backup"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(backups.len(), 1);
    let old_pem = fs::read(backups[0].join("ca.pem")).unwrap();
    assert_eq!(
        CertInfo::from_der(&cert_der(&backups[0].join("ca.pem")))
            .unwrap()
            .serial,
        old_ca.serial,
        "{}",
        old_pem.len()
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("re-signed"));
}

#[test]
fn leaves_are_capped_at_the_ca_with_a_warning() {
    let d = gen_dir(&["--ca-days", "100", "--days", "50", "--key-type", "ed25519"]);
    let dir = d.path();
    let out = run_ok(dir, &["renew", "--days", "365", "--no-backup"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("warning: --days 365 would outlive the CA"),
        "{stderr}"
    );
    assert_eq!(
        info(&dir.join("server.pem")).not_after,
        info(&dir.join("ca.pem")).not_after
    );
}

#[test]
fn concurrent_runs_never_interleave() {
    let d = gen_dir(&["--key-type", "ecdsa-p256"]);
    let dir = d.path();
    let children: Vec<_> = (0..8)
        .map(|i| {
            let mut cmd = Command::new(BIN);
            if i % 4 == 3 {
                cmd.args(["gen", "--force", "--no-backup", "--key-type", "ecdsa-p256"]);
            } else {
                cmd.args(["renew", "--no-backup"]);
            }
            cmd.current_dir(dir)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    keys_match(dir);
    let (s, c) = (info(&dir.join("server.pem")), info(&dir.join("client.pem")));
    assert_ne!(s.serial, c.serial);
    assert!(srl(dir) >= c.serial && srl(dir) >= s.serial);
    assert!(s.signed_by(&info(&dir.join("ca.pem"))));
    assert!(!dir.join(STAGING_DIR).exists());
}

/// Issue 16: the error for a foreign `ca.key` points to a backup only when
/// one holds a copy of it, naming that folder; without one it offers what
/// can be done instead (a new CA), and nothing changes either way.
#[test]
fn a_foreign_ca_key_points_to_a_backup_only_when_there_is_one() {
    let other = fixtures().join("bad/other-ca.key");
    let d = gen_dir(&[]);
    let dir = d.path();
    fs::copy(&other, dir.join("ca.key")).unwrap();
    let before = snapshot(dir);
    for cmd in [&["renew"][..], &["renew", "--ca"]] {
        let out = run(dir, cmd);
        let line = assert_one_error_line(&out, 1, &["ca.key", "does not belong to", "ca.pem"]);
        assert!(
            !line.contains("backup"),
            "{cmd:?}: no backup exists: {line}"
        );
        assert!(line.contains("milvus-certs gen --force"), "{line}");
        assert_eq!(snapshot(dir), before);
    }
    // inspect says the same about the key, without a backup to point at.
    let out = run(dir, &["inspect"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let problem = stdout
        .lines()
        .find(|l| l.contains("ca.key does not belong"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(!problem.contains("backup"), "{problem}");

    // With a backup holding a ca.key (made by gen --force), it is named.
    let d = gen_dir(&[]);
    let dir = d.path();
    run_ok(dir, &["gen", "--force"]);
    let kept = fs::read_dir(dir.join("backup"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert!(kept.join("ca.key").is_file());
    fs::copy(&other, dir.join("ca.key")).unwrap();
    let out = run(dir, &["renew"]);
    let name = kept.file_name().unwrap().to_string_lossy().to_string();
    let line = assert_one_error_line(&out, 1, &["ca.key", "does not belong to"]);
    assert!(
        line.contains(&format!("an earlier ca.key is in ./backup/{name}/")),
        "{line}"
    );
    let out = run(dir, &["inspect"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "restore the matching key (an earlier ca.key is in ./backup/{name}/)"
        )),
        "{stdout}"
    );
}

/// Issue 16: `renew` reads a CA in DER (`openssl x509|pkey -outform DER`, as
/// Java and Windows tools export it), says so, and writes PEM; `renew --ca`
/// rewrites the DER ca.pem as PEM with the same subject and key.
#[test]
fn renew_reads_a_ca_in_der_and_writes_pem() {
    let d = gen_dir(&[]);
    let dir = d.path();
    let pem_ca = info(&dir.join("ca.pem"));
    fs::copy(dir.join("ca.pem"), dir.join("ca-as-pem.pem")).unwrap();
    for (tool, file) in [("x509", "ca.pem"), ("pkey", "ca.key")] {
        let tmp = format!("{file}.der");
        assert!(openssl_ok(
            dir,
            &[tool, "-in", file, "-outform", "DER", "-out", &tmp]
        ));
        fs::rename(dir.join(&tmp), dir.join(file)).unwrap();
        assert_ne!(fs::read(dir.join(file)).unwrap()[0], b'-', "{file} is DER");
    }
    let der_ca = fs::read(dir.join("ca.pem")).unwrap();

    let out = run_ok(dir, &["renew"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: read ca.pem as DER (binary) and left it so"),
        "{stderr}"
    );
    assert!(stderr.contains("`milvus-certs renew --ca`"), "{stderr}");
    assert!(
        stderr.contains("warning: read ca.key as DER (binary)"),
        "{stderr}"
    );
    assert_eq!(
        fs::read(dir.join("ca.pem")).unwrap(),
        der_ca,
        "ca.pem is left as it was"
    );
    for leaf in ["server.pem", "client.pem"] {
        let text = fs::read_to_string(dir.join(leaf)).unwrap();
        assert!(
            text.starts_with("-----BEGIN CERTIFICATE-----"),
            "{leaf} is PEM"
        );
        assert_eq!(info(&dir.join(leaf)).issuer, pem_ca.subject);
    }
    // Issued by the CA read from DER: OpenSSL verifies the new leaves against
    // the same CA in PEM.
    assert!(openssl_ok(
        dir,
        &[
            "verify",
            "-CAfile",
            "ca-as-pem.pem",
            "-x509_strict",
            "-purpose",
            "sslserver",
            "-verify_ip",
            "127.0.0.1",
            "server.pem"
        ]
    ));

    // renew --ca: the re-signed ca.pem is PEM, same subject and key.
    let out = run_ok(dir, &["renew", "--ca"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("read ca.pem as DER (binary); the re-signed ca.pem is PEM"),
        "{stderr}"
    );
    let text = fs::read_to_string(dir.join("ca.pem")).unwrap();
    assert!(text.starts_with("-----BEGIN CERTIFICATE-----"));
    let ca = info(&dir.join("ca.pem"));
    assert_eq!(ca.subject, pem_ca.subject);
    assert_eq!(ca.public_key_bits, pem_ca.public_key_bits);
    assert_ne!(ca.serial, pem_ca.serial);
    assert!(openssl_verify_server(dir, "localhost"));
    assert_milvus_tls_works(dir, &dir.join("ca.pem"), &["localhost", "127.0.0.1"]);
}

/// The guide's ca.pem has no keyUsage, which `openssl verify -x509_strict`
/// refuses ("CA cert does not include key usage extension"). `renew --ca`
/// adds it, says so, and keeps subject, key and SKI, so the guide's old
/// leaves and new ones verify strictly.
#[test]
fn renew_ca_adds_key_usage_to_the_guides_ca() {
    use x509_parser::extensions::ParsedExtension;
    let d = guide_copy();
    let dir = d.path();
    let strict = |file: &str| openssl_verify(dir, &["-x509_strict"], file);
    assert!(!strict("server.pem"), "the guide's CA fails -x509_strict");
    let old_ca_der = cert_der(&dir.join("ca.pem"));
    let old_ca = parse(&old_ca_der);
    assert!(old_ca.key_usage().unwrap().is_none());

    let out = run_ok(dir, &["renew", "--ca", "--dir", "."]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("ca.pem      added keyUsage keyCertSign, cRLSign (critical)"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("subjectKeyIdentifier"),
        "the guide's CA has one: {stdout}"
    );

    let ca_der = cert_der(&dir.join("ca.pem"));
    let ca = parse(&ca_der);
    let ku = ca.key_usage().unwrap().expect("keyUsage added");
    assert!(ku.critical);
    assert!(ku.value.key_cert_sign() && ku.value.crl_sign());
    assert!(!ku.value.digital_signature());
    let ku_ext = ca
        .extensions()
        .iter()
        .find(|e| matches!(e.parsed_extension(), ParsedExtension::KeyUsage(_)))
        .unwrap();
    assert!(ku_ext.critical);
    assert_eq!(ca.subject().as_raw(), old_ca.subject().as_raw());
    assert_eq!(ca.public_key().raw, old_ca.public_key().raw);
    assert_eq!(ski(&ca), ski(&old_ca));
    assert_ne!(ca.serial, old_ca.serial);

    // The guide's old leaves verify strictly now...
    assert!(strict("server.pem"));
    assert!(strict("client.pem"));
    assert!(openssl_verify_server(dir, "localhost"));
    // ...and so do new ones.
    run_ok(dir, &["renew", "--dir", ".", "--no-backup"]);
    assert!(strict("server.pem"));
    assert!(strict("client.pem"));
    // Nothing more to add the second time.
    let out = run_ok(dir, &["renew", "--ca", "--dir", ".", "--no-backup"]);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("added"));
}

/// A CA without subjectKeyIdentifier gets one (RFC 5280 method 1).
#[test]
fn renew_ca_adds_a_missing_subject_key_identifier() {
    let d = guide_copy();
    let dir = d.path();
    // The guide's CA, re-made without SKI/AKI by OpenSSL itself.
    let out = openssl(
        dir,
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "3650",
            "-subj",
            "/CN=no-ski",
            "-addext",
            "subjectKeyIdentifier=none",
            "-addext",
            "authorityKeyIdentifier=none",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(ski(&parse(&cert_der(&dir.join("ca.pem")))).is_none());
    let out = run_ok(dir, &["renew", "--ca", "--dir", "."]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("added subjectKeyIdentifier"), "{stdout}");
    assert!(stdout.contains("added keyUsage"), "{stdout}");
    let ca_der = cert_der(&dir.join("ca.pem"));
    let ca = parse(&ca_der);
    assert_eq!(ski(&ca), Some(method1_key_id(&ca)));
}

/// Issue 12: a renewal keeps what the old certificate had, its lifetime
/// too; `--days` overrides it.
#[test]
fn renewal_keeps_each_lifetime_unless_days_is_given() {
    let d = gen_dir(&["--days", "365", "--key-type", "ecdsa-p256"]);
    let dir = d.path();
    let lifetime = |f: &str| {
        let c = info(&dir.join(f));
        (c.not_after - c.not_before).whole_days()
    };
    run_ok(dir, &["renew", "--no-backup"]);
    assert_eq!(lifetime("server.pem"), 365);
    assert_eq!(lifetime("client.pem"), 365);
    run_ok(
        dir,
        &["renew", "--only", "client", "--days", "90", "--no-backup"],
    );
    assert_eq!(lifetime("client.pem"), 90);
    run_ok(dir, &["renew", "--no-backup"]);
    assert_eq!((lifetime("server.pem"), lifetime("client.pem")), (365, 90));
    // The guide's openssl leaves (-days 3650) keep theirs too.
    let g = guide_copy();
    let before = info(&g.path().join("server.pem"));
    run_ok(g.path(), &["renew", "--only", "server", "--no-backup"]);
    let after = info(&g.path().join("server.pem"));
    assert_eq!(
        (after.not_after - after.not_before).whole_days(),
        (before.not_after - before.not_before).whole_days()
    );
}

/// Issue 12: `--dry-run` fails exactly as the real run would (same exit
/// code, same error line) and changes nothing; when the real run would
/// work, it says so and changes nothing either.
#[test]
fn a_dry_run_fails_as_the_real_run_would() {
    let d = gen_dir(&["--key-type", "ecdsa-p256"]);
    let dir = d.path();
    let no_key = gen_dir(&["--key-type", "ecdsa-p256"]);
    fs::remove_file(no_key.path().join("ca.key")).unwrap();
    let nk = no_key.path().display().to_string();
    let cases: Vec<Vec<&str>> = vec![
        vec!["renew", "--days", "0"],
        vec!["renew", "--san", "bad name"],
        vec!["renew", "--country", "USA"],
        vec!["renew", "--ca", "--ca-days", "0"],
        vec!["renew", "--key-type", "dsa"],
        vec!["renew", "--dir", &nk],
        vec!["renew", "--dir", &nk, "--ca"],
        vec!["renew", "--dir", &nk, "--if-expiring-within", "30"],
    ];
    for args in cases {
        let before = (snapshot(dir), snapshot(no_key.path()));
        let mut dry = args.clone();
        dry.push("--dry-run");
        let dry_out = run(dir, &dry);
        assert_eq!(
            (snapshot(dir), snapshot(no_key.path())),
            before,
            "{dry:?} changed files"
        );
        let real = run(dir, &args);
        assert_ne!(real.status.code(), Some(0), "{args:?}");
        assert_eq!(dry_out.status.code(), real.status.code(), "{args:?}");
        assert_eq!(
            String::from_utf8_lossy(&dry_out.stderr),
            String::from_utf8_lossy(&real.stderr),
            "{args:?}"
        );
        assert!(dry_out.stdout.is_empty(), "{dry:?}");
    }
    let before = snapshot(dir);
    let out = run_ok(dir, &["renew", "--dry-run", "--days", "400"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Every check passed"), "{text}");
    assert!(text.contains("server.pem"), "{text}");
    assert_eq!(snapshot(dir), before);
}

/// Issue 12: a missing `ca.key` is found by the daily run, not on renewal
/// day: `renew --if-expiring-within` checks that renewing would work, due
/// or not.
#[test]
fn the_daily_run_fails_when_renewing_would() {
    let d = gen_dir(&["--key-type", "ecdsa-p256"]);
    let dir = d.path();
    run_ok(dir, &["renew", "--if-expiring-within", "30"]);
    let key = fs::read(dir.join("ca.key")).unwrap();
    fs::remove_file(dir.join("ca.key")).unwrap();
    let before = snapshot(dir);
    let out = run(dir, &["renew", "--if-expiring-within", "30"]);
    assert_one_error_line(&out, 1, &["ca.key is missing", "restore it"]);
    assert!(out.stdout.is_empty());
    assert_eq!(snapshot(dir), before, "nothing changed");
    // A ca.key of another CA.
    let other = gen_dir(&["--key-type", "ecdsa-p256"]);
    fs::copy(other.path().join("ca.key"), dir.join("ca.key")).unwrap();
    let out = run(dir, &["renew", "--if-expiring-within", "30"]);
    assert_one_error_line(&out, 1, &["ca.key", "does not belong to", "ca.pem"]);
    fs::write(dir.join("ca.key"), key).unwrap();
    fs::set_permissions(
        dir.join("ca.key"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    // A folder group or others may write to: the real run would refuse it.
    fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o770)).unwrap();
    let out = run(dir, &["renew", "--if-expiring-within", "30"]);
    fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    assert_one_error_line(&out, 1, &["writable by group or others", "chmod go-w"]);
    run_ok(dir, &["renew", "--if-expiring-within", "30"]);

    // A folder this user may read but not write (0555; as root, through
    // setpriv as another user, since root writes anyway).
    let shared = shared_dir();
    let ro = shared.path().join("cert");
    fs::create_dir(&ro).unwrap();
    for f in SEVEN {
        fs::copy(dir.join(f), ro.join(f)).unwrap();
        fs::set_permissions(
            ro.join(f),
            std::os::unix::fs::PermissionsExt::from_mode(0o644),
        )
        .unwrap();
    }
    fs::set_permissions(&ro, std::os::unix::fs::PermissionsExt::from_mode(0o555)).unwrap();
    let before = snapshot(&ro);
    if let Some(out) = run_unprivileged(
        shared.path(),
        &["renew", "--dir", "cert", "--if-expiring-within", "30"],
    ) {
        assert_one_error_line(&out, 1, &["cannot write into", "cert"]);
    }
    fs::set_permissions(&ro, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    assert_eq!(snapshot(&ro), before);
}

/// The command between the first pair of backticks after `marker`.
fn suggested(text: &str, marker: &str) -> String {
    let rest = &text[text
        .find(marker)
        .unwrap_or_else(|| panic!("{marker:?} not in {text}"))..];
    rest.split('`').nth(1).unwrap().to_string()
}

/// Runs a suggested command exactly as printed, with `sh`, from `cwd`.
fn run_suggestion(cwd: &Path, cmd: &str) -> std::process::Output {
    assert!(cmd.starts_with("milvus-certs "), "{cmd}");
    let bin_dir = Path::new(BIN).parent().unwrap().display().to_string();
    shell_ok(
        "sh",
        cwd,
        &format!("PATH='{bin_dir}':\"$PATH\"; {cmd}"),
        &[],
    )
}

/// Issue 12: every suggested command, run as printed from the working
/// directory it was printed in (not the certificate folder), acts on the
/// right folder: it carries `--dir`, quoted for the shell.
#[test]
fn suggested_commands_act_on_the_right_folder() {
    use milvus_certs::generate::{GenOptions, generate};
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    // inspect --dir old, with expired leaves.
    let old = w.join("old certs");
    let past = time::OffsetDateTime::now_utc() - time::Duration::days(30);
    let opts = GenOptions {
        dir: old.clone(),
        days: 10,
        key_type: milvus_certs::KeyType::EcdsaP256,
        ..GenOptions::default()
    };
    generate(&opts, past).unwrap();
    let out = run(w, &["inspect", "--dir", "old certs"]);
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let cmd = suggested(&text, "it expired on");
    assert_eq!(cmd, "milvus-certs renew --dir 'old certs' --only server");
    run_suggestion(w, &cmd);
    assert!(info(&old.join("server.pem")).not_after > time::OffsetDateTime::now_utc());

    // renew --dir oldca, with an expired CA.
    let oldca = w.join("oldca");
    let opts = GenOptions {
        dir: oldca.clone(),
        ca_days: 20,
        days: 10,
        key_type: milvus_certs::KeyType::EcdsaP256,
        ..GenOptions::default()
    };
    generate(&opts, past).unwrap();
    let out = run(w, &["renew", "--dir", "oldca"]);
    let err = assert_one_error_line(&out, 1, &["expired on"]);
    let cmd = suggested(&err, "renew it with");
    assert_eq!(cmd, "milvus-certs renew --dir oldca --ca");
    run_suggestion(w, &cmd);
    assert!(info(&oldca.join("ca.pem")).not_after > time::OffsetDateTime::now_utc());

    // export client --dir cert --host 10.0.0.9, a name server.pem lacks.
    run_ok(w, &["gen", "--dir", "cert", "--key-type", "ecdsa-p256"]);
    let out = run(
        w,
        &["export", "client", "--dir", "cert", "--host", "10.0.0.9"],
    );
    let err = assert_one_error_line(&out, 2, &["--host"]);
    let cmd = suggested(&err, "add the name with");
    assert_eq!(
        cmd,
        "milvus-certs renew --dir cert --only server --san 10.0.0.9"
    );
    run_suggestion(w, &cmd);
    run_ok(
        w,
        &["export", "client", "--dir", "cert", "--host", "10.0.0.9"],
    );

    // inspect --dir cert --server-name, a name server.pem lacks.
    let out = run(
        w,
        &[
            "inspect",
            "--dir",
            "cert",
            "--server-name",
            "milvus.example.com",
        ],
    );
    let cmd = suggested(
        &String::from_utf8_lossy(&out.stdout),
        "no subjectAltName matches",
    );
    assert_eq!(
        cmd,
        "milvus-certs renew --dir cert --only server --san milvus.example.com"
    );
    run_suggestion(w, &cmd);
    run_ok(
        w,
        &[
            "inspect",
            "--dir",
            "cert",
            "--server-name",
            "milvus.example.com",
        ],
    );
}

/// A blank `--then` would do nothing after a renewal: refused before
/// anything is renewed, as a usage error.
#[test]
fn a_blank_then_hook_is_refused_before_renewing() {
    let d = tempfile::tempdir().unwrap();
    run_ok(d.path(), &["gen", "--dir", "c"]);
    let before = snapshot(&d.path().join("c"));
    for then in ["", "  "] {
        let out = run(d.path(), &["renew", "--dir", "c", "--then", then]);
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains("invalid --then") && err.contains("is empty"),
            "{err}"
        );
        assert_eq!(snapshot(&d.path().join("c")), before);
    }
}

/// With `--then`, the hook is the restart: the report says what it ran, not
/// "Next: restart Milvus".
#[test]
fn with_a_hook_the_report_does_not_ask_for_a_restart() {
    let d = tempfile::tempdir().unwrap();
    run_ok(d.path(), &["gen", "--dir", "c"]);
    let out = run_ok(
        d.path(),
        &["renew", "--dir", "c", "--then", "echo reloaded"],
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(!text.contains("Next: restart"), "{text}");
    assert!(
        text.contains("Ran the --then hook: echo reloaded"),
        "{text}"
    );
    let out = run_ok(d.path(), &["renew", "--dir", "c"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("Next: restart"));
}

/// A mistyped `--only` (close to server, client or a certificate `add`
/// made) is a usage error that suggests the name meant, with the command
/// that works when run as printed; `add` is suggested only for a name close
/// to none of them (it would make a certificate named after the typo).
#[test]
fn a_mistyped_only_suggests_the_name_meant_not_add() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    run_ok(w, &["gen", "--dir", "my certs", "--key-type", "ecdsa-p256"]);
    run_ok(
        w,
        &[
            "add",
            "--dir",
            "my certs",
            "minio-s3",
            "--profile",
            "server",
        ],
    );
    for (typed, meant) in [
        ("serverr", "server"),
        ("clinet", "client"),
        ("minio-s4", "minio-s3"),
    ] {
        let before = snapshot(&w.join("my certs"));
        let out = run(w, &["renew", "--dir", "my certs", "--only", typed]);
        let err = assert_one_error_line(
            &out,
            2,
            &[&format!(
                "invalid --only \"{typed}\": did you mean {meant}?"
            )],
        );
        assert!(!err.contains("add"), "{err}");
        assert_eq!(snapshot(&w.join("my certs")), before);
        let cmd = suggested(&err, "did you mean");
        assert_eq!(
            cmd,
            format!("milvus-certs renew --dir 'my certs' --only {meant}")
        );
        run_suggestion(w, &cmd);
    }
    // Close to nothing here: how to make it.
    let out = run(w, &["renew", "--dir", "my certs", "--only", "vault"]);
    let err = assert_one_error_line(
        &out,
        2,
        &["invalid --only \"vault\"", "vault.pem is missing"],
    );
    assert!(!err.contains("did you mean"), "{err}");
    assert_eq!(
        suggested(&err, "make it with"),
        "milvus-certs add --dir 'my certs' vault --profile server"
    );
}
