//! `milvus-certs gen`: a new CA and server and client certificates, the
//! seven files of the guide's `gen.sh`.

use std::fs;
use std::path::{Path, PathBuf};

use rcgen::Issuer;
use time::OffsetDateTime;

use crate::ca;
use crate::error::{Error, Result};
use crate::files;
use crate::issue::{CertRole, Issued, generate_keys, next_serial};
use crate::keys::KeyType;
use crate::leaf::{self, LeafSpec, Role};
use crate::names::{self, SanName, Subject};
use crate::serial::Serial;
use crate::store::{DirLock, LOCK_WAIT, NewFile, Recovery};
use crate::validity::{Validity, check_days};

/// What `gen` makes. [`GenOptions::default`] gives the guide's values.
#[derive(Clone, Debug)]
pub struct GenOptions {
    /// The certificate directory (created if missing).
    pub dir: PathBuf,
    /// The leaves' subject (the CA's too, with its own common name).
    pub subject: Subject,
    /// The CA's common name; `<common name> CA` when None.
    pub ca_common_name: Option<String>,
    /// Extra subjectAltNames as given (`--san`): IP literals or DNS names.
    pub sans: Vec<String>,
    /// Validity of the server and client certificates, in days.
    pub days: u32,
    /// Validity of the CA certificate, in days.
    pub ca_days: u32,
    /// The type of all three keys.
    pub key_type: KeyType,
    /// Replace existing files.
    pub force: bool,
    /// Keep copies of the files `force` replaces under `backup/<time>/`.
    pub backup: bool,
}

impl Default for GenOptions {
    fn default() -> Self {
        GenOptions {
            dir: PathBuf::from("."),
            subject: Subject::default(),
            ca_common_name: None,
            sans: Vec::new(),
            days: 3650,
            ca_days: 36500,
            key_type: KeyType::Rsa2048,
            force: false,
            backup: true,
        }
    }
}

/// What `gen` did.
#[derive(Clone, Debug)]
pub struct GenReport {
    /// The certificate directory.
    pub dir: PathBuf,
    /// What was done about a write that an earlier run left unfinished.
    pub recovery: Option<Recovery>,
    /// Where the replaced files were kept (with `force`).
    pub backup: Option<PathBuf>,
    /// The CA, server and client certificates, in that order.
    pub issued: Vec<Issued>,
    /// The serial written to `ca.srl` (the last one issued).
    pub last_serial: Serial,
    /// Things the user should know (shown with a `warning:` prefix).
    pub warnings: Vec<String>,
}

struct Validated {
    subject: Subject,
    ca_subject: Subject,
    names: Vec<SanName>,
}

impl GenOptions {
    fn validate(&self) -> Result<Validated> {
        self.subject.validate("--common-name")?;
        let ca_subject = Subject {
            common_name: self
                .ca_common_name
                .clone()
                .unwrap_or_else(|| format!("{} CA", self.subject.common_name)),
            ..self.subject.clone()
        };
        ca_subject.validate("--ca-common-name")?;
        check_days("--days", self.days)?;
        check_days("--ca-days", self.ca_days)?;
        let sans = self
            .sans
            .iter()
            .map(|s| SanName::parse("--san", s))
            .collect::<Result<Vec<_>>>()?;
        let names = names::gen_server_names(&self.subject.common_name, &sans)?;
        Ok(Validated {
            subject: self.subject.clone(),
            ca_subject,
            names,
        })
    }
}

/// Makes the seven files in `opts.dir`. Nothing is written unless all of it
/// succeeds; existing files are only replaced with `opts.force`.
pub fn generate(opts: &GenOptions, now: OffsetDateTime) -> Result<GenReport> {
    let v = opts.validate()?;
    // A new directory is 0700: it will hold ca.key.
    let created_dir = crate::store::create_private_dir_all(&opts.dir)?;
    let result = generate_in(opts, &v, now);
    if result.is_err() && created_dir {
        // Leave no trace: the directory was ours and nothing was committed.
        let _ = fs::remove_dir(&opts.dir);
    }
    result
}

