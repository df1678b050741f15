//! `milvus-certs export kafka`: the broker's PKCS#12 stores, read back by
//! keytool and OpenSSL with the password written; the chain verifies
//! against ca.pem; Milvus's librdkafka settings point at the files written.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::common::*;

fn keytool_list(store: &Path, password: &str) -> Option<String> {
    let out = Command::new("keytool")
        .args(["-list", "-v", "-storetype", "PKCS12", "-keystore"])
        .arg(store)
        .args(["-storepass", password])
        .output();
    match out {
        Err(_) => {
            skip_unless_ci("keytool (apt-get install -y default-jre-headless)");
            None
        }
        Ok(o) => {
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
            assert!(
                o.status.success(),
                "keytool -list {}: {text}",
                store.display()
            );
            Some(text)
        }
    }
}

fn stack() -> tempfile::TempDir {
    let d = gen_dir(&[]);
    run_ok(d.path(), &["add", "kafka"]);
    run_ok(d.path(), &["add", "kafka-client"]);
    d
}

#[test]
fn stores_open_with_the_written_password_and_chain_to_ca_pem() {
    let d = stack();
    let dir = d.path();
    run_ok(dir, &["export", "kafka", "--out", "deploy"]);
    let out = dir.join("deploy");
    let password = fs::read_to_string(out.join("kafka/password")).unwrap();
    let password = password.trim_end();
    assert!(password.len() >= 20, "a long random password: {password:?}");
    for (f, m) in [
        ("kafka/kafka.keystore.p12", 0o600),
        ("kafka/kafka.truststore.p12", 0o644),
        ("kafka/password", 0o600),
        ("kafka/server.properties", 0o600),
        ("milvus-kafka/ca.pem", 0o644),
        ("milvus-kafka/kafka-client.pem", 0o644),
        ("milvus-kafka/kafka-client.key", 0o600),
        ("milvus-kafka.yaml", 0o644),
    ] {
        assert_eq!(mode(&out.join(f)), m, "{f}");
    }
    if let Some(list) = keytool_list(&out.join("kafka/kafka.keystore.p12"), password) {
        assert!(list.contains("Alias name: kafka"), "{list}");
        assert!(list.contains("Entry type: PrivateKeyEntry"), "{list}");
        assert!(list.contains("Certificate chain length: 2"), "{list}");
        let list = keytool_list(&out.join("kafka/kafka.truststore.p12"), password).unwrap();
        assert!(list.contains("Entry type: trustedCertEntry"), "{list}");
    }
    // OpenSSL reads both; the key is kafka.key's; the leaf is kafka.pem and
    // verifies against ca.pem.
    let pass = format!("pass:{password}");
    assert!(openssl_ok(
        &out,
        &[
            "pkcs12",
            "-in",
            "kafka/kafka.keystore.p12",
            "-passin",
            &pass,
            "-nodes",
            "-out",
            "ks.pem"
        ]
    ));
    assert!(openssl_ok(
        &out,
        &[
            "pkcs12",
            "-in",
            "kafka/kafka.keystore.p12",
            "-passin",
            &pass,
            "-nokeys",
            "-clcerts",
            "-out",
            "leaf.pem"
        ]
    ));
    assert!(openssl_ok(
        &out,
        &[
            "pkcs12",
            "-in",
            "kafka/kafka.truststore.p12",
            "-passin",
            &pass,
            "-nokeys",
            "-out",
            "trust.pem"
        ]
    ));
    assert_eq!(
        cert_der(&out.join("leaf.pem")),
        cert_der(&dir.join("kafka.pem"))
    );
    assert_eq!(
        cert_der(&out.join("trust.pem")),
        cert_der(&dir.join("ca.pem"))
    );
    let ks = fs::read_to_string(out.join("ks.pem")).unwrap();
    assert_eq!(ks.matches("BEGIN CERTIFICATE").count(), 2, "leaf and CA");
    let pubkey = |cwd: &Path, args: &[&str]| {
        let o = openssl(cwd, args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        o.stdout
    };
    assert_eq!(
        pubkey(&out, &["pkey", "-in", "ks.pem", "-pubout"]),
        pubkey(dir, &["pkey", "-in", "kafka.key", "-pubout"])
    );
    assert!(openssl_ok(
        dir,
        &[
            "verify",
            "-CAfile",
            "ca.pem",
            "-purpose",
            "sslserver",
            "deploy/leaf.pem"
        ]
    ));
    let wrong = openssl(
        &out,
        &[
            "pkcs12",
            "-in",
            "kafka/kafka.keystore.p12",
            "-passin",
            "pass:wrong-pass",
            "-noout",
        ],
    );
    assert!(!wrong.status.success(), "the MAC is checked");

    // The broker's settings carry the password and the mounted paths.
    let props = fs::read_to_string(out.join("kafka/server.properties")).unwrap();
    for line in [
        "ssl.keystore.type=PKCS12",
        "ssl.keystore.location=/etc/kafka/secrets/kafka.keystore.p12",
        &format!("ssl.keystore.password={password}"),
        &format!("ssl.truststore.password={password}"),
        "ssl.truststore.location=/etc/kafka/secrets/kafka.truststore.p12",
        "ssl.client.auth=required",
    ] {
        assert!(props.lines().any(|l| l == line), "{line} not in {props}");
    }
    // Milvus's client settings: librdkafka names, pointing at files written.
    let yaml = fs::read_to_string(out.join("milvus-kafka.yaml")).unwrap();
    let docs = yaml_rust2::YamlLoader::load_from_str(&yaml).unwrap();
    let kafka = &docs[0]["kafka"];
    assert_eq!(kafka["brokerList"].as_str(), Some("kafka:9093"));
    for side in ["consumer", "producer"] {
        let c = &kafka[side];
        assert_eq!(c["security.protocol"].as_str(), Some("SSL"));
        for (key, file) in [
            ("ssl.ca.location", "ca.pem"),
            ("ssl.certificate.location", "kafka-client.pem"),
            ("ssl.key.location", "kafka-client.key"),
        ] {
            assert_eq!(
                c[key].as_str(),
                Some(format!("/milvus/kafka/{file}").as_str())
            );
            assert!(out.join("milvus-kafka").join(file).is_file());
        }
        assert!(
            c["ssl.key.password"].is_badvalue(),
            "the client key is not encrypted"
        );
    }
    assert_eq!(
        fs::read(out.join("milvus-kafka/kafka-client.key")).unwrap(),
        fs::read(dir.join("kafka-client.key")).unwrap()
    );
}

#[test]
fn a_given_password_is_used_and_a_bad_one_refused() {
    let d = stack();
    let dir = d.path();
    fs::write(dir.join("pass.txt"), "Given-Passw0rd\n").unwrap();
    run_ok(
        dir,
        &[
            "export",
            "kafka",
            "--out",
            "deploy",
            "--password-file",
            "pass.txt",
            "--broker",
            "k1:9093,k2:9093",
        ],
    );
    let out = dir.join("deploy");
    assert_eq!(
        fs::read_to_string(out.join("kafka/password")).unwrap(),
        "Given-Passw0rd\n"
    );
    assert!(openssl_ok(
        &out,
        &[
            "pkcs12",
            "-in",
            "kafka/kafka.truststore.p12",
            "-passin",
            "pass:Given-Passw0rd",
            "-noout"
        ]
    ));
    fs::write(dir.join("short.txt"), "abc\n").unwrap();
    let before_short = snapshot(dir);
    let o = run(
        dir,
        &[
            "export",
            "kafka",
            "--out",
            "other",
            "--password-file",
            "short.txt",
        ],
    );
    assert_one_error_line(&o, 1, &["short.txt", "at least 6 characters"]);
    let o = run(
        dir,
        &[
            "export",
            "kafka",
            "--out",
            "other",
            "--password-file",
            "none.txt",
        ],
    );
    assert_one_error_line(&o, 1, &["none.txt", "--password-file"]);
    let o = run(
        dir,
        &[
            "export",
            "kafka",
            "--out",
            "other",
            "--broker",
            "https://kafka",
        ],
    );
    assert_one_error_line(&o, 2, &["--broker", "HOST:PORT"]);
    let o = run(dir, &["export", "kafka"]);
    assert_one_error_line(&o, 2, &["--out"]);
    // Existing files are not replaced without --force.
    let o = run(dir, &["export", "kafka", "--out", "deploy"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(snapshot(dir), before_short, "nothing was written");
}

#[test]
fn without_the_kafka_files_nothing_is_written_and_the_fix_is_named() {
    let d = gen_dir(&[]);
    let dir = d.path();
    let o = run(dir, &["export", "kafka", "--out", "deploy"]);
    assert_one_error_line(&o, 1, &["kafka.pem", "milvus-certs add kafka"]);
    assert!(!dir.join("deploy").exists());
    // A broker certificate without the client one: TLS without client
    // certificates, said in a warning.
    run_ok(dir, &["add", "kafka"]);
    let o = run_ok(dir, &["export", "kafka", "--out", "deploy"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("milvus-certs add kafka-client"), "{err}");
    let props = fs::read_to_string(dir.join("deploy/kafka/server.properties")).unwrap();
    assert!(props.contains("ssl.client.auth=none"), "{props}");
    // A broker certificate from another CA is refused.
    let other = gen_dir(&[]);
    run_ok(other.path(), &["add", "kafka"]);
    fs::copy(other.path().join("kafka.pem"), dir.join("kafka.pem")).unwrap();
    fs::copy(other.path().join("kafka.key"), dir.join("kafka.key")).unwrap();
    let o = run(dir, &["export", "kafka", "--out", "deploy2"]);
    assert_one_error_line(&o, 1, &["kafka.pem"]);
    assert!(!dir.join("deploy2").exists());
}

/// Both files of an added certificate are read before either is parsed, as
/// `export` reads ca.pem, server.pem and server.key and as `--etcd`, `--s3`
/// and `--kafka` read theirs (one reader since the export folder): a
/// damaged kafka.pem without its key is reported as the missing key, whose
/// fix (`add kafka --force`) makes both again. Before, export kafka parsed
/// kafka.pem first and said only that it was not a certificate.
#[test]
fn a_damaged_certificate_without_its_key_names_the_fix_for_both() {
    let d = gen_dir(&[]);
    let dir = d.path();
    run_ok(dir, &["add", "kafka"]);
    fs::write(dir.join("kafka.pem"), "not a certificate\n").unwrap();
    fs::remove_file(dir.join("kafka.key")).unwrap();
    let o = run(dir, &["export", "kafka", "--out", "deploy"]);
    assert_one_error_line(&o, 1, &["kafka.key", "add kafka --force"]);
    assert!(!dir.join("deploy").exists());
}

/// The warnings of `export kafka` name the certificate folder, whose name
/// may hold control characters: they are escaped for the terminal, as every
/// other target's are. (Before, `export kafka` alone printed them raw, so a
/// folder's name could clear the screen or forge a line.)
#[test]
fn warnings_are_escaped_for_the_terminal() {
    let d = tempfile::tempdir().unwrap();
    let dir = "cert\u{1b}[2J";
    run_ok(d.path(), &["gen", "--dir", dir]);
    run_ok(d.path(), &["add", "kafka", "--dir", dir]);
    let o = run_ok(
        d.path(),
        &["export", "kafka", "--dir", dir, "--out", "deploy"],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("warning: cert\\u{1b}[2J/kafka-client.pem is missing"),
        "{err}"
    );
    assert!(!err.contains('\u{1b}'), "{err:?}");
}
