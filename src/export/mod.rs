//! `milvus-certs export`: the files each deployment of the guide needs,
//! written from typed values (see `crate::yaml`) and from the certificate
//! directory, after checking that what they point at will work (issue 5).
//!
//! One file per target (`export kafka` in `kafka`); `stack` holds what
//! `--etcd`, `--s3` and `--kafka` add, `preflight` the checks every target
//! runs first, `milvus` the configuration the guide gives Milvus, and `k8s`
//! what the Kubernetes targets share.

use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use crate::error::{Error, Result};
use crate::store::{self, DirLock, LOCK_WAIT, Recovery};

mod cert_manager;
mod client;
mod compose;
mod helm;
mod k8s;
mod k8s_secret;
mod kafka;
mod milvus;
mod operator;
mod preflight;
mod stack;

pub use kafka::{KafkaOptions, export as kafka};
pub use stack::Deps;

use milvus::{Config, check_command};
use preflight::{check_client, check_sni, expiry_warnings, load};

/// Milvus's `common.security.tlsMode` for external connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsMode {
    /// 1: one-way TLS, only the server has a certificate.
    OneWay,
    /// 2: mutual TLS, clients present a certificate from the same CA.
    Mutual,
}

impl TlsMode {
    /// The value of `tlsMode`.
    pub fn value(self) -> i64 {
        match self {
            TlsMode::OneWay => 1,
            TlsMode::Mutual => 2,
        }
    }
}

/// The options every target shares.
#[derive(Clone, Debug)]
pub struct Common {
    /// The certificate directory.
    pub dir: PathBuf,
    /// `tlsMode`.
    pub mode: TlsMode,
    /// Also enable internal TLS between Milvus's components.
    pub internal: bool,
    /// `internaltls.sni`; default: the server certificate's common name.
    pub sni: Option<String>,
    /// TLS for Milvus's etcd, S3 storage and Kafka too (issue 15).
    pub deps: stack::Deps,
}

/// What to export.
#[derive(Clone, Debug)]
pub enum Target {
    /// Docker Compose: `tls/`, a `user.yaml` fragment (or, with
    /// `milvus_config`, a full `milvus.yaml`), an override file.
    Compose {
        /// The user's full `milvus.yaml`, to copy with the TLS settings set
        /// (for Milvus 2.3 and earlier, which do not read `user.yaml`).
        milvus_config: Option<PathBuf>,
    },
    /// The `certs` Secret, as `kubectl create secret generic` makes it.
    K8sSecret {
        /// metadata.name.
        name: String,
        /// metadata.namespace, if any.
        namespace: Option<String>,
    },
    /// A Milvus Operator `Milvus` resource.
    Operator {
        /// metadata.name.
        release: String,
        /// metadata.namespace, if any.
        namespace: Option<String>,
        /// The Secret holding the certificates.
        secret: String,
        /// Mount cert-manager's keys (`tls.crt`, ...) under the guide's names.
        cert_manager: bool,
    },
    /// Helm values for the milvus chart.
    Helm {
        /// The Secret holding the certificates.
        secret: String,
        /// Mount cert-manager's keys (`tls.crt`, ...) under the guide's names.
        cert_manager: bool,
    },
    /// A cert-manager CA Issuer and Certificate, and Helm values using them.
    CertManager {
        /// The namespace of the Secrets, Issuer and Certificate, if any.
        namespace: Option<String>,
        /// The Secret cert-manager keeps the server certificate in.
        secret: String,
    },
    /// pymilvus code and curl commands.
    Client {
        /// The name clients connect to; default: the server's common name.
        host: Option<String>,
        /// The gRPC port.
        port: u16,
        /// The RESTful port (`proxy.http.port`).
        http_port: u16,
    },
}

/// A file `export` makes.
#[derive(Clone, Debug)]
pub struct OutFile {
    /// Its path, relative to the output directory.
    pub path: PathBuf,
    /// Its contents.
    pub contents: Vec<u8>,
    /// Its mode: 0600 when it holds a private key.
    pub mode: u32,
}

impl OutFile {
    pub(crate) fn new(path: &str, contents: impl Into<Vec<u8>>, mode: u32) -> OutFile {
        OutFile {
            path: PathBuf::from(path),
            contents: contents.into(),
            mode,
        }
    }

    /// A certificate (0644) and its private key (0600).
    fn pair(cert: &str, pem: &[u8], key: &str, key_pem: &[u8]) -> [OutFile; 2] {
        [
            OutFile::new(cert, pem, store::PUBLIC_MODE),
            OutFile::new(key, key_pem, store::SECRET_MODE),
        ]
    }
}

/// What a target produced.
#[derive(Clone, Debug)]
pub struct Export {
    /// The files to write with `--out`.
    pub files: Vec<OutFile>,
    /// What to print without `--out`; `None` when the target needs `--out`.
    pub stdout: Option<String>,
    /// Commands to run next, relative to the output directory.
    pub next: Vec<String>,
    /// Things to know that do not stop the export.
    pub warnings: Vec<String>,
    /// An interrupted write the directory held, completed or rolled back.
    pub recovery: Option<Recovery>,
    /// The user's file it read (compose's `--milvus-config`), which
    /// [`Export::write`] never writes onto.
    pub input: Option<PathBuf>,
}

impl Export {
    /// Writes the files under `out` as [`write()`] does, after refusing an
    /// `out` that would put one onto [`Export::input`]: the user's
    /// configuration is never overwritten.
    pub fn write(&self, out: &Path, force: bool) -> Result<Vec<PathBuf>> {
        if let Some(input) = &self.input {
            check_out_spares_input(out, &self.files, input)?;
        }
        write(out, &self.files, force)
    }
}

