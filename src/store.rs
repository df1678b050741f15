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

use std::fs::{self, File};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use rustix::fs::FileType;
use time::OffsetDateTime;

use crate::error::{Error, Result};
use crate::files;
use crate::fsat::{self, Meta, ReadError};

/// The staging directory of a write in progress, inside the certificate directory.
pub const STAGING_DIR: &str = ".milvus-certs-pending";
/// The journal whose presence marks a committed write.
const JOURNAL: &str = "COMMIT";
const JOURNAL_TMP: &str = "COMMIT.tmp";
const JOURNAL_HEADER: &str = "milvus-certs journal v1";
/// A journal is a few hundred bytes; anything larger is not ours.
const MAX_JOURNAL: u64 = 64 * 1024;
/// Where backups go, inside the certificate directory.
pub const BACKUP_DIR: &str = "backup";

/// Mode of private keys: never readable by group or others, whatever the umask.
pub const SECRET_MODE: u32 = 0o600;
/// Mode of certificates and `ca.srl`.
pub const PUBLIC_MODE: u32 = 0o644;
/// Mode of directories we create to hold secrets (staging, backups, a new
/// certificate directory).
pub const PRIVATE_DIR_MODE: u32 = 0o700;
/// Mode of output directories `export` creates: readable, writable by the
/// owner only.
pub const PUBLIC_DIR_MODE: u32 = 0o755;

/// How long a second run waits for the lock before giving up.
pub const LOCK_WAIT: Duration = Duration::from_secs(10);

/// Whether `dir` holds a write that was interrupted (the next command that
/// takes the lock completes or rolls it back, if it is safe to).
pub fn has_pending_write(dir: &Path) -> bool {
    dir.join(STAGING_DIR).symlink_metadata().is_ok()
}

/// A file to be written as part of a set.
#[derive(Clone, Debug)]
pub struct NewFile {
    /// The file name inside the certificate directory (no path separators;
    /// one [`files::is_managed`] accepts).
    pub name: String,
    /// The contents.
    pub contents: Vec<u8>,
    /// Whether it is a private key (mode 0600) or public (0644).
    pub secret: bool,
}

impl NewFile {
    /// A certificate or `ca.srl` (mode 0644).
    pub fn public(name: impl Into<String>, contents: impl Into<Vec<u8>>) -> NewFile {
        NewFile {
            name: name.into(),
            contents: contents.into(),
            secret: false,
        }
    }

    /// A private key (mode 0600).
    pub fn secret(name: impl Into<String>, contents: impl Into<Vec<u8>>) -> NewFile {
        NewFile {
            name: name.into(),
            contents: contents.into(),
            secret: true,
        }
    }

    /// A key and its certificate, key first.
    pub fn pair(
        key_name: impl Into<String>,
        key_pem: String,
        cert_name: impl Into<String>,
        cert_pem: String,
    ) -> [NewFile; 2] {
        [
            NewFile::secret(key_name, key_pem),
            NewFile::public(cert_name, cert_pem),
        ]
    }

    fn mode(&self) -> u32 {
        if self.secret {
            SECRET_MODE
        } else {
            PUBLIC_MODE
        }
    }
}

/// What the recovery of an interrupted write did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recovery {
    /// The interrupted run had not committed: its staged files were deleted
    /// and the directory is as it was before that run.
    RolledBack,
    /// The interrupted run had committed: the listed files were put in place.
    Completed {
        /// The files that the recovery renamed into place.
        files: Vec<String>,
    },
    /// The staging folder is not one milvus-certs can trust (see the module
    /// documentation): it was left exactly as it is. Only read-only
    /// inspection gets this; commands that write fail with
    /// [`Error::UnsafePending`] instead.
    LeftAlone {
        /// The staging folder.
        staging: PathBuf,
        /// Why it was not touched.
        reason: String,
    },
}

/// What is in the staging folder.
enum Pending {
    None,
    Unsafe(String),
    Safe {
        fd: OwnedFd,
        journal: Option<Journal>,
    },
}

/// An exclusive lock on a certificate directory, held until dropped. It
/// keeps the directory open: every file operation goes through it.
#[derive(Debug)]
pub struct DirLock {
    dir: PathBuf,
    handle: File,
    meta: Meta,
    /// The lock file, when the directory has one (see [`LOCK_FILE`]).
    lock_file: std::sync::OnceLock<File>,
}

/// The lock file, `DIR/.milvus-certs.lock` (0600). flock(2) on the
/// directory itself needs only read access, so any local user who can list
/// a 0755 directory could hold its lock and make every renewal time out;
/// nobody but its owner can open a 0600 file. A directory without one (made
/// by an older release or the guide's scripts) is locked through the
/// directory, and gets its lock file with its first write.
pub const LOCK_FILE: &str = ".milvus-certs.lock";

impl DirLock {
    /// Takes the exclusive lock on `dir` (waiting up to `wait` for another run
    /// to finish), then completes or rolls back any interrupted write; one
    /// that is not safe to touch is an error.
    pub fn acquire(dir: &Path, wait: Duration) -> Result<(DirLock, Option<Recovery>)> {
        DirLock::acquire_checked(dir, wait, false)
    }

    /// [`DirLock::acquire`] for commands that write into the directory: it
    /// also refuses a directory that group or others can write to.
    pub fn acquire_for_write(dir: &Path, wait: Duration) -> Result<(DirLock, Option<Recovery>)> {
        DirLock::acquire_checked(dir, wait, true)
    }

