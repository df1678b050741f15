//! `milvus-certs inspect`: is this TLS setup healthy, and when must it be
//! renewed? Checks files (the seven of a certificate directory, or any PEM
//! files and directories) and, in `connect`, live servers.
//!
//! Every file is read once and parsed once. Nothing here panics on input:
//! what cannot be read becomes an entry with status `invalid` and a reason.
//! The rules themselves are [`crate::checks`]'s; this module decides which
//! apply to what it finds (a CA folder, a deployment folder, a client folder,
//! loose files).

use std::fs;
use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use crate::certinfo::CertInfo;
use crate::checks::{self, Finding, Remedy};
use crate::error::{Error, Result};
use crate::files;
use crate::input;
use crate::input::Encoding;
use crate::issue::{self, CertRole};
use crate::leaf::Role;
use crate::names::SanName;
use crate::serial::Serial;
use crate::store::{DirLock, LOCK_WAIT, Recovery};

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
    pub fn is_problem(self) -> bool {
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
    /// What it is for, by its file name in a folder (`ca.pem`,
    /// `server.pem`, `client.pem`, and in a CA folder a `NAME.pem` made by
    /// `milvus-certs add`, checked against its profile), else by its content
    /// (basicConstraints CA:TRUE; serverAuth only; clientAuth only). None
    /// for anything else.
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
    /// Checked as part of a folder (chain, keys, purposes).
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
    pub(crate) fn unreadable(source: String, role: Option<CertRole>, finding: Finding) -> Entry {
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

    pub(crate) fn of(source: String, role: Option<CertRole>, cert: CertInfo) -> Entry {
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
    pub fn problems(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.is_problem())
    }

    /// The warnings found.
    pub fn warnings(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| !f.is_problem())
    }
}

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
    pub fn new(warn_days: u32) -> Report {
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
}

/// File endings inspected in a directory given as a path.
const CERT_ENDINGS: [&str; 5] = [".pem", ".crt", ".cer", ".cert", ".der"];

/// Inspects files at `now`. Only a folder given as `dir` (or the current
/// directory by default) may be written to, to complete an interrupted
/// write; files and directories given as paths are only read.
pub fn inspect(opts: &InspectOptions, now: OffsetDateTime) -> Result<Report> {
    let mut report = Report::new(opts.warn_days);
    let folder = match (&opts.dir, opts.paths.is_empty() && opts.ca_files.is_empty()) {
        (Some(d), _) => Some(d.clone()),
        (None, true) => Some(PathBuf::from(".")),
        (None, false) => None,
    };
    if let Some(dir) = &folder {
        inspect_folder(dir, opts, opts.read_only, true, &mut report)?;
    }
    let mut loose_dirs: Vec<PathBuf> = Vec::new();
    for path in opts.paths.iter().chain(&opts.ca_files) {
        let is_ca_file = opts.ca_files.contains(path);
        let same = |f: &Path| f.canonicalize().ok() == path.canonicalize().ok();
        if is_ca_file
            && report
                .entries
                .iter()
                .any(|e| e.file.as_deref().is_some_and(same))
        {
            // `--ca` naming a file already read (the folder's own ca.pem).
            continue;
        }
        if path.is_dir() {
            if folder.as_deref() == Some(path.as_path()) {
                continue;
            }
            inspect_plain_dir(path, opts, &mut report)?;
        } else {
            let parent = parent_of(path).to_path_buf();
            if !loose_dirs.contains(&parent) {
                loose_dirs.push(parent);
            }
            let named = |_: Option<&CertInfo>| {
                if is_ca_file {
                    Some(CertRole::Ca)
                } else {
                    role_from_name(path)
                }
            };
            inspect_file(path, &named, false, &mut report.entries);
        }
    }
    // Loose files are read as they are: an interrupted write in their
    // folder is reported, never completed here.
    for dir in loose_dirs {
        let known = report.folders.iter().any(|f| f.path == dir);
        let first = report
            .entries
            .iter_mut()
            .find(|e| e.file.as_deref().map(parent_of) == Some(dir.as_path()));
        if let (false, Some(f), Some(e)) = (known, checks::pending_write(&dir), first) {
            e.findings.push(f);
        }
    }
    check_loose_chains(&mut report.entries, opts);
    for e in &mut report.entries {
        finish(e, now, opts.warn_days);
    }
    Ok(report)
}

