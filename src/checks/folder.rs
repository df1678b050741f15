//! A certificate folder's own rules: the files Milvus and its clients load
//! are PEM, nobody else may write into it, and no write was left half-done.

use std::path::Path;

use super::Finding;
use crate::input::Encoding;

/// In a folder, a DER certificate or key that Milvus or a client loads is a
/// problem (`ca.key` is read by milvus-certs and OpenSSL alone), with the
/// command that converts it (to a new file first: a half-written key must
/// never replace the old one, and a new key file must be 0600).
pub fn der_encoded(
    dir: &Path,
    cert_name: &str,
    cert: Option<Encoding>,
    key: Option<Encoding>,
) -> Vec<Finding> {
    let key_name = cert_name.replace(".pem", ".key");
    let mut out = Vec::new();
    if cert == Some(Encoding::Der) {
        out.push(Finding::DerEncoded {
            file: cert_name.to_string(),
            fix: crate::input::der_to_pem(&dir.join(cert_name), false),
        });
    }
    if cert_name != crate::files::CA_PEM && key == Some(Encoding::Der) {
        out.push(Finding::DerEncoded {
            fix: crate::input::der_to_pem(&dir.join(&key_name), true),
            file: key_name,
        });
    }
    out
}

/// A folder group or others may write into (without the sticky bit): they
/// could swap the files, and commands that write refuse it.
pub fn dir_permissions(dir: &Path) -> Option<Finding> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir).ok()?.permissions().mode();
    (mode & 0o022 != 0 && mode & 0o1000 == 0).then(|| Finding::DirectoryWritableByOthers {
        dir: dir.to_path_buf(),
        mode,
    })
}

/// An interrupted write left in `dir`.
pub fn pending_write(dir: &Path) -> Option<Finding> {
    crate::store::has_pending_write(dir).then(|| Finding::PendingWrite {
        dir: dir.to_path_buf(),
    })
}
