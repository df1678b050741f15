//! Folders inspected as a whole: what kind of folder it is (recognised
//! from the files it holds), what that kind needs, and the run over one:
//! locked against a concurrent `renew`, read, then judged.

use std::fs;
use std::path::{Path, PathBuf};

use super::{InspectOptions, Report, judge, read};
use crate::checks::{self, Finding};
use crate::error::Result;
use crate::files;
use crate::store::{DirLock, LOCK_WAIT};

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
    pub fn of(dir: &Path) -> FolderKind {
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
    pub fn needs(self, one_way: bool) -> Vec<(&'static str, &'static str)> {
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

    /// Who needs the files of [`FolderKind::needs`], for `file_missing`.
    fn needed_by(self, one_way: bool) -> &'static str {
        match (self, one_way) {
            (FolderKind::Ca, false) => {
                "a CA folder needs it (pass --mode 1 if clients use one-way TLS)"
            }
            (FolderKind::Ca, true) => "a CA folder needs it",
            (FolderKind::Server, _) => "Milvus reads it",
            (FolderKind::Client, false) => {
                "a client needs it for tlsMode 2 (pass --mode 1 for one-way TLS)"
            }
            (FolderKind::Client, true) => "a client needs it",
        }
    }
}

/// A folder inspected as a whole.
#[derive(Clone, Debug)]
pub struct Folder {
    /// The folder.
    pub path: PathBuf,
    /// What it was recognised as.
    pub kind: FolderKind,
    /// Findings about the folder itself (permissions, an interrupted write).
    pub findings: Vec<Finding>,
}

/// A folder as it is judged: where it is, its kind, and what it needs.
pub(super) struct Scope<'a> {
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

impl Scope<'_> {
    /// The folder `renew` runs in to fix what is found: this one, when it
    /// is a CA folder (it holds the CA key).
    pub fn ca_dir(&self) -> Option<&Path> {
        (self.kind == FolderKind::Ca).then_some(self.dir)
    }

    /// Whether the folder lacks `name` (a dangling link is there).
    pub fn lacks(&self, name: &str) -> bool {
        fs::symlink_metadata(self.dir.join(name)).is_err()
    }

    /// What to report when `name` is missing: `file_missing`, when the
    /// folder was asked for and its kind needs the file.
    pub fn missing(&self, name: &str) -> Option<Finding> {
        if !self.explicit {
            return None;
        }
        let needs = self.kind.needs(self.one_way);
        let (_, what) = needs.into_iter().find(|(n, _)| *n == name)?;
        Some(Finding::FileMissing {
            file: name.into(),
            what,
            needed_by: self.kind.needed_by(self.one_way),
        })
    }
}

/// A folder, judged by what its kind needs. `explicit`: it was asked for
/// as a folder (`--dir`), so a file its kind needs and lacks is reported.
pub(super) fn inspect_folder(
    dir: &Path,
    opts: &InspectOptions,
    read_only: bool,
    explicit: bool,
    report: &mut Report,
) -> Result<()> {
    // Always locked: a renew running now must not be seen half-way (a new
    // key next to the old certificate between two renames).
    let _lock = if read_only {
        DirLock::lock_only(dir, LOCK_WAIT)?
    } else {
        // A staging folder that is not safe to touch is left alone and
        // reported (Recovery::LeftAlone), and the files are still read.
        let (lock, recovery) = DirLock::acquire_read(dir, LOCK_WAIT)?;
        if let Some(r) = recovery {
            report.recoveries.push((dir.to_path_buf(), r));
        }
        lock
    };
    let scope = Scope {
        dir,
        kind: FolderKind::of(dir),
        one_way: opts.one_way,
        explicit,
    };
    let mut findings: Vec<Finding> = Vec::new();
    findings.extend(checks::dir_permissions(dir));
    findings.extend(checks::pending_write(dir));
    let mut entries = Vec::new();
    let firsts = read::folder_certificates(&scope, &mut entries);
    judge::key_files(&scope, &firsts, &mut entries);
    judge::folder(&scope, &opts.server_names, &mut entries);
    report.entries.extend(entries);
    report.folders.push(Folder {
        path: dir.to_path_buf(),
        kind: scope.kind,
        findings,
    });
    Ok(())
}