/// The folder a file is in (`.` for a bare file name).
fn parent_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// What a file's name says its first certificate is for: `ca.pem`,
/// `server.pem` or `client.pem`.
fn role_from_name(path: &Path) -> Option<CertRole> {
    match path.file_name()?.to_str()? {
        files::CA_PEM => Some(CertRole::Ca),
        files::SERVER_PEM => Some(CertRole::Leaf(Role::Server)),
        files::CLIENT_PEM => Some(CertRole::Leaf(Role::Client)),
        _ => None,
    }
}

/// What a certificate's own extensions say it is for: a CA, or a leaf
/// allowing one purpose only.
pub(crate) fn role_from_content(c: &CertInfo) -> Option<CertRole> {
    if c.is_ca() {
        return Some(CertRole::Ca);
    }
    match c.ext_key_usage.as_deref() {
        Some([u]) if u == "serverAuth" => Some(CertRole::Leaf(Role::Server)),
        Some([u]) if u == "clientAuth" => Some(CertRole::Leaf(Role::Client)),
        _ => None,
    }
}

/// What a file's name says its first certificate (`cert`, once read) is
/// for, when the name says it; else its content does.
type Named<'a> = dyn Fn(Option<&CertInfo>) -> Option<CertRole> + Sync + 'a;

/// Reads one file: one entry per certificate, or one `invalid` entry.
/// `in_folder`: one of a folder's own files, read as
/// [`input::read_in_folder`] does (links followed only inside it).
fn inspect_file(path: &Path, named: &Named<'_>, in_folder: bool, out: &mut Vec<Entry>) {
    let first = out.len();
    read_entries(path, named, in_folder, out);
    for e in &mut out[first..] {
        e.file = Some(path.to_path_buf());
    }
}

fn not_a_certificate(e: Error) -> Finding {
    Finding::NotACertificate {
        reason: e.to_string(),
    }
}

fn read_entries(path: &Path, named: &Named<'_>, in_folder: bool, out: &mut Vec<Entry>) {
    let source = path.display().to_string();
    let fallback_role = named(None);
    let read = if in_folder {
        input::read_in_folder(path, "a PEM certificate")
    } else {
        input::read_optional(path, "a PEM certificate")
    };
    let bytes = match read {
        Ok(Some(b)) => b,
        Ok(None) => {
            out.push(Entry::unreadable(
                source,
                fallback_role,
                Finding::NotACertificate {
                    reason: format!("{} does not exist", path.display()),
                },
            ));
            return;
        }
        Err(e) => {
            out.push(Entry::unreadable(
                source,
                fallback_role,
                not_a_certificate(e),
            ));
            return;
        }
    };
    let (ders, encoding) = match input::parse_certificates_or_der(path, &bytes) {
        Ok(d) => d,
        Err(e) => {
            out.push(Entry::unreadable(
                source,
                fallback_role,
                not_a_certificate(e),
            ));
            return;
        }
    };
    let bundle = ders.len() > 1;
    for (i, der) in ders.iter().enumerate() {
        let src = if bundle {
            format!("{source}#{}", i + 1)
        } else {
            source.clone()
        };
        match CertInfo::from_der(der) {
            Ok(cert) => {
                // In a bundle only the first certificate has the file's role.
                let role = match i {
                    0 => named(Some(&cert)).or_else(|| role_from_content(&cert)),
                    _ => role_from_content(&cert),
                };
                let mut entry = Entry::of(src, role, cert);
                entry.encoding = Some(encoding);
                out.push(entry);
            }
            Err(reason) => out.push(Entry::unreadable(
                src,
                fallback_role,
                not_a_certificate(Error::bad_file(path, "a certificate", reason)),
            )),
        }
    }
}

/// The `renew` arguments that make a new `role` certificate (`file`, for
/// an added one: `--only NAME`).
fn renew_args(role: Option<CertRole>, file: Option<&Path>) -> Vec<String> {
    let v: &[&str] = match role {
        Some(CertRole::Ca) => &["--ca"],
        Some(CertRole::Leaf(r)) => &["--only", r.name()],
        Some(CertRole::Added(_)) => {
            let name = file
                .and_then(Path::file_name)
                .and_then(|n| n.to_str())
                .and_then(files::added_name_of_cert);
            return match name {
                Some(n) => vec!["--only".into(), n.into()],
                None => Vec::new(),
            };
        }
        None => &[],
    };
    v.iter().map(|a| a.to_string()).collect()
}

fn remedy_for(ca_dir: Option<&Path>, role: Option<CertRole>, file: Option<&Path>) -> Remedy {
    let args = renew_args(role, file);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Remedy::renew(ca_dir, &args)
}

