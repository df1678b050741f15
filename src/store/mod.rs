//! Files on disk: the directory lock, whole-or-nothing replacement of a set
//! of files, recovery after a crash, permissions and backups.
//!
//! # How a set of files is replaced
//! 1. Every new file is written into the staging directory
//!    `DIR/.milvus-certs-pending/` (created 0700; each file created 0600 from
//!    the start, then set to its final mode, written and fsynced). Copies of
//!    the files about to be replaced go to its `backup/` subdirectory.
//! 2. The journal `COMMIT` is written (to a temporary name, fsynced, renamed):
//!    this is the commit point. Before it, a crash leaves the old files
//!    untouched and the next run deletes the staging directory (roll back).
//! 3. Each staged file is renamed over its target (atomic per file, POSIX
//!    rename(2)), the backup is moved to `DIR/backup/<UTC time>/`, the journal
//!    and the staging directory are removed. A crash in this phase is
//!    completed by the next run, which renames what is still staged (roll
//!    forward): no file is ever lost, and a key and its certificate are never
//!    left from different generations once any command has run.
//!
//! Every command takes the directory lock (flock(2) on the directory itself,
//! so no lock file is left behind) and recovers before it reads anything.
//!
//! # Who may write the directory
//! milvus-certs runs as root from timers, so it treats the certificate
//! directory the way ssh treats `~/.ssh`: every operation inside it goes
//! through the open directory's descriptor and never follows a symlink
//! (the private `fsat` module); commands that write refuse a directory that group
//! or others can write to; and an interrupted write is completed or rolled
//! back only when its staging folder is a real directory owned by the user
//! running the command (or by the directory's owner), writable by nobody
//! else, holding only names milvus-certs writes. Anything else is left
//! exactly as it is and reported ([`Error::UnsafePending`]).
//!
//! # Where it lives
//! - [`lock`]: the directory lock ([`DirLock`]) and its ways of taking it.
//! - [`journal`]: staging, the journal, recovery under the rules above,
//!   and whole-or-nothing replacement of a set of files ([`NewFile`],
//!   [`Recovery`]).
//! - [`write`](mod@write): the generic writers for output folders (`export --out`,
//!   `schedule --out`, `man --out`): [`write_outputs`] and
//!   [`create_private_dir_all`].
//!
//! The descriptor-relative operations themselves are the private `fsat`
//! module's.

use std::path::Path;
use std::time::Duration;

use crate::error::Error;
use crate::fsat;

mod journal;
mod lock;
mod write;

pub use journal::Recovery;
pub(crate) use journal::{NewFile, has_pending_write};
pub(crate) use lock::DirLock;
pub(crate) use write::{Output, create_private_dir_all, write_outputs};

/// Mode of private keys: never readable by group or others, whatever the umask.
pub(crate) const SECRET_MODE: u32 = 0o600;
/// Mode of certificates and `ca.srl`.
pub(crate) const PUBLIC_MODE: u32 = 0o644;
/// Mode of directories we create to hold secrets (staging, backups, a new
/// certificate directory).
pub(crate) const PRIVATE_DIR_MODE: u32 = 0o700;
/// Mode of output directories `export` creates: readable, writable by the
/// owner only.
pub(crate) const PUBLIC_DIR_MODE: u32 = 0o755;

/// How long a second run waits for the lock before giving up.
pub(crate) const LOCK_WAIT: Duration = Duration::from_secs(10);

/// The error for a certificate directory that cannot be opened.
fn missing_dir(dir: &Path, e: std::io::Error) -> Error {
    match e.kind() {
        // `gen` alone writes into the current directory: name the folder.
        std::io::ErrorKind::NotFound => Error::MissingFile {
            path: dir.to_path_buf(),
            what: "the certificate directory",
            fix: format!(
                "check --dir, or make the files first with `{}`",
                crate::shell::milvus_certs("gen", dir, &[])
            ),
        },
        _ => Error::io("open directory", dir)(e),
    }
}

fn walk_error(dir: &Path, e: fsat::WalkError) -> Error {
    match e {
        fsat::WalkError::Untrusted { path, reason } => Error::UntrustedPath {
            dir: dir.to_path_buf(),
            path,
            reason,
        },
        fsat::WalkError::Io { path, source } if source.kind() != std::io::ErrorKind::NotFound => {
            missing_dir(&path, source)
        }
        fsat::WalkError::Io { source, .. } => missing_dir(dir, source),
    }
}

/// A file name without any path component.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\0'])
}
