//! Issue 6, property tests: the parsers of untrusted input (the same entry
//! points as the cargo-fuzz targets in `fuzz/`) never panic on arbitrary
//! bytes, and their errors are one line naming the file. Bounded so the
//! whole file runs in seconds; the fuzzers run the long searches.

use std::path::Path;

use milvus_certs::certinfo::CertInfo;
use milvus_certs::input::parse_certificates;
use milvus_certs::keys::parse_private_key;
use milvus_certs::serial::Serial;
use proptest::prelude::*;

const GUIDE_PEM: &[u8] = include_bytes!("../fixtures/openssl/guide/server.pem");
const GUIDE_KEY: &[u8] = include_bytes!("../fixtures/openssl/guide/server.key");

fn one_line_naming(err: &impl std::fmt::Display, file: &str) {
    let msg = err.to_string();
    assert!(!msg.contains('\n'), "{msg:?}");
    assert!(msg.contains(file), "{msg:?}");
}

/// `pem` with its base64 body decoded, mutated by `edits`, re-encoded:
/// reaches the DER parsers with almost-valid input.
fn mutate_pem(pem: &[u8], label: &str, edits: &[(usize, u8)]) -> Vec<u8> {
    use rustls_pki_types::pem::{PemObject, SectionKind};
    let (_, mut der) = <(SectionKind, Vec<u8>)>::from_pem_slice(pem).unwrap();
    for (i, b) in edits {
        let n = der.len();
        der[i % n] ^= b | 1;
    }
    let body = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(&der)
    };
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out.into_bytes()
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        // Failures are reported in the test output; write no files.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn certificate_files_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        match parse_certificates(Path::new("x.pem"), &bytes) {
            Err(e) => one_line_naming(&e, "x.pem"),
            Ok(ders) => for der in ders {
                let _ = CertInfo::from_der(&der);
            },
        }
        let _ = CertInfo::from_der(&bytes);
    }

    #[test]
    fn mutated_certificates_never_panic(edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
        let pem = mutate_pem(GUIDE_PEM, "CERTIFICATE", &edits);
        let ders = parse_certificates(Path::new("x.pem"), &pem).unwrap();
        if let Ok(cert) = CertInfo::from_der(&ders[0]) {
            let _ = cert.is_self_signed();
            let _ = cert.subject_dn();
            let _ = cert.signed_by(&cert);
        }
    }

    #[test]
    fn key_files_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        if let Err(e) = parse_private_key(Path::new("x.key"), &bytes) {
            one_line_naming(&e, "x.key");
        }
    }

    #[test]
    fn mutated_keys_never_panic(edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
        let pem = mutate_pem(GUIDE_KEY, "PRIVATE KEY", &edits);
        if let Err(e) = parse_private_key(Path::new("x.key"), &pem) {
            one_line_naming(&e, "x.key");
        }
    }

    #[test]
    fn serial_files_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(s) = Serial::parse_srl(&bytes) {
            // What we write back reads back the same.
            let again = Serial::parse_srl(s.to_srl().as_bytes()).unwrap();
            prop_assert_eq!(again.as_bytes(), s.as_bytes());
        }
    }

    #[test]
    fn serial_files_round_trip(bytes in proptest::collection::vec(any::<u8>(), 1..=20)) {
        let s = Serial::from_be_bytes(&bytes);
        // 20 octets with the high bit set need a 21st in DER (RFC 5280 4.1.2.2).
        prop_assume!(s.der_len() <= 20);
        let again = Serial::parse_srl(s.to_srl().as_bytes()).unwrap();
        prop_assert_eq!(again.as_bytes(), s.as_bytes());
    }

    /// Whatever a name holds, the YAML `export` writes reads back as the
    /// same string (yaml-rust2 as the reader).
    #[test]
    fn yaml_strings_round_trip(value in any::<String>(), key in "[a-zA-Z0-9._/ -]{1,12}") {
        use milvus_certs::yaml::{document, map, s};
        let text = document(&map([(key.clone(), s(value.clone()))]));
        let docs = yaml_rust2::YamlLoader::load_from_str(&text).unwrap();
        prop_assert_eq!(docs[0][key.as_str()].as_str(), Some(value.as_str()));
    }
}

/// Issue 14: `doctor` never panics on YAML-like text in any shape, and its
/// errors are one line naming the file.
mod doctor_input {
    use super::*;
    use milvus_certs::doctor::{DoctorOptions, doctor};

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
        fn never_panics(parts in proptest::collection::vec((0usize..24, 0usize..6, any::<bool>()), 0..40)) {
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
}
