//! The `--json` documents of `inspect` and `doctor`. These types are the
//! schema that docs/reference.md documents: a field added here is added to
//! the documents.
//!
//! Fields are declared in alphabetical order because that is the order the
//! documents have always had (they were built as serde_json maps, which sort
//! their keys), and scripts may diff them.

use milvus_certs::doctor;
use milvus_certs::inspect::{ClientAuth, Entry, Folder, Report};
use milvus_certs::{ExtKeyUsage, Finding};
use serde::Serialize;
use time::OffsetDateTime;

/// `inspect --json`.
#[derive(Serialize)]
pub(super) struct InspectDoc<'a> {
    certificates: Vec<CertificateDoc<'a>>,
    folders: Vec<FolderDoc>,
    /// `ok | expiring | problem`.
    status: &'static str,
    /// The sentence the text output ends with.
    summary: String,
    warn_days: u32,
}

/// One input of `inspect`; the certificate's fields are null (lists empty)
/// when it holds no readable certificate.
#[derive(Serialize)]
struct CertificateDoc<'a> {
    /// `accepted | rejected | not_given`, null without `--connect`.
    client_certificate: Option<&'static str>,
    days_left: Option<i64>,
    /// `pem | der`, null for a live endpoint.
    encoding: Option<String>,
    ext_key_usage: Vec<&'a str>,
    issuer: Option<&'a str>,
    key: Option<&'a str>,
    /// `pem | der`, null outside a certificate directory.
    key_encoding: Option<String>,
    key_usage: Vec<&'a str>,
    not_after: Option<String>,
    not_before: Option<String>,
    problems: Vec<FindingDoc>,
    role: &'static str,
    sans: Vec<String>,
    /// Uppercase hex, as in ca.srl.
    serial: Option<String>,
    source: &'a str,
    status: &'static str,
    subject: Option<&'a str>,
    warnings: Vec<FindingDoc>,
}

/// A folder `inspect` judged as a whole.
#[derive(Serialize)]
struct FolderDoc {
    /// `ca | server | client`.
    kind: &'static str,
    path: String,
    problems: Vec<FindingDoc>,
    warnings: Vec<FindingDoc>,
}

/// A problem or warning of `inspect`.
#[derive(Serialize)]
struct FindingDoc {
    /// A finding code (docs/reference.md, "Finding codes").
    code: &'static str,
    /// Null when there is nothing to run.
    fix: Option<String>,
    message: String,
}

/// `doctor --json`.
#[derive(Serialize)]
pub(super) struct DoctorDoc<'a> {
    files: Vec<ConfigFileDoc>,
    problems: Vec<DoctorFindingDoc<'a>>,
    /// `ok | warning | problem`.
    status: &'static str,
    warnings: Vec<DoctorFindingDoc<'a>>,
}

/// A configuration `doctor` read.
#[derive(Serialize)]
struct ConfigFileDoc {
    path: String,
    /// `milvus-config | helm | operator | compose`.
    shape: &'static str,
}

/// A finding of `doctor`: `inspect`'s fields and where.
#[derive(Serialize)]
struct DoctorFindingDoc<'a> {
    code: &'static str,
    file: String,
    fix: Option<String>,
    /// The dotted key path; empty for a file found through `--dir`.
    key: &'a str,
    /// Null for a key that is not written (a default Milvus applies).
    line: Option<usize>,
    message: String,
}

impl<'a> InspectDoc<'a> {
    pub(super) fn new(r: &'a Report) -> InspectDoc<'a> {
        InspectDoc {
            certificates: r.entries.iter().map(CertificateDoc::new).collect(),
            folders: r.folders.iter().map(FolderDoc::new).collect(),
            status: r.overall().name(),
            summary: super::inspect::summary(r),
            warn_days: r.warn_days,
        }
    }
}

impl<'a> CertificateDoc<'a> {
    fn new(e: &'a Entry) -> CertificateDoc<'a> {
        let c = e.cert.as_ref();
        CertificateDoc {
            client_certificate: e.client_auth.as_ref().map(|a| match a {
                ClientAuth::Accepted(_) => "accepted",
                ClientAuth::Rejected(_) => "rejected",
                ClientAuth::NotGiven => "not_given",
            }),
            days_left: e.days_left,
            encoding: e.encoding.map(|x| x.name().to_ascii_lowercase()),
            ext_key_usage: names(
                c.and_then(|c| c.ext_key_usage.as_deref()),
                ExtKeyUsage::name,
            ),
            issuer: c.map(|c| c.issuer.as_str()),
            key: c.map(|c| c.key.as_str()),
            key_encoding: e.key_encoding.map(|x| x.name().to_ascii_lowercase()),
            key_usage: names(c.and_then(|c| c.key_usage.as_deref()), |u| u.name()),
            not_after: c.map(|c| rfc3339(c.not_after)),
            not_before: c.map(|c| rfc3339(c.not_before)),
            problems: FindingDoc::list(&e.findings, true),
            role: e.role_name(),
            sans: c
                .map(|c| {
                    c.sans
                        .iter()
                        .map(|n| n.to_string())
                        .chain(c.other_sans.iter().cloned())
                        .collect()
                })
                .unwrap_or_default(),
            serial: c.map(|c| c.serial.to_string()),
            source: &e.source,
            status: e.status.name(),
            subject: c.map(|c| c.subject.as_str()),
            warnings: FindingDoc::list(&e.findings, false),
        }
    }
}

impl FolderDoc {
    fn new(f: &Folder) -> FolderDoc {
        FolderDoc {
            kind: f.kind.name(),
            path: f.path.display().to_string(),
            problems: FindingDoc::list(&f.findings, true),
            warnings: FindingDoc::list(&f.findings, false),
        }
    }
}

impl FindingDoc {
    /// The problems (or the warnings) among `findings`.
    fn list(findings: &[Finding], problems: bool) -> Vec<FindingDoc> {
        findings
            .iter()
            .filter(|f| f.is_problem() == problems)
            .map(|f| FindingDoc {
                code: f.code(),
                fix: f.fix(),
                message: f.to_string(),
            })
            .collect()
    }
}

impl<'a> DoctorDoc<'a> {
    pub(super) fn new(r: &'a doctor::Report) -> DoctorDoc<'a> {
        let list = |problems: bool| {
            r.findings
                .iter()
                .filter(|f| f.finding.is_problem() == problems)
                .map(|f| DoctorFindingDoc {
                    code: f.finding.code(),
                    file: f.at.file.display().to_string(),
                    fix: f.finding.fix(),
                    key: &f.at.key,
                    line: f.at.line,
                    message: f.finding.to_string(),
                })
                .collect()
        };
        DoctorDoc {
            files: r
                .files
                .iter()
                .map(|(p, s)| ConfigFileDoc {
                    path: p.display().to_string(),
                    shape: s.name(),
                })
                .collect(),
            problems: list(true),
            status: r.worst().map_or("ok", |s| s.name()),
            warnings: list(false),
        }
    }
}

/// The names of a certificate's usages; none when the extension is absent.
fn names<'a, U>(usages: Option<&'a [U]>, name: impl Fn(&'a U) -> &'a str) -> Vec<&'a str> {
    usages.unwrap_or_default().iter().map(name).collect()
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
