//! Staging, the journal and recovery: how a set of files in a certificate
//! directory is replaced whole or not at all, and how the next run
//! completes or rolls back one a crash interrupted (see the [`crate::store`]
//! documentation for the steps and the ownership rules).

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::FileType;
use time::OffsetDateTime;

use super::{DirLock, PRIVATE_DIR_MODE, PUBLIC_MODE, SECRET_MODE, is_plain_name};
use crate::error::{Error, Result};
use crate::files;
use crate::fsat::{self, Meta, ReadError};

/// The staging directory of a write in progress, inside the certificate directory.
pub(crate) const STAGING_DIR: &str = ".milvus-certs-pending";
/// The journal whose presence marks a committed write.
const JOURNAL: &str = "COMMIT";
const JOURNAL_TMP: &str = "COMMIT.tmp";
const JOURNAL_HEADER: &str = "milvus-certs journal v1";
/// A journal is a few hundred bytes; anything larger is not ours.
const MAX_JOURNAL: u64 = 64 * 1024;
/// Where backups go, inside the certificate directory.
pub(crate) const BACKUP_DIR: &str = "backup";

/// Whether `dir` holds a write that was interrupted (the next command that
/// takes the lock completes or rolls it back, if it is safe to).
pub(crate) fn has_pending_write(dir: &Path) -> bool {
    dir.join(STAGING_DIR).symlink_metadata().is_ok()
}

/// A file to be written as part of a set.
#[derive(Clone, Debug)]
pub(crate) struct NewFile {
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
    pub(crate) fn public(name: impl Into<String>, contents: impl Into<Vec<u8>>) -> NewFile {
        NewFile {
            name: name.into(),
            contents: contents.into(),
            secret: false,
        }
    }

    /// A private key (mode 0600).
    pub(crate) fn secret(name: impl Into<String>, contents: impl Into<Vec<u8>>) -> NewFile {
        NewFile {
            name: name.into(),
            contents: contents.into(),
            secret: true,
        }
    }

    /// A key and its certificate, key first.
    pub(crate) fn pair(
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

impl DirLock {
    pub(super) fn recover(&self) -> Result<Option<Recovery>> {
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
    pub(crate) fn check_replaceable(&self, name: &str) -> Result<()> {
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
    pub(crate) fn replace_files(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::LOCK_WAIT;
    use std::fs;
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
