//! Reading input files: one read per file, and an error that says exactly
//! what is wrong (missing, dangling symlink, directory, unreadable, too big,
//! DER, wrong PEM label, garbage) and never echoes a secret.

use std::fs;
use std::path::Path;

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::{PemObject, SectionKind};

use crate::error::{Error, Result};
use crate::fsat::{self, ReadError};
use crate::keys::{no_pem_reason, pem_error_reason};

/// Files larger than this are not certificates, keys or serial files.
pub(crate) const MAX_INPUT: u64 = crate::fsat::MAX_FILE;

/// Reads a whole input file. A missing file is `Ok(None)`; everything else
/// that stops us reading it is an error naming the file. Only a regular file
/// is read (a symlink to one is followed: a mounted Kubernetes Secret is a
/// tree of symlinks), and it never blocks: a FIFO, a device such as
/// `/dev/zero`, a socket or a file over [`MAX_INPUT`] is refused at once.
pub(crate) fn read_optional(path: &Path, expected: &'static str) -> Result<Option<Vec<u8>>> {
    outcome(
        path,
        expected,
        fsat::read_small(None, path, MAX_INPUT, fsat::Follow::Anywhere),
    )
}

/// The result of a read, as `read_optional` reports it: what stopped it,
/// as an error naming `path` and saying what to do.
pub(crate) fn outcome(
    path: &Path,
    expected: &'static str,
    read: std::result::Result<Vec<u8>, ReadError>,
) -> Result<Option<Vec<u8>>> {
    let reason = match read {
        Ok(bytes) => return Ok(Some(bytes)),
        Err(ReadError::Missing) => {
            if fs::symlink_metadata(path).is_ok() {
                "it is a symbolic link to a file that does not exist".to_string()
            } else {
                return Ok(None);
            }
        }
        Err(ReadError::NotRegular(rustix::fs::FileType::Directory)) => format!(
            "is a directory, not a file; if it is an empty one that Docker made for a \
             missing mount, remove it with `rmdir -- {}`, else give the path of a file",
            crate::shell::quote(&path.display().to_string())
        ),
        Err(ReadError::NotRegular(kind)) => format!(
            "it is {}, not a regular file; give the path of the file itself",
            crate::fsat::kind_phrase(kind)
        ),
        Err(ReadError::TooLarge) => format!(
            "it is larger than {} KiB, which no file milvus-certs reads is; check the path",
            MAX_INPUT / 1024
        ),
        Err(ReadError::Symlink) => "it is a symbolic link".into(),
        Err(ReadError::Escapes) => "it is a symbolic link out of its folder, which \
             milvus-certs does not follow there; put the file itself in its place"
            .into(),
        Err(ReadError::Io(e)) => return Err(Error::io("read", path)(e)),
    };
    Err(Error::bad_file(path, expected, reason))
}

/// Reads one of a folder's files (a certificate directory's, a deployment
/// folder's): as [`read_optional`], but a symbolic link is followed only
/// while it stays inside that folder (a mounted Kubernetes Secret's
/// `..data/` links). One that leaves it is refused: run as root from a
/// timer, following it would let whoever made it have root read, use or
/// print any file (a `ca.srl` pointing at a secret, a `ca.key` at another
/// CA's key).
pub(crate) fn read_in_folder(path: &Path, expected: &'static str) -> Result<Option<Vec<u8>>> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let Some(name) = path.file_name() else {
        return outcome(
            path,
            expected,
            Err(ReadError::NotRegular(rustix::fs::FileType::Directory)),
        );
    };
    let folder = match fsat::open_dir_path(parent) {
        Ok(fd) => fd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("open directory", parent)(e)),
    };
    use std::os::fd::AsFd;
    outcome(
        path,
        expected,
        fsat::read_small(Some(folder.as_fd()), name, MAX_INPUT, fsat::Follow::Beneath),
    )
}

/// [`read_optional`] as an `io::Result`, for callers that report the
/// failure themselves: at most 1 MiB, a regular file, never blocking.
pub(crate) fn read_bounded(path: &Path) -> std::io::Result<Vec<u8>> {
    match read_optional(path, "a file") {
        Ok(Some(bytes)) => Ok(bytes),
        Ok(None) => Err(std::io::Error::from(std::io::ErrorKind::NotFound)),
        Err(Error::Io { source, .. }) => Err(source),
        Err(e) => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            e.to_string(),
        )),
    }
}

/// A read that found nothing, as the error for a file that must exist.
pub(crate) fn required(
    read: Option<Vec<u8>>,
    path: &Path,
    what: &'static str,
    hint: &'static str,
) -> Result<Vec<u8>> {
    read.ok_or_else(|| Error::Missing {
        path: path.to_path_buf(),
        what,
        hint,
    })
}

