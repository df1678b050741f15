//! Issuing certificates from a CA, as `gen`, `renew` and `add` all do: the
//! roles and ready-made names of the leaves, their keys, serial numbers
//! that continue `ca.srl`, and the last check that a new certificate chains.
//! Commands share these through here, never through each other.

use std::path::Path;
use std::thread;

use rcgen::KeyPair;
use time::OffsetDateTime;

use crate::ca::LoadedCa;
use crate::certinfo::CertInfo;
use crate::error::{Error, Result};
use crate::files;
use crate::input;
use crate::keys::KeyType;
use crate::leaf::{Profile, Role};
use crate::names::SanName;
use crate::serial::{Serial, SrlError};

/// Which certificate of the set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CertRole {
    /// `ca.pem`.
    Ca,
    /// `server.pem` or `client.pem`.
    Leaf(Role),
    /// `NAME.pem`, made by `milvus-certs add`, with its profile.
    Added(Profile),
}

impl CertRole {
    /// `ca`, `server`, `client` or `added`.
    pub fn name(self) -> &'static str {
        match self {
            CertRole::Ca => "ca",
            CertRole::Leaf(r) => r.name(),
            CertRole::Added(_) => "added",
        }
    }
}

/// A certificate that was written, with its key.
#[derive(Clone, Debug)]
pub struct Issued {
    /// CA, server or client.
    pub role: CertRole,
    /// The certificate's file name.
    pub cert_file: String,
    /// The key's file name.
    pub key_file: String,
    /// The subject's common name.
    pub common_name: String,
    /// The subjectAltNames (empty for the CA).
    pub names: Vec<SanName>,
    /// The serial number.
    pub serial: Serial,
    /// The key type.
    pub key_type: KeyType,
    /// notAfter.
    pub not_after: OffsetDateTime,
}

impl Issued {
    /// `ca`, `server`, `client`, or the NAME of an added certificate (what
    /// `--only` takes, and `--then` hooks see in MILVUS_CERTS_RENEWED).
    pub fn label(&self) -> &str {
        match self.role {
            CertRole::Added(_) => self
                .cert_file
                .strip_suffix(".pem")
                .unwrap_or(&self.cert_file),
            r => r.name(),
        }
    }
}

/// Generates one key per entry of `types`, each on its own thread: RSA key
/// generation is the bulk of the work (about 80 ms per RSA-2048 key here), so
/// on two or more cores this is most of the difference from `gen.sh`.
pub(crate) fn generate_keys(types: &[KeyType]) -> Result<Vec<KeyPair>> {
    let Some((first, rest)) = types.split_first() else {
        return Ok(Vec::new());
    };
    let results: Vec<Result<KeyPair>> = thread::scope(|s| {
        let handles: Vec<_> = rest.iter().map(|kt| s.spawn(|| kt.generate())).collect();
        let mut out = vec![first.generate()];
        for h in handles {
            out.push(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        }
        out
    });
    results.into_iter().collect()
}

/// The serial after `serial`, or an error naming `ca.srl` when the CA has run
/// out of 20-octet serials.
pub(crate) fn next_serial(serial: &Serial, dir: &Path) -> Result<Serial> {
    serial.next().ok_or_else(|| Error::BadSerialFile {
        path: dir.join(files::CA_SRL),
        reason: SrlError::Exhausted,
    })
}

/// Where the serial numbers came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SerialSource {
    /// Continued from `ca.srl`, as `openssl x509 -CAserial`.
    SerialFile,
    /// `ca.srl` was missing: a random start, as `-CAcreateserial`.
    Random,
    /// `ca.srl` was below a serial already issued: continued after that one.
    BumpedPast(Serial),
}

/// `ca.srl`, or a random start when it is missing; the bool says it was missing.
pub(crate) fn read_serial(dir: &Path) -> Result<(Serial, bool)> {
    let path = dir.join(files::CA_SRL);
    match input::read_in_folder(&path, "a serial number file")? {
        Some(bytes) => Serial::parse_srl(&bytes)
            .map(|s| (s, false))
            .map_err(|reason| Error::BadSerialFile { path, reason }),
        None => Ok((Serial::random(), true)),
    }
}

