//! The checks every target runs before it makes anything: the certificate
//! directory's CA, server certificate and key read, matched and chained;
//! the client certificate tlsMode 2 needs; `internaltls.sni`; and the
//! expiry warnings that do not stop an export.

use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use crate::certinfo::CertInfo;
use crate::checks::{self, Finding, Remedy};
use crate::error::{Error, Result};
use crate::files;
use crate::input;
use crate::keys::parse_private_key;
use crate::leaf::Role;
use crate::names::SanName;
use rcgen::KeyPair;

/// The certificate and key files, read and checked.
pub(super) struct Certs {
    pub(super) ca_pem: Vec<u8>,
    pub(super) ca: CertInfo,
    pub(super) server_pem: Vec<u8>,
    pub(super) server_key: Vec<u8>,
    pub(super) server: CertInfo,
}

/// Reads a file `export` needs; a missing one says how to make it there.
pub(super) fn read_needed(
    dir: &Path,
    name: &str,
    expected: &'static str,
    what: &'static str,
) -> Result<Vec<u8>> {
    let path = dir.join(name);
    input::read_in_folder(&path, expected)?.ok_or_else(|| Error::MissingFile {
        fix: format!(
            "make the files with `{}`, or pass --dir with the folder that holds them",
            crate::shell::milvus_certs("gen", dir, &[])
        ),
        path,
        what,
    })
}

/// What `export` expects its inputs to be, for messages.
pub(super) const CERT: &str = "a PEM certificate";
/// See [`CERT`].
pub(super) const KEY: &str = "a PEM private key";

/// Reads `ca.pem`, `server.pem` and `server.key`: the CA must be a CA, the
/// key must match, the server certificate must chain to the CA and allow
/// serverAuth.
pub(super) fn load(dir: &Path) -> Result<Certs> {
    let ca_path = dir.join(files::CA_PEM);
    let server_path = dir.join(files::SERVER_PEM);
    let ca_pem = read_needed(dir, files::CA_PEM, CERT, "the CA certificate")?;
    let server_pem = read_needed(dir, files::SERVER_PEM, CERT, "the server certificate")?;
    let server_key = read_needed(dir, files::SERVER_KEY, KEY, "the server key")?;
    let ca = first_cert(&ca_path, &ca_pem)?;
    crate::ca::check_is_ca(&ca_path, &ca)?;
    let server = first_cert(&server_path, &server_pem)?;
    check_key(
        &dir.join(files::SERVER_KEY),
        &server_key,
        &server_path,
        &server,
    )?;
    check_issued_by(&server_path, &server, &ca_path, &ca)?;
    if let Some(finding) = checks::purpose(&server, Role::Server, ca_dir(dir))
        .into_iter()
        .next()
    {
        return Err(Error::Check {
            path: server_path,
            finding: Box::new(finding),
        });
    }
    Ok(Certs {
        ca_pem,
        ca,
        server_pem,
        server_key,
        server,
    })
}

/// The first certificate of a PEM file, parsed.
pub(super) fn first_cert(path: &Path, pem: &[u8]) -> Result<CertInfo> {
    let der = input::parse_certificates(path, pem)?.swap_remove(0);
    CertInfo::from_der(&der).map_err(|r| Error::bad_file(path, CERT, r))
}

/// The folder itself when it holds `ca.key` (so `renew` works there).
fn ca_dir(dir: &Path) -> Option<&Path> {
    dir.join(files::CA_KEY).exists().then_some(dir)
}

/// Parses the key at `key_path` and checks it is `cert`'s.
pub(super) fn check_key(
    key_path: &Path,
    key_pem: &[u8],
    cert_path: &Path,
    cert: &CertInfo,
) -> Result<KeyPair> {
    let key = parse_private_key(key_path, key_pem)?;
    if !checks::key_matches(&key, cert) {
        return Err(Error::key_mismatch(key_path, cert_path));
    }
    Ok(key)
}

fn check_issued_by(path: &Path, cert: &CertInfo, ca_path: &Path, ca: &CertInfo) -> Result<()> {
    match checks::issued_by(cert, ca, &ca_path.display().to_string(), None) {
        None => Ok(()),
        Some(_) => Err(Error::not_issued_by(path, ca_path)),
    }
}

/// A certificate `add NAME` made, with its key.
pub(super) struct Added {
    /// `NAME.pem` as it is.
    pub(super) pem: Vec<u8>,
    /// Its first certificate.
    pub(super) info: CertInfo,
    /// `NAME.key` as it is.
    pub(super) key_pem: Vec<u8>,
    /// The key, parsed.
    pub(super) key: KeyPair,
}

