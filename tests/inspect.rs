//! `milvus-certs inspect`: exit codes, reasons, JSON against the
//! certificates' own fields, hostile input, and live servers (openssl s_server).

use std::fs;
use std::path::Path;

use crate::common::*;
use milvus_certs::KeyType;
use milvus_certs::generate::{GenOptions, generate};
use serde_json::Value;
use x509_parser::prelude::*;

/// The problems' messages and fixes, as one string.
fn problems(e: &Value) -> String {
    findings(&e["problems"]).join(" | ")
}

/// Each finding of a JSON list as `message; fix`.
fn findings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|f| match f["fix"].as_str() {
            Some(fix) => format!("{}; {fix}", f["message"].as_str().unwrap()),
            None => f["message"].as_str().unwrap().to_string(),
        })
        .collect()
}

/// The codes of an entry's problems and warnings.
fn codes(e: &Value) -> Vec<String> {
    ["problems", "warnings"]
        .iter()
        .flat_map(|k| e[*k].as_array().cloned().unwrap_or_default())
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

/// A JSON array of strings.
fn str_list(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect()
}

fn pinned_gen(dir: &Path, now: ::time::OffsetDateTime, days: u32) {
    let opts = GenOptions {
        dir: dir.to_path_buf(),
        days,
        key_type: KeyType::EcdsaP256,
        ..GenOptions::default()
    };
    generate(&opts, now).unwrap();
}

#[test]
fn healthy_directory_exits_0_with_a_summary() {
    let d = gen_dir(&["--san", "10.0.0.5"]);
    let out = run(d.path(), &["inspect"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.trim_end().ends_with("\n3 certificates: 3 ok."),
        "{text}"
    );
    assert!(!text.contains('\x1b'), "no colour when not on a terminal");
    let out = run(
        d.path(),
        &[
            "inspect",
            "--server-name",
            "localhost",
            "--server-name",
            "10.0.0.5",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn expiring_within_warn_days_exits_1_else_0() {
    let d = gen_dir(&["--days", "10", "--key-type", "ecdsa-p256"]);
    let out = run(d.path(), &["inspect", "--warn-days", "30"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("\n3 certificates: 1 ok and 2 expiring, the first in 9 days (renew them before then).\n")
            || text.contains("\n3 certificates: 1 ok and 2 expiring, the first in 10 days (renew them before then).\n"),
        "{text}"
    );
    let doc = json(&run(d.path(), &["inspect", "--warn-days", "30", "--json"]));
    assert_eq!(doc["status"], "expiring");
    assert_eq!(entry(&doc, "server.pem")["status"], "expiring");
    assert_eq!(entry(&doc, "ca.pem")["status"], "ok");
    assert_eq!(
        run(d.path(), &["inspect", "--warn-days", "5"])
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn expired_and_not_yet_valid_exit_2() {
    let now = ::time::OffsetDateTime::now_utc();
    let past = tempfile::tempdir().unwrap();
    pinned_gen(past.path(), now - ::time::Duration::days(400), 10);
    let out = run(past.path(), &["inspect", "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let doc = json(&out);
    assert_eq!(doc["status"], "problem");
    let server = entry(&doc, "server.pem");
    assert_eq!(server["status"], "expired");
    assert!(server["days_left"].as_i64().unwrap() <= -389);
    assert!(problems(server).contains("expired on"));

    let future = tempfile::tempdir().unwrap();
    pinned_gen(future.path(), now + ::time::Duration::days(30), 100);
    let out = run(future.path(), &["inspect", "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let doc = json(&out);
    assert_eq!(entry(&doc, "server.pem")["status"], "not-yet-valid");
    assert_eq!(entry(&doc, "ca.pem")["status"], "not-yet-valid");
}

#[test]
fn the_guides_client_certificate_is_a_problem_with_the_reason() {
    let out = run(&fixtures().join("openssl/guide"), &["inspect", "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let doc = json(&out);
    let client = entry(&doc, "client.pem");
    assert_eq!(client["status"], "invalid");
    assert!(problems(client).contains(
        "its extendedKeyUsage lacks clientAuth: Milvus with tlsMode 2 (Go crypto/tls) rejects it"
    ));
    assert!(problems(client).contains("run `milvus-certs renew --only client`"));
    // (The fixture's keys are checked out 0644: key_readable_by_others too.)
    assert_eq!(codes(client)[0], "missing_client_auth");
    assert_eq!(entry(&doc, "server.pem")["status"], "ok");
    assert_eq!(
        entry(&doc, "ca.pem")["status"],
        "ok",
        "{}",
        problems(entry(&doc, "ca.pem"))
    );
}

#[test]
fn a_swapped_key_is_a_mismatch() {
    let d = gen_dir(&["--key-type", "ecdsa-p256"]);
    let dir = d.path();
    let (s, c) = (
        fs::read(dir.join("server.key")).unwrap(),
        fs::read(dir.join("client.key")).unwrap(),
    );
    fs::write(dir.join("server.key"), c).unwrap();
    fs::write(dir.join("client.key"), s).unwrap();
    let out = run(dir, &["inspect", "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let doc = json(&out);
    for f in ["server.pem", "client.pem"] {
        assert!(
            problems(entry(&doc, f)).contains("does not belong to this certificate"),
            "{f}"
        );
    }
    assert_eq!(entry(&doc, "ca.pem")["status"], "ok");
}

#[test]
fn names_are_checked_dns_and_ip() {
    let d = gen_dir(&[
        "--common-name",
        "milvus.example.com",
        "--key-type",
        "ed25519",
    ]);
    let dir = d.path();
    let out = run(dir, &["inspect", "--server-name", "milvus-proxy"]);
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("certificate is valid for milvus.example.com, not milvus-proxy"),
        "{text}"
    );
    assert!(text.contains("run `milvus-certs renew --only server --san milvus-proxy`"));
    let out = run(dir, &["inspect", "--server-name", "10.0.0.5"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("doesn't contain any IP SANs"));
    assert_eq!(
        run(dir, &["inspect", "--server-name", "MILVUS.example.com"])
            .status
            .code(),
        Some(0)
    );
    // A bad --server-name is a usage error: exit 2, one line.
    assert_one_error_line(
        &run(dir, &["inspect", "--server-name", "bad name"]),
        2,
        &["--server-name"],
    );
}

#[test]
fn bad_inputs_are_invalid_with_a_reason_never_a_panic() {
    let d = gen_dir(&["--key-type", "ecdsa-p256"]);
    let dir = d.path();
    let pem = fs::read_to_string(dir.join("server.pem")).unwrap();
    let der = cert_der(&dir.join("server.pem"));
    let bad = tempfile::tempdir().unwrap();
    let b = bad.path();
    let mid = pem.len() / 2;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.pem", Vec::new(), "the file is empty"),
        ("garbage.pem", b"hello, world\n".to_vec(), "no PEM section"),
        // A whole DER certificate is read now (issue 16, see
        // der_certificates_and_keys_are_read_and_named); a cut one is not.
        (
            "der.crt",
            der[..der.len() / 2].to_vec(),
            "binary (DER?) but not a valid X.509 certificate",
        ),
        ("truncated.pem", pem.as_bytes()[..mid].to_vec(), "END"),
        (
            "key.pem",
            fs::read(dir.join("server.key")).unwrap(),
            "private key",
        ),
        (
            "b64garbage.pem",
            b"-----BEGIN CERTIFICATE-----\nAAAAAAAAAAAA\n-----END CERTIFICATE-----\n".to_vec(),
            "not a certificate",
        ),
        (
            "badb64.pem",
            b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n".to_vec(),
            "base64",
        ),
    ];
    for (name, bytes, _) in &cases {
        fs::write(b.join(name), bytes).unwrap();
    }
    fs::create_dir(b.join("adir.pem")).unwrap();
    std::os::unix::fs::symlink(b.join("nowhere"), b.join("dangling.pem")).unwrap();
    let mut args = vec!["inspect", "--json"];
    let paths: Vec<String> = cases
        .iter()
        .map(|(n, _, _)| b.join(n).display().to_string())
        .collect();
    args.extend(paths.iter().map(String::as_str));
    let dangling = b.join("dangling.pem").display().to_string();
    args.push(&dangling);
    let out = run(dir, &args);
    assert_eq!(out.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    let doc = json(&out);
    for (name, _, reason) in &cases {
        let e = entry(&doc, name);
        assert_eq!(e["status"], "invalid", "{name}");
        assert!(problems(e).contains(reason), "{name}: {}", problems(e));
    }
    assert!(problems(entry(&doc, "dangling.pem")).contains("symbolic link"));
    // A directory given as a path: its .pem files, including the odd ones.
    let out = run(dir, &["inspect", "--json", &b.display().to_string()]);
    assert_eq!(out.status.code(), Some(2));
    let doc = json(&out);
    assert!(problems(entry(&doc, "adir.pem")).contains("directory"));
    assert_eq!(entry(&doc, "empty.pem")["status"], "invalid");
}

#[test]
fn a_missing_file_of_the_seven_is_a_reason() {
    let d = gen_dir(&["--key-type", "ecdsa-p256"]);
    let dir = d.path();
    fs::remove_file(dir.join("client.pem")).unwrap();
    fs::remove_file(dir.join("server.key")).unwrap();
    fs::remove_file(dir.join("ca.srl")).unwrap();
    let out = run(dir, &["inspect", "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let doc = json(&out);
    assert!(problems(entry(&doc, "client.pem")).contains("client.pem is missing"));
    assert!(problems(entry(&doc, "server.pem")).contains("server.key is missing"));
    assert!(problems(entry(&doc, "ca.pem")).contains("ca.srl is missing"));
}

#[test]
fn serial_file_below_issued_serials_is_a_problem() {
    let d = gen_dir(&["--key-type", "ecdsa-p256"]);
    fs::write(d.path().join("ca.srl"), "01\n").unwrap();
    let doc = json(&run(d.path(), &["inspect", "--json"]));
    assert_eq!(codes(entry(&doc, "ca.pem")), ["serial_behind"]);
    assert!(problems(entry(&doc, "ca.pem")).contains("would reuse one"));
    fs::write(d.path().join("ca.srl"), "zz\n").unwrap();
    let doc = json(&run(d.path(), &["inspect", "--json"]));
    assert!(problems(entry(&doc, "ca.pem")).contains("ca.srl holds"));
    assert_eq!(codes(entry(&doc, "ca.pem")), ["serial_file_invalid"]);
}

#[test]
fn a_leaf_from_another_ca_is_an_unknown_authority() {
    let ours = gen_dir(&["--key-type", "ecdsa-p256"]);
    let other = gen_dir(&["--key-type", "ecdsa-p256"]);
    fs::copy(
        other.path().join("server.pem"),
        ours.path().join("server.pem"),
    )
    .unwrap();
    fs::copy(
        other.path().join("server.key"),
        ours.path().join("server.key"),
    )
    .unwrap();
    let doc = json(&run(ours.path(), &["inspect", "--json"]));
    assert!(problems(entry(&doc, "server.pem")).contains("unknown authority"));
}

/// Signatures we do not make, from OpenSSL, judged as Go's crypto/x509
/// (Milvus) does: RSA-PSS with a salt as long as the hash verifies (until
/// x509-parser checked signatures, it was reported as made by another key);
/// RSA-PSS with a longer salt (OpenSSL's default) and SHA-1 do not.
#[test]
fn rsa_pss_signatures_verify_and_sha1_ones_do_not() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let openssl = |args: &str| assert!(openssl_ok(dir, &args.split(' ').collect::<Vec<_>>()));
    openssl(
        "req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -sha256 -days 3650 \
         -subj /CN=rsa-ca -addext basicConstraints=critical,CA:TRUE -addext keyUsage=keyCertSign",
    );
    let leaf = |name: &str, sign: &str| {
        openssl(&format!(
            "req -new -newkey rsa:2048 -nodes -keyout {name}.key -subj /CN={name} -out {name}.csr"
        ));
        openssl(&format!(
            "x509 -req -in {name}.csr -CA ca.pem -CAkey ca.key -days 365 -out {name}.pem {sign}"
        ));
    };
    let pss = "-sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen";
    leaf("pss", &format!("{pss}:digest"));
    leaf("pss-max", &format!("{pss}:max"));
    leaf("sha1", "-sha1");
    leaf("sha256", "-sha256");
    let doc = json(&run(
        dir,
        &[
            "inspect",
            "ca.pem",
            "pss.pem",
            "pss-max.pem",
            "sha1.pem",
            "sha256.pem",
            "--json",
        ],
    ));
    assert!(codes(entry(&doc, "pss.pem")).is_empty(), "{doc:#}");
    assert!(codes(entry(&doc, "sha256.pem")).is_empty(), "{doc:#}");
    assert_eq!(codes(entry(&doc, "pss-max.pem")), ["not_issued_by_ca"]);
    assert_eq!(codes(entry(&doc, "sha1.pem")), ["not_issued_by_ca"]);
}

#[test]
fn a_leaf_outliving_its_ca_is_a_warning_not_a_problem() {
    let d = gen_dir(&["--key-type", "ecdsa-p256"]);
    run_ok(
        d.path(),
        &["renew", "--ca", "--ca-days", "365", "--no-backup"],
    );
    let out = run(d.path(), &["inspect", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let doc = json(&out);
    let w = entry(&doc, "server.pem")["warnings"].to_string();
    assert!(w.contains("outlives its CA"), "{w}");
}

#[test]
fn json_matches_the_certificates_own_fields() {
    let d = gen_dir(&[
        "--common-name",
        "milvus.example.com",
        "--san",
        "10.0.0.5",
        "--san",
        "milvus-proxy",
    ]);
    let dir = d.path();
    let out = run(dir, &["inspect", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let doc = json(&out);
    assert_eq!(doc["status"], "ok");
    assert_eq!(doc["certificates"].as_array().unwrap().len(), 3);
    for (file, role) in [
        ("ca.pem", "ca"),
        ("server.pem", "server"),
        ("client.pem", "client"),
    ] {
        let e = entry(&doc, file);
        let der = cert_der(&dir.join(file));
        let (_, c) = X509Certificate::from_der(&der).unwrap();
        assert_eq!(e["role"], role);
        assert_eq!(e["status"], "ok");
        let serial: String = c
            .raw_serial()
            .iter()
            .skip_while(|b| **b == 0)
            .map(|b| format!("{b:02X}"))
            .collect();
        assert_eq!(e["serial"], serial);
        let fmt = &::time::format_description::well_known::Rfc3339;
        assert_eq!(
            e["not_after"],
            c.validity().not_after.to_datetime().format(fmt).unwrap()
        );
        assert_eq!(
            e["not_before"],
            c.validity().not_before.to_datetime().format(fmt).unwrap()
        );
        let left =
            (c.validity().not_after.to_datetime() - ::time::OffsetDateTime::now_utc()).whole_days();
        assert!((e["days_left"].as_i64().unwrap() - left).abs() <= 1);
        assert_eq!(e["key"], "rsa2048");
        assert_eq!(
            e["subject"].as_str().unwrap().split(", ").last().unwrap(),
            format!(
                "CN={}",
                c.subject()
                    .iter_common_name()
                    .next()
                    .unwrap()
                    .as_str()
                    .unwrap()
            )
        );
        assert!(e["problems"].as_array().unwrap().is_empty());
        let ku = str_list(&e["key_usage"]);
        let eku = str_list(&e["ext_key_usage"]);
        let sans = str_list(&e["sans"]);
        match role {
            "ca" => {
                assert_eq!(ku, ["keyCertSign", "cRLSign"]);
                assert!(eku.is_empty() && sans.is_empty());
            }
            _ => {
                assert_eq!(
                    ku,
                    ["digitalSignature", "nonRepudiation", "keyEncipherment"]
                );
                assert_eq!(
                    eku,
                    [if role == "server" {
                        "serverAuth"
                    } else {
                        "clientAuth"
                    }]
                );
                assert_eq!(sans, ["milvus.example.com", "10.0.0.5", "milvus-proxy"]);
            }
        }
    }
}

#[test]
fn bundles_and_arbitrary_files() {
    let d = gen_dir(&["--key-type", "ecdsa-p256"]);
    let dir = d.path();
    let bundle = [
        fs::read_to_string(dir.join("server.pem")).unwrap(),
        fs::read_to_string(dir.join("ca.pem")).unwrap(),
    ]
    .concat();
    let t = tempfile::tempdir().unwrap();
    fs::write(t.path().join("chain.crt"), bundle).unwrap();
    let out = run(t.path(), &["inspect", "chain.crt", "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let doc = json(&out);
    assert_eq!(entry(&doc, "chain.crt#1")["role"], "server");
    assert_eq!(entry(&doc, "chain.crt#2")["role"], "ca");
}

/// Colour as anstream decides it: on a terminal that has colours, never
/// with NO_COLOR (an empty one is unset, https://no-color.org), CLICOLOR=0
/// or TERM=dumb, and in a pipe only with CLICOLOR_FORCE (the last three
/// since output.rs uses anstream; before, TERM and CLICOLOR* were ignored).
#[test]
fn colour_on_a_terminal_or_with_clicolor_force_never_with_no_color() {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        skip_unless_ci("the `script` command (bsdutils) gives inspect a terminal");
        return;
    }
    let d = gen_dir(&["--key-type", "ecdsa-p256"]);
    let run = |tty: bool, env: &[(&str, &str)]| {
        let mut cmd = if tty {
            let mut c = std::process::Command::new("script");
            c.args(["-qec", &format!("{BIN} inspect"), "/dev/null"]);
            c
        } else {
            let mut c = std::process::Command::new(BIN);
            c.arg("inspect");
            c
        };
        cmd.current_dir(d.path()).env("TERM", "xterm");
        for var in ["NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE", "CI"] {
            cmd.env_remove(var);
        }
        cmd.envs(env.iter().copied());
        let out = String::from_utf8_lossy(&cmd.output().unwrap().stdout).to_string();
        assert!(out.contains("ok"), "{out}");
        out
    };
    let green = "\x1b[32mok\x1b[0m";
    assert!(run(true, &[]).contains(green));
    assert!(run(true, &[("NO_COLOR", "")]).contains(green));
    assert!(!run(true, &[("NO_COLOR", "1")]).contains('\x1b'));
    assert!(!run(true, &[("CLICOLOR", "0")]).contains('\x1b'));
    assert!(!run(true, &[("TERM", "dumb")]).contains('\x1b'));
    assert!(!run(false, &[]).contains('\x1b'));
    assert!(run(false, &[("CLICOLOR_FORCE", "1")]).contains(green));
    let both = [("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")];
    assert!(!run(false, &both).contains('\x1b'));
}

// --- live servers --------------------------------------------------------

#[test]
fn connect_one_way_and_mutual_against_openssl_s_server() {
    let d = gen_dir(&["--san", "127.0.0.1"]);
    let dir = d.path();
    let elsewhere = tempfile::tempdir().unwrap();
    let ca = dir.join("ca.pem").display().to_string();
    let dir_s = dir.display().to_string();

    // tlsMode 1: one-way.
    let one_way = s_server(dir, &[]);
    let target = format!("127.0.0.1:{}", one_way.port);
    let out = run(
        elsewhere.path(),
        &["inspect", "--connect", &target, "--ca", &ca, "--json"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let doc = json(&out);
    let leaf = entry(&doc, &target);
    assert_eq!(leaf["role"], "server");
    assert_eq!(
        leaf["serial"].as_str().unwrap(),
        milvus_certs::CertInfo::from_der(&cert_der(&dir.join("server.pem")))
            .unwrap()
            .serial
            .to_string()
    );
    // A wrong name, and a CA that did not sign it.
    let out = run(
        elsewhere.path(),
        &[
            "inspect",
            "--connect",
            &target,
            "--ca",
            &ca,
            "--server-name",
            "milvus-proxy",
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(problems(entry(&json(&out), &target)).contains("not milvus-proxy"));
    let guide_ca = fixtures()
        .join("openssl/guide/ca.pem")
        .display()
        .to_string();
    let out = run(
        elsewhere.path(),
        &["inspect", "--connect", &target, "--ca", &guide_ca, "--json"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(problems(entry(&json(&out), &target)).contains("unknown authority"));
    drop(one_way);

    // A server that only speaks TLS 1.2 is inspected too.
    let tls12 = s_server(dir, &["-tls1_2"]);
    let target12 = format!("127.0.0.1:{}", tls12.port);
    let out = run(
        elsewhere.path(),
        &["inspect", "--connect", &target12, "--ca", &ca, "--json"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(entry(&json(&out), &target12)["role"], "server");
    drop(tls12);

    // tlsMode 2: the server requires a client certificate.
    let mutual = s_server(
        dir,
        &["-CAfile", "ca.pem", "-Verify", "1", "-verify_return_error"],
    );
    let target = format!("127.0.0.1:{}", mutual.port);
    let out = run(
        elsewhere.path(),
        &["inspect", "--connect", &target, "--dir", &dir_s, "--json"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let e = entry(&json(&out), &target).clone();
    assert_eq!(e["client_certificate"], "accepted", "{e:#}");
    assert!(codes(&e).is_empty(), "{e:#}");
    let out = run(
        elsewhere.path(),
        &["inspect", "--connect", &target, "--dir", &dir_s],
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("client certificate accepted"));
    // The guide's serverAuth-only client certificate is rejected.
    let g = fixtures().join("openssl/guide");
    let (gc, gk) = (
        g.join("client.pem").display().to_string(),
        g.join("client.key").display().to_string(),
    );
    let out = run(
        elsewhere.path(),
        &[
            "inspect",
            "--connect",
            &target,
            "--ca",
            &ca,
            "--client-cert",
            &gc,
            "--client-key",
            &gk,
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let e = entry(&json(&out), &target).clone();
    assert!(
        problems(&e).contains("client certificate rejected: "),
        "{e:#}"
    );
    assert!(problems(&e).contains("alert"));
    assert_eq!(e["client_certificate"], "rejected");
    assert!(codes(&e).contains(&"client_cert_rejected".to_string()));
    // No client certificate at all.
    let out = run(
        elsewhere.path(),
        &["inspect", "--connect", &target, "--ca", &ca, "--json"],
    );
    assert_eq!(out.status.code(), Some(2));
    let p = problems(entry(&json(&out), &target));
    assert!(
        p.contains("alert") || p.contains("closed the connection"),
        "{p}"
    );
}

#[test]
fn connect_failures_are_clear() {
    let d = gen_dir(&["--key-type", "ecdsa-p256"]);
    let ca = d.path().join("ca.pem").display().to_string();
    // Refused: a port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = run(
        d.path(),
        &[
            "inspect",
            "--connect",
            &format!("127.0.0.1:{port}"),
            "--ca",
            &ca,
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("connection refused"));
    // Not TLS: a plain TCP server that answers in HTTP.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 512];
        let _ = s.read(&mut buf);
        let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n");
    });
    let out = run(
        d.path(),
        &[
            "inspect",
            "--connect",
            &format!("127.0.0.1:{port}"),
            "--ca",
            &ca,
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "does not speak TLS: it answered in plaintext",
        "common.security.tlsMode is 0",
        "`milvus-certs export compose --milvus-config milvus.yaml`",
    ] {
        assert!(stdout.contains(needle), "{needle}: {stdout}");
    }
    server.join().unwrap();
    // Not TLS: a plaintext gRPC server (HTTP/2), which sends its SETTINGS
    // frame first, as Milvus with tlsMode 0 does.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut s, _) = listener.accept().unwrap();
        let _ = s.write_all(&[0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 5, 0, 0, 64, 0]);
        let mut buf = [0u8; 512];
        let _ = s.read(&mut buf);
    });
    let out = run(
        d.path(),
        &[
            "inspect",
            "--connect",
            &format!("127.0.0.1:{port}"),
            "--ca",
            &ca,
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("does not speak TLS: it answered in plaintext"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    server.join().unwrap();
    // Silent: accepts, never answers; --timeout 1.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let start = std::time::Instant::now();
    let out = run(
        d.path(),
        &[
            "inspect",
            "--connect",
            &format!("127.0.0.1:{port}"),
            "--ca",
            &ca,
            "--timeout",
            "1",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!(
        "no complete TLS answer from 127.0.0.1:{port} within 1 s"
    )));
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
    drop(listener);
    // Not HOST:PORT.
    let out = run(d.path(), &["inspect", "--connect", "milvus", "--ca", &ca]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("HOST:PORT"));
}

/// Issue 11: `--timeout` bounds the whole exchange, not each read. A server
/// that sends a TLS record header and then one byte per second would keep a
/// per-read timeout waiting for ever; it must end at the deadline.
#[test]
fn connect_timeout_is_one_deadline_against_a_slow_drip_server() {
    use std::io::Write;
    let d = gen_dir(&["--key-type", "ecdsa-p256"]);
    let ca = d.path().join("ca.pem").display().to_string();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // A handshake record announcing 256 bytes, dripped for 15 s at most (so
    // the thread ends by itself), far longer than --timeout 2 + 1 s: a client
    // that only waited for the drip to stop would fail the elapsed check.
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut sent = 0;
        if s.write_all(b"\x16\x03\x03").is_err() {
            return sent;
        }
        for byte in [0x01u8].into_iter().chain(std::iter::repeat_n(0, 14)) {
            if s.write_all(&[byte]).is_err() {
                break; // the client gave up
            }
            sent += 1;
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
        sent
    });
    let start = std::time::Instant::now();
    let out = run(
        d.path(),
        &[
            "inspect",
            "--connect",
            &format!("127.0.0.1:{port}"),
            "--ca",
            &ca,
            "--timeout",
            "2",
        ],
    );
    let elapsed = start.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "no complete TLS answer from 127.0.0.1:{port} within 2 s"
        )),
        "{stdout}"
    );
    assert!(
        elapsed < std::time::Duration::from_secs(3),
        "--timeout 2 took {elapsed:?}"
    );
    assert!(
        server.join().unwrap() < 14,
        "the client must not wait for the drip to end"
    );
}

/// docs/deploy.md's "Use in CI" shell step, run exactly as written.
#[test]
fn the_readme_ci_step_works_as_written() {
    let readme =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/deploy.md")).unwrap();
    let step = readme
        .split("## Use in CI")
        .nth(1)
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("milvus-certs inspect --dir deploy/tls"))
        })
        .expect("docs/deploy.md's CI shell step");
    let args: Vec<&str> = step.split_whitespace().skip(1).collect();
    for (days, code) in [("3650", 0), ("10", 1)] {
        let d = tempfile::tempdir().unwrap();
        run_ok(
            d.path(),
            &[
                "gen",
                "--dir",
                "deploy/tls",
                "--common-name",
                "milvus.example.com",
                "--days",
                days,
                "--key-type",
                "ecdsa-p256",
            ],
        );
        let out = run(d.path(), &args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{step} with --days {days}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

/// A certificate directory given as a path, with an interrupted write in it:
/// read as it is (issue 11: inspecting paths writes nothing), without waiting
/// on its own lock, and the interrupted write is reported.
#[test]
fn an_interrupted_write_in_a_path_directory_is_reported_not_touched() {
    let d = gen_dir(&["--key-type", "ecdsa-p256"]);
    let staging = d.path().join(STAGING_DIR);
    fs::create_dir(&staging).unwrap();
    fs::write(staging.join("server.pem"), "half-written").unwrap();
    let before = snapshot(d.path());
    let elsewhere = tempfile::tempdir().unwrap();
    let start = std::time::Instant::now();
    let out = run(
        elsewhere.path(),
        &["inspect", "--json", &d.path().display().to_string()],
    );
    assert!(
        start.elapsed() < std::time::Duration::from_secs(5),
        "waited on its own lock"
    );
    assert_eq!(out.status.code(), Some(0));
    let doc = json(&out);
    let folder = &doc["folders"][0];
    assert_eq!(folder["warnings"][0]["code"], "pending_write", "{doc:#}");
    assert_eq!(snapshot(d.path()), before, "nothing changed");
    assert!(staging.exists());
    // `inspect --dir` may still recover it.
    let out = run(
        elsewhere.path(),
        &["inspect", "--dir", &d.path().display().to_string()],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("before it committed"));
    assert!(!staging.exists());
}

/// `inspect cert/server.pem` reads that file only: an interrupted write in
/// its folder is left for `inspect --dir` or the next command that writes
/// (a loose file's folder is not ours to change: it may be /tmp).
#[test]
fn inspecting_a_file_never_writes_in_its_folder() {
    let d = gen_dir(&["--key-type", "ecdsa-p256"]);
    let staging = d.path().join(STAGING_DIR);
    fs::create_dir(&staging).unwrap();
    fs::write(staging.join("server.pem"), "half-written").unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let file = d.path().join("server.pem").display().to_string();
    let out = run(elsewhere.path(), &["inspect", &file]);
    assert_eq!(out.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("before it committed"));
    assert_eq!(
        fs::read(staging.join("server.pem")).unwrap(),
        b"half-written"
    );
}

/// Issue 16: the summary is one sentence a person would write, whatever
/// the mix of statuses.
#[test]
fn the_summary_line_is_a_sentence() {
    let d = gen_dir(&["--days", "10", "--key-type", "ecdsa-p256"]);
    fs::remove_file(d.path().join("client.key")).unwrap();
    let out = run(d.path(), &["inspect", "--warn-days", "30"]);
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text.lines().last().unwrap();
    let days = last
        .strip_prefix("3 certificates: 1 ok, 1 expiring in ")
        .and_then(|r| r.strip_suffix(" days, and 1 invalid (see the problems above)."))
        .unwrap_or_else(|| panic!("{last}"));
    assert!(["9", "10"].contains(&days), "{last}");
    let doc = json(&run(d.path(), &["inspect", "--warn-days", "30", "--json"]));
    assert_eq!(doc["summary"].as_str(), Some(last));

    let out = run(d.path(), &["inspect", "ca.pem"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().last(),
        Some("1 certificate: 1 ok.")
    );
}

/// `openssl x509 -outform DER` / `openssl pkey -outform DER` of `dir/from`
/// into `dir/to`.
fn to_der(dir: &Path, tool: &str, from: &str, to: &str) {
    assert!(openssl_ok(
        dir,
        &[tool, "-in", from, "-outform", "DER", "-out", to]
    ));
    assert_ne!(fs::read(dir.join(to)).unwrap()[0], b'-', "{to} is binary");
}

/// Issue 16: DER certificates and keys are read, and the output says which
/// encoding was read. Loose DER files are fine; in a certificate directory a
/// DER file Milvus loads is a problem whose command, run as printed, fixes it.
#[test]
fn der_certificates_and_keys_are_read_and_named() {
    let d = gen_dir(&["--key-type", "ecdsa-p256"]);
    let dir = d.path();
    fs::create_dir(dir.join("der")).unwrap();
    to_der(dir, "x509", "ca.pem", "der/ca.der");
    to_der(dir, "x509", "server.pem", "der/server.der");

    // Loose files, and a directory of them: read, checked, named DER.
    for args in [
        &["inspect", "der/ca.der", "der/server.der"][..],
        &["inspect", "der"],
    ] {
        let out = run(dir, args);
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {text}");
        assert_eq!(text.matches("\n    encoding  DER\n").count(), 2, "{text}");
        let mut json_args = args.to_vec();
        json_args.push("--json");
        let doc = json(&run(dir, &json_args));
        let certs = doc["certificates"].as_array().unwrap();
        assert_eq!(certs.len(), 2);
        for c in certs {
            assert_eq!(c["encoding"], "der", "{c}");
            assert_eq!(c["key_encoding"], Value::Null);
        }
        let server = certs.iter().find(|c| c["role"] == "server").unwrap();
        let pem = milvus_certs::CertInfo::from_der(&cert_der(&dir.join("server.pem"))).unwrap();
        assert_eq!(server["subject"].as_str(), Some(pem.subject.as_str()));
        assert_eq!(
            server["serial"].as_str(),
            Some(pem.serial.to_string().as_str())
        );
        assert_eq!(server["key"], "ecdsa-p256");
    }
    // Another CA of the same name (another key) in DER: the server's
    // signature no longer verifies, so the DER was parsed and checked.
    let other = gen_dir(&["--key-type", "ecdsa-p256"]);
    fs::copy(other.path().join("ca.pem"), dir.join("other-ca.pem")).unwrap();
    to_der(dir, "x509", "other-ca.pem", "der/ca.der");
    let out = run(dir, &["inspect", "der"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("its signature does not verify with der/ca.der's key"),
        "{text}"
    );

    // In the certificate directory: ca.key in DER is fine (only milvus-certs
    // and OpenSSL read it) ...
    to_der(dir, "pkey", "ca.key", "ca.key.der");
    fs::rename(dir.join("ca.key.der"), dir.join("ca.key")).unwrap();
    let out = run(dir, &["inspect"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("    encoding  PEM (its key file: DER)\n"),
        "{text}"
    );

    // ... but server.pem and server.key in DER are problems Milvus would hit.
    to_der(dir, "x509", "server.pem", "server.pem.der");
    fs::rename(dir.join("server.pem.der"), dir.join("server.pem")).unwrap();
    to_der(dir, "pkey", "server.key", "server.key.der");
    fs::rename(dir.join("server.key.der"), dir.join("server.key")).unwrap();
    let out = run(dir, &["inspect"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("    encoding  DER (its key file: DER)\n"),
        "{text}"
    );
    let fixes: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("is DER (binary), but Milvus and its clients read PEM only"))
        .map(|l| l.split('`').nth(1).unwrap())
        .collect();
    assert_eq!(fixes.len(), 2, "{text}");
    for fix in fixes {
        shell_ok("sh", dir, fix, &[]);
    }
    assert_eq!(mode(&dir.join("server.key")), 0o600);
    let out = run(dir, &["inspect"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_milvus_tls_works(dir, &dir.join("ca.pem"), &["localhost"]);
}

/// The guide's CA has no keyUsage: inspect says so and gives the command
/// that adds it (with --dir, as the directory is not the current one); after
/// that command, the warning is gone.
#[test]
fn a_ca_without_key_usage_points_to_renew_ca() {
    let d = tempfile::tempdir().unwrap();
    let guide = d.path().join("my certs");
    fs::create_dir(&guide).unwrap();
    for f in ["ca.pem", "ca.key", "ca.srl", "server.pem", "server.key"] {
        fs::copy(fixtures().join("openssl/guide").join(f), guide.join(f)).unwrap();
    }
    let out = run(d.path(), &["inspect", "--dir", "my certs", "--json"]);
    let doc = json(&out);
    let ca = entry(&doc, "ca.pem");
    assert_eq!(ca["status"], "ok");
    // (The guide's keys are 0644 in the repository: key_readable_by_others.)
    assert!(
        codes(ca).contains(&"ca_missing_extensions".to_string()),
        "{ca}"
    );
    let warnings = findings(&ca["warnings"]);
    let w = warnings
        .iter()
        .find(|w| w.contains("it has no keyUsage"))
        .unwrap_or_else(|| panic!("{warnings:?}"));
    let cmd = "milvus-certs renew --dir 'my certs' --ca";
    assert!(w.contains(&format!("`{cmd}`")), "{w}");
    // The command works as written.
    shell_ok(
        "sh",
        d.path(),
        &cmd.replace("milvus-certs", "\"$BIN\""),
        &[],
    );
    let doc = json(&run(d.path(), &["inspect", "--dir", "my certs", "--json"]));
    let ca = entry(&doc, "ca.pem");
    assert!(
        !codes(ca).contains(&"ca_missing_extensions".to_string()),
        "{ca}"
    );
}

/// Issue 11: `inspect cert/server.pem` never writes in cert/: an interrupted
/// write there is reported (`pending_write`), not completed.
#[test]
fn inspecting_a_loose_file_is_read_only() {
    let d = gen_dir(&["--key-type", "ecdsa-p256"]);
    let staging = d.path().join(STAGING_DIR);
    fs::create_dir(&staging).unwrap();
    fs::write(staging.join("server.pem"), "half-written").unwrap();
    fs::write(staging.join("COMMIT"), "milvus-certs journal v1\n").unwrap();
    let before = snapshot(d.path());
    let elsewhere = tempfile::tempdir().unwrap();
    let file = d.path().join("server.pem").display().to_string();
    let out = run(elsewhere.path(), &["inspect", "--json", &file]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    let doc = json(&out);
    assert_eq!(codes(entry(&doc, "server.pem")), ["pending_write"]);
    assert_eq!(snapshot(d.path()), before, "nothing changed");
}

/// An unreadable file's problem says what to do once (the finding's fix),
/// not the error's generic fix and then the finding's.
#[test]
fn an_unreadable_file_says_its_fix_once() {
    let t = Test::new();
    fs::write(t.path().join("x.pem"), "junk\n").unwrap();
    let out = run(t.path(), &["inspect", "x.pem"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(text.matches("restore a good copy").count(), 1, "{text}");
    assert!(text.contains("x.pem is not a PEM certificate"), "{text}");
}

/// A comma inside a name's value is escaped (RFC 4514 2.4), so one
/// attribute cannot pass for two in the subject inspect shows.
#[test]
fn a_comma_inside_a_name_is_escaped() {
    let t = Test::new();
    let out = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args(["-nodes", "-keyout", "k.pem", "-out", "c.pem", "-subj"])
        .arg(r"/CN=attacker\, O=Zilliz Inc")
        .current_dir(t.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(t.path(), &["inspect", "c.pem"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.contains(r"CN=attacker\, O=Zilliz Inc"), "{text}");
}
