//! Issue 14, property tests: `doctor` never panics on YAML-like text in
//! any shape, and its errors are one line naming the file. (The parsers
//! `doctor` and the other commands share are property-tested in the
//! library's unit tests, `src/properties.rs`.)

use milvus_certs::doctor::{DoctorOptions, doctor};
use proptest::prelude::*;

fn one_line_naming(err: &impl std::fmt::Display, file: &str) {
    let msg = err.to_string();
    assert!(!msg.contains('\n'), "{msg:?}");
    assert!(msg.contains(file), "{msg:?}");
}

const WORDS: [&str; 24] = [
    "tls:",
    "internaltls:",
    "common:",
    "security:",
    "tlsMode: ",
    "2",
    "proxy:",
    "http:",
    "port: ",
    "services:",
    "kind: Milvus",
    "spec:",
    "config:",
    "extraConfigFiles:",
    "user.yaml: |",
    "volumes:",
    "volumeMounts:",
    "- ",
    "mountPath: /certs",
    "&a ",
    "*a",
    "${X:-.}/t:/milvus/tls",
    "[",
    "{",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn doctor_never_panics(parts in proptest::collection::vec((0usize..24, 0usize..6, any::<bool>()), 0..40)) {
        let mut text = String::new();
        for (w, indent, newline) in parts {
            if newline {
                text.push('\n');
                text.push_str(&" ".repeat(indent * 2));
            }
            text.push_str(WORDS[w]);
        }
        let d = tempfile::tempdir().unwrap();
        let file = d.path().join("conf.yaml");
        std::fs::write(&file, &text).unwrap();
        let opts = DoctorOptions { files: vec![file], dir: Some(d.path().to_path_buf()) };
        let now = time::OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        if let Err(e) = doctor(&opts, now) {
            one_line_naming(&e, "conf.yaml");
        }
    }
}