    fn acquire_checked(
        dir: &Path,
        wait: Duration,
        private: bool,
    ) -> Result<(DirLock, Option<Recovery>)> {
        let lock = if private {
            let lock = DirLock::lock_strict(dir, wait)?;
            lock.check_private()?;
            lock
        } else {
            DirLock::lock_only(dir, wait)?
        };
        match lock.recover()? {
            Some(Recovery::LeftAlone { staging, reason }) => {
                Err(Error::UnsafePending { staging, reason })
            }
            recovery => Ok((lock, recovery)),
        }
    }

    /// [`DirLock::acquire`] for read-only inspection: a staging folder that
    /// is not safe to touch is reported as [`Recovery::LeftAlone`].
    pub fn acquire_read(dir: &Path, wait: Duration) -> Result<(DirLock, Option<Recovery>)> {
        let lock = DirLock::lock_only(dir, wait)?;
        let recovery = lock.recover()?;
        Ok((lock, recovery))
    }

    /// Takes the lock but leaves an interrupted write as it is (for
    /// `--dry-run`, which must change nothing). See [`has_pending_write`].
    pub fn lock_only(dir: &Path, wait: Duration) -> Result<DirLock> {
        // The user's own path to the directory is followed (like any
        // command's argument); nothing inside it is. O_DIRECTORY: a FIFO
        // given as --dir fails at once instead of blocking.
        let handle = fsat::open_dir_path(dir).map_err(|e| missing_dir(dir, e))?;
        DirLock::lock_fd(dir, handle, wait)
    }

    /// What [`DirLock::acquire_for_write`] checks before it changes
    /// anything (the path, the directory's permissions), without recovering
    /// an interrupted write: for checks ahead of a run (`--dry-run`, the
    /// daily run's preflight).
    pub fn check_for_write(dir: &Path, wait: Duration) -> Result<DirLock> {
        let lock = DirLock::lock_strict(dir, wait)?;
        lock.check_private()?;
        Ok(lock)
    }

    /// Opens `dir` for a command that writes there: no directory above it,
    /// and no symlink on the way, may be another user's to redirect (see
    /// `fsat::open_dir_strict`).
    fn lock_strict(dir: &Path, wait: Duration) -> Result<DirLock> {
        let (handle, _, _) = fsat::open_dir_strict(dir, None).map_err(|e| walk_error(dir, e))?;
        DirLock::lock_fd(dir, handle, wait)
    }

    fn lock_fd(dir: &Path, handle: OwnedFd, wait: Duration) -> Result<DirLock> {
        let handle = File::from(handle);
        let meta = fsat::fmeta(&handle).map_err(Error::io("open directory", dir))?;
        let deadline = Instant::now() + wait;
        let lock = DirLock {
            dir: dir.to_path_buf(),
            handle,
            meta,
            lock_file: std::sync::OnceLock::new(),
        };
        if let Some(file) = lock.open_lock_file() {
            lock.wait_for(&file, deadline)?;
            let _ = lock.lock_file.set(file);
            return Ok(lock);
        }
        lock.wait_for(&lock.handle, deadline)?;
        // A run that held the directory's lock may have made the lock file
        // meanwhile; runs that started after it lock only that file.
        if let Some(file) = lock.open_lock_file() {
            lock.wait_for(&file, deadline)?;
            let _ = lock.lock_file.set(file);
        }
        Ok(lock)
    }

