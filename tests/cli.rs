//! The command-line surface: `--help` snapshots (so a change to it is a
//! reviewed change), `--version`, and usage errors.
//! Regenerate the snapshots with `UPDATE_SNAPSHOTS=1 cargo test --test cli`.

mod common;

use std::fs;
use std::path::Path;

use common::*;

fn check_snapshot(name: &str, args: &[&str]) {
    let d = tempfile::tempdir().unwrap();
    let out = run(d.path(), args);
    assert!(out.status.success(), "{args:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        fs::write(&path, &text).unwrap();
    }
    let want = fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "{} missing: run UPDATE_SNAPSHOTS=1 cargo test --test cli",
            path.display()
        )
    });
    assert_eq!(
        text, want,
        "{args:?} changed: review, then UPDATE_SNAPSHOTS=1 cargo test --test cli"
    );
}

#[test]
fn help_snapshots() {
    check_snapshot("help.txt", &["--help"]);
    check_snapshot("gen-help.txt", &["gen", "--help"]);
    check_snapshot("renew-help.txt", &["renew", "--help"]);
    check_snapshot("inspect-help.txt", &["inspect", "--help"]);
    check_snapshot("schedule-help.txt", &["schedule", "--help"]);
    check_snapshot(
        "export-k8s-secret-help.txt",
        &["export", "k8s-secret", "--help"],
    );
}

#[test]
fn version_is_the_crate_version() {
    let d = tempfile::tempdir().unwrap();
    let out = run(d.path(), &["--version"]);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("milvus-certs {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn unknown_options_are_usage_errors() {
    let d = tempfile::tempdir().unwrap();
    let out = run(d.path(), &["gen", "--frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unexpected argument '--frobnicate'"));
    assert_eq!(fs::read_dir(d.path()).unwrap().count(), 0);
}
