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
use std::path::{Path, PathBuf};

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
    pub(crate) fn shared_writable(&self) -> bool {
        self.mode & 0o022 != 0
    }

    /// A word for what it is, for messages ("a symbolic link").
    pub(crate) fn kind_phrase(&self) -> &'static str {
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
    /// A symbolic link out of the directory (only with `Follow::Beneath`).
    Escapes,
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

/// How a read may follow symbolic links.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Follow {
    /// Not at all (`O_NOFOLLOW`).
    Never,
    /// Only while they stay inside the directory read from (openat2(2)
    /// `RESOLVE_BENEATH`, Linux 5.6; elsewhere as `Never`): a mounted
    /// Kubernetes Secret is `server.pem -> ..data/server.pem`, but a link
    /// that leaves the directory could make root read any file.
    Beneath,
    /// Anywhere: for a path the user named on the command line.
    Anywhere,
}

fn open_for_read(
    dir: Option<BorrowedFd<'_>>,
    path: impl rustix::path::Arg,
    follow: Follow,
) -> Result<OwnedFd, ReadError> {
    let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY;
    let dir = dir.unwrap_or(rfs::CWD);
    match follow {
        Follow::Anywhere => Ok(rfs::openat(dir, path, flags, Mode::empty())?),
        Follow::Never => Ok(rfs::openat(
            dir,
            path,
            flags | OFlags::NOFOLLOW,
            Mode::empty(),
        )?),
        Follow::Beneath => {
            #[cfg(any(target_os = "linux", target_os = "android"))]
            {
                use rustix::fs::ResolveFlags;
                let path = path.into_c_str().map_err(|e| ReadError::Io(e.into()))?;
                let how = ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS;
                match rfs::openat2(dir, path.as_ref(), flags, Mode::empty(), how) {
                    Ok(fd) => Ok(fd),
                    // A link that leaves the directory.
                    Err(Errno::XDEV) => Err(ReadError::Escapes),
                    // No openat2 (an old kernel, or a seccomp filter that
                    // does not know it): follow nothing.
                    Err(Errno::NOSYS) | Err(Errno::PERM) => Ok(rfs::openat(
                        dir,
                        path.as_ref(),
                        flags | OFlags::NOFOLLOW,
                        Mode::empty(),
                    )?),
                    Err(e) => Err(e.into()),
                }
            }
            #[cfg(not(any(target_os = "linux", target_os = "android")))]
            {
                Ok(rfs::openat(
                    dir,
                    path,
                    flags | OFlags::NOFOLLOW,
                    Mode::empty(),
                )?)
            }
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
    follow: Follow,
) -> Result<Vec<u8>, ReadError> {
    let fd = open_for_read(dir, path, follow)?;
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

/// Opens a directory by a path the user gave: `O_DIRECTORY` (a FIFO or a
/// file there fails at once instead of blocking) and `O_NONBLOCK`.
pub(crate) fn open_dir_path(path: &Path) -> io::Result<OwnedFd> {
    Ok(rfs::openat(
        rfs::CWD,
        path,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )?)
}

/// Why a path cannot be trusted for a command that writes there.
#[derive(Debug)]
pub(crate) enum WalkError {
    /// A directory or link on the way that another user controls.
    Untrusted { path: PathBuf, reason: String },
    /// Anything else, at `path`.
    Io { path: PathBuf, source: io::Error },
}

/// Whether a directory on the way to where we write is safe to pass
/// through: owned by root or by us, and not writable by group or others
/// unless sticky (where others cannot rename or remove our entries). These
/// are the rules of OpenSSH's StrictModes and of sudo's secure path.
fn untrusted_dir(m: &Meta) -> Option<String> {
    let me = euid();
    if m.uid != 0 && m.uid != me {
        return Some(format!(
            "it belongs to user id {}, who could swap what is inside it for a link \
             to any folder you can write",
            m.uid
        ));
    }
    if m.shared_writable() && m.mode & 0o1000 == 0 {
        return Some(format!(
            "it is writable by group or others (mode {:04o}, not sticky), so another \
             user could swap what is inside it for a link to any folder you can write",
            m.mode
        ));
    }
    None
}

/// Opens the directory `path` for a command that writes there, refusing a
/// path another user could redirect: every directory passed through on the
/// way (from `/`; a relative path is taken from the current directory's
/// real path) must pass [`untrusted_dir`], and a symbolic link on the way is
/// followed only if root or we own it (the rule of the kernel's
/// `fs.protected_symlinks`, applied whatever the sysctl says). The last
/// directory itself is the caller's to judge. With `create`, missing
/// directories are made: the last with mode `create`, the ones above 0755
/// (whatever the umask: mkdir can only narrow the mode), and their paths
/// are returned, parents first.
pub(crate) fn open_dir_strict(
    path: &Path,
    create: Option<u32>,
) -> Result<(OwnedFd, Meta, Vec<PathBuf>), WalkError> {
    let io_at = |path: &Path| {
        let path = path.to_path_buf();
        move |source: io::Error| WalkError::Io { path, source }
    };
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().map_err(io_at(path))?.join(path)
    };
    let mut fd = open_dir_path(Path::new("/")).map_err(io_at(Path::new("/")))?;
    let mut at = PathBuf::from("/");
    let mut meta = fmeta(&fd).map_err(io_at(&at))?;
    let mut created = Vec::new();
    // Components still to walk, in reverse (a link's target is pushed).
    let mut todo: Vec<std::ffi::OsString> = absolute
        .components()
        .rev()
        .filter_map(|c| match c {
            std::path::Component::Normal(n) => Some(n.to_os_string()),
            std::path::Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect();
    let mut links = 0;
    while let Some(name) = todo.pop() {
        if name == ".." {
            // The real parent of where we are.
            at.pop();
            fd = open_dir_path(&at).map_err(io_at(&at))?;
            meta = fmeta(&fd).map_err(io_at(&at))?;
            continue;
        }
        // We are about to rely on `at`'s entry `name`: `at` must be ours.
        if let Some(reason) = untrusted_dir(&meta) {
            return Err(WalkError::Untrusted {
                path: at.clone(),
                reason,
            });
        }
        let next = at.join(&name);
        let name_os = name.as_os_str();
        match lmeta(fd.as_fd(), name_os).map_err(io_at(&next))? {
            None => {
                let Some(last_mode) = create else {
                    return Err(WalkError::Io {
                        path: next,
                        source: io::Error::from(io::ErrorKind::NotFound),
                    });
                };
                let mode = if todo.is_empty() { last_mode } else { 0o755 };
                rfs::mkdirat(&fd, name_os, Mode::from_raw_mode(mode as _)).map_err(|e| {
                    WalkError::Io {
                        path: next.clone(),
                        source: e.into(),
                    }
                })?;
                created.push(next.clone());
                let new = open_dir(fd.as_fd(), name_os).map_err(io_at(&next))?;
                // The exact mode (a umask such as 0277 would leave it
                // unwritable), through the descriptor.
                set_private_dir_mode(&new, mode).map_err(io_at(&next))?;
                fd = new;
            }
            Some(m) if m.kind == FileType::Symlink => {
                if m.uid != 0 && m.uid != euid() {
                    return Err(WalkError::Untrusted {
                        path: next,
                        reason: format!(
                            "it is a symbolic link made by user id {}, which milvus-certs \
                             does not follow for a command that writes; give the real path",
                            m.uid
                        ),
                    });
                }
                links += 1;
                if links > 40 {
                    return Err(WalkError::Io {
                        path: next,
                        source: io::Error::from_raw_os_error(Errno::LOOP.raw_os_error()),
                    });
                }
                let target =
                    rfs::readlinkat(&fd, name_os, Vec::new()).map_err(|e| WalkError::Io {
                        path: next.clone(),
                        source: e.into(),
                    })?;
                let target = PathBuf::from(OsStr::from_bytes(target.as_bytes()));
                if target.is_absolute() {
                    fd = open_dir_path(Path::new("/")).map_err(io_at(Path::new("/")))?;
                    at = PathBuf::from("/");
                }
                for c in target.components().rev() {
                    match c {
                        std::path::Component::Normal(n) => todo.push(n.to_os_string()),
                        std::path::Component::ParentDir => todo.push("..".into()),
                        _ => {}
                    }
                }
                meta = fmeta(&fd).map_err(io_at(&at))?;
                continue;
            }
            Some(m) if m.kind == FileType::Directory => {
                fd = open_dir(fd.as_fd(), name_os).map_err(io_at(&next))?;
            }
            Some(_) => {
                return Err(WalkError::Io {
                    path: next,
                    source: io::Error::from_raw_os_error(Errno::NOTDIR.raw_os_error()),
                });
            }
        }
        at = next;
        meta = fmeta(&fd).map_err(io_at(&at))?;
    }
    Ok((fd, meta, created))
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

/// Opens a regular file in `dir` for reading (a lock): no link followed,
/// never blocking.
pub(crate) fn open_regular(dir: BorrowedFd<'_>, name: &str) -> io::Result<OwnedFd> {
    Ok(rfs::openat(
        dir,
        name,
        nofollow(OFlags::RDONLY | OFlags::NONBLOCK),
        Mode::empty(),
    )?)
}

/// `linkat` within a directory; fails if `to` exists.
pub(crate) fn link(dir: BorrowedFd<'_>, from: &str, to: &str) -> io::Result<()> {
    Ok(rfs::linkat(dir, from, dir, to, AtFlags::empty())?)
}

/// `unlinkat` of a non-directory.
pub(crate) fn unlink(dir: BorrowedFd<'_>, name: &str) -> io::Result<()> {
    Ok(rfs::unlinkat(dir, name, AtFlags::empty())?)
}

/// fsync of an open directory: makes renames and creations in it durable.
pub(crate) fn sync(fd: impl AsFd) -> io::Result<()> {
    Ok(rfs::fsync(fd)?)
}