    fn wait_for(&self, file: &File, deadline: Instant) -> Result<()> {
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(()),
                Err(fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    thread::sleep(Duration::from_millis(20));
                }
                Err(fs::TryLockError::WouldBlock) => {
                    return Err(Error::Locked {
                        dir: self.dir.clone(),
                    });
                }
                Err(fs::TryLockError::Error(e)) => {
                    return Err(Error::io("lock directory", &self.dir)(e));
                }
            }
        }
    }

    /// The lock file, if there is one we can trust: a regular file (not a
    /// link) of ours or the directory owner's.
    fn open_lock_file(&self) -> Option<File> {
        let fd = fsat::open_regular(self.fd(), LOCK_FILE).ok()?;
        let m = fsat::fmeta(&fd).ok()?;
        let ours = m.uid == fsat::euid() || m.uid == self.meta.uid;
        (m.kind == FileType::RegularFile && ours).then(|| File::from(fd))
    }

    /// Gives a directory locked through itself its lock file, holding it
    /// (best effort: a read-only or full file system keeps the old way).
    /// Made under a temporary name, locked, then linked into place, so that
    /// no other run can lock it first.
    fn make_lock_file(&self) {
        if self.lock_file.get().is_some() {
            return;
        }
        let tmp = format!("{LOCK_FILE}.{}", std::process::id());
        let _ = fsat::unlink(self.fd(), &tmp);
        if fsat::create_file(self.fd(), &tmp, b"", SECRET_MODE).is_err() {
            return;
        }
        if let Ok(fd) = fsat::open_regular(self.fd(), &tmp) {
            let file = File::from(fd);
            if file.try_lock().is_ok() && fsat::link(self.fd(), &tmp, LOCK_FILE).is_ok() {
                let _ = self.lock_file.set(file);
            }
        }
        let _ = fsat::unlink(self.fd(), &tmp);
        let _ = fsat::sync(self.fd());
    }

    /// The locked directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn fd(&self) -> BorrowedFd<'_> {
        self.handle.as_fd()
    }

    /// Refuses a directory that group or others may write to: anyone who
    /// can write it can swap `ca.key` or plant files for us to act on.
    pub fn check_private(&self) -> Result<()> {
        if self.meta.shared_writable() {
            return Err(Error::SharedDirectory {
                dir: self.dir.clone(),
                mode: self.meta.mode,
            });
        }
        Ok(())
    }

    fn recover(&self) -> Result<Option<Recovery>> {
        let staging_path = self.dir.join(STAGING_DIR);
        let (fd, journal) = match self.examine_pending()? {
            Pending::None => return Ok(None),
            Pending::Unsafe(reason) => {
                return Ok(Some(Recovery::LeftAlone {
                    staging: staging_path,
                    reason,
                }));
            }
            Pending::Safe { fd, journal } => (fd, journal),
        };
        let Some(plan) = journal else {
            drop(fd);
            self.remove_staging()?;
            return Ok(Some(Recovery::RolledBack));
        };
        let (files, _) = self.apply(&fd, &plan)?;
        Ok(Some(Recovery::Completed { files }))
    }

    /// Decides whether the staging folder is one we may complete or roll
    /// back. Reasons are full sentences' tails: "it is a symbolic link".
    fn examine_pending(&self) -> Result<Pending> {
        let staging_path = self.dir.join(STAGING_DIR);
        let io = |action| Error::io(action, &staging_path);
        let Some(m) = fsat::lmeta(self.fd(), STAGING_DIR).map_err(io("examine"))? else {
            return Ok(Pending::None);
        };
        if m.kind != FileType::Directory {
            return Ok(Pending::Unsafe(format!(
                "it is {}, not a directory milvus-certs made",
                m.kind_phrase()
            )));
        }
        if self.meta.shared_writable() {
            return Ok(Pending::Unsafe(format!(
                "{} is writable by group or others (mode {:04o}), so anyone could have planted it",
                self.dir.display(),
                self.meta.mode
            )));
        }
        if let Some(reason) = self.untrusted(&m) {
            return Ok(Pending::Unsafe(format!("it {reason}")));
        }
        let fd = fsat::open_dir(self.fd(), STAGING_DIR).map_err(io("open"))?;
        let again = fsat::fmeta(&fd).map_err(io("examine"))?;
        if (again.dev, again.ino) != (m.dev, m.ino) {
            return Ok(Pending::Unsafe(
                "it changed while it was being checked".into(),
            ));
        }
        let mut journal = None;
        for name in fsat::list(fd.as_fd()).map_err(io("list"))? {
            let shown = String::from_utf8_lossy(&name).into_owned();
            let name_os = std::ffi::OsStr::from_bytes(&name);
            let Some(em) = fsat::lmeta(fd.as_fd(), name_os).map_err(io("examine"))? else {
                continue;
            };
            let known = std::str::from_utf8(&name)
                .ok()
                .filter(|n| files::is_managed(n) || [JOURNAL, JOURNAL_TMP, BACKUP_DIR].contains(n));
            let Some(n) = known else {
                return Ok(Pending::Unsafe(format!(
                    "it holds {shown:?}, which milvus-certs never writes there"
                )));
            };
            let want = if n == BACKUP_DIR {
                FileType::Directory
            } else {
                FileType::RegularFile
            };
            if em.kind != want {
                return Ok(Pending::Unsafe(format!(
                    "its {n} is {}, which milvus-certs never makes",
                    em.kind_phrase()
                )));
            }
            if let Some(reason) = self.untrusted(&em) {
                return Ok(Pending::Unsafe(format!("its {n} {reason}")));
            }
            if n == BACKUP_DIR
                && let Some(reason) = self.untrusted_backup(fd.as_fd())
            {
                return Ok(Pending::Unsafe(reason));
            }
            if n == JOURNAL {
                let text = match fsat::read_small(
                    Some(fd.as_fd()),
                    JOURNAL,
                    MAX_JOURNAL,
                    fsat::Follow::Never,
                ) {
                    Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                    Err(_) => return Ok(Pending::Unsafe("its journal cannot be read".into())),
                };
                match Journal::parse(&text) {
                    Ok(j) => journal = Some(j),
                    Err(reason) => {
                        return Ok(Pending::Unsafe(format!(
                            "its journal is not ours: {reason}"
                        )));
                    }
                }
            }
        }
        Ok(Pending::Safe { fd, journal })
    }

    /// Why an entry we did not make ourselves in this run cannot be trusted:
    /// made by someone other than us or the directory's owner, or writable
    /// by group or others.
    fn untrusted(&self, m: &Meta) -> Option<String> {
        let me = fsat::euid();
        if m.uid != me && m.uid != self.meta.uid {
            return Some(format!(
                "belongs to user id {}, who is neither you (user id {me}) nor the owner of {}",
                m.uid,
                self.dir.display()
            ));
        }
        if m.shared_writable() {
            return Some(format!(
                "is writable by group or others (mode {:04o})",
                m.mode
            ));
        }
        None
    }

    fn untrusted_backup(&self, staging: BorrowedFd<'_>) -> Option<String> {
        let fd = match fsat::open_dir(staging, BACKUP_DIR) {
            Ok(fd) => fd,
            Err(_) => return Some("its backup folder cannot be opened".into()),
        };
        let Ok(names) = fsat::list(fd.as_fd()) else {
            return Some("its backup folder cannot be read".into());
        };
        for name in names {
            let n = std::str::from_utf8(&name)
                .ok()
                .filter(|n| files::is_managed(n));
            let Some(n) = n else {
                return Some(format!(
                    "its backup folder holds {:?}, which milvus-certs never writes there",
                    String::from_utf8_lossy(&name)
                ));
            };
            match fsat::lmeta(fd.as_fd(), n) {
                Ok(Some(m)) if m.kind == FileType::RegularFile => {
                    if let Some(reason) = self.untrusted(&m) {
                        return Some(format!("its backup of {n} {reason}"));
                    }
                }
                _ => return Some(format!("its backup of {n} is not a regular file")),
            }
        }
        None
    }

    fn remove_staging(&self) -> Result<()> {
        let staging = self.dir.join(STAGING_DIR);
        fsat::remove_tree(self.fd(), STAGING_DIR, 2).map_err(Error::io("remove", &staging))?;
        fsat::sync(self.fd()).map_err(Error::io("sync directory", &self.dir))
    }

    /// Refuses a file in the way of a whole-or-nothing replacement, before
    /// anything is written: rename(2) cannot replace a directory or a mount
    /// point, a symlink is never followed nor silently replaced, and what is
    /// not a small regular file is not one of our files.
    pub fn check_replaceable(&self, name: &str) -> Result<()> {
        let path = self.dir.join(name);
        let Some(m) = fsat::lmeta(self.fd(), name).map_err(Error::io("examine", &path))? else {
            return Ok(());
        };
        let shown = crate::shell::quote(&path.display().to_string());
        let reason = match m.kind {
            FileType::RegularFile => {
                let mounted = fsat::is_mount_point(self.fd(), name, self.meta.dev)
                    .map_err(Error::io("examine", &path))?;
                if mounted {
                    "it is a mount point (a file mounted over this one, as Docker and \
                     Kubernetes do), which cannot be replaced in place: write the files into \
                     another --dir and mount them from there"
                        .to_string()
                } else if m.size > fsat::MAX_FILE {
                    format!(
                        "it is larger than {} KiB, so it is not a certificate, key or serial \
                         file: move it away",
                        fsat::MAX_FILE / 1024
                    )
                } else {
                    return Ok(());
                }
            }
            FileType::Symlink => format!(
                "it is a symbolic link, which milvus-certs never follows or replaces: put \
                 the file itself there, or remove the link with `rm -- {shown}`"
            ),
            FileType::Directory => format!(
                "it is a directory (Docker makes one when a file it should mount is \
                 missing): remove it with `rmdir -- {shown}` and run again"
            ),
            kind => format!(
                "it is {}: remove it with `rm -- {shown}` and run again",
                fsat::kind_phrase(kind)
            ),
        };
        Err(Error::NotReplaceable { path, reason })
    }

    /// The `backup` folder, created 0700 if missing; a symlink or a file
    /// there is refused.
    fn backup_parent(&self, create: bool) -> Result<Option<OwnedFd>> {
        let path = self.dir.join(BACKUP_DIR);
        match fsat::lmeta(self.fd(), BACKUP_DIR).map_err(Error::io("examine", &path))? {
            None if create => fsat::create_dir(self.fd(), BACKUP_DIR, PRIVATE_DIR_MODE)
                .map(Some)
                .map_err(Error::io("create directory", &path)),
            None => Ok(None),
            Some(m) if m.kind == FileType::Directory => fsat::open_dir(self.fd(), BACKUP_DIR)
                .map(Some)
                .map_err(Error::io("open directory", &path)),
            Some(m) => Err(Error::NotReplaceable {
                reason: format!(
                    "it is {}, and milvus-certs keeps its backups in a directory of that \
                     name: remove it or move it away (`mv -- {} {}.old`), or pass --no-backup",
                    m.kind_phrase(),
                    crate::shell::quote(&path.display().to_string()),
                    crate::shell::quote(&path.display().to_string()),
                ),
                path,
            }),
        }
    }

    /// Writes `files` into the directory as one whole-or-nothing change.
    /// With `backup_time`, the files being replaced are first copied to
    /// `backup/<time>/`, whose path is returned.
    pub fn replace_files(
        &self,
        files: &[NewFile],
        backup_time: Option<OffsetDateTime>,
    ) -> Result<Option<PathBuf>> {
        self.check_private()?;
        for f in files {
            debug_assert!(files::is_managed(&f.name));
            self.check_replaceable(&f.name)?;
        }
        if backup_time.is_some() {
            self.backup_parent(false)?;
        }
        let staging_path = self.dir.join(STAGING_DIR);
        let staging = match fsat::create_dir(self.fd(), STAGING_DIR, PRIVATE_DIR_MODE) {
            Ok(fd) => fd,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(Error::UnsafePending {
                    staging: staging_path,
                    reason: "it appeared while this run was working".into(),
                });
            }
            Err(e) => return Err(Error::io("create directory", &staging_path)(e)),
        };
        let plan = match self
            .stage(&staging, files, backup_time)
            .and_then(|plan| self.commit(&staging, &plan).map(|()| plan))
        {
            Ok(plan) => plan,
            Err(e) => {
                // Nothing was committed: leave the directory as it was.
                drop(staging);
                let _ = self.remove_staging();
                return Err(e);
            }
        };
        let (_, backup) = self.apply(&staging, &plan)?;
        self.make_lock_file();
        Ok(backup)
    }

    fn stage(
        &self,
        staging: &OwnedFd,
        files: &[NewFile],
        backup_time: Option<OffsetDateTime>,
    ) -> Result<Journal> {
        let staging_path = self.dir.join(STAGING_DIR);
        for f in files {
            fsat::create_file(staging.as_fd(), &f.name, &f.contents, f.mode())
                .map_err(Error::io("write", staging_path.join(&f.name)))?;
        }
        let mut backup = None;
        if let Some(time) = backup_time {
            let mut replaced = Vec::new();
            for f in files {
                let path = self.dir.join(&f.name);
                match fsat::read_small(
                    Some(self.fd()),
                    &f.name,
                    fsat::MAX_FILE,
                    fsat::Follow::Never,
                ) {
                    Ok(old) => replaced.push((f, old)),
                    Err(ReadError::Missing) => {}
                    Err(ReadError::Io(e)) => return Err(Error::io("back up", &path)(e)),
                    // check_replaceable refused these; the file changed since.
                    Err(_) => {
                        return Err(Error::NotReplaceable {
                            path,
                            reason: "it changed while milvus-certs was working: run again".into(),
                        });
                    }
                }
            }
            if !replaced.is_empty() {
                let stage_backup = fsat::create_dir(staging.as_fd(), BACKUP_DIR, PRIVATE_DIR_MODE)
                    .map_err(Error::io("create directory", staging_path.join(BACKUP_DIR)))?;
                for (f, old) in replaced {
                    fsat::create_file(stage_backup.as_fd(), &f.name, &old, f.mode())
                        .map_err(Error::io("write the backup of", self.dir.join(&f.name)))?;
                }
                fsat::sync(&stage_backup).map_err(Error::io("sync directory", &staging_path))?;
                backup = Some(format!("{BACKUP_DIR}/{}", backup_stamp(time)));
            }
        }
        fsat::sync(staging).map_err(Error::io("sync directory", &staging_path))?;
        Ok(Journal {
            files: files.iter().map(|f| f.name.clone()).collect(),
            backup,
        })
    }

    fn commit(&self, staging: &OwnedFd, plan: &Journal) -> Result<()> {
        let journal = self.dir.join(STAGING_DIR).join(JOURNAL);
        fsat::create_file(
            staging.as_fd(),
            JOURNAL_TMP,
            plan.render().as_bytes(),
            SECRET_MODE,
        )
        .map_err(Error::io("commit", &journal))?;
        fsat::rename(staging.as_fd(), JOURNAL_TMP, staging.as_fd(), JOURNAL)
            .map_err(Error::io("commit", &journal))?;
        fsat::sync(staging).map_err(Error::io("commit", &journal))
    }

    /// Puts committed files in place; idempotent, so recovery can run it
    /// again. Returns the files moved and where the backup went.
    fn apply(&self, staging: &OwnedFd, plan: &Journal) -> Result<(Vec<String>, Option<PathBuf>)> {
        let staging_path = self.dir.join(STAGING_DIR);
        let mut moved = Vec::new();
        for name in &plan.files {
            let present = fsat::lmeta(staging.as_fd(), name.as_str())
                .map_err(Error::io("examine", staging_path.join(name)))?;
            if present.is_some() {
                fsat::rename(staging.as_fd(), name, self.fd(), name)
                    .map_err(Error::io("replace", self.dir.join(name)))?;
                moved.push(name.clone());
            }
        }
        fsat::sync(self.fd()).map_err(Error::io("sync directory", &self.dir))?;
        let mut backup_path = None;
        let staged_backup = fsat::lmeta(staging.as_fd(), BACKUP_DIR)
            .map_err(Error::io("examine", staging_path.join(BACKUP_DIR)))?;
        let stamp = plan
            .backup
            .as_deref()
            .and_then(|b| b.strip_prefix("backup/"));
        if let (Some(stamp), Some(_)) = (stamp, staged_backup)
            && let Some(parent) = self.backup_parent(true)?
        {
            let stamp = unused_name(parent.as_fd(), stamp);
            let dst = self.dir.join(BACKUP_DIR).join(&stamp);
            fsat::rename(staging.as_fd(), BACKUP_DIR, parent.as_fd(), &stamp)
                .map_err(Error::io("move backup to", &dst))?;
            fsat::sync(&parent).map_err(Error::io("sync directory", &dst))?;
            backup_path = Some(dst);
        }
        fsat::unlink(staging.as_fd(), JOURNAL)
            .map_err(Error::io("remove", staging_path.join(JOURNAL)))?;
        self.remove_staging()?;
        Ok((moved, backup_path))
    }
}

