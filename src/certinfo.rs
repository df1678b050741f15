//! What we need to know about a certificate, parsed once into owned data.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use aws_lc_rs::signature;
use rcgen::{DistinguishedName, DnType, DnValue};
use time::OffsetDateTime;
use x509_parser::der_parser::asn1_rs::Tag;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::oid_registry as oids;
use x509_parser::prelude::{FromDer, X509Certificate, X509Name};

use crate::keys::{KeyType, describe_spki};
use crate::names::{SanName, Subject};
use crate::serial::Serial;

/// A certificate's fields, owned.
#[derive(Clone, Debug)]
pub struct CertInfo {
    /// The DER encoding.
    pub der: Vec<u8>,
    /// The subject, one-line (`C=US, ST=CA, ..., CN=localhost`).
    pub subject: String,
    /// The issuer, one-line.
    pub issuer: String,
    /// The subject's DER (for exact issuer = subject comparisons).
    pub subject_raw: Vec<u8>,
    /// The issuer's DER.
    pub issuer_raw: Vec<u8>,
    /// The six attributes of the guide's `-subj` line, where present.
    pub subject_attrs: SubjectAttrs,
    /// The serial number.
    pub serial: Serial,
    /// notBefore.
    pub not_before: OffsetDateTime,
    /// notAfter.
    pub not_after: OffsetDateTime,
    /// DNS and IP subjectAltNames, in order.
    pub sans: Vec<SanName>,
    /// Other subjectAltNames (email, URI, ...), rendered.
    pub other_sans: Vec<String>,
    /// Key description (`rsa2048`, `ecdsa-p256`, `rsa1024`, ...).
    pub key: String,
    /// The key type, if it is one `--key-type` can make.
    pub key_type: Option<KeyType>,
    /// The BIT STRING subjectPublicKey.
    pub public_key_bits: Vec<u8>,
    /// basicConstraints: None when absent, else (cA, pathLen).
    pub basic_constraints: Option<(bool, Option<u32>)>,
    /// keyUsage names (RFC 5280 spelling), None when absent.
    pub key_usage: Option<Vec<&'static str>>,
    /// extendedKeyUsage names, None when absent.
    pub ext_key_usage: Option<Vec<String>>,
    /// Subject Key Identifier.
    pub ski: Option<Vec<u8>>,
    /// Authority Key Identifier's keyIdentifier.
    pub aki: Option<Vec<u8>>,
    /// Extensions other than the six above, by OID.
    pub other_extensions: Vec<String>,
    sig_alg: String,
    /// Where the signed TBSCertificate lies in `der`.
    tbs: std::ops::Range<usize>,
    signature: Vec<u8>,
}

/// The six `-subj` attributes as found in a certificate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SubjectAttrs {
    /// C.
    pub country: Option<String>,
    /// ST.
    pub state: Option<String>,
    /// L.
    pub locality: Option<String>,
    /// O.
    pub organization: Option<String>,
    /// OU.
    pub org_unit: Option<String>,
    /// CN.
    pub common_name: Option<String>,
}

impl SubjectAttrs {
    /// Fills what is missing here from `fallback`.
    pub fn or(self, fallback: &SubjectAttrs) -> SubjectAttrs {
        SubjectAttrs {
            country: self.country.or_else(|| fallback.country.clone()),
            state: self.state.or_else(|| fallback.state.clone()),
            locality: self.locality.or_else(|| fallback.locality.clone()),
            organization: self.organization.or_else(|| fallback.organization.clone()),
            org_unit: self.org_unit.or_else(|| fallback.org_unit.clone()),
            common_name: self.common_name.or_else(|| fallback.common_name.clone()),
        }
    }

    /// A full subject: what is still missing comes from the guide's defaults.
    pub fn complete(self) -> Subject {
        let d = Subject::default();
        Subject {
            country: self.country.unwrap_or(d.country),
            state: self.state.unwrap_or(d.state),
            locality: self.locality.unwrap_or(d.locality),
            organization: self.organization.unwrap_or(d.organization),
            org_unit: self.org_unit.unwrap_or(d.org_unit),
            common_name: self.common_name.unwrap_or(d.common_name),
        }
    }
}