/// A folder, judged by what its kind needs. `explicit`: it was asked for
/// as a folder (`--dir`), so a file its kind needs and lacks is reported.
fn inspect_folder(
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
    let kind = FolderKind::of(dir);
    let needs = kind.needs(opts.one_way);
    let needed_by = kind.needed_by(opts.one_way);
    let needed = |name: &str| needs.iter().find(|(n, _)| *n == name).map(|(_, w)| *w);
    let missing = |name: &str| fs::symlink_metadata(dir.join(name)).is_err();
    let mut folder_findings: Vec<Finding> = Vec::new();
    folder_findings.extend(checks::dir_permissions(dir));
    folder_findings.extend(checks::pending_write(dir));
    let ca_dir = (kind == FolderKind::Ca).then_some(dir);
    let remedy = |role: Option<CertRole>, file: Option<&Path>| remedy_for(ca_dir, role, file);

    let start = report.entries.len();
    let mut firsts: Vec<(usize, String)> = Vec::new();
    let mut wanted: Vec<String> = [files::CA_PEM, files::SERVER_PEM, files::CLIENT_PEM]
        .map(String::from)
        .to_vec();
    // What `add` made: only a CA folder has them.
    if kind == FolderKind::Ca {
        wanted.extend(issue::added_names(dir).iter().map(|n| files::added_cert(n)));
    }
    for name in wanted {
        let name = name.as_str();
        let path = dir.join(name);
        // By its name; an added one's profile is read from it.
        let named = |cert: Option<&CertInfo>| {
            role_from_name(Path::new(name)).or_else(|| {
                files::added_name_of_cert(name)
                    .map(|n| CertRole::Added(issue::added_profile(n, cert)))
            })
        };
        if missing(name) {
            if let (true, Some(what)) = (explicit, needed(name)) {
                let mut e = Entry::unreadable(
                    path.display().to_string(),
                    named(None),
                    Finding::FileMissing {
                        file: name.into(),
                        what,
                        needed_by,
                    },
                );
                e.file = Some(path);
                e.dir_checked = true;
                report.entries.push(e);
            }
            continue;
        }
        let before = report.entries.len();
        inspect_file(&path, &named, true, &mut report.entries);
        firsts.push((before, name.to_string()));
    }
    // Keys: each must belong to its certificate and be private.
    for (i, name) in &firsts {
        let e = &mut report.entries[*i];
        let key_name = name.replace(".pem", ".key");
        let key_path = dir.join(&key_name);
        let Some(cert) = &e.cert else { continue };
        match input::read_in_folder(&key_path, "a PEM private key") {
            Ok(None) => {
                if let (true, Some(what)) = (explicit, needed(&key_name)) {
                    e.findings.push(Finding::FileMissing {
                        file: key_name.clone(),
                        what,
                        needed_by,
                    });
                }
            }
            Err(err) => e.findings.push(Finding::KeyUnreadable {
                reason: err.to_string(),
            }),
            Ok(Some(bytes)) => {
                let key_remedy =
                    (e.role != Some(CertRole::Ca)).then(|| remedy(e.role, e.file.as_deref()));
                let (encoding, found) = checks::key_pair(&key_path, &bytes, cert, key_remedy);
                e.key_encoding = encoding;
                e.findings.extend(found);
                e.findings.extend(checks::key_permissions(&key_path));
            }
        }
    }
    // Milvus and its clients read PEM only.
    for (i, name) in &firsts {
        let e = &mut report.entries[*i];
        e.findings
            .extend(checks::der_encoded(dir, name, e.encoding, e.key_encoding));
    }
    let entries = &mut report.entries[start..];
    let ca = entries
        .iter()
        .find(|e| e.role == Some(CertRole::Ca) && e.cert.is_some() && e.file.is_some())
        .and_then(|e| e.cert.clone());
    let ca_name = dir.join(files::CA_PEM).display().to_string();
    let issued: Vec<CertInfo> = entries
        .iter()
        .filter(|e| matches!(e.role, Some(CertRole::Leaf(_) | CertRole::Added(_))))
        .filter_map(|e| e.cert.clone())
        .collect();
    for e in entries.iter_mut() {
        e.dir_checked = true;
        if e.role.is_some() {
            e.remedy = Some(remedy(e.role, e.file.as_deref()));
        }
        let Some(cert) = &e.cert else { continue };
        let mut found = Vec::new();
        match e.role {
            Some(CertRole::Ca) => {
                found.extend(checks::not_a_ca(cert));
                if found.is_empty() && cert.issuer_raw == cert.subject_raw && !cert.is_self_signed()
                {
                    found.push(Finding::BadSignature);
                }
            }
            Some(CertRole::Added(_)) => {
                let file = e.file.as_deref();
                let name = file
                    .and_then(Path::file_name)
                    .and_then(|n| n.to_str())
                    .and_then(files::added_name_of_cert)
                    .unwrap_or_default();
                if let Some(ca) = &ca {
                    // Another CA's certificate: `renew` refuses to re-sign
                    // its names (they were never this CA's), `add` makes a
                    // new one.
                    let fix =
                        Remedy::Command(crate::shell::milvus_certs("add", dir, &[name, "--force"]));
                    match checks::issued_by(cert, ca, &ca_name, Some(fix)) {
                        Some(f) => found.push(f),
                        None => found.extend(checks::outlives(cert, ca)),
                    }
                }
                found.extend(checks::added(cert, name, dir));
            }
            Some(CertRole::Leaf(purpose)) => {
                if let Some(ca) = &ca {
                    match checks::issued_by(
                        cert,
                        ca,
                        &ca_name,
                        Some(remedy(e.role, e.file.as_deref())),
                    ) {
                        Some(f) => found.push(f),
                        None => found.extend(checks::outlives(cert, ca)),
                    }
                }
                found.extend(checks::purpose(cert, purpose, ca_dir));
                if purpose == Role::Server {
                    found.extend(checks::names(cert, &opts.server_names, ca_dir));
                }
            }
            None => {}
        }
        e.findings.extend(found);
    }
    // ca.srl, in a CA folder.
    if kind == FolderKind::Ca {
        let srl_findings = serial_file(dir, ca.as_ref(), &issued.iter().collect::<Vec<_>>());
        if let Some(ca_entry) = entries.iter_mut().find(|e| e.role == Some(CertRole::Ca)) {
            ca_entry.findings.extend(srl_findings);
            if let Some(ca) = &ca {
                ca_entry.findings.extend(checks::ca_extensions(ca, dir));
            }
            if explicit && missing(files::CA_KEY) && ca_entry.cert.is_some() {
                ca_entry.findings.push(Finding::FileMissing {
                    file: files::CA_KEY.into(),
                    what: "the CA private key",
                    needed_by: "renewing needs it",
                });
            }
        }
    }
    report.folders.push(Folder {
        path: dir.to_path_buf(),
        kind,
        findings: folder_findings,
    });
    Ok(())
}

