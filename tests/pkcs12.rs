//! Issue 15: PKCS#12 key and trust stores, read back by the real readers
//! Kafka's side uses: the JDK's keytool, and OpenSSL.

use std::fs;
use std::process::Command;

use crate::common::*;

fn keytool(args: &[&str]) -> String {
    let out = Command::new("keytool")
        .args(args)
        .output()
        .expect("keytool (a JDK) is needed: apt-get install -y openjdk-17-jre-headless");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "keytool {args:?}: {text}");
    text
}

#[test]
fn ecdsa_keystore_and_truststore_are_read_by_keytool_and_openssl() {
    // The stores `export kafka` writes (the library's PKCS#12 writer is not
    // public), with an ECDSA key: tests/kafka.rs reads the RSA ones.
    let d = gen_dir(&["--key-type", "ecdsa-p256"]);
    let p = d.path();
    run_ok(p, &["add", "kafka"]);
    fs::write(p.join("pass.txt"), "s3cret-Pass\n").unwrap();
    run_ok(
        p,
        &[
            "export",
            "kafka",
            "--out",
            "deploy",
            "--password-file",
            "pass.txt",
        ],
    );
    fs::copy(p.join("deploy/kafka/kafka.keystore.p12"), p.join("ks.p12")).unwrap();
    fs::copy(
        p.join("deploy/kafka/kafka.truststore.p12"),
        p.join("ts.p12"),
    )
    .unwrap();
    let ks_path = p.join("ks.p12").display().to_string();
    let ts_path = p.join("ts.p12").display().to_string();

    // keytool: one PrivateKeyEntry with a chain of 2, and one trusted
    // certificate entry.
    let list = keytool(&[
        "-list",
        "-v",
        "-storetype",
        "PKCS12",
        "-keystore",
        &ks_path,
        "-storepass",
        "s3cret-Pass",
    ]);
    assert!(list.contains("Alias name: kafka"), "{list}");
    assert!(list.contains("Entry type: PrivateKeyEntry"), "{list}");
    assert!(list.contains("Certificate chain length: 2"), "{list}");
    let list = keytool(&[
        "-list",
        "-v",
        "-storetype",
        "PKCS12",
        "-keystore",
        &ts_path,
        "-storepass",
        "s3cret-Pass",
    ]);
    assert!(list.contains("Alias name: milvus-ca"), "{list}");
    assert!(list.contains("Entry type: trustedCertEntry"), "{list}");
    // A wrong password is refused (the MAC is checked).
    let bad = Command::new("keytool")
        .args([
            "-list",
            "-storetype",
            "PKCS12",
            "-keystore",
            &ks_path,
            "-storepass",
            "wrong",
        ])
        .output()
        .unwrap();
    assert!(!bad.status.success());

    // OpenSSL: the MAC verifies, the key decrypts and matches kafka.pem,
    // and the chain in the store verifies against ca.pem.
    let out = openssl(
        p,
        &[
            "pkcs12",
            "-in",
            "ks.p12",
            "-passin",
            "pass:s3cret-Pass",
            "-nodes",
            "-out",
            "ks.pem",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pem = fs::read_to_string(p.join("ks.pem")).unwrap();
    assert_eq!(pem.matches("BEGIN CERTIFICATE").count(), 2, "{pem}");
    let pubkey = |args: &[&str]| {
        let o = openssl(p, args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        o.stdout
    };
    assert_eq!(
        pubkey(&["pkey", "-in", "ks.pem", "-pubout"]),
        pubkey(&["x509", "-in", "kafka.pem", "-noout", "-pubkey"])
    );
    let out = openssl(
        p,
        &["pkcs12", "-in", "ks.p12", "-passin", "pass:nope", "-noout"],
    );
    assert!(!out.status.success(), "a wrong password must fail the MAC");
    let out = openssl(
        p,
        &[
            "pkcs12",
            "-in",
            "ks.p12",
            "-passin",
            "pass:s3cret-Pass",
            "-nokeys",
            "-clcerts",
            "-out",
            "leaf.pem",
        ],
    );
    assert!(out.status.success());
    assert!(openssl_verify(p, &[], "leaf.pem"));
}
