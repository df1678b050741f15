//! What we need to know about a certificate, parsed once into owned data.
//! Its keyUsage and extendedKeyUsage are the enums of `usage`.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use rcgen::{DistinguishedName, DnType, DnValue};
use time::OffsetDateTime;
use x509_parser::der_parser::asn1_rs::Tag;
use x509_parser::error::X509Error;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::nom::Parser;
use x509_parser::oid_registry as oids;
use x509_parser::prelude::{
    FromDer, SubjectPublicKeyInfo, X509Certificate, X509CertificateParser, X509Name,
};

use crate::keys::{KeyType, describe_spki};
use crate::names::{SanName, Subject};
use crate::serial::Serial;

mod usage;

pub use usage::{ExtKeyUsage, KeyUsage};

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
    /// The whole SubjectPublicKeyInfo (algorithm and curve too), which
    /// verifies the certificates this one signs.
    spki: Vec<u8>,
    /// basicConstraints: None when absent, else (cA, pathLen).
    pub basic_constraints: Option<(bool, Option<u32>)>,
    /// keyUsage, in bit order; None when absent.
    pub key_usage: Option<Vec<KeyUsage>>,
    /// extendedKeyUsage (the six RFC 5280 purposes and
    /// anyExtendedKeyUsage in that order, then others); None when absent.
    pub ext_key_usage: Option<Vec<ExtKeyUsage>>,
    /// Subject Key Identifier.
    pub ski: Option<Vec<u8>>,
    /// Authority Key Identifier's keyIdentifier.
    pub aki: Option<Vec<u8>>,
    /// Extensions other than the six above, by OID.
    pub other_extensions: Vec<String>,
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
    pub(crate) fn or(self, fallback: &SubjectAttrs) -> SubjectAttrs {
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
    pub(crate) fn complete(self) -> Subject {
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
    /// Parses a DER certificate.
    pub fn from_der(der: &[u8]) -> Result<CertInfo, CertError> {
        let (rest, c) = X509Certificate::from_der(der).map_err(CertError::NotX509)?;
        if !rest.is_empty() {
            return Err(CertError::TrailingBytes);
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
            spki: c.public_key().raw.to_vec(),
            basic_constraints: None,
            key_usage: None,
            ext_key_usage: None,
            ski: None,
            aki: None,
            other_extensions: Vec::new(),
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
                ParsedExtension::KeyUsage(ku) => info.key_usage = Some(KeyUsage::of(ku.flags)),
                ParsedExtension::ExtendedKeyUsage(eku) => {
                    info.ext_key_usage = Some(ExtKeyUsage::of(eku))
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

    /// Whether the certificate allows `usage`: true when extendedKeyUsage
    /// is absent or holds anyExtendedKeyUsage, as RFC 5280 4.2.1.12 and
    /// OpenSSL read it.
    pub fn allows_eku(&self, usage: &ExtKeyUsage) -> bool {
        match &self.ext_key_usage {
            None => true,
            Some(v) => v.iter().any(|u| u == usage || *u == ExtKeyUsage::Any),
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

    /// Verifies this certificate's signature with `issuer`'s public key
    /// (x509-parser's `verify_signature` over aws-lc-rs). Re-parsed here,
    /// without the extensions: only the signature fields are needed (and
    /// of the issuer only its key).
    ///
    /// A SHA-1 signature never verifies: Go's crypto/x509, which Milvus uses,
    /// rejects it (`x509.InsecureAlgorithmError`, since Go 1.18), so a chain
    /// that relies on one would fail in Milvus however it verifies here.
    pub fn signed_by(&self, issuer: &CertInfo) -> bool {
        let cert = X509CertificateParser::new()
            .with_deep_parse_extensions(false)
            .parse(&self.der);
        let key = SubjectPublicKeyInfo::from_der(&issuer.spki);
        let (Ok((_, cert)), Ok((_, key))) = (cert, key) else {
            return false;
        };
        let alg = &cert.signature_algorithm.algorithm;
        if *alg == oids::OID_PKCS1_SHA1WITHRSA || *alg == oids::OID_SHA1_WITH_RSA {
            return false;
        }
        cert.verify_signature(Some(&key)).is_ok()
    }

    /// The subject as an rcgen name with the same attribute order and string
    /// types, so that certificates it issues carry these exact bytes as issuer.
    /// Computed on demand: only a CA that signs needs it.
    pub(crate) fn subject_dn(&self) -> Result<DistinguishedName, SubjectError> {
        let (_, c) = X509Certificate::from_der(&self.der)
            .map_err(|e| SubjectError::NotX509(CertError::NotX509(e)))?;
        dn_from_name(c.subject())
    }
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

fn attr_name(oid: &x509_parser::der_parser::oid::Oid<'_>) -> String {
    x509_parser::objects::oid2abbrev(oid, x509_parser::objects::oid_registry())
        .map(str::to_string)
        .unwrap_or_else(|_| oid.to_id_string())
}

fn render_name(name: &X509Name<'_>) -> String {
    name.iter_attributes()
        .map(|a| {
            let v = a.as_str().map(dn_value);
            format!(
                "{}={}",
                attr_name(a.attr_type()),
                v.unwrap_or_else(|_| "<binary>".into())
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// An attribute value as RFC 4514 2.4 writes it in a distinguished name:
/// `,`, `+`, `"`, `\\`, `<`, `>` and `;`, a leading `#` or space and a
/// trailing space escaped with a backslash, so `CN=a\\, O=b` cannot pass
/// for two attributes; anything that does not print (a control or
/// formatting character) as a Rust escape, `\\u{1b}`.
fn dn_value(v: &str) -> String {
    let last = v.chars().count().saturating_sub(1);
    let mut out = String::with_capacity(v.len());
    for (i, c) in v.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && matches!(c, '#' | ' '))
            || (i == last && c == ' ');
        if special {
            out.push('\\');
            out.push(c);
        } else if c == '\'' {
            out.push(c);
        } else {
            out.extend(c.escape_debug());
        }
    }
    out
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
fn dn_from_name(name: &X509Name<'_>) -> Result<DistinguishedName, SubjectError> {
    let mut dn = DistinguishedName::new();
    let mut seen = Vec::new();
    for rdn in name.iter_rdn() {
        let attrs: Vec<_> = rdn.iter().collect();
        let [a] = attrs[..] else {
            return Err(SubjectError::MultiValuedRdn);
        };
        let arcs: Vec<u64> = a
            .attr_type()
            .iter()
            .ok_or(SubjectError::HugeOidArc)?
            .collect();
        let ty = DnType::from_oid(&arcs);
        if seen.contains(&ty) {
            return Err(SubjectError::Repeated(attr_name(a.attr_type())));
        }
        seen.push(ty.clone());
        let data = a.attr_value().data;
        let text = || std::str::from_utf8(data).map_err(|_| SubjectError::NotText);
        let value = match a.attr_value().header.tag() {
            Tag::Utf8String => DnValue::Utf8String(text()?.to_string()),
            Tag::PrintableString => DnValue::PrintableString(text()?.try_into()?),
            Tag::Ia5String => DnValue::Ia5String(text()?.try_into()?),
            Tag::T61String => DnValue::TeletexString(text()?.try_into()?),
            Tag::BmpString => {
                DnValue::BmpString(rcgen::string::BmpString::from_utf16be(data.to_vec())?)
            }
            Tag::UniversalString => DnValue::UniversalString(
                rcgen::string::UniversalString::from_utf32be(data.to_vec())?,
            ),
            other => return Err(SubjectError::UnsupportedType(other)),
        };
        dn.push(ty, value);
    }
    Ok(dn)
}

/// Why bytes are not a certificate we can read. Displayed after the file's
/// name: "cert/ca.pem is not a PEM certificate: it has trailing bytes ...".
#[derive(Clone, Debug, PartialEq)]
pub enum CertError {
    /// x509-parser refused it.
    NotX509(x509_parser::nom::Err<X509Error>),
    /// Bytes follow the certificate's DER.
    TrailingBytes,
}

impl fmt::Display for CertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CertError::NotX509(e) => write!(f, "it is not a valid X.509 certificate ({e})"),
            CertError::TrailingBytes => f.write_str("it has trailing bytes after the certificate"),
        }
    }
}

impl std::error::Error for CertError {}

/// Why a CA's subject cannot be reproduced exactly in the certificates it
/// signs (their issuer must be its subject byte for byte, RFC 5280 7.1).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum SubjectError {
    /// The certificate cannot be parsed again.
    NotX509(CertError),
    /// An RDN holds several attributes (`CN=a+O=b`).
    MultiValuedRdn,
    /// An attribute type's OID has an arc larger than 64 bits.
    HugeOidArc,
    /// This attribute appears twice; rcgen keeps one of each.
    Repeated(String),
    /// A string attribute is not UTF-8.
    NotText,
    /// rcgen refuses the value for its string type.
    Unencodable(rcgen::Error),
    /// A string type rcgen does not write.
    UnsupportedType(Tag),
}

impl From<rcgen::Error> for SubjectError {
    fn from(e: rcgen::Error) -> SubjectError {
        SubjectError::Unencodable(e)
    }
}

impl fmt::Display for SubjectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubjectError::NotX509(e) => e.fmt(f),
            SubjectError::MultiValuedRdn => f.write_str("it has a multi-valued RDN"),
            SubjectError::HugeOidArc => f.write_str("it has an attribute type with a huge OID arc"),
            SubjectError::Repeated(name) => write!(f, "it repeats the attribute {name}"),
            SubjectError::NotText => f.write_str("it has an attribute that is not valid text"),
            SubjectError::Unencodable(e) => {
                write!(f, "it has an attribute rcgen cannot encode ({e})")
            }
            SubjectError::UnsupportedType(tag) => write!(
                f,
                "it has an attribute of type {tag:?}, which rcgen cannot encode"
            ),
        }
    }
}

impl std::error::Error for SubjectError {}

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

    /// A CA of `key_type` (CN=ca, so that every CA here has the same name)
    /// and a leaf it signs.
    fn ca_and_leaf(key_type: KeyType) -> (CertInfo, CertInfo) {
        let ca_key = key_type.generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, "ca");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = params.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(params, ca_key);
        let leaf_key = key_type.generate().unwrap();
        let leaf = rcgen::CertificateParams::new(vec!["localhost".to_string()])
            .unwrap()
            .signed_by(&leaf_key, &issuer)
            .unwrap();
        let info = |c: &rcgen::Certificate| CertInfo::from_der(c.der()).unwrap();
        (info(&ca), info(&leaf))
    }

    /// Every key type we make (RSA PKCS#1 v1.5 with SHA-256, ECDSA P-256
    /// and P-384, Ed25519): a certificate verifies against its issuer, and
    /// not against a CA of the same name with another key, of the same type
    /// or of another.
    #[test]
    fn signatures_verify_with_the_issuers_key_only() {
        let types = [
            KeyType::Rsa2048,
            KeyType::EcdsaP256,
            KeyType::EcdsaP384,
            KeyType::Ed25519,
        ];
        let made: Vec<_> = types.iter().map(|&t| (t, ca_and_leaf(t))).collect();
        for (i, (t, (ca, leaf))) in made.iter().enumerate() {
            assert!(leaf.signed_by(ca), "{t}: leaf by its CA");
            assert!(ca.is_self_signed(), "{t}: CA self-signed");
            let (other_ca, _) = ca_and_leaf(*t);
            assert!(!leaf.signed_by(&other_ca), "{t}: leaf by another {t} key");
            assert!(!ca.signed_by(&other_ca), "{t}: CA by another {t} key");
            let (u, (another, _)) = &made[(i + 1) % made.len()];
            assert!(!leaf.signed_by(another), "{t}: leaf by a {u} key");
            assert!(!leaf.signed_by(leaf), "{t}: leaf by its own key");
        }
    }

    #[test]
    fn any_extended_key_usage_allows_every_purpose() {
        let (_, mut leaf) = ca_and_leaf(KeyType::EcdsaP256);
        assert!(leaf.allows_eku(&ExtKeyUsage::ClientAuth), "no extension");
        leaf.ext_key_usage = Some(vec![ExtKeyUsage::ServerAuth]);
        assert!(leaf.allows_eku(&ExtKeyUsage::ServerAuth));
        assert!(!leaf.allows_eku(&ExtKeyUsage::ClientAuth));
        leaf.ext_key_usage = Some(vec![ExtKeyUsage::Other("1.2.3".into()), ExtKeyUsage::Any]);
        assert!(leaf.allows_eku(&ExtKeyUsage::ClientAuth));
        assert_eq!(ExtKeyUsage::OcspSigning.to_string(), "OCSPSigning");
        assert_eq!(ExtKeyUsage::Other("1.2.3".into()).to_string(), "1.2.3");
    }
}
