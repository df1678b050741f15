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
pub const MAX_INPUT: u64 = crate::fsat::MAX_FILE;

/// Reads a whole input file. A missing file is `Ok(None)`; everything else
/// that stops us reading it is an error naming the file. Only a regular file
/// is read (a symlink to one is followed: a mounted Kubernetes Secret is a
/// tree of symlinks), and it never blocks: a FIFO, a device such as
/// `/dev/zero`, a socket or a file over [`MAX_INPUT`] is refused at once.
pub fn read_optional(path: &Path, expected: &'static str) -> Result<Option<Vec<u8>>> {
    let reason = match fsat::read_small(None, path, MAX_INPUT, true) {
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
        Err(ReadError::TooLarge) => format!("it is larger than {} KiB", MAX_INPUT / 1024),
        Err(ReadError::Symlink) => "it is a symbolic link".into(),
        Err(ReadError::Io(e)) => return Err(Error::io("read", path)(e)),
    };
    Err(Error::bad_file(path, expected, reason))
}

/// Reads a file that must exist.
pub fn read_required(
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
pub fn parse_certificates(path: &Path, pem: &[u8]) -> Result<Vec<CertificateDer<'static>>> {
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
        } else {
            no_pem_reason(pem)
        };
        return Err(Error::bad_file(path, EXPECTED, reason));
    }
    Ok(certs)
}
