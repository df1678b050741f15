//! Milvus's dependencies over TLS: etcd, S3 storage (MinIO), Kafka. Their
//! settings (endpoint schemes, the files named, which must be mounted) and,
//! with a certificate folder, the client certificates Milvus presents and
//! the servers' own (Compose's etcd and MinIO services).

use std::path::Path;

use time::OffsetDateTime;

use super::deployment::{Deployment, is_true};
use super::mounts::{TlsFile, container_path, host_file, load_cert, mount_for};
use super::{Located, Location};
use crate::checks::{self, Finding};
use crate::leaf::Role;

/// The system trust bundle Milvus's storage clients read (Go's crypto/x509
/// and, in Milvus 2.3, the C++ storage's AWS SDK, which reads nothing else).
const SYSTEM_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// A dependency's TLS file setting, when set: checked to be mounted
/// (`path_not_mounted` otherwise, and then None).
fn dep_file(d: &Deployment, keys: &[&str], out: &mut Vec<Located>) -> Option<TlsFile> {
    let s = d.setting(keys).filter(|s| !s.value.trim().is_empty())?;
    let container = container_path(s.value.trim());
    if let Some(mounts) = &d.mounts
        && mount_for(mounts, &container).is_none()
    {
        out.push(Located {
            finding: Finding::PathNotMounted {
                path: container,
                mounts: mounts.iter().map(|m| m.target.clone()).collect(),
            },
            at: s.at,
        });
        return None;
    }
    Some(TlsFile {
        key: keys.join("."),
        container,
        at: s.at,
    })
}

/// With a certificate folder: a dependency client's certificate, key and
/// CA files (each optional), mapped back to host files and checked with
/// the rules `inspect` uses.
#[allow(clippy::too_many_arguments)]
fn certificates(
    d: &Deployment,
    dir: &Path,
    cert: Option<&TlsFile>,
    key: Option<&TlsFile>,
    ca: Option<&TlsFile>,
    purpose: Role,
    name: Option<&str>,
    now: OffsetDateTime,
    out: &mut Vec<Located>,
) {
    let ca_dir = dir.join(crate::files::CA_KEY).is_file().then_some(dir);
    let mut push = |finding: Finding, at: &Location| {
        out.push(Located {
            finding,
            at: at.clone(),
        })
    };
    let found = |f: Option<&TlsFile>, push: &mut dyn FnMut(Finding, &Location)| {
        let f = f?;
        let host = host_file(d, dir, &f.container);
        if host.is_file() {
            return Some(host);
        }
        push(
            Finding::FileMissing {
                file: host.display().to_string(),
                what: "the file the configuration names",
                needed_by: match purpose {
                    Role::Server => "the service serves TLS with it",
                    _ => "Milvus reads it to connect to its dependency",
                },
            },
            &f.at,
        );
        None
    };
    let cert_host = found(cert, &mut push);
    let key_host = found(key, &mut push);
    let ca_host = found(ca, &mut push);
    let ca_info = match (ca_host, ca) {
        (Some(p), Some(f)) => match load_cert(&p) {
            Ok(c) => {
                if let Some(x) = checks::not_a_ca(&c) {
                    push(x, &f.at);
                }
                Some(c)
            }
            Err(e) => {
                push(e, &f.at);
                None
            }
        },
        _ => None,
    };
    let (Some(cert_host), Some(cf)) = (cert_host, cert) else {
        return;
    };
    let leaf = match load_cert(&cert_host) {
        Ok(c) => c,
        Err(e) => {
            push(e, &cf.at);
            return;
        }
    };
    // `renew --only NAME` renews a certificate `add` made, by its name (the
    // file's, unless the service renames it).
    let only = name
        .or_else(|| cert_host.file_stem().and_then(|s| s.to_str()))
        .unwrap_or("")
        .to_string();
    let remedy = || Some(checks::Remedy::renew(ca_dir, &["--only", &only]));
    if let Some(f) = checks::validity(&leaf, now, checks::EXPORT_WARN_DAYS, remedy()) {
        push(f, &cf.at);
    }
    for mut f in checks::purpose(&leaf, purpose, ca_dir) {
        // Renewed by its own name, not as the Milvus server or client.
        if let Finding::MissingServerAuth { remedy: r }
        | Finding::MissingClientAuth { remedy: r }
        | Finding::NotALeaf { remedy: r } = &mut f
        {
            *r = remedy();
        }
        push(f, &cf.at);
    }
    if let (Some(key_host), Some(kf)) = (key_host, key) {
        match crate::input::read_bounded(&key_host) {
            Ok(bytes) => {
                if let (_, Some(f)) = checks::key_pair(&key_host, &bytes, &leaf, remedy()) {
                    push(f, &kf.at);
                }
            }
            Err(e) => push(
                Finding::KeyUnreadable {
                    reason: format!("{}: cannot be read ({e})", key_host.display()),
                },
                &kf.at,
            ),
        }
    }
    if let (Some(ca_info), Some(caf)) = (&ca_info, ca)
        && let Some(f) = checks::issued_by(&leaf, ca_info, &caf.container, remedy())
    {
        push(f, &caf.at);
    }
}

