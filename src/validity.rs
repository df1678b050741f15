//! Validity periods. Every function takes `now`, so tests can pin the time.

use time::{Duration, OffsetDateTime};

use crate::error::{Error, Result};

/// The longest validity accepted for `--days` and `--ca-days`: 100 years
/// (the guide's CA uses 36500 days).
pub(crate) const MAX_DAYS: u32 = 36500;

/// notBefore is backdated by this much so that a peer whose clock is a little
/// behind ours does not see a "not yet valid" certificate.
pub(crate) const BACKDATE: Duration = Duration::minutes(5);

/// A certificate's validity period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Validity {
    /// notBefore.
    pub not_before: OffsetDateTime,
    /// notAfter.
    pub not_after: OffsetDateTime,
}

impl Validity {
    /// From `now` (minus [`BACKDATE`]) to `now + days`, in whole seconds, UTC.
    pub(crate) fn days_from(now: OffsetDateTime, days: u32) -> Validity {
        let now = now
            .to_offset(time::UtcOffset::UTC)
            .replace_nanosecond(0)
            .unwrap_or(now);
        Validity {
            not_before: now - BACKDATE,
            not_after: now + Duration::days(i64::from(days)),
        }
    }

    /// Ends this period no later than `limit` (an issuer's notAfter). Returns
    /// whether it had to be shortened.
    pub(crate) fn cap_at(&mut self, limit: OffsetDateTime) -> bool {
        if self.not_after > limit {
            self.not_after = limit;
            true
        } else {
            false
        }
    }
}

/// A date as people read it in messages: `2036-11-26 21:19 UTC`.
pub fn date(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

/// Checks a `--days`-like option.
pub(crate) fn check_days(option: &'static str, days: u32) -> Result<()> {
    if days == 0 || days > MAX_DAYS {
        return Err(Error::invalid(
            option,
            &days.to_string(),
            format!("must be between 1 and {MAX_DAYS} days (100 years)"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn validity_is_backdated_and_whole_seconds() {
        let v = Validity::days_from(datetime!(2026-01-01 12:00:00.75 UTC), 10);
        assert_eq!(v.not_before, datetime!(2026-01-01 11:55:00 UTC));
        assert_eq!(v.not_after, datetime!(2026-01-11 12:00:00 UTC));
    }

    #[test]
    fn days_bounds() {
        assert!(check_days("--days", 0).is_err());
        assert!(check_days("--days", 1).is_ok());
        assert!(check_days("--days", MAX_DAYS).is_ok());
        assert!(check_days("--days", MAX_DAYS + 1).is_err());
    }
}
