//! The `milvus-certs` binary: parses the command line, calls the library
//! once per command, prints what it returns and maps errors to exit codes.
//! The clap types and their conversion into the library's options are in
//! `cli/`, the printers in `output/`.

use std::io::{self, Write};
use std::process::ExitCode;

use milvus_certs::renew::{self, RenewOutcome};
use milvus_certs::{add, doctor, export, generate, inspect, schedule};
use time::OffsetDateTime;

mod cli;
mod man;
mod output;

use cli::{Cli, Command, export::Request};
use output::shown;

/// Exit status of a command that failed.
const FAILURE: u8 = 1;
/// Exit status of an `inspect` or a `doctor` that failed: their "problem".
const PROBLEM: u8 = 2;
/// Exit status of a usage error (an unknown option, from clap, or an
/// invalid value, from the library), for every command, as documented.
const USAGE: u8 = 2;
/// Exit status of a renewal whose `--then` hook failed (the new files stay).
const HOOK_FAILED: u8 = 3;

fn main() -> ExitCode {
    let cli = Cli::parse_or_exit();
    let failure = match cli.command {
        Command::Inspect(_) | Command::Doctor(_) => PROBLEM,
        _ => FAILURE,
    };
    match run(cli.command, OffsetDateTime::now_utc()) {
        Ok(code) => code,
        Err(err) => {
            // One line: the library's messages already name the file and the fix.
            let _ = writeln!(
                io::stderr(),
                "error: {}",
                output::clean(&format!("{err:#}"))
            );
            ExitCode::from(if cli::is_usage_error(&err) {
                USAGE
            } else {
                failure
            })
        }
    }
}

/// One library call per command (two for `renew --then`), and its rendering.
fn run(command: Command, now: OffsetDateTime) -> anyhow::Result<ExitCode> {
    let mut code = 0;
    let printed = match command {
        Command::Gen(a) => output::print_gen(&generate::generate(&a.options(), now)?),
        Command::Add(a) => output::print_add(&add::add(&a.options(), now)?),
        Command::Renew(a) => {
            let outcome = renew::run(&a.request()?, now)?;
            shown(output::print_outcome(&outcome, &a.dir, a.then.as_deref()))?;
            let (RenewOutcome::Renewed { report, .. }, Some(cmd)) = (&outcome, &a.then) else {
                return Ok(ExitCode::SUCCESS);
            };
            let hook = renew::run_after(cmd, report)?;
            shown(output::print_hook(&hook))?;
            if let Err(failed) = hook.result() {
                let _ = writeln!(
                    io::stderr(),
                    "error: {}",
                    output::clean(&failed.to_string())
                );
                code = HOOK_FAILED;
            }
            Ok(())
        }
        Command::Inspect(a) => {
            let report = inspect::inspect(&a.options()?, now)?;
            code = report.overall().exit_code();
            output::print_inspect(&report, a.json)
        }
        Command::Doctor(a) => {
            let report = doctor::doctor(&a.options(), now)?;
            code = report.exit_code();
            output::print_doctor(&report, a.json)
        }
        Command::Schedule(a) => {
            let opts = a.options()?;
            // Refuses bad values before anything is written or printed.
            let units = schedule::units(&opts)?;
            match &a.out {
                None => output::print_units(&opts, &units),
                Some(out) => output::print_units_written(
                    &opts,
                    &schedule::write_units(out, &opts, &units, a.force)?,
                ),
            }
        }
        Command::Export(target) => {
            target.check_out()?;
            let ((out, force), refusal) = (target.out(), target.needs_out());
            let made = match target.request() {
                Request::Kafka(opts) => export::kafka(&opts, now)?,
                Request::Files(common, target) => export::export(&common, &target, now)?,
            };
            output::print_export_notes(&made)?;
            match (out, &made.stdout) {
                (Some(out), _) => output::print_export(&out, &made, &made.write(&out, force)?),
                (None, Some(text)) => io::stdout().lock().write_all(text.as_bytes()),
                (None, None) => return Err(refusal.into()),
            }
        }
        Command::Completions { shell } => io::stdout().lock().write_all(&cli::completions(shell)),
        Command::Man { out } => return man::run(out).map(|()| ExitCode::SUCCESS),
    };
    shown(printed)?;
    Ok(ExitCode::from(code))
}
