//! `doctor`: reads a Milvus deployment's configuration in the shapes users
//! have it (a `milvus.yaml`/`user.yaml`, Helm values, a Milvus operator
//! resource, a Docker Compose file and the config files it mounts) and
//! reports the TLS mistakes Milvus users run into, as [`Finding`]s of the
//! one checks engine, each with the file, key path and line it is about.
//!
//! Key names are Milvus's paramtable keys (pkg/util/paramtable):
//! `common.security.tlsMode` and `tls.serverPemPath`, `tls.serverKeyPath`,
//! `tls.caPemPath` (grpc_param.go, `ProxyGrpcServerCfg`);
//! `common.security.internaltlsEnabled` and `internaltls.serverPemPath`,
//! `internaltls.serverKeyPath`, `internaltls.caPemPath`, `internaltls.sni`
//! (`InternalTLSConfig`, 2.5.0); `proxy.port` and `proxy.http.enabled`,
//! `proxy.http.port` (component_param.go, `HTTPCfg`); for its dependencies
//! `etcd.endpoints` and `etcd.ssl.*`, `minio.useSSL` and
//! `minio.ssl.tlsCACert`, `kafka.ssl.*` and the `kafka.consumer.`/
//! `kafka.producer.` librdkafka properties (service_param.go). Milvus matches keys
//! without regard to case, and reads `A_B_C` environment variables for `a.b.c`.
//!
//! With a certificate folder, the files the configuration names are read
//! (mapped from the container back through the mounts) and checked with the
//! same rules as `inspect`: key match, chain to the CA, serverAuth,
//! `internaltls.sni` among the server certificate's subjectAltNames (Go checks
//! SANs, not the common name), and with tlsMode 2 a `client.pem` with clientAuth.
//!
//! The library returns a [`Report`]; it never prints.
//!
//! - `node`: YAML with line numbers.
//! - `shapes`: what a file is, and a `milvus.yaml`, Helm values or an
//!   operator resource read as a `Deployment`; `compose`: Compose projects.
//! - `deployment`: settings, environment and mounts, whatever the shape.
//! - `mounts`: where a file the configuration names is, in the container
//!   and on the host.
//! - `tls`: Milvus's own TLS settings and certificates; `deps`: etcd, S3
//!   and Kafka over TLS.

use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use crate::checks::{Finding, Severity};
use crate::error::{Error, Result};

mod compose;
mod deployment;
mod deps;
mod mounts;
mod node;
mod shapes;
mod tls;

use deployment::Deployment;

/// Where Milvus runs in its image: relative paths in its configuration are
/// relative to this folder (the image's WORKDIR).
const MILVUS_HOME: &str = "/milvus";
/// Where the image keeps its example certificates (public private keys).
const EXAMPLE_CERTS: &str = "/milvus/configs/cert";
/// Where the configuration files are read in the container.
const CONFIG_MILVUS_YAML: &str = "/milvus/configs/milvus.yaml";
const CONFIG_USER_YAML: &str = "/milvus/configs/user.yaml";
const CONFIG_DIR: &str = "/milvus/configs";

/// What kind of file `doctor` read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A `milvus.yaml` or `user.yaml`.
    MilvusConfig,
    /// Values for the milvus Helm chart.
    Helm,
    /// A Milvus operator `Milvus` resource.
    Operator,
    /// A Docker Compose file.
    Compose,
}

impl Shape {
    /// `milvus-config`, `helm`, `operator` or `compose`.
    pub fn name(self) -> &'static str {
        match self {
            Shape::MilvusConfig => "milvus-config",
            Shape::Helm => "helm",
            Shape::Operator => "operator",
            Shape::Compose => "compose",
        }
    }
}

/// Where a finding is: a file, a key path in it, a line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The file.
    pub file: PathBuf,
    /// The key path, dotted (`spec.config.tls.serverPemPath`); empty for the
    /// whole file.
    pub key: String,
    /// The line (1-based), when the key is written in the file.
    pub line: Option<usize>,
}

/// One finding and where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located {
    /// What.
    pub finding: Finding,
    /// Where.
    pub at: Location,
}

/// What `doctor` found.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Every file read, with its shape (config files a Compose file mounts
    /// are listed as `milvus-config`).
    pub files: Vec<(PathBuf, Shape)>,
    /// The findings, in file order.
    pub findings: Vec<Located>,
}

impl Report {
    /// 0 healthy, 1 warnings only, 2 problems (as `inspect`).
    pub fn exit_code(&self) -> u8 {
        match self.worst() {
            None => 0,
            Some(Severity::Warning) => 1,
            Some(Severity::Problem) => 2,
        }
    }

    /// The worst severity found.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.finding.severity()).max()
    }
}

/// What to read.
#[derive(Clone, Debug, Default)]
pub struct DoctorOptions {
    /// The configuration files.
    pub files: Vec<PathBuf>,
    /// The folder holding the certificate files the configuration names.
    pub dir: Option<PathBuf>,
}

/// Reads every file and checks it.
pub fn doctor(opts: &DoctorOptions, now: OffsetDateTime) -> Result<Report> {
    let mut report = Report::default();
    // Compose files given together describe one project, merged as
    // `docker compose -f A -f B` merges them.
    let mut composes = Vec::new();
    for file in &opts.files {
        let text = read_text(file)?;
        let docs = node::parse(file, &text, 0)?;
        let shape = shapes::detect(file, &docs)?;
        report.files.push((file.clone(), shape));
        let deployment = match shape {
            Shape::MilvusConfig => shapes::milvus_config(file, &docs)?,
            Shape::Helm => shapes::helm(file, &docs)?,
            Shape::Operator => shapes::operator(file, &docs)?,
            Shape::Compose => {
                composes.push((file.clone(), docs));
                continue;
            }
        };
        check(&deployment, opts.dir.as_deref(), now, &mut report.findings);
    }
    if !composes.is_empty() {
        for d in compose::deployments(&composes, &mut report)? {
            check(&d, opts.dir.as_deref(), now, &mut report.findings);
        }
    }
    // In the order of the files and lines they are about (stable: findings
    // on one line, or on none, keep the rules' order).
    let order: Vec<PathBuf> = report.files.iter().map(|(p, _)| p.clone()).collect();
    report.findings.sort_by_key(|f| {
        (
            order
                .iter()
                .position(|p| *p == f.at.file)
                .unwrap_or(usize::MAX),
            f.at.line.unwrap_or(usize::MAX),
        )
    });
    Ok(report)
}

/// A configuration file's text (bounded, UTF-8).
fn read_text(file: &Path) -> Result<String> {
    let bytes = crate::input::read_bounded(file).map_err(Error::io("read", file))?;
    String::from_utf8(bytes).map_err(|_| {
        Error::bad_file(
            file,
            EXPECTED,
            "it is not UTF-8 text; pass the YAML file Milvus, Helm, the operator or Compose reads",
        )
    })
}

/// What `doctor` reads, for an error about a file that is none of them.
const EXPECTED: &str = "a Milvus configuration, Helm values, a Milvus resource or a Compose file";

/// Every rule, on one deployment; with a certificate folder (`dir`), on the
/// files it names too.
fn check(d: &Deployment, dir: Option<&Path>, now: OffsetDateTime, out: &mut Vec<Located>) {
    tls::check(d, dir, now, out);
    deps::etcd(d, dir, now, out);
    deps::minio(d, dir, now, out);
    deps::kafka(d, dir, now, out);
    if let Some(dir) = dir {
        deps::servers(d, dir, now, out);
    }
}
