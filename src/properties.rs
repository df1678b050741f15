//! Issue 6, property tests: the parsers of untrusted input (the same entry
//! points as the cargo-fuzz targets in `fuzz/`) never panic on arbitrary
//! bytes, and their errors are one line naming the file. Bounded so the
//! whole file runs in seconds; the fuzzers run the long searches. Unit
//! tests, since these parsers are the crate's own (`doctor`'s, a command,
//! is tested from `tests/properties.rs`).

use std::path::Path;

use proptest::prelude::*;

use crate::certinfo::CertInfo;
use crate::input::parse_certificates;
use crate::keys::parse_private_key;
use crate::serial::Serial;

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
        use crate::yaml::{document, map, s};
        let text = document(&map([(key.clone(), s(value.clone()))]));
        let docs = yaml_rust2::YamlLoader::load_from_str(&text).unwrap();
        prop_assert_eq!(docs[0][key.as_str()].as_str(), Some(value.as_str()));
    }
}