/// The serial to continue from: `ca.srl`'s, exactly as `openssl x509
/// -CAserial`, unless a leaf this CA issued has a serial at or above it
/// (`ca.srl` restored from an old backup, or edited): then that one, so no
/// serial is issued twice. Without `ca.srl`, a random start, as
/// `-CAcreateserial`.
pub(crate) fn continue_from(
    ca: &LoadedCa,
    srl: Serial,
    missing: bool,
    issued: &[&CertInfo],
) -> (Serial, SerialSource) {
    if missing {
        return (srl, SerialSource::Random);
    }
    let highest = issued
        .iter()
        .filter(|c| c.issuer_raw == ca.cert.subject_raw)
        .map(|c| &c.serial)
        .max();
    match highest {
        Some(h) if *h > srl => (h.clone(), SerialSource::BumpedPast(h.clone())),
        _ => (srl, SerialSource::SerialFile),
    }
}

/// A last check before anything is written: the new certificate names the
/// CA's exact subject as issuer and its signature verifies with the CA's key.
pub(crate) fn check_chains(ca: &LoadedCa, der: &[u8], dir: &Path) -> Result<()> {
    let ok = CertInfo::from_der(der)
        .map(|c| crate::checks::issued_by(&c, &ca.cert, files::CA_PEM, None).is_none())
        .unwrap_or(false);
    if ok {
        Ok(())
    } else {
        Err(Error::bad_file(
            &dir.join(files::CA_PEM),
            "a CA certificate milvus-certs can sign with",
            "a certificate signed with it would not chain to it (its subject cannot be reproduced exactly)",
        ))
    }
}

/// The default lifetime of a leaf that has no certificate to replace.
pub(crate) const DEFAULT_DAYS: u32 = 3650;

/// A ready-made name: its profile and the names it gets besides its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Preset {
    /// The NAME.
    pub name: &'static str,
    /// Its profile.
    pub profile: Profile,
    /// What it must allow at least (what `inspect` checks): `kafka` made
    /// with `--profile server` is fine, `etcd` without clientAuth is not.
    pub needs: Profile,
    /// DNS names it gets besides NAME (the Compose service names).
    pub dns: &'static [&'static str],
    /// What it is for (for `--help` and the report).
    pub purpose: &'static str,
}

/// The ready-made names.
///
/// - `etcd`: peer. etcd 3.4 dials its own gRPC gateway and its peers with
///   `--cert-file`, as a client (etcd `embed/serve.go`; the gateway's
///   `/v3/kv/range` fails without clientAuth, as measured here).
/// - `etcd-client`: client, for Milvus's `etcd.ssl.tlsCert` (etcd
///   `--client-cert-auth` rejects a certificate without clientAuth:
///   "incompatible key usage").
/// - `s3`: server, for MinIO or any S3 server (its Compose service is
///   `minio`, so the name is on it too).
/// - `kafka`: peer: a broker's SSL listener is also what other brokers
///   connect to as clients (`security.inter.broker.protocol=SSL` with
///   `ssl.client.auth=required`).
/// - `kafka-client`: client, for Milvus's librdkafka `ssl.certificate.location`.
pub(crate) const PRESETS: [Preset; 5] = [
    Preset {
        name: "etcd",
        profile: Profile::Peer,
        needs: Profile::Peer,
        dns: &[],
        purpose: "etcd members (client and peer URLs)",
    },
    Preset {
        name: "etcd-client",
        profile: Profile::Client,
        needs: Profile::Client,
        dns: &[],
        purpose: "Milvus as etcd's client (etcd.ssl.tlsCert)",
    },
    Preset {
        name: "s3",
        profile: Profile::Server,
        needs: Profile::Server,
        dns: &["minio"],
        purpose: "the S3 object storage (MinIO)",
    },
    Preset {
        name: "kafka",
        profile: Profile::Peer,
        needs: Profile::Server,
        dns: &[],
        purpose: "Kafka brokers",
    },
    Preset {
        name: "kafka-client",
        profile: Profile::Client,
        needs: Profile::Client,
        dns: &[],
        purpose: "Milvus as Kafka's client",
    },
];

