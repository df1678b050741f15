//! `milvus-certs inspect`: is this TLS setup healthy, and when must it be
//! renewed? Checks files (the seven of a certificate directory, or any PEM
//! files and directories) and, in `connect`, live servers.
//!
//! Every file is read once and parsed once. Nothing here panics on input:
//! what cannot be read becomes an entry with status `invalid` and a reason.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use time::{Duration, OffsetDateTime};

use crate::ca::not_ca_reason;
use crate::certinfo::CertInfo;
use crate::error::{Error, Result};
use crate::files;
use crate::input;
use crate::input::Encoding;
use crate::keys::parse_private_key_or_der;
use crate::names::SanName;
use crate::serial::Serial;
use crate::store::{DirLock, LOCK_WAIT, Recovery};

/// What a certificate is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// A CA certificate (`ca.pem`, or basicConstraints CA:TRUE).
    Ca,
    /// Milvus's certificate (`server.pem`, or serverAuth only).
    Server,
    /// A client certificate (`client.pem`, or clientAuth only).
    Client,
    /// Anything else.
    Other,
}

impl Role {
    /// `ca`, `server`, `client` or `other`.
    pub fn name(self) -> &'static str {
        match self {
            Role::Ca => "ca",
            Role::Server => "server",
            Role::Client => "client",
            Role::Other => "other",
        }
    }
}

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

/// One inspected certificate (or a file that should have held one).
#[derive(Clone, Debug)]
pub struct Entry {
    /// The file (or `host:port`) it came from, with `#N` for the Nth
    /// certificate of a bundle.
    pub source: String,
    /// The file it came from (None for a live endpoint).
    pub file: Option<PathBuf>,
    /// What it is for.
    pub role: Role,
    /// The certificate, when one could be read.
    pub cert: Option<CertInfo>,
    /// Days until notAfter (negative once expired), rounded down.
    pub days_left: Option<i64>,
    /// The verdict.
    pub status: Status,
    /// Why it is not ok, as short sentences.
    pub problems: Vec<String>,
    /// Things worth knowing that are not problems.
    pub warnings: Vec<String>,
    /// How the certificate's file was encoded (None for a live endpoint).
    pub encoding: Option<Encoding>,
    /// In a certificate directory: how the certificate's key file was encoded.
    pub key_encoding: Option<Encoding>,
    /// Checked as part of a certificate directory (chain, keys, purposes).
    dir_checked: bool,
}

impl Entry {
    pub(crate) fn unreadable(source: String, role: Role, problem: String) -> Entry {
        Entry {
            source,
            file: None,
            role,
            cert: None,
            days_left: None,
            status: Status::Invalid,
            problems: vec![problem],
            warnings: Vec::new(),
            encoding: None,
            key_encoding: None,
            dir_checked: false,
        }
    }

    pub(crate) fn of(source: String, role: Role, cert: CertInfo) -> Entry {
        Entry {
            source,
            file: None,
            role,
            cert: Some(cert),
            days_left: None,
            status: Status::Ok,
            problems: Vec::new(),
            warnings: Vec::new(),
            encoding: None,
            key_encoding: None,
            dir_checked: false,
        }
    }
}

/// The result of an inspection.
#[derive(Clone, Debug)]
pub struct Report {
    /// Every certificate, in the order inspected.
    pub entries: Vec<Entry>,
    /// What was done about interrupted writes found in inspected directories.
    pub recoveries: Vec<(PathBuf, Recovery)>,
    /// The warning period used, in days.
    pub warn_days: u32,
}