fn generate_in(opts: &GenOptions, v: &Validated, now: OffsetDateTime) -> Result<GenReport> {
    let (lock, recovery) = DirLock::acquire_for_write(&opts.dir, LOCK_WAIT)?;
    let existing: Vec<String> = files::ALL
        .iter()
        .filter(|f| opts.dir.join(f).symlink_metadata().is_ok())
        .map(|f| f.to_string())
        .collect();
    // A directory (Docker's, for a missing bind mount), a symlink or a
    // FIFO in a file's place: --force would not help, so say what would.
    for name in &existing {
        lock.check_replaceable(name)?;
    }
    if !existing.is_empty() && !opts.force {
        return Err(Error::WouldOverwrite {
            dir: opts.dir.clone(),
            names: existing,
        });
    }

    let kt = opts.key_type;
    let mut keys = generate_keys(&[kt, kt, kt])?.into_iter();
    let (Some(ca_key), Some(server_key), Some(client_key)) =
        (keys.next(), keys.next(), keys.next())
    else {
        unreachable!("generate_keys returns one key per type");
    };

    let mut warnings = Vec::new();
    let ca_validity = Validity::days_from(now, opts.ca_days);
    let mut leaf_validity = Validity::days_from(now, opts.days);
    if leaf_validity.cap_at(ca_validity.not_after) {
        warnings.push(format!(
            "--days {} would outlive the CA (--ca-days {}): the server and client \
             certificates end with the CA instead",
            opts.days, opts.ca_days
        ));
    }
    if opts.key_type == KeyType::Ed25519 {
        warnings.push(format!(
            "--key-type ed25519: {}",
            crate::keys::ED25519_CLIENT_WARNING
        ));
    }

    let ca_serial = Serial::random();
    let ca_params = ca::params(&v.ca_subject, &ca_key, &ca_serial, ca_validity);
    let ca_cert = ca_params
        .self_signed(&ca_key)
        .map_err(|source| Error::Crypto {
            what: "sign the CA certificate",
            source,
        })?;
    let issuer = Issuer::from_params(&ca_params, &ca_key);

    let mut new_files = NewFile::pair(
        files::CA_KEY,
        crate::keys::private_key_pem(&ca_key),
        files::CA_PEM,
        ca_cert.pem(),
    )
    .to_vec();
    let mut issued = vec![Issued {
        role: CertRole::Ca,
        cert_file: files::CA_PEM.into(),
        key_file: files::CA_KEY.into(),
        common_name: v.ca_subject.common_name.clone(),
        names: Vec::new(),
        serial: ca_serial.clone(),
        key_type: opts.key_type,
        not_after: ca_validity.not_after,
    }];

    let mut serial = ca_serial;
    for (role, key) in [(Role::Server, &server_key), (Role::Client, &client_key)] {
        serial = next_serial(&serial, &opts.dir)?;
        let spec = LeafSpec {
            profile: role.profile(),
            subject: &v.subject,
            names: &v.names,
            validity: leaf_validity,
            serial: &serial,
        };
        let cert = leaf::params(&spec, key, opts.key_type)?
            .signed_by(key, &issuer)
            .map_err(|source| Error::Crypto {
                what: "sign a certificate",
                source,
            })?;
        new_files.extend(NewFile::pair(
            role.key_file(),
            crate::keys::private_key_pem(key),
            role.cert_file(),
            cert.pem(),
        ));
        issued.push(Issued {
            role: CertRole::Leaf(role),
            cert_file: role.cert_file().into(),
            key_file: role.key_file().into(),
            common_name: v.subject.common_name.clone(),
            names: v.names.clone(),
            serial: serial.clone(),
            key_type: opts.key_type,
            not_after: leaf_validity.not_after,
        });
    }
    new_files.push(NewFile::public(files::CA_SRL, serial.to_srl()));

    let backup_time = (opts.force && opts.backup).then_some(now);
    let backup = lock.replace_files(&new_files, backup_time)?;
    if existing
        .iter()
        .any(|f| f == files::CA_PEM || f == files::CA_KEY)
    {
        warnings.push(ca_replaced_warning(&opts.dir, backup.as_deref()));
    }
    Ok(GenReport {
        dir: opts.dir.clone(),
        recovery,
        backup,
        issued,
        last_serial: serial,
        warnings,
    })
}

/// What replacing a CA means: a new ca.pem is a new trust anchor, so every
/// peer still holding the old one rejects the new certificates ("unknown
/// authority"). Usually the intent was new leaves from the same CA: `renew`.
fn ca_replaced_warning(dir: &Path, backup: Option<&Path>) -> String {
    let kept = match backup {
        Some(b) => format!("; the old CA is kept in {}/", b.display()),
        None => String::new(),
    };
    format!(
        "made a new CA in {}/, replacing the old one: every client and server that trusts the old ca.pem now fails \
         with \"unknown authority\" until it is given the new ca.pem; to keep the CA and make \
         only new server and client certificates (the usual intent), use \
         `milvus-certs renew --dir {}` instead{kept}",
        dir.display(),
        crate::shell::quote(&dir.display().to_string()),
    )
}
