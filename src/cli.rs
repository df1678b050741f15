//! The command line: clap types only. Values from a fixed list (key types,
//! profiles, modes) are clap [`ValueEnum`]s, each converted to its library
//! type by an exhaustive `match` both ways, so that a new library variant
//! does not compile until the command line has it; other values are checked
//! by the library, so that its errors (one line, naming the option) are the
//! same for everyone.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use milvus_certs::export::TlsMode;
use milvus_certs::{KeyType, Profile};

/// Make and maintain the TLS files a Milvus deployment needs.
///
/// Replaces the gen.sh and renew.sh scripts of the Milvus guide "Encryption
/// in Transit": no OpenSSL needed, and the client certificate works with
/// tlsMode 2 (mutual TLS).
#[derive(Debug, Parser)]
#[command(name = "milvus-certs", version, propagate_version = true)]
pub(crate) struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Parses the command line, or exits with clap's usage error (status 2).
    pub(crate) fn parse_or_exit() -> Cli {
        Cli::try_parse().unwrap_or_else(|e| with_close_option(e).exit())
    }
}

/// Adds "a similar argument exists" to an unknown `--option` clap found no
/// suggestion for. clap's suggestions feature is on, but it ranks names by
/// Jaro similarity above 0.7, and a transposition in a short name scores
/// far below that (`--dri` against `--dir`: 0.56), so the most common typo got
/// no hint. The optimal string alignment distance counts a transposition
/// as one edit: at most 1 for names of up to four letters, 2 beyond.
fn with_close_option(mut err: clap::Error) -> clap::Error {
    use clap::CommandFactory;
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if err.kind() != ErrorKind::UnknownArgument || err.get(ContextKind::SuggestedArg).is_some() {
        return err;
    }
    let Some(ContextValue::String(given)) = err.get(ContextKind::InvalidArg) else {
        return err;
    };
    let Some(typed) = given.strip_prefix("--") else {
        return err;
    };
    let typed = typed.split('=').next().unwrap_or_default().to_string();
    // The subcommand the option was given to: the words before it that name one.
    let root = Cli::command();
    let mut cmd = &root;
    for word in std::env::args().skip(1) {
        if word.starts_with(&format!("--{typed}")) {
            break;
        }
        if let Some(sub) = cmd.find_subcommand(&word) {
            cmd = sub;
        }
    }
    let limit = if typed.chars().count() <= 4 { 1 } else { 2 };
    let best = cmd
        .get_arguments()
        .filter_map(|a| a.get_long())
        .chain(["help"])
        .map(|long| (strsim::osa_distance(&typed, long), long))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d);
    if let Some((_, long)) = best {
        err.insert(
            ContextKind::SuggestedArg,
            ContextValue::String(format!("--{long}")),
        );
    }
    err
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Make a new CA, server and client certificates: the seven files of gen.sh
    #[command(after_help = GEN_EXAMPLES)]
    Gen(GenArgs),
    /// Make new server and client keys and certificates from the existing CA (renew.sh)
    #[command(after_help = RENEW_EXAMPLES)]
    Renew(RenewArgs),
    /// Add a certificate from the same CA for a service next to Milvus (etcd, S3, Kafka): NAME.pem, NAME.key
    #[command(after_help = ADD_EXAMPLES)]
    Add(AddArgs),
    /// Check certificates, keys and live servers: expiry, key match, chain, purpose, names
    #[command(after_help = INSPECT_EXAMPLES)]
    Inspect(InspectArgs),
    /// Check a Milvus configuration's TLS settings (milvus.yaml, Helm values, operator resource, Compose)
    #[command(after_help = DOCTOR_EXAMPLES)]
    Doctor(DoctorArgs),
    /// Print (or write) a systemd timer and a crontab line that renew when due
    #[command(after_help = SCHEDULE_EXAMPLES)]
    Schedule(ScheduleArgs),
    /// Write files for a deployment (Compose, Kubernetes, Helm, cert-manager) or a client
    #[command(subcommand, after_help = EXPORT_EXAMPLES)]
    Export(ExportTarget),
    /// Print a shell completion script
    #[command(after_help = COMPLETIONS_EXAMPLES)]
    Completions {
        /// The shell
        #[arg(value_name = "SHELL")]
        shell: Shell,
    },
    /// Print the man page (roff), or write one page per subcommand
    #[command(after_help = MAN_EXAMPLES)]
    Man {
        /// Write milvus-certs.1 and a page for every subcommand into DIR (created if missing)
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

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
    pub common: ExportCommon,

    /// Read the stores' password from the first line of FILE [default: a new random one]
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,

    /// The brokers Milvus connects to (kafka.brokerList), HOST:PORT[,HOST:PORT...]
    #[arg(long, value_name = "HOST:PORT", default_value = "kafka:9093")]
    pub broker: String,
}

