//! What `export` prints: the notes on stderr, and what `--out` wrote.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use milvus_certs::export::Export;

use super::{clean, print_recovery, terminal_path};

/// What comes before the files, on stderr: the recovery of an interrupted
/// write, and the warnings (escaped: they carry paths and names).
pub(crate) fn print_export_notes(made: &Export) -> io::Result<()> {
    print_recovery(&mut io::stderr(), &made.recovery)?;
    for w in &made.warnings {
        let _ = writeln!(io::stderr(), "warning: {}", clean(w));
    }
    Ok(())
}

/// What `export --out` wrote, with modes, and what to run next.
pub(crate) fn print_export(out_dir: &Path, made: &Export, written: &[PathBuf]) -> io::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "Wrote into {}:", terminal_path(out_dir))?;
    for (f, path) in made.files.iter().zip(written) {
        let rel = f.path.to_string_lossy();
        let secret = if f.mode & 0o077 != 0 {
            ""
        } else if rel.ends_with("password") || rel.ends_with(".properties") {
            " (holds a password)"
        } else {
            " (holds a private key)"
        };
        writeln!(
            out,
            "  {:<28} mode {:04o}{secret}",
            terminal_path(path.strip_prefix(out_dir).unwrap_or(path)),
            f.mode
        )?;
    }
    if !made.next.is_empty() {
        writeln!(out, "Next, in {}:", terminal_path(out_dir))?;
        for cmd in &made.next {
            writeln!(out, "  {}", clean(cmd))?;
        }
    }
    Ok(())
}
