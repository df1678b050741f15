//! Issue 15: the exports' settings for Milvus's etcd, S3 storage and Kafka
//! (`--etcd`, `--s3`, `--kafka`), checked by parsing what was written, and
//! the checks that run before anything is written.

use std::fs;
use std::path::Path;

use crate::common::*;
use yaml_rust2::{Yaml, YamlLoader};

fn yaml(path: &Path) -> Yaml {
    YamlLoader::load_from_str(&fs::read_to_string(path).unwrap())
        .unwrap()
        .remove(0)
}

fn stack_dir() -> tempfile::TempDir {
    let d = gen_dir(&[]);
    for name in ["etcd", "etcd-client", "s3", "kafka-client"] {
        run_ok(d.path(), &["add", name]);
    }
    d
}

fn strs(y: &Yaml) -> Vec<String> {
    y.as_vec()
        .unwrap_or_else(|| panic!("not a list: {y:?}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn compose_turns_on_tls_for_etcd_and_minio_and_points_milvus_at_them() {
    let d = stack_dir();
    let dir = d.path();
    run_ok(
        dir,
        &[
            "export", "compose", "--etcd", "--s3", "--kafka", "--out", "deploy",
        ],
    );
    let out = dir.join("deploy");
    let m = yaml(&out.join("user.yaml"));
    let etcd = &m["etcd"];
    assert_eq!(etcd["endpoints"].as_str(), Some("https://etcd:2379"));
    assert_eq!(etcd["use"]["embed"].as_bool(), Some(false));
    assert_eq!(etcd["ssl"]["enabled"].as_bool(), Some(true));
    assert_eq!(etcd["ssl"]["tlsMinVersion"].as_str(), Some("1.3"));
    for (key, file) in [
        ("tlsCert", "etcd-client.pem"),
        ("tlsKey", "etcd-client.key"),
        ("tlsCACert", "ca.pem"),
    ] {
        assert_eq!(
            etcd["ssl"][key].as_str(),
            Some(format!("/milvus/tls/{file}").as_str())
        );
        assert!(out.join("tls").join(file).is_file(), "{file}");
    }
    assert_eq!(
        fs::read(out.join("tls/etcd-client.pem")).unwrap(),
        fs::read(dir.join("etcd-client.pem")).unwrap()
    );
    assert_eq!(mode(&out.join("tls/etcd-client.key")), 0o600);
    let minio = &m["minio"];
    assert_eq!(minio["useSSL"].as_bool(), Some(true));
    assert_eq!(minio["address"].as_str(), Some("minio"));
    assert_eq!(minio["port"].as_i64(), Some(9000));
    let kafka = &m["kafka"];
    assert_eq!(
        kafka["consumer"]["ssl.key.location"].as_str(),
        Some("/milvus/tls/kafka-client.key")
    );
    assert!(out.join("tls/kafka-client.key").is_file());
    // The trust bundle: the system's roots (when this machine has them) and ca.pem.
    let bundle = fs::read_to_string(out.join("tls/ca-bundle.crt")).unwrap();
    let ca = fs::read_to_string(dir.join("ca.pem")).unwrap();
    assert!(bundle.ends_with(&ca), "ca.pem closes the bundle");
    if let Ok(system) = fs::read_to_string("/etc/ssl/certs/ca-certificates.crt") {
        assert!(
            bundle.starts_with(system.trim_end()),
            "the system roots come first"
        );
    }

    let o = yaml(&out.join("docker-compose.tls.yml"));
    let standalone = &o["services"]["standalone"];
    assert!(
        strs(&standalone["volumes"])
            .contains(&"./tls/ca-bundle.crt:/etc/ssl/certs/ca-certificates.crt:ro".to_string())
    );
    assert_eq!(
        standalone["environment"]["ETCD_ENDPOINTS"].as_str(),
        Some("https://etcd:2379")
    );
    let etcd_svc = &o["services"]["etcd"];
    let cmd = strs(&etcd_svc["command"]);
    for flag in [
        "--cert-file=/etcd/tls/etcd.pem",
        "--key-file=/etcd/tls/etcd.key",
        "--trusted-ca-file=/etcd/tls/ca.pem",
        "--client-cert-auth",
        "--listen-client-urls=https://0.0.0.0:2379",
        "--advertise-client-urls=https://etcd:2379",
    ] {
        assert!(cmd.contains(&flag.to_string()), "{flag} not in {cmd:?}");
    }
    assert_eq!(strs(&etcd_svc["volumes"]), ["./tls-etcd:/etcd/tls:ro"]);
    for f in ["etcd.pem", "etcd.key", "ca.pem"] {
        assert!(out.join("tls-etcd").join(f).is_file(), "{f}");
    }
    assert_eq!(mode(&out.join("tls-etcd/etcd.key")), 0o600);
    let minio_svc = &o["services"]["minio"];
    assert_eq!(
        strs(&minio_svc["volumes"]),
        ["./tls-minio:/root/.minio/certs:ro"]
    );
    assert!(
        strs(&minio_svc["healthcheck"]["test"])
            .iter()
            .any(|a| a.starts_with("https://localhost:9000"))
    );
    assert_eq!(
        fs::read(out.join("tls-minio/public.crt")).unwrap(),
        fs::read(dir.join("s3.pem")).unwrap()
    );
    assert_eq!(mode(&out.join("tls-minio/private.key")), 0o600);
    assert!(out.join("tls-minio/CAs/ca.pem").is_file());
    // The certificates the services serve name them: checked by OpenSSL.
    assert!(openssl_ok(
        &out,
        &[
            "verify",
            "-CAfile",
            "tls-etcd/ca.pem",
            "-verify_hostname",
            "etcd",
            "tls-etcd/etcd.pem"
        ]
    ));
    assert!(openssl_ok(
        &out,
        &[
            "verify",
            "-CAfile",
            "tls-minio/CAs/ca.pem",
            "-verify_hostname",
            "minio",
            "tls-minio/public.crt"
        ]
    ));
}

#[test]
fn names_and_files_are_checked_before_anything_is_written() {
    let d = gen_dir(&[]);
    let dir = d.path();
    let o = run(dir, &["export", "compose", "--etcd", "--out", "deploy"]);
    assert_one_error_line(&o, 1, &["etcd-client.pem", "milvus-certs add etcd-client"]);
    assert!(!dir.join("deploy").exists());
    run_ok(dir, &["add", "etcd-client"]);
    let o = run(dir, &["export", "compose", "--etcd", "--out", "deploy"]);
    assert_one_error_line(&o, 1, &["etcd.pem", "milvus-certs add etcd"]);
    // An etcd certificate without 127.0.0.1 (the healthcheck's address).
    run_ok(dir, &["add", "etcd", "--no-localhost"]);
    let o = run(dir, &["export", "compose", "--etcd", "--out", "deploy"]);
    let line = assert_one_error_line(
        &o,
        1,
        &[
            "etcd.pem",
            "127.0.0.1",
            "milvus-certs renew --only etcd --san 127.0.0.1",
        ],
    );
    assert!(!dir.join("deploy").exists(), "{line}");
    // The fix, run as printed, makes it work.
    run_ok(dir, &["renew", "--only", "etcd", "--san", "127.0.0.1"]);
    run_ok(dir, &["export", "compose", "--etcd", "--out", "deploy"]);
    // An S3 certificate without localhost (MinIO's healthcheck's name).
    run_ok(dir, &["add", "s3", "--no-localhost"]);
    let o = run(dir, &["export", "compose", "--s3", "--out", "deploy2"]);
    assert_one_error_line(
        &o,
        1,
        &[
            "s3.pem",
            "localhost",
            "milvus-certs renew --only s3 --san localhost",
        ],
    );
    assert!(!dir.join("deploy2").exists());
    // Dependencies' files are not in cert-manager's Secret.
    let o = run(dir, &["export", "helm", "--etcd", "--cert-manager"]);
    assert_one_error_line(&o, 2, &["--cert-manager", "export k8s-secret"]);
}

#[test]
fn kubernetes_targets_carry_the_files_and_the_release_names() {
    let d = stack_dir();
    let dir = d.path();
    let out = run_ok(dir, &["export", "k8s-secret", "--etcd", "--s3", "--kafka"]);
    let secret = YamlLoader::load_from_str(&String::from_utf8_lossy(&out.stdout))
        .unwrap()
        .remove(0);
    let keys: Vec<String> = secret["data"]
        .as_hash()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap().to_string())
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "kubectl's order");
    for k in [
        "ca-bundle.crt",
        "etcd-client.key",
        "etcd-client.pem",
        "kafka-client.key",
        "kafka-client.pem",
        "server.pem",
    ] {
        assert!(keys.contains(&k.to_string()), "{k} not in {keys:?}");
    }
    let out = run_ok(
        dir,
        &["export", "operator", "--etcd", "--s3", "--release", "r1"],
    );
    let op = YamlLoader::load_from_str(&String::from_utf8_lossy(&out.stdout))
        .unwrap()
        .remove(0);
    let cfg = &op["spec"]["config"];
    assert_eq!(
        cfg["etcd"]["endpoints"].as_str(),
        Some("https://r1-etcd:2379")
    );
    assert_eq!(
        cfg["etcd"]["ssl"]["tlsCert"].as_str(),
        Some("/certs/etcd-client.pem")
    );
    assert_eq!(cfg["minio"]["address"].as_str(), Some("r1-minio"));
    let mounts = op["spec"]["components"]["volumeMounts"].as_vec().unwrap();
    assert!(mounts.iter().any(|m| m["mountPath"].as_str()
        == Some("/etc/ssl/certs/ca-certificates.crt")
        && m["subPath"].as_str() == Some("ca-bundle.crt")));
    let out = run_ok(dir, &["export", "helm", "--etcd"]);
    let values = YamlLoader::load_from_str(&String::from_utf8_lossy(&out.stdout))
        .unwrap()
        .remove(0);
    let user = YamlLoader::load_from_str(values["extraConfigFiles"]["user.yaml"].as_str().unwrap())
        .unwrap()
        .remove(0);
    assert_eq!(
        user["etcd"]["endpoints"].as_str(),
        Some("https://my-release-etcd:2379")
    );
    assert!(user["minio"].is_badvalue(), "--s3 not asked for");
}

