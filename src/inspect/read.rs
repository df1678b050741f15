//! Finding and reading the files to inspect: a folder's own files (by
//! name), the files and directories named on the command line, and every
//! certificate file of a directory. Each file is read once, bounded, and
//! parsed once; what cannot be read becomes an `invalid` entry.

use std::fs;
use std::path::{Path, PathBuf};

use super::folder::inspect_folder;
use super::{Entry, InspectOptions, Report};
use rustls::pki_types::CertificateDer;

use crate::certinfo::{CertInfo, ExtKeyUsage};
use crate::checks::{self, Finding, FolderScope};
use crate::error::{Error, Result};
use crate::files;
use crate::input::{self, Encoding};
use crate::issue::{self, CertRole};
use crate::leaf::Role;

/// File endings inspected in a directory given as a path.
const CERT_ENDINGS: [&str; 5] = [".pem", ".crt", ".cer", ".cert", ".der"];

/// The files and directories named (`opts.paths`, then `--ca FILE`s), read
/// only; `folder` was already inspected as a folder.
pub(super) fn paths(
    opts: &InspectOptions,
    folder: Option<&Path>,
    report: &mut Report,
) -> Result<()> {
    let mut loose_dirs: Vec<PathBuf> = Vec::new();
    for path in opts.paths.iter().chain(&opts.ca_files) {
        let is_ca_file = opts.ca_files.contains(path);
        let same = |f: &Path| f.canonicalize().ok() == path.canonicalize().ok();
        if is_ca_file
            && report
                .entries
                .iter()
                .any(|e| e.file.as_deref().is_some_and(same))
        {
            // `--ca` naming a file already read (the folder's own ca.pem).
            continue;
        }
        if path.is_dir() {
            if folder == Some(path.as_path()) {
                continue;
            }
            inspect_plain_dir(path, opts, report)?;
        } else {
            let parent = parent_of(path).to_path_buf();
            if !loose_dirs.contains(&parent) {
                loose_dirs.push(parent);
            }
            let named = |_: Option<&CertInfo>| {
                if is_ca_file {
                    Some(CertRole::Ca)
                } else {
                    role_from_name(path)
                }
            };
            inspect_file(path, &named, false, &mut report.entries);
        }
    }
    // Loose files are read as they are: an interrupted write in their
    // folder is reported, never completed here.
    for dir in loose_dirs {
        let known = report.folders.iter().any(|f| f.path == dir);
        let first = report
            .entries
            .iter_mut()
            .find(|e| e.file.as_deref().map(parent_of) == Some(dir.as_path()));
        if let (false, Some(f), Some(e)) = (known, checks::pending_write(&dir), first) {
            e.findings.push(f);
        }
    }
    Ok(())
}

/// The certificates of a folder's own files, by name: `ca.pem`,
/// `server.pem`, `client.pem`, and in a CA folder every `NAME.pem` `add`
/// made. A missing one is an entry only when its kind needs it. Returns the
/// index of each file's first entry in `out`, with its file name.
pub(super) fn folder_certificates(
    scope: &FolderScope<'_>,
    out: &mut Vec<Entry>,
) -> Vec<(usize, String)> {
    let mut firsts = Vec::new();
    let mut wanted: Vec<String> = [files::CA_PEM, files::SERVER_PEM, files::CLIENT_PEM]
        .map(String::from)
        .to_vec();
    // What `add` made: only a CA folder has them.
    if scope.ca_dir().is_some() {
        wanted.extend(
            issue::added_names(scope.dir)
                .iter()
                .map(|n| files::added_cert(n)),
        );
    }
    for name in wanted {
        let name = name.as_str();
        let path = scope.dir.join(name);
        // By its name; an added one's profile is read from it.
        let named = |cert: Option<&CertInfo>| {
            role_from_name(Path::new(name)).or_else(|| {
                files::added_name_of_cert(name)
                    .map(|n| CertRole::Added(issue::added_profile(n, cert)))
            })
        };
        if scope.lacks(name) {
            if let Some(finding) = scope.missing(name) {
                let mut e = Entry::unreadable(path.display().to_string(), named(None), finding);
                e.file = Some(path);
                e.dir_checked = true;
                out.push(e);
            }
            continue;
        }
        firsts.push((out.len(), name.to_string()));
        inspect_file(&path, &named, true, out);
    }
    firsts
}

/// The folder a file is in (`.` for a bare file name).
fn parent_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// What a file's name says its first certificate is for: `ca.pem`,
/// `server.pem` or `client.pem`.
fn role_from_name(path: &Path) -> Option<CertRole> {
    match path.file_name()?.to_str()? {
        files::CA_PEM => Some(CertRole::Ca),
        files::SERVER_PEM => Some(CertRole::Leaf(Role::Server)),
        files::CLIENT_PEM => Some(CertRole::Leaf(Role::Client)),
        _ => None,
    }
}

