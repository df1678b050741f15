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

use std::fs::{self, DirBuilder, File, OpenOptions, Permissions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use crate::error::{Error, Result};

/// The staging directory of a write in progress, inside the certificate directory.
pub const STAGING_DIR: &str = ".milvus-certs-pending";
/// The journal whose presence marks a committed write.
const JOURNAL: &str = "COMMIT";
const JOURNAL_HEADER: &str = "milvus-certs journal v1";
/// Where backups go, inside the certificate directory.
pub const BACKUP_DIR: &str = "backup";

/// Mode of private keys: never readable by group or others, whatever the umask.
pub const SECRET_MODE: u32 = 0o600;
/// Mode of certificates and `ca.srl`.
pub const PUBLIC_MODE: u32 = 0o644;
/// Mode of directories we create to hold secrets (staging, backups).
pub const PRIVATE_DIR_MODE: u32 = 0o700;

/// How long a second run waits for the lock before giving up.
pub const LOCK_WAIT: Duration = Duration::from_secs(10);

/// Whether `dir` holds a write that was interrupted (the next command that
/// takes the lock completes or rolls it back).
pub fn has_pending_write(dir: &Path) -> bool {
    dir.join(STAGING_DIR).exists()
}

/// A file to be written as part of a set.
#[derive(Clone, Debug)]
pub struct NewFile {
    /// The file name inside the certificate directory (no path separators).
    pub name: &'static str,
    /// The contents.
    pub contents: Vec<u8>,
    /// Whether it is a private key (mode 0600) or public (0644).
    pub secret: bool,
}

impl NewFile {
    /// A certificate or `ca.srl` (mode 0644).
    pub fn public(name: &'static str, contents: impl Into<Vec<u8>>) -> NewFile {
        NewFile {
            name,
            contents: contents.into(),
            secret: false,
        }
    }

    /// A private key (mode 0600).
    pub fn secret(name: &'static str, contents: impl Into<Vec<u8>>) -> NewFile {
        NewFile {
            name,
            contents: contents.into(),
            secret: true,
        }
    }

    /// A key and its certificate, key first.
    pub fn pair(
        key_name: &'static str,
        key_pem: String,
        cert_name: &'static str,
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
}

/// An exclusive lock on a certificate directory, held until dropped.
#[derive(Debug)]
pub struct DirLock {
    dir: PathBuf,
    _handle: File,
}

impl DirLock {
    /// Takes the exclusive lock on `dir` (waiting up to `wait` for another run
    /// to finish), then completes or rolls back any interrupted write.
    pub fn acquire(dir: &Path, wait: Duration) -> Result<(DirLock, Option<Recovery>)> {
        let lock = DirLock::lock_only(dir, wait)?;
        let recovery = lock.recover()?;
        Ok((lock, recovery))
    }

    /// Takes the lock but leaves an interrupted write as it is (for
    /// `--dry-run`, which must change nothing). See [`has_pending_write`].
    pub fn lock_only(dir: &Path, wait: Duration) -> Result<DirLock> {
        let handle = File::open(dir).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::Missing {
                path: dir.to_path_buf(),
                what: "the certificate directory",
                hint: "check --dir, or make the files first with `milvus-certs gen`",
            },
            _ => Error::io("open directory", dir)(e),
        })?;
        let deadline = Instant::now() + wait;
        loop {
            match handle.try_lock() {
                Ok(()) => break,
                Err(fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    thread::sleep(Duration::from_millis(20));
                }
                Err(fs::TryLockError::WouldBlock) => {
                    return Err(Error::Locked {
                        dir: dir.to_path_buf(),
                    });
                }
                Err(fs::TryLockError::Error(e)) => {
                    return Err(Error::io("lock directory", dir)(e));
                }
            }
        }
        Ok(DirLock {
            dir: dir.to_path_buf(),
            _handle: handle,
        })
    }

    /// The locked directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn recover(&self) -> Result<Option<Recovery>> {
        let staging = self.dir.join(STAGING_DIR);
        if !staging.exists() {
            return Ok(None);
        }
        let journal = staging.join(JOURNAL);
        if !journal.exists() {
            remove_tree(&staging)?;
            sync_dir(&self.dir)?;
            return Ok(Some(Recovery::RolledBack));
        }
        let text = fs::read_to_string(&journal).map_err(Error::io("read", &journal))?;
        let plan = Journal::parse(&text).map_err(|reason| Error::BadJournal {
            path: journal.clone(),
            reason,
        })?;
        let files = self.apply(&plan)?;
        Ok(Some(Recovery::Completed { files }))
    }

    /// Writes `files` into the directory as one whole-or-nothing change.
    /// With `backup_time`, the files being replaced are first copied to
    /// `backup/<time>/`, whose path is returned.
    pub fn replace_files(
        &self,
        files: &[NewFile],
        backup_time: Option<OffsetDateTime>,
    ) -> Result<Option<PathBuf>> {
        let staging = self.dir.join(STAGING_DIR);
        create_private_dir(&staging)?;
        let staged = self.stage(&staging, files, backup_time);
        let plan = match staged {
            Ok(plan) => plan,
            Err(e) => {
                // Nothing was committed: leave the directory as it was.
                let _ = remove_tree(&staging);
                return Err(e);
            }
        };
        if let Err(e) = self.commit(&staging, &plan) {
            let _ = remove_tree(&staging);
            return Err(e);
        }
        self.apply(&plan)?;
        Ok(plan.backup.map(|b| self.dir.join(b)))
    }

    fn stage(
        &self,
        staging: &Path,
        files: &[NewFile],
        backup_time: Option<OffsetDateTime>,
    ) -> Result<Journal> {
        for f in files {
            debug_assert!(!f.name.contains('/'));
            write_new(&staging.join(f.name), &f.contents, f.mode())?;
        }
        let mut backup = None;
        if let Some(time) = backup_time {
            let replaced: Vec<&NewFile> = files
                .iter()
                .filter(|f| self.dir.join(f.name).exists())
                .collect();
            if !replaced.is_empty() {
                let stage_backup = staging.join(BACKUP_DIR);
                create_private_dir(&stage_backup)?;
                for f in replaced {
                    let src = self.dir.join(f.name);
                    let old = fs::read(&src).map_err(Error::io("back up", &src))?;
                    write_new(&stage_backup.join(f.name), &old, f.mode())?;
                }
                sync_dir(&stage_backup)?;
                backup = Some(unused_backup_name(&self.dir, time));
            }
        }
        sync_dir(staging)?;
        Ok(Journal {
            files: files.iter().map(|f| f.name.to_string()).collect(),
            backup,
        })
    }

    fn commit(&self, staging: &Path, plan: &Journal) -> Result<()> {
        let tmp = staging.join("COMMIT.tmp");
        write_new(&tmp, plan.render().as_bytes(), SECRET_MODE)?;
        let journal = staging.join(JOURNAL);
        fs::rename(&tmp, &journal).map_err(Error::io("commit", &journal))?;
        sync_dir(staging)
    }

    /// Puts committed files in place; idempotent, so recovery can run it again.
    fn apply(&self, plan: &Journal) -> Result<Vec<String>> {
        let staging = self.dir.join(STAGING_DIR);
        let mut moved = Vec::new();
        for name in &plan.files {
            let src = staging.join(name);
            if src.exists() {
                let dst = self.dir.join(name);
                fs::rename(&src, &dst).map_err(Error::io("replace", &dst))?;
                moved.push(name.clone());
            }
        }
        sync_dir(&self.dir)?;
        if let Some(backup) = &plan.backup {
            let src = staging.join(BACKUP_DIR);
            if src.exists() {
                let parent = self.dir.join(BACKUP_DIR);
                if !parent.exists() {
                    create_private_dir(&parent)?;
                }
                let mut dst = self.dir.join(backup);
                if dst.exists() {
                    dst = self
                        .dir
                        .join(unused_backup_name(&self.dir, OffsetDateTime::now_utc()));
                }
                fs::rename(&src, &dst).map_err(Error::io("move backup to", &dst))?;
                sync_dir(&parent)?;
            }
        }
        let journal = staging.join(JOURNAL);
        fs::remove_file(&journal).map_err(Error::io("remove", &journal))?;
        remove_tree(&staging)?;
        sync_dir(&self.dir)?;
        Ok(moved)
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
                Some(("file", name)) if is_plain_name(name) => journal.files.push(name.into()),
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

/// A file name without any path component (the journal must never name a
/// file outside the certificate directory).
fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\0'])
}

