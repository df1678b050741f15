//! `milvus-certs renew`: new server and client keys and certificates from the
//! existing CA (the guide's `renew.sh`), and `renew --ca`: the CA certificate
//! re-signed with its own key. [`run`] is the command: with
//! `--if-expiring-within` it renews only what is due, and says why.
//!
//! - `leaves`: renewing server.pem, client.pem and the certificates `add` made.
//! - `ca`: `renew --ca`.
//! - `due`: what `--if-expiring-within` renews and why, and what it checks first.
//! - `hook`: the `--then` command run after a renewal.

use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use crate::ca::LoadedCa;
use crate::certinfo::CertInfo;
use crate::error::{Error, Result};
use crate::input::Encoding;
use crate::issue::{Issued, SerialSource};
use crate::leaf::Role;
use crate::serial::Serial;
use crate::store::{DirLock, LOCK_WAIT, Recovery};

mod ca;
mod due;
mod hook;
mod leaves;

pub use ca::RenewCaOptions;
pub use due::{Due, DueReport, NotDue};
pub use hook::{HookFailed, HookOutcome, check_hook, run_after};
pub use leaves::RenewOptions;

use ca::renew_ca;
use due::{due, preflight};
use leaves::renew;

/// One renewed certificate.
#[derive(Clone, Debug)]
pub struct Renewed {
    /// The new certificate.
    pub new: Issued,
    /// The notAfter of the certificate it replaced (None if there was none).
    pub old_not_after: Option<OffsetDateTime>,
}

/// What `renew` (or `renew --ca`) did.
#[derive(Clone, Debug)]
pub struct RenewReport {
    /// The certificate directory.
    pub dir: PathBuf,
    /// What was done about a write an earlier run left unfinished.
    pub recovery: Option<Recovery>,
    /// Where the replaced files were kept.
    pub backup: Option<PathBuf>,
    /// Nothing was written: a dry run.
    pub dry_run: bool,
    /// The renewed certificates.
    pub renewed: Vec<Renewed>,
    /// Where the serials came from.
    pub serial_source: SerialSource,
    /// The serial written to `ca.srl`.
    pub last_serial: Serial,
    /// Things the user should know (shown with a `warning:` prefix).
    pub warnings: Vec<String>,
    /// With `--ca`: extensions the old CA lacked and the re-signed one has
    /// (see `LoadedCa::repairs`).
    pub ca_added: Vec<String>,
}

/// Says which files were read as DER and what becomes of them: the files
/// renew writes are PEM; a DER file it leaves in place stays DER, and Milvus
/// and its clients read PEM only.
fn der_notes(
    ca: &LoadedCa,
    leaves: &[Option<(CertInfo, Encoding)>],
    rewrites_ca: bool,
) -> Vec<String> {
    let mut notes = Vec::new();
    if ca.cert_encoding == Encoding::Der {
        notes.push(if rewrites_ca {
            "read ca.pem as DER (binary); the re-signed ca.pem is PEM, which Milvus and its clients read".to_string()
        } else {
            "read ca.pem as DER (binary) and left it so, but Milvus and its clients read PEM only: \
             rewrite it as PEM with `milvus-certs renew --ca`".to_string()
        });
    }
    if ca.key_encoding == Encoding::Der {
        notes.push("read ca.key as DER (binary); it is left as it is".to_string());
    }
    for (role, leaf) in Role::ALL.iter().zip(leaves) {
        if let Some((_, Encoding::Der)) = leaf {
            notes.push(format!(
                "read the old {} as DER (binary); the new one is PEM",
                role.cert_file()
            ));
        }
    }
    notes
}

/// A certificate's lifetime in whole days (notBefore..notAfter, rounded to
/// the nearest day, so the five minutes a notBefore is backdated do not
/// count), within the range `--days` accepts.
pub(crate) fn lifetime_days(cert: &CertInfo) -> u32 {
    let secs = (cert.not_after - cert.not_before).whole_seconds();
    let days = (secs + 43_200).div_euclid(86_400);
    u32::try_from(days.clamp(1, i64::from(crate::validity::MAX_DAYS))).unwrap_or(1)
}

/// Takes the directory's lock: a real run completes an interrupted write
/// first, a dry run leaves it alone.
fn lock(dir: &Path, dry_run: bool) -> Result<(DirLock, Option<Recovery>)> {
    if dry_run {
        let lock = DirLock::lock_only(dir, LOCK_WAIT)?;
        // What acquire_for_write refuses, a dry run refuses too.
        lock.check_private()?;
        Ok((lock, None))
    } else {
        DirLock::acquire_for_write(dir, LOCK_WAIT)
    }
}

