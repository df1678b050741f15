//! Key types: generation, loading (PKCS#8, PKCS#1, SEC1), identification.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use aws_lc_rs::digest;
use rcgen::{KeyPair, PublicKeyData, RsaKeySize, SignatureAlgorithm};
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::{PemObject, SectionKind};
use x509_parser::prelude::FromDer;
use x509_parser::public_key::PublicKey;
use x509_parser::x509::SubjectPublicKeyInfo;

use crate::error::{Error, Result};
use crate::input::Encoding;

/// The key types `--key-type` accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// RSA, 2048-bit modulus (the guide's choice and the default).
    Rsa2048,
    /// RSA, 3072-bit modulus.
    Rsa3072,
    /// RSA, 4096-bit modulus.
    Rsa4096,
    /// ECDSA on NIST P-256, signing with SHA-256.
    EcdsaP256,
    /// ECDSA on NIST P-384, signing with SHA-384.
    EcdsaP384,
    /// Ed25519 (RFC 8410).
    Ed25519,
}

impl KeyType {
    /// Every key type, in the order `--help` lists them.
    pub const ALL: [KeyType; 6] = [
        KeyType::Rsa2048,
        KeyType::Rsa3072,
        KeyType::Rsa4096,
        KeyType::EcdsaP256,
        KeyType::EcdsaP384,
        KeyType::Ed25519,
    ];

    /// The name used on the command line and in `inspect` output.
    pub fn name(self) -> &'static str {
        match self {
            KeyType::Rsa2048 => "rsa2048",
            KeyType::Rsa3072 => "rsa3072",
            KeyType::Rsa4096 => "rsa4096",
            KeyType::EcdsaP256 => "ecdsa-p256",
            KeyType::EcdsaP384 => "ecdsa-p384",
            KeyType::Ed25519 => "ed25519",
        }
    }

    /// Whether the key is RSA (and so may do keyEncipherment).
    pub(crate) fn is_rsa(self) -> bool {
        matches!(self, KeyType::Rsa2048 | KeyType::Rsa3072 | KeyType::Rsa4096)
    }

    /// The signature algorithm a key of this type signs with: sha256WithRSAEncryption
    /// for every RSA size (as `openssl ... -sha256`), ecdsa-with-SHA256/384, Ed25519.
    pub(crate) fn signature_algorithm(self) -> &'static SignatureAlgorithm {
        match self {
            KeyType::Rsa2048 | KeyType::Rsa3072 | KeyType::Rsa4096 => &rcgen::PKCS_RSA_SHA256,
            KeyType::EcdsaP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            KeyType::EcdsaP384 => &rcgen::PKCS_ECDSA_P384_SHA384,
            KeyType::Ed25519 => &rcgen::PKCS_ED25519,
        }
    }

    /// Generates a fresh key pair from the system's CSPRNG (aws-lc-rs).
    pub(crate) fn generate(self) -> Result<KeyPair> {
        let alg = self.signature_algorithm();
        let size = match self {
            KeyType::Rsa2048 => Some(RsaKeySize::_2048),
            KeyType::Rsa3072 => Some(RsaKeySize::_3072),
            KeyType::Rsa4096 => Some(RsaKeySize::_4096),
            _ => None,
        };
        let generated = match size {
            Some(size) => KeyPair::generate_rsa_for(alg, size),
            None => KeyPair::generate_for(alg),
        };
        generated.map_err(|source| Error::Crypto {
            what: "generate a private key",
            source,
        })
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for KeyType {
    type Err = Error;

    fn from_str(s: &str) -> Result<KeyType> {
        KeyType::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = KeyType::ALL.iter().map(|k| k.name()).collect();
                Error::invalid(
                    "--key-type",
                    s,
                    format!("must be one of {}", names.join(", ")),
                )
            })
    }
}

