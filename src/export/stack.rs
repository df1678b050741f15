//! TLS for Milvus's dependencies from the same CA (issue 15): Milvus's
//! settings for its etcd (`--etcd`), its S3 object storage (`--s3`) and
//! Kafka (`--kafka`), the files they point at, and, for Compose, the guide's
//! `etcd` and `minio` services turned to TLS.
//!
//! Milvus 2.3 keys (paramtable `component_param.go` / `milvus.yaml`):
//! `etcd.endpoints`, `etcd.use.embed`, `etcd.ssl.enabled`, `etcd.ssl.tlsCert`,
//! `etcd.ssl.tlsKey`, `etcd.ssl.tlsCACert`, `etcd.ssl.tlsMinVersion`;
//! `minio.address`, `minio.port`, `minio.useSSL` (2.3 has no
//! `minio.ssl.tlsCACert`: its Go side trusts the system bundle or
//! SSL_CERT_FILE, its C++ side only the system bundle, so a bundle holding
//! the system's roots and ca.pem is mounted over the container's
//! `/etc/ssl/certs/ca-certificates.crt`); Kafka: see [`crate::export::kafka`](mod@crate::export::kafka).
//!
//! etcd's flags (etcd 3.4/3.5 `etcd --help`, "Security flags"):
//! `--cert-file`, `--key-file`, `--trusted-ca-file`, `--client-cert-auth`,
//! https `--listen-client-urls`/`--advertise-client-urls`. MinIO reads
//! `${HOME}/.minio/certs/public.crt`, `private.key` and `CAs/` (MinIO docs,
//! "Network Encryption (TLS)").

use std::path::Path;

use super::OutFile;
use super::preflight::{Added, read_added};
use crate::certinfo::CertInfo;
use crate::checks;
use crate::error::{Error, Result};
use crate::files;
use crate::input;
use crate::names::SanName;
use crate::store::PUBLIC_MODE;
use crate::yaml::{Value, map, s};

/// Which dependencies get TLS.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Deps {
    /// Milvus's etcd (`etcd.pem` for the server, `etcd-client.pem` for Milvus).
    pub etcd: bool,
    /// Milvus's S3 object storage (`s3.pem` for the server).
    pub s3: bool,
    /// Kafka (`kafka-client.pem` for Milvus).
    pub kafka: bool,
}

impl Deps {
    /// Whether any is asked for.
    pub(crate) fn any(self) -> bool {
        self.etcd || self.s3 || self.kafka
    }
}

/// The Compose service names of the guide's docker-compose.yml.
pub(super) const ETCD_SERVICE: &str = "etcd";
/// The guide's MinIO service.
pub(super) const MINIO_SERVICE: &str = "minio";
/// The trust bundle Milvus mounts over the system one.
pub(super) const BUNDLE: &str = crate::files::CA_BUNDLE;
/// Where Debian-based images (Milvus's, MinIO's) keep the system bundle.
pub(super) const SYSTEM_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";
/// The TLS version Milvus asks of etcd (both sides are Go; 1.3 is
/// milvus.yaml's own default for `etcd.ssl.tlsMinVersion`).
pub(super) const ETCD_TLS_MIN: &str = "1.3";

/// A certificate and key read from the certificate directory and checked.
#[derive(Clone, Debug)]
struct Pair {
    pem: Vec<u8>,
    key: Vec<u8>,
}

/// What the dependencies need, read and checked.
#[derive(Clone, Debug, Default)]
pub(super) struct Stack {
    /// What was asked for.
    pub deps: Deps,
    etcd_client: Option<Pair>,
    kafka_client: Option<Pair>,
    etcd: Option<Pair>,
    s3: Option<Pair>,
    bundle: Option<Vec<u8>>,
    ca_pem: Vec<u8>,
    /// The host names Milvus reaches etcd and S3 at: the Compose services
    /// (`etcd`, `minio`), or a Helm/Operator release's (`RELEASE-etcd`,
    /// `RELEASE-minio`).
    pub hosts: (String, String),
    /// Things to know.
    pub warnings: Vec<String>,
}

/// Milvus's Kafka client settings, for `--kafka` and `export kafka`:
/// `kafka.ssl.*` (Milvus 2.3.11 and later) and librdkafka's own `ssl.*` in
/// `kafka.consumer`/`kafka.producer`, which every 2.x since 2.2 hands to
/// librdkafka as they are. The files are under `base`; without `client`,
/// Milvus presents no certificate (the broker's `ssl.client.auth=none`).
pub(super) fn kafka_settings(brokers: &str, base: &str, client: bool) -> Value {
    let ca = format!("{base}/{}", files::CA_PEM);
    let mut ssl = vec![("enabled", Value::Bool(true)), ("tlsCaCert", s(&ca))];
    let mut rd = vec![("security.protocol", s("SSL")), ("ssl.ca.location", s(ca))];
    if client {
        let (cert, key) = (
            format!("{base}/kafka-client.pem"),
            format!("{base}/kafka-client.key"),
        );
        ssl.extend([("tlsCert", s(&cert)), ("tlsKey", s(&key))]);
        rd.extend([
            ("ssl.certificate.location", s(cert)),
            ("ssl.key.location", s(key)),
        ]);
    }
    map([
        ("brokerList", s(brokers)),
        ("securityProtocol", s("SSL")),
        ("ssl", map(ssl)),
        ("consumer", map(rd.clone())),
        ("producer", map(rd)),
    ])
}

