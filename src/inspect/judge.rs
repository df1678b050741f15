//! Judging what was read: which of [`crate::checks`]'s rules apply to each
//! entry (by its role, in a folder or loose), how to fix what they find
//! (the `renew` command), and each entry's status, ranked from the worst
//! finding.

use std::path::Path;

use time::OffsetDateTime;

use super::{Entry, InspectOptions, Status};
use crate::certinfo::CertInfo;
use crate::checks::{self, Finding, FolderKind, FolderLeaf, FolderScope, Remedy};
use crate::files;
use crate::input;
use crate::issue::CertRole;
use crate::leaf::{Role, Target};
use crate::names::SanName;
use crate::serial::Serial;

/// The `renew` arguments that make a new `role` certificate (`file`, for
/// an added one: `--only NAME`).
fn renew_args(role: Option<CertRole>, file: Option<&Path>) -> Vec<String> {
    let v: &[&str] = match role {
        Some(CertRole::Ca) => &["--ca"],
        Some(CertRole::Leaf(r)) => &["--only", r.name()],
        Some(CertRole::Added(_)) => {
            return match added_name(file) {
                Some(n) => vec!["--only".into(), n.into()],
                None => Vec::new(),
            };
        }
        None => &[],
    };
    v.iter().map(|a| a.to_string()).collect()
}

/// The NAME of an added certificate's file `NAME.pem`.
fn added_name(file: Option<&Path>) -> Option<&str> {
    file.and_then(Path::file_name)
        .and_then(|n| n.to_str())
        .and_then(files::added_name_of_cert)
}

/// `renew` with [`renew_args`], in `ca_dir` when it is known.
fn remedy_for(ca_dir: Option<&Path>, role: Option<CertRole>, file: Option<&Path>) -> Remedy {
    let args = renew_args(role, file);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Remedy::renew(ca_dir, &args)
}

/// A folder's certificates (`entries`, all read from it; `firsts`, each
/// file's first entry with the file's name, from
/// [`super::read::folder_certificates`]) by role: each file's key, and the
/// leaves as [`FolderScope::leaf`] judges them (chain, purpose, names); the
/// CA is one; and in a CA folder, `ca.srl` is ahead of every serial issued
/// and `ca.key` is there.
pub(super) fn folder(
    scope: &FolderScope<'_>,
    firsts: &[(usize, String)],
    server_names: &[SanName],
    entries: &mut [Entry],
) {
    let (dir, ca_dir) = (scope.dir, scope.ca_dir());
    let remedy = |role: Option<CertRole>, file: Option<&Path>| remedy_for(ca_dir, role, file);
    let ca = entries
        .iter()
        .find(|e| e.role == Some(CertRole::Ca) && e.cert.is_some() && e.file.is_some())
        .and_then(|e| e.cert.clone());
    let issued: Vec<CertInfo> = entries
        .iter()
        .filter(|e| matches!(e.role, Some(CertRole::Leaf(_) | CertRole::Added(_))))
        .filter_map(|e| e.cert.clone())
        .collect();
    for (i, e) in entries.iter_mut().enumerate() {
        e.dir_checked = true;
        if e.role.is_some() {
            e.remedy = Some(remedy(e.role, e.file.as_deref()));
        }
        let Some(cert) = &e.cert else { continue };
        // The file's name, for its first certificate: its key is checked.
        let first = firsts
            .iter()
            .find(|(j, _)| *j == i)
            .map(|(_, n)| n.as_str());
        let target = match e.role {
            Some(CertRole::Leaf(role)) => Some(Target::Leaf(role)),
            Some(CertRole::Added(_)) => Some(Target::Added(
                added_name(e.file.as_deref()).unwrap_or_default().into(),
            )),
            Some(CertRole::Ca) | None => None,
        };
        let (key_encoding, found) = match &target {
            Some(target) => scope.leaf(&FolderLeaf {
                target,
                cert,
                file_encoding: first.and(e.encoding),
                ca: ca.as_ref(),
                server_names,
                renew: e.remedy.clone(),
            }),
            None => {
                // The CA's key is kept when it is renewed: nothing to run.
                let key_remedy =
                    (e.role != Some(CertRole::Ca)).then(|| remedy(e.role, e.file.as_deref()));
                let (key_encoding, mut found) = match first {
                    Some(name) => scope.key_file(name, cert, e.encoding, key_remedy),
                    None => (None, Vec::new()),
                };
                if e.role == Some(CertRole::Ca) {
                    match checks::not_a_ca(cert) {
                        Some(f) => found.push(f),
                        None if cert.issuer_raw == cert.subject_raw && !cert.is_self_signed() => {
                            found.push(Finding::BadSignature)
                        }
                        None => {}
                    }
                }
                (key_encoding, found)
            }
        };
        e.key_encoding = key_encoding;
        e.findings.extend(found);
    }
    // ca.srl, in a CA folder.
    if scope.kind == FolderKind::Ca {
        let srl_findings = serial_file(dir, ca.as_ref(), &issued.iter().collect::<Vec<_>>());
        if let Some(ca_entry) = entries.iter_mut().find(|e| e.role == Some(CertRole::Ca)) {
            ca_entry.findings.extend(srl_findings);
            if let Some(ca) = &ca {
                ca_entry.findings.extend(checks::ca_extensions(ca, dir));
            }
            if scope.explicit && scope.lacks(files::CA_KEY) && ca_entry.cert.is_some() {
                ca_entry.findings.push(Finding::FileMissing {
                    file: files::CA_KEY.into(),
                    what: "the CA private key",
                    needed_by: "renewing needs it",
                });
            }
        }
    }
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

/// Outside a folder: when any CA certificate is among the inputs, every
/// leaf must verify against one of them (by signature, not by name); and
/// the purpose checks by role.
pub(super) fn loose_chains(entries: &mut [Entry], opts: &InspectOptions) {
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
pub(super) fn finish(e: &mut Entry, now: OffsetDateTime, warn_days: u32) {
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
