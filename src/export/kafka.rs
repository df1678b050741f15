//! `milvus-certs export kafka`: what a Kafka broker and Milvus (its Kafka
//! client) need to talk TLS with certificates from the directory's CA.
//!
//! The broker (a JVM) reads PKCS#12 stores (`ssl.keystore.type=PKCS12`,
//! Kafka documentation, "Encryption and Authentication using SSL"); Milvus
//! talks to Kafka through librdkafka, which reads PEM files
//! (`ssl.ca.location`, `ssl.certificate.location`, `ssl.key.location`,
//! librdkafka CONFIGURATION.md). Milvus passes `kafka.consumer.*` and
//! `kafka.producer.*` to librdkafka as they are (paramtable
//! `component_param.go`, KafkaConfig.ConsumerExtraConfig/ProducerExtraConfig,
//! since 2.2.0), and sets `security.protocol` from `kafka.securityProtocol`
//! (since 2.1.0); `kafka.ssl.*` exists only from 2.3.11, so both are written.

use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use super::preflight::{Added, CERT, first_cert, read_added, read_needed};
use super::{Export, OutFile};
use crate::certinfo::CertInfo;
use crate::checks;
use crate::error::{Error, Result};
use crate::files;
use crate::input;
use crate::store::{DirLock, LOCK_WAIT, PUBLIC_MODE, SECRET_MODE};
use crate::yaml::{self, map};

/// Where the broker's files are mounted (the Confluent and Bitnami images'
/// secrets folder).
pub(super) const BROKER_DIR: &str = "/etc/kafka/secrets";
/// Where Milvus's Kafka client files are mounted.
pub(super) const MILVUS_DIR: &str = "/milvus/kafka";

/// Options of `export kafka`.
#[derive(Clone, Debug)]
pub struct KafkaOptions {
    /// The certificate directory (with `kafka.pem`, made by `add kafka`).
    pub dir: PathBuf,
    /// A file whose first line is the stores' password (default: a new
    /// random one).
    pub password_file: Option<PathBuf>,
    /// The brokers Milvus connects to (`kafka.brokerList`).
    pub brokers: String,
}

/// keytool refuses a store password shorter than six characters.
const MIN_PASSWORD: usize = 6;

/// A random password: 24 characters of base64url (144 bits).
fn random_password() -> Result<String> {
    let mut bytes = [0u8; 18];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| Error::Store {
        what: "a password",
        reason: "the system's random number generator failed".into(),
    })?;
    use base64::Engine;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

fn read_password(path: &Path) -> Result<String> {
    let bytes = input::read_optional(path, "a password file")?.ok_or_else(|| Error::Missing {
        path: path.to_path_buf(),
        what: "the password file",
        hint: "check --password-file, or leave it out to have a random password written",
    })?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::bad_file(path, "a password file", "it is not UTF-8 text"))?;
    let pw = text
        .lines()
        .next()
        .unwrap_or_default()
        .trim_end_matches('\r');
    if pw.chars().count() < MIN_PASSWORD {
        return Err(Error::bad_file(
            path,
            "a password file",
            format!(
                "its first line must be a password of at least {MIN_PASSWORD} characters (keytool refuses shorter ones)"
            ),
        ));
    }
    if pw.chars().any(|c| c.is_control()) || pw.trim() != pw {
        return Err(Error::bad_file(
            path,
            "a password file",
            "its password has control characters or spaces at either end, which server.properties cannot carry",
        ));
    }
    Ok(pw.to_string())
}

/// The broker's certificate (`add kafka`) or Milvus's client one
/// (`add kafka-client`), read and checked.
fn read_leaf(dir: &Path, name: &str, ca: &CertInfo) -> Result<Added> {
    let what = if name == "kafka" {
        "the Kafka broker's certificate"
    } else {
        "Milvus's Kafka client certificate"
    };
    read_added(dir, name, ca, what)
}

