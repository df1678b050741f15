//! `milvus-certs inspect`: is this TLS setup healthy, and when must it be
//! renewed? Checks files (the seven of a certificate directory, or any PEM
//! files and directories) and, in `connect`, live servers.
//!
//! Every file is read once and parsed once. Nothing here panics on input:
//! what cannot be read becomes an entry with status `invalid` and a reason.
//! The rules themselves are `crate::checks`'s; this module decides which
//! apply to what it finds (a CA folder, a deployment folder, a client folder,
//! loose files).
//!
//! - `read`: finding and reading the files: a folder's own, the named
//!   paths, every certificate file of a directory.
//! - `folder`: the run over a folder (locked, read, judged); its kind and
//!   what that kind needs are [`crate::checks::FolderKind`]'s.
//! - `judge`: which rules apply to each entry, the `renew` that fixes what
//!   they find, and the entry's status.
//! - `connect`: the chain a live server presents, judged the same way.

use std::path::PathBuf;

use time::OffsetDateTime;

use crate::certinfo::CertInfo;
use crate::checks::{Finding, Remedy};
use crate::error::Result;
use crate::input::Encoding;
use crate::issue::CertRole;
use crate::names::SanName;
use crate::store::Recovery;

mod connect;
mod folder;
mod judge;
mod read;

pub use connect::ConnectOptions;
pub use folder::Folder;

/// The health of one certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// Valid, and not expiring within the warning period.
    Ok,
    /// Valid, but expiring within the warning period.
    Expiring,
    /// Past its notAfter.
    Expired,
    /// Before its notBefore.
    NotYetValid,
    /// Unreadable, or failing a check (mismatch, chain, purpose, name).
    Invalid,
}

impl Status {
    /// `ok`, `expiring`, `expired`, `not-yet-valid` or `invalid`.
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Expiring => "expiring",
            Status::Expired => "expired",
            Status::NotYetValid => "not-yet-valid",
            Status::Invalid => "invalid",
        }
    }

    /// Whether this is a problem (exit code 2), not just a warning.
    pub(crate) fn is_problem(self) -> bool {
        !matches!(self, Status::Ok | Status::Expiring)
    }
}

/// The overall verdict, and the exit code it maps to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overall {
    /// Everything healthy: exit 0.
    Ok,
    /// No problem, but something expires within the warning period: exit 1.
    Expiring,
    /// At least one problem: exit 2.
    Problem,
}

impl Overall {
    /// `ok`, `expiring` or `problem`.
    pub fn name(self) -> &'static str {
        match self {
            Overall::Ok => "ok",
            Overall::Expiring => "expiring",
            Overall::Problem => "problem",
        }
    }

    /// 0, 1 or 2.
    pub fn exit_code(self) -> u8 {
        match self {
            Overall::Ok => 0,
            Overall::Expiring => 1,
            Overall::Problem => 2,
        }
    }
}

/// One inspected certificate (or an input that should have held one).
#[derive(Clone, Debug)]
pub struct Entry {
    /// The file (or `host:port`) it came from, with `#N` for the Nth
    /// certificate of a bundle.
    pub source: String,
    /// The file it came from (None for a live endpoint).
    pub file: Option<PathBuf>,
    /// What it is for: by its file name (`ca.pem`, `server.pem`,
    /// `client.pem`, and in a CA folder a `NAME.pem` made by `milvus-certs
    /// add`, with the profile renewing it gives), a CA for `--ca FILE`, else
    /// by its content (basicConstraints CA:TRUE; serverAuth only; clientAuth
    /// only). None for anything else (`other` in the report).
    pub role: Option<CertRole>,
    /// The certificate, when one could be read.
    pub cert: Option<CertInfo>,
    /// Days until notAfter (negative once expired), rounded down.
    pub days_left: Option<i64>,
    /// The verdict.
    pub status: Status,
    /// What was found, problems and warnings.
    pub findings: Vec<Finding>,
    /// With `--connect`, when the server asked for a client certificate:
    /// whether it accepted the one presented.
    pub client_auth: Option<ClientAuth>,
    /// How the certificate's file was encoded (None for a live endpoint).
    pub encoding: Option<Encoding>,
    /// In a folder: how the certificate's key file was encoded.
    pub key_encoding: Option<Encoding>,
    /// Checked as part of a folder (chain, keys, purposes).
    dir_checked: bool,
    /// How to renew it, when the folder holding its CA key is known.
    remedy: Option<Remedy>,
}

/// What a server did with the client certificate it asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientAuth {
    /// It accepted this certificate.
    Accepted(PathBuf),
    /// It rejected it, for this reason.
    Rejected(String),
    /// None was presented.
    NotGiven,
}

impl Entry {
    fn unreadable(source: String, role: Option<CertRole>, finding: Finding) -> Entry {
        Entry {
            source,
            file: None,
            role,
            cert: None,
            days_left: None,
            status: Status::Invalid,
            findings: vec![finding],
            client_auth: None,
            encoding: None,
            key_encoding: None,
            dir_checked: false,
            remedy: None,
        }
    }

