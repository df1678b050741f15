//! `milvus-certs add NAME`: one more key and certificate from the directory's
//! CA, for a service next to Milvus (its etcd, object storage, Kafka), so the
//! whole deployment trusts one `ca.pem`.
//!
//! The files are `NAME.pem` and `NAME.key`, written as `gen` and `renew`
//! write theirs (directory lock, journal, modes 0644/0600, a backup of what
//! `--force` replaces). The profile (extendedKeyUsage) is not recorded on
//! the side: `Profile::of` reads it back from the certificate, so `renew`
//! keeps it.

use std::path::PathBuf;

use time::OffsetDateTime;

use crate::ca::LoadedCa;
use crate::certinfo::CertInfo;
use crate::error::{Error, Result};
use crate::files;
use crate::issue::SerialSource;
use crate::issue::{self, CertRole, Issued, generate_keys, next_serial};
use crate::keys::KeyType;
use crate::leaf::{self, LeafSpec, Profile};
use crate::names::{self, SanName};
use crate::serial::Serial;
use crate::store::{DirLock, LOCK_WAIT, NewFile, Recovery};
use crate::validity::{Validity, check_days, date};

/// What `add` makes.
#[derive(Clone, Debug)]
pub struct AddOptions {
    /// The certificate directory (holding `ca.pem` and `ca.key`).
    pub dir: PathBuf,
    /// NAME: the files are `NAME.pem` and `NAME.key`.
    pub name: String,
    /// The profile (default: the ready-made name's; required otherwise).
    pub profile: Option<Profile>,
    /// More subjectAltNames (`--san`).
    pub sans: Vec<String>,
    /// Leave out localhost, 127.0.0.1 and ::1 (given to server and peer
    /// certificates by default).
    pub no_localhost: bool,
    /// Validity in days.
    pub days: u32,
    /// Key type (default: the CA's, RSA 2048 when milvus-certs does not make it).
    pub key_type: Option<KeyType>,
    /// Replace existing `NAME.pem`/`NAME.key`.
    pub force: bool,
    /// Keep copies of replaced files under `backup/<time>/`.
    pub backup: bool,
}

impl Default for AddOptions {
    fn default() -> Self {
        AddOptions {
            dir: PathBuf::from("."),
            name: String::new(),
            profile: None,
            sans: Vec::new(),
            no_localhost: false,
            days: issue::DEFAULT_DAYS,
            key_type: None,
            force: false,
            backup: true,
        }
    }
}

/// What `add` did.
#[derive(Clone, Debug)]
pub struct AddReport {
    /// The certificate directory.
    pub dir: PathBuf,
    /// What was done about a write an earlier run left unfinished.
    pub recovery: Option<Recovery>,
    /// Where replaced files were kept (with `force`).
    pub backup: Option<PathBuf>,
    /// The new certificate.
    pub issued: Issued,
    /// Where the serial came from.
    pub serial_source: SerialSource,
    /// Things the user should know.
    pub warnings: Vec<String>,
    /// The command that renews it with the rest (`milvus-certs renew`, with
    /// `--dir` unless it is the current directory), quoted for the shell.
    pub renew_command: String,
}

/// Checks NAME, as `add` and `renew --only` take it.
pub(crate) fn check_name(option: &'static str, name: &str) -> Result<()> {
    if files::is_added_name(name) {
        return Ok(());
    }
    let reason = if files::RESERVED.contains(&name) {
        match name {
            "backup" => "is the folder of backups; choose another name".to_string(),
            "ca" => {
                "ca.pem is the CA, which `milvus-certs renew --ca` re-signs; choose another name"
                    .to_string()
            }
            _ => format!(
                "{name}.pem is made by `milvus-certs gen` and renewed by `milvus-certs renew --only {name}`; choose another name"
            ),
        }
    } else {
        "use lowercase letters, digits and '-' (not first or last), at most 63 characters, like etcd or kafka-client".to_string()
    };
    Err(Error::invalid(option, name, reason))
}

/// The names an added certificate gets: NAME, the ready-made name's extra
/// names, localhost, 127.0.0.1 and ::1 for a server or peer (unless
/// `no_localhost`), then `--san`, without repeats.
fn names_for(
    name: &str,
    profile: Profile,
    sans: &[SanName],
    no_localhost: bool,
) -> Result<Vec<SanName>> {
    let mut extra = Vec::new();
    if let Some(p) = issue::preset(name) {
        for d in p.dns {
            extra.push(SanName::parse("NAME", d)?);
        }
    }
    if profile != Profile::Client && !no_localhost {
        extra.push(SanName::Dns("localhost".into()));
        extra.push(SanName::Ip(std::net::IpAddr::from([127, 0, 0, 1])));
        extra.push(SanName::Ip(std::net::IpAddr::from(
            std::net::Ipv6Addr::LOCALHOST,
        )));
    }
    extra.extend(sans.iter().cloned());
    names::server_names(name, &extra)
}

