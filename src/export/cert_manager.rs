//! `export cert-manager`: a CA Issuer signing with this directory's CA, a
//! Certificate with the server certificate's names, subject, lifetime and
//! key type, and Helm values mounting the Secret cert-manager keeps.

use std::path::Path;

use super::k8s::{base64, metadata};
use super::milvus::Config;
use super::preflight::{Certs, KEY, check_key};
use super::{Export, OutFile};
use crate::certinfo::{CertInfo, ExtKeyUsage, KeyUsage};
use crate::error::Result;
use crate::files;
use crate::input;
use crate::keys::KeyType;
use crate::names::SanName;
use crate::store::{PUBLIC_MODE, SECRET_MODE};
use crate::yaml::{self, Value, map, s};

/// The CA issuer and Secret cert-manager signs with, named after the Secret
/// Milvus mounts.
const CA_SECRET: &str = "milvus-ca";
const ISSUER: &str = "milvus-ca";
const CERTIFICATE: &str = "milvus-server";

/// The Issuer, the Certificate and the CA's Secret in `cert-manager.yaml`
/// (0600: it holds `ca.key`), and Helm values mounting the server's Secret.
pub(super) fn export(
    dir: &Path,
    certs: &Certs,
    config: &Config,
    namespace: Option<&str>,
    secret: &str,
) -> Result<Export> {
    let key_path = dir.join(files::CA_KEY);
    let ca_key = input::required(
        input::read_in_folder(&key_path, KEY)?,
        &key_path,
        "the CA private key",
        "cert-manager signs with the CA's key; restore ca.key from your backup",
    )?;
    check_key(&key_path, &ca_key, &dir.join(files::CA_PEM), &certs.ca)?;
    let server = &certs.server;
    let mut warnings = Vec::new();

    let ca_secret = map([
        ("apiVersion", s("v1")),
        ("kind", s("Secret")),
        ("metadata", metadata(CA_SECRET, namespace)),
        ("type", s("kubernetes.io/tls")),
        (
            "data",
            map([
                ("tls.crt", s(base64(&certs.ca_pem))),
                ("tls.key", s(base64(&ca_key))),
            ]),
        ),
    ]);
    let issuer = map([
        ("apiVersion", s("cert-manager.io/v1")),
        ("kind", s("Issuer")),
        ("metadata", metadata(ISSUER, namespace)),
        ("spec", map([("ca", map([("secretName", s(CA_SECRET))]))])),
    ]);

    // The new certificates get the old one's names, subject, lifetime and key.
    let hours = ((server.not_after - server.not_before).whole_hours()).max(1);
    let renew_before = (hours / 3).clamp(1, 30 * 24);
    let (algorithm, size) = match server.key_type {
        Some(KeyType::Rsa2048) | None => ("RSA", Some(2048)),
        Some(KeyType::Rsa3072) => ("RSA", Some(3072)),
        Some(KeyType::Rsa4096) => ("RSA", Some(4096)),
        Some(KeyType::EcdsaP256) => ("ECDSA", Some(256)),
        Some(KeyType::EcdsaP384) => ("ECDSA", Some(384)),
        Some(KeyType::Ed25519) => ("Ed25519", None),
    };
    if server.key_type.is_none() {
        warnings.push(format!(
            "server.pem has a {} key, which cert-manager cannot make: the Certificate asks for RSA 2048",
            server.key
        ));
    }
    let mut private_key = vec![
        ("algorithm", s(algorithm)),
        ("encoding", s("PKCS8")),
        ("rotationPolicy", s("Always")),
    ];
    if let Some(size) = size {
        private_key.insert(1, ("size", Value::Int(size)));
    }
    let attrs = &server.subject_attrs;
    let subject: Vec<(&str, Value)> = [
        ("countries", &attrs.country),
        ("provinces", &attrs.state),
        ("localities", &attrs.locality),
        ("organizations", &attrs.organization),
        ("organizationalUnits", &attrs.org_unit),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.as_ref().map(|v| (k, Value::Seq(vec![s(v)]))))
    .collect();
    let names = |want_ip: bool| -> Vec<Value> {
        server
            .sans
            .iter()
            .filter(|n| matches!(n, SanName::Ip(_)) == want_ip)
            .map(|n| s(n.to_string()))
            .collect()
    };
    let mut spec = vec![("secretName", s(secret))];
    if let Some(cn) = &attrs.common_name {
        spec.push(("commonName", s(cn)));
    }
    if !subject.is_empty() {
        spec.push(("subject", map(subject)));
    }
    for (k, v) in [("dnsNames", names(false)), ("ipAddresses", names(true))] {
        if !v.is_empty() {
            spec.push((k, Value::Seq(v)));
        }
    }
    spec.extend([
        ("duration", s(format!("{hours}h"))),
        ("renewBefore", s(format!("{renew_before}h"))),
        ("privateKey", map(private_key)),
        ("usages", Value::Seq(usages(server))),
        (
            "issuerRef",
            map([
                ("name", s(ISSUER)),
                ("kind", s("Issuer")),
                ("group", s("cert-manager.io")),
            ]),
        ),
    ]);
    let certificate = map([
        ("apiVersion", s("cert-manager.io/v1")),
        ("kind", s("Certificate")),
        ("metadata", metadata(CERTIFICATE, namespace)),
        ("spec", map(spec)),
    ]);
    let stream = yaml::stream(&[ca_secret, issuer, certificate]);
    Ok(Export {
        files: vec![
            // It holds ca.key.
            OutFile::new("cert-manager.yaml", stream, SECRET_MODE),
            OutFile::new(
                "values-cert-manager.yaml",
                super::helm::values(config, secret, true),
                PUBLIC_MODE,
            ),
        ],
        stdout: None,
        next: {
            let ns = namespace
                .map(|n| format!(" -n {}", crate::shell::quote(n)))
                .unwrap_or_default();
            vec![
                // A Secret of this name that `export k8s-secret` made is of
                // type Opaque; cert-manager will not take it over as its
                // kubernetes.io/tls Secret (docs/deploy.md, "cert-manager").
                format!(
                    "kubectl delete secret {secret}{ns} --ignore-not-found   # if export k8s-secret made it: cert-manager's is of type kubernetes.io/tls"
                ),
                format!("kubectl apply{ns} -f cert-manager.yaml"),
                format!(
                    "helm upgrade --install my-release milvus/milvus{ns} -f values-cert-manager.yaml"
                ),
            ]
        },
        warnings,
        recovery: None,
        input: None,
    })
}

/// cert-manager's names (cert-manager.io/v1 KeyUsage) for the server
/// certificate's keyUsage and extendedKeyUsage.
fn usages(cert: &CertInfo) -> Vec<Value> {
    let ku = cert
        .key_usage
        .clone()
        .unwrap_or_else(|| vec![KeyUsage::DigitalSignature, KeyUsage::KeyEncipherment]);
    let eku = cert
        .ext_key_usage
        .clone()
        .unwrap_or_else(|| vec![ExtKeyUsage::ServerAuth]);
    let ku = ku.into_iter().filter_map(|u| match u {
        KeyUsage::DigitalSignature => Some("digital signature"),
        KeyUsage::NonRepudiation => Some("content commitment"),
        KeyUsage::KeyEncipherment => Some("key encipherment"),
        KeyUsage::DataEncipherment => Some("data encipherment"),
        KeyUsage::KeyAgreement => Some("key agreement"),
        _ => None,
    });
    let eku = eku.into_iter().filter_map(|u| match u {
        ExtKeyUsage::ServerAuth => Some("server auth"),
        ExtKeyUsage::ClientAuth => Some("client auth"),
        _ => None,
    });
    ku.chain(eku).map(s).collect()
}