/// Makes the broker's stores and settings and Milvus's client settings.
pub fn export(opts: &KafkaOptions, now: OffsetDateTime) -> Result<Export> {
    check_brokers(&opts.brokers)?;
    let password = match &opts.password_file {
        Some(p) => read_password(p)?,
        None => random_password()?,
    };
    let (_lock, recovery) = DirLock::acquire(&opts.dir, LOCK_WAIT)?;
    let dir = &opts.dir;
    let ca_path = dir.join(files::CA_PEM);
    let ca_pem = read_needed(dir, files::CA_PEM, CERT, "the CA certificate")?;
    let ca = first_cert(&ca_path, &ca_pem)?;
    crate::ca::check_is_ca(&ca_path, &ca)?;
    let broker = read_leaf(dir, "kafka", &ca)?;
    let client = match dir
        .join(files::added_cert("kafka-client"))
        .symlink_metadata()
    {
        Ok(_) => Some(read_leaf(dir, "kafka-client", &ca)?),
        Err(_) => None,
    };
    let mut warnings = Vec::new();
    for (name, leaf) in [
        ("kafka.pem", Some(&broker)),
        ("kafka-client.pem", client.as_ref()),
    ] {
        let Some(leaf) = leaf else { continue };
        let days = checks::days_left(&leaf.info, now);
        if days < 0 {
            return Err(Error::Check {
                path: dir.join(name),
                finding: Box::new(checks::Finding::Expired {
                    not_after: leaf.info.not_after,
                    remedy: Some(checks::Remedy::renew(
                        Some(dir),
                        &["--only", name.trim_end_matches(".pem")],
                    )),
                }),
            });
        }
        if days < 30 {
            warnings.push(format!(
                "{name} expires in {days} days: renew it with `{}`",
                crate::shell::milvus_certs(
                    "renew",
                    dir,
                    &["--only", name.trim_end_matches(".pem")]
                )
            ));
        }
    }
    if client.is_none() {
        warnings.push(format!(
            "{} is missing: the broker is set to ssl.client.auth=none (TLS without client \
             certificates); make one with `{}` and export again for mutual TLS",
            dir.join("kafka-client.pem").display(),
            crate::shell::milvus_certs("add", dir, &["kafka-client"])
        ));
    }

    let keystore = crate::pkcs12::keystore(
        "kafka",
        &broker.key.serialize_der(),
        &[&broker.info.der, &ca.der],
        &password,
    )?;
    let truststore = crate::pkcs12::truststore(&[("milvus-ca", &ca.der)], &password)?;

    // The broker: Kafka documentation, "Configuring Kafka Brokers" (SSL).
    let client_auth = if client.is_some() { "required" } else { "none" };
    let properties = format!(
        "# TLS for a Kafka broker (made by milvus-certs from {dir}/kafka.pem and ca.pem).\n\
         # Add to server.properties; the files are mounted at {BROKER_DIR}.\n\
         # This file holds the stores' password: keep it 0600.\n\
         listeners=SSL://:9093\n\
         security.inter.broker.protocol=SSL\n\
         ssl.keystore.type=PKCS12\n\
         ssl.keystore.location={BROKER_DIR}/kafka.keystore.p12\n\
         ssl.keystore.password={password}\n\
         ssl.key.password={password}\n\
         ssl.truststore.type=PKCS12\n\
         ssl.truststore.location={BROKER_DIR}/kafka.truststore.p12\n\
         ssl.truststore.password={password}\n\
         ssl.client.auth={client_auth}\n\
         ssl.endpoint.identification.algorithm=https\n",
        dir = dir.display()
    );

    let milvus = yaml::document(&map([(
        "kafka",
        super::stack::kafka_settings(&opts.brokers, MILVUS_DIR, client.is_some()),
    )]));
    let milvus = format!(
        "# Milvus's Kafka client over TLS (made by milvus-certs). Merge into user.yaml\n\
         # (or milvus.yaml) and mount milvus-kafka/ at {MILVUS_DIR}. Milvus 2.3.11+\n\
         # reads kafka.ssl; earlier releases pass kafka.consumer/producer to librdkafka.\n{milvus}"
    );

    let mut out_files = vec![
        OutFile::new("kafka/kafka.keystore.p12", keystore, SECRET_MODE),
        OutFile::new("kafka/kafka.truststore.p12", truststore, PUBLIC_MODE),
        OutFile::new("kafka/password", format!("{password}\n"), SECRET_MODE),
        OutFile::new("kafka/server.properties", properties, SECRET_MODE),
        OutFile::new("milvus-kafka/ca.pem", ca_pem, PUBLIC_MODE),
    ];
    if let Some(c) = &client {
        out_files.extend(OutFile::pair(
            "milvus-kafka/kafka-client.pem",
            &c.pem,
            "milvus-kafka/kafka-client.key",
            &c.key_pem,
        ));
    }
    out_files.push(OutFile::new("milvus-kafka.yaml", milvus, PUBLIC_MODE));
    Ok(Export {
        files: out_files,
        stdout: None,
        next: vec![
            format!("mount kafka/ at {BROKER_DIR} in the broker and add kafka/server.properties to its settings"),
            format!("mount milvus-kafka/ at {MILVUS_DIR} in Milvus and merge milvus-kafka.yaml into its user.yaml"),
            "keytool -list -storetype PKCS12 -keystore kafka/kafka.keystore.p12 -storepass \"$(cat kafka/password)\"".to_string(),
        ],
        warnings,
        recovery,
        input: None,
    })
}

/// `--broker`: `HOST:PORT[,HOST:PORT...]`.
fn check_brokers(brokers: &str) -> Result<()> {
    let ok = !brokers.is_empty()
        && brokers.split(',').all(|b| {
            b.rsplit_once(':').is_some_and(|(h, p)| {
                !h.is_empty()
                    && h.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-.[]:".contains(c))
                    && p.parse::<u16>().is_ok_and(|p| p > 0)
            })
        });
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "--broker",
            brokers,
            "use HOST:PORT, several separated by commas, e.g. kafka:9093",
        ))
    }
}