impl CertInfo {
    /// Parses a DER certificate. The error is a short reason.
    pub fn from_der(der: &[u8]) -> Result<CertInfo, String> {
        let (rest, c) = X509Certificate::from_der(der)
            .map_err(|e| format!("it is not a valid X.509 certificate ({e})"))?;
        if !rest.is_empty() {
            return Err("it has trailing bytes after the certificate".into());
        }
        let mut info = CertInfo {
            der: der.to_vec(),
            subject: render_name(c.subject()),
            issuer: render_name(c.issuer()),
            subject_raw: c.subject().as_raw().to_vec(),
            issuer_raw: c.issuer().as_raw().to_vec(),
            subject_attrs: subject_attrs(c.subject()),
            serial: Serial::from_be_bytes(c.raw_serial()),
            not_before: c.validity().not_before.to_datetime(),
            not_after: c.validity().not_after.to_datetime(),
            sans: Vec::new(),
            other_sans: Vec::new(),
            key: describe_spki(c.public_key()),
            key_type: None,
            public_key_bits: c.public_key().subject_public_key.data.to_vec(),
            basic_constraints: None,
            key_usage: None,
            ext_key_usage: None,
            ski: None,
            aki: None,
            other_extensions: Vec::new(),
            sig_alg: c.signature_algorithm.algorithm.to_id_string(),
            tbs: subslice_range(der, c.tbs_certificate.as_ref()),
            signature: c.signature_value.data.to_vec(),
        };
        info.key_type = info.key.parse().ok();
        for ext in c.extensions() {
            match ext.parsed_extension() {
                ParsedExtension::SubjectAlternativeName(san) => {
                    for g in &san.general_names {
                        match g {
                            GeneralName::DNSName(d) => info.sans.push(SanName::Dns(d.to_string())),
                            GeneralName::IPAddress(b) => match ip_from_bytes(b) {
                                Some(ip) => info.sans.push(SanName::Ip(ip)),
                                None => info.other_sans.push(format!("IP:{b:02x?}")),
                            },
                            other => info.other_sans.push(other.to_string()),
                        }
                    }
                }
                ParsedExtension::BasicConstraints(bc) => {
                    info.basic_constraints = Some((bc.ca, bc.path_len_constraint))
                }
                ParsedExtension::KeyUsage(ku) => info.key_usage = Some(key_usage_names(ku.flags)),
                ParsedExtension::ExtendedKeyUsage(eku) => {
                    let mut v: Vec<String> = Vec::new();
                    if eku.server_auth {
                        v.push("serverAuth".into());
                    }
                    if eku.client_auth {
                        v.push("clientAuth".into());
                    }
                    if eku.code_signing {
                        v.push("codeSigning".into());
                    }
                    if eku.email_protection {
                        v.push("emailProtection".into());
                    }
                    if eku.time_stamping {
                        v.push("timeStamping".into());
                    }
                    if eku.ocsp_signing {
                        v.push("OCSPSigning".into());
                    }
                    if eku.any {
                        v.push("anyExtendedKeyUsage".into());
                    }
                    v.extend(eku.other.iter().map(|o| o.to_id_string()));
                    info.ext_key_usage = Some(v);
                }
                ParsedExtension::SubjectKeyIdentifier(k) => info.ski = Some(k.0.to_vec()),
                ParsedExtension::AuthorityKeyIdentifier(a) => {
                    info.aki = a.key_identifier.as_ref().map(|k| k.0.to_vec())
                }
                _ => info.other_extensions.push(ext.oid.to_id_string()),
            }
        }
        Ok(info)
    }

    /// Whether it is self-signed: issuer = subject and its own key verifies
    /// its signature (the guide's leaves have their CA's subject, so the
    /// names alone do not tell).
    pub fn is_self_signed(&self) -> bool {
        self.issuer_raw == self.subject_raw && self.signed_by(self)
    }

    /// Whether basicConstraints says cA:TRUE.
    pub fn is_ca(&self) -> bool {
        matches!(self.basic_constraints, Some((true, _)))
    }

