//! `export`: one subcommand per target, and what the library is asked to
//! make from each (a [`Target`] with the [`Common`] options, or the
//! [`KafkaOptions`] of `export kafka`).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use milvus_certs::export::{Common, Deps, KafkaOptions, Target, TlsMode};

use super::{ModeArg, Usage};

/// What `export` writes.
#[derive(Debug, Subcommand)]
pub(crate) enum ExportTarget {
    /// Docker Compose: tls/ (server.pem, server.key, ca.pem), a user.yaml fragment (or with --milvus-config a full milvus.yaml) and docker-compose.tls.yml
    #[command(after_help = COMPOSE_EXAMPLES)]
    Compose(ComposeArgs),
    /// The Kubernetes Secret `certs` with server.pem, server.key and ca.pem (as kubectl create secret generic)
    #[command(after_help = K8S_SECRET_EXAMPLES)]
    K8sSecret(K8sSecretArgs),
    /// A Milvus Operator `Milvus` resource with the TLS settings and the certs volume
    #[command(after_help = OPERATOR_EXAMPLES)]
    Operator(OperatorArgs),
    /// Helm values for the milvus chart: extraConfigFiles user.yaml and the certs volume
    #[command(after_help = HELM_EXAMPLES)]
    Helm(HelmArgs),
    /// A cert-manager CA Issuer and server Certificate from this CA, and Helm values that mount it
    #[command(after_help = CERT_MANAGER_EXAMPLES)]
    CertManager(CertManagerArgs),
    /// pymilvus code and curl commands that connect with these files
    #[command(after_help = CLIENT_EXAMPLES)]
    Client(ClientArgs),
    /// Kafka over TLS: the broker's PKCS#12 key and trust stores and settings, and Milvus's Kafka client settings
    #[command(after_help = KAFKA_EXAMPLES)]
    Kafka(KafkaArgs),
}

const KAFKA_EXAMPLES: &str = "\
Examples:
  milvus-certs add kafka --dir cert && milvus-certs add kafka-client --dir cert
  milvus-certs export kafka --dir cert --out deploy
  milvus-certs export kafka --dir cert --out deploy --password-file kafka-pass.txt --broker kafka:9093

Writes kafka/kafka.keystore.p12 (kafka.pem, its key and ca.pem; 0600),
kafka/kafka.truststore.p12 (ca.pem), kafka/password (0600; a new random one
unless --password-file), kafka/server.properties (the broker's ssl.* settings;
0600, it holds the password), milvus-kafka/ (ca.pem, kafka-client.pem and
.key for Milvus) and milvus-kafka.yaml (Milvus's Kafka client settings).";

/// Options of `export kafka`.
#[derive(Debug, Args)]
pub(crate) struct KafkaArgs {
    #[command(flatten)]
    pub(crate) common: ExportCommon,

    /// Read the stores' password from the first line of FILE [default: a new random one]
    #[arg(long, value_name = "FILE")]
    pub(crate) password_file: Option<PathBuf>,

    /// The brokers Milvus connects to (kafka.brokerList), HOST:PORT[,HOST:PORT...]
    #[arg(long, value_name = "HOST:PORT", default_value = "kafka:9093")]
    pub(crate) broker: String,
}

pub(super) const EXAMPLES: &str = "\
Examples:
  milvus-certs export compose --dir cert --out deploy --mode 2
  milvus-certs export k8s-secret --dir cert | kubectl apply -f -
  milvus-certs export helm --dir cert --mode 1 --internal > values-tls.yaml
  milvus-certs export client --dir cert --mode 2

Every target checks the files first: the key matches server.pem, server.pem
chains to ca.pem, --sni is one of its names, and with --mode 2 client.pem
has clientAuth. Nothing that exists is replaced without --force.";

/// Options every export target has.
#[derive(Debug, Args)]
pub(crate) struct ExportCommon {
    /// The certificate directory
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub(crate) dir: PathBuf,

    /// Write the files into DIR (created if missing) instead of printing
    #[arg(long, value_name = "DIR")]
    pub(crate) out: Option<PathBuf>,

    /// With --out: replace existing files
    #[arg(long, requires = "out")]
    pub(crate) force: bool,
}

/// The Milvus TLS settings.
#[derive(Debug, Args)]
pub(crate) struct TlsArgs {
    /// tlsMode: 1 one-way TLS, 2 mutual TLS (clients need client.pem)
    #[arg(
        long,
        value_name = "1|2",
        default_value = "1",
        hide_possible_values = true
    )]
    pub(crate) mode: ModeArg,

    /// Also enable internal TLS between Milvus components (internaltls)
    #[arg(long)]
    pub(crate) internal: bool,

    /// With --internal: internaltls.sni, one of server.pem's DNS names [default: its common name]
    #[arg(long, value_name = "NAME", requires = "internal")]
    pub(crate) sni: Option<String>,
}