const EXPORT_EXAMPLES: &str = "\
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
    pub dir: PathBuf,

    /// Write the files into DIR (created if missing) instead of printing
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// With --out: replace existing files
    #[arg(long, requires = "out")]
    pub force: bool,
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
    pub mode: ModeArg,

    /// Also enable internal TLS between Milvus components (internaltls)
    #[arg(long)]
    pub internal: bool,

    /// With --internal: internaltls.sni, one of server.pem's DNS names [default: its common name]
    #[arg(long, value_name = "NAME", requires = "internal")]
    pub sni: Option<String>,
}

/// TLS for Milvus's dependencies, from the same CA (make their
/// certificates first with `milvus-certs add`).
#[derive(Debug, Args)]
pub(crate) struct DepsArgs {
    /// Milvus talks to its etcd over mutual TLS (etcd.ssl.*, https endpoints) with etcd-client.pem; Compose also turns on TLS in the etcd service (etcd.pem)
    #[arg(long)]
    pub etcd: bool,

    /// Milvus talks to its S3 storage over TLS (minio.useSSL) trusting a bundle of the system's roots and ca.pem; Compose also turns on TLS in the minio service (s3.pem)
    #[arg(long)]
    pub s3: bool,

    /// Milvus talks to Kafka over TLS with kafka-client.pem (librdkafka ssl.* settings); the broker's files come from export kafka
    #[arg(long)]
    pub kafka: bool,
}

/// Options of `export compose`.
#[derive(Debug, Args)]
pub(crate) struct ComposeArgs {
    #[command(flatten)]
    pub common: ExportCommon,
    #[command(flatten)]
    pub tls: TlsArgs,

    /// Your release's full milvus.yaml: write a copy with the TLS settings set, mounted over /milvus/configs/milvus.yaml (for Milvus 2.3 and earlier, which do not read user.yaml)
    #[arg(long, value_name = "PATH")]
    pub milvus_config: Option<PathBuf>,
    #[command(flatten)]
    pub deps: DepsArgs,
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
    pub common: ExportCommon,
    #[command(flatten)]
    pub deps: DepsArgs,

    /// The Secret's name
    #[arg(long, value_name = "NAME", default_value = "certs")]
    pub name: String,

    /// The Secret's namespace [default: none, kubectl's current one]
    #[arg(long, value_name = "NS")]
    pub namespace: Option<String>,
}

/// The Secret Milvus's pods mount at /certs.
#[derive(Debug, Args)]
pub(crate) struct VolumeArgs {
    /// The Secret holding the certificates (see export k8s-secret)
    #[arg(long, value_name = "NAME", default_value = "certs")]
    pub secret: String,

    /// The Secret is cert-manager's: mount tls.crt, tls.key, ca.crt as server.pem, server.key, ca.pem
    #[arg(long)]
    pub cert_manager: bool,
}

/// Options of `export operator`.
#[derive(Debug, Args)]
pub(crate) struct OperatorArgs {
    #[command(flatten)]
    pub common: ExportCommon,
    #[command(flatten)]
    pub tls: TlsArgs,
    #[command(flatten)]
    pub deps: DepsArgs,

    /// The Milvus resource's name
    #[arg(long, value_name = "NAME", default_value = "my-release")]
    pub release: String,