/// docs/deploy.md's whole-stack recipes, run as printed (docker aside): every
/// `milvus-certs` line works, and what they write is what the text says.
#[test]
fn the_readme_stack_recipes_work_as_printed() {
    let readme =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/deploy.md")).unwrap();
    let section = readme
        .split("## The whole deployment")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("docs/deploy.md's whole-deployment section");
    let blocks: Vec<&str> = section
        .split("```sh\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .collect();
    assert_eq!(blocks.len(), 2, "the Compose and Kafka recipes");
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/milvus/milvus-2.3.5.yaml"),
        root.join("milvus-2.3.5.yaml"),
    )
    .unwrap();
    let bin = Path::new(BIN).parent().unwrap().display().to_string();
    let path = format!("{bin}:{}", std::env::var("PATH").unwrap_or_default());
    for block in &blocks {
        let script: Vec<&str> = block
            .lines()
            .filter(|l| l.starts_with("milvus-certs "))
            .collect();
        assert!(!script.is_empty(), "{block}");
        shell_ok(
            "sh",
            root,
            &format!("set -e\n{}", script.join("\n")),
            &[("PATH", &path)],
        );
    }
    let m = yaml(&root.join("milvus.yaml"));
    assert_eq!(m["etcd"]["endpoints"].as_str(), Some("https://etcd:2379"));
    assert_eq!(m["etcd"]["ssl"]["tlsMinVersion"].as_str(), Some("1.3"));
    assert_eq!(m["minio"]["useSSL"].as_bool(), Some(true));
    assert!(root.join("docker-compose.tls.yml").is_file());
    assert!(
        root.join("tls-etcd/etcd.pem").is_file() && root.join("tls-minio/public.crt").is_file()
    );
    assert!(root.join("deploy/kafka/kafka.keystore.p12").is_file());
}

/// `--kafka` and `export kafka` write Milvus's Kafka client settings with one
/// function, so they are the same but for the folder the files are mounted
/// at. Before, `--kafka` listed kafka.ssl's keys in another order (tlsCert,
/// tlsKey, tlsCaCert); Milvus reads them by name, so only the bytes changed.
#[test]
fn kafka_settings_are_the_same_for_compose_and_export_kafka() {
    let d = stack_dir();
    let dir = d.path();
    run_ok(dir, &["add", "kafka"]);
    run_ok(dir, &["export", "compose", "--kafka", "--out", "compose"]);
    run_ok(dir, &["export", "kafka", "--out", "kafka"]);
    let compose = yaml(&dir.join("compose/user.yaml"))["kafka"].clone();
    let text = fs::read_to_string(dir.join("kafka/milvus-kafka.yaml")).unwrap();
    let kafka = YamlLoader::load_from_str(&text.replace("/milvus/kafka/", "/milvus/tls/"))
        .unwrap()
        .remove(0)["kafka"]
        .clone();
    assert_eq!(compose, kafka);
    let keys: Vec<&str> = compose["ssl"]
        .as_hash()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert_eq!(keys, ["enabled", "tlsCaCert", "tlsCert", "tlsKey"]);
}
