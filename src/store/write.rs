//! Writing output folders (`export --out`, `schedule --out`, `man --out`)
//! whole or not at all, and never through a symlink.

use std::fs;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::FileType;

use super::{PRIVATE_DIR_MODE, PUBLIC_DIR_MODE, is_plain_name, walk_error};
use crate::error::{Error, Result};
use crate::fsat;

/// One file for [`write_outputs`]: its path relative to the output folder
/// (plain names only, no `..`), contents and mode.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Output<'a> {
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
pub(crate) fn write_outputs(out: &Path, files: &[Output<'_>], force: bool) -> Result<Vec<PathBuf>> {
    let (root, meta, created) =
        fsat::open_dir_strict(out, Some(PUBLIC_DIR_MODE)).map_err(|e| walk_error(out, e))?;
    let result = (|| {
        if let Some(e) = untrusted(out, &meta) {
            return Err(e);
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

/// Why `dir` may not receive our files, if it may not: another user's
/// folder, or one others can write, could have its files swapped after we
/// write them (and root then installs a unit, or mounts a key, from there).
/// This holds for `--out` and for every folder below it that exists.
fn untrusted(dir: &Path, meta: &fsat::Meta) -> Option<Error> {
    let reason = if meta.shared_writable() {
        format!(
            "it is writable by group or others (mode {:04o}), so another user \
             could replace what milvus-certs writes there",
            meta.mode
        )
    } else if meta.uid != 0 && meta.uid != fsat::euid() {
        format!(
            "it belongs to user id {}, who could replace what milvus-certs writes there",
            meta.uid
        )
    } else {
        return None;
    };
    Some(Error::UntrustedPath {
        dir: dir.to_path_buf(),
        path: dir.to_path_buf(),
        reason,
    })
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
/// missing. A part that is a symlink or a file is an error, and so is a
/// folder another user could change (`untrusted`).
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
        let meta = fsat::fmeta(fd.as_fd()).map_err(Error::io("examine", &path))?;
        if let Some(e) = untrusted(&path, &meta) {
            return Err(e);
        }
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
pub(crate) fn create_private_dir_all(path: &Path) -> Result<bool> {
    let (_, _, created) =
        fsat::open_dir_strict(path, Some(PRIVATE_DIR_MODE)).map_err(|e| walk_error(path, e))?;
    Ok(!created.is_empty())
}
