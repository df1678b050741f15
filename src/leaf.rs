//! The server and client certificates' profile: the guide's `[v3_req]`.

use rcgen::{
    CertificateParams, ExtendedKeyUsagePurpose, IsCa, KeyIdMethod, KeyPair, KeyUsagePurpose,
};

use crate::error::Result;
use crate::files;
use crate::keys::{KeyType, key_identifier};
use crate::names::{SanName, Subject};
use crate::serial::Serial;
use crate::validity::Validity;

/// Which end of a TLS connection a leaf certificate is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Milvus itself (`server.pem`): extendedKeyUsage serverAuth.
    Server,
    /// A client in `tlsMode: 2` (`client.pem`): extendedKeyUsage clientAuth.
    Client,
}

impl Role {
    /// Both roles, server first.
    pub const ALL: [Role; 2] = [Role::Server, Role::Client];

    /// `server` or `client`.
    pub fn name(self) -> &'static str {
        match self {
            Role::Server => "server",
            Role::Client => "client",
        }
    }

    /// The certificate's file name.
    pub fn cert_file(self) -> &'static str {
        match self {
            Role::Server => files::SERVER_PEM,
            Role::Client => files::CLIENT_PEM,
        }
    }

    /// The private key's file name.
    pub fn key_file(self) -> &'static str {
        match self {
            Role::Server => files::SERVER_KEY,
            Role::Client => files::CLIENT_KEY,
        }
    }

    /// The extendedKeyUsage this role needs. The guide writes serverAuth in
    /// both; Go's crypto/tls (Milvus tlsMode 2, RequireAndVerifyClientCert)
    /// rejects a client certificate without clientAuth, so the client gets it.
    pub fn ext_key_usage(self) -> ExtendedKeyUsagePurpose {
        match self {
            Role::Server => ExtendedKeyUsagePurpose::ServerAuth,
            Role::Client => ExtendedKeyUsagePurpose::ClientAuth,
        }
    }
}

/// What goes into one leaf certificate.
#[derive(Clone, Debug)]
pub struct LeafSpec<'a> {
    /// Server or client.
    pub role: Role,
    /// Its subject.
    pub subject: &'a Subject,
    /// Its subjectAltNames (the common name first).
    pub names: &'a [SanName],
    /// Its validity period (already capped at the CA's notAfter).
    pub validity: Validity,
    /// Its serial number.
    pub serial: &'a Serial,
}

/// The parameters of a leaf certificate for `key`: basicConstraints CA:FALSE;
/// keyUsage digitalSignature, nonRepudiation, and keyEncipherment for RSA keys
/// only (RFC 8446 has no RSA key transport, but TLS 1.2 RSA key exchange
/// needs it, and an EC or Ed25519 key cannot encipher); the role's
/// extendedKeyUsage; subjectAltName; SKI (method 1) and AKI = the issuer's SKI.
pub fn params(spec: &LeafSpec<'_>, key: &KeyPair, key_type: KeyType) -> Result<CertificateParams> {
    let mut p = CertificateParams::default();
    p.distinguished_name = spec.subject.to_dn();
    p.serial_number = Some(spec.serial.to_rcgen());
    p.not_before = spec.validity.not_before;
    p.not_after = spec.validity.not_after;
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::ContentCommitment,
    ];
    if key_type.is_rsa() {
        p.key_usages.push(KeyUsagePurpose::KeyEncipherment);
    }
    p.extended_key_usages = vec![spec.role.ext_key_usage()];
    p.subject_alt_names = spec
        .names
        .iter()
        .map(SanName::to_rcgen)
        .collect::<Result<_>>()?;
    p.key_identifier_method = KeyIdMethod::PreSpecified(key_identifier(key));
    p.use_authority_key_identifier_extension = true;
    Ok(p)
}