/// The ready-made name `name`, if it is one.
pub(crate) fn preset(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

/// What the added certificate `name` (read as `cert`) must allow: a
/// ready-made name's needs, else what it was made with; None when it
/// allows neither purpose.
pub(crate) fn expected_profile(name: &str, cert: &CertInfo) -> Option<Profile> {
    match preset(name) {
        Some(p) => Some(p.needs),
        None => Profile::of(cert),
    }
}

/// The profile `renew` gives the added certificate `name` (read as `cert`,
/// when it can be): the one it was made with (its extendedKeyUsage, as
/// nothing else records it), widened to peer when a ready-made name needs
/// the other purpose too; when the certificate allows neither (or cannot be
/// read), a ready-made name's needs, else server.
pub(crate) fn added_profile(name: &str, cert: Option<&CertInfo>) -> Profile {
    let had = cert.and_then(Profile::of);
    let needs = preset(name).map(|p| p.needs);
    match (had, needs) {
        (Some(a), Some(b)) if a != b => Profile::Peer,
        (Some(a), _) => a,
        (None, Some(b)) => b,
        (None, None) => Profile::Server,
    }
}

/// The leaves in `dir` the CA may have issued: server.pem, client.pem and
/// every `NAME.pem` of a name `add` makes, that can be read and parsed
/// (others are for `inspect` to report). Sorted by file name.
pub(crate) fn leaves_in(dir: &Path) -> Vec<(String, CertInfo)> {
    leaf_files(dir)
        .into_iter()
        .filter_map(|file| read_cert(&dir.join(&file)).map(|c| (file, c)))
        .collect()
}

/// The file names of server.pem, client.pem and the added `NAME.pem` in
/// `dir` (those present), sorted.
pub(crate) fn leaf_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = added_names(dir)
        .iter()
        .map(|n| files::added_cert(n))
        .collect();
    for f in [files::SERVER_PEM, files::CLIENT_PEM] {
        if dir.join(f).symlink_metadata().is_ok() {
            names.push(f.to_string());
        }
    }
    names.sort();
    names
}

/// The NAMEs of the certificates `add` made in `dir`, sorted: every
/// `NAME.pem` of a ready-made name (it is expected to be one, so a wrong
/// file there is reported, not skipped), and every other `NAME.pem` of a
/// valid name that is a leaf issued by `ca.pem` with a `NAME.key` next to
/// it (so another CA's certificate kept in the folder is left alone).
pub(crate) fn added_names(dir: &Path) -> Vec<String> {
    let mut candidates: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter_map(|e| {
                    let f = e.file_name().to_str()?.to_string();
                    files::added_name_of_cert(&f).map(str::to_string)
                })
                .collect()
        })
        .unwrap_or_default();
    candidates.sort();
    let ca = read_cert(&dir.join(files::CA_PEM));
    candidates.retain(|name| {
        if preset(name).is_some() {
            return true;
        }
        let (Some(ca), Some(c)) = (&ca, read_cert(&dir.join(files::added_cert(name)))) else {
            return false;
        };
        !c.is_ca()
            && c.issuer_raw == ca.subject_raw
            && dir.join(files::added_key(name)).symlink_metadata().is_ok()
    });
    candidates
}

/// The first certificate of a file, if it can be read (PEM or DER).
fn read_cert(path: &Path) -> Option<CertInfo> {
    let bytes = input::read_in_folder(path, "a PEM certificate").ok()??;
    let (mut certs, _) = input::parse_certificates_or_der(path, &bytes).ok()?;
    CertInfo::from_der(&certs.swap_remove(0)).ok()
}

/// The private key of the added certificate `name` in `dir` (read as a
/// folder's own file); a missing one says how to make both again.
pub(crate) fn read_added_key(dir: &Path, name: &str) -> Result<(std::path::PathBuf, Vec<u8>)> {
    let key_path = dir.join(files::added_key(name));
    let key = input::read_in_folder(&key_path, "a PEM private key")?.ok_or_else(|| {
        Error::MissingFile {
            path: key_path.clone(),
            what: "its private key",
            fix: format!(
                "make both again with `{}`",
                crate::shell::milvus_certs("add", dir, &[name, "--force"])
            ),
        }
    })?;
    Ok((key_path, key))
}
