//! Issue 6, bad input: every file of `fixtures/bad/` (see its README) put in
//! the place of one of the seven files, for every command that reads that
//! file. Each run must exit non-zero with one error line naming the file and
//! saying what to do (for `inspect`: a `problem:` line in its report, exit
//! 2), never panic, and leave the directory byte for byte as it was.
//! Also bad paths (a directory, a dangling symlink, an unreadable file, an
//! unwritable output directory) and bad values on the command line.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::*;

/// Words that say what to do; every error must carry one.
const FIXES: &[&str] = &[
    "restore",
    "move it away",
    "convert it",
    "decrypt it",
    "keep exactly one",
    "fix it or remove it",
    "point --dir",
    "renew it with",
    "supported are",
    "may be swapped",
    "check the permissions",
    "give the path of a file",
    "run `milvus-certs",
    "choose",
    "must ",
    "shorten it",
    "remove the",
    "check the",
    "use ",
    "check this machine's clock",
    "give a directory",
];

fn bad(name: &str) -> PathBuf {
    fixtures().join("bad").join(name)
}

/// A copy of the guide's directory (made by its gen.sh): real OpenSSL files,
/// no key generation needed.
fn guide_dir() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for f in SEVEN {
        fs::copy(fixtures().join("openssl/guide").join(f), d.path().join(f)).unwrap();
    }
    d
}

/// The commands that read `slot`, with the exit code of their failure.
fn readers(slot: &str) -> Vec<(Vec<&'static str>, i32)> {
    let renew = (vec!["renew"], 1);
    let renew_ca = (vec!["renew", "--ca"], 1);
    let inspect = (vec!["inspect"], 2);
    let secret = (vec!["export", "k8s-secret"], 1);
    let cert_manager = (vec!["export", "cert-manager", "--out", "out"], 1);
    match slot {
        "ca.pem" => vec![renew, renew_ca, inspect, secret, cert_manager],
        "ca.key" => vec![renew, renew_ca, inspect, cert_manager],
        "ca.srl" => vec![renew, renew_ca, inspect],
        "server.pem" => vec![renew, inspect, secret, cert_manager],
        "server.key" => vec![inspect, secret, cert_manager],
        _ => unreachable!("{slot}"),
    }
}

fn assert_has_fix(line: &str) {
    assert!(FIXES.iter().any(|f| line.contains(f)), "no fix in: {line}");
}

/// Asserts the failure of one run: see the module comment.
fn assert_refused(out: &Output, cmd: &[&str], code: i32, slot: &str, reason: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{cmd:?}: {stderr}");
    if cmd[0] == "inspect" {
        assert_eq!(out.status.code(), Some(2), "{cmd:?}: {stderr}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        // A problem line under the file's entry, or naming the file.
        let mut entry = "";
        let line = stdout
            .lines()
            .find(|l| {
                if !l.starts_with(' ') {
                    entry = l;
                }
                l.trim_start().starts_with("problem:")
                    && (l.contains(slot) || entry.contains(slot))
                    && reason.iter().all(|r| l.contains(r))
            })
            .unwrap_or_else(|| panic!("{cmd:?}: no problem line for {slot} {reason:?}:\n{stdout}"));
        assert_has_fix(line);
    } else {
        let line = assert_one_error_line(out, code, reason);
        assert!(line.contains(slot), "{cmd:?}: {line}");
        assert_has_fix(&line);
    }
}

/// Puts `fixture` in the place of `slot` and runs every reader of `slot`.
fn check_bad_file(fixture: &Path, slot: &str, reason: &[&str]) {
    for (cmd, code) in readers(slot) {
        let d = guide_dir();
        let dir = d.path();
        fs::copy(fixture, dir.join(slot)).unwrap();
        let before = snapshot(dir);
        let out = run(dir, &cmd);
        assert_refused(&out, &cmd, code, slot, reason);
        assert_no_key_material(dir, &out);
        assert_eq!(snapshot(dir), before, "{cmd:?} changed the directory");
    }
}

/// Issue 6: private keys never appear in what we print, even when the file
/// in a key's place is broken.
fn assert_no_key_material(dir: &Path, out: &Output) {
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for e in fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        let text = fs::read(&path).unwrap_or_default();
        let text = String::from_utf8_lossy(&text);
        if !text.contains("PRIVATE KEY") {
            continue;
        }
        for line in text
            .lines()
            .filter(|l| l.len() >= 40 && !l.starts_with("-----"))
        {
            assert!(
                !printed.contains(line),
                "{} leaked into the output",
                path.display()
            );
        }
    }
}