    /// Whether the certificate allows `usage` (an extendedKeyUsage name):
    /// true when the extension is absent or holds anyExtendedKeyUsage, as
    /// RFC 5280 4.2.1.12 and OpenSSL read it.
    pub fn allows_eku(&self, usage: &str) -> bool {
        match &self.ext_key_usage {
            None => true,
            Some(v) => v.iter().any(|u| u == usage || u == "anyExtendedKeyUsage"),
        }
    }

    /// Whether `names` covers `name` (IP against IP SANs, DNS names
    /// case-insensitively with a leftmost-label wildcard, RFC 6125 6.4).
    pub fn matches_name(&self, name: &SanName) -> bool {
        self.sans.iter().any(|san| match (san, name) {
            (SanName::Ip(a), SanName::Ip(b)) => a == b,
            (SanName::Dns(pattern), SanName::Dns(host)) => dns_matches(pattern, host),
            _ => false,
        })
    }

    /// Verifies this certificate's signature with `issuer`'s public key.
    pub fn signed_by(&self, issuer: &CertInfo) -> bool {
        use x509_parser::oid_registry::*;
        let alg: &dyn signature::VerificationAlgorithm = match self.sig_alg.as_str() {
            s if s == OID_PKCS1_SHA256WITHRSA.to_id_string() => {
                &signature::RSA_PKCS1_2048_8192_SHA256
            }
            s if s == OID_PKCS1_SHA384WITHRSA.to_id_string() => {
                &signature::RSA_PKCS1_2048_8192_SHA384
            }
            s if s == OID_PKCS1_SHA512WITHRSA.to_id_string() => {
                &signature::RSA_PKCS1_2048_8192_SHA512
            }
            s if s == OID_SIG_ED25519.to_id_string() => &signature::ED25519,
            s if s == OID_SIG_ECDSA_WITH_SHA256.to_id_string() => match issuer.key.as_str() {
                "ecdsa-p384" => &signature::ECDSA_P384_SHA256_ASN1,
                _ => &signature::ECDSA_P256_SHA256_ASN1,
            },
            s if s == OID_SIG_ECDSA_WITH_SHA384.to_id_string() => match issuer.key.as_str() {
                "ecdsa-p256" => &signature::ECDSA_P256_SHA384_ASN1,
                _ => &signature::ECDSA_P384_SHA384_ASN1,
            },
            _ => return false,
        };
        signature::UnparsedPublicKey::new(alg, &issuer.public_key_bits)
            .verify(&self.der[self.tbs.clone()], &self.signature)
            .is_ok()
    }

    /// The subject as an rcgen name with the same attribute order and string
    /// types, so that certificates it issues carry these exact bytes as issuer.
    /// Computed on demand: only a CA that signs needs it.
    pub fn subject_dn(&self) -> Result<DistinguishedName, String> {
        let (_, c) = X509Certificate::from_der(&self.der).map_err(|e| e.to_string())?;
        dn_from_name(c.subject())
    }
}

/// The position of `part` (a slice borrowed from `whole`) inside `whole`.
fn subslice_range(whole: &[u8], part: &[u8]) -> std::ops::Range<usize> {
    let start = (part.as_ptr() as usize).saturating_sub(whole.as_ptr() as usize);
    let start = start.min(whole.len());
    start..(start + part.len()).min(whole.len())
}

fn ip_from_bytes(b: &[u8]) -> Option<IpAddr> {
    match b.len() {
        4 => Some(IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))),
        16 => {
            let a: [u8; 16] = b.try_into().ok()?;
            Some(IpAddr::V6(Ipv6Addr::from(a)))
        }
        _ => None,
    }
}

fn dns_matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if let Some(suffix) = pattern.strip_prefix("*.") {
        // The wildcard stands for exactly one whole label.
        return host
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest == suffix);
    }
    pattern == host
}

/// keyUsage bit names in RFC 5280 4.2.1.3 order.
fn key_usage_names(flags: u16) -> Vec<&'static str> {
    const NAMES: [&str; 9] = [
        "digitalSignature",
        "nonRepudiation",
        "keyEncipherment",
        "dataEncipherment",
        "keyAgreement",
        "keyCertSign",
        "cRLSign",
        "encipherOnly",
        "decipherOnly",
    ];
    NAMES
        .iter()
        .enumerate()
        .filter(|(i, _)| flags & (1 << i) != 0)
        .map(|(_, n)| *n)
        .collect()
}

