//! The real Milvus 2.3.5 server (PyPI wheel `milvus==2.3.5`, with
//! `pymilvus==2.3.8`) started with the `milvus.yaml` that `export compose
//! --milvus-config` wrote from that server's own default configuration:
//! pymilvus connects with TLS and fails in plaintext in tlsMode 1 and 2
//! (mode 2 only with client.pem), and `inspect --connect` reports a server
//! that ignored its TLS settings (the `user.yaml` fragment, which 2.3 does
//! not read) as plaintext.
//!
//! Needs root (for `unshare`: a private network and PID namespace, so the
//! server's fixed ports are free, nothing outside reaches it, and nothing
//! outlives the test), Linux x86_64, and a virtualenv with the two packages
//! (`.ci/run` makes it): `$MILVUS_VENV`, default `/opt/milvus-venv`. Without
//! them the test says SKIPPED and passes, except under `CI=true`, where it
//! fails (`skip_unless_ci`).

use std::fs;
use std::path::{Path, PathBuf};

use crate::common::*;
use serde_json::Value;
use yaml_rust2::YamlLoader;

const DRIVER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/milvus_driver.py");

fn in_namespace(py: &Path, args: &[&str], limit_s: u32) -> std::process::Output {
    crate::common::in_namespace(py, DRIVER, args, limit_s)
}

/// A server's working directory `run`: its `configs/` holds `file` as
/// `export compose` wrote it, with the container's /milvus/tls/ paths
/// pointed at the exported tls/ directory (the override file mounts it
/// there; here the server runs without a container), and the storage
/// paths of the wheel's default configuration (`data`) moved into `run`,
/// so that servers in separate namespaces can run at once.
fn local_copy(export: &Path, data: &Path, run: &Path, file: &str) {
    let text = fs::read_to_string(export.join(file)).unwrap();
    let tls = export.join("tls");
    let local = text.replace("\"/milvus/tls/", &format!("\"{}/", tls.display()));
    assert_eq!(
        local.matches(&format!("\"{}/", tls.display())).count(),
        3,
        "the three tls paths: {text}"
    );
    if file == "milvus.yaml" {
        let data = data.display();
        assert!(
            local.contains(&format!("{data}/data")),
            "storage paths: {local}"
        );
    }
    let configs = run.join("configs");
    fs::create_dir_all(&configs).unwrap();
    fs::write(configs.join(file), moved(&local, data, run)).unwrap();
}

/// `text` with the storage paths under `data` (`data/data/...`,
/// `data/logs/...`) moved under `run`.
fn moved(text: &str, data: &Path, run: &Path) -> String {
    let (from, to) = (data.display().to_string(), run.display().to_string());
    text.replace(&format!("{from}/data"), &format!("{to}/data"))
        .replace(&format!("{from}/logs"), &format!("{to}/logs"))
}

fn ok(results: &Value, run: &str, check: &str) -> bool {
    results[run][check]["ok"]
        .as_bool()
        .unwrap_or_else(|| panic!("{run}.{check} missing: {results}"))
}

