//! What `schedule` prints: the units, or the files it wrote.

use std::io::{self, Write};
use std::path::PathBuf;

use milvus_certs::schedule::{ScheduleOptions, Units};

use super::{clean, terminal_path};

fn install_hint(o: &ScheduleOptions, dir: &str) -> String {
    format!(
        "# Install the timer (as root):\n\
         #   cp {dir}{n}.service {dir}{n}.timer /etc/systemd/system/\n\
         #   systemctl daemon-reload && systemctl enable --now {n}.timer\n\
         # Or, instead of the timer, add the crontab line with `crontab -e`.\n",
        n = o.name
    )
}

pub(crate) fn print_units(o: &ScheduleOptions, u: &Units) -> io::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "# --- {}.service ---", o.name)?;
    write!(out, "{}", u.service)?;
    writeln!(out, "\n# --- {}.timer ---", o.name)?;
    write!(out, "{}", u.timer)?;
    writeln!(out, "\n# --- crontab line (instead of the timer) ---")?;
    write!(out, "{}", u.crontab)?;
    writeln!(out)?;
    // Nothing was written: first the command that writes the files.
    writeln!(
        out,
        "# Write these files into units/:\n#   {}",
        clean(&crate::cli::as_given_with(&["--out", "units"]))
    )?;
    write!(out, "{}", install_hint(o, "units/"))?;
    out.flush()
}

pub(crate) fn print_units_written(o: &ScheduleOptions, written: &[PathBuf]) -> io::Result<()> {
    let mut out = io::stdout().lock();
    for p in written {
        writeln!(out, "Wrote {}", terminal_path(p))?;
    }
    let dir = written
        .first()
        .and_then(|p| p.parent())
        .map(|d| format!("{}/", terminal_path(d)))
        .unwrap_or_default();
    write!(out, "{}", install_hint(o, &dir))?;
    out.flush()
}