    /// The resource's namespace [default: none, kubectl's current one]
    #[arg(long, value_name = "NS")]
    pub namespace: Option<String>,
    #[command(flatten)]
    pub volume: VolumeArgs,
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
    pub common: ExportCommon,
    #[command(flatten)]
    pub tls: TlsArgs,
    #[command(flatten)]
    pub deps: DepsArgs,
    #[command(flatten)]
    pub volume: VolumeArgs,
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
    pub common: ExportCommon,
    #[command(flatten)]
    pub tls: TlsArgs,

    /// The namespace of the Secrets, Issuer and Certificate [default: none, kubectl's current one]
    #[arg(long, value_name = "NS")]
    pub namespace: Option<String>,

    /// The Secret cert-manager keeps the server certificate in, which Milvus mounts
    #[arg(long, value_name = "NAME", default_value = "certs")]
    pub secret: String,
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
    pub common: ExportCommon,

    /// tlsMode: 1 one-way TLS, 2 mutual TLS (uses client.pem and client.key)
    #[arg(
        long,
        value_name = "1|2",
        default_value = "1",
        hide_possible_values = true
    )]
    pub mode: ModeArg,

    /// The name clients connect to; server.pem must have it [default: its common name]
    #[arg(long, value_name = "NAME")]
    pub host: Option<String>,

    /// The gRPC port
    #[arg(long, value_name = "PORT", default_value_t = 19530)]
    pub port: u16,

    /// The RESTful port (proxy.http.port)
    #[arg(long, value_name = "PORT", default_value_t = 8080)]
    pub http_port: u16,
}

const CLIENT_EXAMPLES: &str = "\
Examples:
  milvus-certs export client --dir cert
  milvus-certs export client --dir cert --mode 2 --host milvus.example.com
  milvus-certs export client --dir cert --mode 2 --out app    # app/client.py, app/curl.sh

Paths in the code are absolute, so it runs from anywhere on this machine.";

/// Shells `completions` can write for.
pub(crate) use clap_complete::Shell;

const GEN_EXAMPLES: &str = "\
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
    pub dir: PathBuf,

    /// The server name clients connect to (gen.sh's CommonName); also a subjectAltName, and localhost also names 127.0.0.1 and ::1
    #[arg(long, value_name = "NAME", default_value = "localhost")]
    pub common_name: String,

    /// Another name for the server (repeatable; a host, without port or scheme): an IP address becomes an IP SAN, anything else a DNS SAN
    #[arg(long = "san", value_name = "NAME")]
    pub sans: Vec<String>,

    /// Country, two letters (gen.sh's Country)
    #[arg(long, value_name = "CC", default_value = "US")]
    pub country: String,

    /// State or province (gen.sh's State)
    #[arg(long, value_name = "TEXT", default_value = "CA")]
    pub state: String,

    /// Locality (gen.sh's Location)
    #[arg(long, value_name = "TEXT", default_value = "Redwood City")]
    pub locality: String,

    /// Organization (gen.sh's Organization)
    #[arg(long, value_name = "TEXT", default_value = "zilliz")]
    pub organization: String,

    /// Organizational unit (gen.sh's OrganizationUnit)
    #[arg(long, value_name = "TEXT", default_value = "devops")]
    pub org_unit: String,

    /// Validity of the server and client certificates (gen.sh's ExpireDays)
    #[arg(long, value_name = "N", default_value_t = 3650)]
    pub days: u32,

    /// Validity of the CA certificate
    #[arg(long, value_name = "N", default_value_t = 36500)]
    pub ca_days: u32,

    /// Common name of the CA [default: "<common-name> CA"]
    #[arg(long, value_name = "NAME")]
    pub ca_common_name: Option<String>,

    /// Key type of all three keys
    #[arg(long, value_name = "TYPE", default_value = "rsa2048")]
    pub key_type: KeyTypeArg,

    /// Replace existing files (the old ones are kept under DIR/backup/<time>/)
    #[arg(long)]
    pub force: bool,

    /// With --force, do not keep the replaced files
    #[arg(long, requires = "force")]
    pub no_backup: bool,
}

