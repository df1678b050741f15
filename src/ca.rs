//! The CA: its certificate's profile, and loading and checking an existing one.

use std::path::Path;

use rcgen::{
    BasicConstraints, Certificate, CertificateParams, IsCa, Issuer, KeyIdMethod, KeyPair,
    KeyUsagePurpose,
};
use time::OffsetDateTime;

use crate::certinfo::CertInfo;
use crate::error::{Error, Result};
use crate::files;
use crate::input;
use crate::input::Encoding;
use crate::keys::{key_identifier, parse_private_key_or_der};
use crate::names::Subject;
use crate::serial::Serial;
use crate::validity::Validity;

/// The parameters of a self-signed CA certificate for `key`:
/// basicConstraints critical CA:TRUE, pathlen:0 (it signs leaves only);
/// keyUsage critical keyCertSign + cRLSign (RFC 5280 4.2.1.3 requires
/// keyCertSign for a CA whose keyUsage is present, and CA/B-style validators
/// such as Go and rustls expect the extension); SKI by RFC 5280 4.2.1.2
/// method 1, and AKI equal to it, as OpenSSL's `v3_ca` section writes.
pub(crate) fn params(
    subject: &Subject,
    key: &KeyPair,
    serial: &Serial,
    validity: Validity,
) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = subject.to_dn();
    p.serial_number = Some(serial.to_rcgen());
    p.not_before = validity.not_before;
    p.not_after = validity.not_after;
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.key_identifier_method = KeyIdMethod::PreSpecified(key_identifier(key));
    p.use_authority_key_identifier_extension = true;
    p
}

/// An existing CA, read from `ca.pem` and `ca.key` and checked.
pub(crate) struct LoadedCa {
    /// The CA certificate.
    pub cert: CertInfo,
    /// Its private key.
    pub key: KeyPair,
    /// How `ca.pem` was encoded (DER is read too).
    pub cert_encoding: Encoding,
    /// How `ca.key` was encoded (DER is read too).
    pub key_encoding: Encoding,
    params: CertificateParams,
}

impl std::fmt::Debug for LoadedCa {
    /// Never shows the private key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedCa")
            .field("subject", &self.cert.subject)
            .field("key", &"[secret]")
            .finish()
    }
}

const CA_PEM_EXPECTED: &str = "a PEM CA certificate";

impl LoadedCa {
    /// Reads `dir/ca.pem` and `dir/ca.key` and checks, before anything is
    /// written, that the certificate is a CA, that the key is its key, and
    /// (with `require_valid`) that it is valid at `now`.
    pub(crate) fn load(dir: &Path, now: OffsetDateTime, require_valid: bool) -> Result<LoadedCa> {
        let pem_path = dir.join(files::CA_PEM);
        let bytes = input::read_in_folder(&pem_path, CA_PEM_EXPECTED)?.ok_or_else(|| {
            Error::MissingFile {
                path: pem_path.clone(),
                what: "the CA certificate",
                fix: format!(
                    "make the files with `{}`, or pass the --dir that gen (or the guide's gen.sh) wrote",
                    crate::shell::milvus_certs("gen", dir, &[])
                ),
            }
        })?;
        let (mut certs, cert_encoding) = input::parse_certificates_or_der(&pem_path, &bytes)?;
        let first = certs.swap_remove(0);
        let cert = CertInfo::from_der(&first)
            .map_err(|reason| Error::bad_file(&pem_path, CA_PEM_EXPECTED, reason))?;
        check_is_ca(&pem_path, &cert)?;
        if require_valid {
            check_valid_now(&pem_path, &cert, now)?;
        }
        let key_path = dir.join(files::CA_KEY);
        // A folder of copies (export's tls/, a mounted Secret) has no ca.key
        // and no ca.srl: not a lost key, the wrong folder.
        let copies = dir.join(files::CA_SRL).symlink_metadata().is_err()
            && dir.join(files::SERVER_PEM).symlink_metadata().is_ok();
        let key_bytes = input::required(
            input::read_in_folder(&key_path, "a PEM private key")?,
            &key_path,
            "the CA private key",
            if copies {
                "this looks like a deployment folder `milvus-certs export` writes (copies, \
                 without the CA key): renew in the folder that holds ca.key (pass its --dir), \
                 then run the export again"
            } else {
                "renewing needs the key that signed ca.pem; restore it from your backup"
            },
        )?;
        let (key, key_encoding) = parse_private_key_or_der(&key_path, &key_bytes)?;
        if !crate::checks::key_matches(&key, &cert) {
            return Err(Error::key_mismatch(&key_path, &pem_path));
        }
        let dn = cert.subject_dn().map_err(|reason| {
            Error::bad_file(
                &pem_path,
                "a CA certificate milvus-certs can sign with",
                reason,
            )
        })?;
        let mut params = CertificateParams::default();
        params.distinguished_name = dn;
        params.key_identifier_method =
            KeyIdMethod::PreSpecified(cert.ski.clone().unwrap_or_else(|| key_identifier(&key)));
        Ok(LoadedCa {
            cert,
            key,
            cert_encoding,
            key_encoding,
            params,
        })
    }