/// The etcd and S3 servers of a Compose project (`d.servers`): their own
/// certificates need serverAuth, a matching key and the CA.
pub(super) fn servers(d: &Deployment, dir: &Path, now: OffsetDateTime, out: &mut Vec<Located>) {
    for s in &d.servers {
        certificates(
            &s.service,
            dir,
            Some(&s.cert),
            s.key.as_ref(),
            s.ca.as_ref(),
            Role::Server,
            s.name,
            now,
            out,
        );
    }
}

/// etcd over TLS. Keys (pkg/util/paramtable/service_param.go, `EtcdConfig`,
/// all "Version: 2.0.0"): `etcd.endpoints` (also `ETCD_ENDPOINTS`),
/// `etcd.ssl.enabled`, `etcd.ssl.tlsCert`, `etcd.ssl.tlsKey`,
/// `etcd.ssl.tlsCACert`, `etcd.ssl.tlsMinVersion` ("Optional values: 1.0,
/// 1.1, 1.2, 1.3", default 1.3).
pub(super) fn etcd(
    d: &Deployment,
    dir: Option<&Path>,
    now: OffsetDateTime,
    out: &mut Vec<Located>,
) {
    let ssl = d.setting(&["etcd", "ssl", "enabled"]);
    let ssl_on = ssl.as_ref().is_some_and(is_true);
    if let Some((endpoints, at)) = d.list(&["etcd", "endpoints"]) {
        for e in endpoints {
            let lower = e.to_ascii_lowercase();
            let finding = if ssl_on && lower.starts_with("http://") {
                Finding::EtcdEndpointNotHttps { endpoint: e }
            } else if !ssl_on && lower.starts_with("https://") {
                Finding::EtcdHttpsWithoutSsl { endpoint: e }
            } else {
                continue;
            };
            out.push(Located {
                finding,
                at: at.clone(),
            });
        }
    }
    let Some(ssl) = ssl.filter(is_true) else {
        return;
    };
    if let Some(v) = d.setting(&["etcd", "ssl", "tlsMinVersion"]) {
        let value = v.value.trim().trim_matches('"').to_string();
        let mut parts = value.split('.');
        let major: Option<u32> = parts.next().and_then(|p| p.parse().ok());
        let minor: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        if major.is_some_and(|m| (m, minor) < (1, 2)) {
            out.push(Located {
                finding: Finding::EtcdTlsVersionTooLow { value },
                at: v.at,
            });
        }
    }
    let mut files = Vec::new();
    for key in ["tlsCert", "tlsKey", "tlsCACert"] {
        let keys = ["etcd", "ssl", key];
        if d.setting(&keys).is_none_or(|s| s.value.trim().is_empty()) {
            out.push(Located {
                finding: Finding::EtcdSslPathMissing {
                    key: keys.join("."),
                },
                at: ssl.at.clone(),
            });
            files.push(None);
        } else {
            files.push(dep_file(d, &keys, out));
        }
    }
    if let Some(dir) = dir {
        certificates(
            d,
            dir,
            files[0].as_ref(),
            files[1].as_ref(),
            files[2].as_ref(),
            Role::Client,
            None,
            now,
            out,
        );
    }
}

