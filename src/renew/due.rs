//! What `renew --if-expiring-within DAYS` renews, and why (certbot's
//! model: run daily, renew only what needs it), and what it checks first.
//!
//! A leaf is due when it expires within DAYS, or when `inspect --dir` would
//! report a problem with it in its CA folder (expired, not yet valid,
//! missing or unreadable, key mismatch, not issued by `ca.pem`, lacking its
//! purpose, DER): the same rules in the same order
//! ([`crate::checks::FolderScope::leaf`]), on the same files read as
//! [`crate::input`] reads a folder's own files.

use std::path::Path;

use time::OffsetDateTime;

use super::check_writable;
use crate::ca::LoadedCa;
use crate::certinfo::CertInfo;
use crate::checks::{self, Finding, FolderKind, FolderLeaf, FolderScope};
use crate::error::{Error, Result};
use crate::files;
use crate::input::{self, Encoding};
use crate::leaf::Target;
use crate::store::{DirLock, LOCK_WAIT};

/// A leaf that must be renewed now, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Due {
    /// Server, client, or a certificate `add` made.
    pub target: Target,
    /// Why, as a short sentence.
    pub reason: String,
}

/// A leaf that is not due yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotDue {
    /// Server, client, or a certificate `add` made.
    pub target: Target,
    /// Its notAfter.
    pub not_after: OffsetDateTime,
    /// When it becomes due: `within` days before notAfter.
    pub due_on: OffsetDateTime,
}

/// What `renew --if-expiring-within` found.
#[derive(Clone, Debug, Default)]
pub struct DueReport {
    /// Leaves to renew now.
    pub due: Vec<Due>,
    /// Leaves that are fine for now, soonest due first.
    pub not_due: Vec<NotDue>,
}

/// What `renew --if-expiring-within DAYS` checks first, due or not:
/// renewing would work (`ca.key` present, readable and `ca.pem`'s; `ca.pem`
/// a valid CA; the directory writable), and would help: a CA that itself
/// expires within DAYS caps every new leaf inside the window, so each daily
/// run would renew (and restart Milvus) again until the CA is renewed.
pub(super) fn preflight(dir: &Path, within: u32, now: OffsetDateTime) -> Result<()> {
    // What the real run's acquire_for_write refuses, refused now.
    DirLock::check_for_write(dir, LOCK_WAIT)?;
    let ca = LoadedCa::load(dir, now, true)?;
    check_writable(dir)?;
    let left = ca.cert.not_after - now;
    if left <= time::Duration::days(i64::from(within)) {
        return Err(Error::CaExpiresWithinWindow {
            dir: dir.to_path_buf(),
            days_left: left.whole_days(),
            within,
        });
    }
    Ok(())
}

/// What the leaf's file held, as far as the due decision goes.
enum Judged {
    /// No such leaf among those the folder is judged for (an added NAME
    /// that [`crate::issue::added_names`] does not list).
    Unknown,
    /// No certificate could be read: why.
    Unreadable(Finding),
    /// The certificate, and the problems found with it and its key.
    Read(Box<CertInfo>, Vec<Finding>),
}

/// The first certificate of `path` (a folder's own file, PEM or DER) and
/// how the file was encoded, or the finding that says why there is none.
fn read_first(path: &Path) -> std::result::Result<(CertInfo, Encoding), Finding> {
    let unreadable = |reason: String| Finding::NotACertificate { reason };
    let bytes = match input::read_in_folder(path, "a PEM certificate") {
        Ok(Some(b)) => b,
        Ok(None) => return Err(unreadable(format!("{} does not exist", path.display()))),
        Err(e) => return Err(unreadable(e.without_fix())),
    };
    let (ders, encoding) =
        input::parse_certificates_or_der(path, &bytes).map_err(|e| unreadable(e.without_fix()))?;
    let first = ders
        .first()
        .ok_or_else(|| unreadable(format!("{} holds no certificate", path.display())))?;
    CertInfo::from_der(first)
        .map(|c| (c, encoding))
        .map_err(|reason| unreadable(Error::bad_file(path, "a certificate", reason).without_fix()))
}

