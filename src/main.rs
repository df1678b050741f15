//! The `milvus-certs` binary: parses the command line, calls the library,
//! prints what it returns and maps errors to exit codes.

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use milvus_certs::generate::{self, GenOptions};
use milvus_certs::leaf::Role;
use milvus_certs::names::Subject;
use milvus_certs::renew::{self, RenewCaOptions, RenewOptions};
use time::OffsetDateTime;

mod cli;
mod output;

use cli::{Cli, Command, GenArgs, InspectArgs, RenewArgs};
use output::{print_gen, print_inspect, print_renew};

/// Exit code of a `gen` or `renew` that failed (usage errors exit 2, from clap).
const FAILURE: u8 = 1;
/// Exit code of an `inspect` that failed: its "problem" status.
const INSPECT_FAILURE: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let now = OffsetDateTime::now_utc();
    let (result, failure) = match cli.command {
        Command::Gen(args) => (run_gen(args, now), FAILURE),
        Command::Renew(args) => (run_renew(args, now), FAILURE),
        Command::Inspect(args) => (run_inspect(args, now), INSPECT_FAILURE),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            // One line: the library's messages already name the file and the fix.
            let _ = writeln!(io::stderr(), "error: {err:#}");
            ExitCode::from(failure)
        }
    }
}

fn run_gen(args: GenArgs, now: OffsetDateTime) -> anyhow::Result<ExitCode> {
    let opts = GenOptions {
        dir: args.dir,
        subject: Subject {
            country: args.country,
            state: args.state,
            locality: args.locality,
            organization: args.organization,
            org_unit: args.org_unit,
            common_name: args.common_name,
        },
        ca_common_name: args.ca_common_name,
        sans: args.sans,
        days: args.days,
        ca_days: args.ca_days,
        key_type: args.key_type.parse()?,
        force: args.force,
        backup: !args.no_backup,
    };
    let report = generate::generate(&opts, now)?;
    quiet_on_closed_pipe(print_gen(&report))?;
    Ok(ExitCode::SUCCESS)
}

fn run_renew(args: RenewArgs, now: OffsetDateTime) -> anyhow::Result<ExitCode> {
    let report = if args.ca {
        let opts = RenewCaOptions {
            dir: args.dir,
            ca_days: args.ca_days,
            backup: !args.no_backup,
        };
        renew::renew_ca(&opts, now)?
    } else {
        let opts = RenewOptions {
            dir: args.dir,
            only: args.only.as_deref().map(|o| {
                if o == "client" {
                    Role::Client
                } else {
                    Role::Server
                }
            }),
            days: args.days,
            common_name: args.common_name,
            sans: args.sans,
            replace_sans: args.replace_sans,
            country: args.country,
            state: args.state,
            locality: args.locality,
            organization: args.organization,
            org_unit: args.org_unit,
            key_type: args.key_type.as_deref().map(str::parse).transpose()?,
            backup: !args.no_backup,
        };
        renew::renew(&opts, now)?
    };
    quiet_on_closed_pipe(print_renew(&report))?;
    Ok(ExitCode::SUCCESS)
}

fn run_inspect(args: InspectArgs, now: OffsetDateTime) -> anyhow::Result<ExitCode> {
    use milvus_certs::inspect::{self, InspectOptions};
    use milvus_certs::names::SanName;
    let server_names = args
        .server_names
        .iter()
        .map(|n| SanName::parse("--server-name", n))
        .collect::<Result<Vec<_>, _>>()?;
    let opts = InspectOptions {
        dir: args.dir.clone(),
        paths: args.paths.clone(),
        warn_days: args.warn_days,
        server_names,
    };
    // With only --connect, do not also inspect the current directory's files.
    let mut report = if !args.connect.is_empty() && args.dir.is_none() && args.paths.is_empty() {
        inspect::Report {
            entries: Vec::new(),
            recoveries: Vec::new(),
            warn_days: args.warn_days,
        }
    } else {
        inspect::inspect(&opts, now)?
    };
    if !args.connect.is_empty() {
        let live = connect_options(&args)?;
        for target in &args.connect {
            report
                .entries
                .extend(milvus_certs::connect::inspect_endpoint(
                    target, &live, &opts, now,
                ));
        }
    }
    quiet_on_closed_pipe(print_inspect(&report, args.json, now))?;
    Ok(ExitCode::from(report.overall().exit_code()))
}

fn connect_options(args: &InspectArgs) -> anyhow::Result<milvus_certs::connect::ConnectOptions> {
    let dir = args.dir.clone().unwrap_or_else(|| ".".into());
    let (client_cert, client_key) = match (&args.client_cert, &args.client_key) {
        (Some(c), Some(k)) => (Some(c.clone()), Some(k.clone())),
        _ => {
            let (c, k) = (dir.join("client.pem"), dir.join("client.key"));
            if c.exists() && k.exists() {
                (Some(c), Some(k))
            } else {
                (None, None)
            }
        }
    };
    Ok(milvus_certs::connect::ConnectOptions {
        ca: args.ca.clone().unwrap_or_else(|| dir.join("ca.pem")),
        client_cert,
        client_key,
        server_names: args.server_names.clone(),
        timeout: std::time::Duration::from_secs(args.timeout.max(1)),
    })
}

/// A reader that stopped reading (`| head`) is not an error worth a message:
/// the work is done and its result stands.
fn quiet_on_closed_pipe(printed: io::Result<()>) -> anyhow::Result<()> {
    match printed {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot print the report"),
    }
}
