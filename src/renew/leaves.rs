//! Renewing the leaves: new keys and certificates for server.pem,
//! client.pem and the certificates `add` made, from the existing CA (the
//! guide's `renew.sh`), each keeping what it had unless an option says
//! otherwise.

use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use super::{RenewReport, Renewed, check_writable, der_notes, lifetime_days, lock};
use crate::ca::LoadedCa;
use crate::certinfo::{CertInfo, SubjectAttrs};
use crate::error::{Error, Result};
use crate::files;
use crate::input::{self, Encoding};
use crate::issue::{self, CertRole, Issued, SerialSource, generate_keys, next_serial};
use crate::keys::KeyType;
use crate::leaf::{self, LeafSpec, Profile, Role, Target};
use crate::names::{self, SanName, Subject};
use crate::store::NewFile;
use crate::validity::{Validity, check_days, date};

/// What `renew` changes. Every `Option` left `None` is taken from the
/// certificate being replaced.
#[derive(Clone, Debug)]
pub struct RenewOptions {
    /// The certificate directory.
    pub dir: PathBuf,
    /// Renew only these leaves (empty: server, client and every
    /// certificate `add` made in the directory).
    pub only: Vec<Target>,
    /// Validity of the new certificates, in days (default: each keeps the
    /// lifetime of the one it replaces, 3650 days for a missing one).
    pub days: Option<u32>,
    /// A new common name.
    pub common_name: Option<String>,
    /// Names to add (or, with `replace_sans`, the only extra names).
    pub sans: Vec<String>,
    /// Drop the names of the old certificate; keep only the CN and `sans`.
    pub replace_sans: bool,
    /// Subject overrides (C, ST, L, O, OU).
    pub country: Option<String>,
    /// ST.
    pub state: Option<String>,
    /// L.
    pub locality: Option<String>,
    /// O.
    pub organization: Option<String>,
    /// OU.
    pub org_unit: Option<String>,
    /// Key type of the new keys (default: the old key's type).
    pub key_type: Option<KeyType>,
    /// Keep the replaced files under `backup/<time>/`.
    pub backup: bool,
    /// Check and make everything, but write nothing (and leave an
    /// interrupted write alone).
    pub dry_run: bool,
}

impl Default for RenewOptions {
    fn default() -> Self {
        RenewOptions {
            dir: PathBuf::from("."),
            only: Vec::new(),
            days: None,
            common_name: None,
            sans: Vec::new(),
            replace_sans: false,
            country: None,
            state: None,
            locality: None,
            organization: None,
            org_unit: None,
            key_type: None,
            backup: true,
            dry_run: false,
        }
    }
}

/// A leaf certificate found in the directory (or None when absent), PEM or DER.
fn read_leaf(dir: &Path, role: Role) -> Result<Option<(CertInfo, Encoding)>> {
    read_target(dir, &Target::Leaf(role))
}

/// A leaf certificate found in the directory (or None when absent), PEM or DER.
fn read_target(dir: &Path, target: &Target) -> Result<Option<(CertInfo, Encoding)>> {
    let path = dir.join(target.cert_file());
    const EXPECTED: &str = "a PEM certificate";
    let Some(bytes) = input::read_in_folder(&path, EXPECTED)? else {
        return Ok(None);
    };
    let (mut certs, encoding) =
        input::parse_certificates_or_der(&path, &bytes).map_err(|e| with_remove_hint(e, target))?;
    let first = certs.swap_remove(0);
    CertInfo::from_der(&first)
        .map(|c| Some((c, encoding)))
        .map_err(|reason| with_remove_hint(Error::bad_file(&path, EXPECTED, reason), target))
}

/// A broken old leaf only stops us because we read its names from it: say
/// how to renew without it.
fn with_remove_hint(e: Error, target: &Target) -> Error {
    match e {
        Error::BadFile {
            path,
            expected,
            reason,
            backup,
        } => Error::BadFile {
            path,
            expected,
            backup,
            reason: match target {
                Target::Leaf(role) => format!(
                    "{reason}; move it away to renew {} from the CA's subject instead",
                    role.name()
                ),
                Target::Added(name) => format!(
                    "{reason}; make it again with `milvus-certs add {name} --force` (with --dir)"
                ),
            },
        },
        other => other,
    }
}

impl RenewOptions {
    fn overrides(&self) -> SubjectAttrs {
        SubjectAttrs {
            country: self.country.clone(),
            state: self.state.clone(),
            locality: self.locality.clone(),
            organization: self.organization.clone(),
            org_unit: self.org_unit.clone(),
            common_name: self.common_name.clone(),
        }
    }
}

/// What goes into one new leaf.
struct Plan {
    target: Target,
    profile: Profile,
    subject: Subject,
    names: Vec<SanName>,
    key_type: KeyType,
    days: u32,
    old_not_after: Option<OffsetDateTime>,
}