#[test]
fn milvus_2_3_5_serves_tls_with_the_exported_config() {
    let py = match milvus_python(&["unshare", "ip", "timeout"]) {
        Ok(py) => py,
        Err(why) => {
            skip_unless_ci(&format!("the real Milvus test: {why}"));
            return;
        }
    };
    let d = server_tempdir();
    let root = d.path();
    let data = root.join("data");
    let data_s = data.to_str().unwrap();
    run_ok(root, &["gen", "--dir", "certs"]);

    // The server's own default configuration, written by the wheel.
    in_namespace(&py, &["config", data_s], 120);
    let default = root.join("default.yaml");
    fs::copy(data.join("configs/milvus.yaml"), &default).unwrap();
    let default_doc = YamlLoader::load_from_str(&fs::read_to_string(&default).unwrap())
        .unwrap()
        .remove(0);
    assert_eq!(
        default_doc["common"]["security"]["tlsMode"].as_i64(),
        Some(0)
    );

    // tlsMode 1 and 2: the full milvus.yaml export compose --milvus-config wrote.
    let mut runs: Vec<(String, PathBuf)> = Vec::new();
    for mode in ["1", "2"] {
        let export = root.join(format!("export{mode}"));
        run_ok(
            root,
            &[
                "export",
                "compose",
                "--dir",
                "certs",
                "--mode",
                mode,
                "--milvus-config",
                default.to_str().unwrap(),
                "--out",
                export.to_str().unwrap(),
            ],
        );
        let run = root.join(format!("run{mode}"));
        local_copy(&export, &data, &run, "milvus.yaml");
        runs.push((format!("mode{mode}"), run));
    }
    // The user.yaml fragment next to the default milvus.yaml: 2.3.5 does not
    // read it, so the server stays in plaintext (tlsMode 0).
    let export = root.join("export-fragment");
    run_ok(
        root,
        &[
            "export",
            "compose",
            "--dir",
            "certs",
            "--out",
            export.to_str().unwrap(),
        ],
    );
    let run = root.join("run-fragment");
    local_copy(&export, &data, &run, "user.yaml");
    let default_text = fs::read_to_string(&default).unwrap();
    fs::write(
        run.join("configs/milvus.yaml"),
        moved(&default_text, &data, &run),
    )
    .unwrap();
    runs.push(("fragment".into(), run));

    let certs = fs::canonicalize(root.join("certs")).unwrap();
    let certs_s = certs.to_str().unwrap();
    // The binaries once, then the three servers at once, each in its own
    // namespaces (their ports are fixed): the run takes one server's time.
    in_namespace(&py, &["prepare", data_s], 300);
    let results: Value = std::thread::scope(|s| {
        let handles: Vec<_> = runs
            .iter()
            .map(|(label, dir)| {
                let py = &py;
                s.spawn(move || {
                    let out = in_namespace(
                        py,
                        &["serve", data_s, BIN, certs_s, dir.to_str().unwrap()],
                        600,
                    );
                    let result: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
                        panic!(
                            "{label}: driver output: {e}: {}\n{}",
                            String::from_utf8_lossy(&out.stdout),
                            String::from_utf8_lossy(&out.stderr)
                        )
                    });
                    (label.clone(), result)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect::<serde_json::Map<_, _>>()
            .into()
    });

    // tlsMode 1: TLS works (a client certificate is not needed), plaintext fails.
    assert!(ok(&results, "mode1", "tls_one_way"), "{results}");
    assert!(ok(&results, "mode1", "tls_with_client_cert"), "{results}");
    assert!(!ok(&results, "mode1", "plaintext"), "{results}");
    // tlsMode 2: only with client.pem.
    assert!(ok(&results, "mode2", "tls_with_client_cert"), "{results}");
    assert!(!ok(&results, "mode2", "tls_one_way"), "{results}");
    assert!(!ok(&results, "mode2", "plaintext"), "{results}");
    for mode in ["mode1", "mode2"] {
        let inspect = &results[mode]["inspect"];
        assert_eq!(inspect["code"], 0, "{mode}: {inspect}");
        let stdout = inspect["stdout"].as_str().unwrap();
        assert!(
            stdout.contains("localhost:19530  server  ok"),
            "{mode}: {stdout}"
        );
    }
    // The fragment: Milvus 2.3.5 ignored user.yaml and serves plaintext;
    // inspect --connect says so and names the likely cause.
    assert!(ok(&results, "fragment", "plaintext"), "{results}");
    assert!(!ok(&results, "fragment", "tls_one_way"), "{results}");
    let inspect = &results["fragment"]["inspect"];
    assert_eq!(inspect["code"], 2, "{inspect}");
    let stdout = inspect["stdout"].as_str().unwrap();
    for needle in [
        "localhost:19530 does not speak TLS: it answered in plaintext",
        "common.security.tlsMode is 0",
        "not user.yaml",
        "--milvus-config",
    ] {
        assert!(stdout.contains(needle), "{needle}: {stdout}");
    }
}
