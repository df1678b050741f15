//! The server and client certificates' profile: the guide's `[v3_req]`.

use rcgen::{
    CertificateParams, ExtendedKeyUsagePurpose, IsCa, KeyIdMethod, KeyPair, KeyUsagePurpose,
};

use crate::certinfo::{CertInfo, ExtKeyUsage};
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
    pub(crate) fn cert_file(self) -> &'static str {
        match self {
            Role::Server => files::SERVER_PEM,
            Role::Client => files::CLIENT_PEM,
        }
    }

    /// The private key's file name.
    pub(crate) fn key_file(self) -> &'static str {
        match self {
            Role::Server => files::SERVER_KEY,
            Role::Client => files::CLIENT_KEY,
        }
    }
}

/// What a leaf certificate is for: its extendedKeyUsage (`add --profile`).
///
/// etcd 3.4 with `--client-cert-auth` rejects a client certificate without
/// clientAuth ("incompatible key usage"), and its own server certificate
/// needs clientAuth too: its gRPC gateway and its peers connect with it as
/// a client (etcd docs, "Transport security model", and
/// `embed/config.go`'s `--cert-file` used for the gateway's client
/// connection). So etcd's certificate is `peer`: both.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Profile {
    /// serverAuth: a TLS server (S3, a Kafka broker).
    Server,
    /// clientAuth: a TLS client presenting a certificate.
    Client,
    /// serverAuth and clientAuth: a server that also connects as a client
    /// (etcd members, Kafka brokers talking to each other).
    Peer,
}

impl Profile {
    /// Every profile, as `--profile` names them.
    pub const ALL: [Profile; 3] = [Profile::Server, Profile::Client, Profile::Peer];

    /// `server`, `client` or `peer`.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Server => "server",
            Profile::Client => "client",
            Profile::Peer => "peer",
        }
    }

    /// The extendedKeyUsage it writes.
    pub(crate) fn ext_key_usages(self) -> Vec<ExtendedKeyUsagePurpose> {
        match self {
            Profile::Server => vec![ExtendedKeyUsagePurpose::ServerAuth],
            Profile::Client => vec![ExtendedKeyUsagePurpose::ClientAuth],
            Profile::Peer => vec![
                ExtendedKeyUsagePurpose::ServerAuth,
                ExtendedKeyUsagePurpose::ClientAuth,
            ],
        }
    }

    /// Whether it needs serverAuth, and whether clientAuth.
    pub(crate) fn needs(self) -> (bool, bool) {
        match self {
            Profile::Server => (true, false),
            Profile::Client => (false, true),
            Profile::Peer => (true, true),
        }
    }

    /// The profile of an existing certificate, from its extendedKeyUsage
    /// (so `renew` keeps it without a record on the side): both purposes
    /// (or no extension, which allows any) is `peer`; None when it has
    /// neither serverAuth nor clientAuth.
    pub(crate) fn of(cert: &CertInfo) -> Option<Profile> {
        match (
            cert.allows_eku(&ExtKeyUsage::ServerAuth),
            cert.allows_eku(&ExtKeyUsage::ClientAuth),
        ) {
            (true, true) => Some(Profile::Peer),
            (true, false) => Some(Profile::Server),
            (false, true) => Some(Profile::Client),
            (false, false) => None,
        }
    }
}

impl Role {
    /// The profile of `server.pem` or `client.pem`. The guide writes
    /// serverAuth in both; Go's crypto/tls (Milvus tlsMode 2,
    /// RequireAndVerifyClientCert) rejects a client certificate without
    /// clientAuth, so the client's is `client`.
    pub(crate) fn profile(self) -> Profile {
        match self {
            Role::Server => Profile::Server,
            Role::Client => Profile::Client,
        }
    }
}

/// A leaf `renew` can make: `server.pem`, `client.pem`, or a `NAME.pem`
/// made by `add` (what `renew --only` takes).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// `server.pem` or `client.pem`.
    Leaf(Role),
    /// `NAME.pem`, made by `milvus-certs add`.
    Added(String),
}

impl Target {
    /// Reads `--only`: `server`, `client`, or the NAME of an added certificate.
    pub fn parse(option: &'static str, value: &str) -> Result<Target> {
        match value {
            "server" => Ok(Target::Leaf(Role::Server)),
            "client" => Ok(Target::Leaf(Role::Client)),
            _ if files::is_added_name(value) => Ok(Target::Added(value.to_string())),
            _ => Err(crate::error::Error::invalid(
                option,
                value,
                "must be server, client, or the NAME of a certificate made by `milvus-certs add NAME`",
            )),
        }
    }

    /// `server`, `client` or NAME.
    pub(crate) fn label(&self) -> &str {
        match self {
            Target::Leaf(r) => r.name(),
            Target::Added(n) => n,
        }
    }

    /// The certificate's file name.
    pub fn cert_file(&self) -> String {
        match self {
            Target::Leaf(r) => r.cert_file().into(),
            Target::Added(n) => files::added_cert(n),
        }
    }

    /// The key's file name.
    pub(crate) fn key_file(&self) -> String {
        match self {
            Target::Leaf(r) => r.key_file().into(),
            Target::Added(n) => files::added_key(n),
        }
    }
}

/// What goes into one leaf certificate.
#[derive(Clone, Debug)]
pub(crate) struct LeafSpec<'a> {
    /// Its extendedKeyUsage.
    pub profile: Profile,
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
pub(crate) fn params(
    spec: &LeafSpec<'_>,
    key: &KeyPair,
    key_type: KeyType,
) -> Result<CertificateParams> {
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
    p.extended_key_usages = spec.profile.ext_key_usages();
    p.subject_alt_names = spec
        .names
        .iter()
        .map(SanName::to_rcgen)
        .collect::<Result<_>>()?;
    p.key_identifier_method = KeyIdMethod::PreSpecified(key_identifier(key));
    p.use_authority_key_identifier_extension = true;
    Ok(p)
}
