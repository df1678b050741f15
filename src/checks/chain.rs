//! CAs and what they issued: a CA that can sign (and has the extensions
//! strict verifiers want), a certificate issued by the CA it must chain
//! to, and `ca.srl` ahead of every serial issued.

use std::path::Path;

use super::{Finding, Remedy};
use crate::certinfo::{CertInfo, KeyUsage};
use crate::serial::Serial;

/// Why a certificate does not chain to the CA it should.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChainBreak {
    /// Its issuer name is not the CA's subject.
    IssuerName,
    /// The names match but the CA's key does not verify its signature (an
    /// unrelated CA of the same name).
    Signature,
    /// No CA among those given verifies it.
    NoneOf,
}

/// Why `cert` cannot act as a CA, if it cannot: basicConstraints CA:TRUE is
/// required, and keyCertSign when keyUsage is present (RFC 5280 4.2.1.3, 4.2.1.9).
pub(crate) fn not_ca_reason(cert: &CertInfo) -> Option<&'static str> {
    match cert.basic_constraints {
        None => Some("it has no basicConstraints CA:TRUE"),
        Some((false, _)) => Some("its basicConstraints says CA:FALSE"),
        Some((true, _)) => match &cert.key_usage {
            Some(ku) if !ku.contains(&KeyUsage::KeyCertSign) => {
                Some("its keyUsage lacks keyCertSign")
            }
            _ => None,
        },
    }
}

/// [`not_ca_reason`] as a finding.
pub(crate) fn not_a_ca(cert: &CertInfo) -> Option<Finding> {
    not_ca_reason(cert).map(|reason| Finding::NotACa { reason })
}

/// `cert` must be issued by `ca` (`ca_name` is how the CA is called in the
/// message): by name and by signature.
pub(crate) fn issued_by(
    cert: &CertInfo,
    ca: &CertInfo,
    ca_name: &str,
    remedy: Option<Remedy>,
) -> Option<Finding> {
    let why = if cert.issuer_raw != ca.subject_raw {
        ChainBreak::IssuerName
    } else if !cert.signed_by(ca) {
        ChainBreak::Signature
    } else {
        return None;
    };
    Some(Finding::NotIssuedByCa {
        ca: ca_name.to_string(),
        issuer: cert.issuer.clone(),
        why,
        remedy,
    })
}

/// `cert` must verify against one of `cas` (by signature, not by name).
pub(crate) fn issued_by_any(
    cert: &CertInfo,
    cas: &[(&str, &CertInfo)],
    remedy: Option<Remedy>,
) -> Option<Finding> {
    if cas
        .iter()
        .any(|(_, ca)| cert.issuer_raw == ca.subject_raw && cert.signed_by(ca))
    {
        return None;
    }
    if let [(name, ca)] = cas {
        return issued_by(cert, ca, name, remedy);
    }
    let names: Vec<&str> = cas.iter().map(|(n, _)| *n).collect();
    Some(Finding::NotIssuedByCa {
        ca: names.join(", "),
        issuer: cert.issuer.clone(),
        why: ChainBreak::NoneOf,
        remedy,
    })
}

/// A CA the guide's gen.sh made has no keyUsage (`openssl req -x509` adds
/// none), which RFC 5280 section 4.2.1.3 requires of a CA that signs
/// certificates: strict verifiers (`openssl verify -x509_strict`, Python's
/// default from 3.13) refuse the chain. `renew --ca` adds it, and a missing
/// subjectKeyIdentifier, with the same key and subject.
pub(crate) fn ca_extensions(ca: &CertInfo, dir: &Path) -> Option<Finding> {
    if !ca.is_ca() || not_ca_reason(ca).is_some() {
        return None;
    }
    let missing: Vec<&'static str> = [
        ("keyUsage", ca.key_usage.is_none()),
        ("subjectKeyIdentifier", ca.ski.is_none()),
    ]
    .into_iter()
    .filter_map(|(name, lacks)| lacks.then_some(name))
    .collect();
    (!missing.is_empty()).then(|| Finding::CaMissingExtensions {
        missing,
        dir: dir.to_path_buf(),
    })
}

/// `ca.srl` must not be below a serial the CA issued.
pub(crate) fn serial(
    srl: &Serial,
    issued: &[&CertInfo],
    ca: &CertInfo,
    dir: &Path,
) -> Option<Finding> {
    let highest = issued
        .iter()
        .filter(|c| c.issuer_raw == ca.subject_raw)
        .map(|c| &c.serial)
        .max()?;
    (highest > srl).then(|| Finding::SerialBehind {
        srl: srl.clone(),
        highest: highest.clone(),
        dir: dir.to_path_buf(),
    })
}