/// S3 storage over TLS. Keys (pkg/util/paramtable/service_param.go,
/// `MinioConfig`): `minio.useSSL`, `minio.ssl.tlsCACert` ("Version:
/// 2.3.12"; without it Milvus trusts the system bundle only, and Milvus
/// 2.3's C++ storage reads that bundle alone).
pub(super) fn minio(
    d: &Deployment,
    dir: Option<&Path>,
    now: OffsetDateTime,
    out: &mut Vec<Located>,
) {
    let Some(ssl) = d.setting(&["minio", "useSSL"]).filter(is_true) else {
        return;
    };
    let ca_set = d
        .setting(&["minio", "ssl", "tlsCACert"])
        .is_some_and(|s| !s.value.trim().is_empty());
    let bundle_mounted = d.mounts.as_ref().is_some_and(|m| {
        m.iter().any(|m| {
            let t = m.target.trim_end_matches('/');
            t == SYSTEM_BUNDLE || t == "/etc/ssl/certs"
        })
    });
    if !ca_set && !bundle_mounted {
        out.push(Located {
            finding: Finding::MinioCaNotTrusted {
                mounts_known: d.mounts.is_some(),
            },
            at: ssl.at,
        });
    }
    let ca = dep_file(d, &["minio", "ssl", "tlsCACert"], out);
    if let (Some(dir), Some(ca)) = (dir, ca) {
        certificates(d, dir, None, None, Some(&ca), Role::Client, None, now, out);
    }
}

/// Kafka over TLS: with `kafka.ssl.enabled`, `kafka.ssl.tlsCert`, `kafka.ssl.tlsKey`,
/// `kafka.ssl.tlsCaCert` (service_param.go, `KafkaConfig`, "Version:
/// 2.3.11"), and the librdkafka properties Milvus passes through from the
/// `kafka.consumer.` and `kafka.producer.` prefixes
/// (`KafkaConsumerConfigPrefix`, `KafkaProducerConfigPrefix`):
/// `ssl.certificate.location`, `ssl.key.location`, `ssl.ca.location`.
pub(super) fn kafka(
    d: &Deployment,
    dir: Option<&Path>,
    now: OffsetDateTime,
    out: &mut Vec<Located>,
) {
    let groups: [[[&str; 3]; 3]; 3] = [
        [
            ["kafka", "ssl", "tlsCert"],
            ["kafka", "ssl", "tlsKey"],
            ["kafka", "ssl", "tlsCaCert"],
        ],
        [
            ["kafka", "consumer", "ssl.certificate.location"],
            ["kafka", "consumer", "ssl.key.location"],
            ["kafka", "consumer", "ssl.ca.location"],
        ],
        [
            ["kafka", "producer", "ssl.certificate.location"],
            ["kafka", "producer", "ssl.key.location"],
            ["kafka", "producer", "ssl.ca.location"],
        ],
    ];
    // The kafka.ssl files are read with kafka.ssl.enabled only (a full
    // milvus.yaml lists the keys with TLS off); the librdkafka properties
    // are passed through whenever they are written.
    let ssl_on = d
        .setting(&["kafka", "ssl", "enabled"])
        .is_some_and(|s| is_true(&s));
    for (i, group) in groups.into_iter().enumerate() {
        if i == 0 && !ssl_on {
            continue;
        }
        let [cert, key, ca] = group.map(|keys| dep_file(d, &keys, out));
        if let Some(dir) = dir {
            certificates(
                d,
                dir,
                cert.as_ref(),
                key.as_ref(),
                ca.as_ref(),
                Role::Client,
                None,
                now,
                out,
            );
        }
    }
}
