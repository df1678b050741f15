//! File operations relative to an open directory, never following a symbolic
//! link that we did not make.
//!
//! milvus-certs runs as root from timers, in directories that may not be
//! root's. Every operation here works on a directory file descriptor
//! (`openat`, `mkdirat`, `renameat`, `unlinkat`, POSIX.1-2008) with
//! `O_NOFOLLOW`, so that a name swapped for a symlink between two steps
//! cannot redirect a write, and permissions are set through the open file
//! (`fchmod`), never by path.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use rustix::fs::{self as rfs, AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;

/// The largest file we read: certificates, keys, serial files and journals
/// are a few KiB, so anything larger is not one of them.
pub(crate) const MAX_FILE: u64 = 1 << 20;

/// What `lstat` says about a directory entry, in portable types.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Meta {
    pub kind: FileType,
    /// Permission bits (`st_mode & 0o7777`).
    pub mode: u32,
    pub uid: u32,
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
}

impl Meta {
    // The field types of `struct stat` differ between Linux and macOS; on
    // Linux some of these casts are no-ops.
    #[allow(clippy::unnecessary_cast)]
    fn from_stat(st: &rfs::Stat) -> Meta {
        Meta {
            kind: FileType::from_raw_mode(st.st_mode as _),
            mode: (st.st_mode as u32) & 0o7777,
            uid: st.st_uid as u32,
            dev: st.st_dev as u64,
            ino: st.st_ino as u64,
            size: st.st_size as u64,
        }
    }

    /// Whether group or others may write to it.
    pub fn shared_writable(&self) -> bool {
        self.mode & 0o022 != 0
    }

    /// A word for what it is, for messages ("a symbolic link").
    pub fn kind_phrase(&self) -> &'static str {
        kind_phrase(self.kind)
    }
}

pub(crate) fn kind_phrase(kind: FileType) -> &'static str {
    match kind {
        FileType::RegularFile => "a regular file",
        FileType::Directory => "a directory",
        FileType::Symlink => "a symbolic link",
        FileType::Fifo => "a FIFO (named pipe)",
        FileType::Socket => "a socket",
        FileType::CharacterDevice => "a character device",
        FileType::BlockDevice => "a block device",
        FileType::Unknown => "not a regular file",
    }
}

/// The effective user id of this process.
pub(crate) fn euid() -> u32 {
    rustix::process::geteuid().as_raw()
}

fn nofollow(flags: OFlags) -> OFlags {
    flags | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NOCTTY
}

/// `fstat` of an open file.
pub(crate) fn fmeta(fd: impl AsFd) -> io::Result<Meta> {
    Ok(Meta::from_stat(&rfs::fstat(fd)?))
}

/// `lstat` of `name` inside `dir`; `None` when there is no such entry.
pub(crate) fn lmeta<P: rustix::path::Arg>(
    dir: BorrowedFd<'_>,
    name: P,
) -> io::Result<Option<Meta>> {
    match rfs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => Ok(Some(Meta::from_stat(&st))),
        Err(Errno::NOENT) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Whether `name` inside `dir` is the root of a mount (a bind-mounted file,
/// as Docker and Kubernetes make): rename(2) cannot replace it (EBUSY), so a
/// whole-or-nothing write must refuse it before its commit point.
pub(crate) fn is_mount_point(dir: BorrowedFd<'_>, name: &str, dir_dev: u64) -> io::Result<bool> {
    let Some(m) = lmeta(dir, name)? else {
        return Ok(false);
    };
    if m.dev != dir_dev {
        return Ok(true);
    }
    // A bind mount from the same file system keeps st_dev; statx(2) knows
    // (STATX_ATTR_MOUNT_ROOT, Linux 5.8).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use rustix::fs::{StatxAttributes, StatxFlags};
        match rfs::statx(
            dir,
            name,
            AtFlags::SYMLINK_NOFOLLOW,
            StatxFlags::BASIC_STATS,
        ) {
            Ok(x) => {
                let known = x.stx_attributes_mask.contains(StatxAttributes::MOUNT_ROOT);
                return Ok(known && x.stx_attributes.contains(StatxAttributes::MOUNT_ROOT));
            }
            Err(Errno::NOSYS) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(false)
}

/// Opens the directory `name` inside `dir`, refusing a symlink.
pub(crate) fn open_dir<P: rustix::path::Arg>(dir: BorrowedFd<'_>, name: P) -> io::Result<OwnedFd> {
    Ok(rfs::openat(
        dir,
        name,
        nofollow(OFlags::RDONLY | OFlags::DIRECTORY),
        Mode::empty(),
    )?)
}

/// Creates the directory `name` inside `dir` with exactly `mode` (whatever
/// the umask: set through the new directory's descriptor) and opens it.
pub(crate) fn create_dir(dir: BorrowedFd<'_>, name: &str, mode: u32) -> io::Result<OwnedFd> {
    rfs::mkdirat(dir, name, Mode::from_raw_mode(mode as _))?;
    let fd = open_dir(dir, name)?;
    // Someone who can write `dir` may have swapped the new directory for
    // their own between mkdirat and openat: refuse one that is not ours.
    set_private_dir_mode(&fd, mode)?;
    Ok(fd)
}

/// Sets the mode of a directory we just created, through its descriptor,
/// after checking that it is ours and a directory.
pub(crate) fn set_private_dir_mode(fd: impl AsFd, mode: u32) -> io::Result<()> {
    let m = fmeta(&fd)?;
    if m.kind != FileType::Directory || m.uid != euid() {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            "the new directory was replaced by another user's",
        ));
    }
    Ok(rfs::fchmod(fd, Mode::from_raw_mode(mode as _))?)
}

/// Creates `name` in `dir` (it must not exist; a symlink there is refused),
/// 0600 from the start, sets `mode` through the descriptor, writes and
/// fsyncs it.
pub(crate) fn create_file(
    dir: BorrowedFd<'_>,
    name: &str,
    contents: &[u8],
    mode: u32,
) -> io::Result<()> {
    let fd = rfs::openat(
        dir,
        name,
        nofollow(OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL),
        Mode::from_raw_mode(0o600),
    )?;
    rfs::fchmod(&fd, Mode::from_raw_mode(mode as _))?;
    let mut f = File::from(fd);
    f.write_all(contents)?;
    f.sync_all()
}

/// Why a file cannot be read as a small input file.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// No such file.
    Missing,
    /// A symbolic link (only with `follow: false`).
    Symlink,
    /// Not a regular file: a FIFO, a device, a socket, a directory.
    NotRegular(FileType),
    /// Larger than the limit.
    TooLarge,
    /// Any other failure.
    Io(io::Error),
}