const ADD_EXAMPLES: &str = "\
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
    pub name: String,

    /// What it is for: server (serverAuth), client (clientAuth), peer (both) [default: the ready-made name's]
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<ProfileArg>,

    /// Another name for it (repeatable; a host, without port or scheme): an IP address becomes an IP SAN, anything else a DNS SAN
    #[arg(long = "san", value_name = "NAME")]
    pub sans: Vec<String>,

    /// Do not give a server or peer certificate the names localhost, 127.0.0.1 and ::1
    #[arg(long)]
    pub no_localhost: bool,

    /// Validity in days
    #[arg(long, value_name = "N", default_value_t = 3650)]
    pub days: u32,

    /// Key type [default: the CA's]
    #[arg(long, value_name = "TYPE")]
    pub key_type: Option<KeyTypeArg>,

    /// Directory holding ca.pem and ca.key
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,

    /// Replace an existing NAME.pem and NAME.key (the old ones are kept under DIR/backup/<time>/)
    #[arg(long)]
    pub force: bool,

    /// With --force, do not keep the replaced files
    #[arg(long, requires = "force")]
    pub no_backup: bool,
}

const RENEW_EXAMPLES: &str = "\
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
    pub dir: PathBuf,

    /// Renew only this one (repeatable): server, client, or the NAME of a certificate `add` made [default: all of them]
    #[arg(long, value_name = "WHICH")]
    pub only: Vec<String>,

    /// Validity of the new certificates [default: the lifetime of the one each replaces, 3650 for a missing one]
    #[arg(long, value_name = "N")]
    pub days: Option<u32>,

    /// A new common name [default: the old certificate's]
    #[arg(long, value_name = "NAME")]
    pub common_name: Option<String>,

    /// A name to add (repeatable): an IP address becomes an IP SAN, anything else a DNS SAN
    #[arg(long = "san", value_name = "NAME")]
    pub sans: Vec<String>,

    /// Drop the old certificate's names: keep only the common name and the --san names
    #[arg(long)]
    pub replace_sans: bool,

    /// Country, two letters [default: the old certificate's]
    #[arg(long, value_name = "CC")]
    pub country: Option<String>,

    /// State or province [default: the old certificate's]
    #[arg(long, value_name = "TEXT")]
    pub state: Option<String>,

    /// Locality [default: the old certificate's]
    #[arg(long, value_name = "TEXT")]
    pub locality: Option<String>,

    /// Organization [default: the old certificate's]
    #[arg(long, value_name = "TEXT")]
    pub organization: Option<String>,

    /// Organizational unit [default: the old certificate's]
    #[arg(long, value_name = "TEXT")]
    pub org_unit: Option<String>,

    /// Key type of the new keys [default: the old key's]
    #[arg(long, value_name = "TYPE")]
    pub key_type: Option<KeyTypeArg>,

    /// Do not keep the replaced files
    #[arg(long)]
    pub no_backup: bool,

    /// Re-sign the CA certificate with the same key and subject instead (certificates it issued keep chaining to it)
    #[arg(long, conflicts_with_all = ["only", "common_name", "sans", "replace_sans", "country", "state",
          "locality", "organization", "org_unit", "key_type"])]
    pub ca: bool,

    /// With --ca: validity of the re-signed CA certificate [default: the old CA certificate's lifetime]
    #[arg(long, value_name = "N", requires = "ca")]
    pub ca_days: Option<u32>,

    /// Renew only the leaves that expire within DAYS (or are expired, mismatched or lack their purpose); otherwise do nothing and exit 0
    #[arg(long, value_name = "DAYS", conflicts_with = "ca")]
    pub if_expiring_within: Option<u32>,

    /// After a successful renewal (only then), run CMD with sh -c; MILVUS_CERTS_DIR and MILVUS_CERTS_RENEWED are set
    #[arg(long, value_name = "CMD")]
    pub then: Option<String>,

    /// Check everything a real run would (values, files, the CA key) and print what it would renew; change nothing
    #[arg(long)]
    pub dry_run: bool,
}

const INSPECT_EXAMPLES: &str = "\
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

