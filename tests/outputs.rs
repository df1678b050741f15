//! Snapshots of what the commands print and write, with times, serials,
//! keys and the scratch path redacted (`common::redact`): any change to a
//! message, a summary line, the JSON schema or an exported file shows up
//! as a reviewed diff. `UPDATE_SNAPSHOTS=1 cargo test` rewrites them.

use std::fs;

use crate::common::*;

#[test]
fn gen_renew_and_inspect_output() {
    let t = Test::new();
    t.cmd(&[
        "gen",
        "--dir",
        "cert",
        "--key-type",
        "ecdsa-p256",
        "--san",
        "milvus.example.com",
    ])
    .stdout_snapshot("out-gen.txt")
    .run();
    t.cmd(&["renew", "--dir", "cert", "--no-backup"])
        .stdout_snapshot("out-renew.txt")
        .run();
    t.cmd(&["inspect", "--dir", "cert"])
        .stdout_snapshot("out-inspect.txt")
        .run();
    t.cmd(&["inspect", "--dir", "cert", "--json"])
        .stdout_snapshot("out-inspect.json")
        .run();
    // A problem: another CA's ca.pem in a deployment folder.
    t.cmd(&["gen", "--dir", "other", "--key-type", "ecdsa-p256"])
        .run();
    t.cmd(&["export", "compose", "--dir", "cert", "--out", "deploy"])
        .run();
    fs::copy(
        t.path().join("other/ca.pem"),
        t.path().join("deploy/tls/ca.pem"),
    )
    .unwrap();
    t.cmd(&["inspect", "--dir", "deploy/tls"])
        .status(2)
        .stdout_snapshot("out-inspect-foreign-ca.txt")
        .run();
    t.cmd(&["renew", "--dir", "cert", "--if-expiring-within", "30"])
        .stdout_snapshot("out-renew-not-due.txt")
        .run();
}

#[test]
fn export_files() {
    let t = Test::new();
    t.cmd(&["gen", "--dir", "cert", "--key-type", "ecdsa-p256"])
        .run();
    t.cmd(&[
        "export",
        "compose",
        "--dir",
        "cert",
        "--out",
        "deploy",
        "--mode",
        "2",
        "--internal",
    ])
    .stdout_snapshot("out-export-compose.txt")
    .run();
    for f in ["user.yaml", "docker-compose.tls.yml"] {
        let text = fs::read_to_string(t.path().join("deploy").join(f)).unwrap();
        assert_snapshot(&format!("file-compose-{f}"), &redact(&text, t.path()));
    }
    for target in ["k8s-secret", "operator", "helm"] {
        t.cmd(&["export", target, "--dir", "cert"])
            .stdout_snapshot(&format!("out-export-{target}.yaml"))
            .run();
    }
    t.cmd(&[
        "schedule",
        "--dir",
        "cert",
        "--then",
        "systemctl restart milvus",
    ])
    .stdout_snapshot("out-schedule.txt")
    .run();
}

#[test]
fn errors_are_one_line_with_a_fix() {
    let t = Test::new();
    t.cmd(&["renew", "--dir", "nowhere"])
        .status(1)
        .stderr_snapshot("err-renew-missing-dir.txt")
        .run();
    t.cmd(&["gen", "--dir", "cert", "--san", "milvus.example.com:19530"])
        .status(2)
        .stderr_snapshot("err-gen-san-port.txt")
        .run();
    t.cmd(&["gen", "--dri", "cert"])
        .status(2)
        .stderr_contains("--dir")
        .run();
    // A pymilvus uri pasted into --connect says what to pass.
    t.cmd(&["inspect", "--connect", "https://127.0.0.1"])
        .status(2)
        .stdout_contains("pass --connect 127.0.0.1:19530")
        .run();
    // renew pointed at export's deployment folder: the wrong folder, not a
    // lost key.
    t.cmd(&["gen", "--dir", "ca", "--key-type", "ecdsa-p256"])
        .run();
    t.cmd(&[
        "export", "compose", "--dir", "ca", "--out", "deploy", "--s3",
    ])
    .status(1)
    .run();
    t.cmd(&["export", "compose", "--dir", "ca", "--out", "deploy"])
        .run();
    t.cmd(&["renew", "--dir", "deploy/tls"])
        .status(1)
        .stderr_contains("deployment folder")
        .stderr_contains("renew in the folder that holds ca.key")
        .run();
    // A directory where server.pem belongs (Docker's, for a missing bind
    // mount): the fix is rmdir, not --force.
    fs::create_dir_all(t.path().join("dk/server.pem")).unwrap();
    t.cmd(&["gen", "--dir", "dk"])
        .status(1)
        .stderr_contains("rmdir -- dk/server.pem")
        .run();
}

#[test]
fn doctor_output() {
    let t = Test::new();
    fs::copy(
        fixtures().join("milvus/operator-encryption-in-transit.yaml"),
        t.path().join("milvus-operator.yaml"),
    )
    .unwrap();
    t.cmd(&["doctor", "milvus-operator.yaml"])
        .status(2)
        .stdout_snapshot("out-doctor-operator.txt")
        .run();
    t.cmd(&["doctor", "milvus-operator.yaml", "--json"])
        .status(2)
        .stdout_snapshot("out-doctor-operator.json")
        .run();
    fs::write(
        t.path().join("values.yaml"),
        "extraConfigFiles:\n  user.yaml: |\n    common:\n      security:\n        tlsMode: 1\n      tls:\n        serverPemPath: /certs/server.pem\n",
    )
    .unwrap();
    t.cmd(&["doctor", "values.yaml"])
        .status(2)
        .stdout_snapshot("out-doctor-helm.txt")
        .run();
    fs::write(t.path().join("bad.yaml"), "tls:\n  serverPemPath: [x\n").unwrap();
    t.cmd(&["doctor", "bad.yaml"])
        .status(2)
        .stderr_snapshot("err-doctor-bad-yaml.txt")
        .run();
}
