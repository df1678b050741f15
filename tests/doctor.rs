//! Issue 14: `doctor` reads a Milvus configuration in the four shapes users
//! have it (a milvus.yaml/user.yaml, Helm values, a Milvus operator resource,
//! a Compose file and the config it mounts) and reports each TLS mistake as a
//! finding with a stable code, the file, the key path and the line.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::*;
use serde_json::Value;

/// Where the certificates are mounted in the container.
const TARGET: &str = "/milvus/tls";

/// One shape: the file to pass, the file the Milvus keys are written in,
/// and the key path prefix of the Milvus settings there.
struct Shape {
    name: &'static str,
    arg: PathBuf,
    config: PathBuf,
    prefix: &'static str,
}

fn indent(text: &str, n: usize) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{}{l}", " ".repeat(n))
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// Writes `config` (a Milvus configuration, block style) in the four shapes
/// under `root`, each mounting the certificates (copied from `certs`, if
/// given, for Compose's bind mount) at [`TARGET`].
fn shapes(root: &Path, config: &str, image: &str, certs: Option<&Path>) -> Vec<Shape> {
    let dir = |n: &str| {
        let d = root.join(n);
        fs::create_dir_all(&d).unwrap();
        d
    };
    let plain = dir("config").join("user.yaml");
    fs::write(&plain, config).unwrap();

    let helm = dir("helm").join("values.yaml");
    fs::write(
        &helm,
        format!(
            "image:\n  all:\n    tag: {tag}\nextraConfigFiles:\n  user.yaml: |\n{}volumes:\n  - name: certs\n    secret:\n      secretName: certs\nvolumeMounts:\n  - name: certs\n    mountPath: {TARGET}\n    readOnly: true\n",
            indent(config, 4),
            tag = image.rsplit(':').next().unwrap(),
        ),
    )
    .unwrap();

    let operator = dir("operator").join("milvus.yaml");
    fs::write(
        &operator,
        format!(
            "apiVersion: milvus.io/v1beta1\nkind: Milvus\nmetadata:\n  name: my-release\nspec:\n  config:\n{}  components:\n    image: {image}\n    volumes:\n      - name: certs\n        secret:\n          secretName: certs\n    volumeMounts:\n      - name: certs\n        mountPath: {TARGET}\n",
            indent(config, 4)
        ),
    )
    .unwrap();

    let c = dir("compose");
    fs::write(c.join("user.yaml"), config).unwrap();
    fs::create_dir_all(c.join("certs")).unwrap();
    if let Some(certs) = certs {
        for e in fs::read_dir(certs).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_file() {
                fs::copy(e.path(), c.join("certs").join(e.file_name())).unwrap();
            }
        }
    }
    let compose = c.join("docker-compose.yml");
    fs::write(
        &compose,
        format!(
            "services:\n  etcd:\n    image: quay.io/coreos/etcd:v3.5.5\n  standalone:\n    image: {image}\n    volumes:\n      - ./certs:{TARGET}:ro\n      - type: bind\n        source: ./user.yaml\n        target: /milvus/configs/user.yaml\n    ports:\n      - \"19530:19530\"\n"
        ),
    )
    .unwrap();

    vec![
        Shape {
            name: "milvus-config",
            arg: plain.clone(),
            config: plain,
            prefix: "",
        },
        Shape {
            name: "helm",
            arg: helm.clone(),
            config: helm,
            prefix: "extraConfigFiles.user.yaml.",
        },
        Shape {
            name: "operator",
            arg: operator.clone(),
            config: operator,
            prefix: "spec.config.",
        },
        Shape {
            name: "compose",
            arg: compose,
            config: c.join("user.yaml"),
            prefix: "",
        },
    ]
}

const IMAGE: &str = "milvusdb/milvus:v2.5.4";

fn doctor(shape: &Shape, extra: &[&str]) -> (Output, Value) {
    let mut args = vec!["doctor", shape.arg.to_str().unwrap(), "--json"];
    args.extend_from_slice(extra);
    let out = run(Path::new("."), &args);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{}: not JSON ({e}): {}\n{}",
            shape.name,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out, doc)
}

fn all_findings(doc: &Value) -> Vec<&Value> {
    doc["problems"]
        .as_array()
        .unwrap()
        .iter()
        .chain(doc["warnings"].as_array().unwrap())
        .collect()
}

fn codes(doc: &Value) -> Vec<String> {
    all_findings(doc)
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

/// The 1-based line of the first line of `file` containing `needle`.
fn line_of(file: &Path, needle: &str) -> u64 {
    let text = fs::read_to_string(file).unwrap();
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle} not in {}", file.display())) as u64
        + 1
}

/// Requires a finding `code` about key `key` (after the shape's prefix) on
/// the line holding `needle` of the shape's config file; returns it.
fn expect<'a>(shape: &Shape, doc: &'a Value, code: &str, key: &str, needle: &str) -> &'a Value {
    let f = all_findings(doc)
        .into_iter()
        .find(|f| f["code"] == code)
        .unwrap_or_else(|| panic!("{}: no {code} in {doc:#}", shape.name));
    assert_eq!(
        f["key"].as_str().unwrap(),
        format!("{}{key}", shape.prefix),
        "{}: {f:#}",
        shape.name
    );
    assert_eq!(
        Path::new(f["file"].as_str().unwrap()).file_name(),
        shape.config.file_name(),
        "{}: {f:#}",
        shape.name
    );
    assert_eq!(
        f["line"].as_u64(),
        Some(line_of(&shape.config, needle)),
        "{}: {f:#}",
        shape.name
    );
    assert!(!f["message"].as_str().unwrap().is_empty());
    assert!(f["fix"].is_string(), "{}: {f:#}", shape.name);
    f
}

/// TLS on, with the REST port moved and the files mounted: healthy.
const GOOD_TLS: &str = "proxy:
  http:
    port: 8080
common:
  security:
    tlsMode: 1
tls:
  serverPemPath: /milvus/tls/server.pem
  serverKeyPath: /milvus/tls/server.key
  caPemPath: /milvus/tls/ca.pem
";

