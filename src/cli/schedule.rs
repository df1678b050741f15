//! `schedule`: its options, and the library's [`ScheduleOptions`] made
//! from them.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use milvus_certs::schedule::ScheduleOptions;

pub(super) const EXAMPLES: &str = "\
Examples:
  milvus-certs schedule --dir /etc/milvus/tls --then \"systemctl restart milvus\"
  milvus-certs schedule --dir /etc/milvus/tls --then \"docker compose -f /srv/milvus/docker-compose.yml restart standalone\" --out .

The units run `milvus-certs renew --dir DIR --if-expiring-within DAYS [--then CMD]`
daily (randomized delay, catching up after downtime), with absolute paths.";

/// Options of `schedule`.
#[derive(Debug, Args)]
pub(crate) struct ScheduleArgs {
    /// The certificate directory to keep renewed
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub(crate) dir: PathBuf,

    /// Renew when a certificate expires within this many days
    #[arg(long, value_name = "DAYS", default_value_t = 30)]
    pub(crate) within: u32,

    /// Passed to renew: validity of the new certificates [default: renew keeps each one's lifetime]
    #[arg(long, value_name = "N")]
    pub(crate) days: Option<u32>,

    /// The command that makes Milvus load the new files (run only after a renewal); one line: put several commands in a script and pass its path
    #[arg(long, value_name = "CMD")]
    pub(crate) then: Option<String>,

    /// Write NAME.service, NAME.timer and NAME.cron into this directory instead of printing them
    #[arg(long, value_name = "DIR")]
    pub(crate) out: Option<PathBuf>,

    /// Base name of the units
    #[arg(long, value_name = "NAME", default_value = "milvus-certs-renew")]
    pub(crate) name: String,

    /// With --out: replace existing files
    #[arg(long, requires = "out")]
    pub(crate) force: bool,
}

impl ScheduleArgs {
    /// The library's options; the units run this binary.
    pub(crate) fn options(&self) -> anyhow::Result<ScheduleOptions> {
        let bin =
            std::env::current_exe().context("cannot find the milvus-certs binary's own path")?;
        Ok(ScheduleOptions {
            bin,
            dir: self.dir.clone(),
            within: self.within,
            days: self.days,
            then: self.then.clone(),
            name: self.name.clone(),
        })
    }
}
