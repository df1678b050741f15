//! A private key against its certificate: readable, the certificate's own,
//! and not readable by other users.

use std::path::Path;

use super::{Finding, Remedy};
use crate::certinfo::CertInfo;
use crate::input::Encoding;
use crate::keys::parse_private_key_or_der;

/// Whether `key` (a key pair) is the key of `cert`.
pub(crate) fn key_matches(key: &rcgen::KeyPair, cert: &CertInfo) -> bool {
    key.public_key_raw() == cert.public_key_bits.as_slice()
}

/// Reads `key_bytes` (from `key_path`, PEM or DER) and checks it is
/// `cert`'s key; returns how it was encoded, when it could be read.
pub(crate) fn key_pair(
    key_path: &Path,
    key_bytes: &[u8],
    cert: &CertInfo,
    remedy: Option<Remedy>,
) -> (Option<Encoding>, Option<Finding>) {
    match parse_private_key_or_der(key_path, key_bytes) {
        Err(e) => (
            None,
            Some(Finding::KeyUnreadable {
                reason: e.without_fix(),
            }),
        ),
        Ok((key, encoding)) if !key_matches(&key, cert) => (
            Some(encoding),
            Some(Finding::KeyMismatch {
                key_file: file_name(key_path),
                backup: crate::error::latest_backup_of(key_path),
                remedy,
            }),
        ),
        Ok((_, encoding)) => (Some(encoding), None),
    }
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}

/// A private key file that other users can read (group or others bits).
pub(crate) fn key_permissions(path: &Path) -> Option<Finding> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    (mode & 0o044 != 0).then(|| Finding::KeyReadableByOthers {
        file: path.to_path_buf(),
        mode,
    })
}