#[test]
fn a_healthy_configuration_passes_in_every_shape() {
    let certs = gen_dir(&[]);
    let root = tempfile::tempdir().unwrap();
    let config = GOOD_TLS.replace("tlsMode: 1", "tlsMode: 2\n    internaltlsEnabled: true")
        + "internaltls:\n  serverPemPath: /milvus/tls/server.pem\n  serverKeyPath: /milvus/tls/server.key\n  caPemPath: /milvus/tls/ca.pem\n  sni: localhost\n";
    for shape in shapes(root.path(), &config, IMAGE, Some(certs.path())) {
        let (out, doc) = doctor(&shape, &["--dir", certs.path().to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{}: {doc:#}", shape.name);
        assert_eq!(doc["status"], "ok");
        assert_eq!(
            doc["files"][0]["shape"], shape.name,
            "{}: {doc:#}",
            shape.name
        );
    }
}

#[test]
fn rest_port_left_on_the_grpc_port() {
    let root = tempfile::tempdir().unwrap();
    let config = GOOD_TLS.replace("proxy:\n  http:\n    port: 8080\n", "");
    for shape in shapes(root.path(), &config, IMAGE, None) {
        let (out, doc) = doctor(&shape, &[]);
        assert_eq!(out.status.code(), Some(2), "{}: {doc:#}", shape.name);
        let f = expect(
            &shape,
            &doc,
            "rest_port_shares_grpc_port",
            "common.security.tlsMode",
            "tlsMode",
        );
        assert!(
            f["message"]
                .as_str()
                .unwrap()
                .contains("share the same port, tls mode must be 0")
        );
        assert!(f["fix"].as_str().unwrap().contains("proxy.http.port: 8080"));
    }
    // Written, but the same as proxy.port: reported on that line.
    let config = GOOD_TLS.replace("port: 8080", "port: 19530");
    for shape in shapes(root.path(), &config, IMAGE, None) {
        let (_, doc) = doctor(&shape, &[]);
        expect(
            &shape,
            &doc,
            "rest_port_shares_grpc_port",
            "proxy.http.port",
            "port: 19530",
        );
    }
    // With the REST server off, there is no conflict.
    let config = GOOD_TLS.replace("port: 8080", "enabled: false");
    for shape in shapes(root.path(), &config, IMAGE, None) {
        let (out, doc) = doctor(&shape, &[]);
        assert_eq!(out.status.code(), Some(0), "{}: {doc:#}", shape.name);
    }
}

#[test]
fn tls_written_under_common() {
    let root = tempfile::tempdir().unwrap();
    // As the operator's samples have it.
    let config = "proxy:
  http:
    port: 8080
common:
  security:
    tlsMode: 1
  tls:
    serverPemPath: /milvus/tls/server.pem
    serverKeyPath: /milvus/tls/server.key
";
    for shape in shapes(root.path(), config, IMAGE, None) {
        let (out, doc) = doctor(&shape, &[]);
        assert_eq!(out.status.code(), Some(2), "{}: {doc:#}", shape.name);
        let f = expect(&shape, &doc, "tls_under_common", "common.tls", "  tls:");
        assert!(
            f["message"]
                .as_str()
                .unwrap()
                .contains("example certificates")
        );
        // The top-level keys are unset, so Milvus falls back to its examples;
        // moving the section fixes that too, so it is said once.
        assert_eq!(codes(&doc), ["tls_under_common"], "{doc:#}");
    }
}

#[test]
fn the_legacy_tls_enabled_key() {
    let root = tempfile::tempdir().unwrap();
    let config = "common:\n  security:\n    tlsEnabled: true\n";
    for shape in shapes(root.path(), config, IMAGE, None) {
        let (out, doc) = doctor(&shape, &[]);
        assert_eq!(out.status.code(), Some(2), "{}: {doc:#}", shape.name);
        expect(
            &shape,
            &doc,
            "legacy_tls_enabled",
            "common.security.tlsEnabled",
            "tlsEnabled",
        );
        assert!(!codes(&doc).contains(&"tls_disabled".to_string()));
    }
    // Alongside a tlsMode that turns TLS on: a warning.
    let config = GOOD_TLS.replace("tlsMode: 1", "tlsMode: 1\n    tlsEnabled: true");
    for shape in shapes(root.path(), &config, IMAGE, None) {
        let (out, doc) = doctor(&shape, &[]);
        assert_eq!(out.status.code(), Some(1), "{}: {doc:#}", shape.name);
        assert_eq!(doc["warnings"][0]["code"], "legacy_tls_enabled");
    }
}

#[test]
fn paths_at_the_example_certificates() {
    let root = tempfile::tempdir().unwrap();
    let config = GOOD_TLS
        .replace("/milvus/tls/server.pem", "/milvus/configs/cert/server.pem")
        .replace("/milvus/tls/server.key", "configs/cert/server.key");
    for shape in shapes(root.path(), &config, IMAGE, None) {
        let (out, doc) = doctor(&shape, &[]);
        assert_eq!(out.status.code(), Some(2), "{}: {doc:#}", shape.name);
        let f = expect(
            &shape,
            &doc,
            "example_certificate",
            "tls.serverPemPath",
            "serverPemPath",
        );
        assert!(f["message"].as_str().unwrap().contains("public"));
        let n = codes(&doc)
            .iter()
            .filter(|c| *c == "example_certificate")
            .count();
        assert_eq!(n, 2, "{}: {doc:#}", shape.name);
    }
}

#[test]
fn sni_not_among_the_server_certificates_sans() {
    let certs = gen_dir(&[]);
    let root = tempfile::tempdir().unwrap();
    // The server certificate's common name is localhost; its SANs are
    // localhost and the loopback addresses.
    let config = GOOD_TLS.replace("tlsMode: 1", "tlsMode: 1\n    internaltlsEnabled: true")
        + "internaltls:\n  serverPemPath: /milvus/tls/server.pem\n  serverKeyPath: /milvus/tls/server.key\n  caPemPath: /milvus/tls/ca.pem\n  sni: milvus.internal\n";
    for shape in shapes(root.path(), &config, IMAGE, Some(certs.path())) {
        let (out, doc) = doctor(&shape, &["--dir", certs.path().to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{}: {doc:#}", shape.name);
        let f = expect(
            &shape,
            &doc,
            "name_mismatch",
            "internaltls.sni",
            "sni: milvus.internal",
        );
        assert!(
            f["message"].as_str().unwrap().contains("milvus.internal"),
            "{f:#}"
        );
        assert!(f["fix"].as_str().unwrap().contains("--san milvus.internal"));
        assert_eq!(codes(&doc), ["name_mismatch"], "{}: {doc:#}", shape.name);
    }
}

#[test]
fn a_tls_path_no_volume_mounts() {
    let root = tempfile::tempdir().unwrap();
    let config = GOOD_TLS.replace("/milvus/tls/server.key", "/etc/milvus/certs/server.key");
    for shape in shapes(root.path(), &config, IMAGE, None) {
        let (out, doc) = doctor(&shape, &[]);
        if shape.name == "milvus-config" {
            // A milvus.yaml alone does not say what is mounted.
            assert_eq!(out.status.code(), Some(0), "{doc:#}");
            continue;
        }
        assert_eq!(out.status.code(), Some(2), "{}: {doc:#}", shape.name);
        let f = expect(
            &shape,
            &doc,
            "path_not_mounted",
            "tls.serverKeyPath",
            "serverKeyPath",
        );
        assert!(
            f["message"].as_str().unwrap().contains("/milvus/tls"),
            "{f:#}"
        );
        assert_eq!(codes(&doc), ["path_not_mounted"]);
    }
}

#[test]
fn mutual_tls_with_a_client_certificate_without_client_auth() {
    // The guide's gen.sh makes a client certificate with serverAuth only.
    let certs = tempfile::tempdir().unwrap();
    for f in [
        "ca.pem",
        "server.pem",
        "server.key",
        "client.pem",
        "client.key",
    ] {
        fs::copy(
            fixtures().join("openssl/guide").join(f),
            certs.path().join(f),
        )
        .unwrap();
    }
    let root = tempfile::tempdir().unwrap();
    let config = GOOD_TLS.replace("tlsMode: 1", "tlsMode: 2");
    for shape in shapes(root.path(), &config, IMAGE, Some(certs.path())) {
        let (out, doc) = doctor(&shape, &["--dir", certs.path().to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{}: {doc:#}", shape.name);
        assert_eq!(
            codes(&doc),
            ["missing_client_auth"],
            "{}: {doc:#}",
            shape.name
        );
        let f = &doc["problems"][0];
        assert!(f["file"].as_str().unwrap().ends_with("client.pem"));
        assert!(f["fix"].as_str().unwrap().contains("--only client"));
    }
    // tlsMode 1 does not use client certificates.
    for shape in shapes(root.path(), GOOD_TLS, IMAGE, Some(certs.path())) {
        let (out, doc) = doctor(&shape, &["--dir", certs.path().to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{}: {doc:#}", shape.name);
    }
}

#[test]
fn a_server_key_that_is_not_the_certificates() {
    let certs = gen_dir(&[]);
    let other = gen_dir(&[]);
    fs::copy(
        other.path().join("server.key"),
        certs.path().join("server.key"),
    )
    .unwrap();
    let root = tempfile::tempdir().unwrap();
    for shape in shapes(root.path(), GOOD_TLS, IMAGE, Some(certs.path())) {
        let (out, doc) = doctor(&shape, &["--dir", certs.path().to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{}: {doc:#}", shape.name);
        expect(
            &shape,
            &doc,
            "key_mismatch",
            "tls.serverKeyPath",
            "serverKeyPath",
        );
    }
    // A file the configuration names that the folder lacks.
    fs::remove_file(certs.path().join("ca.pem")).unwrap();
    let shapes = shapes(
        &root.path().join("2"),
        &GOOD_TLS.replace("tlsMode: 1", "tlsMode: 2"),
        IMAGE,
        None,
    );
    let (out, doc) = doctor(&shapes[1], &["--dir", certs.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    expect(
        &shapes[1],
        &doc,
        "file_missing",
        "tls.caPemPath",
        "caPemPath",
    );
}

#[test]
fn tls_off_and_an_invalid_tls_mode() {
    let root = tempfile::tempdir().unwrap();
    for shape in shapes(
        root.path(),
        "common:\n  security:\n    tlsMode: 0\n",
        IMAGE,
        None,
    ) {
        let (out, doc) = doctor(&shape, &[]);
        assert_eq!(out.status.code(), Some(1), "{}: {doc:#}", shape.name);
        expect(
            &shape,
            &doc,
            "tls_disabled",
            "common.security.tlsMode",
            "tlsMode",
        );
    }
    let config = GOOD_TLS.replace("tlsMode: 1", "tlsMode: 3");
    for shape in shapes(root.path(), &config, IMAGE, None) {
        let (out, doc) = doctor(&shape, &[]);
        assert_eq!(out.status.code(), Some(2), "{}: {doc:#}", shape.name);
        expect(
            &shape,
            &doc,
            "invalid_tls_mode",
            "common.security.tlsMode",
            "tlsMode",
        );
        assert_eq!(codes(&doc), ["invalid_tls_mode"]);
    }
}

#[test]
fn a_user_yaml_mounted_for_milvus_2_3() {
    let root = tempfile::tempdir().unwrap();
    let shapes = shapes(root.path(), GOOD_TLS, "milvusdb/milvus:v2.3.5", None);
    let compose = &shapes[3];
    let (out, doc) = doctor(compose, &[]);
    assert_eq!(out.status.code(), Some(2), "{doc:#}");
    let f = &doc["problems"][0];
    assert_eq!(f["code"], "user_yaml_ignored");
    assert_eq!(f["key"], "services.standalone.volumes[1]");
    assert_eq!(
        f["line"].as_u64(),
        Some(line_of(&compose.arg, "- type: bind"))
    );
    // Milvus runs without its settings: TLS is off.
    assert_eq!(
        codes(&doc),
        ["user_yaml_ignored", "tls_disabled"],
        "{doc:#}"
    );
    // Milvus 2.4 and later read it.
    let (out, _) = doctor(&shapes[0], &[]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn compose_environment_variables_override_the_files() {
    let root = tempfile::tempdir().unwrap();
    let shapes = shapes(root.path(), GOOD_TLS, IMAGE, None);
    let compose = &shapes[3];
    let text = fs::read_to_string(&compose.arg).unwrap().replace(
        "    ports:",
        "    environment:\n      COMMON_SECURITY_TLSMODE: \"7\"\n    ports:",
    );
    fs::write(&compose.arg, text).unwrap();
    let (_, doc) = doctor(compose, &[]);
    let f = &doc["problems"][0];
    assert_eq!(f["code"], "invalid_tls_mode", "{doc:#}");
    assert_eq!(
        f["key"],
        "services.standalone.environment.COMMON_SECURITY_TLSMODE"
    );
}

/// The text output: FILE:LINE, severity, code, key, message, then the fix.
#[test]
fn text_output_names_file_line_key_and_fix() {
    let root = tempfile::tempdir().unwrap();
    let config = GOOD_TLS.replace("proxy:\n  http:\n    port: 8080\n", "");
    let shapes = shapes(root.path(), &config, IMAGE, None);
    let out = run(Path::new("."), &["doctor", shapes[1].arg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stdout);
    let line = line_of(&shapes[1].config, "tlsMode");
    assert!(
        text.contains(&format!(
            "values.yaml:{line}: problem [rest_port_shares_grpc_port] extraConfigFiles.user.yaml.common.security.tlsMode: "
        )),
        "{text}"
    );
    assert!(
        text.contains("\n  fix: set proxy.http.port: 8080"),
        "{text}"
    );
    assert!(text.trim_end().ends_with("1 problem."), "{text}");
}

/// Every export that configures Milvus passes doctor, with its files.
#[test]
fn every_export_passes() {
    let certs = gen_dir(&[]);
    let dir = certs.path().to_str().unwrap();
    for mode in ["1", "2"] {
        for internal in [false, true] {
            for target in ["compose", "operator", "helm", "cert-manager"] {
                let out_dir = tempfile::tempdir().unwrap();
                let out = out_dir.path().to_str().unwrap();
                let mut args = vec!["export", target, "--dir", dir, "--out", out, "--mode", mode];
                if internal {
                    args.push("--internal");
                }
                run_ok(certs.path(), &args);
                let files: Vec<PathBuf> = match target {
                    "compose" => vec![
                        out_dir.path().join("docker-compose.tls.yml"),
                        out_dir.path().join("user.yaml"),
                    ],
                    "operator" => vec![out_dir.path().join("milvus-operator.yaml")],
                    "helm" => vec![out_dir.path().join("values-tls.yaml")],
                    _ => vec![out_dir.path().join("values-cert-manager.yaml")],
                };
                for f in files {
                    let out = run(
                        Path::new("."),
                        &["doctor", f.to_str().unwrap(), "--dir", dir],
                    );
                    assert_eq!(
                        out.status.code(),
                        Some(0),
                        "export {target} --mode {mode} internal={internal}: {}\n{}",
                        String::from_utf8_lossy(&out.stdout),
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
            }
        }
    }
}

/// `export compose --milvus-config` (a full milvus.yaml for Milvus 2.3)
/// passes too, merged with a Milvus 2.3 Compose file; the user.yaml
/// fragment does not pass with that image.
#[test]
fn compose_exports_for_milvus_2_3() {
    let certs = gen_dir(&[]);
    let dir = certs.path().to_str().unwrap();
    let release = fixtures().join("milvus/milvus-2.3.5.yaml");
    let base = GUIDE_COMPOSE
        .lines()
        .filter(|l| !l.contains("/milvus/tls") && !l.contains("/milvus/configs"))
        .collect::<Vec<_>>()
        .join("\n")
        .replace("milvusdb/milvus:latest", "milvusdb/milvus:v2.3.5");
    for mode in ["1", "2"] {
        let p = tempfile::tempdir().unwrap();
        let out = p.path().to_str().unwrap();
        fs::write(p.path().join("docker-compose.yml"), &base).unwrap();
        run_ok(
            certs.path(),
            &[
                "export",
                "compose",
                "--dir",
                dir,
                "--out",
                out,
                "--mode",
                mode,
                "--milvus-config",
                release.to_str().unwrap(),
            ],
        );
        for args in [
            vec!["doctor", "milvus.yaml", "--dir", dir],
            vec!["doctor", "docker-compose.tls.yml", "--dir", dir],
            vec![
                "doctor",
                "docker-compose.yml",
                "docker-compose.tls.yml",
                "--dir",
                dir,
            ],
        ] {
            let o = run(p.path(), &args);
            assert_eq!(
                o.status.code(),
                Some(0),
                "{args:?} --mode {mode}: {}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
        }
        // The user.yaml fragment with the same 2.3 image: ignored.
        let q = tempfile::tempdir().unwrap();
        let out = q.path().to_str().unwrap();
        fs::write(q.path().join("docker-compose.yml"), &base).unwrap();
        run_ok(
            certs.path(),
            &[
                "export", "compose", "--dir", dir, "--out", out, "--mode", mode,
            ],
        );
        let o = run(
            q.path(),
            &["doctor", "docker-compose.yml", "docker-compose.tls.yml"],
        );
        assert_eq!(o.status.code(), Some(2));
        assert!(
            String::from_utf8_lossy(&o.stdout).contains("[user_yaml_ignored]"),
            "{}",
            String::from_utf8_lossy(&o.stdout)
        );
    }
}

/// What doctor reports on Milvus's own published configurations (sources
/// in fixtures/README.md).
#[test]
fn milvus_published_examples() {
    // The 2.3.5 server's default milvus.yaml: TLS is off.
    let f = fixtures().join("milvus/milvus-2.3.5.yaml");
    let out = run(Path::new("."), &["doctor", f.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["files"][0]["shape"], "milvus-config");
    assert_eq!(codes(&doc), ["tls_disabled"]);
    assert_eq!(
        doc["warnings"][0]["line"].as_u64(),
        Some(line_of(&f, "tlsMode: 0"))
    );

    // The operator's TLS guide: the proxy would not start (REST on the gRPC
    // port), and the paths are the image's example certificates.
    let f = fixtures().join("milvus/operator-encryption-in-transit.yaml");
    let out = run(Path::new("."), &["doctor", f.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["files"][0]["shape"], "operator");
    assert_eq!(
        codes(&doc),
        [
            "example_certificate",
            "example_certificate",
            "example_certificate",
            "rest_port_shares_grpc_port"
        ]
    );
    let keys: Vec<&str> = doc["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "spec.config.tls.serverPemPath",
            "spec.config.tls.serverKeyPath",
            "spec.config.tls.caPemPath",
            "spec.config.common.security.tlsMode"
        ]
    );
    assert_eq!(
        doc["problems"][0]["line"].as_u64(),
        Some(line_of(&f, "serverPemPath"))
    );
}

#[test]
fn bad_yaml_is_one_error_naming_file_and_line() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("milvus.yaml");
    fs::write(
        &f,
        "common:\n  security:\n    tlsMode: 1\n  tls: [unclosed\n",
    )
    .unwrap();
    let out = run(d.path(), &["doctor", "milvus.yaml"]);
    assert_one_error_line(&out, 2, &["milvus.yaml", "line "]);

    // Inside a Helm values file's user.yaml: the line in the values file.
    let f = d.path().join("values.yaml");
    fs::write(
        &f,
        "extraConfigFiles:\n  user.yaml: |\n    common:\n      security: {\n    x: 1\n",
    )
    .unwrap();
    let out = run(d.path(), &["doctor", "values.yaml"]);
    let err = assert_one_error_line(&out, 2, &["values.yaml", "extraConfigFiles.user.yaml"]);
    assert!(err.contains("line 5") || err.contains("line 6"), "{err}");

    // Not a configuration, missing, empty.
    fs::write(d.path().join("list.yaml"), "- a\n- b\n").unwrap();
    let out = run(d.path(), &["doctor", "list.yaml"]);
    assert_one_error_line(&out, 2, &["list.yaml"]);
    let out = run(d.path(), &["doctor", "missing.yaml"]);
    assert_one_error_line(&out, 2, &["missing.yaml"]);
    fs::write(d.path().join("empty.yaml"), "").unwrap();
    let out = run(d.path(), &["doctor", "empty.yaml"]);
    assert_one_error_line(&out, 2, &["empty.yaml"]);
    // A Kubernetes resource that does not configure Milvus.
    fs::write(
        d.path().join("secret.yaml"),
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: certs\n",
    )
    .unwrap();
    let out = run(d.path(), &["doctor", "secret.yaml"]);
    assert_one_error_line(&out, 2, &["secret.yaml", "Secret"]);
}

/// The guide's Compose layout: `${DOCKER_VOLUME_DIRECTORY:-.}` sources, a
/// full milvus.yaml mounted over the image's, certificates in ./tls.
const GUIDE_COMPOSE: &str = r#"version: '3.5'
services:
  etcd:
    container_name: milvus-etcd
    image: quay.io/coreos/etcd:v3.5.5
  standalone:
    container_name: milvus-standalone
    image: milvusdb/milvus:latest
    command: ["milvus", "run", "standalone"]
    security_opt:
    - seccomp:unconfined
    environment:
      ETCD_ENDPOINTS: etcd:2379
      MINIO_ADDRESS: minio:9000
    volumes:
      - ${DOCKER_VOLUME_DIRECTORY:-.}/volumes/milvus:/var/lib/milvus
      - ${DOCKER_VOLUME_DIRECTORY:-.}/tls:/milvus/tls
      - ${DOCKER_VOLUME_DIRECTORY:-.}/milvus.yaml:/milvus/configs/milvus.yaml
"#;

#[test]
fn the_guides_compose_layout() {
    let d = gen_dir(&[]);
    let project = tempfile::tempdir().unwrap();
    let p = project.path();
    fs::create_dir(p.join("tls")).unwrap();
    for f in ["server.pem", "server.key", "ca.pem"] {
        fs::copy(d.path().join(f), p.join("tls").join(f)).unwrap();
    }
    fs::write(p.join("docker-compose.yml"), GUIDE_COMPOSE).unwrap();
    fs::write(p.join("milvus.yaml"), GOOD_TLS).unwrap();
    let out = run(p, &["doctor", "docker-compose.yml", "--dir", "tls"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The mounted milvus.yaml is read: its findings name it.
    fs::write(
        p.join("milvus.yaml"),
        GOOD_TLS.replace("/milvus/tls/server.key", "/etc/server.key"),
    )
    .unwrap();
    let out = run(p, &["doctor", "docker-compose.yml", "--json"]);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["problems"][0]["code"], "path_not_mounted", "{doc:#}");
    assert!(
        doc["problems"][0]["file"]
            .as_str()
            .unwrap()
            .ends_with("milvus.yaml")
    );
    // A server.key that is not server.pem's, through the bind mount.
    fs::write(p.join("milvus.yaml"), GOOD_TLS).unwrap();
    let other = gen_dir(&[]);
    fs::copy(other.path().join("server.key"), p.join("tls/server.key")).unwrap();
    let out = run(
        p,
        &["doctor", "docker-compose.yml", "--dir", "tls", "--json"],
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(codes(&doc), ["key_mismatch"], "{doc:#}");
}

/// `doctor docker-compose.yml docker-compose.tls.yml` reads them as
/// `docker compose -f ... -f ...` merges them.
#[test]
fn compose_files_given_together_are_merged() {
    let d = gen_dir(&[]);
    let project = tempfile::tempdir().unwrap();
    let p = project.path();
    let base = GUIDE_COMPOSE
        .lines()
        .filter(|l| !l.contains("/milvus/tls") && !l.contains("/milvus/configs"))
        .collect::<Vec<_>>()
        .join("\n");
    fs::write(p.join("docker-compose.yml"), base).unwrap();
    run_ok(
        d.path(),
        &[
            "export",
            "compose",
            "--dir",
            ".",
            "--out",
            p.to_str().unwrap(),
            "--mode",
            "2",
        ],
    );
    // Alone, the guide's file runs Milvus without TLS.
    let out = run(p, &["doctor", "docker-compose.yml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("[tls_disabled]"));
    let dir = d.path().to_str().unwrap();
    let out = run(
        p,
        &[
            "doctor",
            "docker-compose.yml",
            "docker-compose.tls.yml",
            "--dir",
            dir,
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn internal_tls_before_milvus_2_5() {
    let root = tempfile::tempdir().unwrap();
    let config = GOOD_TLS.replace("tlsMode: 1", "tlsMode: 1\n    internaltlsEnabled: true")
        + "internaltls:\n  serverPemPath: /milvus/tls/server.pem\n  serverKeyPath: /milvus/tls/server.key\n  caPemPath: /milvus/tls/ca.pem\n  sni: localhost\n";
    for shape in shapes(root.path(), &config, "milvusdb/milvus:v2.4.17", None) {
        let (out, doc) = doctor(&shape, &[]);
        if shape.name == "milvus-config" {
            // No image to tell the release by.
            assert_eq!(out.status.code(), Some(0), "{doc:#}");
            continue;
        }
        assert_eq!(out.status.code(), Some(2), "{}: {doc:#}", shape.name);
        let f = expect(
            &shape,
            &doc,
            "internal_tls_unsupported",
            "common.security.internaltlsEnabled",
            "internaltlsEnabled",
        );
        assert!(f["message"].as_str().unwrap().contains("v2.4.17"), "{f:#}");
        assert_eq!(codes(&doc), ["internal_tls_unsupported"]);
    }
}

/// Hostile YAML: deep nesting (block, compact sequences, flow) and alias
/// expansion ("billion laughs") are one error each, never a crash.
#[test]
fn hostile_yaml_is_refused_without_crashing() {
    let d = tempfile::tempdir().unwrap();
    let mut block = String::new();
    // 1,400 levels: deep, yet under the 1 MiB every read is bounded by.
    for i in 0..1400 {
        block.push_str(&" ".repeat(i));
        block.push_str("k:\n");
    }
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        bomb.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    let cases = [
        ("block.yaml", block),
        ("seq.yaml", format!("{}x\n", "- ".repeat(5000))),
        (
            "flow.yaml",
            format!("a: {}{}\n", "[".repeat(5000), "]".repeat(5000)),
        ),
        ("bomb.yaml", bomb),
    ];
    for (name, text) in cases {
        fs::write(d.path().join(name), text).unwrap();
        let out = run(d.path(), &["doctor", name]);
        assert_one_error_line(&out, 2, &[name, "line "]);
    }
}

/// The real Milvus 2.3.5 server serves TLS with the REST port left on the
/// gRPC port (tried with the PyPI wheel's server): not reported for it.
#[test]
fn the_shared_port_is_not_reported_for_milvus_2_3() {
    let root = tempfile::tempdir().unwrap();
    let config = GOOD_TLS.replace("proxy:\n  http:\n    port: 8080\n", "");
    let shapes = shapes(root.path(), &config, "milvusdb/milvus:v2.3.5", None);
    for shape in &shapes[1..3] {
        let (out, doc) = doctor(shape, &[]);
        assert_eq!(out.status.code(), Some(0), "{}: {doc:#}", shape.name);
    }
    let (out, doc) = doctor(&shapes[0], &[]);
    assert_eq!(out.status.code(), Some(2), "no image: {doc:#}");
}

/// Values from the user's files reach the terminal escaped.
#[test]
fn control_characters_are_shown_escaped() {
    let d = tempfile::tempdir().unwrap();
    fs::write(
        d.path().join("m.yaml"),
        "proxy:\n  http:\n    port: 8080\ncommon:\n  security:\n    tlsMode: 1\ntls:\n  serverPemPath: \"/milvus/configs/cert/\\e]0;x\\a.pem\"\n  serverKeyPath: /milvus/tls/server.key\n",
    )
    .unwrap();
    let out = run(d.path(), &["doctor", "m.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains('\u{1b}'), "{text:?}");
    assert!(text.contains("\\u{1b}"), "{text}");
}

/// A folder mounted over /milvus/configs: its milvus.yaml is read.
#[test]
fn a_compose_config_folder_mount() {
    let d = gen_dir(&[]);
    let p = tempfile::tempdir().unwrap();
    fs::create_dir_all(p.path().join("configs")).unwrap();
    fs::create_dir_all(p.path().join("tls")).unwrap();
    for f in ["server.pem", "server.key", "ca.pem"] {
        fs::copy(d.path().join(f), p.path().join("tls").join(f)).unwrap();
    }
    fs::write(p.path().join("configs/milvus.yaml"), GOOD_TLS).unwrap();
    fs::write(
        p.path().join("docker-compose.yml"),
        "services:\n  standalone:\n    image: milvusdb/milvus:v2.4.5\n    volumes:\n      - ./configs:/milvus/configs/\n      - ./tls:/milvus/tls\n",
    )
    .unwrap();
    let out = run(
        p.path(),
        &["doctor", "docker-compose.yml", "--dir", "tls", "--json"],
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{doc:#}");
    assert_eq!(doc["files"][1]["path"], "configs/milvus.yaml", "{doc:#}");
}

// ---------------------------------------------------------------------------
// Issue 15: Milvus's dependencies (etcd, S3 storage, Kafka) over TLS.

/// [`GOOD_TLS`] with etcd over TLS, its files mounted with the others.
fn etcd_tls(endpoint: &str) -> String {
    format!(
        "{GOOD_TLS}etcd:
  endpoints: {endpoint}
  ssl:
    enabled: true
    tlsCert: /milvus/tls/etcd-client.pem
    tlsKey: /milvus/tls/etcd-client.key
    tlsCACert: /milvus/tls/ca.pem
    tlsMinVersion: \"1.3\"
"
    )
}

/// A certificate folder with the dependencies' client certificates.
fn deps_dir() -> tempfile::TempDir {
    let d = gen_dir(&[]);
    for name in ["etcd", "etcd-client", "s3", "kafka", "kafka-client"] {
        run_ok(d.path(), &["add", name]);
    }
    d
}

#[test]
fn etcd_over_tls_passes_in_every_shape() {
    let certs = deps_dir();
    let root = tempfile::tempdir().unwrap();
    let config = etcd_tls("https://etcd:2379,etcd-2:2379");
    for shape in shapes(root.path(), &config, IMAGE, Some(certs.path())) {
        let (out, doc) = doctor(&shape, &["--dir", certs.path().to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{}: {doc:#}", shape.name);
    }
}

#[test]
fn etcd_ssl_with_an_http_endpoint() {
    let root = tempfile::tempdir().unwrap();
    let config = etcd_tls("http://etcd:2379");
    for shape in shapes(root.path(), &config, IMAGE, None) {
        let (out, doc) = doctor(&shape, &[]);
        assert_eq!(out.status.code(), Some(2), "{}: {doc:#}", shape.name);
        let f = expect(
            &shape,
            &doc,
            "etcd_endpoints_not_https",
            "etcd.endpoints",
            "endpoints:",
        );
        assert!(f["message"].as_str().unwrap().contains("http://etcd:2379"));
        assert_eq!(codes(&doc), ["etcd_endpoints_not_https"], "{}", shape.name);
    }
}

#[test]
fn an_https_etcd_endpoint_without_ssl() {
    let root = tempfile::tempdir().unwrap();
    let config = format!("{GOOD_TLS}etcd:\n  endpoints:\n    - https://etcd:2379\n");
    for shape in shapes(root.path(), &config, IMAGE, None) {
        let (out, doc) = doctor(&shape, &[]);
        assert_eq!(out.status.code(), Some(2), "{}: {doc:#}", shape.name);
        expect(
            &shape,
            &doc,
            "etcd_https_without_ssl",
            "etcd.endpoints",
            "endpoints:",
        );
        assert_eq!(codes(&doc), ["etcd_https_without_ssl"], "{}", shape.name);
    }
}

#[test]
fn etcd_ssl_without_its_key_and_with_tls_1_1() {
    let root = tempfile::tempdir().unwrap();
    let config = etcd_tls("https://etcd:2379")
        .replace(
            "    tlsKey: /milvus/tls/etcd-client.key\n",
            "    tlsKey: \"\"\n",
        )
        .replace("\"1.3\"", "\"1.1\"");
    for shape in shapes(root.path(), &config, IMAGE, None) {
        let (out, doc) = doctor(&shape, &[]);
        assert_eq!(out.status.code(), Some(2), "{}: {doc:#}", shape.name);
        let f = expect(
            &shape,
            &doc,
            "etcd_ssl_path_missing",
            "etcd.ssl.enabled",
            "enabled: true",
        );
        assert!(f["message"].as_str().unwrap().contains("etcd.ssl.tlsKey"));
        expect(
            &shape,
            &doc,
            "etcd_tls_version_too_low",
            "etcd.ssl.tlsMinVersion",
            "tlsMinVersion",
        );
        let mut c = codes(&doc);
        c.sort();
        assert_eq!(
            c,
            ["etcd_ssl_path_missing", "etcd_tls_version_too_low"],
            "{}",
            shape.name
        );
    }
}

#[test]
fn etcd_client_certificate_without_client_auth() {
    // A server-only certificate (the S3 one) as etcd's client certificate.
    let certs = deps_dir();
    let root = tempfile::tempdir().unwrap();
    let config = etcd_tls("https://etcd:2379")
        .replace("etcd-client.pem", "s3.pem")
        .replace("etcd-client.key", "s3.key");
    for shape in shapes(root.path(), &config, IMAGE, Some(certs.path())) {
        let (out, doc) = doctor(&shape, &["--dir", certs.path().to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{}: {doc:#}", shape.name);
        expect(
            &shape,
            &doc,
            "missing_client_auth",
            "etcd.ssl.tlsCert",
            "tlsCert",
        );
    }
}

#[test]
fn minio_over_tls_without_a_trusted_ca() {
    let root = tempfile::tempdir().unwrap();
    let config = format!("{GOOD_TLS}minio:\n  address: minio\n  useSSL: true\n");
    for shape in shapes(root.path(), &config, IMAGE, None) {
        let (out, doc) = doctor(&shape, &[]);
        // A milvus.yaml alone does not say what is mounted: a warning.
        let want = if shape.name == "milvus-config" { 1 } else { 2 };
        assert_eq!(out.status.code(), Some(want), "{}: {doc:#}", shape.name);
        let f = expect(
            &shape,
            &doc,
            "minio_ca_not_trusted",
            "minio.useSSL",
            "useSSL",
        );
        assert!(f["message"].as_str().unwrap().contains("2.3"), "{f:#}");
        assert!(
            f["fix"]
                .as_str()
                .unwrap()
                .contains("/etc/ssl/certs/ca-certificates.crt")
        );
        assert_eq!(codes(&doc), ["minio_ca_not_trusted"], "{}", shape.name);
    }
    // minio.ssl.tlsCACert (newer releases) is enough.
    let root = tempfile::tempdir().unwrap();
    let config = format!("{config}  ssl:\n    tlsCACert: /milvus/tls/ca.pem\n");
    for shape in shapes(root.path(), &config, IMAGE, None) {
        let (out, doc) = doctor(&shape, &[]);
        assert_eq!(out.status.code(), Some(0), "{}: {doc:#}", shape.name);
    }
}

#[test]
fn minio_trust_bundle_mounted_in_compose() {
    let root = tempfile::tempdir().unwrap();
    let config = format!("{GOOD_TLS}minio:\n  useSSL: true\n");
    let shapes = shapes(root.path(), &config, IMAGE, None);
    let compose = shapes.iter().find(|s| s.name == "compose").unwrap();
    let text = fs::read_to_string(&compose.arg).unwrap().replace(
        "      - ./certs:/milvus/tls:ro\n",
        "      - ./certs:/milvus/tls:ro\n      - ./certs/ca-bundle.crt:/etc/ssl/certs/ca-certificates.crt:ro\n",
    );
    fs::write(&compose.arg, text).unwrap();
    let (out, doc) = doctor(compose, &[]);
    assert_eq!(out.status.code(), Some(0), "{doc:#}");
}

#[test]
fn kafka_ssl_paths_no_volume_mounts() {
    let root = tempfile::tempdir().unwrap();
    let config = format!(
        "{GOOD_TLS}kafka:\n  ssl:\n    enabled: true\n    tlsCert: /etc/kafka/client.pem\n  consumer:\n    ssl.ca.location: /etc/kafka/ca.pem\n"
    );
    for shape in shapes(root.path(), &config, IMAGE, None) {
        let (out, doc) = doctor(&shape, &[]);
        if shape.name == "milvus-config" {
            assert_eq!(out.status.code(), Some(0), "{doc:#}");
            continue;
        }
        assert_eq!(out.status.code(), Some(2), "{}: {doc:#}", shape.name);
        expect(
            &shape,
            &doc,
            "path_not_mounted",
            "kafka.ssl.tlsCert",
            "tlsCert",
        );
        assert_eq!(
            codes(&doc),
            ["path_not_mounted", "path_not_mounted"],
            "{}",
            shape.name
        );
        assert!(all_findings(&doc).iter().any(|f| {
            f["key"]
                .as_str()
                .unwrap()
                .ends_with("kafka.consumer.ssl.ca.location")
        }));
    } // With kafka.ssl.enabled false (as a full milvus.yaml lists the keys),
    // Milvus does not read the kafka.ssl files.
    let root = tempfile::tempdir().unwrap();
    let config =
        format!("{GOOD_TLS}kafka:\n  ssl:\n    enabled: false\n    tlsCert: /path/to/client.pem\n");
    for shape in shapes(root.path(), &config, IMAGE, None) {
        let (out, doc) = doctor(&shape, &[]);
        assert_eq!(out.status.code(), Some(0), "{}: {doc:#}", shape.name);
    }
}

#[test]
fn kafka_ssl_files_missing_from_the_folder() {
    // gen makes no kafka-client.pem.
    let certs = gen_dir(&[]);
    let root = tempfile::tempdir().unwrap();
    let config = format!(
        "{GOOD_TLS}kafka:\n  producer:\n    ssl.certificate.location: /milvus/tls/kafka-client.pem\n"
    );
    for shape in shapes(root.path(), &config, IMAGE, Some(certs.path())) {
        let (out, doc) = doctor(&shape, &["--dir", certs.path().to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{}: {doc:#}", shape.name);
        expect(
            &shape,
            &doc,
            "file_missing",
            "kafka.producer.ssl.certificate.location",
            "ssl.certificate.location",
        );
        assert_eq!(codes(&doc), ["file_missing"], "{}", shape.name);
    }
}

/// `export compose|operator|helm --etcd --s3 --kafka` pass, and in the
/// Compose export's folder a deleted `tls/etcd-client.pem` is found.
#[test]
fn exports_with_dependencies_pass() {
    let certs = deps_dir();
    let dir = certs.path().to_str().unwrap();
    for target in ["compose", "operator", "helm"] {
        let out_dir = tempfile::tempdir().unwrap();
        let out = out_dir.path().to_str().unwrap();
        run_ok(
            certs.path(),
            &[
                "export", target, "--dir", dir, "--out", out, "--etcd", "--s3", "--kafka",
            ],
        );
        let file = out_dir.path().join(match target {
            "compose" => "docker-compose.tls.yml",
            "operator" => "milvus-operator.yaml",
            _ => "values-tls.yaml",
        });
        let res = run(
            Path::new("."),
            &["doctor", file.to_str().unwrap(), "--dir", dir],
        );
        assert_eq!(
            res.status.code(),
            Some(0),
            "export {target} --etcd --s3 --kafka: {}\n{}",
            String::from_utf8_lossy(&res.stdout),
            String::from_utf8_lossy(&res.stderr)
        );
        if target != "compose" {
            continue;
        }
        let tls = out_dir.path().join("tls");
        fs::remove_file(tls.join("etcd-client.pem")).unwrap();
        let shape = Shape {
            name: "compose",
            arg: file.clone(),
            config: out_dir.path().join("user.yaml"),
            prefix: "",
        };
        let (res, doc) = doctor(&shape, &["--dir", tls.to_str().unwrap()]);
        assert_eq!(res.status.code(), Some(2), "{doc:#}");
        let f = expect(&shape, &doc, "file_missing", "etcd.ssl.tlsCert", "tlsCert");
        assert!(f["message"].as_str().unwrap().contains("etcd-client.pem"));
        assert_eq!(codes(&doc), ["file_missing"]);
    }
}

/// Compose: the etcd service's `--cert-file` and MinIO's `public.crt` are
/// server certificates: a client-only certificate there lacks serverAuth,
/// and the fix renews it by its own name.
#[test]
fn compose_etcd_and_minio_server_certificates_need_server_auth() {
    let certs = deps_dir();
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path();
    run_ok(
        certs.path(),
        &[
            "export",
            "compose",
            "--out",
            out.to_str().unwrap(),
            "--etcd",
            "--s3",
            "--kafka",
        ],
    );
    for (from, to) in [
        ("etcd-client.pem", "tls-etcd/etcd.pem"),
        ("etcd-client.key", "tls-etcd/etcd.key"),
        ("etcd-client.pem", "tls-minio/public.crt"),
        ("etcd-client.key", "tls-minio/private.key"),
    ] {
        fs::copy(certs.path().join(from), out.join(to)).unwrap();
    }
    let compose = out.join("docker-compose.tls.yml");
    let res = run(
        Path::new("."),
        &[
            "doctor",
            compose.to_str().unwrap(),
            "--json",
            "--dir",
            certs.path().to_str().unwrap(),
        ],
    );
    let doc: Value = serde_json::from_slice(&res.stdout).unwrap();
    assert_eq!(res.status.code(), Some(2), "{doc:#}");
    assert_eq!(
        codes(&doc),
        ["missing_server_auth", "missing_server_auth"],
        "{doc:#}"
    );
    let by_key = |prefix: &str| {
        all_findings(&doc)
            .into_iter()
            .find(|f| f["key"].as_str().unwrap().starts_with(prefix))
            .unwrap_or_else(|| panic!("no finding at {prefix}: {doc:#}"))
    };
    let etcd = by_key("services.etcd.command");
    assert_eq!(
        etcd["line"].as_u64(),
        Some(line_of(&compose, "--cert-file"))
    );
    assert!(
        etcd["fix"].as_str().unwrap().contains("--only etcd"),
        "{etcd:#}"
    );
    let minio = by_key("services.minio.volumes");
    assert!(
        minio["fix"].as_str().unwrap().contains("--only s3"),
        "{minio:#}"
    );
}

/// Severities are coloured as `inspect`'s statuses, under the same rules
/// (tests/inspect.rs has the terminal cases): plain in a pipe, coloured with
/// CLICOLOR_FORCE unless NO_COLOR.
#[test]
fn severities_are_coloured_only_when_asked_in_a_pipe() {
    let f = fixtures().join("milvus/operator-encryption-in-transit.yaml");
    let doctor = |env: &[(&str, &str)]| {
        let out = std::process::Command::new(BIN)
            .args(["doctor", f.to_str().unwrap()])
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR_FORCE")
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        String::from_utf8(out.stdout).unwrap()
    };
    assert!(!doctor(&[]).contains('\x1b'));
    assert!(doctor(&[("CLICOLOR_FORCE", "1")]).contains(": \x1b[31mproblem\x1b[0m ["));
    assert!(!doctor(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]).contains('\x1b'));
}