/// Reads `NAME.pem`/`NAME.key` (see [`read_added`]) and checks that the
/// certificate names every one of `names`.
fn read_pair(dir: &Path, name: &str, ca: &CertInfo, names: &[&str]) -> Result<Pair> {
    let Added {
        pem, info, key_pem, ..
    } = read_added(dir, name, ca, "a certificate the deployment needs")?;
    let missing: Vec<SanName> = names
        .iter()
        .map(|n| SanName::parse("--san", n))
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .filter(|n| !info.matches_name(n))
        .collect();
    if let Some(first) = missing.first() {
        // renew keeps the names it has and adds these.
        let mut args = vec!["--only".to_string(), name.to_string()];
        for n in &missing {
            args.push("--san".into());
            args.push(n.to_string());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        return Err(Error::Check {
            path: dir.join(files::added_cert(name)),
            finding: Box::new(checks::Finding::NameMismatch {
                name: first.clone(),
                has: info.sans.iter().map(|s| s.to_string()).collect(),
                remedy: Some(checks::Remedy::renew(Some(dir), &args)),
            }),
        });
    }
    Ok(Pair { pem, key: key_pem })
}

impl Stack {
    /// Reads what `deps` needs from `dir` (whose `ca.pem` is `ca`,
    /// `ca_pem`). For Compose (`services`), the servers' certificates too,
    /// which must name their service (`etcd`, `minio`) and localhost (the
    /// healthchecks run inside the containers).
    pub(super) fn load(
        dir: &Path,
        deps: Deps,
        ca: &CertInfo,
        ca_pem: &[u8],
        services: bool,
    ) -> Result<Stack> {
        let mut st = Stack {
            deps,
            ca_pem: ca_pem.to_vec(),
            hosts: (ETCD_SERVICE.into(), MINIO_SERVICE.into()),
            ..Stack::default()
        };
        if deps.etcd {
            st.etcd_client = Some(read_pair(dir, "etcd-client", ca, &[])?);
            if services {
                st.etcd = Some(read_pair(dir, "etcd", ca, &[ETCD_SERVICE, "127.0.0.1"])?);
            }
        }
        if deps.s3 {
            if services {
                st.s3 = Some(read_pair(dir, "s3", ca, &[MINIO_SERVICE, "localhost"])?);
            }
            let system = input::read_optional(Path::new(SYSTEM_BUNDLE), "a PEM bundle")?;
            let mut bundle = system.clone().unwrap_or_default();
            if !bundle.is_empty() && !bundle.ends_with(b"\n") {
                bundle.push(b'\n');
            }
            bundle.extend_from_slice(ca_pem);
            if system.is_none() {
                st.warnings.push(format!(
                    "{SYSTEM_BUNDLE} is missing here: {BUNDLE} holds only ca.pem, so Milvus \
                     trusts no public CA while it is mounted (install ca-certificates and export again)"
                ));
            }
            st.bundle = Some(bundle);
        }
        if deps.kafka {
            st.kafka_client = Some(read_pair(dir, "kafka-client", ca, &[])?);
        }
        Ok(st)
    }

    /// Milvus's settings for the dependencies, with the files under `base`
    /// (where the certificate folder is mounted). Top-level keys, to add
    /// next to the TLS ones.
    pub(super) fn milvus(&self, base: &str) -> Vec<(&'static str, Value)> {
        let mut top = Vec::new();
        if self.deps.etcd {
            top.push((
                "etcd",
                map([
                    ("endpoints", s(format!("https://{}:2379", self.hosts.0))),
                    ("use", map([("embed", Value::Bool(false))])),
                    (
                        "ssl",
                        map([
                            ("enabled", Value::Bool(true)),
                            ("tlsCert", s(format!("{base}/etcd-client.pem"))),
                            ("tlsKey", s(format!("{base}/etcd-client.key"))),
                            ("tlsCACert", s(format!("{base}/{}", files::CA_PEM))),
                            ("tlsMinVersion", s(ETCD_TLS_MIN)),
                        ]),
                    ),
                ]),
            ));
        }
        if self.deps.s3 {
            top.push((
                "minio",
                map([
                    ("address", s(self.hosts.1.clone())),
                    ("port", Value::Int(9000)),
                    ("useSSL", Value::Bool(true)),
                ]),
            ));
        }
        if self.deps.kafka {
            top.push(("kafka", kafka_settings("kafka:9093", base, true)));
        }
        top
    }

    /// The files Milvus mounts with its own (`prefix` is its folder in the
    /// output, e.g. `tls/`, or `` for a Secret's keys).
    pub(super) fn milvus_files(&self, prefix: &str) -> Vec<OutFile> {
        let mut out = Vec::new();
        for (name, p) in [
            ("etcd-client", &self.etcd_client),
            ("kafka-client", &self.kafka_client),
        ] {
            if let Some(p) = p {
                out.extend(OutFile::pair(
                    &format!("{prefix}{name}.pem"),
                    &p.pem,
                    &format!("{prefix}{name}.key"),
                    &p.key,
                ));
            }
        }
        if let Some(b) = &self.bundle {
            out.push(OutFile::new(
                &format!("{prefix}{BUNDLE}"),
                b.clone(),
                PUBLIC_MODE,
            ));
        }
        out
    }

    /// The files the Compose services mount: `tls-etcd/` and `tls-minio/`.
    pub(super) fn service_files(&self) -> Vec<OutFile> {
        let mut out = Vec::new();
        if let Some(p) = &self.etcd {
            out.extend(OutFile::pair(
                "tls-etcd/etcd.pem",
                &p.pem,
                "tls-etcd/etcd.key",
                &p.key,
            ));
            out.push(OutFile::new("tls-etcd/ca.pem", &*self.ca_pem, PUBLIC_MODE));
        }
        if let Some(p) = &self.s3 {
            out.extend(OutFile::pair(
                "tls-minio/public.crt",
                &p.pem,
                "tls-minio/private.key",
                &p.key,
            ));
            out.push(OutFile::new(
                "tls-minio/CAs/ca.pem",
                &*self.ca_pem,
                PUBLIC_MODE,
            ));
        }
        out
    }

    /// What the Compose override adds to the `standalone` service:
    /// volumes, and environment (the guide sets ETCD_ENDPOINTS, which
    /// overrides milvus.yaml).
    pub(super) fn standalone(&self, tls_dir: &str) -> (Vec<Value>, Vec<(&'static str, Value)>) {
        let mut volumes = Vec::new();
        let mut env = Vec::new();
        if self.bundle.is_some() {
            volumes.push(s(format!("{tls_dir}/{BUNDLE}:{SYSTEM_BUNDLE}:ro")));
        }
        if self.deps.etcd {
            env.push(("ETCD_ENDPOINTS", s(format!("https://{ETCD_SERVICE}:2379"))));
        }
        (volumes, env)
    }

    /// The guide's `etcd` and `minio` services, turned to TLS.
    pub(super) fn services(&self) -> Vec<(&'static str, Value)> {
        let mut out = Vec::new();
        if self.etcd.is_some() {
            let tls = "/etcd/tls";
            out.push((
                ETCD_SERVICE,
                map([
                    (
                        "volumes",
                        Value::Seq(vec![s(format!("./tls-etcd:{tls}:ro"))]),
                    ),
                    (
                        "command",
                        strings(&[
                            "etcd",
                            "--advertise-client-urls=https://etcd:2379",
                            "--listen-client-urls=https://0.0.0.0:2379",
                            "--data-dir=/etcd",
                            &format!("--cert-file={tls}/etcd.pem"),
                            &format!("--key-file={tls}/etcd.key"),
                            &format!("--trusted-ca-file={tls}/ca.pem"),
                            "--client-cert-auth",
                        ]),
                    ),
                    (
                        "healthcheck",
                        map([(
                            "test",
                            strings(&[
                                "CMD",
                                "etcdctl",
                                "--endpoints=https://127.0.0.1:2379",
                                &format!("--cacert={tls}/ca.pem"),
                                &format!("--cert={tls}/etcd.pem"),
                                &format!("--key={tls}/etcd.key"),
                                "endpoint",
                                "health",
                            ]),
                        )]),
                    ),
                ]),
            ));
        }
        if self.s3.is_some() {
            out.push((
                MINIO_SERVICE,
                map([
                    (
                        "volumes",
                        Value::Seq(vec![s("./tls-minio:/root/.minio/certs:ro")]),
                    ),
                    (
                        "healthcheck",
                        map([(
                            "test",
                            strings(&[
                                "CMD",
                                "curl",
                                "-f",
                                "--cacert",
                                "/root/.minio/certs/CAs/ca.pem",
                                "https://localhost:9000/minio/health/live",
                            ]),
                        )]),
                    ),
                ]),
            ));
        }
        out
    }
}

/// A YAML list of strings (a command line, a healthcheck's test).
fn strings(items: &[&str]) -> Value {
    Value::Seq(items.iter().map(|a| s(*a)).collect())
}