/// What a certificate's own extensions say it is for: a CA, or a leaf
/// allowing one purpose only.
pub(super) fn role_from_content(c: &CertInfo) -> Option<CertRole> {
    if c.is_ca() {
        return Some(CertRole::Ca);
    }
    match c.ext_key_usage.as_deref() {
        Some([ExtKeyUsage::ServerAuth]) => Some(CertRole::Leaf(Role::Server)),
        Some([ExtKeyUsage::ClientAuth]) => Some(CertRole::Leaf(Role::Client)),
        _ => None,
    }
}

/// What a file's name says its first certificate (`cert`, once read) is
/// for, when the name says it; else its content does.
type Named<'a> = dyn Fn(Option<&CertInfo>) -> Option<CertRole> + Sync + 'a;

/// Reads one file: one entry per certificate, or one `invalid` entry.
/// `in_folder`: one of a folder's own files, read as
/// [`input::read_in_folder`] does (links followed only inside it).
fn inspect_file(path: &Path, named: &Named<'_>, in_folder: bool, out: &mut Vec<Entry>) {
    let first = out.len();
    read_entries(path, named, in_folder, out);
    for e in &mut out[first..] {
        e.file = Some(path.to_path_buf());
    }
}

/// The certificates of `path` (PEM or DER) and how it is encoded, or why
/// it holds none.
fn read_certificates(
    path: &Path,
    in_folder: bool,
) -> std::result::Result<(Vec<CertificateDer<'static>>, Encoding), Finding> {
    let read = if in_folder {
        input::read_in_folder(path, "a PEM certificate")
    } else {
        input::read_optional(path, "a PEM certificate")
    };
    let bytes = read
        .map_err(not_a_certificate)?
        .ok_or_else(|| Finding::NotACertificate {
            reason: format!("{} does not exist", path.display()),
        })?;
    input::parse_certificates_or_der(path, &bytes).map_err(not_a_certificate)
}

fn not_a_certificate(e: Error) -> Finding {
    Finding::NotACertificate {
        reason: e.without_fix(),
    }
}

fn read_entries(path: &Path, named: &Named<'_>, in_folder: bool, out: &mut Vec<Entry>) {
    let source = path.display().to_string();
    let fallback_role = named(None);
    let (ders, encoding) = match read_certificates(path, in_folder) {
        Ok(d) => d,
        Err(finding) => {
            out.push(Entry::unreadable(source, fallback_role, finding));
            return;
        }
    };
    let bundle = ders.len() > 1;
    for (i, der) in ders.iter().enumerate() {
        let src = if bundle {
            format!("{source}#{}", i + 1)
        } else {
            source.clone()
        };
        match CertInfo::from_der(der) {
            Ok(cert) => {
                // In a bundle only the first certificate has the file's role.
                let role = match i {
                    0 => named(Some(&cert)).or_else(|| role_from_content(&cert)),
                    _ => role_from_content(&cert),
                };
                let mut entry = Entry::of(src, role, cert);
                entry.encoding = Some(encoding);
                out.push(entry);
            }
            Err(reason) => out.push(Entry::unreadable(
                src,
                fallback_role,
                not_a_certificate(Error::bad_file(path, "a certificate", reason)),
            )),
        }
    }
}

/// Each `*.pem|crt|cer|cert` file of a directory given as a path, read
/// only. A directory holding `ca.pem` or `server.pem` is judged as a folder
/// too, but a file its kind lacks is not reported (it was not asked for).
fn inspect_plain_dir(dir: &Path, opts: &InspectOptions, report: &mut Report) -> Result<()> {
    let listing = match fs::read_dir(dir) {
        Ok(l) => l,
        Err(e) => {
            report.entries.push(Entry::unreadable(
                dir.display().to_string(),
                None,
                not_a_certificate(Error::io("list", dir)(e)),
            ));
            return Ok(());
        }
    };
    let mut paths: Vec<PathBuf> = listing
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| CERT_ENDINGS.iter().any(|end| n.ends_with(end)))
        })
        // The trust bundle `export --s3` writes (this machine's public roots,
        // then ca.pem): its roots are not ours to judge or renew. Named on
        // the command line, it is inspected like any file.
        .filter(|p| p.file_name().and_then(|n| n.to_str()) != Some(files::CA_BUNDLE))
        .collect();
    paths.sort();
    let folder_like = paths.iter().any(|p| {
        matches!(
            role_from_name(p),
            Some(CertRole::Ca | CertRole::Leaf(Role::Server))
        )
    });
    if folder_like {
        inspect_folder(dir, opts, true, false, report)?;
        paths.retain(|p| role_from_name(p).is_none());
        report.entries.extend(inspect_files(&paths));
    } else {
        // Loose files: read only; an interrupted write here is reported.
        let mut entries = inspect_files(&paths);
        if let (Some(f), Some(first)) = (checks::pending_write(dir), entries.first_mut()) {
            first.findings.push(f);
        }
        report.entries.extend(entries);
    }
    Ok(())
}

/// Reads and parses many files on all cores, keeping their order.
fn inspect_files(paths: &[PathBuf]) -> Vec<Entry> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = paths.len().div_ceil(threads).max(64);
    std::thread::scope(|s| {
        let handles: Vec<_> = paths
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    let mut out = Vec::with_capacity(part.len());
                    for p in part {
                        inspect_file(p, &|_| role_from_name(p), false, &mut out);
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}