impl Report {
    /// The overall verdict.
    pub fn overall(&self) -> Overall {
        let left_alone = self
            .recoveries
            .iter()
            .any(|(_, r)| matches!(r, Recovery::LeftAlone { .. }));
        if left_alone || self.entries.iter().any(|e| e.status.is_problem()) {
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
    /// A certificate directory: its seven files are checked together.
    pub dir: Option<PathBuf>,
    /// Files and directories to inspect. With neither `dir` nor `paths`, the
    /// current directory is inspected as a certificate directory.
    pub paths: Vec<PathBuf>,
    /// Certificates expiring within this many days are `expiring`.
    pub warn_days: u32,
    /// Names clients use to reach the server; each must match a SAN of
    /// `server.pem` (IP names against IP SANs).
    pub server_names: Vec<SanName>,
    /// Change nothing: leave an interrupted write for the next real command.
    pub read_only: bool,
}

/// File endings inspected in a directory given as a path.
const CERT_ENDINGS: [&str; 5] = [".pem", ".crt", ".cer", ".cert", ".der"];

/// Inspects files at `now`.
pub fn inspect(opts: &InspectOptions, now: OffsetDateTime) -> Result<Report> {
    let mut report = Report {
        entries: Vec::new(),
        recoveries: Vec::new(),
        warn_days: opts.warn_days,
    };
    let seven_dir = match (&opts.dir, opts.paths.is_empty()) {
        (Some(d), _) => Some(d.clone()),
        (None, true) => Some(PathBuf::from(".")),
        (None, false) => None,
    };
    if let Some(dir) = &seven_dir {
        inspect_cert_dir(dir, opts, &mut report)?;
    }
    for path in &opts.paths {
        if path.is_dir() {
            if seven_dir.as_deref() == Some(path.as_path()) {
                continue;
            }
            inspect_plain_dir(path, opts, &mut report)?;
        } else {
            // A loose file: read only. Its folder is not ours to change
            // (an interrupted write there is for `inspect --dir` or the next
            // command that writes).
            inspect_file(path, role_from_name(path), &mut report.entries);
        }
    }
    check_loose_chains(&mut report.entries, opts);
    for e in &mut report.entries {
        finish(e, now, opts.warn_days);
    }
    Ok(report)
}

fn role_from_name(path: &Path) -> Option<Role> {
    match path.file_name()?.to_str()? {
        files::CA_PEM => Some(Role::Ca),
        files::SERVER_PEM => Some(Role::Server),
        files::CLIENT_PEM => Some(Role::Client),
        _ => None,
    }
}

pub(crate) fn role_from_content(c: &CertInfo) -> Role {
    if c.is_ca() {
        return Role::Ca;
    }
    match c.ext_key_usage.as_deref() {
        Some([u]) if u == "serverAuth" => Role::Server,
        Some([u]) if u == "clientAuth" => Role::Client,
        _ => Role::Other,
    }
}

/// Reads one file: one entry per certificate, or one `invalid` entry.
fn inspect_file(path: &Path, role: Option<Role>, out: &mut Vec<Entry>) {
    let first = out.len();
    read_entries(path, role, out);
    for e in &mut out[first..] {
        e.file = Some(path.to_path_buf());
    }
}

fn read_entries(path: &Path, role: Option<Role>, out: &mut Vec<Entry>) {
    let source = path.display().to_string();
    let fallback_role = role.unwrap_or(Role::Other);
    let bytes = match input::read_optional(path, "a PEM certificate") {
        Ok(Some(b)) => b,
        Ok(None) => {
            out.push(Entry::unreadable(
                source,
                fallback_role,
                "the file does not exist".into(),
            ));
            return;
        }
        Err(e) => {
            out.push(Entry::unreadable(source, fallback_role, e.to_string()));
            return;
        }
    };
    let (ders, encoding) = match input::parse_certificates_or_der(path, &bytes) {
        Ok(d) => d,
        Err(e) => {
            out.push(Entry::unreadable(source, fallback_role, e.to_string()));
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
                let role = match role {
                    Some(r) if i == 0 => r,
                    _ => role_from_content(&cert),
                };
                let mut entry = Entry::of(src, role, cert);
                entry.encoding = Some(encoding);
                out.push(entry);
            }
            Err(reason) => out.push(Entry::unreadable(
                src,
                fallback_role,
                Error::bad_file(path, "a certificate", reason).to_string(),
            )),
        }
    }
}

/// The guide's seven files, checked together.
fn inspect_cert_dir(dir: &Path, opts: &InspectOptions, report: &mut Report) -> Result<()> {
    // Always locked: a renew running now must not be seen half-way (a new
    // key next to the old certificate between two renames).
    let _lock = if opts.read_only {
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
    let start = report.entries.len();
    for (name, role) in [
        (files::CA_PEM, Role::Ca),
        (files::SERVER_PEM, Role::Server),
        (files::CLIENT_PEM, Role::Client),
    ] {
        let path = dir.join(name);
        let before = report.entries.len();
        if !path.exists() && fs::symlink_metadata(&path).is_err() {
            let mut missing = Entry::unreadable(
                path.display().to_string(),
                role,
                format!("{name} is missing"),
            );
            missing.file = Some(path);
            report.entries.push(missing);
            continue;
        }
        inspect_file(&path, Some(role), &mut report.entries);
        // The first certificate of the file is the one that matters; the rest
        // of a bundle is reported as found.
        if let Some(e) = report.entries.get_mut(before) {
            check_key(dir, name, e);
            der_problems(dir, name, e);
        }
    }
    let entries = &mut report.entries[start..];
    let ca_cert = entries
        .iter()
        .find(|e| e.role == Role::Ca)
        .and_then(|e| e.cert.clone());
    let (found, srl_problem) = {
        let ca = entries
            .iter()
            .find(|e| e.role == Role::Ca && e.cert.is_some())
            .and_then(|e| e.cert.as_ref());
        let check = IssuerCheck::DirCa(ca);
        let found: Vec<Option<Findings>> = entries
            .iter()
            .map(|e| e.cert.as_ref().map(|c| findings(e.role, c, &check, opts)))
            .collect();
        (found, serial_file_problem(dir, entries, ca))
    };
    for (e, f) in entries.iter_mut().zip(found) {
        e.dir_checked = true;
        e.add(f);
    }
    if let (Some(w), Some(ca_entry)) = (
        ca_cert.as_ref().and_then(|c| ca_repair_warning(dir, c)),
        entries.iter_mut().find(|e| e.role == Role::Ca),
    ) {
        ca_entry.warnings.push(w);
    }
    if let (Some(problem), Some(ca_entry)) =
        (srl_problem, entries.iter_mut().find(|e| e.role == Role::Ca))
    {
        ca_entry.problems.push(problem);
    }
    Ok(())
}

/// A CA the guide's gen.sh made has no keyUsage (`openssl req -x509` adds
/// none): strict verifiers such as `openssl verify -x509_strict` refuse the
/// chain ("CA cert does not include key usage extension"). `renew --ca`
/// adds it (and a missing subjectKeyIdentifier) with the same key and
/// subject, so this points there, with `--dir` when it is not the current
/// directory.
fn ca_repair_warning(dir: &Path, ca: &CertInfo) -> Option<String> {
    if !ca.is_ca() || not_ca_reason(ca).is_some() {
        return None;
    }
    let missing: Vec<&str> = [
        ("keyUsage", ca.key_usage.is_none()),
        ("subjectKeyIdentifier", ca.ski.is_none()),
    ]
    .into_iter()
    .filter_map(|(name, lacks)| lacks.then_some(name))
    .collect();
    if missing.is_empty() {
        return None;
    }
    let dir_arg = if dir == Path::new(".") || dir.as_os_str().is_empty() {
        String::new()
    } else {
        format!(
            " --dir {}",
            crate::schedule::sh_word(&dir.display().to_string())
        )
    };
    Some(format!(
        "it has no {} (as the guide's gen.sh makes it): strict verifiers such as \
         `openssl verify -x509_strict` refuse the certificates it issued; add {} with \
         `milvus-certs renew --ca{dir_arg}` (same key and subject: issued certificates stay valid)",
        missing.join(" and no "),
        if missing.len() == 1 { "it" } else { "them" },
    ))
}

/// Each `*.pem|crt|cer|cert` file of a directory given as a path.
fn inspect_plain_dir(dir: &Path, opts: &InspectOptions, report: &mut Report) -> Result<()> {
    let listing = match fs::read_dir(dir) {
        Ok(l) => l,
        Err(e) => {
            report.entries.push(Entry::unreadable(
                dir.display().to_string(),
                Role::Other,
                format!("cannot list {}: {e}", dir.display()),
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
        .collect();
    paths.sort();
    let holds_the_seven = paths.iter().any(|p| role_from_name(p) == Some(Role::Ca));
    if holds_the_seven {
        // A certificate directory among the paths: the full checks, but a
        // missing one of the seven is not reported (it was not asked for).
        let mut sub = Report {
            entries: Vec::new(),
            recoveries: Vec::new(),
            warn_days: opts.warn_days,
        };
        inspect_cert_dir(dir, opts, &mut sub)?;
        sub.entries
            .retain(|e| e.cert.is_some() || !e.problems.iter().any(|p| p.ends_with(" is missing")));
        report.entries.extend(sub.entries);
        report.recoveries.extend(sub.recoveries);
        paths.retain(|p| role_from_name(p).is_none());
        report.entries.extend(inspect_files(&paths));
    } else {
        // Loose files: read only.
        report.entries.extend(inspect_files(&paths));
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
                        inspect_file(p, role_from_name(p), &mut out);
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

/// `ca.key`/`server.key`/`client.key` must belong to the certificate.
fn check_key(dir: &Path, cert_name: &str, e: &mut Entry) {
    let key_name = cert_name.replace(".pem", ".key");
    let path = dir.join(&key_name);
    let Some(cert) = &e.cert else { return };
    match input::read_optional(&path, "a PEM private key") {
        Ok(None) => e.problems.push(format!("{key_name} is missing")),
        Err(err) => e.problems.push(err.to_string()),
        Ok(Some(bytes)) => match parse_private_key_or_der(&path, &bytes) {
            Err(err) => e.problems.push(err.to_string()),
            Ok((key, encoding)) => {
                e.key_encoding = Some(encoding);
                if key.public_key_raw() != cert.public_key_bits.as_slice() {
                    e.problems.push(format!(
                        "{key_name} does not belong to this certificate: the key and certificate do not match; \
                         restore the matching key{}",
                        crate::error::earlier_copy(&path)
                    ));
                }
            }
        },
    }
}

/// Milvus (Go crypto/tls: "failed to find any PEM data") and its clients
/// (grpc, Python's ssl) read the certificate directory's files as PEM only;
/// `ca.key` is read by milvus-certs and OpenSSL alone. So in a certificate
/// directory a DER file that Milvus or a client loads is a problem, with
/// the command that converts it (to a new file first: a half-written key
/// must never replace the old one, and a new key file must be 0600).
fn der_problems(dir: &Path, cert_name: &str, e: &mut Entry) {
    let key_name = cert_name.replace(".pem", ".key");
    let key_read_by_milvus = cert_name != files::CA_PEM;
    let why = "but Milvus and its clients read PEM only (Go's crypto/tls fails with \
               \"failed to find any PEM data\")";
    if e.encoding == Some(Encoding::Der) {
        let fix = input::der_to_pem(&dir.join(cert_name), false);
        e.problems
            .push(format!("{cert_name} is DER (binary), {why}; {fix}"));
    }
    if key_read_by_milvus && e.key_encoding == Some(Encoding::Der) {
        let fix = input::der_to_pem(&dir.join(&key_name), true);
        e.problems
            .push(format!("{key_name} is DER (binary), {why}; {fix}"));
    }
}

/// Problems and warnings found about one certificate.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    pub(crate) problems: Vec<String>,
    pub(crate) warnings: Vec<String>,
}

impl Entry {
    pub(crate) fn add(&mut self, f: Option<Findings>) {
        if let Some(f) = f {
            self.problems.extend(f.problems);
            self.warnings.extend(f.warnings);
        }
    }
}

/// How a certificate's issuer is checked.
enum IssuerCheck<'a> {
    /// In a certificate directory: leaves must be issued by `ca.pem` (when
    /// it could be read), and `ca.pem` must verify its own signature.
    DirCa(Option<&'a CertInfo>),
    /// Elsewhere: a certificate whose issuer is among the inspected CA
    /// certificates (by subject) must verify against one of them.
    Known(&'a HashMap<&'a [u8], Vec<&'a CertInfo>>),
}

/// Every check of one certificate that does not read another file.
fn findings(
    role: Role,
    cert: &CertInfo,
    issuer: &IssuerCheck<'_>,
    opts: &InspectOptions,
) -> Findings {
    let mut f = Findings::default();
    let leaf = matches!(role, Role::Server | Role::Client);
    match issuer {
        IssuerCheck::DirCa(Some(ca)) if leaf => {
            if cert.issuer_raw != ca.subject_raw {
                f.problems.push(format!(
                    "it was not issued by ca.pem (its issuer is {}): clients trusting ca.pem fail with \"unknown authority\"; \
                     run `milvus-certs renew` to issue it from ca.pem",
                    cert.issuer
                ));
            } else if !cert.signed_by(ca) {
                f.problems.push(
                    "its signature does not verify with ca.pem's key: clients trusting ca.pem fail with \"unknown authority\"; \
                     run `milvus-certs renew` to issue it from ca.pem".into(),
                );
            } else if cert.not_after > ca.not_after {
                f.warnings.push(format!(
                    "it outlives its CA (ca.pem expires {}): it stops working then",
                    crate::validity::date(ca.not_after)
                ));
            }
        }
        IssuerCheck::Known(cas) if cert.issuer_raw != cert.subject_raw => {
            let bad = cas
                .get(cert.issuer_raw.as_slice())
                .is_some_and(|issuers| !issuers.iter().any(|ca| cert.signed_by(ca)));
            if bad {
                f.problems.push(format!(
                    "its signature does not verify with its issuer's key ({}); restore a good copy",
                    cert.issuer
                ));
            }
        }
        _ => {}
    }
    match role {
        Role::Ca => {
            if let Some(reason) = not_ca_reason(cert) {
                f.problems.push(format!(
                    "it is not a CA certificate: {reason}; point --dir at the directory made by \
                         `milvus-certs gen` or the guide's gen.sh"
                ));
            } else if matches!(issuer, IssuerCheck::DirCa(_))
                && cert.issuer_raw == cert.subject_raw
                && !cert.is_self_signed()
            {
                f.problems
                    .push("its self-signature does not verify; restore a good copy".into());
            }
        }
        Role::Server | Role::Client => {
            if cert.is_ca() {
                f.problems
                    .push("it is a CA certificate (basicConstraints CA:TRUE), not a leaf; run `milvus-certs renew` to make the leaf".into());
            }
            if role == Role::Server {
                if !cert.allows_eku("serverAuth") {
                    f.problems.push(
                        "its extendedKeyUsage lacks serverAuth: clients reject it as a server certificate; \
                         run `milvus-certs renew --only server`".into(),
                    );
                }
                f.problems.extend(name_problems(cert, &opts.server_names));
            } else if !cert.allows_eku("clientAuth") {
                f.problems.push(
                    "Milvus tlsMode 2 rejects this client certificate: its extendedKeyUsage lacks clientAuth; \
                     run `milvus-certs renew --only client`".into(),
                );
            }
        }
        Role::Other => {}
    }
    f
}

/// A problem for each of `names` that no subjectAltName of `cert` matches,
/// worded as the clients' errors read.
pub(crate) fn name_problems(cert: &CertInfo, names: &[SanName]) -> Vec<String> {
    let mut problems = Vec::new();
    for name in names.iter().filter(|n| !cert.matches_name(n)) {
        let no_ip_sans = !cert.sans.iter().any(|s| matches!(s, SanName::Ip(_)));
        problems.push(match name {
            SanName::Ip(_) if no_ip_sans => format!(
                "no subjectAltName matches {name}: it has no IP SANs (clients fail with \"doesn't contain any IP SANs\"); add it with `milvus-certs renew --san {name}`"
            ),
            _ => {
                let has: Vec<String> = cert.sans.iter().map(|s| s.to_string()).collect();
                let valid_for = if has.is_empty() { "no names".to_string() } else { has.join(", ") };
                format!(
                    "no subjectAltName matches {name}: clients fail with \"certificate is valid for {valid_for}, not {name}\"; add it with `milvus-certs renew --san {name}`"
                )
            }
        });
    }
    problems
}

/// What is wrong with `ca.srl`, if anything: it must parse and not be below
/// a serial the CA issued.
fn serial_file_problem(dir: &Path, entries: &[Entry], ca: Option<&CertInfo>) -> Option<String> {
    let path = dir.join(files::CA_SRL);
    let srl = match input::read_optional(&path, "a serial number file") {
        Ok(None) => {
            return Some("ca.srl is missing: the next renewal starts from a random serial".into());
        }
        Err(e) => return Some(e.to_string()),
        Ok(Some(bytes)) => match Serial::parse_srl(&bytes) {
            Ok(s) => s,
            Err(reason) => return Some(Error::BadSerialFile { path, reason }.to_string()),
        },
    };
    let ca = ca?;
    let highest = entries
        .iter()
        .filter(|e| matches!(e.role, Role::Server | Role::Client))
        .filter_map(|e| e.cert.as_ref())
        .filter(|c| c.issuer_raw == ca.subject_raw)
        .map(|c| &c.serial)
        .max()?;
    (*highest > srl).then(|| {
        format!(
            "ca.srl ({srl}) is below the serial {highest} already issued; run `milvus-certs renew`, \
             which continues after {highest} (the guide's renew.sh would reuse a serial)"
        )
    })
}

/// Outside a certificate directory: the issuer lookup among the inspected
/// CA certificates, and the purpose checks by role.
fn check_loose_chains(entries: &mut [Entry], opts: &InspectOptions) {
    let found: Vec<Option<Findings>> = {
        // CA certificates by subject, so finding an issuer is one lookup.
        let mut cas: HashMap<&[u8], Vec<&CertInfo>> = HashMap::new();
        for c in entries
            .iter()
            .filter_map(|e| e.cert.as_ref())
            .filter(|c| c.is_ca())
        {
            cas.entry(c.subject_raw.as_slice()).or_default().push(c);
        }
        let check = IssuerCheck::Known(&cas);
        entries
            .iter()
            .map(|e| match &e.cert {
                Some(c) if !e.dir_checked => Some(findings(e.role, c, &check, opts)),
                _ => None,
            })
            .collect()
    };
    for (e, f) in entries.iter_mut().zip(found) {
        e.add(f);
    }
}

/// Sets days left and the status from the time checks and the problems.
pub(crate) fn finish(e: &mut Entry, now: OffsetDateTime, warn_days: u32) {
    let Some(cert) = &e.cert else {
        e.status = Status::Invalid;
        return;
    };
    let left = cert.not_after - now;
    e.days_left = Some(left.whole_seconds().div_euclid(86400));
    e.status = if now > cert.not_after {
        let fix = match e.role {
            Role::Ca => "renew it with `milvus-certs renew --ca`",
            Role::Server | Role::Client => "run `milvus-certs renew`",
            Role::Other => "replace it",
        };
        e.problems.insert(
            0,
            format!(
                "it expired on {}; {fix}",
                crate::validity::date(cert.not_after)
            ),
        );
        Status::Expired
    } else if now < cert.not_before {
        e.problems.insert(
            0,
            format!(
                "it is not valid until {}; check this machine's clock",
                crate::validity::date(cert.not_before)
            ),
        );
        Status::NotYetValid
    } else if !e.problems.is_empty() {
        Status::Invalid
    } else if left < Duration::days(i64::from(warn_days)) {
        Status::Expiring
    } else {
        Status::Ok
    };
}
