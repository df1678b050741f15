//! Locating the files a configuration names: as the container sees them
//! (relative paths under Milvus's WORKDIR), the mount that holds them, and
//! with a certificate folder the host file behind it (a Compose bind mount,
//! else the folder's file of that name or the Secret key it comes from).

use std::path::{Path, PathBuf};

use super::deployment::{Deployment, Mount, Source, resolve};
use super::{Location, MILVUS_HOME};
use crate::certinfo::CertInfo;
use crate::checks::Finding;

/// A TLS file the configuration names: the key, its container path, where.
pub(super) struct TlsFile {
    pub(super) key: String,
    pub(super) container: String,
    pub(super) at: Location,
}

/// A path as the container sees it: relative ones are under /milvus.
pub(super) fn container_path(p: &str) -> String {
    let p = p.trim_start_matches("./");
    if p.starts_with('/') {
        p.to_string()
    } else {
        format!("{MILVUS_HOME}/{p}")
    }
}

/// Whether `path` is `dir` or inside it.
pub(super) fn under(path: &str, dir: &str) -> bool {
    let dir = dir.trim_end_matches('/');
    path == dir || path.starts_with(&format!("{dir}/")) || dir.is_empty()
}

/// The mount that holds `path` (the deepest one).
pub(super) fn mount_for<'a>(mounts: &'a [Mount], path: &str) -> Option<&'a Mount> {
    mounts
        .iter()
        .filter(|m| under(path, &m.target))
        .max_by_key(|m| m.target.len())
}

/// The host file for a container path, with a certificate folder: through
/// a Compose bind mount if it exists there, else the folder's file of that
/// name (or the Secret key it comes from).
pub(super) fn host_file(d: &Deployment, dir: &Path, container: &str) -> PathBuf {
    let name = Path::new(container)
        .file_name()
        .map(PathBuf::from)
        .unwrap_or_default();
    let mount = d.mounts.as_ref().and_then(|m| mount_for(m, container));
    if let Some(m) = mount {
        let rel = container
            .strip_prefix(m.target.trim_end_matches('/'))
            .unwrap_or("")
            .trim_start_matches('/');
        match &m.source {
            Source::Host(h) => {
                let h = if rel.is_empty() {
                    h.clone()
                } else {
                    h.join(rel)
                };
                let p = resolve(&d.base, &h);
                if p.is_file() {
                    return p;
                }
            }
            Source::Secret(items) => {
                let by_name = dir.join(&name);
                if !by_name.is_file()
                    && let Some((key, _)) = items.iter().find(|(_, p)| p == rel || p.is_empty())
                {
                    return dir.join(key);
                }
            }
            Source::Other => {}
        }
    }
    dir.join(name)
}

/// The first certificate of `path` (PEM or DER), or the finding that says
/// why there is none.
pub(super) fn load_cert(path: &Path) -> std::result::Result<CertInfo, Finding> {
    let unusable = |reason: String| Finding::NotACertificate { reason };
    let bytes = crate::input::read_bounded(path)
        .map_err(|e| unusable(format!("{}: cannot be read ({e})", path.display())))?;
    let (certs, _) = crate::input::parse_certificates_or_der(path, &bytes)
        .map_err(|e| unusable(e.without_fix()))?;
    let first = certs
        .first()
        .ok_or_else(|| unusable(format!("{} holds no certificate", path.display())))?;
    CertInfo::from_der(first).map_err(|e| unusable(format!("{}: {e}", path.display())))
}