/// What is wrong with `ca.srl`: missing, unreadable, or behind a serial
/// the CA issued.
fn serial_file(dir: &Path, ca: Option<&CertInfo>, issued: &[&CertInfo]) -> Vec<Finding> {
    let path = dir.join(files::CA_SRL);
    let srl = match input::read_in_folder(&path, "a serial number file") {
        Ok(None) => {
            return vec![Finding::FileMissing {
                file: files::CA_SRL.into(),
                what: "the CA's last serial number",
                needed_by: "without it the next renewal starts from a random serial",
            }];
        }
        Err(e) => {
            return vec![Finding::SerialFileInvalid {
                reason: e.to_string(),
            }];
        }
        Ok(Some(bytes)) => match Serial::parse_srl(&bytes) {
            Ok(s) => s,
            Err(reason) => {
                return vec![Finding::SerialFileInvalid {
                    reason: format!("{} {reason}", path.display()),
                }];
            }
        },
    };
    ca.and_then(|ca| checks::serial(&srl, issued, ca, dir))
        .into_iter()
        .collect()
}

/// Each `*.pem|crt|cer|cert` file of a directory given as a path, read
/// only. A directory holding `ca.pem` or `server.pem` is judged as a folder
/// too, but a file its kind lacks is not reported (it was not asked for).
fn inspect_plain_dir(dir: &Path, opts: &InspectOptions, report: &mut Report) -> Result<()> {
    let listing = match fs::read_dir(dir) {
        Ok(l) => l,
        Err(e) => {
            report.entries.push(Entry::unreadable(
                dir.display().to_string(),
                None,
                not_a_certificate(Error::io("list", dir)(e)),
            ));
            return Ok(());
        }
    };
    let mut paths: Vec<PathBuf> = listing
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| CERT_ENDINGS.iter().any(|end| n.ends_with(end)))
        })
        // The trust bundle `export --s3` writes (this machine's public roots,
        // then ca.pem): its roots are not ours to judge or renew. Named on
        // the command line, it is inspected like any file.
        .filter(|p| p.file_name().and_then(|n| n.to_str()) != Some(files::CA_BUNDLE))
        .collect();
    paths.sort();
    let folder_like = paths.iter().any(|p| {
        matches!(
            role_from_name(p),
            Some(CertRole::Ca | CertRole::Leaf(Role::Server))
        )
    });
    if folder_like {
        inspect_folder(dir, opts, true, false, report)?;
        paths.retain(|p| role_from_name(p).is_none());
        report.entries.extend(inspect_files(&paths));
    } else {
        // Loose files: read only; an interrupted write here is reported.
        let mut entries = inspect_files(&paths);
        if let (Some(f), Some(first)) = (checks::pending_write(dir), entries.first_mut()) {
            first.findings.push(f);
        }
        report.entries.extend(entries);
    }
    Ok(())
}