fn is_backup_path(path: &str) -> bool {
    path.strip_prefix("backup/").is_some_and(is_plain_name)
}

fn unused_backup_name(dir: &Path, time: OffsetDateTime) -> String {
    let time = time.to_offset(time::UtcOffset::UTC);
    let base = format!(
        "{BACKUP_DIR}/{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        time.year(),
        u8::from(time.month()),
        time.day(),
        time.hour(),
        time.minute(),
        time.second()
    );
    if !dir.join(&base).exists() {
        return base;
    }
    (2..)
        .map(|i| format!("{base}-{i}"))
        .find(|name| !dir.join(name).exists())
        .unwrap_or(base)
}

/// Creates `path` (which must not exist) 0600 from the start, sets `mode`
/// exactly (umask-independent), writes and fsyncs it.
pub fn write_new(path: &Path, contents: &[u8], mode: u32) -> Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(SECRET_MODE)
        .open(path)
        .map_err(Error::io("create", path))?;
    f.set_permissions(Permissions::from_mode(mode))
        .map_err(Error::io("set permissions of", path))?;
    f.write_all(contents).map_err(Error::io("write", path))?;
    f.sync_all().map_err(Error::io("write", path))?;
    Ok(())
}

/// Writes `path` whole or not at all: a temporary file next to it (created
/// 0600, set to `mode`, fsynced), renamed over it.
pub fn write_replacing(path: &Path, contents: &[u8], mode: u32) -> Result<()> {
    write_files(&[(path.to_path_buf(), contents, mode)])
}