/// TLS for Milvus's dependencies, from the same CA (make their
/// certificates first with `milvus-certs add`).
#[derive(Debug, Args)]
pub(crate) struct DepsArgs {
    /// Milvus talks to its etcd over mutual TLS (etcd.ssl.*, https endpoints) with etcd-client.pem; Compose also turns on TLS in the etcd service (etcd.pem)
    #[arg(long)]
    pub(crate) etcd: bool,

    /// Milvus talks to its S3 storage over TLS (minio.useSSL) trusting a bundle of the system's roots and ca.pem; Compose also turns on TLS in the minio service (s3.pem)
    #[arg(long)]
    pub(crate) s3: bool,

    /// Milvus talks to Kafka over TLS with kafka-client.pem (librdkafka ssl.* settings); the broker's files come from export kafka
    #[arg(long)]
    pub(crate) kafka: bool,
}

/// Options of `export compose`.
#[derive(Debug, Args)]
pub(crate) struct ComposeArgs {
    #[command(flatten)]
    pub(crate) common: ExportCommon,
    #[command(flatten)]
    pub(crate) tls: TlsArgs,

    /// Your release's full milvus.yaml: write a copy with the TLS settings set, mounted over /milvus/configs/milvus.yaml (for Milvus 2.3 and earlier, which do not read user.yaml)
    #[arg(long, value_name = "PATH")]
    pub(crate) milvus_config: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) deps: DepsArgs,
}

const COMPOSE_EXAMPLES: &str = "\
Examples:
  milvus-certs export compose --dir cert --out .          # next to docker-compose.yml
  milvus-certs export compose --dir cert --out deploy --mode 2 --internal

  milvus-certs export compose --dir cert --out deploy --milvus-config milvus.yaml   # Milvus 2.3

Writes tls/server.pem, tls/server.key (0600), tls/ca.pem, user.yaml (mounted
as /milvus/configs/user.yaml, which Milvus 2.4 and later read after their
milvus.yaml) and docker-compose.tls.yml. Milvus 2.3 and earlier do not read
user.yaml: with --milvus-config, a copy of that full milvus.yaml with the TLS
settings set is written instead and mounted over /milvus/configs/milvus.yaml.
Then: docker compose -f docker-compose.yml -f docker-compose.tls.yml up -d, then check: milvus-certs inspect --connect localhost:19530 --dir cert";

const K8S_SECRET_EXAMPLES: &str = "\
Examples:
  milvus-certs export k8s-secret --dir cert | kubectl apply -f -
  milvus-certs export k8s-secret --dir cert --namespace milvus --out deploy

The Secret holds the server's private key: with --out it is written 0600.";

/// Options of `export k8s-secret`.
#[derive(Debug, Args)]
pub(crate) struct K8sSecretArgs {
    #[command(flatten)]
    pub(crate) common: ExportCommon,
    #[command(flatten)]
    pub(crate) deps: DepsArgs,

    /// The Secret's name
    #[arg(long, value_name = "NAME", default_value = "certs")]
    pub(crate) name: String,

    /// The Secret's namespace [default: none, kubectl's current one]
    #[arg(long, value_name = "NS")]
    pub(crate) namespace: Option<String>,
}

/// The Secret Milvus's pods mount at /certs.
#[derive(Debug, Args)]
pub(crate) struct VolumeArgs {
    /// The Secret holding the certificates (see export k8s-secret)
    #[arg(long, value_name = "NAME", default_value = "certs")]
    pub(crate) secret: String,

    /// The Secret is cert-manager's: mount tls.crt, tls.key, ca.crt as server.pem, server.key, ca.pem
    #[arg(long)]
    pub(crate) cert_manager: bool,
}