/// The error for a certificate directory that cannot be opened.
fn missing_dir(dir: &Path, e: std::io::Error) -> Error {
    match e.kind() {
        std::io::ErrorKind::NotFound => Error::Missing {
            path: dir.to_path_buf(),
            what: "the certificate directory",
            hint: "check --dir, or make the files first with `milvus-certs gen`",
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

/// The journal: which staged files to put in place, and where the backup goes.
#[derive(Debug, PartialEq, Eq)]
struct Journal {
    files: Vec<String>,
    backup: Option<String>,
}

impl Journal {
    fn render(&self) -> String {
        let mut s = format!("{JOURNAL_HEADER}\n");
        if let Some(b) = &self.backup {
            s.push_str(&format!("backup {b}\n"));
        }
        for f in &self.files {
            s.push_str(&format!("file {f}\n"));
        }
        s.push_str("end\n");
        s
    }

    fn parse(text: &str) -> std::result::Result<Journal, String> {
        let mut lines = text.lines();
        if lines.next() != Some(JOURNAL_HEADER) {
            return Err("unknown format".into());
        }
        let mut journal = Journal {
            files: Vec::new(),
            backup: None,
        };
        let mut ended = false;
        for line in lines {
            match line.split_once(' ') {
                // Only the names milvus-certs writes: a journal can never
                // make us replace anything else in the directory.
                Some(("file", name)) if files::is_managed(name) => journal.files.push(name.into()),
                Some(("backup", path)) if is_backup_path(path) => {
                    journal.backup = Some(path.into())
                }
                None if line == "end" => ended = true,
                _ => return Err(format!("unexpected line {line:?}")),
            }
        }
        if !ended {
            return Err("it is incomplete".into());
        }
        Ok(journal)
    }
}

/// A file name without any path component.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\0'])
}

fn is_backup_path(path: &str) -> bool {
    path.strip_prefix("backup/").is_some_and(is_plain_name)
}

/// `20260101T000000Z`: the backup folder's name for a run at `time`.
fn backup_stamp(time: OffsetDateTime) -> String {
    let time = time.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        time.year(),
        u8::from(time.month()),
        time.day(),
        time.hour(),
        time.minute(),
        time.second()
    )
}

/// `base`, or `base-2`, `base-3`, ... : the first name not taken in `dir`.
fn unused_name(dir: BorrowedFd<'_>, base: &str) -> String {
    let free = |n: &str| matches!(fsat::lmeta(dir, n), Ok(None));
    if free(base) {
        return base.to_string();
    }
    (2..10_000)
        .map(|i| format!("{base}-{i}"))
        .find(|n| free(n))
        .unwrap_or_else(|| base.to_string())
}

/// One file for [`write_outputs`]: its path relative to the output folder
/// (plain names only, no `..`), contents and mode.
#[derive(Clone, Copy, Debug)]
pub struct Output<'a> {
    /// The path below the output folder, e.g. `tls/server.pem`.
    pub rel: &'a str,
    /// The contents.
    pub contents: &'a [u8],
    /// The file's mode (0600 for anything secret).
    pub mode: u32,
}