const DOCTOR_EXAMPLES: &str = "\
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
    pub files: Vec<PathBuf>,

    /// The folder holding the certificate files the configuration names (server.pem, server.key, ca.pem, client.pem, etcd-client.pem...)
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// Options of `inspect`.
#[derive(Debug, Args)]
pub(crate) struct InspectArgs {
    /// Certificate files (PEM, bundles too, or DER) or directories to inspect [default: the seven files of --dir]
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// A folder: recognised as a CA, server deployment or client folder and checked for what it needs [default: . when no PATH is given]
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Report certificates expiring within this many days (exit status 1)
    #[arg(long, value_name = "DAYS", default_value_t = 30)]
    pub warn_days: u32,

    /// A name clients use to reach Milvus (repeatable): server.pem must have a matching SAN; with --connect, the name to verify [default: HOST]
    #[arg(long = "server-name", value_name = "NAME")]
    pub server_names: Vec<String>,

    /// Print one JSON document (schema in docs/reference.md)
    #[arg(long)]
    pub json: bool,

    /// Connect to a running server and check the chain it presents (repeatable)
    #[arg(long, value_name = "HOST:PORT")]
    pub connect: Vec<String>,

    /// A CA certificate every leaf among the PATHs must verify against; with --connect, the CA to verify the server against [default: DIR/ca.pem]
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,

    /// The deployment's tlsMode: 1 (one-way TLS) needs no client files anywhere [default: 2, client files needed]
    #[arg(long, value_name = "1|2", hide_possible_values = true)]
    pub mode: Option<ModeArg>,

    /// With --connect: the client certificate to present if the server asks [default: DIR/client.pem]
    #[arg(long, value_name = "FILE", requires = "client_key")]
    pub client_cert: Option<PathBuf>,

    /// With --connect: the client key [default: DIR/client.key]
    #[arg(long, value_name = "FILE", requires = "client_cert")]
    pub client_key: Option<PathBuf>,

    /// With --connect: give up after this many seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
}

const SCHEDULE_EXAMPLES: &str = "\
Examples:
  milvus-certs schedule --dir /etc/milvus/tls --then \"systemctl restart milvus\"
  milvus-certs schedule --dir /etc/milvus/tls --then \"docker compose -f /srv/milvus/docker-compose.yml restart standalone\" --out .

The units run `milvus-certs renew --dir DIR --if-expiring-within DAYS [--then CMD]`
daily (randomized delay, catching up after downtime), with absolute paths.";

/// Options of `schedule`.
#[derive(Debug, Args)]
pub(crate) struct ScheduleArgs {
    /// The certificate directory to keep renewed
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,

    /// Renew when a certificate expires within this many days
    #[arg(long, value_name = "DAYS", default_value_t = 30)]
    pub within: u32,

    /// Passed to renew: validity of the new certificates [default: renew keeps each one's lifetime]
    #[arg(long, value_name = "N")]
    pub days: Option<u32>,

    /// The command that makes Milvus load the new files (run only after a renewal); one line: put several commands in a script and pass its path
    #[arg(long, value_name = "CMD")]
    pub then: Option<String>,

    /// Write NAME.service, NAME.timer and NAME.cron into this directory instead of printing them
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Base name of the units
    #[arg(long, value_name = "NAME", default_value = "milvus-certs-renew")]
    pub name: String,

    /// With --out: replace existing files
    #[arg(long, requires = "out")]
    pub force: bool,
}

const COMPLETIONS_EXAMPLES: &str = "\
Examples:
  milvus-certs completions bash > /etc/bash_completion.d/milvus-certs
  milvus-certs completions zsh > \"${fpath[1]}/_milvus-certs\"
  milvus-certs completions fish > ~/.config/fish/completions/milvus-certs.fish";

const MAN_EXAMPLES: &str = "\
Examples:
  milvus-certs man | man -l -
  milvus-certs man --out /usr/local/share/man/man1 && mandb";

// The value lists. Their variants carry no doc comments on purpose: clap
// would list them with their help in `--help`, which the value names and
// the option's own help already say.

/// `--key-type`: a [`KeyType`], by the name the library gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum KeyTypeArg {
    Rsa2048,
    Rsa3072,
    Rsa4096,
    EcdsaP256,
    EcdsaP384,
    Ed25519,
}

