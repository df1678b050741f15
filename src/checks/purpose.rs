//! What a leaf is for: not a CA, allowing its purpose (extendedKeyUsage)
//! or an added certificate's profile, and naming what clients connect to.

use std::path::Path;

use super::{Finding, Remedy};
use crate::certinfo::{CertInfo, ExtKeyUsage};
use crate::leaf::Role;
use crate::names::SanName;
use crate::shell;

/// A leaf must not be a CA and must allow its purpose: the end of a TLS
/// connection it serves, as the issuing side made it (`server.pem`,
/// `client.pem`).
pub(crate) fn purpose(cert: &CertInfo, purpose: Role, ca_dir: Option<&Path>) -> Vec<Finding> {
    let remedy = || Some(Remedy::renew(ca_dir, &["--only", purpose.name()]));
    let mut out = Vec::new();
    if cert.is_ca() {
        out.push(Finding::NotALeaf { remedy: remedy() });
    }
    match purpose {
        Role::Server if !cert.allows_eku(&ExtKeyUsage::ServerAuth) => {
            out.push(Finding::MissingServerAuth { remedy: remedy() })
        }
        Role::Client if !cert.allows_eku(&ExtKeyUsage::ClientAuth) => {
            out.push(Finding::MissingClientAuth { remedy: remedy() })
        }
        _ => {}
    }
    out
}

/// A certificate made by `milvus-certs add NAME`, in the CA folder `dir`:
/// not a CA, allowing what its profile needs (a ready-made name's, else
/// what it was made with: [`crate::issue::expected_profile`]), and naming
/// NAME when it serves. Every fix is `renew --only NAME` (with `--san NAME`
/// for a missing name), or `add NAME --profile ... --force` for a purpose
/// renewing would keep.
pub(crate) fn added(cert: &CertInfo, name: &str, dir: &Path) -> Vec<Finding> {
    let only = || Some(Remedy::renew(Some(dir), &["--only", name]));
    let readd = |profile: &str| {
        Some(Remedy::Command(shell::milvus_certs(
            "add",
            dir,
            &[name, "--profile", profile, "--force"],
        )))
    };
    let mut out = Vec::new();
    if cert.is_ca() {
        out.push(Finding::NotALeaf { remedy: only() });
    }
    let profile = crate::issue::expected_profile(name, cert);
    let (server, client) = profile.map_or((true, false), |p| p.needs());
    let fix = profile.unwrap_or(crate::leaf::Profile::Server).name();
    if server && !cert.allows_eku(&ExtKeyUsage::ServerAuth) {
        out.push(Finding::MissingServerAuth { remedy: readd(fix) });
    }
    if client && !cert.allows_eku(&ExtKeyUsage::ClientAuth) {
        out.push(Finding::MissingClientAuth { remedy: readd(fix) });
    }
    if server
        && let Ok(own) = SanName::parse("NAME", name)
        && !cert.matches_name(&own)
    {
        out.push(Finding::NameMismatch {
            name: own.clone(),
            has: cert.sans.iter().map(|s| s.to_string()).collect(),
            remedy: Some(Remedy::renew(
                Some(dir),
                &["--only", name, "--san", &own.to_string()],
            )),
        });
    }
    out
}

/// One finding for each of `names` that no subjectAltName of `cert` matches
/// (IP names against IP SANs).
pub(crate) fn names(cert: &CertInfo, names: &[SanName], ca_dir: Option<&Path>) -> Vec<Finding> {
    names
        .iter()
        .filter(|n| !cert.matches_name(n))
        .map(|name| Finding::NameMismatch {
            name: name.clone(),
            has: cert.sans.iter().map(|s| s.to_string()).collect(),
            remedy: Some(Remedy::renew(
                ca_dir,
                &["--only", "server", "--san", &name.to_string()],
            )),
        })
        .collect()
}
