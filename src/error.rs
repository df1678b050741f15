//! The one error type of the library.
//!
//! Every variant names the file or option it concerns, and its message says
//! what to do about it: the binary prints it as a single `error: ...` line.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Everything that can go wrong in `milvus-certs`.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A value given on the command line was refused before anything was generated.
    InvalidValue {
        /// The option, e.g. `--country`.
        option: &'static str,
        /// The value as given (control characters are escaped when displayed).
        value: String,
        /// Why it was refused and what is accepted.
        reason: String,
    },
    /// `gen` would replace files that already exist (and `--force` was not given).
    WouldOverwrite {
        /// The certificate directory.
        dir: PathBuf,
        /// The files that exist.
        names: Vec<String>,
    },
    /// A file system operation failed.
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// What we were doing, e.g. "write" or "create directory".
        action: &'static str,
        /// The underlying error.
        source: io::Error,
    },
    /// Another `milvus-certs` run holds the directory's lock.
    Locked {
        /// The certificate directory.
        dir: PathBuf,
    },
    /// A file that must exist does not.
    Missing {
        /// The missing file.
        path: PathBuf,
        /// What the file is for, e.g. "the CA private key".
        what: &'static str,
        /// What to do.
        hint: &'static str,
    },
    /// A file that must exist does not, with a fix that names its folder.
    MissingFile {
        /// The missing file.
        path: PathBuf,
        /// What the file is for, e.g. "the server key".
        what: &'static str,
        /// What to do, with a command that works when copied.
        fix: String,
    },
    /// A file is not what the command expects (not PEM, wrong label, garbage, ...).
    BadFile {
        /// The file.
        path: PathBuf,
        /// What was expected, e.g. "a PEM certificate".
        expected: &'static str,
        /// What is wrong with it.
        reason: String,
        /// The newest backup folder holding a copy of the file, if any.
        backup: Option<PathBuf>,
    },
    /// A private key file is encrypted; we do not read encrypted keys.
    EncryptedKey {
        /// The key file.
        path: PathBuf,
    },
    /// A private key does not belong to the certificate next to it.
    KeyMismatch {
        /// The key file.
        key: PathBuf,
        /// The certificate file.
        cert: PathBuf,
        /// The newest backup folder holding a copy of the key, if any.
        backup: Option<PathBuf>,
    },
    /// `ca.pem` is not a CA certificate.
    NotCa {
        /// The certificate file.
        path: PathBuf,
        /// Why it cannot sign certificates.
        reason: String,
    },
    /// The CA certificate has expired (or is not valid yet).
    CaNotValid {
        /// The certificate file.
        path: PathBuf,
        /// What is wrong with its validity.
        reason: String,
    },
    /// `ca.srl` cannot be used.
    BadSerialFile {
        /// The serial file.
        path: PathBuf,
        /// What is wrong with it.
        reason: crate::serial::SrlError,
    },
    /// The cryptographic library refused an operation.
    Crypto {
        /// What we were doing.
        what: &'static str,
        /// The underlying error.
        source: rcgen::Error,
    },
    /// A name given for the server is not one its certificate has, so TLS
    /// clients would refuse the connection.
    NameNotInCert {
        /// The option, e.g. `--sni`.
        option: &'static str,
        /// The name as given (or defaulted).
        name: String,
        /// The server certificate.
        cert: PathBuf,
        /// The names it has.
        names: Vec<String>,
    },
    /// tlsMode 2 with a client certificate that lacks clientAuth.
    MissingClientAuth {
        /// The client certificate.
        path: PathBuf,
    },
    /// A certificate was not issued by the CA next to it.
    NotIssuedBy {
        /// The certificate.
        cert: PathBuf,
        /// The CA certificate.
        ca: PathBuf,
        /// The newest backup folder holding a copy of the certificate, if any.
        backup: Option<PathBuf>,
    },
    /// `export` would replace files that exist (and `--force` was not given).
    OutputExists {
        /// The files that exist.
        paths: Vec<PathBuf>,
    },
    /// An interrupted write's staging folder that milvus-certs cannot trust
    /// (a symlink, another user's, writable by others, or holding names it
    /// never writes): it was left exactly as it is.
    UnsafePending {
        /// The staging folder.
        staging: PathBuf,
        /// Why it was not touched.
        reason: String,
    },
    /// A command that writes was pointed at a directory that group or others
    /// can write to.
    SharedDirectory {
        /// The certificate directory.
        dir: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A file is in the way of a whole-or-nothing write: a directory, a
    /// symlink, a mount point, a FIFO, an over-long file.
    NotReplaceable {
        /// The file.
        path: PathBuf,
        /// What it is and what to do.
        reason: String,
    },
    /// A command that writes was given a path another user could redirect:
    /// a folder on the way that is theirs or that others can write, or a
    /// symbolic link they made.
    UntrustedPath {
        /// The path as given.
        dir: PathBuf,
        /// The folder or link on the way.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The daily run found a CA that expires within the renewal window: new
    /// leaves would be capped inside it and renewed again every day.
    CaExpiresWithinWindow {
        /// The certificate directory.
        dir: PathBuf,
        /// Whole days until the CA's notAfter.
        days_left: i64,
        /// The window (`--if-expiring-within`).
        within: u32,
    },
    /// A key or trust store could not be made.
    Store {
        /// What was being made, e.g. "a key store".
        what: &'static str,
        /// Why not.
        reason: String,
    },
    /// A health rule of `crate::checks` failed for a file a command needs.
    Check {
        /// The file concerned.
        path: PathBuf,
        /// What was found.
        finding: Box<crate::checks::Finding>,
    },
    /// The journal of an interrupted write could not be understood.
    BadJournal {
        /// The journal file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// What is wrong, without the generic fix a `BadFile` ends with ("restore
    /// a good copy"): for a finding, whose own fix says that.
    pub(crate) fn without_fix(&self) -> String {
        match self {
            Error::BadFile {
                path,
                expected,
                reason,
                ..
            } => format!("{} is not {expected}: {reason}", path.display()),
            other => other.to_string(),
        }
    }

    pub(crate) fn io(
        action: &'static str,
        path: impl AsRef<Path>,
    ) -> impl FnOnce(io::Error) -> Error {
        let path = path.as_ref().to_path_buf();
        move |source| Error::Io {
            path,
            action,
            source,
        }
    }

    /// `reason` is a message or a typed cause (names::DnsNameError, ...),
    /// kept as its text.
    pub(crate) fn invalid(option: &'static str, value: &str, reason: impl fmt::Display) -> Error {
        Error::InvalidValue {
            option,
            value: value.to_string(),
            reason: reason.to_string(),
        }
    }

    /// `reason` is a message or a typed cause (certinfo::CertError, ...),
    /// kept as its text: its wording decides how the message ends.
    pub(crate) fn bad_file(
        path: &Path,
        expected: &'static str,
        reason: impl fmt::Display,
    ) -> Error {
        Error::BadFile {
            path: path.to_path_buf(),
            expected,
            reason: reason.to_string(),
            backup: latest_backup_of(path),
        }
    }

    pub(crate) fn key_mismatch(key: &Path, cert: &Path) -> Error {
        Error::KeyMismatch {
            key: key.to_path_buf(),
            cert: cert.to_path_buf(),
            backup: latest_backup_of(key),
        }
    }

    pub(crate) fn not_issued_by(cert: &Path, ca: &Path) -> Error {
        Error::NotIssuedBy {
            cert: cert.to_path_buf(),
            ca: ca.to_path_buf(),
            backup: latest_backup_of(cert),
        }
    }
}

/// The newest `backup/<UTC time>/` folder next to `path` that holds a file of
/// the same name, so a message points to a copy only when there is one.
/// The folder names are UTC times (`20260101T000000Z`), which sort as text.
pub(crate) fn latest_backup_of(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut folders: Vec<PathBuf> = std::fs::read_dir(dir.join("backup"))
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.join(name).is_file())
        .collect();
    folders.sort();
    folders.pop()
}

/// " (an earlier NAME is in DIR/)" when `backup` is known; nothing otherwise.
fn copy_in(backup: &Option<PathBuf>, what: &Path) -> String {
    match (backup, what.file_name()) {
        (Some(b), Some(name)) => format!(
            " (an earlier {} is in {}/)",
            name.to_string_lossy(),
            b.display()
        ),
        _ => String::new(),
    }
}

/// The folder a file is in, as a suggested command's `--dir` needs it.
fn dir_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// A suggested `milvus-certs renew` for the folder holding `path`.
fn renew_in(path: &Path, args: &[&str]) -> String {
    crate::shell::milvus_certs("renew", dir_of(path), args)
}

/// Hints for the most common I/O failures, so the message says what to do.
fn io_hint(source: &io::Error) -> &'static str {
    match source.kind() {
        io::ErrorKind::PermissionDenied => {
            ": check the permissions, or run as a user who may write there"
        }
        io::ErrorKind::NotFound => ": check the path",
        io::ErrorKind::StorageFull => ": free some disk space and run again (nothing was changed)",
        io::ErrorKind::ReadOnlyFilesystem => ": choose a writable --dir",
        io::ErrorKind::IsADirectory => ": give the path of a file, not of a directory",
        io::ErrorKind::NotADirectory => ": a file is in the way; give a directory path",
        _ => "",
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidValue {
                option,
                value,
                reason,
            } => write!(f, "invalid {option} {:?}: {reason}", value),
            Error::WouldOverwrite { dir, names } => {
                write!(
                    f,
                    "{} already holds {}: nothing was written; pass --force to replace them \
                     (the old files are kept under {})",
                    dir.display(),
                    names.join(", "),
                    dir.join("backup").display()
                )?;
                if names.iter().any(|n| n == "ca.pem" || n == "ca.key") {
                    // --force would make a new CA, which every client must then be given.
                    write!(
                        f,
                        ", or run `milvus-certs renew --dir {}` to keep the CA and make only \
                         new server and client certificates",
                        crate::shell::quote(&dir.display().to_string())
                    )?;
                }
                Ok(())
            }
            Error::Io {
                path,
                action,
                source,
            } => write!(
                f,
                "cannot {action} {}: {source}{}",
                path.display(),
                io_hint(source)
            ),
            Error::Locked { dir } => write!(
                f,
                "another milvus-certs run is working on {}: wait for it to finish, then try again",
                dir.display()
            ),
            Error::MissingFile { path, what, fix } => {
                write!(f, "{} is missing ({what}): {fix}", path.display())
            }
            Error::Missing { path, what, hint } => {
                write!(f, "{} is missing ({what}): {hint}", path.display())
            }
            Error::BadFile {
                path,
                expected,
                reason,
                backup,
            } => {
                write!(f, "{} is not {expected}: {reason}", path.display())?;
                // Reasons that carry their own fix say it after a "; ".
                if !reason.contains("; ") {
                    write!(f, "; restore a good copy{}", copy_in(backup, path))?;
                }
                Ok(())
            }
            Error::EncryptedKey { path } => write!(
                f,
                "{} is an encrypted private key, which milvus-certs does not read: \
                 decrypt it with `openssl pkey -in {0} -out {0}.plain` and use that file",
                path.display()
            ),
            Error::KeyMismatch { key, cert, backup } => {
                write!(
                    f,
                    "{} does not belong to {}: restore the matching key or certificate{}",
                    key.display(),
                    cert.display(),
                    copy_in(backup, key)
                )?;
                if key.file_name().is_some_and(|n| n == "ca.key") {
                    // Without the CA's own key nothing can be signed for this ca.pem again.
                    f.write_str(
                        ", or make a new CA with `milvus-certs gen --force` \
                         (every client then needs the new ca.pem)",
                    )
                } else {
                    f.write_str(", or run `milvus-certs renew` to make a new key and certificate")
                }
            }
            Error::NotCa { path, reason } => write!(
                f,
                "{} is not a CA certificate ({reason}): point --dir at the directory made by \
                 `milvus-certs gen` or the guide's gen.sh",
                path.display()
            ),
            Error::CaNotValid { path, reason } => write!(
                f,
                "{} {reason}: renew it with `{}`, or make a new set with `{}`",
                path.display(),
                renew_in(path, &["--ca"]),
                crate::shell::milvus_certs("gen", dir_of(path), &["--force"])
            ),
            Error::BadSerialFile { path, reason } => write!(
                f,
                "{} {reason}: fix it or remove it (a random serial is then used, as \
                 openssl -CAcreateserial does)",
                path.display()
            ),
            Error::Crypto { what, source } => write!(f, "cannot {what}: {source}"),
            Error::NameNotInCert {
                option,
                name,
                cert,
                names,
            } => write!(
                f,
                "invalid {option} {name:?}: {} has no such name, so TLS clients would refuse it \
                 (it has: {}); pass one of those, or add the name with `{}`",
                cert.display(),
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                },
                renew_in(cert, &["--only", "server", "--san", name])
            ),
            Error::MissingClientAuth { path } => write!(
                f,
                "{} lacks the clientAuth extended key usage, so Milvus with tlsMode 2 (Go crypto/tls) \
                 rejects it (\"certificate specifies an incompatible key usage\"): make a new one with \
                 `{}`",
                path.display(),
                renew_in(path, &["--only", "client"])
            ),
            Error::NotIssuedBy { cert, ca, backup } => write!(
                f,
                "{} was not issued by {}, so clients would fail with \"unknown authority\": \
                 restore the matching files{} or run `{}`",
                cert.display(),
                ca.display(),
                copy_in(backup, cert),
                renew_in(cert, &[])
            ),
            Error::Check { path, finding } => {
                write!(f, "{}: {}", path.display(), finding.with_fix())
            }
            Error::OutputExists { paths } => write!(
                f,
                "{} already exist{}: nothing was written; pass --force to replace {}",
                paths
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                if paths.len() == 1 { "s" } else { "" },
                if paths.len() == 1 { "it" } else { "them" }
            ),
            Error::UnsafePending { staging, reason } => {
                let q = crate::shell::quote(&staging.display().to_string());
                write!(
                    f,
                    "{} looks like an interrupted milvus-certs write, but {reason}, so it was left \
                     exactly as it is and nothing was written: look inside (`ls -la {q}`); if you \
                     did not make it, remove it with `rm -rf -- {q}` and run again",
                    staging.display()
                )
            }
            Error::SharedDirectory { dir, mode } => {
                let shown = match std::path::absolute(dir) {
                    Ok(abs) if abs != *dir => format!("{} ({})", dir.display(), abs.display()),
                    _ => dir.display().to_string(),
                };
                write!(
                    f,
                    "{shown} is writable by group or others (mode {mode:04o}), so another user \
                     could replace its keys or plant files for milvus-certs to act on; nothing \
                     was written: "
                )?;
                if mode & 0o1000 != 0 {
                    // A sticky folder such as /tmp is shared on purpose:
                    // chmod would break it for everyone.
                    write!(
                        f,
                        "keep the files in a private folder of their own, e.g. `--dir {}`",
                        crate::shell::quote(
                            &if dir.as_os_str() == "." {
                                PathBuf::from("milvus-certs")
                            } else {
                                dir.join("milvus-certs")
                            }
                            .display()
                            .to_string()
                        )
                    )
                } else {
                    write!(
                        f,
                        "make it private with `chmod go-w {}` and run again",
                        crate::shell::quote(&dir.display().to_string())
                    )
                }
            }
            Error::NotReplaceable { path, reason } => write!(
                f,
                "cannot replace {}: {reason}; nothing was changed",
                path.display()
            ),
            Error::UntrustedPath { dir, path, reason } => write!(
                f,
                "will not write in {}: on the way, {} is not safe to rely on: {reason}; \
                 nothing was written: run milvus-certs as the user who owns it, or keep \
                 the files in a folder that only root or you can write",
                dir.display(),
                path.display()
            ),
            Error::CaExpiresWithinWindow {
                dir,
                days_left,
                within,
            } => write!(
                f,
                "{} expires in {days_left} days, within the {within}-day renewal window: no \
                 certificate can outlive it, so every run would renew the leaves (and restart \
                 Milvus) again; nothing was renewed: renew the CA first with `{}` (same key: \
                 clients keep trusting it)",
                dir.join(crate::files::CA_PEM).display(),
                crate::shell::milvus_certs("renew", dir, &["--ca"])
            ),
            Error::Store { what, reason } => write!(f, "cannot make {what}: {reason}"),
            Error::BadJournal { path, reason } => write!(
                f,
                "{} (left by an interrupted run) cannot be read: {reason}; \
                 inspect it, then remove it by hand",
                path.display()
            ),
        }
    }
}

/// Each message already contains its cause (one line, as the binary prints
/// it), so `source()` is not chained again: `{:#}` would print it twice.
impl std::error::Error for Error {}