impl From<KeyTypeArg> for KeyType {
    fn from(k: KeyTypeArg) -> KeyType {
        match k {
            KeyTypeArg::Rsa2048 => KeyType::Rsa2048,
            KeyTypeArg::Rsa3072 => KeyType::Rsa3072,
            KeyTypeArg::Rsa4096 => KeyType::Rsa4096,
            KeyTypeArg::EcdsaP256 => KeyType::EcdsaP256,
            KeyTypeArg::EcdsaP384 => KeyType::EcdsaP384,
            KeyTypeArg::Ed25519 => KeyType::Ed25519,
        }
    }
}

/// The way back: a key type the library adds fails to compile here until
/// `--key-type` offers it.
impl From<KeyType> for KeyTypeArg {
    fn from(k: KeyType) -> KeyTypeArg {
        match k {
            KeyType::Rsa2048 => KeyTypeArg::Rsa2048,
            KeyType::Rsa3072 => KeyTypeArg::Rsa3072,
            KeyType::Rsa4096 => KeyTypeArg::Rsa4096,
            KeyType::EcdsaP256 => KeyTypeArg::EcdsaP256,
            KeyType::EcdsaP384 => KeyTypeArg::EcdsaP384,
            KeyType::Ed25519 => KeyTypeArg::Ed25519,
        }
    }
}

/// `add --profile`: a [`Profile`], by the name the library gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ProfileArg {
    Server,
    Client,
    Peer,
}

impl From<ProfileArg> for Profile {
    fn from(p: ProfileArg) -> Profile {
        match p {
            ProfileArg::Server => Profile::Server,
            ProfileArg::Client => Profile::Client,
            ProfileArg::Peer => Profile::Peer,
        }
    }
}

/// The way back, so that a new profile does not compile without `--profile`.
impl From<Profile> for ProfileArg {
    fn from(p: Profile) -> ProfileArg {
        match p {
            Profile::Server => ProfileArg::Server,
            Profile::Client => ProfileArg::Client,
            Profile::Peer => ProfileArg::Peer,
        }
    }
}

/// `--mode 1|2`: Milvus's `tlsMode`, as its configuration spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    #[value(name = "1")]
    OneWay,
    #[value(name = "2")]
    Mutual,
}

impl From<ModeArg> for TlsMode {
    fn from(m: ModeArg) -> TlsMode {
        match m {
            ModeArg::OneWay => TlsMode::OneWay,
            ModeArg::Mutual => TlsMode::Mutual,
        }
    }
}

/// The way back, so that a new mode does not compile without `--mode`.
impl From<TlsMode> for ModeArg {
    fn from(m: TlsMode) -> ModeArg {
        match m {
            TlsMode::OneWay => ModeArg::OneWay,
            TlsMode::Mutual => ModeArg::Mutual,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spelled(v: impl ValueEnum) -> String {
        v.to_possible_value()
            .map(|p| p.get_name().to_string())
            .unwrap_or_default()
    }

    /// Each value is spelled on the command line as the library names it
    /// (so `--help`, the man pages and the library's messages agree), and
    /// converts back to itself.
    #[test]
    fn values_are_named_as_the_library_names_them() {
        for k in KeyType::ALL {
            assert_eq!(spelled(KeyTypeArg::from(k)), k.name());
            assert_eq!(KeyType::from(KeyTypeArg::from(k)), k);
        }
        assert_eq!(KeyTypeArg::value_variants().len(), KeyType::ALL.len());
        for p in Profile::ALL {
            assert_eq!(spelled(ProfileArg::from(p)), p.name());
            assert_eq!(Profile::from(ProfileArg::from(p)), p);
        }
        assert_eq!(ProfileArg::value_variants().len(), Profile::ALL.len());
        for m in [TlsMode::OneWay, TlsMode::Mutual] {
            assert_eq!(spelled(ModeArg::from(m)), m.value().to_string());
            assert_eq!(TlsMode::from(ModeArg::from(m)), m);
        }
    }
}
