//! The directory lock: one run at a time in a certificate directory, held
//! through the open directory (or its lock file) until dropped.

use std::fs::{self, File};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use rustix::fs::FileType;

use super::{Recovery, SECRET_MODE, missing_dir, walk_error};
use crate::error::{Error, Result};
use crate::fsat::{self, Meta};

/// An exclusive lock on a certificate directory, held until dropped. It
/// keeps the directory open: every file operation goes through it.
#[derive(Debug)]
pub(crate) struct DirLock {
    pub(super) dir: PathBuf,
    handle: File,
    pub(super) meta: Meta,
    /// The lock file, when the directory has one (see [`LOCK_FILE`]).
    lock_file: std::sync::OnceLock<File>,
}

/// The lock file, `DIR/.milvus-certs.lock` (0600). flock(2) on the
/// directory itself needs only read access, so any local user who can list
/// a 0755 directory could hold its lock and make every renewal time out;
/// nobody but its owner can open a 0600 file. A directory without one (made
/// by an older release or the guide's scripts) is locked through the
/// directory, and gets its lock file with its first write.
pub(crate) const LOCK_FILE: &str = ".milvus-certs.lock";

impl DirLock {
    /// Takes the exclusive lock on `dir` (waiting up to `wait` for another run
    /// to finish), then completes or rolls back any interrupted write; one
    /// that is not safe to touch is an error.
    pub(crate) fn acquire(dir: &Path, wait: Duration) -> Result<(DirLock, Option<Recovery>)> {
        DirLock::acquire_checked(dir, wait, false)
    }

    /// [`DirLock::acquire`] for commands that write into the directory: it
    /// also refuses a directory that group or others can write to.
    pub(crate) fn acquire_for_write(
        dir: &Path,
        wait: Duration,
    ) -> Result<(DirLock, Option<Recovery>)> {
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
    pub(crate) fn acquire_read(dir: &Path, wait: Duration) -> Result<(DirLock, Option<Recovery>)> {
        let lock = DirLock::lock_only(dir, wait)?;
        let recovery = lock.recover()?;
        Ok((lock, recovery))
    }

    /// Takes the lock but leaves an interrupted write as it is (for
    /// `--dry-run`, which must change nothing). See [`has_pending_write`](super::has_pending_write).
    pub(crate) fn lock_only(dir: &Path, wait: Duration) -> Result<DirLock> {
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
    pub(crate) fn check_for_write(dir: &Path, wait: Duration) -> Result<DirLock> {
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
    pub(super) fn make_lock_file(&self) {
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

    pub(super) fn fd(&self) -> BorrowedFd<'_> {
        self.handle.as_fd()
    }

    /// Refuses a directory that group or others may write to: anyone who
    /// can write it can swap `ca.key` or plant files for us to act on.
    pub(crate) fn check_private(&self) -> Result<()> {
        if self.meta.shared_writable() {
            return Err(Error::SharedDirectory {
                dir: self.dir.clone(),
                mode: self.meta.mode,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::LOCK_WAIT;

    #[test]
    fn a_second_lock_waits_then_fails() {
        let d = tempfile::tempdir().unwrap();
        let (_held, _) = DirLock::acquire(d.path(), LOCK_WAIT).unwrap();
        let err = DirLock::acquire(d.path(), Duration::from_millis(50)).unwrap_err();
        assert!(matches!(err, Error::Locked { .. }), "{err}");
    }
}