fn attr_name(oid: &x509_parser::der_parser::oid::Oid<'_>) -> String {
    x509_parser::objects::oid2abbrev(oid, x509_parser::objects::oid_registry())
        .map(str::to_string)
        .unwrap_or_else(|_| oid.to_id_string())
}

fn render_name(name: &X509Name<'_>) -> String {
    name.iter_attributes()
        .map(|a| {
            let v = a.as_str().map(|s| s.escape_debug().to_string());
            format!(
                "{}={}",
                attr_name(a.attr_type()),
                v.unwrap_or_else(|_| "<binary>".into())
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn subject_attrs(name: &X509Name<'_>) -> SubjectAttrs {
    let get = |oid| {
        name.iter_attributes()
            .find(|a| *a.attr_type() == oid)
            .and_then(|a| a.as_str().ok())
            .map(str::to_string)
    };
    SubjectAttrs {
        country: get(oids::OID_X509_COUNTRY_NAME),
        state: get(oids::OID_X509_STATE_OR_PROVINCE_NAME),
        locality: get(oids::OID_X509_LOCALITY_NAME),
        organization: get(oids::OID_X509_ORGANIZATION_NAME),
        org_unit: get(oids::OID_X509_ORGANIZATIONAL_UNIT),
        common_name: get(oids::OID_X509_COMMON_NAME),
    }
}

/// An rcgen name with the same attributes, order and string types; refused
/// (rather than silently changed) where rcgen cannot reproduce it.
fn dn_from_name(name: &X509Name<'_>) -> Result<DistinguishedName, String> {
    let mut dn = DistinguishedName::new();
    let mut seen = Vec::new();
    for rdn in name.iter_rdn() {
        let attrs: Vec<_> = rdn.iter().collect();
        if attrs.len() != 1 {
            return Err("it has a multi-valued RDN".into());
        }
        let a = attrs[0];
        let arcs: Vec<u64> = a
            .attr_type()
            .iter()
            .ok_or("it has an attribute type with a huge OID arc")?
            .collect();
        let ty = DnType::from_oid(&arcs);
        if seen.contains(&ty) {
            return Err(format!(
                "it repeats the attribute {}",
                attr_name(a.attr_type())
            ));
        }
        seen.push(ty.clone());
        let data = a.attr_value().data;
        let text = || {
            std::str::from_utf8(data)
                .map_err(|_| "it has an attribute that is not valid text".to_string())
        };
        let bad = |e: rcgen::Error| format!("it has an attribute rcgen cannot encode ({e})");
        let value = match a.attr_value().header.tag() {
            Tag::Utf8String => DnValue::Utf8String(text()?.to_string()),
            Tag::PrintableString => DnValue::PrintableString(text()?.try_into().map_err(bad)?),
            Tag::Ia5String => DnValue::Ia5String(text()?.try_into().map_err(bad)?),
            Tag::T61String => DnValue::TeletexString(text()?.try_into().map_err(bad)?),
            Tag::BmpString => DnValue::BmpString(
                rcgen::string::BmpString::from_utf16be(data.to_vec()).map_err(bad)?,
            ),
            Tag::UniversalString => DnValue::UniversalString(
                rcgen::string::UniversalString::from_utf32be(data.to_vec()).map_err(bad)?,
            ),
            other => {
                return Err(format!(
                    "it has an attribute of type {other:?}, which rcgen cannot encode"
                ));
            }
        };
        dn.push(ty, value);
    }
    Ok(dn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_one_label() {
        assert!(dns_matches("*.milvus.svc", "proxy.milvus.svc"));
        assert!(!dns_matches("*.milvus.svc", "a.b.milvus.svc"));
        assert!(!dns_matches("*.milvus.svc", "milvus.svc"));
        assert!(dns_matches("Localhost", "localhost."));
    }

    #[test]
    fn key_usage_bits_in_rfc_order() {
        assert_eq!(
            key_usage_names(0b111),
            ["digitalSignature", "nonRepudiation", "keyEncipherment"]
        );
        assert_eq!(
            key_usage_names((1 << 5) | (1 << 6)),
            ["keyCertSign", "cRLSign"]
        );
    }
}
