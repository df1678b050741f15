//! A certificate folder's own rules: what each kind of folder needs, the
//! checks of a leaf and its key file there, in the order `inspect --dir`
//! lists them (`renew --if-expiring-within` gives the first problem as its
//! reason, so both say the same), the files Milvus and its clients load are
//! PEM, nobody else may write into it, and no write was left half-done.

use std::fs;
use std::path::Path;

use super::{
    Finding, Remedy, added, issued_by, key_pair, key_permissions, names, outlives, purpose,
};
use crate::certinfo::CertInfo;
use crate::files;
use crate::input::{self, Encoding};
use crate::leaf::{Role, Target};
use crate::names::SanName;
use crate::shell;

/// What a folder holds, recognised from its files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FolderKind {
    /// Made by `gen` (or the guide's gen.sh): has `ca.key` or `ca.srl`; needs
    /// the seven files (the client files only for tlsMode 2).
    Ca,
    /// What Milvus reads: `server.pem`, `server.key`, `ca.pem` (export's
    /// `tls/`, a mounted Kubernetes Secret).
    Server,
    /// What a client needs: `ca.pem`, and `client.pem`/`client.key` for
    /// tlsMode 2.
    Client,
}

impl FolderKind {
    /// `ca`, `server` or `client`.
    pub fn name(self) -> &'static str {
        match self {
            FolderKind::Ca => "ca",
            FolderKind::Server => "server",
            FolderKind::Client => "client",
        }
    }

    /// Recognises `dir` from the files it holds. A folder holding none of
    /// them is judged as the CA folder `gen` makes.
    pub(crate) fn of(dir: &Path) -> FolderKind {
        let has = |name: &str| fs::symlink_metadata(dir.join(name)).is_ok();
        if has(files::CA_KEY) || has(files::CA_SRL) {
            FolderKind::Ca
        } else if has(files::SERVER_PEM) || has(files::SERVER_KEY) {
            FolderKind::Server
        } else if has(files::CA_PEM) || has(files::CLIENT_PEM) || has(files::CLIENT_KEY) {
            FolderKind::Client
        } else {
            FolderKind::Ca
        }
    }

    /// The files this kind of folder needs, with what each is for.
    pub(crate) fn needs(self, one_way: bool) -> Vec<(&'static str, &'static str)> {
        let mut v = Vec::new();
        if self == FolderKind::Ca {
            v.push((files::CA_KEY, "the CA private key"));
            v.push((files::CA_SRL, "the CA's last serial number"));
        }
        v.push((files::CA_PEM, "the CA certificate"));
        if matches!(self, FolderKind::Ca | FolderKind::Server) {
            v.push((files::SERVER_PEM, "the server certificate"));
            v.push((files::SERVER_KEY, "the server private key"));
        }
        if !one_way && matches!(self, FolderKind::Ca | FolderKind::Client) {
            v.push((files::CLIENT_PEM, "the client certificate"));
            v.push((files::CLIENT_KEY, "the client private key"));
        }
        v
    }

    /// Who needs `file`, one of [`FolderKind::needs`], for `file_missing`.
    /// Only the client files depend on the mode, so only they say how
    /// `--mode 1` does without them.
    fn needed_by(self, one_way: bool, file: &str) -> &'static str {
        let for_mode_2 = !one_way && (file == files::CLIENT_PEM || file == files::CLIENT_KEY);
        match (self, for_mode_2) {
            (FolderKind::Ca, true) => {
                "a CA folder needs it (pass --mode 1 if clients use one-way TLS)"
            }
            (FolderKind::Ca, false) => "a CA folder needs it",
            (FolderKind::Server, _) => "Milvus reads it",
            (FolderKind::Client, true) => {
                "a client needs it for tlsMode 2 (pass --mode 1 for one-way TLS)"
            }
            (FolderKind::Client, false) => "a client needs it",
        }
    }
}

/// A folder as it is judged: where it is, its kind, and what it needs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FolderScope<'a> {
    /// The folder.
    pub dir: &'a Path,
    /// What it was recognised as.
    pub kind: FolderKind,
    /// tlsMode 1: no client files are needed.
    pub one_way: bool,
    /// It was asked for as a folder (`--dir`), so a file its kind needs and
    /// lacks is reported.
    pub explicit: bool,
}

/// A leaf certificate read from a folder, to judge there.
#[derive(Clone, Debug)]
pub(crate) struct FolderLeaf<'a> {
    /// `server.pem`, `client.pem`, or a `NAME.pem` made by `add`.
    pub target: &'a Target,
    /// The certificate.
    pub cert: &'a CertInfo,
    /// How its file is encoded, when it is the file's first certificate:
    /// its key file is then checked with it (None for the others of a
    /// bundle, which have no key file).
    pub file_encoding: Option<Encoding>,
    /// The folder's CA certificate (`ca.pem`), when it could be read.
    pub ca: Option<&'a CertInfo>,
    /// Names the server certificate must have (`--server-name`).
    pub server_names: &'a [SanName],
    /// The `renew` that makes it again: the fix of a key that is not its
    /// own, or of a server or client certificate another CA issued.
    pub renew: Option<Remedy>,
}