/// Issues `NAME.pem` and `NAME.key` from the directory's CA. Nothing is
/// written unless every check passes; existing files are only replaced with
/// `force`.
pub fn add(opts: &AddOptions, now: OffsetDateTime) -> Result<AddReport> {
    check_name("NAME", &opts.name)?;
    let profile = match (opts.profile, issue::preset(&opts.name)) {
        (Some(p), _) => p,
        (None, Some(p)) => p.profile,
        (None, None) => {
            return Err(Error::invalid(
                "NAME",
                &opts.name,
                format!(
                    "not a ready-made name ({}): say what it is for with --profile server, client or peer, e.g. `{}`",
                    issue::PRESETS.map(|p| p.name).join(", "),
                    crate::shell::milvus_certs(
                        "add",
                        &opts.dir,
                        &[&opts.name, "--profile", "server"]
                    )
                ),
            ));
        }
    };
    check_days("--days", opts.days)?;
    let sans: Vec<SanName> = opts
        .sans
        .iter()
        .map(|s| SanName::parse("--san", s))
        .collect::<Result<_>>()?;
    let names = names_for(&opts.name, profile, &sans, opts.no_localhost)?;

    let (lock, recovery) = DirLock::acquire_for_write(&opts.dir, LOCK_WAIT)?;
    let dir = &opts.dir;
    let ca = LoadedCa::load(dir, now, true)?;
    let cert_file = files::added_cert(&opts.name);
    let key_file = files::added_key(&opts.name);
    let existing: Vec<String> = [&cert_file, &key_file]
        .into_iter()
        .filter(|f| dir.join(f).symlink_metadata().is_ok())
        .cloned()
        .collect();
    if !existing.is_empty() && !opts.force {
        return Err(Error::WouldOverwrite {
            dir: dir.clone(),
            names: existing,
        });
    }

    let mut warnings = Vec::new();
    let key_type = opts
        .key_type
        .unwrap_or_else(|| ca.cert.key_type.unwrap_or(KeyType::Rsa2048));
    let mut subject_attrs = ca.cert.subject_attrs.clone();
    subject_attrs.common_name = Some(opts.name.clone());
    let subject = subject_attrs.complete();
    subject.validate("NAME")?;

    let mut validity = Validity::days_from(now, opts.days);
    if validity.cap_at(ca.cert.not_after) {
        warnings.push(format!(
            "--days {} would outlive the CA, which expires {}: {cert_file} ends then too \
             (renew the CA with `{}`)",
            opts.days,
            date(ca.cert.not_after),
            crate::shell::milvus_certs("renew", dir, &["--ca"])
        ));
    }

    let (srl, srl_missing) = issue::read_serial(dir)?;
    let others = issue::leaves_in(dir);
    let refs: Vec<&CertInfo> = others.iter().map(|(_, c)| c).collect();
    let (start, serial_source) = issue::continue_from(&ca, srl, srl_missing, &refs);
    if let SerialSource::BumpedPast(h) = &serial_source {
        warnings.push(format!(
            "{} is behind the serial {h} already issued; continuing after it so no serial is issued twice",
            dir.join(files::CA_SRL).display()
        ));
    }
    let serial: Serial = next_serial(&start, dir)?;
    let key = generate_keys(&[key_type])?
        .pop()
        .ok_or_else(|| Error::invalid("--key-type", key_type.name(), "no key was made"))?;
    let spec = LeafSpec {
        profile,
        subject: &subject,
        names: &names,
        validity,
        serial: &serial,
    };
    let mut params = leaf::params(&spec, &key, key_type)?;
    params.use_authority_key_identifier_extension = ca.has_ski();
    let cert = params
        .signed_by(&key, &ca.issuer())
        .map_err(|source| Error::Crypto {
            what: "sign a certificate",
            source,
        })?;
    issue::check_chains(&ca, cert.der(), dir)?;
    let new_files = [
        NewFile::secret(key_file.clone(), crate::keys::private_key_pem(&key)),
        NewFile::public(cert_file.clone(), cert.pem()),
        NewFile::public(files::CA_SRL, serial.to_srl()),
    ];
    let backup = lock.replace_files(&new_files, (opts.force && opts.backup).then_some(now))?;
    Ok(AddReport {
        dir: dir.clone(),
        recovery,
        backup,
        issued: Issued {
            role: CertRole::Added(profile),
            cert_file,
            key_file,
            common_name: opts.name.clone(),
            names,
            serial,
            key_type,
            not_after: validity.not_after,
        },
        serial_source,
        warnings,
        renew_command: crate::shell::milvus_certs("renew", dir, &[]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_valid_names_with_their_profiles() {
        for p in issue::PRESETS {
            assert!(files::is_added_name(p.name), "{}", p.name);
        }
        assert_eq!(
            issue::preset("etcd").map(|p| p.profile),
            Some(Profile::Peer)
        );
        assert_eq!(
            issue::preset("etcd-client").map(|p| p.profile),
            Some(Profile::Client)
        );
        assert_eq!(
            issue::preset("s3").map(|p| p.profile),
            Some(Profile::Server)
        );
    }

    #[test]
    fn servers_get_loopback_unless_told_otherwise() {
        let shown = |n: Vec<SanName>| n.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        assert_eq!(
            shown(names_for("etcd", Profile::Peer, &[], false).unwrap()),
            ["etcd", "localhost", "127.0.0.1", "::1"]
        );
        assert_eq!(
            shown(names_for("etcd", Profile::Peer, &[], true).unwrap()),
            ["etcd"]
        );
        assert_eq!(
            shown(names_for("etcd-client", Profile::Client, &[], false).unwrap()),
            ["etcd-client"]
        );
        assert_eq!(
            shown(names_for("s3", Profile::Server, &[], true).unwrap()),
            ["s3", "minio"]
        );
    }
}