macro_rules! bad_file {
    ($($test:ident: $fixture:expr => $slot:expr, [$($reason:expr),*];)*) => {$(
        #[test]
        fn $test() {
            check_bad_file(&bad($fixture), $slot, &[$($reason),*]);
        }
    )*};
}

bad_file! {
    empty_ca_pem: "empty.pem" => "ca.pem", ["is empty"];
    empty_ca_key: "empty.pem" => "ca.key", ["is empty"];
    empty_server_pem: "empty.pem" => "server.pem", ["is empty"];
    empty_server_key: "empty.pem" => "server.key", ["is empty"];
    not_pem_ca_pem: "not-pem.txt" => "ca.pem", ["no PEM section"];
    not_pem_ca_key: "not-pem.txt" => "ca.key", ["no PEM section"];
    not_pem_server_key: "not-pem.txt" => "server.key", ["no PEM section"];
    certificate_in_ca_key: "cert-in-key-slot.key" => "ca.key", ["holds a certificate"];
    certificate_in_server_key: "cert-in-key-slot.key" => "server.key", ["holds a certificate"];
    key_in_ca_pem: "key-in-cert-slot.pem" => "ca.pem", ["holds a private key"];
    key_in_server_pem: "key-in-cert-slot.pem" => "server.pem", ["holds a private key"];
    truncated_ca_pem: "truncated.pem" => "ca.pem", ["no END line"];
    truncated_server_pem: "truncated.pem" => "server.pem", ["no END line"];
    truncated_ca_key: "truncated.key" => "ca.key", ["no END line"];
    truncated_server_key: "truncated.key" => "server.key", ["no END line"];
    garbage_base64_ca_pem: "garbage-base64.pem" => "ca.pem", ["not a valid X.509 certificate"];
    garbage_base64_server_pem: "garbage-base64.pem" => "server.pem", ["not a valid X.509 certificate"];
    garbage_base64_ca_key: "garbage-base64.key" => "ca.key", ["cannot be used"];
    garbage_base64_server_key: "garbage-base64.key" => "server.key", ["cannot be used"];
    two_keys_in_ca_key: "two-keys.key" => "ca.key", ["2 private keys"];
    two_keys_in_server_key: "two-keys.key" => "server.key", ["2 private keys"];
    encrypted_ca_key: "encrypted.key" => "ca.key", ["encrypted", "openssl pkey -in"];
    encrypted_server_key: "encrypted.key" => "server.key", ["encrypted", "openssl pkey -in"];
    ca_key_of_another_ca: "other-ca.key" => "ca.key", ["does not belong to"];
    ca_pem_that_is_not_a_ca: "../openssl/guide/server.pem" => "ca.pem", ["not a CA"];
    empty_ca_srl: "empty.srl" => "ca.srl", ["empty"];
    non_hex_ca_srl: "nonhex.srl" => "ca.srl", ["not a hexadecimal digit"];
    negative_ca_srl: "negative.srl" => "ca.srl", ["negative"];
    ca_srl_over_20_octets: "long.srl" => "ca.srl", ["21 octets"];
}

/// Issue 16: DER is read now (by inspect and renew), but what `export`
/// writes is loaded by Milvus, which reads PEM only: there a DER file (the
/// corpus's, `openssl x509|pkey -outform DER`) is still refused, saying it is
/// DER and how to convert it. Where a DER file's content is wrong for its
/// place (the guide's server certificate as ca.pem), the reason is that, not
/// its encoding.
fn check_der_refused_by_export(fixture: &str, slot: &str) {
    for (cmd, code) in readers(slot).into_iter().filter(|(c, _)| c[0] == "export") {
        let d = guide_dir();
        let dir = d.path();
        fs::copy(bad(fixture), dir.join(slot)).unwrap();
        let before = snapshot(dir);
        let out = run(dir, &cmd);
        assert_refused(&out, &cmd, code, slot, &["DER", "convert it"]);
        assert_eq!(snapshot(dir), before, "{cmd:?} changed the directory");
    }
}

#[test]
fn der_ca_pem_is_refused_by_export_and_read_as_what_it_is_elsewhere() {
    check_der_refused_by_export("cert.der", "ca.pem");
    // cert.der is the guide's server certificate: renew now reads it, and
    // refuses it for what it is.
    for (cmd, code) in readers("ca.pem")
        .into_iter()
        .filter(|(c, _)| c[0] != "export")
    {
        let d = guide_dir();
        let dir = d.path();
        fs::copy(bad("cert.der"), dir.join("ca.pem")).unwrap();
        let before = snapshot(dir);
        let out = run(dir, &cmd);
        assert_refused(&out, &cmd, code, "ca.pem", &["not a CA"]);
        assert_eq!(snapshot(dir), before, "{cmd:?} changed the directory");
    }
}