/// Reads a file that must exist.
pub(crate) fn read_required(
    path: &Path,
    expected: &'static str,
    what: &'static str,
    hint: &'static str,
) -> Result<Vec<u8>> {
    read_optional(path, expected)?.ok_or_else(|| Error::Missing {
        path: path.to_path_buf(),
        what,
        hint,
    })
}

/// The certificates of a PEM file, in order. Anything else in the file
/// (a private key, garbage between sections) is ignored only if at least
/// one certificate is present; none at all is an error saying what is there.
pub(crate) fn parse_certificates(path: &Path, pem: &[u8]) -> Result<Vec<CertificateDer<'static>>> {
    const EXPECTED: &str = "a PEM certificate";
    let mut certs = Vec::new();
    let mut keys = 0;
    for section in <(SectionKind, Vec<u8>)>::pem_slice_iter(pem) {
        let (kind, der) =
            section.map_err(|e| Error::bad_file(path, EXPECTED, pem_error_reason(&e)))?;
        match kind {
            SectionKind::Certificate => certs.push(CertificateDer::from(der)),
            SectionKind::PrivateKey | SectionKind::RsaPrivateKey | SectionKind::EcPrivateKey => {
                keys += 1
            }
            _ => {}
        }
    }
    if certs.is_empty() {
        let reason = if keys > 0 {
            "it holds a private key; the key and certificate files may be swapped".to_string()
        } else if pem.windows(11).any(|w| w == b"-----BEGIN ") {
            "it holds no CERTIFICATE section".to_string()
        } else if may_be_der(pem) {
            format!(
                "it is DER (binary), but PEM is needed here; {}",
                der_to_pem(path, false)
            )
        } else {
            no_pem_reason(pem)
        };
        return Err(Error::bad_file(path, EXPECTED, reason));
    }
    Ok(certs)
}

/// How a certificate or key file was encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// Base64 between `-----BEGIN ...-----` lines (RFC 7468).
    Pem,
    /// Binary DER, as Java's keytool and Windows' certificate export write it.
    Der,
}

impl Encoding {
    /// `PEM` or `DER`.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Pem => "PEM",
            Encoding::Der => "DER",
        }
    }
}

/// "convert it: `COMMAND`", the openssl command that rewrites the DER file
/// at `path` as PEM. It writes a new file first and renames it over the old
/// one, so an interrupted run leaves the old file whole; a key's new file is
/// made under umask 077, so it is 0600 like the key it replaces.
pub(crate) fn der_to_pem(path: &Path, key: bool) -> String {
    let p = crate::shell::quote(&path.display().to_string());
    if key {
        format!(
            "convert it: `(umask 077 && openssl pkey -inform der -in {p} -out {p}.new) && mv {p}.new {p}`"
        )
    } else {
        format!("convert it: `openssl x509 -inform der -in {p} -out {p}.new && mv {p}.new {p}`")
    }
}

/// Whether `bytes` may be DER: no PEM BEGIN line, and a SEQUENCE tag first
/// (a certificate and every private key format start with one).
pub(crate) fn may_be_der(bytes: &[u8]) -> bool {
    bytes.first() == Some(&0x30) && !bytes.windows(11).any(|w| w == b"-----BEGIN ")
}

/// [`parse_certificates`], and also a file that is one DER certificate
/// (nothing before or after it). A file that looks like DER but is no
/// certificate is an error saying what it is.
pub(crate) fn parse_certificates_or_der(
    path: &Path,
    bytes: &[u8],
) -> Result<(Vec<CertificateDer<'static>>, Encoding)> {
    if !may_be_der(bytes) {
        return parse_certificates(path, bytes).map(|c| (c, Encoding::Pem));
    }
    use x509_parser::prelude::{FromDer, X509Certificate};
    match X509Certificate::from_der(bytes) {
        Ok(([], _)) => Ok((vec![CertificateDer::from(bytes.to_vec())], Encoding::Der)),
        Ok(_) => Err(Error::bad_file(
            path,
            "a certificate",
            "it holds a DER certificate followed by other bytes",
        )),
        Err(_) if crate::keys::der_private_key(bytes).is_some() => Err(Error::bad_file(
            path,
            "a certificate",
            "it holds a private key (DER); the key and certificate files may be swapped",
        )),
        Err(e) => Err(Error::bad_file(
            path,
            "a certificate",
            format!("it is binary (DER?) but not a valid X.509 certificate ({e})"),
        )),
    }
}