/// Writes several files whole or not at all: every temporary file is
/// written (0600 from creation, then set to its mode, fsynced) before the
/// first rename, so a full disk or an I/O error while writing leaves every
/// old file as it was and no temporary file behind. Parent directories must
/// exist.
pub fn write_files(files: &[(PathBuf, &[u8], u32)]) -> Result<()> {
    let tmp_of = |path: &Path| {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        path.with_file_name(format!(".{name}.milvus-certs-tmp"))
    };
    let mut staged: Vec<PathBuf> = Vec::with_capacity(files.len());
    let cleanup = |staged: &[PathBuf]| {
        for t in staged {
            let _ = fs::remove_file(t);
        }
    };
    for (path, contents, mode) in files {
        let tmp = tmp_of(path);
        let _ = fs::remove_file(&tmp);
        let written = write_new(&tmp, contents, *mode);
        staged.push(tmp);
        if let Err(e) = written {
            cleanup(&staged);
            return Err(e);
        }
    }
    for (i, (path, _, _)) in files.iter().enumerate() {
        if let Err(e) = fs::rename(&staged[i], path) {
            cleanup(&staged[i..]);
            return Err(Error::io("write", path)(e));
        }
    }
    let mut parents: Vec<&Path> = files
        .iter()
        .filter_map(|(p, _, _)| p.parent().filter(|p| !p.as_os_str().is_empty()))
        .collect();
    parents.dedup();
    for parent in parents {
        sync_dir(parent)?;
    }
    Ok(())
}

/// Creates a directory readable by its owner only, whatever the umask.
pub fn create_private_dir(path: &Path) -> Result<()> {
    DirBuilder::new()
        .mode(PRIVATE_DIR_MODE)
        .create(path)
        .map_err(Error::io("create directory", path))?;
    fs::set_permissions(path, Permissions::from_mode(PRIVATE_DIR_MODE))
        .map_err(Error::io("set permissions of", path))
}

