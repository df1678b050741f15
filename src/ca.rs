//! The CA certificate's profile.

use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyIdMethod, KeyPair, KeyUsagePurpose};

use crate::keys::key_identifier;
use crate::names::Subject;
use crate::serial::Serial;
use crate::validity::Validity;

/// The parameters of a self-signed CA certificate for `key`:
/// basicConstraints critical CA:TRUE, pathlen:0 (it signs leaves only);
/// keyUsage critical keyCertSign + cRLSign (RFC 5280 4.2.1.3 requires
/// keyCertSign for a CA whose keyUsage is present, and CA/B-style validators
/// such as Go and rustls expect the extension); SKI by RFC 5280 4.2.1.2
/// method 1, and AKI equal to it, as OpenSSL's `v3_ca` section writes.
pub fn params(
    subject: &Subject,
    key: &KeyPair,
    serial: &Serial,
    validity: Validity,
) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = subject.to_dn();
    p.serial_number = Some(serial.to_rcgen());
    p.not_before = validity.not_before;
    p.not_after = validity.not_after;
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.key_identifier_method = KeyIdMethod::PreSpecified(key_identifier(key));
    p.use_authority_key_identifier_extension = true;
    p
}