/// Options of `export operator`.
#[derive(Debug, Args)]
pub(crate) struct OperatorArgs {
    #[command(flatten)]
    pub(crate) common: ExportCommon,
    #[command(flatten)]
    pub(crate) tls: TlsArgs,
    #[command(flatten)]
    pub(crate) deps: DepsArgs,

    /// The Milvus resource's name
    #[arg(long, value_name = "NAME", default_value = "my-release")]
    pub(crate) release: String,

    /// The resource's namespace [default: none, kubectl's current one]
    #[arg(long, value_name = "NS")]
    pub(crate) namespace: Option<String>,
    #[command(flatten)]
    pub(crate) volume: VolumeArgs,
}

const OPERATOR_EXAMPLES: &str = "\
Examples:
  milvus-certs export k8s-secret --dir cert | kubectl apply -f -
  milvus-certs export operator --dir cert --mode 2 | kubectl apply -f -
  milvus-certs export operator --dir cert --internal --release my-release --out deploy";

/// Options of `export helm`.
#[derive(Debug, Args)]
pub(crate) struct HelmArgs {
    #[command(flatten)]
    pub(crate) common: ExportCommon,
    #[command(flatten)]
    pub(crate) tls: TlsArgs,
    #[command(flatten)]
    pub(crate) deps: DepsArgs,
    #[command(flatten)]
    pub(crate) volume: VolumeArgs,
}

const HELM_EXAMPLES: &str = "\
Examples:
  milvus-certs export k8s-secret --dir cert | kubectl apply -f -
  milvus-certs export helm --dir cert --mode 1 --internal > values-tls.yaml
  helm install my-release milvus/milvus -f values-tls.yaml";

/// Options of `export cert-manager`.
#[derive(Debug, Args)]
pub(crate) struct CertManagerArgs {
    #[command(flatten)]
    pub(crate) common: ExportCommon,
    #[command(flatten)]
    pub(crate) tls: TlsArgs,

    /// The namespace of the Secrets, Issuer and Certificate [default: none, kubectl's current one]
    #[arg(long, value_name = "NS")]
    pub(crate) namespace: Option<String>,

    /// The Secret cert-manager keeps the server certificate in, which Milvus mounts
    #[arg(long, value_name = "NAME", default_value = "certs")]
    pub(crate) secret: String,
}

const CERT_MANAGER_EXAMPLES: &str = "\
Examples:
  milvus-certs export cert-manager --dir cert --out deploy
  kubectl apply -f deploy/cert-manager.yaml
  helm upgrade --install my-release milvus/milvus -f deploy/values-cert-manager.yaml

Writes cert-manager.yaml (0600: it holds ca.key in the milvus-ca Secret, with
the milvus-ca Issuer and the milvus-server Certificate) and values-cert-manager.yaml.";

/// Options of `export client`.
#[derive(Debug, Args)]
pub(crate) struct ClientArgs {
    #[command(flatten)]
    pub(crate) common: ExportCommon,

    /// tlsMode: 1 one-way TLS, 2 mutual TLS (uses client.pem and client.key)
    #[arg(
        long,
        value_name = "1|2",
        default_value = "1",
        hide_possible_values = true
    )]
    pub(crate) mode: ModeArg,

    /// The name clients connect to; server.pem must have it [default: its common name]
    #[arg(long, value_name = "NAME")]
    pub(crate) host: Option<String>,

    /// The gRPC port
    #[arg(long, value_name = "PORT", default_value_t = 19530)]
    pub(crate) port: u16,

    /// The RESTful port (proxy.http.port)
    #[arg(long, value_name = "PORT", default_value_t = 8080)]
    pub(crate) http_port: u16,
}

const CLIENT_EXAMPLES: &str = "\
Examples:
  milvus-certs export client --dir cert
  milvus-certs export client --dir cert --mode 2 --host milvus.example.com
  milvus-certs export client --dir cert --mode 2 --out app    # app/client.py, app/curl.sh

Paths in the code are absolute, so it runs from anywhere on this machine.";

/// What `export` asks the library to make.
pub(crate) enum Request {
    /// `export kafka`.
    Kafka(KafkaOptions),
    /// Every other target.
    Files(Common, Target),
}