/// The name of `known` that `typed` is a likely typo of: the nearest
/// within one edit (adjacent swaps count as one) for names of up to four
/// characters, two for longer ones, as the binary's suggestions for
/// mistyped options.
fn closest<'a>(typed: &str, known: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let limit = if typed.chars().count() <= 4 { 1 } else { 2 };
    known
        .map(|k| (strsim::osa_distance(typed, k), k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Every leaf `renew` makes when `--only` does not choose: server, client,
/// and each certificate `add` made (`added`, from
/// [`crate::issue::added_names`]).
pub(super) fn all_targets(added: &[String]) -> Vec<Target> {
    Role::ALL
        .into_iter()
        .map(Target::Leaf)
        .chain(added.iter().cloned().map(Target::Added))
        .collect()
}

/// Renews the server and/or client certificate with new keys. Nothing is
/// written unless every check passes and every certificate is made.
pub(super) fn renew(opts: &RenewOptions, now: OffsetDateTime) -> Result<RenewReport> {
    renew_only(opts, &opts.only, now)
}

/// [`renew`] of `only` (empty: every leaf), which `--if-expiring-within`
/// narrows to the leaves that are due; `opts.only` is what the user named.
pub(super) fn renew_only(
    opts: &RenewOptions,
    only: &[Target],
    now: OffsetDateTime,
) -> Result<RenewReport> {
    if let Some(days) = opts.days {
        check_days("--days", days)?;
    }
    let extra: Vec<SanName> = opts
        .sans
        .iter()
        .map(|s| SanName::parse("--san", s))
        .collect::<Result<_>>()?;
    let (lock, recovery) = lock(&opts.dir, opts.dry_run)?;
    let dir = &opts.dir;
    let ca = LoadedCa::load(dir, now, true)?;
    check_writable(dir)?;
    let (srl, srl_missing) = issue::read_serial(dir)?;
    let read = [read_leaf(dir, Role::Server)?, read_leaf(dir, Role::Client)?];
    let old = read.clone().map(|l| l.map(|(c, _)| c));
    let added_names = crate::issue::added_names(dir);
    let targets: Vec<Target> = if only.is_empty() {
        all_targets(&added_names)
    } else {
        only.to_vec()
    };
    // The added certificates: those renewed now (each must exist: its
    // profile and names come from it), and the others, for the serials.
    let mut added_old: Vec<(String, CertInfo)> = Vec::new();
    let mut added_der = Vec::new();
    for name in &added_names {
        let t = Target::Added(name.clone());
        let wanted = targets.contains(&t);
        match read_target(dir, &t) {
            Ok(Some((c, enc))) => {
                if wanted && enc == Encoding::Der {
                    added_der.push(format!(
                        "read the old {} as DER (binary); the new one is PEM",
                        t.cert_file()
                    ));
                }
                added_old.push((name.clone(), c));
            }
            Ok(None) => {}
            Err(e) if wanted => return Err(e),
            Err(_) => {}
        }
    }
    for t in &targets {
        if let Target::Added(name) = t
            && !added_old.iter().any(|(n, _)| n == name)
        {
            let missing = Error::MissingFile {
                path: dir.join(t.cert_file()),
                what: "the certificate to renew",
                fix: match crate::issue::preset(name) {
                    Some(_) => format!(
                        "make it with `{}`",
                        crate::shell::milvus_certs("add", dir, &[name])
                    ),
                    None => format!(
                        "make it with `{}` (or --profile client or peer)",
                        crate::shell::milvus_certs("add", dir, &[name, "--profile", "server"])
                    ),
                },
            };
            // Named with --only: a NAME that names no certificate here is
            // an invalid value (exit 2). One close to a certificate that is
            // here is a typo: suggesting `add` would make a certificate
            // named after it.
            if !opts.only.contains(t) {
                return Err(missing);
            }
            let known = Role::ALL.iter().map(|r| r.name()).chain(
                added_names
                    .iter()
                    .map(String::as_str)
                    .filter(|n| *n != name.as_str()),
            );
            return Err(match closest(name, known) {
                Some(meant) => Error::invalid(
                    "--only",
                    name,
                    format!(
                        "did you mean {meant}? `{}`",
                        crate::shell::milvus_certs("renew", dir, &["--only", meant])
                    ),
                ),
                None => Error::invalid("--only", name, missing),
            });
        }
    }

    let mut warnings = der_notes(&ca, &read, false);
    warnings.extend(added_der);
    // The CA's attributes, with the " CA" our gen appends removed from its CN,
    // stand in for a missing leaf (the guide's CA has the leaves' subject).
    let mut ca_attrs = ca.cert.subject_attrs.clone();
    ca_attrs.common_name = ca_attrs
        .common_name
        .map(|cn| cn.strip_suffix(" CA").map(str::to_string).unwrap_or(cn));

    let mut plans = Vec::new();
    for target in &targets {
        // Options that name things (--common-name, --san, --replace-sans,
        // subject fields) apply to server and client, and to an added
        // certificate only when --only names it.
        // `source_file` names the certificate `source` was read from, for
        // the refusals below.
        let (this, source, source_file, overrides, role_profile): (
            Option<&CertInfo>,
            Option<&CertInfo>,
            String,
            bool,
            Option<Profile>,
        ) = match target {
            Target::Leaf(role) => {
                let idx = Role::ALL.iter().position(|r| r == role).unwrap_or(0);
                let this = old[idx].as_ref();
                let source = this.or(old[1 - idx].as_ref());
                // As for an added certificate below: the names to sign come
                // from a certificate this CA issued, never from one planted
                // by whoever else can write (or own a file in) the folder,
                // unless the options name them all (--common-name with
                // --replace-sans).
                let named = opts.common_name.is_some() && opts.replace_sans;
                let file = if this.is_some() {
                    role.cert_file()
                } else {
                    Role::ALL[1 - idx].cert_file()
                };
                if let Some(cert) = source.filter(|_| !named)
                    && let Some(finding) =
                        crate::checks::issued_by(cert, &ca.cert, crate::files::CA_PEM, None)
                {
                    return Err(Error::bad_file(
                        &dir.join(file),
                        "a certificate this CA issued",
                        format!(
                            "{finding}; renewing would sign its names with this CA: \
                                 name them yourself with `{}`",
                            crate::shell::milvus_certs(
                                "renew",
                                dir,
                                &[
                                    "--only",
                                    role.name(),
                                    "--common-name",
                                    "NAME",
                                    "--san",
                                    "NAME",
                                    "--replace-sans"
                                ]
                            )
                        ),
                    ));
                }
                (this, source, file.to_string(), true, Some(role.profile()))
            }
            Target::Added(name) => {
                let this = added_old.iter().find(|(n, _)| n == name).map(|(_, c)| c);
                let file = crate::files::added_cert(name);
                // Renewing signs the old certificate's names with this CA:
                // only for one this CA really issued (by signature, not by
                // issuer name: every gen.sh CA has the same name), never for
                // one planted by whoever else can write the folder.
                if let Some(cert) = this
                    && let Some(finding) =
                        crate::checks::issued_by(cert, &ca.cert, crate::files::CA_PEM, None)
                {
                    return Err(Error::bad_file(
                        &dir.join(&file),
                        "a certificate this CA issued",
                        format!(
                            "{finding}; renewing it would sign its names with this CA: \
                                 remove it, or issue a new one with `{}`",
                            crate::shell::milvus_certs("add", dir, &[name, "--force"])
                        ),
                    ));
                }
                (this, this, file, only.contains(target), None)
            }
        };
        let attrs = if overrides {
            opts.overrides()
        } else {
            SubjectAttrs::default()
        }
        .or(&source.map(|c| c.subject_attrs.clone()).unwrap_or_default())
        .or(&ca_attrs);
        let subject = attrs.complete();
        if let Err(e) = subject.validate("--common-name") {
            // Nothing was given on the command line: the value is the old
            // certificate's, and the message names it, not an option.
            let given = overrides && opts.overrides() != SubjectAttrs::default();
            return Err(match (given, source, e) {
                (
                    false,
                    Some(_),
                    Error::InvalidValue {
                        option,
                        value,
                        reason,
                    },
                ) => Error::bad_file(
                    &dir.join(&source_file),
                    "a certificate whose subject can be issued again",
                    format!(
                        "its subject holds {value:?}, which {option} would refuse ({reason}); \
                         give it with `{}`",
                        crate::shell::milvus_certs(
                            "renew",
                            dir,
                            &["--only", target.label(), option, "VALUE"]
                        )
                    ),
                ),
                (_, _, e) => e,
            });
        }
        let mut kept = Vec::new();
        if let Some(c) = source.filter(|_| !(overrides && opts.replace_sans)) {
            // Names read from a certificate get the check --san gives: a
            // name that is not one (an escape sequence, a space) is not
            // signed again.
            if let Some((san, why)) = c.sans.iter().find_map(|n| n.dns_problem().map(|w| (n, w))) {
                return Err(Error::bad_file(
                    &dir.join(&source_file),
                    "a certificate whose names can be issued again",
                    format!(
                        "its name {:?} {why}; name them yourself with `{}`",
                        san.to_string(),
                        crate::shell::milvus_certs(
                            "renew",
                            dir,
                            &["--only", target.label(), "--san", "NAME", "--replace-sans"]
                        )
                    ),
                ));
            }
            kept.extend(c.sans.iter().cloned());
            if !c.other_sans.is_empty() {
                warnings.push(format!(
                    "{} had names that are neither DNS nor IP ({}); the new one leaves them out",
                    target.cert_file(),
                    c.other_sans.join(", ")
                ));
            }
        }
        if overrides {
            kept.extend(extra.iter().cloned());
        }
        let names = names::server_names(&subject.common_name, &kept)?;
        // An added certificate keeps its profile (read from its
        // extendedKeyUsage), and gets at least what a ready-made name needs.
        let profile =
            role_profile.unwrap_or_else(|| crate::issue::added_profile(target.label(), this));
        let key_type = match opts.key_type {
            Some(k) => k,
            None => match source.map(|c| (c.key_type, &c.key)) {
                Some((Some(k), _)) => k,
                Some((None, desc)) => {
                    warnings.push(format!(
                        "{} has a {desc} key, which milvus-certs does not make; the new key is rsa2048 (choose with --key-type)",
                        target.cert_file()
                    ));
                    KeyType::Rsa2048
                }
                None => ca.cert.key_type.unwrap_or(KeyType::Rsa2048),
            },
        };
        plans.push(Plan {
            target: target.clone(),
            profile,
            subject,
            names,
            key_type,
            days: opts
                .days
                .unwrap_or_else(|| this.map_or(issue::DEFAULT_DAYS, lifetime_days)),
            old_not_after: this.map(|c| c.not_after),
        });
    }

    let mut capped = Vec::new();
    let validities: Vec<Validity> = plans
        .iter()
        .map(|p| {
            let mut v = Validity::days_from(now, p.days);
            if v.cap_at(ca.cert.not_after) && !capped.contains(&p.days) {
                capped.push(p.days);
            }
            v
        })
        .collect();
    for days in capped {
        let what = match opts.days {
            Some(_) => format!("--days {days}"),
            None => format!("the old lifetime of {days} days"),
        };
        warnings.push(format!(
            "{what} would outlive the CA, which expires {}: the new certificates end then too \
             (renew the CA with `{}`)",
            date(ca.cert.not_after),
            crate::shell::milvus_certs("renew", dir, &["--ca"])
        ));
    }
    let old_refs: Vec<&CertInfo> = old
        .iter()
        .flatten()
        .chain(added_old.iter().map(|(_, c)| c))
        .collect();
    let (mut serial, serial_source) = issue::continue_from(&ca, srl, srl_missing, &old_refs);
    if let SerialSource::BumpedPast(h) = &serial_source {
        warnings.push(format!(
            "{} is behind the serial {h} already issued; continuing after it so no serial is issued twice",
            dir.join(files::CA_SRL).display()
        ));
    }

    let types: Vec<KeyType> = plans.iter().map(|p| p.key_type).collect();
    if types.contains(&KeyType::Ed25519) {
        warnings.push(format!(
            "the new keys are Ed25519: {}",
            crate::keys::ED25519_CLIENT_WARNING
        ));
    }
    let keys = generate_keys(&types)?;
    let issuer = ca.issuer();
    let mut new_files = Vec::new();
    let mut renewed = Vec::new();
    for ((plan, key), &validity) in plans.iter().zip(&keys).zip(&validities) {
        serial = next_serial(&serial, dir)?;
        let spec = LeafSpec {
            profile: plan.profile,
            subject: &plan.subject,
            names: &plan.names,
            validity,
            serial: &serial,
        };
        let mut params = leaf::params(&spec, key, plan.key_type)?;
        params.use_authority_key_identifier_extension = ca.has_ski();
        let cert = params
            .signed_by(key, &issuer)
            .map_err(|source| Error::Crypto {
                what: "sign a certificate",
                source,
            })?;
        issue::check_chains(&ca, cert.der(), dir)?;
        new_files.extend(NewFile::pair(
            plan.target.key_file(),
            crate::keys::private_key_pem(key),
            plan.target.cert_file(),
            cert.pem(),
        ));
        renewed.push(Renewed {
            new: Issued {
                role: match &plan.target {
                    Target::Leaf(r) => CertRole::Leaf(*r),
                    Target::Added(_) => CertRole::Added(plan.profile),
                },
                cert_file: plan.target.cert_file(),
                key_file: plan.target.key_file(),
                common_name: plan.subject.common_name.clone(),
                names: plan.names.clone(),
                serial: serial.clone(),
                key_type: plan.key_type,
                not_after: validity.not_after,
            },
            old_not_after: plan.old_not_after,
        });
    }
    new_files.push(NewFile::public(files::CA_SRL, serial.to_srl()));
    let backup = if opts.dry_run {
        None
    } else {
        lock.replace_files(&new_files, opts.backup.then_some(now))?
    };
    Ok(RenewReport {
        dir: dir.clone(),
        recovery,
        backup,
        dry_run: opts.dry_run,
        renewed,
        serial_source,
        last_serial: serial,
        warnings,
        ca_added: Vec::new(),
    })
}
