//! `milvus-certs export k8s-secret`: the object kubectl would make, parsed
//! with a YAML parser and decoded with coreutils' base64, byte for byte.

mod common;

use std::fs;
use std::io::Write;
use std::process::{Command, Stdio};

use common::*;
use yaml_rust2::{Yaml, YamlLoader};

fn base64_decode(text: &str) -> Vec<u8> {
    let mut child = Command::new("base64")
        .arg("-d")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    out.stdout
}

#[test]
fn the_secret_holds_the_three_files_byte_for_byte() {
    let d = gen_dir(&["--key-type", "ecdsa-p256"]);
    let dir = d.path();
    let out = run_ok(dir, &["export", "k8s-secret", "--namespace", "milvus"]);
    let text = String::from_utf8(out.stdout).unwrap();
    let docs = YamlLoader::load_from_str(&text).unwrap();
    assert_eq!(docs.len(), 1);
    let doc = &docs[0];
    assert_eq!(doc["apiVersion"].as_str(), Some("v1"));
    assert_eq!(doc["kind"].as_str(), Some("Secret"));
    assert_eq!(doc["type"].as_str(), Some("Opaque"));
    assert_eq!(doc["metadata"]["name"].as_str(), Some("certs"));
    assert_eq!(doc["metadata"]["namespace"].as_str(), Some("milvus"));
    let data = doc["data"].as_hash().unwrap();
    let keys: Vec<&str> = data.keys().map(|k| k.as_str().unwrap()).collect();
    assert_eq!(keys, ["ca.pem", "server.key", "server.pem"]);
    for f in ["ca.pem", "server.key", "server.pem"] {
        let encoded = doc["data"][f].as_str().unwrap();
        assert_eq!(
            base64_decode(encoded),
            fs::read(dir.join(f)).unwrap(),
            "{f}"
        );
    }
    // Without --namespace there is none (kubectl uses its current one).
    let text =
        String::from_utf8(run_ok(dir, &["export", "k8s-secret", "--name", "true"]).stdout).unwrap();
    let doc = &YamlLoader::load_from_str(&text).unwrap()[0];
    assert!(matches!(doc["metadata"]["namespace"], Yaml::BadValue));
    assert_eq!(
        doc["metadata"]["name"].as_str(),
        Some("true"),
        "a name that looks like a boolean stays a string"
    );
}

#[test]
fn out_writes_a_private_file_and_refuses_to_overwrite() {
    let d = gen_dir(&["--key-type", "ecdsa-p256"]);
    let dir = d.path();
    let out = run_ok(dir, &["export", "k8s-secret", "--out", "deploy"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("kubectl apply -f"));
    let path = dir.join("deploy/secret.yaml");
    assert_eq!(mode(&path), 0o600, "it holds server.key");
    let before = fs::read(&path).unwrap();
    assert_one_error_line(
        &run(dir, &["export", "k8s-secret", "--out", "deploy"]),
        1,
        &["secret.yaml", "--force"],
    );
    assert_eq!(fs::read(&path).unwrap(), before);
    run_ok(
        dir,
        &[
            "export",
            "k8s-secret",
            "--out",
            "deploy",
            "--force",
            "--name",
            "tls",
        ],
    );
    assert!(fs::read_to_string(&path).unwrap().contains("name: \"tls\""));
}

#[test]
fn bad_input_is_one_clear_error() {
    let d = gen_dir(&["--key-type", "ecdsa-p256"]);
    let dir = d.path();
    assert_one_error_line(
        &run(dir, &["export", "k8s-secret", "--name", "Certs"]),
        1,
        &["--name", "lowercase"],
    );
    assert_one_error_line(
        &run(dir, &["export", "k8s-secret", "--namespace", "a.b"]),
        1,
        &["--namespace"],
    );
    fs::copy(dir.join("client.key"), dir.join("server.key")).unwrap();
    assert_one_error_line(
        &run(dir, &["export", "k8s-secret"]),
        1,
        &["server.key", "does not belong to", "server.pem"],
    );
    fs::remove_file(dir.join("ca.pem")).unwrap();
    assert_one_error_line(
        &run(dir, &["export", "k8s-secret"]),
        1,
        &["ca.pem is missing"],
    );
}

/// Issue "renew": whichever command runs next on a directory with an
/// interrupted write completes or rolls it back first, and says so.
#[test]
fn export_recovers_an_interrupted_write_first() {
    let d = gen_dir(&["--key-type", "ecdsa-p256"]);
    let dir = d.path();
    let staging = dir.join(milvus_certs::store::STAGING_DIR);
    fs::create_dir(&staging).unwrap();
    fs::write(staging.join("server.pem"), "half-written").unwrap();
    let out = run_ok(dir, &["export", "k8s-secret"]);
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("note: an earlier run was interrupted before it committed")
    );
    assert!(!staging.exists());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("apiVersion: v1\n"));
}
