//! PEM certificate files as `inspect` and `renew` read them: every section,
//! then every field `inspect` reports, and the chain and name checks.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use milvus_certs::fuzz::{not_ca_reason, parse_certificates, subject_dn};
use milvus_certs::{CertInfo, ExtKeyUsage, SanName};

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
        let _ = subject_dn(c);
        let _ = not_ca_reason(c);
        for issuer in &certs {
            let _ = c.signed_by(issuer);
        }
    }
});
