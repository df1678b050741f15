//! PEM certificate files as `inspect` and `renew` read them: every section,
//! then every field `inspect` reports, and the chain and name checks.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use milvus_certs::certinfo::{CertInfo, ExtKeyUsage};
use milvus_certs::input::parse_certificates;
use milvus_certs::names::SanName;

fuzz_target!(|data: &[u8]| {
    let Ok(ders) = parse_certificates(Path::new("fuzz.pem"), data) else {
        return;
    };
    let certs: Vec<CertInfo> = ders
        .iter()
        .filter_map(|d| CertInfo::from_der(d).ok())
        .collect();
    let name = SanName::parse("--server-name", "localhost").unwrap();
    for c in &certs {
        let _ = c.is_self_signed();
        let _ = c.is_ca();
        let _ = c.allows_eku(&ExtKeyUsage::ServerAuth);
        let _ = c.matches_name(&name);
        let _ = c.subject_dn();
        let _ = milvus_certs::ca::not_ca_reason(c);
        for issuer in &certs {
            let _ = c.signed_by(issuer);
        }
    }
});