/// Names a public key the way `--key-type` does (`rsa2048`, `ecdsa-p256`, ...);
/// for keys we do not make, a descriptive name (`rsa1024`, `ecdsa-p521`, `dsa`).
pub(crate) fn describe_spki(spki: &SubjectPublicKeyInfo<'_>) -> String {
    use x509_parser::oid_registry::{
        OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_NIST_EC_P384, OID_NIST_EC_P521,
        OID_PKCS1_RSAENCRYPTION, OID_SIG_ED448, OID_SIG_ED25519,
    };
    let alg = &spki.algorithm.algorithm;
    if *alg == OID_PKCS1_RSAENCRYPTION {
        return match spki.parsed() {
            Ok(PublicKey::RSA(rsa)) => format!("rsa{}", rsa.key_size()),
            _ => "rsa".into(),
        };
    }
    if *alg == OID_KEY_TYPE_EC_PUBLIC_KEY {
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.as_oid().ok());
        return match curve {
            Some(c) if c == OID_EC_P256 => "ecdsa-p256".into(),
            Some(c) if c == OID_NIST_EC_P384 => "ecdsa-p384".into(),
            Some(c) if c == OID_NIST_EC_P521 => "ecdsa-p521".into(),
            _ => "ecdsa".into(),
        };
    }
    if *alg == OID_SIG_ED25519 {
        return "ed25519".into();
    }
    if *alg == OID_SIG_ED448 {
        return "ed448".into();
    }
    format!("unknown ({alg})")
}

/// The key identifier of RFC 5280 4.2.1.2 method (1): the SHA-1 hash of the
/// BIT STRING subjectPublicKey (without tag, length and unused-bits octet),
/// which is what OpenSSL writes for `subjectKeyIdentifier = hash`.
pub(crate) fn key_identifier(key: &impl PublicKeyData) -> Vec<u8> {
    sha1(key.der_bytes())
}

/// The SHA-1 of some bytes, for key identifiers only (not a security use).
pub(crate) fn sha1(data: &[u8]) -> Vec<u8> {
    digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, data)
        .as_ref()
        .to_vec()
}

/// The warning for Ed25519 certificates: grpcio (the gRPC core pymilvus and
/// most non-Go Milvus SDKs use) offers no Ed25519 signature algorithm in its
/// TLS handshake, so those clients fail with a handshake error.
pub(crate) const ED25519_CLIENT_WARNING: &str = "pymilvus and other grpcio-based clients \
     cannot use Ed25519 TLS (the handshake fails); for them make the certificates with \
     --key-type ecdsa-p256 or rsa2048";

/// The DER prefix of an Ed25519 private key in PKCS#8 v1 (RFC 8410 section 7):
/// SEQUENCE { INTEGER 0, AlgorithmIdentifier { id-Ed25519 }, OCTET STRING {
/// OCTET STRING (32 bytes) } }, followed by the 32-byte seed. This is what
/// `openssl genpkey -algorithm ED25519` writes.
const ED25519_PKCS8_V1_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// The private key as a PEM `PRIVATE KEY` (PKCS#8) file. RSA and ECDSA keys
/// are written as generated. Ed25519 keys are written as PKCS#8 v1 (seed
/// only): aws-lc-rs makes v2 (RFC 5958, with the public key), which
/// OpenSSL 3.0 (`openssl pkey`: "unsupported"), Python `cryptography` and
/// grpcio cannot read. Our own readers accept both (see [`parse_private_key`]).
pub(crate) fn private_key_pem(key: &KeyPair) -> String {
    if key.algorithm() != &rcgen::PKCS_ED25519 {
        return key.serialize_pem();
    }
    match ed25519_seed(&key.serialize_der()) {
        Some(seed) => {
            let mut der = ED25519_PKCS8_V1_PREFIX.to_vec();
            der.extend_from_slice(seed);
            pem("PRIVATE KEY", &der)
        }
        // Not reached for keys aws-lc-rs makes; keep what it wrote.
        None => key.serialize_pem(),
    }
}

/// The 32-byte seed of an Ed25519 PKCS#8 key, v1 or v2: the inner OCTET
/// STRING that follows the algorithm identifier `30 05 06 03 2b 65 70`.
fn ed25519_seed(der: &[u8]) -> Option<&[u8]> {
    const MARKER: [u8; 11] = [
        0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
    ];
    let at = der.windows(MARKER.len()).position(|w| w == MARKER)?;
    der.get(at + MARKER.len()..at + MARKER.len() + 32)
}

/// A PEM section (RFC 7468): base64 in lines of 64 characters, LF line ends.
fn pem(label: &str, der: &[u8]) -> String {
    let config = ::pem::EncodeConfig::new().set_line_ending(::pem::LineEnding::LF);
    ::pem::encode_config(&::pem::Pem::new(label, der), config)
}