    /// The issuer for signing leaves: the CA's exact subject, and its SKI as
    /// the leaves' AKI.
    pub(crate) fn issuer(&self) -> Issuer<'_, &KeyPair> {
        Issuer::from_params(&self.params, &self.key)
    }

    /// Whether leaves should carry an AKI: only when the CA has an SKI for it
    /// to point at (RFC 5280 4.2.1.1).
    pub(crate) fn has_ski(&self) -> bool {
        self.cert.ski.is_some()
    }

    /// What [`LoadedCa::resign`] adds to a CA certificate that lacks it, in
    /// words for the report. The guide's `ca.pem` (`openssl req -x509` with
    /// no `-addext`) has no keyUsage: RFC 5280 4.2.1.3 says a CA's
    /// certificate SHOULD carry keyUsage with keyCertSign, and strict
    /// verifiers (`openssl verify -x509_strict`, CA/B-style checkers) want
    /// it. A missing subjectKeyIdentifier is added as RFC 5280 4.2.1.2
    /// method 1 (what OpenSSL writes for `subjectKeyIdentifier = hash`).
    /// Neither changes the subject or key, so old leaves still verify.
    pub(crate) fn repairs(&self) -> Vec<&'static str> {
        let mut added = Vec::new();
        if self.cert.key_usage.is_none() {
            added.push("keyUsage keyCertSign, cRLSign (critical)");
        }
        if self.cert.ski.is_none() {
            added.push("subjectKeyIdentifier (SHA-1 of the public key, RFC 5280 method 1)");
        }
        added
    }

    /// The CA certificate re-signed with the same key, subject and extensions
    /// (basicConstraints, keyUsage, SKI) and a new serial and validity, so
    /// every certificate it already issued still chains to it. What it lacks
    /// of keyUsage and SKI is added (see [`LoadedCa::repairs`]).
    pub(crate) fn resign(&self, serial: &Serial, validity: Validity) -> Result<Certificate> {
        let mut p = self.params.clone();
        p.serial_number = Some(serial.to_rcgen());
        p.not_before = validity.not_before;
        p.not_after = validity.not_after;
        p.is_ca = match self.cert.basic_constraints {
            Some((true, Some(n))) => IsCa::Ca(BasicConstraints::Constrained(
                u8::try_from(n).unwrap_or(u8::MAX),
            )),
            _ => IsCa::Ca(BasicConstraints::Unconstrained),
        };
        p.key_usages = match &self.cert.key_usage {
            Some(ku) => ku.iter().map(|u| u.to_rcgen()).collect(),
            None => vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign],
        };
        p.use_authority_key_identifier_extension = true;
        p.self_signed(&self.key).map_err(|source| Error::Crypto {
            what: "re-sign the CA certificate",
            source,
        })
    }
}

/// Why `cert` cannot act as a CA, if it cannot (the rule is
/// [`crate::checks::not_ca_reason`]'s).
pub(crate) use crate::checks::not_ca_reason;

/// The error for a `ca.pem` that is not a CA (see [`not_ca_reason`]).
pub(crate) fn check_is_ca(path: &Path, cert: &CertInfo) -> Result<()> {
    match not_ca_reason(cert) {
        Some(r) => Err(Error::NotCa {
            path: path.to_path_buf(),
            reason: r.into(),
        }),
        None => Ok(()),
    }
}

fn check_valid_now(path: &Path, cert: &CertInfo, now: OffsetDateTime) -> Result<()> {
    use crate::checks::{Finding, validity};
    let reason = match validity(cert, now, 0, None) {
        Some(Finding::Expired { not_after, .. }) => {
            format!("expired on {}", crate::validity::date(not_after))
        }
        Some(Finding::NotYetValid { not_before }) => {
            format!("is not valid until {}", crate::validity::date(not_before))
        }
        _ => return Ok(()),
    };
    Err(Error::CaNotValid {
        path: path.to_path_buf(),
        reason,
    })
}