impl From<Errno> for ReadError {
    fn from(e: Errno) -> ReadError {
        match e {
            Errno::NOENT => ReadError::Missing,
            Errno::LOOP => ReadError::Symlink,
            Errno::ISDIR => ReadError::NotRegular(FileType::Directory),
            e => ReadError::Io(e.into()),
        }
    }
}

/// Reads a regular file of at most `max` bytes, relative to `dir` (or to the
/// current directory with `None`). It never blocks: the file is opened
/// `O_NONBLOCK` and checked with fstat before any read, so a FIFO, a device
/// (`/dev/zero`) or a socket is refused at once, and a longer file is
/// refused after `max + 1` bytes.
pub(crate) fn read_small(
    dir: Option<BorrowedFd<'_>>,
    path: impl rustix::path::Arg,
    max: u64,
    follow: bool,
) -> Result<Vec<u8>, ReadError> {
    let mut flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY;
    if !follow {
        flags |= OFlags::NOFOLLOW;
    }
    let fd = match dir {
        Some(d) => rfs::openat(d, path, flags, Mode::empty())?,
        None => rfs::openat(rfs::CWD, path, flags, Mode::empty())?,
    };
    let m = fmeta(&fd).map_err(ReadError::Io)?;
    if m.kind != FileType::RegularFile {
        return Err(ReadError::NotRegular(m.kind));
    }
    if m.size > max {
        return Err(ReadError::TooLarge);
    }
    let mut bytes = Vec::with_capacity(m.size as usize);
    File::from(fd)
        .take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > max {
        return Err(ReadError::TooLarge);
    }
    Ok(bytes)
}

/// Removes `name` inside `dir` and, if it is a directory, everything in it,
/// through descriptors: a symlink inside is removed, never followed. At most
/// `depth` levels of directories are entered (our staging tree has two).
pub(crate) fn remove_tree<P: rustix::path::Arg + Copy>(
    dir: BorrowedFd<'_>,
    name: P,
    depth: u32,
) -> io::Result<()> {
    let Some(m) = lmeta(dir, name)? else {
        return Ok(());
    };
    if m.kind != FileType::Directory {
        return Ok(rfs::unlinkat(dir, name, AtFlags::empty())?);
    }
    if depth == 0 {
        return Err(io::Error::other(
            "it is nested deeper than milvus-certs makes",
        ));
    }
    let fd = open_dir(dir, name)?;
    for n in list(fd.as_fd())? {
        remove_tree(fd.as_fd(), OsStr::from_bytes(&n), depth - 1)?;
    }
    Ok(rfs::unlinkat(dir, name, AtFlags::REMOVEDIR)?)
}

/// Names in the directory `fd` (without `.` and `..`), as bytes.
pub(crate) fn list(fd: BorrowedFd<'_>) -> io::Result<Vec<Vec<u8>>> {
    let mut names = Vec::new();
    for entry in rfs::Dir::read_from(fd)? {
        let entry = entry?;
        let n = entry.file_name().to_bytes();
        if n != b"." && n != b".." {
            names.push(n.to_vec());
        }
    }
    Ok(names)
}

/// `renameat` within or between two open directories.
pub(crate) fn rename(from: BorrowedFd<'_>, a: &str, to: BorrowedFd<'_>, b: &str) -> io::Result<()> {
    Ok(rfs::renameat(from, a, to, b)?)
}

/// `unlinkat` of a non-directory.
pub(crate) fn unlink(dir: BorrowedFd<'_>, name: &str) -> io::Result<()> {
    Ok(rfs::unlinkat(dir, name, AtFlags::empty())?)
}

/// fsync of an open directory: makes renames and creations in it durable.
pub(crate) fn sync(fd: impl AsFd) -> io::Result<()> {
    Ok(rfs::fsync(fd)?)
}