/// Reads `target` in the CA folder `dir` and finds its problems with the
/// rules `inspect --dir` applies to it, in its order
/// ([`FolderScope::leaf`]): the first problem is the reason given.
/// Warnings (a key readable by others, a leaf outliving its CA) never make
/// a leaf due.
fn judge(dir: &Path, target: &Target, ca: Option<&CertInfo>, added: &[String]) -> Judged {
    // As `inspect --dir` judges a CA folder with no `--mode`: tlsMode 2,
    // the client files needed.
    let scope = FolderScope {
        dir,
        kind: FolderKind::Ca,
        one_way: false,
        explicit: true,
    };
    let file = target.cert_file();
    if scope.lacks(&file) {
        // server.pem and client.pem are needed (file_missing); a missing
        // added NAME.pem cannot be judged.
        return scope
            .missing(&file)
            .map_or(Judged::Unknown, Judged::Unreadable);
    }
    if let Target::Added(name) = target
        && !added.contains(name)
    {
        return Judged::Unknown;
    }
    let (cert, encoding) = match read_first(&dir.join(&file)) {
        Ok(read) => read,
        Err(f) => return Judged::Unreadable(f),
    };
    let (_, found) = scope.leaf(&FolderLeaf {
        target,
        cert: &cert,
        file_encoding: Some(encoding),
        ca,
        server_names: &[],
        renew: None,
    });
    Judged::Read(Box::new(cert), found)
}

/// Which of `candidates` are due at `now`: those expiring within `within`
/// days, and (the same checks as `inspect`) any that is expired, not yet
/// valid, missing, mismatched with its key, not issued by `ca.pem`, or
/// lacking its purpose. `dir` is a CA folder ([`preflight`] found its
/// `ca.key`). With `read_only`, an interrupted write is left alone.
pub(super) fn due(
    dir: &Path,
    within: u32,
    candidates: &[Target],
    now: OffsetDateTime,
    read_only: bool,
) -> Result<DueReport> {
    // Locked while reading: a renew running now must not be seen half-way
    // (a new key next to the old certificate between two renames). A real
    // run completes an interrupted write first; one not safe to touch is
    // left for the renewal to refuse.
    let _lock = if read_only {
        DirLock::lock_only(dir, LOCK_WAIT)?
    } else {
        DirLock::acquire_read(dir, LOCK_WAIT)?.0
    };
    let added = crate::issue::added_names(dir);
    let ca = read_first(&dir.join(files::CA_PEM)).ok().map(|(c, _)| c);
    let mut out = DueReport::default();
    for target in candidates {
        let reason = match judge(dir, target, ca.as_ref(), &added) {
            // Never silently skipped: what cannot be judged is renewed.
            Judged::Unknown => format!("{} could not be inspected", target.cert_file()),
            Judged::Unreadable(finding) => finding.to_string(),
            Judged::Read(cert, found) => {
                let validity = checks::validity(&cert, now, within, None);
                let first_problem = validity.iter().chain(&found).find(|f| f.is_problem());
                match (first_problem, &validity) {
                    (Some(problem), _) => problem.to_string(),
                    (None, Some(Finding::Expiring { .. })) => format!(
                        "it expires in {} days, within {within}",
                        checks::days_left(&cert, now)
                    ),
                    (None, _) => {
                        out.not_due.push(NotDue {
                            target: target.clone(),
                            not_after: cert.not_after,
                            due_on: cert.not_after - time::Duration::days(i64::from(within)),
                        });
                        continue;
                    }
                }
            }
        };
        out.due.push(Due {
            target: target.clone(),
            reason,
        });
    }
    out.not_due.sort_by_key(|n| n.due_on);
    Ok(out)
}