impl FolderScope<'_> {
    /// The folder `renew` runs in to fix what is found: this one, when it
    /// is a CA folder (it holds the CA key).
    pub(crate) fn ca_dir(&self) -> Option<&Path> {
        (self.kind == FolderKind::Ca).then_some(self.dir)
    }

    /// Whether the folder lacks `name` (a dangling link is there).
    pub(crate) fn lacks(&self, name: &str) -> bool {
        fs::symlink_metadata(self.dir.join(name)).is_err()
    }

    /// What to report when `name` is missing: `file_missing`, when the
    /// folder was asked for and its kind needs the file.
    pub(crate) fn missing(&self, name: &str) -> Option<Finding> {
        if !self.explicit {
            return None;
        }
        let needs = self.kind.needs(self.one_way);
        let (_, what) = needs.into_iter().find(|(n, _)| *n == name)?;
        Some(Finding::FileMissing {
            file: name.into(),
            what,
            needed_by: self.kind.needed_by(self.one_way, name),
        })
    }

    /// The key file of the certificate file `cert_file` (`NAME.key` next to
    /// `NAME.pem`; `cert` is its first certificate, `encoding` how it is
    /// encoded): there when the folder needs it, readable, the
    /// certificate's (else `remedy` fixes it) and private; then both files
    /// in PEM, the only encoding Milvus and its clients read. Returns how
    /// the key was encoded, when it could be read.
    pub(crate) fn key_file(
        &self,
        cert_file: &str,
        cert: &CertInfo,
        encoding: Option<Encoding>,
        remedy: Option<Remedy>,
    ) -> (Option<Encoding>, Vec<Finding>) {
        let key_name = cert_file.replace(".pem", ".key");
        let key_path = self.dir.join(&key_name);
        let mut out = Vec::new();
        let mut key_encoding = None;
        match input::read_in_folder(&key_path, "a PEM private key") {
            // Only the keys the folder's kind needs are missed; an added
            // NAME.key is checked when present.
            Ok(None) => out.extend(self.missing(&key_name)),
            Err(err) => out.push(Finding::KeyUnreadable {
                reason: err.to_string(),
            }),
            Ok(Some(bytes)) => {
                let (read, found) = key_pair(&key_path, &bytes, cert, remedy);
                key_encoding = read;
                out.extend(found);
                out.extend(key_permissions(&key_path));
            }
        }
        out.extend(der_encoded(self.dir, cert_file, encoding, key_encoding));
        (key_encoding, out)
    }

    /// What is wrong with a leaf of the folder, in this order: its key
    /// file ([`FolderScope::key_file`], for a file's first certificate);
    /// its chain to the folder's CA, or else its outliving it; and its
    /// purpose (an added certificate's profile and own name), with every
    /// name of `server_names` for the server certificate. Returns how its
    /// key was encoded, when it was read.
    pub(crate) fn leaf(&self, leaf: &FolderLeaf<'_>) -> (Option<Encoding>, Vec<Finding>) {
        let (cert, ca_dir) = (leaf.cert, self.ca_dir());
        let (key_encoding, mut out) = match leaf.file_encoding {
            Some(encoding) => self.key_file(
                &leaf.target.cert_file(),
                cert,
                Some(encoding),
                leaf.renew.clone(),
            ),
            None => (None, Vec::new()),
        };
        let ca_name = self.dir.join(files::CA_PEM).display().to_string();
        // Issued by the folder's CA, and then not outliving it.
        let chain = |fix: Option<Remedy>| {
            leaf.ca
                .and_then(|ca| issued_by(cert, ca, &ca_name, fix).or_else(|| outlives(cert, ca)))
        };
        match leaf.target {
            Target::Leaf(role) => {
                out.extend(chain(leaf.renew.clone()));
                out.extend(purpose(cert, *role, ca_dir));
                if *role == Role::Server {
                    out.extend(names(cert, leaf.server_names, ca_dir));
                }
            }
            Target::Added(name) => {
                // Another CA's certificate: `renew` refuses to re-sign its
                // names (they were never this CA's), `add` makes a new one.
                let fix = shell::milvus_certs("add", self.dir, &[name, "--force"]);
                out.extend(chain(Some(Remedy::Command(fix))));
                out.extend(added(cert, name, self.dir));
            }
        }
        (key_encoding, out)
    }
}

/// In a folder, a DER certificate or key that Milvus or a client loads is a
/// problem (`ca.key` is read by milvus-certs and OpenSSL alone), with the
/// command that converts it (to a new file first: a half-written key must
/// never replace the old one, and a new key file must be 0600).
pub(crate) fn der_encoded(
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
pub(crate) fn dir_permissions(dir: &Path) -> Option<Finding> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir).ok()?.permissions().mode();
    (mode & 0o022 != 0 && mode & 0o1000 == 0).then(|| Finding::DirectoryWritableByOthers {
        dir: dir.to_path_buf(),
        mode,
    })
}

/// An interrupted write left in `dir`.
pub(crate) fn pending_write(dir: &Path) -> Option<Finding> {
    crate::store::has_pending_write(dir).then(|| Finding::PendingWrite {
        dir: dir.to_path_buf(),
    })
}