/// Renewing writes into `dir`: check it may, before anything is made.
/// faccessat(2) with AT_EACCESS asks the kernel with the effective user's
/// rights (EACCES for a folder we may not write, EROFS on a read-only
/// file system) and leaves nothing behind: a probe file created and
/// removed was left in the folder by a run killed between the two.
pub(crate) fn check_writable(dir: &Path) -> Result<()> {
    use rustix::fs::{Access, AtFlags, CWD, accessat};
    accessat(CWD, dir, Access::WRITE_OK, AtFlags::EACCESS)
        .map_err(|e| Error::io("write into", dir)(std::io::Error::from(e)))
}

/// What `milvus-certs renew` was asked to do.
#[derive(Clone, Debug)]
pub enum RenewRequest {
    /// Renew the leaves `options.only` names (or all of them); with
    /// `if_expiring_within` DAYS, only those due then.
    Leaves {
        /// What to renew and how.
        options: RenewOptions,
        /// `--if-expiring-within DAYS`.
        if_expiring_within: Option<u32>,
    },
    /// `renew --ca`: re-sign the CA certificate.
    Ca(RenewCaOptions),
}

/// Why a certificate is (or, in a dry run, would be) renewed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reason {
    /// Its file, e.g. `server.pem`.
    pub file: String,
    /// Why, as a short sentence.
    pub why: String,
}

/// What [`run`] did.
#[derive(Clone, Debug)]
pub enum RenewOutcome {
    /// `--if-expiring-within`: nothing is due; nothing was written.
    NotDue(DueReport),
    /// `--dry-run`: what a real run would renew and why; nothing was written.
    DryRun {
        /// What was made (and not written).
        report: RenewReport,
        /// Why each one would be renewed.
        reasons: Vec<Reason>,
        /// The directory holds a write an earlier run left unfinished, which
        /// a real run would first complete or roll back.
        pending_write: bool,
    },
    /// Renewed.
    Renewed {
        /// What was renewed.
        report: RenewReport,
        /// With `--if-expiring-within`, why each one was due (else empty:
        /// they were asked for).
        reasons: Vec<Reason>,
    },
}

/// The `renew` command: checks, decides what is due, renews (or, in a dry
/// run, makes everything and writes nothing) and says why. The `--then`
/// hook is the caller's to run after a renewal ([`hook::run_after`]).
pub fn run(request: &RenewRequest, now: OffsetDateTime) -> Result<RenewOutcome> {
    let (report, mut reasons, asked_for) = match request {
        RenewRequest::Ca(opts) => (renew_ca(opts, now)?, Vec::new(), "asked for with --ca"),
        RenewRequest::Leaves {
            options,
            if_expiring_within: None,
        } => (renew(options, now)?, Vec::new(), "asked for"),
        RenewRequest::Leaves {
            options,
            if_expiring_within: Some(within),
        } => {
            let within = *within;
            if within > crate::validity::MAX_DAYS {
                return Err(Error::invalid(
                    "--if-expiring-within",
                    &within.to_string(),
                    format!("must be at most {} days", crate::validity::MAX_DAYS),
                ));
            }
            let dir = &options.dir;
            // Due or not, renewing must be possible: say so now, not on the
            // day it is needed.
            preflight(dir, within, now)?;
            let candidates = if options.only.is_empty() {
                leaves::all_targets(&crate::issue::added_names(dir))
            } else {
                options.only.clone()
            };
            let found = due(dir, within, &candidates, now, options.dry_run)?;
            if found.due.is_empty() {
                return Ok(RenewOutcome::NotDue(found));
            }
            let only: Vec<_> = found.due.iter().map(|d| d.target.clone()).collect();
            let mut report = leaves::renew_only(options, &only, now)?;
            let short = report
                .renewed
                .iter()
                .any(|r| r.new.not_after - now <= time::Duration::days(i64::from(within)));
            if short {
                report.warnings.push(format!(
                    "the new certificates expire within {within} days too, so the next run \
                     renews them again: pass --days N (more than {within}) to give them a longer life"
                ));
            }
            let reasons = found
                .due
                .into_iter()
                .map(|d| Reason {
                    file: d.target.cert_file(),
                    why: d.reason,
                })
                .collect();
            (report, reasons, "asked for")
        }
    };
    if !report.dry_run {
        return Ok(RenewOutcome::Renewed { report, reasons });
    }
    if reasons.is_empty() {
        reasons = report
            .renewed
            .iter()
            .map(|r| Reason {
                file: r.new.cert_file.clone(),
                why: asked_for.to_string(),
            })
            .collect();
    }
    let pending_write = crate::store::has_pending_write(&report.dir);
    Ok(RenewOutcome::DryRun {
        report,
        reasons,
        pending_write,
    })
}