/// Writes files below `out` (created, with missing parents, if needed) all
/// whole or none: every temporary file is written (0600 from creation, then
/// set to its mode through its descriptor, fsynced) before the first rename,
/// so a full disk or an I/O error leaves every old file as it was and no
/// temporary file behind. Subfolders are created 0755 and never followed
/// through a symlink; a symlink in a file's place counts as existing and,
/// with `force`, is itself replaced (its target is never written). Nothing
/// that exists is replaced without `force`. Returns the paths written.
pub fn write_outputs(out: &Path, files: &[Output<'_>], force: bool) -> Result<Vec<PathBuf>> {
    let (root, meta, created) =
        fsat::open_dir_strict(out, Some(PUBLIC_DIR_MODE)).map_err(|e| walk_error(out, e))?;
    let result = (|| {
        // Another user's folder, or one others can write, could have its
        // files swapped after we write them (a unit root then installs).
        if meta.uid != 0 && meta.uid != fsat::euid() || meta.shared_writable() {
            return Err(Error::UntrustedPath {
                dir: out.to_path_buf(),
                path: out.to_path_buf(),
                reason: if meta.shared_writable() {
                    format!(
                        "it is writable by group or others (mode {:04o}), so another user \
                         could replace what milvus-certs writes there",
                        meta.mode
                    )
                } else {
                    format!(
                        "it belongs to user id {}, who could replace what milvus-certs writes there",
                        meta.uid
                    )
                },
            });
        }
        write_below(out, root.as_fd(), files, force)
    })();
    if result.is_err() {
        for dir in created.iter().rev() {
            let _ = fs::remove_dir(dir);
        }
    }
    result
}

fn write_below(
    out: &Path,
    root: BorrowedFd<'_>,
    files: &[Output<'_>],
    force: bool,
) -> Result<Vec<PathBuf>> {
    // Phase 1, changing nothing: where each file goes, what exists.
    struct Place<'a> {
        dirs: Vec<&'a str>,
        name: &'a str,
        path: PathBuf,
    }
    let mut places = Vec::new();
    let mut existing = Vec::new();
    for f in files {
        let mut parts: Vec<&str> = f.rel.split('/').collect();
        let name = parts.pop().unwrap_or_default();
        if !is_plain_name(name) || !parts.iter().all(|p| is_plain_name(p)) {
            return Err(Error::io("write", out.join(f.rel))(std::io::Error::from(
                std::io::ErrorKind::InvalidInput,
            )));
        }
        let path = out.join(f.rel);
        if let Some(parent) = open_existing_dirs(out, root, &parts)? {
            match fsat::lmeta(parent.as_fd(), name).map_err(Error::io("examine", &path))? {
                Some(m) if m.kind == FileType::Directory => {
                    return Err(Error::bad_file(
                        &path,
                        "a file",
                        "it is a directory; remove it or choose another --out",
                    ));
                }
                Some(_) => existing.push(path.clone()),
                None => {}
            }
        }
        places.push(Place {
            dirs: parts,
            name,
            path,
        });
    }
    if !existing.is_empty() && !force {
        return Err(Error::OutputExists { paths: existing });
    }
    // Phase 2: folders, then temporary files, then renames.
    let mut made_dirs: Vec<(Vec<&str>, PathBuf)> = Vec::new();
    let mut temps: Vec<(OwnedFd, String, usize)> = Vec::new();
    let outcome = (|| {
        for (i, (p, f)) in places.iter().zip(files).enumerate() {
            let parent = make_dirs(out, root, &p.dirs, &mut made_dirs)?;
            let tmp = format!(".{}.milvus-certs-tmp", p.name);
            let _ = fsat::unlink(parent.as_fd(), &tmp);
            let written = fsat::create_file(parent.as_fd(), &tmp, f.contents, f.mode);
            let tmp_path = p.path.with_file_name(&tmp);
            temps.push((parent, tmp, i));
            written.map_err(Error::io("write", &tmp_path))?;
        }
        for (parent, tmp, i) in &temps {
            let p = &places[*i];
            fsat::rename(parent.as_fd(), tmp, parent.as_fd(), p.name)
                .map_err(Error::io("write", &p.path))?;
        }
        for (parent, _, i) in &temps {
            fsat::sync(parent).map_err(Error::io("sync directory", &places[*i].path))?;
        }
        Ok(())
    })();
    if let Err(e) = outcome {
        for (parent, tmp, _) in &temps {
            let _ = fsat::unlink(parent.as_fd(), tmp);
        }
        for (dirs, _) in made_dirs.iter().rev() {
            if let Some((last, up)) = dirs.split_last()
                && let Ok(Some(parent)) = open_existing_dirs(out, root, up)
            {
                let _ = rustix::fs::unlinkat(&parent, *last, rustix::fs::AtFlags::REMOVEDIR);
            }
        }
        return Err(e);
    }
    Ok(places.into_iter().map(|p| p.path).collect())
}

/// Opens `root/dirs...` without following symlinks; `None` if a part is
/// missing. A part that is a symlink or a file is an error.
fn open_existing_dirs(out: &Path, root: BorrowedFd<'_>, dirs: &[&str]) -> Result<Option<OwnedFd>> {
    let mut fd = fsat::open_dir(root, ".").map_err(Error::io("open directory", out))?;
    let mut path = out.to_path_buf();
    for d in dirs {
        path.push(d);
        match fsat::lmeta(fd.as_fd(), *d).map_err(Error::io("examine", &path))? {
            None => return Ok(None),
            Some(m) if m.kind == FileType::Directory => {}
            Some(m) => {
                return Err(Error::bad_file(
                    &path,
                    "a directory",
                    format!(
                        "it is {}, which milvus-certs does not follow; remove it or choose another --out",
                        m.kind_phrase()
                    ),
                ));
            }
        }
        fd = fsat::open_dir(fd.as_fd(), *d).map_err(Error::io("open directory", &path))?;
    }
    Ok(Some(fd))
}

/// Opens `root/dirs...`, creating what is missing (0755), and records what
/// it created.
fn make_dirs<'a>(
    out: &Path,
    root: BorrowedFd<'_>,
    dirs: &[&'a str],
    made: &mut Vec<(Vec<&'a str>, PathBuf)>,
) -> Result<OwnedFd> {
    let mut fd = fsat::open_dir(root, ".").map_err(Error::io("open directory", out))?;
    let mut path = out.to_path_buf();
    for (i, d) in dirs.iter().enumerate() {
        path.push(d);
        fd = match fsat::lmeta(fd.as_fd(), *d).map_err(Error::io("examine", &path))? {
            None => {
                let new = fsat::create_dir(fd.as_fd(), d, PUBLIC_DIR_MODE)
                    .map_err(Error::io("create directory", &path))?;
                made.push((dirs[..=i].to_vec(), path.clone()));
                new
            }
            Some(_) => {
                fsat::open_dir(fd.as_fd(), *d).map_err(Error::io("open directory", &path))?
            }
        };
    }
    Ok(fd)
}

/// Creates the directory `path` 0700 (whatever the umask; missing parents
/// are made 0755, as `mkdir -p` would with umask 022), refusing a path
/// another user could redirect. Returns whether it created `path`; an
/// existing directory is left as it is.
pub fn create_private_dir_all(path: &Path) -> Result<bool> {
    let (_, _, created) =
        fsat::open_dir_strict(path, Some(PRIVATE_DIR_MODE)).map_err(|e| walk_error(path, e))?;
    Ok(!created.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn tmp() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }

    fn file(name: &'static str, contents: &str, secret: bool) -> NewFile {
        NewFile {
            name: name.into(),
            contents: contents.as_bytes().to_vec(),
            secret,
        }
    }

    #[test]
    fn journal_round_trips_and_refuses_paths() {
        let j = Journal {
            files: vec!["ca.pem".into(), "ca.key".into()],
            backup: Some("backup/20260101T000000Z".into()),
        };
        assert_eq!(Journal::parse(&j.render()).unwrap(), j);
        let evil = format!("{JOURNAL_HEADER}\nfile ../../etc/passwd\nend\n");
        assert!(Journal::parse(&evil).is_err());
        let cut = format!("{JOURNAL_HEADER}\nfile ca.pem\n");
        assert!(Journal::parse(&cut).is_err());
        // Only the names milvus-certs writes.
        let foreign = format!("{JOURNAL_HEADER}\nfile victim.txt\nend\n");
        assert!(Journal::parse(&foreign).is_err());
    }

    #[test]
    fn replace_writes_modes_and_backs_up() {
        let d = tmp();
        let (lock, rec) = DirLock::acquire(d.path(), LOCK_WAIT).unwrap();
        assert_eq!(rec, None);
        lock.replace_files(
            &[file("ca.key", "k1", true), file("ca.pem", "c1", false)],
            None,
        )
        .unwrap();
        let mode = |n: &str| fs::metadata(d.path().join(n)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode("ca.key"), 0o600);
        assert_eq!(mode("ca.pem"), 0o644);
        let now = OffsetDateTime::now_utc();
        let backup = lock
            .replace_files(
                &[file("ca.key", "k2", true), file("ca.pem", "c2", false)],
                Some(now),
            )
            .unwrap()
            .unwrap();
        assert_eq!(fs::read_to_string(backup.join("ca.key")).unwrap(), "k1");
        assert_eq!(fs::read_to_string(d.path().join("ca.key")).unwrap(), "k2");
        assert_eq!(
            fs::metadata(&backup).unwrap().permissions().mode() & 0o777,
            0o700
        );
        assert!(!d.path().join(STAGING_DIR).exists());
    }

    #[test]
    fn uncommitted_staging_is_rolled_back_and_committed_one_completed() {
        let d = tmp();
        fs::write(d.path().join("ca.pem"), "old").unwrap();
        // A crash before the commit point.
        let staging = d.path().join(STAGING_DIR);
        fs::create_dir(&staging).unwrap();
        fs::write(staging.join("ca.pem"), b"new").unwrap();
        let (_l, rec) = DirLock::acquire(d.path(), LOCK_WAIT).unwrap();
        assert_eq!(rec, Some(Recovery::RolledBack));
        assert_eq!(fs::read_to_string(d.path().join("ca.pem")).unwrap(), "old");
        assert!(!staging.exists());
        drop(_l);
        // A crash after it, with one of two files already renamed.
        fs::create_dir(&staging).unwrap();
        fs::write(staging.join("server.pem"), b"new-b").unwrap();
        fs::write(d.path().join("ca.pem"), "new-a").unwrap();
        let j = Journal {
            files: vec!["ca.pem".into(), "server.pem".into()],
            backup: None,
        };
        fs::write(staging.join(JOURNAL), j.render()).unwrap();
        let (_l, rec) = DirLock::acquire(d.path(), LOCK_WAIT).unwrap();
        assert_eq!(
            rec,
            Some(Recovery::Completed {
                files: vec!["server.pem".into()]
            })
        );
        assert_eq!(
            fs::read_to_string(d.path().join("server.pem")).unwrap(),
            "new-b"
        );
        assert!(!staging.exists());
    }

    #[test]
    fn a_second_lock_waits_then_fails() {
        let d = tmp();
        let (_held, _) = DirLock::acquire(d.path(), LOCK_WAIT).unwrap();
        let err = DirLock::acquire(d.path(), Duration::from_millis(50)).unwrap_err();
        assert!(matches!(err, Error::Locked { .. }), "{err}");
    }

    #[test]
    fn an_unsafe_staging_folder_is_left_alone() {
        use std::os::unix::fs::symlink;
        let d = tmp();
        let elsewhere = tmp();
        // A symlinked staging folder.
        symlink(elsewhere.path(), d.path().join(STAGING_DIR)).unwrap();
        let err = DirLock::acquire(d.path(), LOCK_WAIT).unwrap_err();
        assert!(matches!(err, Error::UnsafePending { .. }), "{err}");
        assert!(err.to_string().contains("symbolic link"), "{err}");
        let (_l, rec) = DirLock::acquire_read(d.path(), LOCK_WAIT).unwrap();
        assert!(matches!(rec, Some(Recovery::LeftAlone { .. })), "{rec:?}");
        drop(_l);
        fs::remove_file(d.path().join(STAGING_DIR)).unwrap();
        // A staging folder writable by others, and one naming a foreign file.
        let staging = d.path().join(STAGING_DIR);
        fs::create_dir(&staging).unwrap();
        fs::set_permissions(&staging, fs::Permissions::from_mode(0o777)).unwrap();
        let err = DirLock::acquire(d.path(), LOCK_WAIT).unwrap_err();
        assert!(
            err.to_string().contains("writable by group or others"),
            "{err}"
        );
        fs::set_permissions(&staging, fs::Permissions::from_mode(0o700)).unwrap();
        fs::write(staging.join("victim.txt"), "x").unwrap();
        let err = DirLock::acquire(d.path(), LOCK_WAIT).unwrap_err();
        assert!(err.to_string().contains("victim.txt"), "{err}");
        assert!(staging.join("victim.txt").exists());
    }

    #[test]
    fn writers_refuse_a_shared_directory_and_things_in_the_way() {
        let d = tmp();
        fs::set_permissions(d.path(), fs::Permissions::from_mode(0o777)).unwrap();
        let err = DirLock::acquire_for_write(d.path(), LOCK_WAIT).unwrap_err();
        assert!(matches!(err, Error::SharedDirectory { .. }), "{err}");
        assert!(err.to_string().contains("chmod go-w"), "{err}");
        fs::set_permissions(d.path(), fs::Permissions::from_mode(0o700)).unwrap();
        fs::create_dir(d.path().join("server.pem")).unwrap();
        let (lock, _) = DirLock::acquire_for_write(d.path(), LOCK_WAIT).unwrap();
        let err = lock
            .replace_files(
                &[file("ca.pem", "c", false), file("server.pem", "s", false)],
                None,
            )
            .unwrap_err();
        assert!(err.to_string().contains("rmdir"), "{err}");
        assert!(!d.path().join("ca.pem").exists());
        assert!(!d.path().join(STAGING_DIR).exists());
    }
}
