//! A deployment as `doctor` sees it, whatever shape it was written in: the
//! configuration layers Milvus reads (later ones win), environment
//! variables, what is mounted in the container, the Milvus image, and how a
//! setting is looked up (as Milvus does: keys without regard to case,
//! `A_B_C` variables for `a.b.c`).

use std::path::{Path, PathBuf};

use super::Location;
use super::mounts::TlsFile;
use super::node::Node;

/// One configuration file (or the part of a file holding one).
pub(super) struct Layer {
    pub(super) file: PathBuf,
    pub(super) root: Node,
    /// The key path of `root` in `file` (`spec.config`), or the empty string.
    pub(super) prefix: String,
}

/// What a volume puts at a mount point.
#[derive(Clone, Debug)]
pub(super) enum Source {
    /// A host path (Compose bind mount, hostPath), relative to `base`.
    Host(PathBuf),
    /// A Kubernetes Secret: (key, path) items, empty for every key under its name.
    Secret(Vec<(String, String)>),
    /// Anything else (a named volume, a ConfigMap...).
    Other,
}

/// A mount point in the container, and what is mounted there.
#[derive(Clone, Debug)]
pub(super) struct Mount {
    pub(super) target: String,
    pub(super) source: Source,
}

/// One Milvus, as a file (or a Compose project) describes it.
pub(super) struct Deployment {
    /// The file that describes it (the first Compose file, for several).
    pub(super) file: PathBuf,
    /// Layers in the order Milvus reads them (later ones win).
    pub(super) layers: Vec<Layer>,
    /// Environment variables (`COMMON_SECURITY_TLSMODE`), upper case.
    pub(super) env: Vec<(String, String, Location)>,
    /// What is mounted in the container; None when the file does not say.
    pub(super) mounts: Option<Vec<Mount>>,
    /// The folder relative host paths are relative to.
    pub(super) base: PathBuf,
    /// The Milvus image, when the file names it (`milvusdb/milvus:v2.4.5`).
    pub(super) image: Option<String>,
    /// Compose: the etcd and MinIO services' server certificates.
    pub(super) servers: Vec<DepServer>,
}

/// A dependency's server (Compose's etcd or MinIO service): its own
/// mounts, and the certificate, key and CA files it serves with.
pub(super) struct DepServer {
    /// The service, as a deployment of its own mounts.
    pub(super) service: Deployment,
    pub(super) cert: TlsFile,
    pub(super) key: Option<TlsFile>,
    pub(super) ca: Option<TlsFile>,
    /// The name `add` gives it, when the service renames the file.
    pub(super) name: Option<&'static str>,
}

/// A setting's value and where it is written.
pub(super) struct Setting {
    pub(super) value: String,
    pub(super) at: Location,
}

impl Deployment {
    /// The deployment `file` describes alone (no environment variables, no
    /// dependency servers), relative paths relative to its folder.
    pub(super) fn of_file(
        file: &Path,
        layers: Vec<Layer>,
        mounts: Option<Vec<Mount>>,
        image: Option<String>,
    ) -> Deployment {
        Deployment {
            file: file.to_path_buf(),
            layers,
            env: Vec::new(),
            mounts,
            base: base_of(file),
            image,
            servers: Vec::new(),
        }
    }

    /// The setting at `keys` (`common.security.tlsMode`): its environment
    /// variable (`COMMON_SECURITY_TLSMODE`) first, then the last layer
    /// that writes it.
    pub(super) fn setting(&self, keys: &[&str]) -> Option<Setting> {
        let var = keys.join("_").to_ascii_uppercase();
        if let Some((_, v, at)) = self.env.iter().rev().find(|(k, _, _)| *k == var) {
            return Some(Setting {
                value: v.clone(),
                at: at.clone(),
            });
        }
        self.layers.iter().rev().find_map(|l| {
            let (node, line) = l.root.path(keys)?;
            Some(Setting {
                value: node.text().unwrap_or("").to_string(),
                at: l.at(&keys.join("."), line),
            })
        })
    }

    /// A list setting: a YAML sequence, or comma-separated text (as Milvus
    /// splits `etcd.endpoints` and the `ETCD_ENDPOINTS` variable).
    pub(super) fn list(&self, keys: &[&str]) -> Option<(Vec<String>, Location)> {
        let var = keys.join("_").to_ascii_uppercase();
        let split = |v: &str| -> Vec<String> {
            v.split(',')
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .map(str::to_string)
                .collect()
        };
        if let Some((_, v, at)) = self.env.iter().rev().find(|(k, _, _)| *k == var) {
            return Some((split(v), at.clone()));
        }
        self.layers.iter().rev().find_map(|l| {
            let (node, line) = l.root.path(keys)?;
            let values = match node.text() {
                Some(t) => split(t),
                None => node
                    .items()
                    .iter()
                    .filter_map(Node::text)
                    .flat_map(split)
                    .collect(),
            };
            Some((values, l.at(&keys.join("."), line)))
        })
    }

    /// Where to report a setting that is not written: the last layer's file.
    pub(super) fn nowhere(&self, key: &str) -> Location {
        match self.layers.last() {
            Some(l) => Location {
                file: l.file.clone(),
                key: join(&l.prefix, key),
                line: None,
            },
            None => Location {
                file: self.file.clone(),
                key: key.to_string(),
                line: None,
            },
        }
    }
}

impl Layer {
    /// Where `key` (a path within this layer) is written, on `line`.
    pub(super) fn at(&self, key: &str, line: usize) -> Location {
        Location {
            file: self.file.clone(),
            key: join(&self.prefix, key),
            line: Some(line),
        }
    }
}

/// `prefix.key`, or `key` alone at the top.
fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// `base/rel` without `.` components (`./milvus.yaml` next to the file).
pub(super) fn resolve(base: &Path, rel: &Path) -> PathBuf {
    base.join(rel)
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect()
}

/// The folder `file` is in (`.` for a bare name): what relative paths in
/// it are relative to.
pub(super) fn base_of(file: &Path) -> PathBuf {
    match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Whether a setting is `true` (Milvus parses booleans without regard to case).
pub(super) fn is_true(s: &Setting) -> bool {
    s.value.trim().eq_ignore_ascii_case("true")
}

/// Whether the image's tag names a Milvus release before `version`
/// (`v2.3.5`, `2.4.0-gpu`); false for `latest`, digests, or no tag.
pub(super) fn before(image: &str, version: (u32, u32)) -> bool {
    let Some((_, tag)) = image.rsplit_once(':') else {
        return false;
    };
    let tag = tag.trim_start_matches('v');
    let mut parts = tag.split(['.', '-']);
    let major: Option<u32> = parts.next().and_then(|p| p.parse().ok());
    let minor: Option<u32> = parts.next().and_then(|p| p.parse().ok());
    matches!((major, minor), (Some(m), Some(n)) if (m, n) < version)
}