#[test]
fn der_server_pem_is_refused_by_export() {
    check_der_refused_by_export("cert.der", "server.pem");
}

#[test]
fn der_ca_key_is_refused_by_export() {
    check_der_refused_by_export("key.der", "ca.key");
}

#[test]
fn der_server_key_is_refused_by_export() {
    check_der_refused_by_export("key.der", "server.key");
}

/// A key where a certificate belongs, and the reverse, in DER: the reason
/// says the files may be swapped, as for PEM.
#[test]
fn swapped_der_files_are_named_as_such() {
    for (fixture, slot, cmd) in [
        ("key.der", "server.pem", vec!["renew"]),
        ("key.der", "ca.pem", vec!["renew"]),
        ("cert.der", "ca.key", vec!["renew", "--ca"]),
    ] {
        let d = guide_dir();
        let dir = d.path();
        fs::copy(bad(fixture), dir.join(slot)).unwrap();
        let before = snapshot(dir);
        let out = run(dir, &cmd);
        assert_refused(&out, &cmd, 1, slot, &["DER", "may be swapped"]);
        assert_eq!(snapshot(dir), before, "{cmd:?} changed the directory");
    }
}

/// An expired CA: `renew` refuses to sign with it (and says `renew --ca`
/// re-signs it), `inspect` reports it.
#[test]
fn expired_ca() {
    for (cmd, code) in [(vec!["renew"], 1), (vec!["inspect"], 2)] {
        let d = guide_dir();
        let dir = d.path();
        for f in ["ca.pem", "ca.key"] {
            fs::copy(bad("expired").join(f), dir.join(f)).unwrap();
        }
        let before = snapshot(dir);
        let out = run(dir, &cmd);
        assert_refused(&out, &cmd, code, "ca.pem", &["expired"]);
        assert_eq!(snapshot(dir), before);
    }
}

/// What to put in a file's place.
enum Path_ {
    Directory,
    DanglingSymlink,
}

fn check_bad_path(slot: &str, kind: Path_, reason: &[&str]) {
    for (cmd, code) in readers(slot) {
        let d = guide_dir();
        let dir = d.path();
        fs::remove_file(dir.join(slot)).unwrap();
        match kind {
            Path_::Directory => fs::create_dir(dir.join(slot)).unwrap(),
            Path_::DanglingSymlink => {
                std::os::unix::fs::symlink("no-such-file", dir.join(slot)).unwrap()
            }
        }
        let before = snapshot(dir);
        let out = run(dir, &cmd);
        assert_refused(&out, &cmd, code, slot, reason);
        assert_eq!(snapshot(dir), before, "{cmd:?}");
    }
}

#[test]
fn ca_pem_is_a_directory() {
    check_bad_path("ca.pem", Path_::Directory, &["directory"]);
}

#[test]
fn server_key_is_a_directory() {
    check_bad_path("server.key", Path_::Directory, &["directory"]);
}

#[test]
fn ca_key_is_a_dangling_symlink() {
    check_bad_path("ca.key", Path_::DanglingSymlink, &["symbolic link"]);
}

#[test]
fn server_pem_is_a_dangling_symlink() {
    check_bad_path("server.pem", Path_::DanglingSymlink, &["symbolic link"]);
}

/// `parent/cert`: the guide's files, readable by anyone, in a directory the
/// unprivileged user owns (0755: milvus-certs refuses one that group or
/// others can write), so that user meets only the failure under test.
fn shared_guide_dir(parent: &Path) -> PathBuf {
    let dir = parent.join("cert");
    fs::create_dir(&dir).unwrap();
    for f in SEVEN {
        fs::copy(fixtures().join("openssl/guide").join(f), dir.join(f)).unwrap();
        fs::set_permissions(dir.join(f), fs::Permissions::from_mode(0o644)).unwrap();
    }
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
    // Fails when not root: then the tests run as this user, who owns it.
    let _ = std::os::unix::fs::lchown(&dir, Some(65534), Some(65534));
    dir
}

#[test]
fn unreadable_ca_pem() {
    let d = shared_dir();
    let dir = shared_guide_dir(d.path());
    fs::set_permissions(dir.join("ca.pem"), fs::Permissions::from_mode(0o000)).unwrap();
    let before = snapshot(&dir);
    for (cmd, code) in readers("ca.pem") {
        let Some(out) = run_unprivileged(&dir, &cmd) else {
            return;
        };
        assert_refused(&out, &cmd, code, "ca.pem", &["Permission denied"]);
        assert_eq!(snapshot(&dir), before, "{cmd:?}");
    }
}