/// Makes the files of `target` from `common.dir`. Like every command, it
/// first completes or rolls back an interrupted write in the directory, and
/// holds the directory's lock while reading, so it never sees half a renewal.
pub fn export(common: &Common, target: &Target, now: OffsetDateTime) -> Result<Export> {
    k8s::check_names(target)?;
    let (_lock, recovery) = DirLock::acquire(&common.dir, LOCK_WAIT)?;
    let certs = load(&common.dir)?;
    let mut warnings = expiry_warnings(&common.dir, &certs, now);
    let sni = match (common.internal, &common.sni) {
        (false, _) => None,
        (true, sni) => Some(check_sni(&common.dir, &certs.server, sni.as_deref())?),
    };
    let uses_mode = !matches!(target, Target::K8sSecret { .. });
    if uses_mode && common.mode == TlsMode::Mutual {
        let need_key = matches!(target, Target::Client { .. });
        if let Some(w) = check_client(&common.dir, &certs.ca, need_key)? {
            warnings.push(w);
        }
    }
    let stack = if common.deps.any() {
        if matches!(target, Target::CertManager { .. } | Target::Client { .. }) {
            return Err(Error::invalid(
                "--etcd/--s3/--kafka",
                "",
                "only compose, k8s-secret, operator and helm write the dependencies' settings",
            ));
        }
        if matches!(
            target,
            Target::Operator {
                cert_manager: true,
                ..
            } | Target::Helm {
                cert_manager: true,
                ..
            }
        ) {
            return Err(Error::invalid(
                "--cert-manager",
                "",
                "the dependencies' files (etcd-client.pem, ca-bundle.crt, ...) are in the Secret \
                 `milvus-certs export k8s-secret --etcd --s3` writes, not in cert-manager's: leave out --cert-manager",
            ));
        }
        let st = stack::Stack::load(
            &common.dir,
            common.deps,
            &certs.ca,
            &certs.ca_pem,
            matches!(target, Target::Compose { .. }),
        )?;
        let mut st = st;
        warnings.extend(st.warnings.iter().cloned());
        // The chart's and the operator's in-cluster services are named
        // after the release (`RELEASE-etcd`, `RELEASE-minio`).
        let release = match target {
            Target::Operator { release, .. } => Some(release.as_str()),
            Target::Compose { .. } => None,
            _ => Some("my-release"),
        };
        if let Some(r) = release {
            st.hosts = (format!("{r}-etcd"), format!("{r}-minio"));
        }
        Some(st)
    } else {
        None
    };
    let config = Config {
        mode: common.mode,
        sni: sni.as_deref(),
        stack: stack.as_ref(),
    };
    let mut out = match target {
        Target::Compose { milvus_config } => {
            compose::export(&common.dir, &certs, &config, milvus_config.as_deref())?
        }
        Target::K8sSecret { name, namespace } => {
            k8s_secret::export(&certs, name, namespace.as_deref(), stack.as_ref())
        }
        Target::Operator {
            release,
            namespace,
            secret,
            cert_manager,
        } => operator::export(
            &config,
            release,
            namespace.as_deref(),
            secret,
            *cert_manager,
        ),
        Target::Helm {
            secret,
            cert_manager,
        } => helm::export(&config, secret, *cert_manager),
        Target::CertManager { namespace, secret } => {
            cert_manager::export(&common.dir, &certs, &config, namespace.as_deref(), secret)?
        }
        Target::Client {
            host,
            port,
            http_port,
        } => client::export(
            &common.dir,
            &certs,
            common.mode,
            host.as_deref(),
            *port,
            *http_port,
        )?,
    };
    // Compose and client know the host and port they check.
    if !matches!(target, Target::Compose { .. } | Target::Client { .. }) {
        out.next
            .push(check_command(&common.dir, &certs.server, None, 19530));
    }
    out.warnings.splice(0..0, warnings);
    out.recovery = recovery;
    Ok(out)
}

/// Writes `files` under `out` (created if missing): all whole or none,
/// never through a symlink (see `store::write_outputs`). Nothing that
/// exists is replaced unless `force`; directories this call created are
/// removed again if the write fails. Returns the paths written.
pub fn write(out: &Path, files: &[OutFile], force: bool) -> Result<Vec<PathBuf>> {
    let rels: Vec<String> = files
        .iter()
        .map(|f| f.path.to_string_lossy().into_owned())
        .collect();
    let outputs: Vec<store::Output<'_>> = files
        .iter()
        .zip(&rels)
        .map(|(f, rel)| store::Output {
            rel,
            contents: &f.contents,
            mode: f.mode,
        })
        .collect();
    store::write_outputs(out, &outputs, force)
}

/// Refuses an `--out` that would write onto the `--milvus-config` file.
fn check_out_spares_input(out: &Path, files: &[OutFile], input: &Path) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let Ok(src) = std::fs::metadata(input) else {
        return Ok(());
    };
    for f in files {
        let target = out.join(&f.path);
        let same =
            std::fs::metadata(&target).is_ok_and(|m| m.dev() == src.dev() && m.ino() == src.ino());
        if same {
            return Err(Error::invalid(
                "--out",
                &out.display().to_string(),
                format!(
                    "{} would be written onto the --milvus-config file {}, which milvus-certs never \
                     overwrites; choose another --out directory",
                    target.display(),
                    input.display()
                ),
            ));
        }
    }
    Ok(())
}

fn single(name: &str, doc: String, mode: u32, next: &str) -> Export {
    Export {
        files: vec![OutFile::new(name, doc.clone(), mode)],
        stdout: Some(doc),
        next: vec![next.to_string()],
        warnings: Vec::new(),
        recovery: None,
        input: None,
    }
}