    fn of(source: String, role: Option<CertRole>, cert: CertInfo) -> Entry {
        Entry {
            source,
            file: None,
            role,
            cert: Some(cert),
            days_left: None,
            status: Status::Ok,
            findings: Vec::new(),
            client_auth: None,
            encoding: None,
            key_encoding: None,
            dir_checked: false,
            remedy: None,
        }
    }

    /// `ca`, `server`, `client`, `added`, or `other` when it has no role.
    pub fn role_name(&self) -> &'static str {
        self.role.map_or("other", CertRole::name)
    }

    /// The problems found.
    pub(crate) fn problems(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.is_problem())
    }
}

/// The result of an inspection.
#[derive(Clone, Debug)]
pub struct Report {
    /// Every certificate, in the order inspected.
    pub entries: Vec<Entry>,
    /// The folders inspected as a whole.
    pub folders: Vec<Folder>,
    /// What was done about interrupted writes found in inspected directories.
    pub recoveries: Vec<(PathBuf, Recovery)>,
    /// The warning period used, in days.
    pub warn_days: u32,
}

impl Report {
    /// An empty report.
    pub(crate) fn new(warn_days: u32) -> Report {
        Report {
            entries: Vec::new(),
            folders: Vec::new(),
            recoveries: Vec::new(),
            warn_days,
        }
    }

    /// The overall verdict.
    pub fn overall(&self) -> Overall {
        let left_alone = self
            .recoveries
            .iter()
            .any(|(_, r)| matches!(r, Recovery::LeftAlone { .. }));
        let folder_problem = self
            .folders
            .iter()
            .any(|f| f.findings.iter().any(Finding::is_problem));
        if left_alone || folder_problem || self.entries.iter().any(|e| e.status.is_problem()) {
            Overall::Problem
        } else if self.entries.iter().any(|e| e.status == Status::Expiring) {
            Overall::Expiring
        } else {
            Overall::Ok
        }
    }
}

/// What to inspect and how.
#[derive(Clone, Debug, Default)]
pub struct InspectOptions {
    /// A folder: recognised by what it holds and judged by what that kind
    /// of folder needs.
    pub dir: Option<PathBuf>,
    /// Files and directories to inspect. With neither `dir` nor `paths`, the
    /// current directory is inspected as a folder.
    pub paths: Vec<PathBuf>,
    /// CA certificates (`--ca FILE`) every loose leaf must verify against.
    pub ca_files: Vec<PathBuf>,
    /// Certificates expiring within this many days are `expiring`.
    pub warn_days: u32,
    /// Names clients use to reach the server; each must match a SAN of
    /// `server.pem` (IP names against IP SANs).
    pub server_names: Vec<SanName>,
    /// The deployment uses one-way TLS (tlsMode 1): no client files are needed.
    pub one_way: bool,
    /// Change nothing: leave an interrupted write in `dir` for the next
    /// real command. Loose files are always inspected read-only.
    pub read_only: bool,
    /// Live servers to connect to and check (`--connect`), after the files.
    /// With servers and neither `dir` nor `paths`, no folder is inspected.
    pub connect: Option<ConnectOptions>,
}

/// Inspects files, then live servers, at `now`. Only a folder given as
/// `dir` (or the current directory by default) may be written to, to
/// complete an interrupted write; files and directories given as paths are
/// only read.
pub fn inspect(opts: &InspectOptions, now: OffsetDateTime) -> Result<Report> {
    let mut report = Report::new(opts.warn_days);
    // `--connect HOST:PORT` alone checks the server, not also the files of
    // the current directory.
    let servers_only = opts.connect.is_some() && opts.dir.is_none() && opts.paths.is_empty();
    if !servers_only {
        files(opts, now, &mut report)?;
    }
    if let Some(connect) = &opts.connect {
        let folder = opts.dir.clone().unwrap_or_else(|| PathBuf::from("."));
        let connect = connect.with_client_of(&folder);
        for server in &connect.servers {
            let entries = connect::inspect_endpoint(server, &connect, opts, now);
            report.entries.extend(entries);
        }
    }
    Ok(report)
}

/// The files of an inspection: a folder, and the paths given.
fn files(opts: &InspectOptions, now: OffsetDateTime, report: &mut Report) -> Result<()> {
    let folder = match (&opts.dir, opts.paths.is_empty() && opts.ca_files.is_empty()) {
        (Some(d), _) => Some(d.clone()),
        (None, true) => Some(PathBuf::from(".")),
        (None, false) => None,
    };
    if let Some(dir) = &folder {
        folder::inspect_folder(dir, opts, opts.read_only, true, report)?;
    }
    read::paths(opts, folder.as_deref(), report)?;
    judge::loose_chains(&mut report.entries, opts);
    for e in &mut report.entries {
        judge::finish(e, now, opts.warn_days);
    }
    Ok(())
}
