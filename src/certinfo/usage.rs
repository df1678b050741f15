//! keyUsage and extendedKeyUsage (RFC 5280 4.2.1.3, 4.2.1.12) as enums,
//! read from x509-parser's extensions, named as the RFC (and OpenSSL's
//! configuration) names them, and written with rcgen.

use std::fmt;

use rcgen::KeyUsagePurpose;
use x509_parser::extensions::ExtendedKeyUsage;

/// A keyUsage bit (RFC 5280 4.2.1.3). Displayed by its RFC name, which
/// OpenSSL's configuration uses too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyUsage {
    /// Bit 0, digitalSignature.
    DigitalSignature,
    /// Bit 1, nonRepudiation (contentCommitment).
    NonRepudiation,
    /// Bit 2, keyEncipherment.
    KeyEncipherment,
    /// Bit 3, dataEncipherment.
    DataEncipherment,
    /// Bit 4, keyAgreement.
    KeyAgreement,
    /// Bit 5, keyCertSign.
    KeyCertSign,
    /// Bit 6, cRLSign.
    CrlSign,
    /// Bit 7, encipherOnly.
    EncipherOnly,
    /// Bit 8, decipherOnly.
    DecipherOnly,
}

impl KeyUsage {
    /// Every bit, in bit order.
    pub(crate) const ALL: [KeyUsage; 9] = [
        KeyUsage::DigitalSignature,
        KeyUsage::NonRepudiation,
        KeyUsage::KeyEncipherment,
        KeyUsage::DataEncipherment,
        KeyUsage::KeyAgreement,
        KeyUsage::KeyCertSign,
        KeyUsage::CrlSign,
        KeyUsage::EncipherOnly,
        KeyUsage::DecipherOnly,
    ];

    /// The bits set in x509-parser's flags (bit n of the BIT STRING is
    /// `1 << n`), in bit order.
    pub(super) fn of(flags: u16) -> Vec<KeyUsage> {
        (0..)
            .zip(KeyUsage::ALL)
            .filter(|(i, _)| flags & (1 << i) != 0)
            .map(|(_, u)| u)
            .collect()
    }

    /// The RFC 5280 name.
    pub fn name(self) -> &'static str {
        match self {
            KeyUsage::DigitalSignature => "digitalSignature",
            KeyUsage::NonRepudiation => "nonRepudiation",
            KeyUsage::KeyEncipherment => "keyEncipherment",
            KeyUsage::DataEncipherment => "dataEncipherment",
            KeyUsage::KeyAgreement => "keyAgreement",
            KeyUsage::KeyCertSign => "keyCertSign",
            KeyUsage::CrlSign => "cRLSign",
            KeyUsage::EncipherOnly => "encipherOnly",
            KeyUsage::DecipherOnly => "decipherOnly",
        }
    }

    /// The same bit for a certificate rcgen writes.
    pub(crate) fn to_rcgen(self) -> KeyUsagePurpose {
        match self {
            KeyUsage::DigitalSignature => KeyUsagePurpose::DigitalSignature,
            KeyUsage::NonRepudiation => KeyUsagePurpose::ContentCommitment,
            KeyUsage::KeyEncipherment => KeyUsagePurpose::KeyEncipherment,
            KeyUsage::DataEncipherment => KeyUsagePurpose::DataEncipherment,
            KeyUsage::KeyAgreement => KeyUsagePurpose::KeyAgreement,
            KeyUsage::KeyCertSign => KeyUsagePurpose::KeyCertSign,
            KeyUsage::CrlSign => KeyUsagePurpose::CrlSign,
            KeyUsage::EncipherOnly => KeyUsagePurpose::EncipherOnly,
            KeyUsage::DecipherOnly => KeyUsagePurpose::DecipherOnly,
        }
    }
}

impl fmt::Display for KeyUsage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An extendedKeyUsage purpose (RFC 5280 4.2.1.12). Displayed by its RFC
/// name (OpenSSL's), or its dotted OID for one RFC 5280 does not name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExtKeyUsage {
    /// serverAuth: a TLS server.
    ServerAuth,
    /// clientAuth: a TLS client (Milvus tlsMode 2).
    ClientAuth,
    /// codeSigning.
    CodeSigning,
    /// emailProtection.
    EmailProtection,
    /// timeStamping.
    TimeStamping,
    /// OCSPSigning.
    OcspSigning,
    /// anyExtendedKeyUsage: every purpose.
    Any,
    /// Another purpose, by dotted OID.
    Other(String),
}

impl ExtKeyUsage {
    /// The purposes of x509-parser's extendedKeyUsage: the six RFC 5280
    /// purposes and anyExtendedKeyUsage in that order, then others.
    pub(super) fn of(eku: &ExtendedKeyUsage<'_>) -> Vec<ExtKeyUsage> {
        let known = [
            (eku.server_auth, ExtKeyUsage::ServerAuth),
            (eku.client_auth, ExtKeyUsage::ClientAuth),
            (eku.code_signing, ExtKeyUsage::CodeSigning),
            (eku.email_protection, ExtKeyUsage::EmailProtection),
            (eku.time_stamping, ExtKeyUsage::TimeStamping),
            (eku.ocsp_signing, ExtKeyUsage::OcspSigning),
            (eku.any, ExtKeyUsage::Any),
        ];
        let others = eku
            .other
            .iter()
            .map(|o| ExtKeyUsage::Other(o.to_id_string()));
        known
            .into_iter()
            .filter_map(|(has, u)| has.then_some(u))
            .chain(others)
            .collect()
    }

    /// The RFC 5280 name, or the dotted OID.
    pub fn name(&self) -> &str {
        match self {
            ExtKeyUsage::ServerAuth => "serverAuth",
            ExtKeyUsage::ClientAuth => "clientAuth",
            ExtKeyUsage::CodeSigning => "codeSigning",
            ExtKeyUsage::EmailProtection => "emailProtection",
            ExtKeyUsage::TimeStamping => "timeStamping",
            ExtKeyUsage::OcspSigning => "OCSPSigning",
            ExtKeyUsage::Any => "anyExtendedKeyUsage",
            ExtKeyUsage::Other(oid) => oid,
        }
    }
}

impl fmt::Display for ExtKeyUsage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_usage_bits_in_rfc_order() {
        let names = |flags| {
            KeyUsage::of(flags)
                .iter()
                .map(|u| u.name())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(0b111),
            ["digitalSignature", "nonRepudiation", "keyEncipherment"]
        );
        assert_eq!(names((1 << 5) | (1 << 6)), ["keyCertSign", "cRLSign"]);
        assert_eq!(KeyUsage::of(0x1ff), KeyUsage::ALL);
    }
}
