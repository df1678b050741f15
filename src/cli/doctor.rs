//! `doctor`: its options, and the library's [`DoctorOptions`] made from them.

use std::path::PathBuf;

use clap::Args;
use milvus_certs::doctor::DoctorOptions;

pub(super) const EXAMPLES: &str = "\
Examples:
  milvus-certs doctor milvus.yaml                     # a milvus.yaml or user.yaml
  milvus-certs doctor values.yaml --dir cert          # Helm values, and the files in cert/
  milvus-certs doctor milvus-operator.yaml --json     # a Milvus operator resource
  milvus-certs doctor docker-compose.yml              # with the config files it mounts

The shape is recognised: a Compose file has services:, an operator resource
kind: Milvus, Helm values extraConfigFiles (or the chart's keys); anything
else is read as a Milvus configuration. With --dir, the certificate files the
configuration names are found there (through the mounts) and checked: key
match, chain to the CA, serverAuth, internaltls.sni among the SANs, and with
tlsMode 2 client.pem's clientAuth. The finding codes are listed in docs/reference.md.

Milvus's dependencies are checked too: etcd.endpoints against
etcd.ssl.enabled, the etcd.ssl files and tlsMinVersion, minio.useSSL's CA
trust, and the Kafka SSL paths (mounted; with --dir, present and with
clientAuth), and in Compose the etcd and MinIO server certificates.

Exit status:
  0  healthy
  1  warnings only (TLS off, a legacy key, a certificate expiring soon)
  2  a problem (the proxy would not start, Milvus would ignore the settings or
     use its example keys, a file not mounted, a bad certificate) or an
     unreadable file";

/// Options of `doctor`.
#[derive(Debug, Args)]
pub(crate) struct DoctorArgs {
    /// Configuration files: milvus.yaml/user.yaml, Helm values, a Milvus resource or a Compose file
    #[arg(value_name = "FILE", required = true)]
    pub(crate) files: Vec<PathBuf>,

    /// The folder holding the certificate files the configuration names (server.pem, server.key, ca.pem, client.pem, etcd-client.pem...)
    #[arg(long, value_name = "DIR")]
    pub(crate) dir: Option<PathBuf>,

    /// Print JSON instead of text
    #[arg(long)]
    pub(crate) json: bool,
}

impl DoctorArgs {
    /// The library's options.
    pub(crate) fn options(&self) -> DoctorOptions {
        DoctorOptions {
            files: self.files.clone(),
            dir: self.dir.clone(),
        }
    }
}
