//! `inspect`: its options, and the library's [`InspectOptions`] made from
//! them (with `--connect`, the [`ConnectOptions`] too).

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use milvus_certs::SanName;
use milvus_certs::inspect::{ConnectOptions, InspectOptions};

use super::ModeArg;

pub(super) const EXAMPLES: &str = "\
Examples:
  milvus-certs inspect                          # the seven files in the current directory
  milvus-certs inspect --dir cert --warn-days 30 --server-name milvus.example.com
  milvus-certs inspect path/to/any.pem other/dir --json
  milvus-certs inspect --connect milvus.example.com:19530 --dir cert

Exit status:
  0  everything is healthy
  1  no problem, but a certificate expires within --warn-days
  2  a problem (expired, not yet valid, key mismatch, bad chain, wrong purpose
     or name, unreadable input, failed connection) or a usage error";

/// Options of `inspect`.
#[derive(Debug, Args)]
pub(crate) struct InspectArgs {
    /// Certificate files (PEM, bundles too, or DER) or directories to inspect [default: the seven files of --dir]
    #[arg(value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,

    /// A folder: recognised as a CA, server deployment or client folder and checked for what it needs [default: . when no PATH is given]
    #[arg(long, value_name = "DIR")]
    pub(crate) dir: Option<PathBuf>,

    /// Report certificates expiring within this many days (exit status 1)
    #[arg(long, value_name = "DAYS", default_value_t = 30)]
    pub(crate) warn_days: u32,

    /// A name clients use to reach Milvus (repeatable): server.pem must have a matching SAN; with --connect, the name to verify [default: HOST]
    #[arg(long = "server-name", value_name = "NAME")]
    pub(crate) server_names: Vec<String>,

    /// Print one JSON document (schema in docs/reference.md)
    #[arg(long)]
    pub(crate) json: bool,

    /// Connect to a running server and check the chain it presents (repeatable)
    #[arg(long, value_name = "HOST:PORT")]
    pub(crate) connect: Vec<String>,

    /// A CA certificate every leaf among the PATHs must verify against; with --connect, the CA to verify the server against [default: DIR/ca.pem]
    #[arg(long, value_name = "FILE")]
    pub(crate) ca: Option<PathBuf>,

    /// The deployment's tlsMode: 1 (one-way TLS) needs no client files anywhere [default: 2, client files needed]
    #[arg(long, value_name = "1|2", hide_possible_values = true)]
    pub(crate) mode: Option<ModeArg>,

    /// With --connect: the client certificate to present if the server asks [default: DIR/client.pem]
    #[arg(long, value_name = "FILE", requires = "client_key")]
    pub(crate) client_cert: Option<PathBuf>,

    /// With --connect: the client key [default: DIR/client.key]
    #[arg(long, value_name = "FILE", requires = "client_cert")]
    pub(crate) client_key: Option<PathBuf>,

    /// With --connect: give up after this many seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub(crate) timeout: u64,
}

impl InspectArgs {
    /// The library's options.
    pub(crate) fn options(&self) -> milvus_certs::Result<InspectOptions> {
        let server_names = self
            .server_names
            .iter()
            .map(|n| SanName::parse("--server-name", n))
            .collect::<milvus_certs::Result<Vec<_>>>()?;
        Ok(InspectOptions {
            dir: self.dir.clone(),
            paths: self.paths.clone(),
            // With --connect, --ca is what the server is verified against.
            ca_files: match (&self.ca, self.connect.is_empty()) {
                (Some(ca), true) => vec![ca.clone()],
                _ => Vec::new(),
            },
            warn_days: self.warn_days,
            server_names,
            one_way: self.mode == Some(ModeArg::OneWay),
            read_only: false,
            connect: (!self.connect.is_empty()).then(|| self.connect_options()),
        })
    }

    /// `--connect`: the CA defaults to the folder's (`--dir`, or the
    /// current directory); so do the client files, in the library.
    fn connect_options(&self) -> ConnectOptions {
        let dir = self.dir.clone().unwrap_or_else(|| ".".into());
        ConnectOptions {
            servers: self.connect.clone(),
            ca: self.ca.clone().unwrap_or_else(|| dir.join("ca.pem")),
            client_cert: self.client_cert.clone(),
            client_key: self.client_key.clone(),
            server_names: self.server_names.clone(),
            timeout: Duration::from_secs(self.timeout.max(1)),
        }
    }
}
