//! `gen`: its options, and the library's [`GenOptions`] made from them.

use std::path::PathBuf;

use clap::Args;
use milvus_certs::Subject;
use milvus_certs::generate::GenOptions;

use super::KeyTypeArg;

pub(super) const EXAMPLES: &str = "\
Examples:
  milvus-certs gen
  milvus-certs gen --dir cert --common-name milvus.example.com --san 10.0.0.5 --san milvus-proxy
  milvus-certs gen --key-type ecdsa-p256 --days 825

Writes ca.key ca.pem ca.srl server.key server.pem client.key client.pem;
keys are 0600, the rest 0644.";

/// Options of `gen`; the defaults are gen.sh's variables.
#[derive(Debug, Args)]
pub(crate) struct GenArgs {
    /// Directory to write the seven files into (created if missing)
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub(crate) dir: PathBuf,

    /// The server name clients connect to (gen.sh's CommonName); also a subjectAltName, and localhost also names 127.0.0.1 and ::1
    #[arg(long, value_name = "NAME", default_value = "localhost")]
    pub(crate) common_name: String,

    /// Another name for the server (repeatable; a host, without port or scheme): an IP address becomes an IP SAN, anything else a DNS SAN
    #[arg(long = "san", value_name = "NAME")]
    pub(crate) sans: Vec<String>,

    /// Country, two letters (gen.sh's Country)
    #[arg(long, value_name = "CC", default_value = "US")]
    pub(crate) country: String,

    /// State or province (gen.sh's State)
    #[arg(long, value_name = "TEXT", default_value = "CA")]
    pub(crate) state: String,

    /// Locality (gen.sh's Location)
    #[arg(long, value_name = "TEXT", default_value = "Redwood City")]
    pub(crate) locality: String,

    /// Organization (gen.sh's Organization)
    #[arg(long, value_name = "TEXT", default_value = "zilliz")]
    pub(crate) organization: String,

    /// Organizational unit (gen.sh's OrganizationUnit)
    #[arg(long, value_name = "TEXT", default_value = "devops")]
    pub(crate) org_unit: String,

    /// Validity of the server and client certificates (gen.sh's ExpireDays)
    #[arg(long, value_name = "N", default_value_t = 3650)]
    pub(crate) days: u32,

    /// Validity of the CA certificate
    #[arg(long, value_name = "N", default_value_t = 36500)]
    pub(crate) ca_days: u32,

    /// Common name of the CA [default: "<common-name> CA"]
    #[arg(long, value_name = "NAME")]
    pub(crate) ca_common_name: Option<String>,

    /// Key type of all three keys
    #[arg(long, value_name = "TYPE", default_value = "rsa2048")]
    pub(crate) key_type: KeyTypeArg,

    /// Replace existing files (the old ones are kept under DIR/backup/<time>/)
    #[arg(long)]
    pub(crate) force: bool,

    /// With --force, do not keep the replaced files
    #[arg(long, requires = "force")]
    pub(crate) no_backup: bool,
}

impl GenArgs {
    /// The library's options.
    pub(crate) fn options(self) -> GenOptions {
        GenOptions {
            dir: self.dir,
            subject: Subject {
                country: self.country,
                state: self.state,
                locality: self.locality,
                organization: self.organization,
                org_unit: self.org_unit,
                common_name: self.common_name,
            },
            ca_common_name: self.ca_common_name,
            sans: self.sans,
            days: self.days,
            ca_days: self.ca_days,
            key_type: self.key_type.into(),
            force: self.force,
            backup: !self.no_backup,
        }
    }
}
