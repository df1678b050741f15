//! `add`: its options, and the library's [`AddOptions`] made from them.

use std::path::PathBuf;

use clap::Args;
use milvus_certs::add::AddOptions;

use super::{KeyTypeArg, ProfileArg};

pub(super) const EXAMPLES: &str = "\
Examples:
  milvus-certs add etcd --dir cert --san etcd-0.etcd   # etcd.pem, etcd.key (server and peer)
  milvus-certs add etcd-client --dir cert              # Milvus as etcd's client
  milvus-certs add s3 --dir cert --san minio.example.com
  milvus-certs add kafka --dir cert && milvus-certs add kafka-client --dir cert
  milvus-certs add vault --profile server --san vault.internal --dir cert

Ready-made names: etcd (peer), etcd-client (client), s3 (server, also named
minio), kafka (peer), kafka-client (client). Profiles: server (serverAuth),
client (clientAuth), peer (both). Server and peer certificates also name
localhost, 127.0.0.1 and ::1 unless --no-localhost. `renew` renews them with
the rest, keeping each one's profile, names, key type and lifetime.";

/// Options of `add`.
#[derive(Debug, Args)]
pub(crate) struct AddArgs {
    /// The certificate's name: the files are NAME.pem and NAME.key (lowercase letters, digits, '-')
    #[arg(value_name = "NAME")]
    pub(crate) name: String,

    /// What it is for: server (serverAuth), client (clientAuth), peer (both) [default: the ready-made name's]
    #[arg(long, value_name = "PROFILE")]
    pub(crate) profile: Option<ProfileArg>,

    /// Another name for it (repeatable; a host, without port or scheme): an IP address becomes an IP SAN, anything else a DNS SAN
    #[arg(long = "san", value_name = "NAME")]
    pub(crate) sans: Vec<String>,

    /// Do not give a server or peer certificate the names localhost, 127.0.0.1 and ::1
    #[arg(long)]
    pub(crate) no_localhost: bool,

    /// Validity in days
    #[arg(long, value_name = "N", default_value_t = 3650)]
    pub(crate) days: u32,

    /// Key type [default: the CA's]
    #[arg(long, value_name = "TYPE")]
    pub(crate) key_type: Option<KeyTypeArg>,

    /// Directory holding ca.pem and ca.key
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub(crate) dir: PathBuf,

    /// Replace an existing NAME.pem and NAME.key (the old ones are kept under DIR/backup/<time>/)
    #[arg(long)]
    pub(crate) force: bool,

    /// With --force, do not keep the replaced files
    #[arg(long, requires = "force")]
    pub(crate) no_backup: bool,
}

impl AddArgs {
    /// The library's options.
    pub(crate) fn options(self) -> AddOptions {
        AddOptions {
            dir: self.dir,
            name: self.name,
            profile: self.profile.map(Into::into),
            sans: self.sans,
            no_localhost: self.no_localhost,
            days: self.days,
            key_type: self.key_type.map(Into::into),
            force: self.force,
            backup: !self.no_backup,
        }
    }
}
