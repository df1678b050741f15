//! Issue 12: `inspect` judges a folder by what it is (a CA folder, a server
//! deployment folder, a client folder), chains loose leaves to the CAs given
//! (by signature), and reports every finding with a stable code.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::common::*;
use serde_json::Value;

/// Every finding code of the report: certificates' and folders'.
fn all_codes(doc: &Value) -> Vec<String> {
    let mut codes = Vec::new();
    for list in ["certificates", "folders"] {
        for e in doc[list].as_array().unwrap() {
            for k in ["problems", "warnings"] {
                for f in e[k].as_array().unwrap() {
                    assert!(f["message"].as_str().is_some_and(|m| !m.is_empty()));
                    codes.push(f["code"].as_str().unwrap().to_string());
                }
            }
        }
    }
    codes
}

fn codes_of(e: &Value) -> Vec<String> {
    ["problems", "warnings"]
        .iter()
        .flat_map(|k| e[*k].as_array().cloned().unwrap_or_default())
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

fn inspect_json(cwd: &Path, args: &[&str]) -> (Option<i32>, Value) {
    let mut all = vec!["inspect", "--json"];
    all.extend_from_slice(args);
    let out = run(cwd, &all);
    (out.status.code(), json(&out))
}

/// `export compose`'s `tls/` holds what Milvus reads, and no CA key: it is
/// a server deployment folder and passes; with another CA's `ca.pem` of the
/// same name it fails with `not_issued_by_ca`.
#[test]
fn the_export_tls_folder_passes_and_a_foreign_ca_of_the_same_name_fails() {
    let d = tempfile::tempdir().unwrap();
    run_ok(
        d.path(),
        &["gen", "--dir", "cert", "--key-type", "ecdsa-p256"],
    );
    run_ok(
        d.path(),
        &["gen", "--dir", "other", "--key-type", "ecdsa-p256"],
    );
    run_ok(
        d.path(),
        &["export", "compose", "--dir", "cert", "--out", "deploy"],
    );
    let out = run(d.path(), &["inspect", "--dir", "deploy/tls"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("server deployment folder"), "{text}");
    assert!(text.trim_end().ends_with("2 certificates: 2 ok."), "{text}");
    let (code, doc) = inspect_json(d.path(), &["--dir", "deploy/tls"]);
    assert_eq!(code, Some(0));
    assert_eq!(doc["folders"][0]["kind"], "server");
    assert!(all_codes(&doc).is_empty(), "{doc:#}");
    // --ca FILE applies to the folder's leaves too.
    let (code, doc) = inspect_json(d.path(), &["--dir", "deploy/tls", "--ca", "other/ca.pem"]);
    assert_eq!(code, Some(2));
    assert_eq!(codes_of(entry(&doc, "server.pem")), ["not_issued_by_ca"]);
    let (code, _) = inspect_json(d.path(), &["--dir", "deploy/tls", "--ca", "cert/ca.pem"]);
    assert_eq!(code, Some(0));
    // --ca naming the folder's own ca.pem does not list it twice.
    let (code, doc) = inspect_json(
        d.path(),
        &["--dir", "deploy/tls", "--ca", "./deploy/tls/ca.pem"],
    );
    assert_eq!(code, Some(0));
    assert_eq!(doc["certificates"].as_array().unwrap().len(), 2, "{doc:#}");

    fs::copy(
        d.path().join("other/ca.pem"),
        d.path().join("deploy/tls/ca.pem"),
    )
    .unwrap();
    let (code, doc) = inspect_json(d.path(), &["--dir", "deploy/tls"]);
    assert_eq!(code, Some(2));
    assert_eq!(
        codes_of(entry(&doc, "server.pem")),
        ["not_issued_by_ca"],
        "{doc:#}"
    );
    // Loose files: an unrelated CA of the same name is not the issuer.
    let (code, doc) = inspect_json(d.path(), &["cert/server.pem", "other/ca.pem"]);
    assert_eq!(code, Some(2));
    assert_eq!(codes_of(entry(&doc, "server.pem")), ["not_issued_by_ca"]);
    // ... nor with --ca FILE.
    let (code, doc) = inspect_json(d.path(), &["cert/server.pem", "--ca", "other/ca.pem"]);
    assert_eq!(code, Some(2));
    assert_eq!(codes_of(entry(&doc, "server.pem")), ["not_issued_by_ca"]);
    // The right CA: ok.
    let (code, _) = inspect_json(d.path(), &["cert/server.pem", "--ca", "cert/ca.pem"]);
    assert_eq!(code, Some(0));
}

/// A mounted Kubernetes Secret: symlinks into `..data/`, files 0644 (the
/// default `defaultMode`). It passes; the readable key is a warning.
#[test]
fn a_mounted_secret_like_folder_passes() {
    let d = gen_dir(&["--key-type", "ecdsa-p256"]);
    let mount = tempfile::tempdir().unwrap();
    let data = mount.path().join("..2026_11_30_00_00_00.000000000");
    fs::create_dir(&data).unwrap();
    for f in ["server.pem", "server.key", "ca.pem"] {
        fs::copy(d.path().join(f), data.join(f)).unwrap();
        chmod(&data.join(f), 0o644);
        std::os::unix::fs::symlink(format!("..data/{f}"), mount.path().join(f)).unwrap();
    }
    std::os::unix::fs::symlink(data.file_name().unwrap(), mount.path().join("..data")).unwrap();
    let dir = mount.path().display().to_string();
    let (code, doc) = inspect_json(d.path(), &["--dir", &dir]);
    assert_eq!(code, Some(0), "{doc:#}");
    assert_eq!(doc["folders"][0]["kind"], "server");
    assert_eq!(all_codes(&doc), ["key_readable_by_others"]);
}

/// tlsMode 1: a client folder needs only `ca.pem`, when `--mode 1` says so.
#[test]
fn a_mode_1_client_folder_needs_only_ca_pem() {
    let d = gen_dir(&["--key-type", "ecdsa-p256"]);
    let client = tempfile::tempdir().unwrap();
    fs::copy(d.path().join("ca.pem"), client.path().join("ca.pem")).unwrap();
    let dir = client.path().display().to_string();
    let (code, doc) = inspect_json(d.path(), &["--dir", &dir, "--mode", "1"]);
    assert_eq!(code, Some(0), "{doc:#}");
    assert_eq!(doc["folders"][0]["kind"], "client");
    // Without --mode 1, tlsMode 2's client files are missing.
    let (code, doc) = inspect_json(d.path(), &["--dir", &dir]);
    assert_eq!(code, Some(2));
    assert_eq!(codes_of(entry(&doc, "client.pem")), ["file_missing"]);
    // A CA folder with --mode 1 does not need the client files either.
    fs::remove_file(d.path().join("client.pem")).unwrap();
    fs::remove_file(d.path().join("client.key")).unwrap();
    let (code, doc) = inspect_json(d.path(), &["--mode", "1"]);
    assert_eq!(code, Some(0), "{doc:#}");
    assert_eq!(doc["folders"][0]["kind"], "ca");
    let out = run(d.path(), &["inspect", "--mode", "3"]);
    assert_eq!(out.status.code(), Some(2), "a usage error");
}

/// The README's "Use in CI" shell step, run verbatim where `export compose
/// --out deploy` wrote its files.
#[test]
fn the_readme_ci_step_passes_on_export_compose_output() {
    let readme =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/deploy.md")).unwrap();
    let step = readme
        .split("## Use in CI")
        .nth(1)
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("milvus-certs inspect --dir deploy/tls"))
        })
        .expect("the README's CI shell step");
    let d = tempfile::tempdir().unwrap();
    run_ok(
        d.path(),
        &[
            "gen",
            "--dir",
            "cert",
            "--common-name",
            "milvus.example.com",
            "--key-type",
            "ecdsa-p256",
        ],
    );
    run_ok(
        d.path(),
        &["export", "compose", "--dir", "cert", "--out", "deploy"],
    );
    let out = shell_ok(
        "sh",
        d.path(),
        &format!("PATH={}:$PATH; {step}", bin_dir()),
        &[],
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("2 certificates: 2 ok"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

fn bin_dir() -> String {
    Path::new(BIN).parent().unwrap().display().to_string()
}

/// Each code appears where its rule is broken.
#[test]
fn each_code_appears_where_expected() {
    let now = ::time::OffsetDateTime::now_utc();
    let d = gen_dir(&["--key-type", "ecdsa-p256", "--days", "10"]);
    let dir = d.path();
    // expiring, name_mismatch.
    let (_, doc) = inspect_json(dir, &["--warn-days", "30", "--server-name", "milvus-proxy"]);
    let server = codes_of(entry(&doc, "server.pem"));
    assert!(server.contains(&"expiring".to_string()), "{server:?}");
    assert!(server.contains(&"name_mismatch".to_string()), "{server:?}");

    // key_mismatch, key_readable_by_others, serial_behind, directory_writable_by_others.
    let g = gen_dir(&["--key-type", "ecdsa-p256"]);
    let g2 = gen_dir(&["--key-type", "ecdsa-p256"]);
    fs::copy(g2.path().join("client.key"), g.path().join("client.key")).unwrap();
    chmod(&g.path().join("server.key"), 0o644);
    fs::write(g.path().join("ca.srl"), "01\n").unwrap();
    let (code, doc) = inspect_json(g.path(), &[]);
    assert_eq!(code, Some(2));
    assert_eq!(codes_of(entry(&doc, "client.pem")), ["key_mismatch"]);
    assert_eq!(
        codes_of(entry(&doc, "server.pem")),
        ["key_readable_by_others"]
    );
    assert_eq!(codes_of(entry(&doc, "ca.pem")), ["serial_behind"]);
    for shared in [0o777, 0o770] {
        chmod(g.path(), shared);
        let (_, doc) = inspect_json(g.path(), &[]);
        chmod(g.path(), 0o700);
        assert_eq!(
            doc["folders"][0]["problems"][0]["code"], "directory_writable_by_others",
            "{doc:#}"
        );
    }

    // not_a_ca, missing_server_auth, missing_client_auth, not_a_certificate,
    // file_missing, pending_write.
    let h = gen_dir(&["--key-type", "ecdsa-p256"]);
    let hp = h.path();
    fs::copy(hp.join("server.pem"), hp.join("swapped-ca.pem")).unwrap();
    fs::copy(hp.join("client.pem"), hp.join("as-server.pem")).unwrap();
    fs::write(hp.join("garbage.pem"), "not a certificate").unwrap();
    let (_, doc) = inspect_json(hp, &["--ca", "swapped-ca.pem", "garbage.pem", "client.pem"]);
    assert!(codes_of(entry(&doc, "swapped-ca.pem")).contains(&"not_a_ca".to_string()));
    assert_eq!(codes_of(entry(&doc, "garbage.pem")), ["not_a_certificate"]);
    let guide = fixtures().join("openssl/guide");
    let (_, doc) = inspect_json(&guide, &[]);
    assert!(codes_of(entry(&doc, "client.pem")).contains(&"missing_client_auth".to_string()));
    fs::copy(hp.join("client.pem"), hp.join("server.pem")).unwrap();
    fs::copy(hp.join("client.key"), hp.join("server.key")).unwrap();
    fs::remove_file(hp.join("ca.srl")).unwrap();
    fs::create_dir(hp.join(".milvus-certs-pending")).unwrap();
    let (_, doc) = inspect_json(hp, &["./server.pem"]);
    let server = codes_of(entry(&doc, "server.pem"));
    assert!(
        server.contains(&"missing_server_auth".to_string()),
        "{server:?}"
    );
    assert!(server.contains(&"pending_write".to_string()), "{server:?}");
    fs::remove_dir(hp.join(".milvus-certs-pending")).unwrap();
    let (_, doc) = inspect_json(hp, &[]);
    assert!(codes_of(entry(&doc, "ca.pem")).contains(&"file_missing".to_string()));

    // expired, not_yet_valid, outlives_ca: pinned times through the library.
    let p = tempfile::tempdir().unwrap();
    milvus_certs::generate::generate(
        &milvus_certs::generate::GenOptions {
            dir: p.path().to_path_buf(),
            days: 1,
            key_type: milvus_certs::KeyType::EcdsaP256,
            ..Default::default()
        },
        now - ::time::Duration::days(3),
    )
    .unwrap();
    let (code, doc) = inspect_json(p.path(), &[]);
    assert_eq!(code, Some(2));
    assert_eq!(codes_of(entry(&doc, "server.pem"))[0], "expired");
    let f = tempfile::tempdir().unwrap();
    milvus_certs::generate::generate(
        &milvus_certs::generate::GenOptions {
            dir: f.path().to_path_buf(),
            key_type: milvus_certs::KeyType::EcdsaP256,
            ..Default::default()
        },
        now + ::time::Duration::days(3),
    )
    .unwrap();
    let (_, doc) = inspect_json(f.path(), &[]);
    assert_eq!(codes_of(entry(&doc, "server.pem"))[0], "not_yet_valid");
    let o = tempfile::tempdir().unwrap();
    milvus_certs::generate::generate(
        &milvus_certs::generate::GenOptions {
            dir: o.path().to_path_buf(),
            key_type: milvus_certs::KeyType::EcdsaP256,
            ..Default::default()
        },
        now,
    )
    .unwrap();
    // A CA re-signed for a shorter life than its leaves: they outlive it.
    run_ok(
        o.path(),
        &["renew", "--ca", "--ca-days", "100", "--no-backup"],
    );
    let (_, doc) = inspect_json(o.path(), &[]);
    assert_eq!(codes_of(entry(&doc, "server.pem")), ["outlives_ca"]);
}

/// The summary counts certificates apart from inputs that hold none, and a
/// closed stdout ends the run quietly.
#[test]
fn summary_counts_inputs_without_a_certificate_and_a_closed_pipe_is_quiet() {
    let d = gen_dir(&["--key-type", "ecdsa-p256"]);
    fs::write(d.path().join("a.pem"), "nothing").unwrap();
    fs::write(d.path().join("b.pem"), "").unwrap();
    let out = run(
        d.path(),
        &["inspect", "server.pem", "ca.pem", "a.pem", "b.pem"],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("2 certificates: 2 ok; 2 inputs without a certificate"),
        "{text}"
    );
    // More than a pipe's buffer of JSON, so the writer meets the closed pipe.
    let many = d.path().join("many");
    fs::create_dir(&many).unwrap();
    for i in 0..150 {
        fs::copy(d.path().join("server.pem"), many.join(format!("{i}.pem"))).unwrap();
    }
    let out = shell_ok(
        "sh",
        d.path(),
        &format!(
            "'{BIN}' inspect --json many 2>err | head -1; test ! -s err || {{ cat err; exit 1; }}"
        ),
        &[],
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "{\n");
}

/// The README lists every finding code in its table.
#[test]
fn the_readme_lists_every_code() {
    let readme =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/reference.md"))
            .unwrap();
    let table = readme
        .split("### Finding codes")
        .nth(1)
        .expect("a Finding codes section");
    for code in milvus_certs::CODES {
        assert!(
            table.contains(&format!("| `{code}` |")),
            "{code} not in the README"
        );
    }
}

/// A folder holding none of gen's seven files and nothing `add` made (an
/// empty folder, a mistyped `--dir`) is one `no_certificate_files` problem
/// (exit 2) saying so, in text and JSON, not a `file_missing` per file; a
/// folder that holds any of them still lists what it lacks, and only the
/// client files mention `--mode 1`.
#[test]
fn a_folder_without_any_certificate_file_is_one_problem() {
    let t = Test::new();
    fs::create_dir(t.path().join("empty dir")).unwrap();
    let out = t
        .cmd(&["inspect", "--dir", "empty dir"])
        .status(2)
        .stdout_contains(
            "problem: empty dir holds none of the seven files gen writes (ca.key, ca.pem, \
             ca.srl, server.key, server.pem, client.key, client.pem); check --dir, or make \
             them with `milvus-certs gen --dir 'empty dir'`",
        )
        .run();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.matches("problem:").count(), 1, "{text}");
    assert!(!text.contains("--mode 1"), "{text}");
    assert!(
        text.starts_with("empty dir/  not a certificate folder\n"),
        "{text}"
    );

    let (code, doc) = inspect_json(t.path(), &["--dir", "empty dir"]);
    assert_eq!(code, Some(2));
    assert_eq!(doc["status"], "problem");
    assert_eq!(doc["certificates"], serde_json::json!([]), "{doc:#}");
    assert_eq!(doc["folders"][0]["kind"], "ca");
    assert_eq!(all_codes(&doc), ["no_certificate_files"]);
    assert_eq!(
        doc["folders"][0]["problems"][0]["fix"],
        "check --dir, or make them with `milvus-certs gen --dir 'empty dir'`"
    );

    // One of the seven there: what is missing is listed, and only the
    // client files say how to do without them.
    let d = gen_dir(&["--key-type", "ecdsa-p256"]);
    for f in ["ca.pem", "server.pem", "client.pem"] {
        fs::remove_file(d.path().join(f)).unwrap();
    }
    let (code, doc) = inspect_json(d.path(), &[]);
    assert_eq!(code, Some(2));
    let message = |file: &str| entry(&doc, file)["problems"][0]["message"].clone();
    assert_eq!(
        message("ca.pem"),
        "ca.pem is missing (the CA certificate; a CA folder needs it)"
    );
    assert_eq!(
        message("server.pem"),
        "server.pem is missing (the server certificate; a CA folder needs it)"
    );
    assert_eq!(
        message("client.pem"),
        "client.pem is missing (the client certificate; a CA folder needs it (pass --mode 1 \
         if clients use one-way TLS))"
    );
}
