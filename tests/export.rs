//! `milvus-certs export`: every target's YAML parsed with a YAML parser
//! (yaml-rust2) and asserted key by key, Secrets decoded with coreutils'
//! base64 byte for byte, file modes checked, and the client code and curl
//! commands run against a real TLS server.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::*;
use x509_parser::prelude::GeneralName;
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

fn yaml(out: &std::process::Output) -> Vec<Yaml> {
    YamlLoader::load_from_str(std::str::from_utf8(&out.stdout).unwrap()).unwrap()
}

/// The commands under "Next, in DIR:" of an `export --out` run.
fn next_steps(out: &std::process::Output) -> Vec<String> {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let (_, after) = stdout
        .split_once("\nNext, in ")
        .unwrap_or_else(|| panic!("no Next: {stdout}"));
    after
        .lines()
        .skip(1)
        .map(|l| {
            l.strip_prefix("  ")
                .unwrap_or_else(|| panic!("{l:?}"))
                .to_string()
        })
        .collect()
}

fn yaml_file(path: &Path) -> Vec<Yaml> {
    YamlLoader::load_from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

fn strs(v: &Yaml) -> Vec<&str> {
    v.as_vec()
        .unwrap_or_else(|| panic!("not a list: {v:?}"))
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect()
}

/// Asserts the Milvus settings of the guide, with files under `base`.
fn assert_milvus_config(c: &Yaml, base: &str, mode: i64, sni: Option<&str>) {
    assert_eq!(c["proxy"]["http"]["port"].as_i64(), Some(8080));
    assert_eq!(c["common"]["security"]["tlsMode"].as_i64(), Some(mode));
    let blocks: &[&str] = if sni.is_some() {
        &["tls", "internaltls"]
    } else {
        &["tls"]
    };
    for block in blocks {
        assert_eq!(
            c[*block]["serverPemPath"].as_str(),
            Some(format!("{base}/server.pem").as_str())
        );
        assert_eq!(
            c[*block]["serverKeyPath"].as_str(),
            Some(format!("{base}/server.key").as_str())
        );
        assert_eq!(
            c[*block]["caPemPath"].as_str(),
            Some(format!("{base}/ca.pem").as_str())
        );
    }
    match sni {
        Some(sni) => {
            assert_eq!(
                c["common"]["security"]["internaltlsEnabled"].as_bool(),
                Some(true)
            );
            assert_eq!(c["internaltls"]["sni"].as_str(), Some(sni));
        }
        None => {
            assert!(c["internaltls"].is_badvalue());
            assert!(c["common"]["security"]["internaltlsEnabled"].is_badvalue());
        }
    }
}

/// The guide's volume: the Secret at /certs, read-only; with cert-manager,
/// its keys mapped to the guide's file names.
fn assert_certs_volume(volumes: &Yaml, mounts: &Yaml, secret: &str, cert_manager: bool) {
    let v = &volumes[0];
    assert_eq!(volumes.as_vec().unwrap().len(), 1);
    assert_eq!(v["name"].as_str(), Some("certs"));
    assert_eq!(v["secret"]["secretName"].as_str(), Some(secret));
    if cert_manager {
        let items: Vec<(&str, &str)> = v["secret"]["items"]
            .as_vec()
            .unwrap()
            .iter()
            .map(|i| (i["key"].as_str().unwrap(), i["path"].as_str().unwrap()))
            .collect();
        assert_eq!(
            items,
            [
                ("tls.crt", "server.pem"),
                ("tls.key", "server.key"),
                ("ca.crt", "ca.pem")
            ]
        );
    } else {
        assert!(v["secret"]["items"].is_badvalue());
    }
    let m = &mounts[0];
    assert_eq!(m["name"].as_str(), Some("certs"));
    assert_eq!(m["mountPath"].as_str(), Some("/certs"));
    assert_eq!(m["readOnly"].as_bool(), Some(true));
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
    let doc = &YamlLoader::load_from_str(&fs::read_to_string(&path).unwrap()).unwrap()[0];
    assert_eq!(doc["metadata"]["name"].as_str(), Some("tls"));
}

#[test]
fn bad_input_is_one_clear_error() {
    let d = gen_dir(&["--key-type", "ecdsa-p256"]);
    let dir = d.path();
    assert_one_error_line(
        &run(dir, &["export", "k8s-secret", "--name", "Certs"]),
        2,
        &["--name", "lowercase"],
    );
    assert_one_error_line(
        &run(dir, &["export", "k8s-secret", "--namespace", "a.b"]),
        2,
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
    let staging = dir.join(STAGING_DIR);
    fs::create_dir(&staging).unwrap();
    fs::write(staging.join("server.pem"), "half-written").unwrap();
    let out = run_ok(dir, &["export", "k8s-secret"]);
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("note: an earlier run was interrupted before it committed")
    );
    assert!(!staging.exists());
    let doc = &yaml(&out)[0];
    assert_eq!(doc["kind"].as_str(), Some("Secret"));
}

#[test]
fn compose_writes_the_guides_layout() {
    let d = gen_dir(&["--key-type", "ecdsa-p256"]);
    let dir = d.path();
    // A multi-file target needs --out, and says so.
    assert_one_error_line(&run(dir, &["export", "compose"]), 2, &["--out"]);
    let made = run_ok(
        dir,
        &[
            "export",
            "compose",
            "--out",
            "deploy",
            "--mode",
            "2",
            "--internal",
        ],
    );
    let out = dir.join("deploy");
    let abs = fs::canonicalize(dir).unwrap();
    let next = next_steps(&made);
    assert_eq!(
        next[0],
        format!(
            "# Milvus 2.3 and earlier do not read user.yaml: for them run `milvus-certs export compose \
             --dir {} --mode 2 --internal --sni localhost --milvus-config RELEASE-milvus.yaml --out . --force` \
             with the full milvus.yaml of your release (kept elsewhere: the input is never overwritten)",
            abs.display()
        )
    );
    assert_eq!(
        next[1..],
        [
            "docker compose -f docker-compose.yml -f docker-compose.tls.yml up -d".to_string(),
            format!(
                "milvus-certs inspect --connect localhost:19530 --dir {}",
                abs.display()
            ),
        ]
    );
    // The fragment's first comment says which releases need --milvus-config.
    let fragment = fs::read_to_string(out.join("user.yaml")).unwrap();
    assert!(
        fragment.starts_with("# TLS settings for Milvus"),
        "{fragment}"
    );
    assert!(
        fragment.contains("Milvus 2.3 and\n# earlier do not read user.yaml")
            && fragment.contains("--milvus-config"),
        "{fragment}"
    );
    assert!(!out.join("milvus.yaml").exists());
    for (f, m) in [
        ("tls/server.pem", 0o644),
        ("tls/server.key", 0o600),
        ("tls/ca.pem", 0o644),
        ("user.yaml", 0o644),
        ("docker-compose.tls.yml", 0o644),
    ] {
        assert_eq!(mode(&out.join(f)), m, "{f}");
    }
    for f in ["server.pem", "server.key", "ca.pem"] {
        assert_eq!(
            fs::read(out.join("tls").join(f)).unwrap(),
            fs::read(dir.join(f)).unwrap(),
            "{f}"
        );
    }
    let config = &yaml_file(&out.join("user.yaml"))[0];
    assert_milvus_config(config, "/milvus/tls", 2, Some("localhost"));
    let compose = &yaml_file(&out.join("docker-compose.tls.yml"))[0];
    let standalone = &compose["services"]["standalone"];
    assert_eq!(
        strs(&standalone["volumes"]),
        [
            "./tls:/milvus/tls:ro",
            "./user.yaml:/milvus/configs/user.yaml:ro"
        ]
    );
    assert_eq!(strs(&standalone["ports"]), ["8080:8080"]);

    // Nothing is replaced without --force; the files stay byte for byte.
    let before = snapshot(&out);
    assert_one_error_line(
        &run(dir, &["export", "compose", "--out", "deploy"]),
        1,
        &["user.yaml", "already exist", "--force"],
    );
    assert_eq!(snapshot(&out), before);
    run_ok(dir, &["export", "compose", "--out", "deploy", "--force"]);
    let config = &yaml_file(&out.join("user.yaml"))[0];
    assert_milvus_config(config, "/milvus/tls", 1, None);
}

#[test]
fn operator_resource_has_the_guides_config_and_volume() {
    let d = gen_dir(&["--key-type", "ecdsa-p256", "--san", "milvus-proxy"]);
    let dir = d.path();
    let doc = &yaml(&run_ok(dir, &["export", "operator"]))[0];
    assert_eq!(doc["apiVersion"].as_str(), Some("milvus.io/v1beta1"));
    assert_eq!(doc["kind"].as_str(), Some("Milvus"));
    assert_eq!(doc["metadata"]["name"].as_str(), Some("my-release"));
    assert!(doc["metadata"]["namespace"].is_badvalue());
    assert_milvus_config(&doc["spec"]["config"], "/certs", 1, None);
    let c = &doc["spec"]["components"];
    assert_certs_volume(&c["volumes"], &c["volumeMounts"], "certs", false);

    let doc = &yaml(&run_ok(
        dir,
        &[
            "export",
            "operator",
            "--mode",
            "2",
            "--internal",
            "--sni",
            "milvus-proxy",
            "--release",
            "prod",
            "--namespace",
            "milvus",
            "--secret",
            "milvus-tls",
            "--cert-manager",
        ],
    ))[0];
    assert_eq!(doc["metadata"]["name"].as_str(), Some("prod"));
    assert_eq!(doc["metadata"]["namespace"].as_str(), Some("milvus"));
    assert_milvus_config(&doc["spec"]["config"], "/certs", 2, Some("milvus-proxy"));
    let c = &doc["spec"]["components"];
    assert_certs_volume(&c["volumes"], &c["volumeMounts"], "milvus-tls", true);
    assert_one_error_line(
        &run(dir, &["export", "operator", "--release", "My_Release"]),
        2,
        &["--release", "Kubernetes name"],
    );
}

#[test]
fn helm_values_hold_user_yaml_and_the_volume() {
    let d = gen_dir(&["--key-type", "ecdsa-p256"]);
    let dir = d.path();
    let out = run_ok(dir, &["export", "helm", "--mode", "1", "--internal"]);
    let doc = &yaml(&out)[0];
    // user.yaml is a string holding YAML: parse it too.
    let user = doc["extraConfigFiles"]["user.yaml"].as_str().unwrap();
    let config = &YamlLoader::load_from_str(user).unwrap()[0];
    assert_milvus_config(config, "/certs", 1, Some("localhost"));
    assert_certs_volume(&doc["volumes"], &doc["volumeMounts"], "certs", false);

    // --out writes values-tls.yaml, the same document.
    run_ok(
        dir,
        &["export", "helm", "--mode", "1", "--internal", "--out", "h"],
    );
    assert_eq!(
        fs::read(dir.join("h/values-tls.yaml")).unwrap(),
        out.stdout,
        "--out and stdout give the same file"
    );
}

#[test]
fn cert_manager_issues_from_this_ca_with_the_servers_names() {
    let d = gen_dir(&[
        "--san",
        "10.0.0.5",
        "--san",
        "milvus-proxy",
        "--days",
        "365",
    ]);
    let dir = d.path();
    assert_one_error_line(&run(dir, &["export", "cert-manager"]), 2, &["--out"]);
    let out = run_ok(
        dir,
        &[
            "export",
            "cert-manager",
            "--namespace",
            "milvus",
            "--out",
            "cm",
            "--mode",
            "2",
        ],
    );
    // The suggested helm command installs Milvus where the Secret is.
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(
            "helm upgrade --install my-release milvus/milvus -n milvus -f values-cert-manager.yaml"
        ),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let path = dir.join("cm/cert-manager.yaml");
    assert_eq!(mode(&path), 0o600, "it holds ca.key");
    let docs = yaml_file(&path);
    assert_eq!(docs.len(), 3);
    let (secret, issuer, cert) = (&docs[0], &docs[1], &docs[2]);
    for doc in &docs {
        assert_eq!(doc["metadata"]["namespace"].as_str(), Some("milvus"));
    }

    assert_eq!(secret["kind"].as_str(), Some("Secret"));
    assert_eq!(secret["type"].as_str(), Some("kubernetes.io/tls"));
    assert_eq!(
        base64_decode(secret["data"]["tls.crt"].as_str().unwrap()),
        fs::read(dir.join("ca.pem")).unwrap()
    );
    assert_eq!(
        base64_decode(secret["data"]["tls.key"].as_str().unwrap()),
        fs::read(dir.join("ca.key")).unwrap()
    );

    assert_eq!(issuer["apiVersion"].as_str(), Some("cert-manager.io/v1"));
    assert_eq!(issuer["kind"].as_str(), Some("Issuer"));
    assert_eq!(
        issuer["spec"]["ca"]["secretName"].as_str(),
        secret["metadata"]["name"].as_str()
    );

    assert_eq!(cert["kind"].as_str(), Some("Certificate"));
    let spec = &cert["spec"];
    assert_eq!(spec["secretName"].as_str(), Some("certs"));
    assert_eq!(
        spec["issuerRef"]["name"].as_str(),
        issuer["metadata"]["name"].as_str()
    );
    assert_eq!(spec["issuerRef"]["kind"].as_str(), Some("Issuer"));
    // The names, subject and lifetime of the server certificate.
    let der = cert_der(&dir.join("server.pem"));
    let server = parse(&der);
    let mut dns = Vec::new();
    let mut ips = Vec::new();
    for n in &server
        .subject_alternative_name()
        .unwrap()
        .unwrap()
        .value
        .general_names
    {
        match n {
            GeneralName::DNSName(d) => dns.push(d.to_string()),
            GeneralName::IPAddress(b) => ips.push(match b.len() {
                4 => std::net::Ipv4Addr::from(<[u8; 4]>::try_from(*b).unwrap()).to_string(),
                _ => std::net::Ipv6Addr::from(<[u8; 16]>::try_from(*b).unwrap()).to_string(),
            }),
            _ => {}
        }
    }
    assert_eq!(strs(&spec["dnsNames"]), dns);
    assert_eq!(strs(&spec["ipAddresses"]), ips);
    assert_eq!(dns, ["localhost", "milvus-proxy"]);
    // gen's loopback addresses for `localhost` are issued by cert-manager too.
    assert_eq!(ips[..2], ["127.0.0.1", "::1"]);
    assert_eq!(spec["commonName"].as_str(), Some("localhost"));
    assert_eq!(strs(&spec["subject"]["organizations"]), ["zilliz"]);
    assert_eq!(strs(&spec["subject"]["localities"]), ["Redwood City"]);
    assert_eq!(spec["duration"].as_str(), Some("8760h"));
    assert_eq!(spec["renewBefore"].as_str(), Some("720h"));
    let key = &spec["privateKey"];
    assert_eq!(key["algorithm"].as_str(), Some("RSA"));
    assert_eq!(key["size"].as_i64(), Some(2048));
    assert_eq!(key["encoding"].as_str(), Some("PKCS8"));
    assert_eq!(
        strs(&spec["usages"]),
        [
            "digital signature",
            "content commitment",
            "key encipherment",
            "server auth"
        ]
    );

    // Helm values that mount cert-manager's Secret under the guide's names.
    let values = &yaml_file(&dir.join("cm/values-cert-manager.yaml"))[0];
    let user = values["extraConfigFiles"]["user.yaml"].as_str().unwrap();
    assert_milvus_config(
        &YamlLoader::load_from_str(user).unwrap()[0],
        "/certs",
        2,
        None,
    );
    assert_certs_volume(&values["volumes"], &values["volumeMounts"], "certs", true);
}

#[test]
fn internal_tls_sni_must_be_a_dns_name_of_the_server() {
    let d = gen_dir(&[
        "--key-type",
        "ecdsa-p256",
        "--san",
        "milvus-proxy",
        "--san",
        "10.0.0.5",
    ]);
    let dir = d.path();
    let before = snapshot(dir);
    let err = assert_one_error_line(
        &run(
            dir,
            &["export", "helm", "--internal", "--sni", "milvus-datanode"],
        ),
        2,
        &[
            "--sni",
            "milvus-datanode",
            "server.pem",
            "localhost, milvus-proxy",
        ],
    );
    assert!(!err.contains("10.0.0.5"), "an IP cannot be an SNI: {err}");
    assert_one_error_line(
        &run(dir, &["export", "helm", "--internal", "--sni", "10.0.0.5"]),
        2,
        &["--sni"],
    );
    // --sni means nothing without --internal: a usage error.
    let out = run(dir, &["export", "helm", "--sni", "localhost"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(snapshot(dir), before);
}

/// The guide's client.pem has serverAuth only: Milvus with tlsMode 2 (Go
/// crypto/tls) rejects it. Exporting mode 2 for it must fail and say why.
#[test]
fn mode_2_refuses_a_client_certificate_without_client_auth() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    for f in SEVEN {
        fs::copy(fixtures().join("openssl/guide").join(f), dir.join(f)).unwrap();
    }
    let before = snapshot(dir);
    for target in ["compose", "operator", "helm", "client"] {
        assert_one_error_line(
            &run(dir, &["export", target, "--mode", "2", "--out", "deploy"]),
            1,
            &[
                "client.pem",
                "clientAuth",
                "incompatible key usage",
                "renew --only client",
            ],
        );
        assert!(!dir.join("deploy").exists(), "{target} made its --out");
    }
    assert_eq!(snapshot(dir), before);
    // One-way TLS works with the guide's files.
    let doc = &yaml(&run_ok(dir, &["export", "helm"]))[0];
    assert!(doc["extraConfigFiles"]["user.yaml"].as_str().is_some());
}

/// A stand-in for pymilvus that does what it does with these arguments
/// (gRPC's ssl_channel_credentials: root certificates, client key pair,
/// server_name as the name to verify), with Python's ssl module.
const FAKE_PYMILVUS: &str = r#"
import os, socket, ssl, urllib.parse
class MilvusClient:
    def __init__(self, uri, secure=False, server_name=None, server_pem_path=None,
                 client_pem_path=None, client_key_path=None, ca_pem_path=None):
        assert secure is True
        u = urllib.parse.urlparse(uri)
        assert u.scheme == "https" and u.port == 19530, uri
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        if client_pem_path:
            # pymilvus's two-way branch needs all three files
            ctx.load_verify_locations(ca_pem_path)
            ctx.load_cert_chain(client_pem_path, client_key_path)
        else:
            ctx.load_verify_locations(server_pem_path)
        port = int(os.environ["TEST_PORT"])
        with socket.create_connection((u.hostname, port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname=server_name) as t:
                t.sendall(b"GET /grpc HTTP/1.0\r\n\r\n")
                reply = t.recv(64)
                assert reply.startswith(b"HTTP/1.0 200"), reply
        print("connected")
"#;

fn run_client_py(app: &Path, port: u16) -> std::process::Output {
    fs::write(app.join("pymilvus.py"), FAKE_PYMILVUS).unwrap();
    let mut cmd = Command::new("timeout");
    cmd.args(["30", "python3", "client.py"])
        .current_dir(app)
        .env("PYTHONPATH", app)
        .env("TEST_PORT", port.to_string());
    cmd.output().unwrap()
}

#[test]
fn client_code_and_curl_connect_to_a_real_tls_server() {
    let d = gen_dir(&["--key-type", "ecdsa-p256"]);
    let dir = d.path();
    for (tls_mode, mutual) in [("1", false), ("2", true)] {
        let server = py_tls_server(dir, mutual);
        let port = server.port.to_string();
        let app = dir.join(format!("app{tls_mode}"));
        let out = run_ok(
            dir,
            &[
                "export",
                "client",
                "--mode",
                tls_mode,
                "--http-port",
                &port,
                "--out",
                app.to_str().unwrap(),
            ],
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("curl.sh"));
        assert_eq!(mode(&app.join("curl.sh")), 0o755);

        let py = run_client_py(&app, server.port);
        assert!(
            py.status.success() && py.stdout.starts_with(b"connected"),
            "mode {tls_mode}: {}",
            String::from_utf8_lossy(&py.stderr)
        );
        let curl = shell_ok("sh", &app, "sh curl.sh", &[]);
        let body = String::from_utf8_lossy(&curl.stdout);
        assert!(
            body.contains("\"path\": \"/v2/vectordb/collections/list\""),
            "{body}"
        );
    }

    // The check can fail: one-way code against a server that requires a
    // client certificate is refused.
    let server = py_tls_server(dir, true);
    let py = run_client_py(&dir.join("app1"), server.port);
    assert!(!py.status.success());
}

#[test]
fn client_host_must_be_a_name_of_the_server() {
    let d = gen_dir(&["--key-type", "ecdsa-p256", "--san", "127.0.0.1"]);
    let dir = d.path();
    assert_one_error_line(
        &run(dir, &["export", "client", "--host", "milvus-proxy"]),
        2,
        &[
            "--host",
            "milvus-proxy",
            "server.pem",
            "localhost, 127.0.0.1",
            "`milvus-certs renew --only server --san milvus-proxy`",
        ],
    );
    let text = String::from_utf8(run_ok(dir, &["export", "client", "--host", "127.0.0.1"]).stdout)
        .unwrap();
    assert!(text.contains("uri=\"https://127.0.0.1:19530\""), "{text}");
    assert!(text.contains("server_name=\"127.0.0.1\""), "{text}");
    // Paths are absolute, so the code runs from anywhere.
    let ca = dir.canonicalize().unwrap().join("ca.pem");
    assert!(
        text.contains(&format!("server_pem_path=\"{}\"", ca.display())),
        "{text}"
    );
}

/// Issue 5: docs/deploy.md's `milvus-certs` commands in the export, client and
/// completion sections run as written (with `milvus-certs` on PATH, in a
/// directory holding `cert/`). Pipes into kubectl and the lines for other
/// tools are left out; absolute output paths are moved into the temp dir.
#[test]
fn readme_export_commands_work_as_written() {
    let readme =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/deploy.md")).unwrap();
    let start = readme.find("## `milvus-certs export`").unwrap();
    let end = readme.len();
    // The whole-deployment recipes start from a new folder: tests/stack.rs
    // runs them.
    let mut section = readme[start..end].to_string();
    if let Some(a) = section.find("## The whole deployment") {
        let b = section[a + 3..]
            .find("\n## ")
            .map_or(section.len(), |b| a + 3 + b + 1);
        section.replace_range(a..b, "");
    }
    let mut commands = Vec::new();
    let mut in_sh = false;
    for line in section.lines() {
        if line.starts_with("```") {
            in_sh = line == "```sh";
            continue;
        }
        if in_sh && line.starts_with("milvus-certs ") {
            // What goes to kubectl is checked by parsing elsewhere.
            let cmd = line.split(" | ").next().unwrap();
            let cmd = cmd.split("  #").next().unwrap().trim_end();
            commands.push(
                cmd.replace(" /usr/local/share/man/man1", " man1")
                    .replace(" /etc/bash_completion.d/milvus-certs", " milvus-certs.bash"),
            );
        }
    }
    assert!(commands.len() >= 12, "{commands:?}");
    for c in &commands {
        assert!(
            !c.contains(" /"),
            "an absolute path would leave the temp dir: {c}"
        );
    }

    let d = tempfile::tempdir().unwrap();
    let cert = d.path().join("cert");
    fs::create_dir(&cert).unwrap();
    run_ok(
        &cert,
        &[
            "gen",
            "--key-type",
            "ecdsa-p256",
            "--san",
            "milvus.example.com",
        ],
    );
    // The release's milvus.yaml the README downloads.
    fs::copy(
        fixtures().join("milvus/milvus-2.3.5.yaml"),
        d.path().join("milvus-2.3.5.yaml"),
    )
    .unwrap();
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap());
    for c in &commands {
        let out = Command::new("sh")
            .args(["-c", c])
            .current_dir(d.path())
            .env("PATH", &path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "README command failed: {c}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Each run that writes --out wrote new files: clear them so the
        // next command in the README (same --out) is not refused.
        for dir in ["deploy", "app", "man1"] {
            let _ = fs::remove_dir_all(d.path().join(dir));
        }
    }
    // `export compose --out .` wrote next to where docker-compose.yml is.
    assert!(d.path().join("docker-compose.tls.yml").exists());
}

/// A server certificate from another CA would fail with "unknown
/// authority"; a missing client.pem with --mode 2 is only a warning for a
/// deployment (clients may keep theirs elsewhere), but an error for the
/// client code, which needs it.
#[test]
fn chain_and_client_files_are_checked() {
    let d = gen_dir(&["--key-type", "ecdsa-p256"]);
    let dir = d.path();
    let other = gen_dir(&["--key-type", "ecdsa-p256"]);
    fs::copy(other.path().join("ca.pem"), dir.join("ca.pem")).unwrap();
    assert_one_error_line(
        &run(dir, &["export", "k8s-secret"]),
        1,
        &[
            "server.pem was not issued by",
            "ca.pem",
            "unknown authority",
        ],
    );

    let d = gen_dir(&["--key-type", "ecdsa-p256"]);
    let dir = d.path();
    fs::remove_file(dir.join("client.pem")).unwrap();
    let out = run_ok(dir, &["export", "helm", "--mode", "2"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("warning: ") && stderr.contains("client.pem is missing"),
        "{stderr}"
    );
    let doc = &yaml(&out)[0];
    assert!(
        doc["extraConfigFiles"]["user.yaml"]
            .as_str()
            .unwrap()
            .contains("tlsMode: 2")
    );
    assert_one_error_line(
        &run(dir, &["export", "client", "--mode", "2"]),
        1,
        &["client.pem is missing", "renew --only client"],
    );
}

#[test]
fn client_for_ed25519_certificates_warns_about_grpcio() {
    let d = gen_dir(&["--key-type", "ed25519"]);
    let out = run_ok(d.path(), &["export", "client"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("server.pem has an Ed25519 key: pymilvus and other grpcio-based clients cannot use Ed25519 TLS"),
        "{stderr}"
    );
    // Not for other key types.
    let d = gen_dir(&["--key-type", "ecdsa-p256"]);
    let out = run_ok(d.path(), &["export", "client"]);
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Sets `keys` to `value` in a parsed document: an existing key in place,
/// a new one at the end of its mapping (the order the file keeps).
fn set_in(doc: &mut Yaml, keys: &[&str], value: Yaml) {
    let Yaml::Hash(h) = doc else {
        panic!("not a mapping")
    };
    let key = Yaml::String(keys[0].to_string());
    if keys.len() == 1 {
        match h.get_mut(&key) {
            Some(v) => *v = value,
            None => {
                h.insert(key, value);
            }
        }
        return;
    }
    if !matches!(h.get(&key), Some(Yaml::Hash(_))) {
        h.insert(key.clone(), Yaml::Hash(Default::default()));
    }
    set_in(h.get_mut(&key).unwrap(), &keys[1..], value);
}

/// `--milvus-config`: Milvus 2.3.5's own default milvus.yaml (from the
/// `milvus` wheel) copied with the TLS keys set; parsed, it is the input
/// with exactly those keys changed, and every comment line of the input is
/// still there, in order.
#[test]
fn compose_milvus_config_copies_the_release_file_with_only_tls_changed() {
    let d = gen_dir(&["--key-type", "ecdsa-p256"]);
    let dir = d.path();
    let input_path = fixtures().join("milvus/milvus-2.3.5.yaml");
    fs::copy(&input_path, dir.join("release.yaml")).unwrap();
    let input = fs::read_to_string(&input_path).unwrap();
    let made = run_ok(
        dir,
        &[
            "export",
            "compose",
            "--milvus-config",
            "release.yaml",
            "--out",
            "deploy",
            "--mode",
            "2",
            "--internal",
        ],
    );
    assert_eq!(fs::read_to_string(dir.join("release.yaml")).unwrap(), input);
    let out = dir.join("deploy");
    assert!(!out.join("user.yaml").exists());
    let written = fs::read_to_string(out.join("milvus.yaml")).unwrap();
    assert!(written.starts_with("# release.yaml with the TLS settings of milvus-certs"));

    let mut want = YamlLoader::load_from_str(&input).unwrap().remove(0);
    assert_eq!(want["common"]["security"]["tlsMode"].as_i64(), Some(0));
    assert!(want["proxy"]["http"]["port"].is_badvalue());
    for (keys, value) in [
        (&["proxy", "http", "port"][..], Yaml::Integer(8080)),
        (&["common", "security", "tlsMode"], Yaml::Integer(2)),
        (
            &["common", "security", "internaltlsEnabled"],
            Yaml::Boolean(true),
        ),
        (
            &["tls", "serverPemPath"],
            Yaml::String("/milvus/tls/server.pem".into()),
        ),
        (
            &["tls", "serverKeyPath"],
            Yaml::String("/milvus/tls/server.key".into()),
        ),
        (
            &["tls", "caPemPath"],
            Yaml::String("/milvus/tls/ca.pem".into()),
        ),
        (
            &["internaltls", "serverPemPath"],
            Yaml::String("/milvus/tls/server.pem".into()),
        ),
        (
            &["internaltls", "serverKeyPath"],
            Yaml::String("/milvus/tls/server.key".into()),
        ),
        (
            &["internaltls", "caPemPath"],
            Yaml::String("/milvus/tls/ca.pem".into()),
        ),
        (&["internaltls", "sni"], Yaml::String("localhost".into())),
    ] {
        set_in(&mut want, keys, value);
    }
    let got = yaml_file(&out.join("milvus.yaml")).remove(0);
    assert_eq!(got, want);
    assert_milvus_config(&got, "/milvus/tls", 2, Some("localhost"));
    // Comments and order: the input's comment lines are all there, in order.
    let comments = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| l.contains('#'))
            .map(|l| l[l.find('#').unwrap()..].to_string())
            .collect()
    };
    let (before, after) = (comments(&input), comments(&written));
    let mut it = after.iter();
    for c in &before {
        assert!(it.any(|a| a == c), "comment {c:?} lost or moved");
    }
    // Only the edited lines differ: the input has 715 lines; 3 lines of
    // header, proxy.http.port, internaltlsEnabled and the internaltls block
    // (a blank line, the key, four entries) are new.
    assert_eq!(input.lines().count(), 715);
    assert_eq!(written.lines().count(), 715 + 3 + 1 + 1 + 6);

    let compose = &yaml_file(&out.join("docker-compose.tls.yml"))[0];
    assert_eq!(
        strs(&compose["services"]["standalone"]["volumes"]),
        [
            "./tls:/milvus/tls:ro",
            "./milvus.yaml:/milvus/configs/milvus.yaml:ro"
        ]
    );
    let next = next_steps(&made);
    assert_eq!(next.len(), 2, "{next:?}");
    assert!(next[1].starts_with("milvus-certs inspect --connect localhost:19530 --dir /"));

    // Never onto the input, even with --force; nothing changes.
    let before = snapshot(dir);
    assert_one_error_line(
        &run(
            dir,
            &[
                "export",
                "compose",
                "--milvus-config",
                "deploy/milvus.yaml",
                "--out",
                "deploy",
                "--force",
            ],
        ),
        2,
        &[
            "--out",
            "deploy/milvus.yaml",
            "--milvus-config",
            "never overwrites",
        ],
    );
    assert_eq!(snapshot(dir), before);
}

#[test]
fn compose_milvus_config_refuses_what_it_cannot_edit_in_one_line() {
    let d = gen_dir(&["--key-type", "ecdsa-p256"]);
    let dir = d.path();
    let cases: [(&str, &str, &[&str]); 5] = [
        (
            "bad.yaml",
            "etcd:\n  endpoints: x\nproxy: [\n  port: 1\n",
            &[
                "bad.yaml is not a Milvus configuration file (YAML): line ",
                "fix that line",
            ],
        ),
        (
            "flow.yaml",
            "tls: {serverPemPath: a}\n",
            &[
                "flow.yaml",
                "`tls` is `{serverPemPath: a}`, not a block mapping",
                "block-style",
            ],
        ),
        ("empty.yaml", "", &["empty.yaml", "it is empty"]),
        ("list.yaml", "- a\n", &["list.yaml", "not a mapping"]),
        (
            "missing.yaml",
            "",
            &[
                "missing.yaml is missing",
                "milvus.yaml of your Milvus release",
            ],
        ),
    ];
    for (name, text, needles) in cases {
        if name != "missing.yaml" {
            fs::write(dir.join(name), text).unwrap();
        }
        let before = snapshot(dir);
        assert_one_error_line(
            &run(
                dir,
                &[
                    "export",
                    "compose",
                    "--milvus-config",
                    name,
                    "--out",
                    "deploy",
                ],
            ),
            1,
            needles,
        );
        assert_eq!(snapshot(dir), before, "{name}: nothing written");
    }
}

/// cert-manager: the namespace is on every command, the Opaque Secret is
/// deleted first, and the last step checks TLS with the CA.
#[test]
fn cert_manager_next_steps_carry_the_namespace() {
    let d = gen_dir(&["--key-type", "ecdsa-p256", "--san", "milvus.example.com"]);
    let dir = d.path();
    let made = run_ok(
        dir,
        &[
            "export",
            "cert-manager",
            "--namespace",
            "milvus",
            "--out",
            "deploy",
        ],
    );
    let abs = fs::canonicalize(dir).unwrap();
    assert_eq!(
        next_steps(&made),
        [
            "kubectl delete secret certs -n milvus --ignore-not-found   # if export k8s-secret made it: cert-manager's is of type kubernetes.io/tls".to_string(),
            "kubectl apply -n milvus -f cert-manager.yaml".to_string(),
            "helm upgrade --install my-release milvus/milvus -n milvus -f values-cert-manager.yaml".to_string(),
            format!("milvus-certs inspect --connect localhost:19530 --dir {}", abs.display()),
        ]
    );
    // Without a namespace, no -n.
    let made = run_ok(dir, &["export", "cert-manager", "--out", "deploy2"]);
    assert!(next_steps(&made).iter().all(|c| !c.contains(" -n ")));
}

/// The check step verifies the name clients use: Compose connects to
/// localhost, so a certificate without that name gets `--server-name`;
/// `client` checks its --host and port. Both work as printed against a
/// real TLS server (here openssl s_server with the same files).
#[test]
fn next_check_names_the_server_when_localhost_is_not_on_it() {
    let d = gen_dir(&[
        "--key-type",
        "ecdsa-p256",
        "--common-name",
        "milvus.example.com",
    ]);
    let dir = d.path();
    let abs = fs::canonicalize(dir).unwrap();
    let made = run_ok(dir, &["export", "compose", "--out", "deploy"]);
    assert_eq!(
        next_steps(&made).last().unwrap(),
        &format!(
            "milvus-certs inspect --connect localhost:19530 --dir {} --server-name milvus.example.com",
            abs.display()
        )
    );
    let made = run_ok(
        dir,
        &["export", "client", "--port", "19999", "--out", "app"],
    );
    assert_eq!(
        next_steps(&made).last().unwrap(),
        &format!(
            "milvus-certs inspect --connect milvus.example.com:19999 --dir {}",
            abs.display()
        )
    );
    // The compose check, run as printed (with the port of a real server).
    let made = run_ok(dir, &["export", "compose", "--out", "deploy", "--force"]);
    let server = s_server(dir, &[]);
    let port = server.port.to_string();
    let cmd = next_steps(&made)
        .last()
        .unwrap()
        .replace("milvus-certs", "\"$BIN\"")
        .replace(":19530", &format!(":{port}"));
    let out = shell_ok("sh", dir, &cmd, &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("localhost:{port}  server  ok")),
        "{stdout}"
    );
}

/// Without `--out`, a target that writes several files says so with the
/// command as given plus `--out`, which works when copied.
#[test]
fn a_missing_out_names_the_command_that_works() {
    let d = tempfile::tempdir().unwrap();
    run_ok(d.path(), &["gen", "--dir", "my certs"]);
    let out = run(
        d.path(),
        &["export", "compose", "--dir", "my certs", "--mode", "2"],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let cmd = "milvus-certs export compose --dir 'my certs' --mode 2 --out deploy";
    assert!(err.contains(&format!("`{cmd}`")), "{err}");
    assert!(!d.path().join("deploy").exists());
    // As copied into a shell (the built binary in place of the name on PATH).
    let ran = std::process::Command::new("sh")
        .arg("-c")
        .arg(cmd.replacen("milvus-certs", BIN, 1))
        .current_dir(d.path())
        .output()
        .unwrap();
    assert!(
        ran.status.success(),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    assert!(d.path().join("deploy/user.yaml").exists());
}
