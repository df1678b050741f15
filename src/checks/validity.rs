//! The dates: expired, not yet valid, expiring within the warning period,
//! and a leaf outliving its CA.

use time::{Duration, OffsetDateTime};

use super::{Finding, Remedy};
use crate::certinfo::CertInfo;

/// The warning period `export` uses for the certificates it copies, and
/// `inspect`'s default `--warn-days`.
pub(crate) const EXPORT_WARN_DAYS: u32 = 30;

/// Expired, not yet valid, or expiring within `warn_days`.
pub(crate) fn validity(
    cert: &CertInfo,
    now: OffsetDateTime,
    warn_days: u32,
    remedy: Option<Remedy>,
) -> Option<Finding> {
    if now > cert.not_after {
        Some(Finding::Expired {
            not_after: cert.not_after,
            remedy,
        })
    } else if now < cert.not_before {
        Some(Finding::NotYetValid {
            not_before: cert.not_before,
        })
    } else if cert.not_after - now < Duration::days(i64::from(warn_days)) {
        Some(Finding::Expiring {
            not_after: cert.not_after,
            days_left: days_left(cert, now),
            remedy,
        })
    } else {
        None
    }
}

/// Whole days until notAfter, rounded down (negative once expired).
pub(crate) fn days_left(cert: &CertInfo, now: OffsetDateTime) -> i64 {
    (cert.not_after - now).whole_seconds().div_euclid(86400)
}

/// A leaf that expires after its CA stops working when the CA expires.
pub(crate) fn outlives(cert: &CertInfo, ca: &CertInfo) -> Option<Finding> {
    (cert.not_after > ca.not_after).then_some(Finding::OutlivesCa {
        ca_not_after: ca.not_after,
    })
}