#[test]
fn output_directory_is_not_writable() {
    let d = shared_dir();
    let ro = d.path().join("ro");
    fs::create_dir(&ro).unwrap();
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o555)).unwrap();
    let Some(out) = run_unprivileged(d.path(), &["gen", "--dir", "ro", "--key-type", "ed25519"])
    else {
        return;
    };
    let line = assert_one_error_line(&out, 1, &["ro", "Permission denied"]);
    assert_has_fix(&line);
    assert_eq!(fs::read_dir(&ro).unwrap().count(), 0);

    // export --out into it, from a readable certificate directory.
    shared_guide_dir(d.path());
    let out = run_unprivileged(
        d.path(),
        &["export", "compose", "--dir", "cert", "--out", "ro/deploy"],
    )
    .unwrap();
    let line = assert_one_error_line(&out, 1, &["ro/deploy", "Permission denied"]);
    assert_has_fix(&line);
    assert_eq!(fs::read_dir(&ro).unwrap().count(), 0);
}

/// Values on the command line: control characters, over-long names and
/// labels, absurd day counts. (A NUL cannot be passed in argv at all.)
/// Each is refused before anything is generated, naming the option.
#[test]
fn bad_names_and_values_are_refused_before_anything_is_written() {
    let long_label = "a".repeat(64);
    let long_name = format!("{}.example", vec!["b".repeat(60); 5].join("."));
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["--common-name".into(), "milvus\u{1}".into()],
            "--common-name",
        ),
        (
            vec!["--common-name".into(), "milvus\nproxy".into()],
            "--common-name",
        ),
        (vec!["--san".into(), "a\u{1b}[31m".into()], "--san"),
        (vec!["--san".into(), long_label.clone()], "--san"),
        (vec!["--san".into(), long_name.clone()], "--san"),
        (
            vec!["--organization".into(), "zilliz\u{7f}".into()],
            "--organization",
        ),
        (vec!["--org-unit".into(), "x".repeat(65)], "--org-unit"),
        (vec!["--country".into(), "USA".into()], "--country"),
        (vec!["--days".into(), "0".into()], "--days"),
        (vec!["--days".into(), "36501".into()], "--days"),
        (vec!["--ca-days".into(), "4294967295".into()], "--ca-days"),
    ];
    let d = tempfile::tempdir().unwrap();
    for (args, option) in &cases {
        let mut argv = vec!["gen", "--dir", "out"];
        argv.extend(args.iter().map(String::as_str));
        let line = assert_one_error_line(&run(d.path(), &argv), 2, &[option]);
        assert_has_fix(&line);
        assert!(!d.path().join("out").exists(), "{args:?}");
    }
    // Beyond u32, or negative: clap's usage error (exit 2), nothing written.
    for days in ["99999999999", "-5"] {
        let out = run(d.path(), &["gen", "--dir", "out", "--days", days]);
        assert_eq!(out.status.code(), Some(2), "{days}");
        assert!(!d.path().join("out").exists());
    }

    // The same names given to renew, inspect and export are refused too.
    let g = guide_dir();
    let before = snapshot(g.path());
    for (argv, code, option) in [
        (vec!["renew", "--san", "bad\u{1}name"], 2, "--san"),
        (
            vec!["renew", "--common-name", long_label.as_str()],
            2,
            "--common-name",
        ),
        (vec!["renew", "--days", "0"], 2, "--days"),
        (
            vec!["inspect", "--server-name", "bad\u{1}name"],
            2,
            "--server-name",
        ),
        (
            vec!["export", "client", "--host", long_name.as_str()],
            2,
            "--host",
        ),
        (
            vec!["export", "helm", "--internal", "--sni", "a\u{7f}"],
            2,
            "--sni",
        ),
        (
            vec!["export", "k8s-secret", "--name", "bad\u{1}"],
            2,
            "--name",
        ),
    ] {
        let line = assert_one_error_line(&run(g.path(), &argv), code, &[option]);
        assert_has_fix(&line);
    }
    assert_eq!(snapshot(g.path()), before);
}

/// `--out` naming a file, or a path through one: one line, nothing written.
#[test]
fn output_path_through_a_file() {
    let d = guide_dir();
    let dir = d.path();
    fs::write(dir.join("afile"), "x").unwrap();
    let before = snapshot(dir);
    for out in ["afile", "afile/deploy"] {
        let line = assert_one_error_line(
            &run(dir, &["export", "compose", "--out", out]),
            1,
            &["afile", "Not a directory"],
        );
        assert_has_fix(&line);
        assert_eq!(snapshot(dir), before, "{out}");
    }
}
