//! `renew --ca`: the CA certificate re-signed with its own key, so that
//! the certificates it issued keep chaining to it.

use std::path::PathBuf;

use time::OffsetDateTime;

use super::{RenewReport, Renewed, check_writable, der_notes, lifetime_days, lock};
use crate::ca::LoadedCa;
use crate::certinfo::CertInfo;
use crate::error::Result;
use crate::files;
use crate::issue::{self, CertRole, Issued, next_serial};
use crate::keys::KeyType;
use crate::store::NewFile;
use crate::validity::{Validity, check_days, date};

/// Options of `renew --ca`.
#[derive(Clone, Debug)]
pub struct RenewCaOptions {
    /// The certificate directory.
    pub dir: PathBuf,
    /// Validity of the re-signed CA certificate, in days (default: the
    /// old CA certificate's lifetime).
    pub ca_days: Option<u32>,
    /// Keep the replaced files under `backup/<time>/`.
    pub backup: bool,
    /// Check and make everything, but write nothing.
    pub dry_run: bool,
}

/// Re-signs `ca.pem` with `ca.key`: same subject, key and extensions, a new
/// serial (from `ca.srl`) and validity. Works on an expired CA too: that is
/// when it is needed.
pub(super) fn renew_ca(opts: &RenewCaOptions, now: OffsetDateTime) -> Result<RenewReport> {
    if let Some(days) = opts.ca_days {
        check_days("--ca-days", days)?;
    }
    let (lock, recovery) = lock(&opts.dir, opts.dry_run)?;
    let dir = &opts.dir;
    let ca = LoadedCa::load(dir, now, false)?;
    check_writable(dir)?;
    let ca_days = opts.ca_days.unwrap_or_else(|| lifetime_days(&ca.cert));
    let (srl, srl_missing) = issue::read_serial(dir)?;
    let old: Vec<CertInfo> = crate::issue::leaves_in(dir)
        .into_iter()
        .map(|(_, c)| c)
        .collect();
    let old_refs: Vec<&CertInfo> = old.iter().collect();
    let (start, serial_source) = issue::continue_from(&ca, srl, srl_missing, &old_refs);
    let serial = next_serial(&start, dir)?;
    let validity = Validity::days_from(now, ca_days);
    let cert = ca.resign(&serial, validity)?;

    let mut warnings = der_notes(&ca, &[], true);
    if !ca.cert.other_extensions.is_empty() {
        warnings.push(format!(
            "the old CA had extensions milvus-certs does not copy ({}); the re-signed one leaves them out",
            ca.cert.other_extensions.join(", ")
        ));
    }
    for leaf in old_refs.iter().filter(|c| c.not_after > validity.not_after) {
        warnings.push(format!(
            "a certificate issued by this CA ({}) expires {}, after the re-signed CA: renew it too",
            leaf.subject,
            date(leaf.not_after)
        ));
    }
    let new_files = [
        NewFile::public(files::CA_PEM, cert.pem()),
        NewFile::public(files::CA_SRL, serial.to_srl()),
    ];
    let backup = if opts.dry_run {
        None
    } else {
        lock.replace_files(&new_files, opts.backup.then_some(now))?
    };
    Ok(RenewReport {
        dir: dir.clone(),
        recovery,
        backup,
        dry_run: opts.dry_run,
        renewed: vec![Renewed {
            new: Issued {
                role: CertRole::Ca,
                cert_file: files::CA_PEM.into(),
                key_file: files::CA_KEY.into(),
                common_name: ca
                    .cert
                    .subject_attrs
                    .common_name
                    .clone()
                    .unwrap_or_default(),
                names: Vec::new(),
                serial: serial.clone(),
                key_type: ca.cert.key_type.unwrap_or(KeyType::Rsa2048),
                not_after: validity.not_after,
            },
            old_not_after: Some(ca.cert.not_after),
        }],
        serial_source,
        last_serial: serial,
        warnings,
        ca_added: ca.repairs().into_iter().map(String::from).collect(),
    })
}