/// Makes the renames and creations inside `dir` durable.
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(Error::io("sync directory", dir))
}

fn remove_tree(path: &Path) -> Result<()> {
    match fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("remove", path)(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }

    fn file(name: &'static str, contents: &str, secret: bool) -> NewFile {
        NewFile {
            name,
            contents: contents.as_bytes().to_vec(),
            secret,
        }
    }

    #[test]
    fn journal_round_trips_and_refuses_paths() {
        let j = Journal {
            files: vec!["a.pem".into(), "a.key".into()],
            backup: Some("backup/20260101T000000Z".into()),
        };
        assert_eq!(Journal::parse(&j.render()).unwrap(), j);
        let evil = format!("{JOURNAL_HEADER}\nfile ../../etc/passwd\nend\n");
        assert!(Journal::parse(&evil).is_err());
        let cut = format!("{JOURNAL_HEADER}\nfile a.pem\n");
        assert!(Journal::parse(&cut).is_err());
    }

    #[test]
    fn replace_writes_modes_and_backs_up() {
        let d = tmp();
        let (lock, rec) = DirLock::acquire(d.path(), LOCK_WAIT).unwrap();
        assert_eq!(rec, None);
        lock.replace_files(
            &[file("a.key", "k1", true), file("a.pem", "c1", false)],
            None,
        )
        .unwrap();
        let mode = |n: &str| fs::metadata(d.path().join(n)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode("a.key"), 0o600);
        assert_eq!(mode("a.pem"), 0o644);
        let now = OffsetDateTime::now_utc();
        let backup = lock
            .replace_files(
                &[file("a.key", "k2", true), file("a.pem", "c2", false)],
                Some(now),
            )
            .unwrap()
            .unwrap();
        assert_eq!(fs::read_to_string(backup.join("a.key")).unwrap(), "k1");
        assert_eq!(fs::read_to_string(d.path().join("a.key")).unwrap(), "k2");
        assert_eq!(
            fs::metadata(&backup).unwrap().permissions().mode() & 0o777,
            0o700
        );
        assert!(!d.path().join(STAGING_DIR).exists());
    }

    #[test]
    fn uncommitted_staging_is_rolled_back_and_committed_one_completed() {
        let d = tmp();
        fs::write(d.path().join("a.pem"), "old").unwrap();
        // A crash before the commit point.
        let staging = d.path().join(STAGING_DIR);
        create_private_dir(&staging).unwrap();
        write_new(&staging.join("a.pem"), b"new", PUBLIC_MODE).unwrap();
        let (_l, rec) = DirLock::acquire(d.path(), LOCK_WAIT).unwrap();
        assert_eq!(rec, Some(Recovery::RolledBack));
        assert_eq!(fs::read_to_string(d.path().join("a.pem")).unwrap(), "old");
        assert!(!staging.exists());
        drop(_l);
        // A crash after it, with one of two files already renamed.
        create_private_dir(&staging).unwrap();
        write_new(&staging.join("b.pem"), b"new-b", PUBLIC_MODE).unwrap();
        fs::write(d.path().join("a.pem"), "new-a").unwrap();
        let j = Journal {
            files: vec!["a.pem".into(), "b.pem".into()],
            backup: None,
        };
        fs::write(staging.join(JOURNAL), j.render()).unwrap();
        let (_l, rec) = DirLock::acquire(d.path(), LOCK_WAIT).unwrap();
        assert_eq!(
            rec,
            Some(Recovery::Completed {
                files: vec!["b.pem".into()]
            })
        );
        assert_eq!(fs::read_to_string(d.path().join("b.pem")).unwrap(), "new-b");
        assert!(!staging.exists());
    }

    #[test]
    fn a_second_lock_waits_then_fails() {
        let d = tmp();
        let (_held, _) = DirLock::acquire(d.path(), LOCK_WAIT).unwrap();
        let err = DirLock::acquire(d.path(), Duration::from_millis(50)).unwrap_err();
        assert!(matches!(err, Error::Locked { .. }), "{err}");
    }
}