/// Reads `NAME.pem` and `NAME.key` (both files first, as [`load`] does),
/// and checks that the key matches, that the certificate chains to `ca`
/// (the directory's `ca.pem`) and that it fits NAME's profile
/// ([`checks::added`]). A missing certificate is `what`, made with
/// `add NAME`.
pub(super) fn read_added(
    dir: &Path,
    name: &str,
    ca: &CertInfo,
    what: &'static str,
) -> Result<Added> {
    let cert_path = dir.join(files::added_cert(name));
    let pem = input::read_in_folder(&cert_path, CERT)?.ok_or_else(|| Error::MissingFile {
        path: cert_path.clone(),
        what,
        fix: format!(
            "make it with `{}`",
            crate::shell::milvus_certs("add", dir, &[name])
        ),
    })?;
    let (key_path, key_pem) = crate::issue::read_added_key(dir, name)?;
    let info = first_cert(&cert_path, &pem)?;
    let key = check_key(&key_path, &key_pem, &cert_path, &info)?;
    check_issued_by(&cert_path, &info, &dir.join(files::CA_PEM), ca)?;
    if let Some(f) = checks::added(&info, name, dir).into_iter().next() {
        return Err(Error::Check {
            path: cert_path,
            finding: Box::new(f),
        });
    }
    Ok(Added {
        pem,
        info,
        key_pem,
        key,
    })
}

/// tlsMode 2: Go's crypto/tls, with RequireAndVerifyClientCert, refuses a
/// client certificate without clientAuth ("certificate specifies an
/// incompatible key usage"), and one from another CA ("unknown authority").
/// A missing client.pem is only a warning for deployment targets: clients
/// may hold their certificates elsewhere.
pub(super) fn check_client(dir: &Path, ca: &CertInfo, need_key: bool) -> Result<Option<String>> {
    let path = dir.join(files::CLIENT_PEM);
    let missing = |path: PathBuf, what: &'static str| Error::MissingFile {
        path,
        what,
        fix: format!(
            "tlsMode 2 needs a client certificate and key: {}",
            Remedy::renew(ca_dir(dir), &["--only", "client"])
        ),
    };
    let pem = if need_key {
        input::read_in_folder(&path, CERT)?
            .ok_or_else(|| missing(path.clone(), "the client certificate"))?
    } else {
        match input::read_in_folder(&path, CERT)? {
            Some(pem) => pem,
            None => {
                return Ok(Some(format!(
                    "{} is missing: with tlsMode 2 every client needs a certificate issued by ca.pem \
                     with clientAuth; {}",
                    path.display(),
                    Remedy::renew(ca_dir(dir), &["--only", "client"])
                )));
            }
        }
    };
    let cert = first_cert(&path, &pem)?;
    if let Some(finding) = checks::purpose(&cert, Role::Client, ca_dir(dir))
        .into_iter()
        .next()
    {
        return Err(match finding {
            Finding::MissingClientAuth { .. } => Error::MissingClientAuth { path },
            finding => Error::Check {
                path,
                finding: Box::new(finding),
            },
        });
    }
    check_issued_by(&path, &cert, &dir.join(files::CA_PEM), ca)?;
    if need_key {
        let key_path = dir.join(files::CLIENT_KEY);
        let key = input::read_in_folder(&key_path, KEY)?
            .ok_or_else(|| missing(key_path.clone(), "the client key"))?;
        check_key(&key_path, &key, &path, &cert)?;
    }
    Ok(None)
}

/// `internaltls.sni` must be a DNS name of the server certificate: Milvus's
/// components verify each other with it as the expected name.
pub(super) fn check_sni(dir: &Path, server: &CertInfo, sni: Option<&str>) -> Result<String> {
    let dns: Vec<String> = server
        .sans
        .iter()
        .filter_map(|n| match n {
            SanName::Dns(d) => Some(d.clone()),
            SanName::Ip(_) => None,
        })
        .collect();
    // The default is the common name, as the guide says ("the CommonName in
    // your certificates"); it is checked the same way.
    let sni = match sni {
        Some(s) => {
            if let Some(e) = crate::names::url_or_port_error("--sni", s) {
                return Err(e);
            }
            s.to_string()
        }
        None => server.subject_attrs.common_name.clone().unwrap_or_default(),
    };
    let wanted = SanName::parse("--sni", &sni).ok();
    let listed = wanted
        .as_ref()
        .is_some_and(|w| matches!(w, SanName::Dns(_)) && server.matches_name(w));
    if listed {
        Ok(sni)
    } else {
        Err(Error::NameNotInCert {
            option: "--sni",
            name: sni,
            cert: dir.join(files::SERVER_PEM),
            names: dns,
        })
    }
}

/// Expired or expiring (within [`checks::EXPORT_WARN_DAYS`]) certificates
/// do not stop an export, but are said.
pub(super) fn expiry_warnings(dir: &Path, certs: &Certs, now: OffsetDateTime) -> Vec<String> {
    let mut w = Vec::new();
    for (name, cert, args) in [
        (files::SERVER_PEM, &certs.server, &["--only", "server"][..]),
        (files::CA_PEM, &certs.ca, &["--ca"][..]),
    ] {
        let remedy = Remedy::renew(ca_dir(dir), args);
        if let Some(f) = checks::validity(cert, now, checks::EXPORT_WARN_DAYS, Some(remedy)) {
            let consequence = if f.is_problem() {
                " (TLS clients will refuse it)"
            } else {
                ""
            };
            w.push(format!(
                "{}: {f}{consequence}; {}",
                dir.join(name).display(),
                f.fix().unwrap_or_default()
            ));
        }
    }
    w
}