impl ExportTarget {
    /// `--out` and `--force`.
    pub(crate) fn out(&self) -> (Option<PathBuf>, bool) {
        let c = self.common();
        (c.out.clone(), c.force)
    }

    /// A target that has nothing to print without `--out` is refused
    /// before anything is made.
    pub(crate) fn check_out(&self) -> Result<(), Usage> {
        match self {
            ExportTarget::Kafka(a) if a.common.out.is_none() => Err(Usage(format!(
                "export kafka writes several files (binary key stores among them): \
                 pass --out DIR, e.g. `{}` (nothing was written)",
                super::as_given_with(&["--out", "deploy"])
            ))),
            _ => Ok(()),
        }
    }

    /// The refusal of a target that made several files and was given no
    /// `--out` to write them into.
    pub(crate) fn needs_out(&self) -> Usage {
        Usage(format!(
            "export {} writes several files: pass --out DIR, e.g. `{}` (nothing was written)",
            self.name(),
            super::as_given_with(&["--out", "deploy"])
        ))
    }

    /// What the library is asked to make.
    pub(crate) fn request(self) -> Request {
        let tls = |t: &TlsArgs| (TlsMode::from(t.mode), t.internal, t.sni.clone());
        let one_way = (TlsMode::OneWay, false, None);
        let (common, deps, (mode, internal, sni), target) = match self {
            ExportTarget::Kafka(a) => {
                return Request::Kafka(KafkaOptions {
                    dir: a.common.dir,
                    password_file: a.password_file,
                    brokers: a.broker,
                });
            }
            ExportTarget::Compose(a) => (
                a.common,
                a.deps.into(),
                tls(&a.tls),
                Target::Compose {
                    milvus_config: a.milvus_config,
                },
            ),
            ExportTarget::K8sSecret(a) => (
                a.common,
                a.deps.into(),
                one_way,
                Target::K8sSecret {
                    name: a.name,
                    namespace: a.namespace,
                },
            ),
            ExportTarget::Operator(a) => (
                a.common,
                a.deps.into(),
                tls(&a.tls),
                Target::Operator {
                    release: a.release,
                    namespace: a.namespace,
                    secret: a.volume.secret,
                    cert_manager: a.volume.cert_manager,
                },
            ),
            ExportTarget::Helm(a) => (
                a.common,
                a.deps.into(),
                tls(&a.tls),
                Target::Helm {
                    secret: a.volume.secret,
                    cert_manager: a.volume.cert_manager,
                },
            ),
            ExportTarget::CertManager(a) => (
                a.common,
                Deps::default(),
                tls(&a.tls),
                Target::CertManager {
                    namespace: a.namespace,
                    secret: a.secret,
                },
            ),
            ExportTarget::Client(a) => (
                a.common,
                Deps::default(),
                (a.mode.into(), false, None),
                Target::Client {
                    host: a.host,
                    port: a.port,
                    http_port: a.http_port,
                },
            ),
        };
        let common = Common {
            dir: common.dir,
            mode,
            internal,
            sni,
            deps,
        };
        Request::Files(common, target)
    }

    /// The target's name, as the command line spells it.
    fn name(&self) -> &'static str {
        match self {
            ExportTarget::Compose(_) => "compose",
            ExportTarget::K8sSecret(_) => "k8s-secret",
            ExportTarget::Operator(_) => "operator",
            ExportTarget::Helm(_) => "helm",
            ExportTarget::CertManager(_) => "cert-manager",
            ExportTarget::Client(_) => "client",
            ExportTarget::Kafka(_) => "kafka",
        }
    }

    fn common(&self) -> &ExportCommon {
        match self {
            ExportTarget::Compose(a) => &a.common,
            ExportTarget::K8sSecret(a) => &a.common,
            ExportTarget::Operator(a) => &a.common,
            ExportTarget::Helm(a) => &a.common,
            ExportTarget::CertManager(a) => &a.common,
            ExportTarget::Client(a) => &a.common,
            ExportTarget::Kafka(a) => &a.common,
        }
    }
}

impl From<DepsArgs> for Deps {
    fn from(d: DepsArgs) -> Deps {
        Deps {
            etcd: d.etcd,
            s3: d.s3,
            kafka: d.kafka,
        }
    }
}