/// Reads and parses many files on all cores, keeping their order.
fn inspect_files(paths: &[PathBuf]) -> Vec<Entry> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = paths.len().div_ceil(threads).max(64);
    std::thread::scope(|s| {
        let handles: Vec<_> = paths
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    let mut out = Vec::with_capacity(part.len());
                    for p in part {
                        inspect_file(p, &|_| role_from_name(p), false, &mut out);
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

/// Outside a folder: when any CA certificate is among the inputs, every
/// leaf must verify against one of them (by signature, not by name); and
/// the purpose checks by role.
fn check_loose_chains(entries: &mut [Entry], opts: &InspectOptions) {
    let found: Vec<Vec<Finding>> = {
        let cas: Vec<(String, &CertInfo)> = entries
            .iter()
            .filter(|e| !e.dir_checked)
            .filter_map(|e| e.cert.as_ref().map(|c| (e, c)))
            .filter(|(_, c)| c.is_ca())
            .map(|(e, c)| (e.source.clone(), c))
            .collect();
        let cas: Vec<(&str, &CertInfo)> = cas.iter().map(|(s, c)| (s.as_str(), *c)).collect();
        // `--ca FILE` applies to a folder's leaves too.
        let given: Vec<(&str, &CertInfo)> = entries
            .iter()
            .filter(|e| e.file.as_ref().is_some_and(|f| opts.ca_files.contains(f)))
            .filter_map(|e| e.cert.as_ref().map(|c| (e.source.as_str(), c)))
            .filter(|(_, c)| c.is_ca())
            .collect();
        entries
            .iter()
            .map(|e| {
                let mut f = Vec::new();
                let Some(c) = e.cert.as_ref() else {
                    return f;
                };
                if e.dir_checked {
                    let leaf = matches!(e.role, Some(CertRole::Leaf(_) | CertRole::Added(_)))
                        && !c.is_ca();
                    let chained = !e
                        .findings
                        .iter()
                        .any(|f| matches!(f, Finding::NotIssuedByCa { .. }));
                    if leaf && chained && !given.is_empty() {
                        f.extend(checks::issued_by_any(c, &given, e.remedy.clone()));
                    }
                    return f;
                }
                if !c.is_ca() && !cas.is_empty() {
                    let remedy = remedy_for(None, e.role, e.file.as_deref());
                    f.extend(checks::issued_by_any(c, &cas, Some(remedy)));
                }
                match e.role {
                    Some(CertRole::Ca) => f.extend(checks::not_a_ca(c)),
                    Some(CertRole::Leaf(purpose)) => {
                        f.extend(checks::purpose(c, purpose, None));
                        if purpose == Role::Server {
                            f.extend(checks::names(c, &opts.server_names, None));
                        }
                    }
                    Some(CertRole::Added(_)) | None => {}
                }
                f
            })
            .collect()
    };
    for (e, f) in entries.iter_mut().zip(found) {
        e.findings.extend(f);
    }
}

/// Sets days left, the validity finding and the status.
pub(crate) fn finish(e: &mut Entry, now: OffsetDateTime, warn_days: u32) {
    let Some(cert) = &e.cert else {
        e.status = Status::Invalid;
        return;
    };
    e.days_left = Some(checks::days_left(cert, now));
    let remedy = e.role.is_some().then(|| {
        e.remedy
            .clone()
            .unwrap_or_else(|| remedy_for(None, e.role, e.file.as_deref()))
    });
    if let Some(f) = checks::validity(cert, now, warn_days, remedy) {
        e.findings.insert(0, f);
    }
    e.status = if e
        .findings
        .iter()
        .any(|f| matches!(f, Finding::Expired { .. }))
    {
        Status::Expired
    } else if e
        .findings
        .iter()
        .any(|f| matches!(f, Finding::NotYetValid { .. }))
    {
        Status::NotYetValid
    } else if e.problems().next().is_some() {
        Status::Invalid
    } else if e
        .findings
        .iter()
        .any(|f| matches!(f, Finding::Expiring { .. }))
    {
        Status::Expiring
    } else {
        Status::Ok
    };
}
