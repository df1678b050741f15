//! What the Kubernetes targets share: the rules for object and namespace
//! names, a Secret's base64, object metadata, and the pod volume that
//! mounts the Secret where Milvus's configuration points.

use super::Target;
use super::milvus::Config;
use super::stack::{BUNDLE, SYSTEM_BUNDLE};
use crate::error::{Error, Result};
use crate::files;
use crate::yaml::{Value, map, s};

pub(super) fn check_names(target: &Target) -> Result<()> {
    match target {
        Target::K8sSecret { name, namespace } => {
            check_dns_subdomain("--name", name)?;
            check_namespace(namespace.as_deref())
        }
        Target::Operator {
            release,
            namespace,
            secret,
            ..
        } => {
            check_dns_subdomain("--release", release)?;
            check_dns_subdomain("--secret", secret)?;
            check_namespace(namespace.as_deref())
        }
        Target::Helm { secret, .. } => check_dns_subdomain("--secret", secret),
        Target::CertManager { namespace, secret } => {
            check_dns_subdomain("--secret", secret)?;
            check_namespace(namespace.as_deref())
        }
        Target::Compose { .. } | Target::Client { .. } => Ok(()),
    }
}

fn check_namespace(ns: Option<&str>) -> Result<()> {
    match ns {
        Some(ns) => check_dns_label("--namespace", ns),
        None => Ok(()),
    }
}

/// A Kubernetes object name: an RFC 1123 subdomain (lowercase).
fn check_dns_subdomain(option: &'static str, s: &str) -> Result<()> {
    let ok = !s.is_empty() && s.len() <= 253 && s.split('.').all(|label| is_dns_label(label, 63));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            option,
            s,
            "must be a Kubernetes name: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit",
        ))
    }
}

/// A Kubernetes namespace: an RFC 1123 label (lowercase).
fn check_dns_label(option: &'static str, s: &str) -> Result<()> {
    if is_dns_label(s, 63) {
        Ok(())
    } else {
        Err(Error::invalid(
            option,
            s,
            "must be a Kubernetes namespace: at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit",
        ))
    }
}

fn is_dns_label(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// Standard base64 with padding (RFC 4648 section 4), as Kubernetes expects
/// in a Secret's `data`.
pub(super) fn base64(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(data)
}

pub(super) fn metadata(name: &str, namespace: Option<&str>) -> Value {
    let mut m = vec![("name", s(name))];
    if let Some(ns) = namespace {
        m.push(("namespace", s(ns)));
    }
    map(m)
}

/// The pod volume and mount of the guide: the Secret at `/certs`, read-only.
/// With cert-manager, its keys are mapped to the guide's file names, so
/// Milvus's configuration stays the same.
fn volumes(secret: &str, cert_manager: bool) -> (Value, Value) {
    let mut secret_source = vec![("secretName", s(secret))];
    if cert_manager {
        let item = |key: &str, path: &str| map([("key", s(key)), ("path", s(path))]);
        secret_source.push((
            "items",
            Value::Seq(vec![
                item("tls.crt", files::SERVER_PEM),
                item("tls.key", files::SERVER_KEY),
                item("ca.crt", files::CA_PEM),
            ]),
        ));
    }
    let volumes = Value::Seq(vec![map([
        ("name", s("certs")),
        ("secret", map(secret_source)),
    ])]);
    let mounts = Value::Seq(vec![map([
        ("name", s("certs")),
        ("mountPath", s("/certs")),
        ("readOnly", Value::Bool(true)),
    ])]);
    (volumes, mounts)
}

/// The pod volume and mounts, with the trust bundle mounted over the
/// image's system bundle when `--s3` asks for it (one file of the Secret,
/// by subPath).
pub(super) fn volumes_for(config: &Config, secret: &str, cert_manager: bool) -> (Value, Value) {
    let (volumes, mut mounts) = volumes(secret, cert_manager);
    if config.stack.is_some_and(|st| st.deps.s3)
        && let Value::Seq(m) = &mut mounts
    {
        m.push(map([
            ("name", s("certs")),
            ("mountPath", s(SYSTEM_BUNDLE)),
            ("subPath", s(BUNDLE)),
            ("readOnly", Value::Bool(true)),
        ]));
    }
    (volumes, mounts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_rfc4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
        assert_eq!(base64(&[0xff, 0xfe, 0xfd]), "//79");
    }

    #[test]
    fn kubernetes_names() {
        assert!(check_dns_subdomain("--name", "certs").is_ok());
        assert!(check_dns_subdomain("--name", "milvus.certs-1").is_ok());
        for bad in ["", "Certs", "-x", "a_b", "x-"] {
            assert!(check_dns_subdomain("--name", bad).is_err(), "{bad}");
        }
        assert!(check_dns_label("--namespace", "milvus").is_ok());
        assert!(check_dns_label("--namespace", "a.b").is_err());
    }
}
