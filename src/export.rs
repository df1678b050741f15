//! `milvus-certs export`: files for deployments, written from typed values.
//! So far the Kubernetes Secret the guide makes with `kubectl create secret`.

use std::path::{Path, PathBuf};

use crate::certinfo::CertInfo;
use crate::error::{Error, Result};
use crate::files;
use crate::input;
use crate::keys::parse_private_key;
use crate::store::{DirLock, LOCK_WAIT, Recovery};

/// Options of `export k8s-secret`.
#[derive(Clone, Debug)]
pub struct SecretOptions {
    /// The certificate directory.
    pub dir: PathBuf,
    /// metadata.name (the guide's `certs`).
    pub name: String,
    /// metadata.namespace, if any.
    pub namespace: Option<String>,
}

/// The `v1` `Secret` of type `Opaque` holding `server.pem`, `server.key` and
/// `ca.pem`: the object `kubectl create secret generic certs
/// --from-file=server.pem --from-file=server.key --from-file=ca.pem
/// --dry-run=client -o yaml` makes (keys in kubectl's alphabetical order).
/// Refuses a `server.key` that does not belong to `server.pem`. Like every
/// command, it first completes or rolls back an interrupted write in the
/// directory (returned, so the caller can say so).
pub fn k8s_secret(opts: &SecretOptions) -> Result<(String, Option<Recovery>)> {
    check_dns_subdomain("--name", &opts.name)?;
    if let Some(ns) = &opts.namespace {
        check_dns_label("--namespace", ns)?;
    }
    let (_lock, recovery) = DirLock::acquire(&opts.dir, LOCK_WAIT)?;
    let read = |name: &str, expected: &'static str, what: &'static str| {
        input::read_required(
            &opts.dir.join(name),
            expected,
            what,
            "run `milvus-certs gen` first, or pass --dir",
        )
    };
    let ca = read(files::CA_PEM, "a PEM certificate", "the CA certificate")?;
    let server = read(
        files::SERVER_PEM,
        "a PEM certificate",
        "the server certificate",
    )?;
    let key = read(files::SERVER_KEY, "a PEM private key", "the server key")?;
    check_pair(&opts.dir, &server, &key)?;
    input::parse_certificates(&opts.dir.join(files::CA_PEM), &ca)?;

    let mut y = String::new();
    y.push_str("apiVersion: v1\nkind: Secret\nmetadata:\n");
    y.push_str(&format!("  name: {}\n", yaml_str(&opts.name)));
    if let Some(ns) = &opts.namespace {
        y.push_str(&format!("  namespace: {}\n", yaml_str(ns)));
    }
    y.push_str("type: Opaque\ndata:\n");
    for (k, v) in [
        (files::CA_PEM, &ca),
        (files::SERVER_KEY, &key),
        (files::SERVER_PEM, &server),
    ] {
        y.push_str(&format!("  {}: {}\n", yaml_str(k), yaml_str(&base64(v))));
    }
    Ok((y, recovery))
}

fn check_pair(dir: &Path, cert_pem: &[u8], key_pem: &[u8]) -> Result<()> {
    let cert_path = dir.join(files::SERVER_PEM);
    let key_path = dir.join(files::SERVER_KEY);
    let der = input::parse_certificates(&cert_path, cert_pem)?.swap_remove(0);
    let cert = CertInfo::from_der(&der)
        .map_err(|r| Error::bad_file(&cert_path, "a PEM certificate", r))?;
    let key = parse_private_key(&key_path, key_pem)?;
    if key.public_key_raw() != cert.public_key_bits.as_slice() {
        return Err(Error::KeyMismatch {
            key: key_path,
            cert: cert_path,
        });
    }
    Ok(())
}

/// A YAML double-quoted scalar (YAML 1.2 7.3.1): always quoted, so no value
/// can be read as a number, boolean or null.
pub fn yaml_str(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            '\t' => q.push_str("\\t"),
            c if c.is_control() => q.push_str(&format!("\\u{:04x}", c as u32)),
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

/// Standard base64 with padding (RFC 4648 section 4), as Kubernetes expects
/// in a Secret's `data`.
pub fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
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
    fn yaml_strings_are_always_quoted_and_escaped() {
        assert_eq!(yaml_str("true"), "\"true\"");
        assert_eq!(yaml_str("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
        assert_eq!(yaml_str("\u{1}"), "\"\\u0001\"");
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
