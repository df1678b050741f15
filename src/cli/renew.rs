//! `renew`: its options, and the library's [`RenewRequest`] made from them.

use std::path::PathBuf;

use clap::Args;
use milvus_certs::Target;
use milvus_certs::renew::{RenewCaOptions, RenewOptions, RenewRequest};

use super::KeyTypeArg;

pub(super) const EXAMPLES: &str = "\
Examples:
  milvus-certs renew                      # in the directory holding the seven files
  milvus-certs renew --dir cert --days 365 --only server
  milvus-certs renew --san 10.0.0.6       # add a name while renewing
  milvus-certs renew --ca --ca-days 36500 # re-sign the CA with its own key
  milvus-certs renew --dir /etc/milvus/tls --if-expiring-within 30 --then \"docker compose restart standalone\"

Every leaf the CA issued here is renewed: server.pem, client.pem and each
NAME.pem made by `add` (which keeps its profile). The subject, names, key
type and lifetime of each new certificate are taken from the one it
replaces; options override them (naming options apply to an added
certificate only when --only names it). Serials continue from ca.srl. The
replaced files are kept under DIR/backup/<UTC time>/ unless --no-backup.

Exit status: 0 renewed (or nothing due), 1 an error (nothing was changed),
2 a usage error (an unknown option or an invalid value), 3 renewed but the
--then hook failed (the new files stay). A --dry-run fails as the real run would.";

/// Options of `renew`.
#[derive(Debug, Args)]
pub(crate) struct RenewArgs {
    /// Directory holding ca.key, ca.pem and ca.srl
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub(crate) dir: PathBuf,

    /// Renew only this one (repeatable): server, client, or the NAME of a certificate `add` made [default: all of them]
    #[arg(long, value_name = "WHICH")]
    pub(crate) only: Vec<String>,

    /// Validity of the new certificates [default: the lifetime of the one each replaces, 3650 for a missing one]
    #[arg(long, value_name = "N")]
    pub(crate) days: Option<u32>,

    /// A new common name [default: the old certificate's]
    #[arg(long, value_name = "NAME")]
    pub(crate) common_name: Option<String>,

    /// A name to add (repeatable): an IP address becomes an IP SAN, anything else a DNS SAN
    #[arg(long = "san", value_name = "NAME")]
    pub(crate) sans: Vec<String>,

    /// Drop the old certificate's names: keep only the common name and the --san names
    #[arg(long)]
    pub(crate) replace_sans: bool,

    /// Country, two letters [default: the old certificate's]
    #[arg(long, value_name = "CC")]
    pub(crate) country: Option<String>,

    /// State or province [default: the old certificate's]
    #[arg(long, value_name = "TEXT")]
    pub(crate) state: Option<String>,

    /// Locality [default: the old certificate's]
    #[arg(long, value_name = "TEXT")]
    pub(crate) locality: Option<String>,

    /// Organization [default: the old certificate's]
    #[arg(long, value_name = "TEXT")]
    pub(crate) organization: Option<String>,

    /// Organizational unit [default: the old certificate's]
    #[arg(long, value_name = "TEXT")]
    pub(crate) org_unit: Option<String>,

    /// Key type of the new keys [default: the old key's]
    #[arg(long, value_name = "TYPE")]
    pub(crate) key_type: Option<KeyTypeArg>,

    /// Do not keep the replaced files
    #[arg(long)]
    pub(crate) no_backup: bool,

    /// Re-sign the CA certificate with the same key and subject instead (certificates it issued keep chaining to it)
    #[arg(long, conflicts_with_all = ["only", "common_name", "sans", "replace_sans", "country", "state",
          "locality", "organization", "org_unit", "key_type"])]
    pub(crate) ca: bool,

    /// With --ca: validity of the re-signed CA certificate [default: the old CA certificate's lifetime]
    #[arg(long, value_name = "N", requires = "ca")]
    pub(crate) ca_days: Option<u32>,

    /// Renew only the leaves that expire within DAYS (or are expired, mismatched or lack their purpose); otherwise do nothing and exit 0
    #[arg(long, value_name = "DAYS", conflicts_with = "ca")]
    pub(crate) if_expiring_within: Option<u32>,

    /// After a successful renewal (only then), run CMD with sh -c; MILVUS_CERTS_DIR and MILVUS_CERTS_RENEWED are set
    #[arg(long, value_name = "CMD")]
    pub(crate) then: Option<String>,

    /// Check everything a real run would (values, files, the CA key) and print what it would renew; change nothing
    #[arg(long)]
    pub(crate) dry_run: bool,
}

impl RenewArgs {
    /// What the library is asked to renew (`--then` is run after it).
    pub(crate) fn request(&self) -> milvus_certs::Result<RenewRequest> {
        if let Some(then) = &self.then {
            milvus_certs::renew::check_hook(then)?;
        }
        if self.ca {
            return Ok(RenewRequest::Ca(RenewCaOptions {
                dir: self.dir.clone(),
                ca_days: self.ca_days,
                backup: !self.no_backup,
                dry_run: self.dry_run,
            }));
        }
        Ok(RenewRequest::Leaves {
            options: RenewOptions {
                dir: self.dir.clone(),
                only: self
                    .only
                    .iter()
                    .map(|o| Target::parse("--only", o))
                    .collect::<milvus_certs::Result<_>>()?,
                days: self.days,
                common_name: self.common_name.clone(),
                sans: self.sans.clone(),
                replace_sans: self.replace_sans,
                country: self.country.clone(),
                state: self.state.clone(),
                locality: self.locality.clone(),
                organization: self.organization.clone(),
                org_unit: self.org_unit.clone(),
                key_type: self.key_type.map(Into::into),
                backup: !self.no_backup,
                dry_run: self.dry_run,
            },
            if_expiring_within: self.if_expiring_within,
        })
    }
}
