//! Every finding has a listed, unique code and a message.

use super::*;

#[test]
fn every_variant_has_a_listed_unique_code_and_a_message() {
    let t = OffsetDateTime::UNIX_EPOCH;
    let s = String::from("x");
    let all = [
        Finding::Expired {
            not_after: t,
            remedy: None,
        },
        Finding::NotYetValid { not_before: t },
        Finding::Expiring {
            not_after: t,
            days_left: 1,
            remedy: None,
        },
        Finding::KeyMismatch {
            key_file: s.clone(),
            backup: None,
            remedy: None,
        },
        Finding::KeyUnreadable { reason: s.clone() },
        Finding::NotIssuedByCa {
            ca: s.clone(),
            issuer: s.clone(),
            why: ChainBreak::Signature,
            remedy: None,
        },
        Finding::NotACa { reason: "r" },
        Finding::BadSignature,
        Finding::NotALeaf { remedy: None },
        Finding::MissingServerAuth { remedy: None },
        Finding::MissingClientAuth { remedy: None },
        Finding::NameMismatch {
            name: SanName::Dns(s.clone()),
            has: Vec::new(),
            remedy: None,
        },
        Finding::OutlivesCa { ca_not_after: t },
        Finding::SerialBehind {
            srl: Serial::from_be_bytes(&[1]),
            highest: Serial::from_be_bytes(&[2]),
            dir: ".".into(),
        },
        Finding::SerialFileInvalid { reason: s.clone() },
        Finding::FileMissing {
            file: s.clone(),
            what: "w",
            needed_by: "n",
        },
        Finding::NoCertificateFiles { dir: "d".into() },
        Finding::DerEncoded {
            file: s.clone(),
            fix: s.clone(),
        },
        Finding::NotACertificate { reason: s.clone() },
        Finding::KeyReadableByOthers {
            file: "k".into(),
            mode: 0o644,
        },
        Finding::DirectoryWritableByOthers {
            dir: "d".into(),
            mode: 0o777,
        },
        Finding::PendingWrite { dir: "d".into() },
        Finding::ConnectionFailed { reason: s.clone() },
        Finding::ClientCertRejected { reason: s.clone() },
        Finding::ClientCertNotGiven,
        Finding::CaMissingExtensions {
            missing: vec!["keyUsage"],
            dir: ".".into(),
        },
        Finding::TlsDisabled,
        Finding::InvalidTlsMode { value: s.clone() },
        Finding::RestPortSharesGrpcPort { port: s.clone() },
        Finding::TlsUnderCommon { section: s.clone() },
        Finding::LegacyTlsEnabled { tls_on: false },
        Finding::ExampleCertificate {
            key: s.clone(),
            path: None,
        },
        Finding::PathNotMounted {
            path: s.clone(),
            mounts: Vec::new(),
        },
        Finding::UserYamlIgnored { image: s.clone() },
        Finding::InternalTlsUnsupported { image: s.clone() },
        Finding::EtcdEndpointNotHttps {
            endpoint: s.clone(),
        },
        Finding::EtcdHttpsWithoutSsl {
            endpoint: s.clone(),
        },
        Finding::EtcdSslPathMissing { key: s.clone() },
        Finding::EtcdTlsVersionTooLow { value: s.clone() },
        Finding::MinioCaNotTrusted { mounts_known: true },
    ];
    let codes: Vec<&str> = all.iter().map(Finding::code).collect();
    assert_eq!(codes, CODES);
    for f in &all {
        assert!(!f.to_string().is_empty());
        assert!(f.code().chars().all(|c| c.is_ascii_lowercase() || c == '_'));
    }
}
