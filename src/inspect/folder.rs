//! Folders inspected as a whole: the run over one, locked against a
//! concurrent `renew`, read, then judged. What kind of folder it is and
//! what that kind needs are [`crate::checks::FolderKind`]'s (`renew` asks
//! them too).

use std::path::{Path, PathBuf};

use super::{InspectOptions, Report, judge, read};
use crate::checks::{self, Finding, FolderKind, FolderScope};
use crate::error::Result;
use crate::store::{DirLock, LOCK_WAIT};
use crate::{files, issue};

/// A folder inspected as a whole.
#[derive(Clone, Debug)]
pub struct Folder {
    /// The folder.
    pub path: PathBuf,
    /// What it was recognised as.
    pub kind: FolderKind,
    /// Findings about the folder itself (permissions, an interrupted write).
    pub findings: Vec<Finding>,
}

/// A folder, judged by what its kind needs. `explicit`: it was asked for
/// as a folder (`--dir`), so a file its kind needs and lacks is reported.
pub(super) fn inspect_folder(
    dir: &Path,
    opts: &InspectOptions,
    read_only: bool,
    explicit: bool,
    report: &mut Report,
) -> Result<()> {
    // Always locked: a renew running now must not be seen half-way (a new
    // key next to the old certificate between two renames).
    let _lock = if read_only {
        DirLock::lock_only(dir, LOCK_WAIT)?
    } else {
        // A staging folder that is not safe to touch is left alone and
        // reported (Recovery::LeftAlone), and the files are still read.
        let (lock, recovery) = DirLock::acquire_read(dir, LOCK_WAIT)?;
        if let Some(r) = recovery {
            report.recoveries.push((dir.to_path_buf(), r));
        }
        lock
    };
    let mut scope = FolderScope {
        dir,
        kind: FolderKind::of(dir),
        one_way: opts.one_way,
        explicit,
    };
    let mut findings: Vec<Finding> = Vec::new();
    // A folder asked for that holds none of gen's seven files and nothing
    // `add` made (an empty folder, a mistyped --dir, /tmp) is one finding,
    // not a `file_missing` for each file a CA folder needs.
    if explicit && files::ALL.iter().all(|f| scope.lacks(f)) && issue::added_names(dir).is_empty() {
        findings.push(Finding::NoCertificateFiles {
            dir: dir.to_path_buf(),
        });
        scope.explicit = false;
    }
    findings.extend(checks::dir_permissions(dir));
    findings.extend(checks::pending_write(dir));
    let mut entries = Vec::new();
    let firsts = read::folder_certificates(&scope, &mut entries);
    judge::folder(&scope, &firsts, &opts.server_names, &mut entries);
    report.entries.extend(entries);
    report.folders.push(Folder {
        path: dir.to_path_buf(),
        kind: scope.kind,
        findings,
    });
    Ok(())
}