/// Reads a private key from PEM text: PKCS#8 (`PRIVATE KEY`), PKCS#1
/// (`RSA PRIVATE KEY`) or SEC1 (`EC PRIVATE KEY`), exactly one key per file.
/// Encrypted keys are refused with the command that decrypts them.
pub(crate) fn parse_private_key(path: &Path, pem: &[u8]) -> Result<KeyPair> {
    const EXPECTED: &str = "a PEM private key";
    if contains(pem, b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
        || contains(pem, b"Proc-Type: 4,ENCRYPTED")
    {
        return Err(Error::EncryptedKey {
            path: path.to_path_buf(),
        });
    }
    let mut keys = Vec::new();
    let mut other = Vec::new();
    for section in <(SectionKind, Vec<u8>)>::pem_slice_iter(pem) {
        let (kind, der) =
            section.map_err(|e| Error::bad_file(path, EXPECTED, pem_error_reason(&e)))?;
        match kind {
            SectionKind::PrivateKey => keys.push(PrivateKeyDer::Pkcs8(der.into())),
            SectionKind::RsaPrivateKey => keys.push(PrivateKeyDer::Pkcs1(der.into())),
            SectionKind::EcPrivateKey => keys.push(PrivateKeyDer::Sec1(der.into())),
            other_kind => other.push(other_kind),
        }
    }
    let key = match (keys.len(), other.first()) {
        (1, _) => keys.remove(0),
        (0, Some(SectionKind::Certificate)) => {
            return Err(Error::bad_file(
                path,
                EXPECTED,
                "it holds a certificate; the key and certificate files may be swapped",
            ));
        }
        (0, Some(kind)) => {
            return Err(Error::bad_file(
                path,
                EXPECTED,
                format!("it holds a {kind:?} section, not a private key"),
            ));
        }
        (0, None) if crate::input::may_be_der(pem) => {
            return Err(Error::bad_file(
                path,
                EXPECTED,
                format!(
                    "it is DER (binary), but PEM is needed here; {}",
                    crate::input::der_to_pem(path, true)
                ),
            ));
        }
        (0, None) => return Err(Error::bad_file(path, EXPECTED, no_pem_reason(pem))),
        (n, _) => {
            return Err(Error::bad_file(
                path,
                EXPECTED,
                format!("it holds {n} private keys; keep exactly one per file"),
            ));
        }
    };
    KeyPair::try_from(&key).map_err(|e| {
        Error::bad_file(
            path,
            EXPECTED,
            format!(
                "the key cannot be used ({e}); supported are RSA, ECDSA P-256/P-384 and Ed25519"
            ),
        )
    })
}

/// [`parse_private_key`], and also a file that is one DER private key:
/// PKCS#8 (`openssl pkey -outform DER`, Java, Windows), PKCS#1 or SEC1.
pub(crate) fn parse_private_key_or_der(path: &Path, bytes: &[u8]) -> Result<(KeyPair, Encoding)> {
    if !crate::input::may_be_der(bytes) {
        return parse_private_key(path, bytes).map(|k| (k, Encoding::Pem));
    }
    if let Some(key) = der_private_key(bytes) {
        return Ok((key, Encoding::Der));
    }
    use x509_parser::prelude::X509Certificate;
    let reason = if X509Certificate::from_der(bytes).is_ok() {
        "it holds a certificate (DER); the key and certificate files may be swapped"
    } else {
        "it is binary (DER?) but not a private key milvus-certs can read (an encrypted key, \
         or damaged); supported are RSA, ECDSA P-256/P-384 and Ed25519 in PKCS#8, PKCS#1 or SEC1"
    };
    Err(Error::bad_file(path, "a private key", reason))
}

/// The key in a DER PKCS#8, PKCS#1 or SEC1 structure, if it is one we can use.
pub(crate) fn der_private_key(der: &[u8]) -> Option<KeyPair> {
    [
        PrivateKeyDer::Pkcs8(der.to_vec().into()),
        PrivateKeyDer::Pkcs1(der.to_vec().into()),
        PrivateKeyDer::Sec1(der.to_vec().into()),
    ]
    .iter()
    .find_map(|k| KeyPair::try_from(k).ok())
}

/// Why a byte string held no PEM section at all, in words a user understands.
pub(crate) fn no_pem_reason(data: &[u8]) -> String {
    if data.iter().all(u8::is_ascii_whitespace) {
        "the file is empty".into()
    } else {
        "it holds no PEM section (-----BEGIN ...-----)".into()
    }
}

/// Why a PEM section could not be read, without echoing its (possibly secret) content.
pub(crate) fn pem_error_reason(e: &rustls_pki_types::pem::Error) -> String {
    use rustls_pki_types::pem::Error as E;
    match e {
        E::MissingSectionEnd { .. } => "a PEM section has no END line (truncated file?)".into(),
        E::IllegalSectionStart { .. } => "a PEM BEGIN line is malformed".into(),
        E::Base64Decode(_) => "a PEM section is not valid base64 (truncated or edited?)".into(),
        E::SectionTooLarge => "a PEM section is larger than 256 MiB".into(),
        _ => "the PEM text cannot be read".into(),
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_type_generates_and_is_recognised() {
        for kt in KeyType::ALL {
            if kt == KeyType::Rsa4096 || kt == KeyType::Rsa3072 {
                continue; // slow; covered by the integration tests
            }
            let key = kt.generate().unwrap();
            let spki = key.subject_public_key_info();
            let (_, spki) = SubjectPublicKeyInfo::from_der(&spki).unwrap();
            assert_eq!(describe_spki(&spki).parse::<KeyType>().ok(), Some(kt));
            let reread = parse_private_key(Path::new("k"), key.serialize_pem().as_bytes()).unwrap();
            assert_eq!(reread.public_key_raw(), key.public_key_raw());
        }
    }

    #[test]
    fn der_keys_are_read_and_named() {
        let p = Path::new("k");
        for kt in [KeyType::EcdsaP256, KeyType::Ed25519, KeyType::Rsa2048] {
            let key = kt.generate().unwrap();
            let (der, enc) = parse_private_key_or_der(p, &key.serialize_der()).unwrap();
            assert_eq!(enc, Encoding::Der);
            assert_eq!(der.public_key_raw(), key.public_key_raw());
            let (pem, enc) = parse_private_key_or_der(p, key.serialize_pem().as_bytes()).unwrap();
            assert_eq!(enc, Encoding::Pem);
            assert_eq!(pem.public_key_raw(), key.public_key_raw());
        }
        // Binary that is no key: refused with a reason, never a panic.
        let err = parse_private_key_or_der(p, &[0x30, 0x03, 0x02, 0x01, 0x00]).unwrap_err();
        assert!(err.to_string().contains("not a private key"), "{err}");
    }

    #[test]
    fn ed25519_keys_are_written_as_pkcs8_v1_and_read_back() {
        let key = KeyType::Ed25519.generate().unwrap();
        // aws-lc-rs makes v2 (version 1, with the public key)...
        assert_eq!(&key.serialize_der()[2..5], &[0x02, 0x01, 0x01]);
        let pem_text = private_key_pem(&key);
        let der = rustls_pki_types::PrivatePkcs8KeyDer::from_pem_slice(pem_text.as_bytes())
            .unwrap()
            .secret_pkcs8_der()
            .to_vec();
        // ...we write v1, as `openssl genpkey -algorithm ED25519`: 48 bytes.
        assert_eq!(der.len(), 48);
        assert_eq!(der[..16], ED25519_PKCS8_V1_PREFIX);
        // Both read back to the same key.
        let v1 = parse_private_key(Path::new("k"), pem_text.as_bytes()).unwrap();
        let v2 = parse_private_key(Path::new("k"), key.serialize_pem().as_bytes()).unwrap();
        assert_eq!(v1.public_key_raw(), key.public_key_raw());
        assert_eq!(v2.public_key_raw(), key.public_key_raw());
        // Other key types are written as generated.
        let ec = KeyType::EcdsaP256.generate().unwrap();
        assert_eq!(private_key_pem(&ec), ec.serialize_pem());
    }

    #[test]
    fn key_id_is_sha1_of_the_public_key_bits() {
        let key = KeyType::EcdsaP256.generate().unwrap();
        let id = key_identifier(&key);
        assert_eq!(id.len(), 20);
        // For EC keys the BIT STRING is the uncompressed point, 65 bytes for P-256.
        assert_eq!(key.public_key_raw().len(), 65);
        assert_eq!(id, sha1(key.public_key_raw()));
    }

    #[test]
    fn key_parsing_refuses_what_is_not_one_key() {
        let p = Path::new("k");
        let key = KeyType::EcdsaP256.generate().unwrap().serialize_pem();
        let two = format!("{key}{key}");
        assert!(matches!(
            parse_private_key(p, b""),
            Err(Error::BadFile { .. })
        ));
        assert!(parse_private_key(p, two.as_bytes()).is_err());
        assert!(matches!(
            parse_private_key(p, b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"),
            Err(Error::EncryptedKey { .. })
        ));
        let truncated = &key.as_bytes()[..key.len() / 2];
        assert!(parse_private_key(p, truncated).is_err());
    }
}
